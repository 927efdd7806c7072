//! # Lab 05: tricolor marking, tracing from roots and doing it in small steps
//!
//! A tracing collector starts from the *roots* (what the program holds in its variables), marks
//! everything they reach, and frees the rest. In `A → B → C ← D ← E` with the roots `{A}`, it
//! marks A, B and C, and frees D and E, although D refers to C. The tricolor abstraction (white:
//! not reached yet, gray: reached but not scanned, black: scanned) is what lets that work be cut
//! into steps while the program keeps changing the graph, so that the pause the program feels is
//! a budget rather than the size of the heap.
//!
//! You build it on pyheap's objects (lab 03's), with the roots made explicit and reference
//! counting kept out of the way (see [`heap`]):
//!
//! | part | functions                                        | what they do                                |
//! |------|--------------------------------------------------|---------------------------------------------|
//! | a    | [`Heap::shade`], [`Heap::mark_roots`], [`Heap::scan_object`], [`Heap::mark`], [`Heap::sweep`], [`Heap::collect`] | mark and sweep with the program stopped |
//! | b    | [`Heap::start_cycle`], [`Heap::step`], [`Heap::scan_piece`], [`Heap::final_pause`], [`Heap::finish_cycle`] | the same marking in steps of bounded work |
//! | c    | [`Heap::check_strong`], [`Heap::check_worklist`], [`Heap::check_no_dangling`] | the invariants, and the bug without a barrier |
//! | d    | [`Heap::dijkstra_barrier`], [`Heap::allocation_color`], [`Heap::yuasa_barrier`], [`Heap::check_weak`], [`Heap::floating_garbage`] | write barriers, and what each one costs |
//!
//! [`Heap::check_invariants`] (your checks, in order), [`Heap::write_barrier`] (which calls your
//! barrier) and the mutator's operations ([`mutator`]) are provided.
//!
//! ```
//! use tricolor::{Barrier, Heap};
//!
//! let mut heap = Heap::new(Barrier::Dijkstra);
//! let a = heap.new_object("A");            // roots: [A]
//! let b = heap.new_object("B");            // roots: [A, B]
//! heap.set_field(a, "next", Some(b))?;     // A -> B
//! heap.pop_root()?;                        // roots: [A]
//! let d = heap.new_object("D");            // roots: [A, D]
//! heap.set_field(d, "next", Some(b))?;     // D -> B
//! heap.pop_root()?;                        // roots: [A]; D is garbage
//! let stats = heap.collect()?;
//! assert_eq!((stats.marked, stats.swept), (2, 1));
//! assert!(heap.is_live(b) && heap.is_swept(d));
//! # Ok::<(), tricolor::TricolorError>(())
//! ```

pub mod barrier;
pub mod color;
pub mod error;
pub mod heap;
pub mod incremental;
pub mod invariants;
pub mod mark;
pub mod mutator;
pub mod stats;
pub mod sweep;

pub use color::{Barrier, Color, Phase};
pub use error::TricolorError;
pub use heap::Heap;
pub use invariants::{InvariantError, Violation};
pub use pyheap::ObjId;
pub use stats::CycleStats;
