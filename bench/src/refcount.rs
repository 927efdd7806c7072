//! Workload R (`docs/workloads.md`): one operation is a `clone` + `drop` of a shared pointer, or
//! a `new(42u64)` + `drop`, with `black_box` around both, on lab 01's `Rc` and on the standard
//! library's `Rc` and `Arc`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::output::{Measured, Outcome};

/// Operations per timed loop.
const OPS: usize = 50_000_000;

/// Times `OPS` clone + drop pairs of `shared`.
fn clone_drop<P: Clone>(shared: &P) -> Duration {
    let start = Instant::now();
    for _ in 0..OPS {
        drop(black_box(black_box(shared).clone()));
    }
    start.elapsed()
}

/// Times `OPS` new + drop pairs made by `new`.
fn new_drop<P>(new: impl Fn(u64) -> P) -> Duration {
    let start = Instant::now();
    for _ in 0..OPS {
        drop(black_box(new(black_box(42))));
    }
    start.elapsed()
}

/// Runs the case (`clone_drop`, `new_drop`) on the implementation named.
pub fn run(case: &str, implementation: &str) -> Outcome {
    let time = match (case, implementation) {
        ("clone_drop", "ours") => clone_drop(&crate::lab01_impl::Rc::new(42u64)),
        ("clone_drop", "std Rc") => clone_drop(&std::rc::Rc::new(42u64)),
        ("clone_drop", "std Arc") => clone_drop(&std::sync::Arc::new(42u64)),
        ("clone_drop", "std Arc, 2 threads") => {
            let shared = std::sync::Arc::new(42u64);
            let theirs = {
                let shared = shared.clone();
                std::thread::spawn(move || clone_drop(&shared))
            };
            let mine = clone_drop(&shared);
            mine.max(theirs.join().expect("the other thread"))
        }
        ("new_drop", "ours") => new_drop(crate::lab01_impl::Rc::new),
        ("new_drop", "std Rc") => new_drop(std::rc::Rc::new),
        ("new_drop", "std Arc") => new_drop(std::sync::Arc::new),
        _ => return Outcome::Absent(format!("no {implementation} for {case}")),
    };
    Outcome::Measured(Measured::ns_per_op(time, OPS))
}
