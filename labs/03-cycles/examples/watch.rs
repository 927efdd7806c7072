//! Your collector at work: a small program run with the log and the stress mode on (see
//! `cycles::watch`, and the book's section "Watch your collector work").
//!
//! ```text
//!   cargo run -p cycles --example watch            your collector
//!   cargo run -p cycles-solution --example watch   the reference's
//! ```
//!
//! Each collection prints its phases to stderr, with the objects each phase moved. The log the
//! reference prints is in the book (`book/src/03-cycles/watch.log`, written by
//! `cargo xtask figures`).

use cycles::Collector;
use cycles::watch::Watch;
use pyheap::Heap;

// ANCHOR: program
/// The program, with the log and the stress mode on. Returns what the log printed.
pub fn program() -> Vec<String> {
    let mut heap = Heap::new();
    let mut gc = Collector::new();
    gc.set_watch(Watch {
        log: true,
        stress: false,
    });
    let a = heap.assign_new_list("a"); //   a = []
    let b = heap.assign_new_list("b"); //   b = [a]
    heap.list_append(b, a);
    heap.list_append(a, b); //              a.append(b): a cycle
    let s = heap.assign_str("s", "x"); //   s = "x"
    heap.assign_new_tuple("u", &[s]); //    u = (s,): a tuple that can hold no cycle
    gc.collect_generation(&mut heap, 0) //  gc.collect(0): everything survives
        .expect("generation 0 exists");
    heap.del("a"); //                       del a, b: only the cycle refers to them now
    heap.del("b");
    gc.collect(&mut heap); //               gc.collect(): the cycle is found, and freed

    // Stress: every allocation through a `_with` constructor collects first.
    gc.set_watch(Watch {
        log: true,
        stress: true,
    });
    let c = heap.new_list_with(&mut gc); // [] (a collection first)
    heap.list_append(c, c); //              the list holds itself,
    heap.decref(c); //                      and nothing else holds it
    let d = heap.new_list_with(&mut gc); // [] (a collection first, which frees it)
    heap.decref(d);
    heap.del("u");
    heap.del("s");
    gc.release(&mut heap);
    gc.watch_log().to_vec()
}
// ANCHOR_END: program

#[allow(dead_code)] // the book's figures reuse `program` without this `main`
fn main() {
    program();
}
