//! Measures pymalloc on workload A (Python-like small-object traffic): throughput and utilisation,
//! next to the reference solution's pymalloc and the C library's allocator, in one run.
//!
//! Run it in release mode: `cargo run --release -p pools --example measure` measures your crate
//! (`-p pools-solution` measures the reference against itself). It replays workload A of
//! `docs/workloads.md`, reduced to 200,000 slots and 2,000,000 steady operations (2.2 million
//! operations in all; the full 10 million take five times as long and say the same), and prints:
//!
//! * **ns/op**: the best of 3 timed replays ([`replay_timed`]: each operation plus an 8-byte
//!   write into each new block), divided by the number of operations;
//! * **vs system**: that time over the C library's, measured in the same run (the machine is
//!   shared and noisy: compare ratios, never absolute times from another day);
//! * **utilisation**: peak live payload over peak footprint, from a checked replay
//!   ([`replay_checked`], every block verified at every step).
//!
//! The replays use the reference solution's driver (`reference::trace`), for every allocator:
//! your pymalloc is measured by the same code as the others, whatever the state of your own
//! `trace` module. If your allocator is not written yet (a `todo!()`), its row says so and the
//! others are shown anyway.
//!
//! Two precautions keep the numbers honest.
//!
//! * **The driver's own memory stays out of the C library's heap.** The trace (50 MB), the map
//!   of live blocks and the rest of the driver's data would otherwise sit in the very heap whose
//!   size is the system allocator's footprint. So this program's `#[global_allocator]` is
//!   [`DriverHeap`]: small requests go to the reference pymalloc, large ones straight to `mmap`.
//! * **glibc's footprint is sampled.** `mallinfo2` walks every free chunk of the heap; calling it
//!   after each of 2.2 million steps would take minutes. For the system allocator the footprint
//!   is read every [`SAMPLE_EVERY`] steps (and pymalloc's, which is a multiplication, at every
//!   step). The heap only grows inside `malloc`, and workload A's live set changes slowly, so
//!   the peak is off by at most what 1,024 steps can allocate, about 100 KiB in 10 MiB.

use std::alloc::{GlobalAlloc, Layout};
use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::time::{Duration, Instant};

use reference::pymalloc::PyMallocGlobal;
use reference::trace::{Report, Trace, ns_per_op, replay_checked, replay_timed, thousands};
use reference::{Allocator, SystemAllocator};

/// How often the system allocator's footprint is read (in steps).
const SAMPLE_EVERY: usize = 1024;

#[global_allocator]
static DRIVER_HEAP: DriverHeap = DriverHeap {
    small: PyMallocGlobal::new(),
};

/// The global allocator of this program: requests pymalloc serves (at most 512 bytes, aligned to
/// at most 16) go to the reference pymalloc, the rest to `mmap`, one mapping each. Nothing the
/// driver allocates lands in the C library's heap.
struct DriverHeap {
    small: PyMallocGlobal,
}

impl DriverHeap {
    fn is_small(layout: Layout) -> bool {
        layout.size() <= 512 && layout.align() <= 16
    }

    /// A mapping's length for `size` bytes: whole pages.
    fn mapped_len(size: usize) -> usize {
        size.next_multiple_of(reference::os::page_size())
    }
}

// SAFETY: small requests are passed on to `PyMallocGlobal`, a global allocator; large ones get
// fresh anonymous mappings (page-aligned, so any alignment up to a page is met; larger ones are
// refused with null), unmapped with the length they were mapped with, computed from the layout
// that `dealloc` and `realloc` are given.
unsafe impl GlobalAlloc for DriverHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if DriverHeap::is_small(layout) {
            // SAFETY: the caller keeps `GlobalAlloc::alloc`'s contract, which is passed on.
            return unsafe { self.small.alloc(layout) };
        }
        if layout.align() > reference::os::page_size() {
            return ptr::null_mut();
        }
        // SAFETY: an anonymous private mapping at an address the kernel chooses touches no
        // existing memory.
        let raw = unsafe {
            libc::mmap(
                ptr::null_mut(),
                DriverHeap::mapped_len(layout.size()),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            ptr::null_mut()
        } else {
            raw.cast()
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if DriverHeap::is_small(layout) {
            // SAFETY: a small layout was allocated by `self.small`; the contract is passed on.
            unsafe { self.small.dealloc(block, layout) };
        } else {
            // SAFETY: a large layout was mapped by `alloc` (or `realloc`) with this length, and
            // the caller gives the block up.
            unsafe { libc::munmap(block.cast(), DriverHeap::mapped_len(layout.size())) };
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        if !DriverHeap::is_small(layout) && !DriverHeap::is_small(new_layout) {
            // A growing vector: let the kernel move the pages instead of copying them.
            // SAFETY: the block is a mapping of this length made by `alloc` or `realloc`.
            let moved = unsafe {
                libc::mremap(
                    block.cast(),
                    DriverHeap::mapped_len(layout.size()),
                    DriverHeap::mapped_len(new_size),
                    libc::MREMAP_MAYMOVE,
                )
            };
            return if moved == libc::MAP_FAILED {
                ptr::null_mut()
            } else {
                moved.cast()
            };
        }
        // SAFETY: `new_layout` has a non-zero size (the caller's contract for `realloc`).
        let new_block = unsafe { self.alloc(new_layout) };
        if !new_block.is_null() {
            // SAFETY: both blocks are live, distinct, and at least `min(old, new)` bytes long.
            unsafe { ptr::copy_nonoverlapping(block, new_block, layout.size().min(new_size)) };
            // SAFETY: the old block was allocated with `layout` and is given up.
            unsafe { self.dealloc(block, layout) };
        }
        new_block
    }
}

/// An allocator whose footprint is read from the one it wraps only every [`SAMPLE_EVERY`] calls
/// (the last reading is repeated in between).
struct Sampled<A> {
    inner: A,
    calls: Cell<usize>,
    last: Cell<Option<usize>>,
}

impl<A: Allocator> Sampled<A> {
    fn new(inner: A) -> Self {
        Sampled {
            inner,
            calls: Cell::new(0),
            last: Cell::new(None),
        }
    }
}

impl<A: Allocator> Allocator for Sampled<A> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.inner.malloc(size)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the caller's promise is passed on.
        unsafe { self.inner.free(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise is passed on.
        unsafe { self.inner.realloc(ptr, new_size) }
    }

    fn footprint(&self) -> Option<usize> {
        let calls = self.calls.get();
        self.calls.set(calls + 1);
        if calls.is_multiple_of(SAMPLE_EVERY) {
            self.last.set(self.inner.footprint());
        }
        self.last.get()
    }
}

/// Your pymalloc, seen through the reference's `Allocator` trait (the same trait, but a trait of
/// another crate), so that the reference's driver can replay it.
struct Yours(pools::pymalloc::PyMalloc);

impl Allocator for Yours {
    fn name(&self) -> &'static str {
        "yours"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        pools::Allocator::malloc(&mut self.0, size)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the two traits have the same contract; the caller keeps it.
        unsafe { pools::Allocator::free(&mut self.0, ptr) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the two traits have the same contract; the caller keeps it.
        unsafe { pools::Allocator::realloc(&mut self.0, ptr, new_size) }
    }

    fn footprint(&self) -> Option<usize> {
        pools::Allocator::footprint(&self.0)
    }
}

/// Workload A's slots (the full size).
const SLOTS: usize = 200_000;
/// Steady operations: a fifth of the full workload's 10,000,000, to keep the run short.
const STEADY_OPS: usize = 2_000_000;
/// Timed replays per allocator; the best one counts (the others met a busy machine).
const ROUNDS: usize = 3;

/// One allocator to measure: how to replay the trace on a fresh one, checked and timed, and
/// what came out.
struct Row<'a> {
    name: &'static str,
    checked: Box<dyn Fn() -> Report + 'a>,
    timed: Box<dyn Fn() -> Duration + 'a>,
    /// The checked replay's report, or why there is none.
    report: Result<Report, String>,
    /// The best timed replay so far, or why there is none.
    best: Result<Duration, String>,
}

impl<'a> Row<'a> {
    /// A row for the allocators `make` makes, replaying `trace`.
    fn new<A: Allocator + 'a>(name: &'static str, trace: &'a Trace, make: fn() -> A) -> Self {
        Row {
            name,
            checked: Box::new(move || {
                replay_checked(trace, &mut make(), |_, _, _| Ok(()))
                    .unwrap_or_else(|error| panic!("the checked replay failed: {error}"))
            }),
            timed: Box::new(move || replay_timed(trace, &mut make())),
            report: Err("not measured".to_string()),
            best: Err("not measured".to_string()),
        }
    }
}

fn main() {
    let started = Instant::now();
    let trace = Trace::workload_a(SLOTS, STEADY_OPS);
    println!(
        "workload A: {} slots, {} steady operations, {} operations in all",
        thousands(SLOTS),
        thousands(STEADY_OPS),
        thousands(trace.ops.len())
    );

    // The same file is the example of the learner's crate (`pools`) and of the solution.
    let yours = if env!("CARGO_PKG_NAME") == "pools" {
        "your pymalloc"
    } else {
        "solution pymalloc"
    };
    let mut rows = [
        Row::new(yours, &trace, || Yours(pools::pymalloc::PyMalloc::new())),
        Row::new(
            "reference pymalloc",
            &trace,
            reference::pymalloc::PyMalloc::new,
        ),
        Row::new("system (C malloc)", &trace, || {
            Sampled::new(SystemAllocator)
        }),
    ];

    // The checked replays, the system allocator's first, while the C library's heap is fresh.
    for row in rows.iter_mut().rev() {
        row.report = attempt(&row.checked);
    }
    // The timed replays, in rounds, so that every allocator meets the same moments of a busy
    // machine; the best round counts.
    for _ in 0..ROUNDS {
        for row in rows.iter_mut().filter(|row| row.report.is_ok()) {
            let time = attempt(&row.timed);
            row.best = match (&row.best, time) {
                (Ok(best), Ok(time)) => Ok(time.min(*best)),
                (_, time) => time,
            };
        }
    }

    let system_ns = rows[2]
        .best
        .as_ref()
        .ok()
        .map(|&best| ns_per_op(best, trace.ops.len()));
    println!();
    println!(
        "{:<20} {:>7} {:>10} {:>12} {:>16}",
        "allocator", "ns/op", "vs system", "utilisation", "peak footprint"
    );
    for row in &rows {
        match (&row.report, &row.best) {
            (Ok(report), Ok(best)) => {
                let ns = ns_per_op(*best, trace.ops.len());
                println!(
                    "{:<20} {:>7.1} {:>10} {:>12} {:>16}",
                    row.name,
                    ns,
                    system_ns.map_or("-".to_string(), |s| format!("{:.2}x", ns / s)),
                    report
                        .utilisation
                        .map_or("-".to_string(), |u| format!("{:.1}%", 100.0 * u)),
                    report
                        .peak_footprint
                        .map_or("-".to_string(), |f| format!("{} B", thousands(f))),
                );
            }
            (Err(why), _) | (_, Err(why)) => println!("{:<20} {why}", row.name),
        }
    }
    if let Ok(report) = &rows[1].report {
        println!(
            "\nvs system = the row's ns/op / the system allocator's ns/op (below 1.00x: faster)\n\
             peak live payload {} B; best of {ROUNDS} rounds; system footprint sampled every \
             {SAMPLE_EVERY} steps; {:.1} s in all",
            thousands(report.peak_live_bytes),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Runs `f`, turning a panic into a short explanation: "not started" for a `todo!()`.
fn attempt<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let loud = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(loud);
    outcome.map_err(|payload| {
        let message = panic_message(&*payload);
        if message.starts_with("not yet implemented") {
            "not started (a todo!() was reached)".to_string()
        } else {
            format!("failed: {message}")
        }
    })
}

/// The text of a panic.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}
