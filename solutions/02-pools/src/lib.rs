//! # Lab 02: arenas and pools
//!
//! CPython does not hand every freed object back to the operating system. Objects of 512 bytes or
//! less are carved out of *pools*, pools out of large *arenas*; a freed block is kept for the next
//! object of its size, and an arena goes back to the OS only when nothing in it is alive. This
//! crate rebuilds that allocator, pymalloc, in four parts:
//!
//! 1. [`bump`]: the warm-up, a bump allocator (allocation moves a pointer; everything is freed at
//!    once) and a typed arena whose references live as long as the arena.
//! 2. [`pymalloc`]: CPython 3.11's small-object allocator: size classes, pools, arenas, the lists
//!    that keep them, statistics like `sys._debugmallocstats()`, and a `#[global_allocator]`.
//! 3. [`trace`]: a driver that replays allocation traces against any [`Allocator`], checking every
//!    step, and measures utilisation and throughput.
//! 4. [`os`]: what the allocators ask of the operating system (provided): mapping and unmapping
//!    arenas, and reading the process's resident memory.
//!
//! The book's chapter "Lab 02: arenas and pools" walks through them; `cargo xtask grade --lab 2`
//! grades them.

pub mod allocator;
pub mod bump;
pub mod os;
pub mod pymalloc;
pub mod trace;

pub use allocator::{Allocator, SystemAllocator};
