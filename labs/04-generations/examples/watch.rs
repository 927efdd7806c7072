//! Your scheduler at work: a small program run with the log and the stress mode on (see
//! `generations::watch`, and the book's section "Watch your scheduler work").
//!
//! ```text
//!   cargo run -p generations --example watch            your scheduler
//!   cargo run -p generations-solution --example watch   the reference's
//! ```
//!
//! Each collection prints its phases to stderr, with the objects each phase moved. The log the
//! reference prints is in the book (`book/src/04-generations/watch.log`, written by
//! `cargo xtask figures`).

use cycles::watch::Watch;
use generations::Gc;
use pyheap::Heap;

// ANCHOR: program
/// The program, with the log on, then the stress mode too. Returns what the log printed.
pub fn program() -> Vec<String> {
    let mut heap = Heap::new();
    let mut gc = Gc::new();
    gc.set_watch(Watch {
        log: true,
        stress: false,
    });
    gc.set_threshold(3, Some(1), Some(1)); //  gc.set_threshold(3, 1, 1)
    let keep = heap.new_list_with(&mut gc); // keep = []
    heap.bind("keep", keep);
    heap.decref(keep);
    for _ in 0..6 {
        // a = []; b = [a]; a.append(b); keep.append(b); del a, b
        let a = heap.new_list_with(&mut gc);
        let b = heap.new_list_with(&mut gc);
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.list_append(keep, b);
        heap.decref(a);
        heap.decref(b);
    }
    let popped = heap.list_pop(keep); //       keep.pop(): the last cycle is garbage
    heap.decref(popped);

    // Stress: every allocation through a `_with` constructor collects everything first.
    gc.set_watch(Watch {
        log: true,
        stress: true,
    });
    let c = heap.new_list_with(&mut gc); //    c = []
    heap.decref(c); //                         del c
    heap.del("keep");
    gc.watch_log().to_vec()
}
// ANCHOR_END: program

#[allow(dead_code)] // the book's figures reuse `program` without this `main`
fn main() {
    program();
}
