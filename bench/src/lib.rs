//! # gclabs-bench: the labs' workloads beside the allocators and collectors people use
//!
//! `cargo xtask bench` builds this crate in release mode and drives it; it is not meant to be run
//! by hand, though it can be (`gclabs-bench plan`, then `gclabs-bench run CASE IMPLEMENTATION`).
//!
//! Every workload is defined exactly in `docs/workloads.md` (seeds, sizes, checksums), and each
//! case runs once per process: the graph or the trace is built untimed, the measured part is
//! timed, and the result is checked (every object freed exactly once, the trace's checksum), then
//! one JSON object is printed. One process per measurement keeps a crash, a stack overflow or a
//! `todo!()` of one implementation from taking the others with it, and gives each allocator a
//! fresh process to measure resident memory in. `cargo xtask bench` runs the implementations of a
//! case in turn, round after round, so that a busy minute of a shared machine falls on all of
//! them, and compares only times taken in the same run.
//!
//! | workload | lab | what is timed | the peers |
//! |---|---|---|---|
//! | R | 01 | `clone` + `drop`, `new` + `drop` of a shared pointer | `std::rc::Rc`, `std::sync::Arc` |
//! | A | 02 | the allocation trace's steady phase; memory after freeing all | CPython's obmalloc, glibc, mimalloc |
//! | A, global | 02 | `Rc::new` + `drop`, and the trace, through `#[global_allocator]` | glibc, mimalloc |
//! | C | 03 | one full collection of a built graph | CPython's `gc.collect()`, gc-arena, bacon_rajan_cc, rust-gc, dumpster, a plain traversal |
//! | G | 04 | the time spent in the collector while a program allocates | CPython |
//! | M, P | 05 | marking `c_live`; the longest step of incremental marking | gc-arena, a plain traversal |

pub mod alloc_trace;
pub mod cpython;
pub mod cycles;
pub mod generations;
pub mod global;
pub mod graphs;
pub mod output;
pub mod peers;
pub mod plan;
pub mod refcount;
pub mod tricolor;

// Which crate each lab's measurements run on: the learner's when its feature is on, the
// reference's otherwise.
#[cfg(feature = "lab01")]
pub use lab01 as lab01_impl;
#[cfg(feature = "lab02")]
pub use lab02 as lab02_impl;
#[cfg(feature = "lab03")]
pub use lab03 as lab03_impl;
#[cfg(feature = "lab04")]
pub use lab04 as lab04_impl;
#[cfg(feature = "lab05")]
pub use lab05 as lab05_impl;
#[cfg(not(feature = "lab01"))]
pub use sol01 as lab01_impl;
#[cfg(not(feature = "lab02"))]
pub use sol02 as lab02_impl;
#[cfg(not(feature = "lab03"))]
pub use sol03 as lab03_impl;
#[cfg(not(feature = "lab04"))]
pub use sol04 as lab04_impl;
#[cfg(not(feature = "lab05"))]
pub use sol05 as lab05_impl;

/// Whether lab `n`'s measurements run on the learner's crate (`"yours"`) or the reference.
pub fn side(lab: u32) -> &'static str {
    let yours = match lab {
        1 => cfg!(feature = "lab01"),
        2 => cfg!(feature = "lab02"),
        3 => cfg!(feature = "lab03"),
        4 => cfg!(feature = "lab04"),
        5 => cfg!(feature = "lab05"),
        _ => false,
    };
    if yours { "yours" } else { "reference" }
}

/// xorshift64, as `docs/workloads.md` defines it.
#[derive(Clone, Debug)]
pub struct XorShift64(pub u64);

impl XorShift64 {
    /// The next number: `x ^= x << 13; x ^= x >> 7; x ^= x << 17`.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
