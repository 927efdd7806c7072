//! Workload A of `docs/workloads.md`: what one small-object operation costs, in its steady
//! phase, for pymalloc, the C library's allocator and mimalloc (and, as a floor, a bump arena
//! allocating the same sizes and never freeing).
//!
//! The full workload is 200,000 slots and 10,000,000 steady operations. Here the steady phase is
//! reduced to its first 1,000,000 operations, replayed over and over (criterion asks for
//! millions of operations): when they run out, the live blocks are freed and the prefill replayed,
//! untimed, and the steady operations start again. The live set stays as large as the full
//! workload's (about 100,000 blocks, 9.4 MiB), which is what decides the cost; only the time
//! spent on the same operations differs. One iteration is one operation, with the 8-byte write
//! into each new block that workload A specifies, through [`TimedReplay`], the loop of
//! `replay_timed`: criterion's time per iteration is ns/op, including the replay loop itself.
//!
//! Run: `cargo bench -p pools-solution --bench pools`. Quote ratios from one run, never absolute
//! times: the machines are shared.

use std::alloc::Layout;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pools::bump::Bump;
use pools::pymalloc::PyMalloc;
use pools::trace::{Op, Phase, TimedReplay, WorkloadA};
use pools::{Allocator, SystemAllocator};

mod common {
    pub mod mimalloc;
}
use common::mimalloc::Mimalloc;

/// Workload A's slots, as in the full workload.
const SLOTS: usize = 200_000;
/// The steady operations replayed: the first tenth of the full workload's.
const STEADY_OPS: usize = 1_000_000;

/// Workload A's prefill and steady operations (the teardown is not timed).
struct Phases {
    prefill: Vec<Op>,
    steady: Vec<Op>,
}

impl Phases {
    fn new() -> Phases {
        let mut workload = WorkloadA::new(SLOTS, STEADY_OPS);
        let (mut prefill, mut steady) = (Vec::new(), Vec::with_capacity(STEADY_OPS));
        while let Some(op) = workload.next() {
            match workload.phase() {
                Phase::Prefill => prefill.push(op),
                Phase::Steady => steady.push(op),
                Phase::Teardown => break,
            }
        }
        Phases { prefill, steady }
    }
}

/// Times `iters` steady operations on `allocator`, going on from where the last call stopped.
struct Steady<'a, A: Allocator> {
    phases: &'a Phases,
    replay: TimedReplay<'a, A>,
    /// The next steady operation.
    next: usize,
}

impl<'a, A: Allocator> Steady<'a, A> {
    fn new(phases: &'a Phases, allocator: &'a mut A) -> Self {
        let mut replay = TimedReplay::new(allocator, SLOTS);
        replay.run(&phases.prefill);
        Steady {
            phases,
            replay,
            next: 0,
        }
    }

    fn time(&mut self, iters: u64) -> Duration {
        let mut left = usize::try_from(iters).expect("fewer iterations than usize::MAX");
        let mut total = Duration::ZERO;
        while left > 0 {
            if self.next == self.phases.steady.len() {
                // Start again from the state after the prefill, untimed.
                self.replay.free_all();
                self.replay.run(&self.phases.prefill);
                self.next = 0;
            }
            let n = left.min(self.phases.steady.len() - self.next);
            let ops = &self.phases.steady[self.next..self.next + n];
            let start = Instant::now();
            self.replay.run(ops);
            total += start.elapsed();
            self.next += n;
            left -= n;
        }
        total
    }
}

fn workload_a_steady(c: &mut Criterion) {
    let phases = Phases::new();
    let mut group = c.benchmark_group("workload A steady, ns/op");

    let mut pymalloc = PyMalloc::new();
    let mut steady = Steady::new(&phases, &mut pymalloc);
    group.bench_function("pymalloc", |b| b.iter_custom(|iters| steady.time(iters)));
    drop(steady);

    let mut system = SystemAllocator;
    let mut steady = Steady::new(&phases, &mut system);
    group.bench_function("system (C malloc)", |b| {
        b.iter_custom(|iters| steady.time(iters))
    });
    drop(steady);

    let mut mimalloc = Mimalloc;
    let mut steady = Steady::new(&phases, &mut mimalloc);
    group.bench_function("mimalloc", |b| b.iter_custom(|iters| steady.time(iters)));
    drop(steady);

    // The floor: a bump arena allocating the same sizes and never freeing (its frees cost
    // nothing). It is reset, untimed, every 100,000 allocations (11 MB, about workload A's live
    // set), so that after the first round it reuses the chunk it keeps: fresh pages would cost
    // more in page faults than the bump itself.
    let sizes: Vec<Layout> = phases
        .steady
        .iter()
        .filter_map(|op| match *op {
            Op::Alloc { size, .. } => Layout::from_size_align(size, 16).ok(),
            _ => None,
        })
        .take(100_000)
        .collect();
    let mut bump = Bump::new();
    let mut next = 0;
    group.bench_function("bump arena, allocations only", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            while left > 0 {
                if next == sizes.len() {
                    bump.reset();
                    next = 0;
                }
                let n = left.min(sizes.len() - next);
                let start = Instant::now();
                for &layout in &sizes[next..next + n] {
                    let block = bump.alloc_layout(layout);
                    // SAFETY: the block has at least 16 bytes (workload A's smallest request).
                    unsafe { block.cast::<u64>().write(black_box(0)) };
                }
                total += start.elapsed();
                next += n;
                left -= n;
            }
            total
        })
    });
    group.finish();
}

/// Short runs: 1 s of warm-up and 3 s of measurement per allocator give stable medians without
/// keeping a shared machine busy.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = workload_a_steady
}
criterion_main!(benches);
