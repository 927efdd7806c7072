//! Where a full collection's time goes: 1,000,000 objects in 2-cycles (the graph of
//! `benches/collect.rs`), collected step by step with the reference's functions, each step
//! timed. A maintainer's measurement for the book, not part of the lab.
//!
//! Run: `cargo run --release -p cycles-solution --example phases`

use std::time::Instant;

use cycles::{
    delete_garbage, finalize_garbage, handle_resurrected_objects, handle_weakrefs,
    move_unreachable, subtract_refs, untrack_dicts, untrack_tuples, update_refs,
};
use pyheap::{GcList, Heap};

const OBJECTS: usize = 1_000_000;

fn main() {
    let mut heap = Heap::new();
    // No one reads the event log here (CPython keeps none).
    heap.set_event_log(false);
    for _ in 0..OBJECTS / 2 {
        let a = heap.new_list();
        let b = heap.new_list();
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.decref(a);
        heap.decref(b);
    }
    let young = GcList::GEN2;
    heap.gc_list_merge(GcList::GEN0, young);
    let unreachable = heap.gc_list_new();
    let final_unreachable = heap.gc_list_new();
    let mut times = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, clock: &mut Instant| {
        times.push((name, clock.elapsed()));
        *clock = Instant::now();
    };
    let total = Instant::now();
    update_refs(&mut heap, young);
    lap("update_refs", &mut clock);
    subtract_refs(&mut heap, young);
    lap("subtract_refs", &mut clock);
    move_unreachable(&mut heap, young, unreachable);
    lap("move_unreachable", &mut clock);
    untrack_tuples(&mut heap, young);
    untrack_dicts(&mut heap, young);
    lap("untrack_tuples + untrack_dicts", &mut clock);
    handle_weakrefs(&mut heap, unreachable, young);
    lap("handle_weakrefs", &mut clock);
    finalize_garbage(&mut heap, unreachable);
    lap("finalize_garbage", &mut clock);
    handle_resurrected_objects(&mut heap, unreachable, final_unreachable, young);
    lap("handle_resurrected_objects", &mut clock);
    delete_garbage(&mut heap, final_unreachable, young, None);
    lap("delete_garbage", &mut clock);
    let total = total.elapsed();
    assert_eq!(
        heap.live_objects(),
        2,
        "everything but None and () is freed"
    );
    println!("full collection of {OBJECTS} objects in 2-cycles, step by step:");
    for (name, time) in times {
        println!(
            "  {name:<32} {:>7.1} ms  {:>4.1}%",
            time.as_secs_f64() * 1e3,
            100.0 * time.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!("  {:<32} {:>7.1} ms", "total", total.as_secs_f64() * 1e3);
}
