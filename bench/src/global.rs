//! Workload A through `#[global_allocator]`: what every `Box`, `Rc` and `Vec` of a Rust program
//! pays. Each of the `gclabs-bench-global-*` binaries installs one allocator (the C library's,
//! mimalloc, lab 02's pymalloc) and calls [`main`].
//!
//! - `rc`: `Rc::new(42u64)` + `drop` (a 24-byte block), one thread;
//! - `rc_2threads`: the same on two threads at once (time per operation per thread):
//!   what the allocator's thread safety costs;
//! - `trace`: workload A's steady phase, each block a `std::alloc::alloc` of its size.

use std::alloc::Layout;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::alloc_trace::{TraceAllocator, replay};
use crate::output::{Measured, Outcome, anonymous_resident_bytes, mib};

/// Operations per timed loop of the `Rc` cases.
const OPS: usize = 20_000_000;

/// `Rc::new(42u64)` + `drop`, `OPS` times on this thread.
fn rc_new_drop() -> Duration {
    let start = Instant::now();
    for _ in 0..OPS {
        drop(black_box(Rc::new(black_box(42u64))));
    }
    start.elapsed()
}

/// The global allocator, as the trace sees it.
struct Global;

impl TraceAllocator for Global {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        let layout = Layout::from_size_align(size, 8).expect("a small layout");
        // SAFETY: the layout has a non-zero size.
        unsafe { std::alloc::alloc(layout) }
    }
    unsafe fn free(&mut self, p: *mut u8, size: usize) {
        let layout = Layout::from_size_align(size, 8).expect("a small layout");
        // SAFETY: the caller's promise: `p` came from `alloc` with this layout.
        unsafe { std::alloc::dealloc(p, layout) }
    }
}

/// Runs the case named on the command line and prints its result as JSON.
pub fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let before = anonymous_resident_bytes();
    let outcome = match case.as_str() {
        "rc" => Outcome::Measured(Measured::ns_per_op(rc_new_drop(), OPS)),
        "rc_2threads" => {
            let other = std::thread::spawn(rc_new_drop);
            let mine = rc_new_drop();
            let theirs = other.join().expect("the other thread");
            Outcome::Measured(Measured::ns_per_op(mine.max(theirs), OPS))
        }
        "trace" => replay(&mut Global),
        other => Outcome::Absent(format!("no case named {other:?}")),
    };
    // Each `Rc` case frees everything it allocates; an allocator whose frees keep their blocks
    // would be timed without doing a free's work, and holds hundreds of MiB by now.
    let grown = anonymous_resident_bytes().saturating_sub(before);
    let outcome = if case.starts_with("rc") && grown > 64 << 20 {
        Outcome::Absent(format!(
            "wrong: {:.0} MiB more in use after every Rc was dropped: the allocator does not \
             reuse or give back freed blocks",
            mib(grown)
        ))
    } else {
        outcome
    };
    println!("{}", outcome.to_json());
}
