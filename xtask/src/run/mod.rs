//! Layer 2, run: cargo and processes. Building a lab's tests (and rebuilding what cargo cannot
//! see changed), and running one graded test in a process of its own, under limits, as a user
//! that cannot touch the grader, with its outcome read back.

pub mod build;
pub mod freshness;
pub mod identity;
pub mod miri;
pub mod proclimit;
pub mod sandbox;

/// The cargo that started us (so `cargo +toolchain xtask` stays on that toolchain), or `cargo`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
