//! Workload R (`docs/workloads.md`): one operation is a `clone` + `drop` of a shared pointer, or
//! a `new(42u64)` + `drop`, with `black_box` around both, on lab 01's `Rc` and on the standard
//! library's `Rc` and `Arc`.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::output::{Measured, Outcome, anonymous_resident_bytes, mib};

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

/// A value that counts its drops.
struct Probe;

static PROBES_DROPPED: AtomicUsize = AtomicUsize::new(0);

impl Drop for Probe {
    fn drop(&mut self) {
        PROBES_DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many `new` + `drop` pairs the check before the timed loops makes: a million.
const CHECKED: usize = 1_000_000;

/// Checks, before anything is timed, that lab 01's `Rc` does what the timed loops rely on: a
/// clone adds one strong reference and its drop removes it, and a dropped `Rc` drops its value and
/// gives its memory back. A faster `Rc` that skipped either would win the table for the wrong
/// reason; this says what is wrong instead.
fn check_ours() -> Result<(), String> {
    use crate::lab01_impl::Rc;
    let shared = Rc::new(42u64);
    let copy = shared.clone();
    let (strong, weak) = (Rc::strong_count(&shared), Rc::weak_count(&shared));
    if (strong, weak) != (2, 0) {
        // Dropping them could free the box twice: leak them, and say what is wrong.
        std::mem::forget((shared, copy));
        return Err(format!(
            "wrong: after Rc::new and one clone, strong_count is {strong} and weak_count \
             {weak}, where they should be 2 and 0"
        ));
    }
    drop(copy);
    let strong = Rc::strong_count(&shared);
    if strong != 1 {
        std::mem::forget(shared);
        return Err(format!(
            "wrong: after dropping the clone, strong_count is {strong}, where it should be 1"
        ));
    }
    let before = anonymous_resident_bytes();
    PROBES_DROPPED.store(0, Ordering::Relaxed);
    for _ in 0..CHECKED {
        drop(black_box(Rc::new(Probe)));
    }
    let dropped = PROBES_DROPPED.load(Ordering::Relaxed);
    if dropped != CHECKED {
        return Err(format!(
            "wrong: a million Rc::new + drop dropped the value {dropped} times, where each \
             drop of the only Rc should drop it once"
        ));
    }
    let grown = anonymous_resident_bytes().saturating_sub(before);
    if grown > 8 << 20 {
        return Err(format!(
            "wrong: a million Rc::new + drop left {:.0} MiB more memory in use: the last drop \
             of an Rc must free its allocation",
            mib(grown)
        ));
    }
    Ok(())
}

/// Runs the case (`clone_drop`, `new_drop`) on the implementation named.
pub fn run(case: &str, implementation: &str) -> Outcome {
    if implementation == "ours"
        && let Err(wrong) = check_ours()
    {
        return Outcome::Absent(wrong);
    }
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
