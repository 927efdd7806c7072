//! Workload R of `docs/workloads.md`: what one reference-count operation costs.
//!
//! One op is `clone` + `drop` of a shared pointer, or `new(42u64)` + `drop`, with `black_box`
//! around both so the compiler cannot fold the pair away. Our [`refcount::Rc`] is measured next
//! to `std::rc::Rc` (the same design) and `std::sync::Arc` (atomic counts), and `Arc` once more
//! while two threads clone and drop the same pointer at once, to show what sharing a count
//! between cores costs. Quote ratios from one run, never absolute times: the machines are shared.
//!
//! Run: `cargo bench -p refcount-solution --bench rc`.

use std::hint::black_box;
use std::rc::Rc as StdRc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use refcount::Rc;

/// `clone` + `drop` of a pointer that stays shared, on one thread (and `Arc` on two).
fn clone_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("clone + drop");
    let ours = Rc::new(42u64);
    group.bench_function("refcount::Rc", |b| {
        b.iter(|| drop(black_box(Rc::clone(black_box(&ours)))));
    });
    let std_rc = StdRc::new(42u64);
    group.bench_function("std::rc::Rc", |b| {
        b.iter(|| drop(black_box(StdRc::clone(black_box(&std_rc)))));
    });
    let arc = Arc::new(42u64);
    group.bench_function("std::sync::Arc", |b| {
        b.iter(|| drop(black_box(Arc::clone(black_box(&arc)))));
    });
    group.bench_function("std::sync::Arc, 2 threads", |b| {
        b.iter_custom(|iters| two_threads(iters, &arc));
    });
    group.finish();
}

/// Two threads, started together, each clone and drop `arc` `iters` times; returns the mean of
/// their elapsed times, so criterion reports the time per op per thread.
fn two_threads(iters: u64, arc: &Arc<u64>) -> Duration {
    let start_line = Barrier::new(2);
    let run = || {
        start_line.wait();
        let start = Instant::now();
        for _ in 0..iters {
            drop(black_box(Arc::clone(black_box(arc))));
        }
        start.elapsed()
    };
    thread::scope(|scope| {
        let other = scope.spawn(run);
        let mine = run();
        let theirs = other.join().expect("the second benchmark thread panicked");
        (mine + theirs) / 2
    })
}

/// `new(42u64)` + `drop`: one allocation and one free per op.
fn new_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("new(42u64) + drop");
    group.bench_function("refcount::Rc", |b| {
        b.iter(|| drop(black_box(Rc::new(black_box(42u64)))));
    });
    group.bench_function("std::rc::Rc", |b| {
        b.iter(|| drop(black_box(StdRc::new(black_box(42u64)))));
    });
    group.finish();
}

/// Short runs: these ops take nanoseconds, so 1 s of warm-up and 3 s of measurement per
/// benchmark give stable medians without keeping a shared machine busy.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = clone_drop, new_drop
}
criterion_main!(benches);
