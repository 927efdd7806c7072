//! Resident memory under workload A, and what is left of it after everything is freed, for
//! pymalloc, the C library's malloc and mimalloc: the numbers behind the book's comparison
//! (`book/src/02-pools/compare.md`).
//!
//! Run: `cargo run --release -p pools-solution --example resident`. Resident memory belongs to
//! the whole process, so each allocator is measured in a fresh process of its own (this program
//! starts itself once per allocator). Each child streams workload A (200,000 slots, 2,000,000
//! steady operations, the same reduction as `examples/measure.rs`) through the allocator,
//! without keeping the trace in memory, and reads `/proc/self/statm`: before, at the end of the
//! steady phase (the live set is then about 9.4 MiB of payload), after freeing every block, and,
//! for the two allocators that keep freed memory until asked, after asking (`malloc_trim(0)`,
//! `mi_collect(true)`).

use std::process::Command;

use pools::os::resident_bytes;
use pools::pymalloc::PyMalloc;
use pools::trace::{Op, Phase, TimedReplay, WorkloadA};
use pools::{Allocator, SystemAllocator};

#[path = "../benches/common/mimalloc.rs"]
mod mimalloc;
use mimalloc::Mimalloc;

const SLOTS: usize = 200_000;
const STEADY_OPS: usize = 2_000_000;
const ALLOCATORS: [&str; 3] = ["pymalloc", "system", "mimalloc"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(name) = args.get(1) {
        child(name);
        return;
    }
    println!(
        "workload A, {SLOTS} slots, {STEADY_OPS} steady operations; resident memory in MiB \
         (each allocator in a fresh process)\n"
    );
    println!(
        "{:<10} {:>8} {:>12} {:>12} {:>14}",
        "allocator", "start", "steady end", "all freed", "after trim"
    );
    let me = std::env::current_exe().expect("the path of this program");
    for name in ALLOCATORS {
        let out = Command::new(&me)
            .arg(name)
            .output()
            .expect("the child runs");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// Replays workload A on one allocator and prints one row.
fn child(name: &str) {
    match name {
        "pymalloc" => measure(name, &mut PyMalloc::new(), |_| None),
        "system" => measure(name, &mut SystemAllocator, |_| {
            // SAFETY: malloc_trim only releases free memory at the top and inside glibc's heap.
            unsafe { libc::malloc_trim(0) };
            resident_bytes()
        }),
        "mimalloc" => measure(name, &mut Mimalloc, |_| {
            // SAFETY: mi_collect only returns memory of pages that are entirely free.
            unsafe { libmimalloc_sys::mi_collect(true) };
            resident_bytes()
        }),
        other => panic!("unknown allocator {other}"),
    }
}

fn measure<A: Allocator>(
    name: &str,
    allocator: &mut A,
    trim: impl FnOnce(&mut A) -> Option<usize>,
) {
    let start = resident_bytes();
    let mut workload = WorkloadA::new(SLOTS, STEADY_OPS);
    let mut replay = TimedReplay::new(allocator, SLOTS);
    let mut steady_end = None;
    while let Some(op) = workload.next() {
        if workload.phase() == Phase::Teardown && steady_end.is_none() {
            steady_end = resident_bytes();
        }
        replay.run(std::slice::from_ref::<Op>(&op));
    }
    replay.free_all();
    drop(replay);
    let freed = resident_bytes();
    let trimmed = trim(allocator);
    let mib = |b: Option<usize>| {
        b.map_or("-".to_string(), |b| {
            format!("{:.1}", b as f64 / (1 << 20) as f64)
        })
    };
    println!(
        "{:<10} {:>8} {:>12} {:>12} {:>14}",
        name,
        mib(start),
        mib(steady_end),
        mib(freed),
        mib(trimmed)
    );
}
