//! Times your collector and the reference's on the same graphs, in one run: a full collection
//! (`gc.collect()`) of 1,000,000 objects in 500,000 2-cycles, and of one ring of 1,000,000
//! objects.
//!
//! Run it in release mode: `cargo run --release -p cycles --example collector_speed` (the grader
//! runs it after the tests, and shows it as "Measured, not graded"). For each graph and each
//! collector, the graph is built untimed on a fresh heap, one collection is timed, and its result
//! checked: it must return the number of objects and leave nothing behind. The best of 3 runs is
//! shown, with your time over the reference's (the machine is shared and noisy: compare the
//! ratio, never absolute times from another day). If your collector is not written yet (a
//! `todo!()`), or gives a wrong answer, its row says so and the reference's is shown anyway.

use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use pyheap::Heap;

/// Objects in each graph.
const OBJECTS: usize = 1_000_000;
/// Timed runs per collector and graph; the best is kept.
const RUNS: usize = 3;

/// Builds a graph of garbage on a heap.
type Graph = fn(&mut Heap);

/// 500,000 pairs: `a = []; b = [a]; a.append(b)`, all garbage.
fn two_cycles(heap: &mut Heap) {
    for _ in 0..OBJECTS / 2 {
        let a = heap.new_list();
        let b = heap.new_list();
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.decref(a);
        heap.decref(b);
    }
}

/// One ring: node i refers to node i + 1, the last to the first; all garbage.
fn ring(heap: &mut Heap) {
    let nodes: Vec<_> = (0..OBJECTS).map(|_| heap.new_list()).collect();
    for (i, &node) in nodes.iter().enumerate() {
        heap.list_append(node, nodes[(i + 1) % OBJECTS]);
    }
    for node in nodes {
        heap.decref(node);
    }
}

/// Builds `graph` on a fresh heap and times one full collection by `collect`; checks the result.
fn time_one(
    graph: fn(&mut Heap),
    collect: &dyn Fn(&mut Heap) -> usize,
) -> Result<Duration, String> {
    let mut heap = Heap::new();
    graph(&mut heap);
    let start = Instant::now();
    let found = collect(&mut heap);
    let elapsed = start.elapsed();
    if found != OBJECTS {
        return Err(format!("returned {found}, expected {OBJECTS}"));
    }
    // None and the empty tuple belong to the heap itself.
    let left = heap.live_objects() - 2;
    if left != 0 {
        return Err(format!("left {left} objects alive"));
    }
    Ok(elapsed)
}

/// The best of [`RUNS`] runs, or why there is none.
fn best(graph: Graph, collect: &dyn Fn(&mut Heap) -> usize) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        let run = panic::catch_unwind(AssertUnwindSafe(|| time_one(graph, collect)));
        match run {
            Ok(Ok(time)) => best = best.min(time),
            Ok(Err(wrong)) => return Err(wrong),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                return Err(if message.contains("not yet implemented") {
                    "not started (a todo!() is left)".to_string()
                } else {
                    format!("panicked: {message}")
                });
            }
        }
    }
    Ok(best)
}

fn main() {
    // A todo!() in your crate is reported in the table, not as a panic message on stderr.
    panic::set_hook(Box::new(|_| {}));
    if cfg!(debug_assertions) {
        println!("(a debug build: times are not meaningful; use --release)");
    }
    println!("best of {RUNS} runs, each on a fresh heap:");
    println!(
        "  {:<24} {:>12} {:>12} {:>8}",
        "graph", "yours", "reference", "ratio"
    );
    let graphs: [(&str, Graph); 2] = [("500,000 2-cycles", two_cycles), ("one ring", ring)];
    for (name, graph) in graphs {
        let reference = best(graph, &|heap| reference::Collector::new().collect(heap));
        let yours = best(graph, &|heap| cycles::Collector::new().collect(heap));
        let show = |time: &Result<Duration, String>| match time {
            Ok(time) => format!("{:.1} ms", time.as_secs_f64() * 1e3),
            Err(_) => "-".to_string(),
        };
        let ratio = match (&yours, &reference) {
            (Ok(y), Ok(r)) => format!("{:.2}x", y.as_secs_f64() / r.as_secs_f64()),
            _ => "-".to_string(),
        };
        println!(
            "  {name:<24} {:>12} {:>12} {ratio:>8}",
            show(&yours),
            show(&reference)
        );
        if let Err(why) = &yours {
            println!("    yours: {why}");
        }
        if let Err(why) = &reference {
            println!("    reference: {why}");
        }
    }
    println!("ratio = your time / the reference's (above 1.00x: yours is slower)");
}
