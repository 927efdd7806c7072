//! The trace driver: replays allocation traces against any [`Allocator`], checks every step, and
//! measures utilisation and throughput.
//!
//! # Why traces
//!
//! An allocator is hard to test by calling it from a program: a bug shows up, if ever, as a
//! corrupted object much later. A *trace* is the allocation traffic of a program written down
//! (allocate this many bytes, free that block, resize this one), and a driver can replay it
//! against any allocator while checking each step. This is the idea of the CS:APP malloc lab's
//! `mdriver`, which graded generations of students' allocators on a set of shipped traces.
//!
//! # The format
//!
//! Plain text, one operation per line. Blocks are named by an *id*, a whole number chosen by the
//! trace; an id names one block from its allocation to its free, and may be used again after.
//!
//! | line          | operation                                                            |
//! |---------------|----------------------------------------------------------------------|
//! | `a <id> <size>` | allocate `size` bytes (0 allowed) and call the block `id`          |
//! | `f <id>`      | free the block `id`                                                  |
//! | `r <id> <size>` | resize the block `id` to `size` bytes (`realloc`), keeping its bytes |
//!
//! A `#` starts a comment, to the end of the line; blank lines are ignored; fields are separated
//! by spaces or tabs. A trace is checked as it is read ([`Trace::parse`]): an id is allocated
//! only when it is not live, and freed or resized only when it is.
//!
//! ```text
//! # Two blocks of one size class; the second free makes the pool empty.
//! a 1 24
//! a 2 32      # 24 and 32 bytes are both in the 32-byte class
//! r 1 100     # moves to the 112-byte class
//! f 2
//! f 1
//! ```
//!
//! # What the driver checks
//!
//! [`replay_checked`] replays a trace and, at every step, checks what a correct allocator must
//! guarantee: each block is aligned to [`BLOCK_ALIGN`](crate::allocator::BLOCK_ALIGN) bytes,
//! overlaps no other live block, and keeps its bytes: every block is filled with a pattern
//! that depends on its id and on the step that wrote it, and the pattern is verified before the
//! block is freed or resized, and in every live block at the end. A caller's closure runs after
//! every step too: the graded tests compare your pymalloc's statistics with the reference's
//! there (the policy is deterministic, so any difference is a bug). The [`Report`] gives the
//! *utilisation*: the peak of the live payload over the peak of the memory the allocator held.
//!
//! [`replay_timed`] replays a trace with no checks at all (each allocation writes 8 bytes, so
//! the memory is really touched) and returns how long it took: the throughput measurement.
//!
//! # The traces
//!
//! `labs/02-pools/traces/` holds small hand-written traces, each showing one behaviour of
//! pymalloc, with a comment saying what to expect. Large ones are generated from a seed:
//! [`Trace::workload_a`] is workload A of the course's benchmarks (Python-like small-object
//! traffic), and [`Trace::random`] makes small random traces for testing.

mod format;
mod replay;
mod report;
mod workload;

use std::fmt;

pub use format::ParseError;
pub use replay::{ReplayError, TimedReplay, replay_checked, replay_timed};
pub use report::{Report, ns_per_op, thousands, utilisation};
pub use workload::{Phase, WorkloadA, XorShift64, checksum};

#[cfg(doc)]
use crate::allocator::Allocator;

// ANCHOR: trace_op
/// One step of a trace. `id` names a block from its allocation to its free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `a <id> <size>`: allocate `size` bytes and call the block `id`.
    Alloc {
        /// The name of the new block (not live before this step).
        id: usize,
        /// Bytes requested; 0 is allowed.
        size: usize,
    },
    /// `f <id>`: free the block `id`.
    Free {
        /// A live block.
        id: usize,
    },
    /// `r <id> <size>`: resize the block `id` to `size` bytes, keeping its first
    /// `min(old size, size)` bytes.
    Realloc {
        /// A live block.
        id: usize,
        /// The new size in bytes.
        size: usize,
    },
}
// ANCHOR_END: trace_op

impl Op {
    /// The id of the block this step works on.
    pub fn id(&self) -> usize {
        match *self {
            Op::Alloc { id, .. } | Op::Free { id } | Op::Realloc { id, .. } => id,
        }
    }
}

/// An op is written as in a trace file: `a 7 64`, `f 7`, `r 7 128`.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Alloc { id, size } => write!(f, "a {id} {size}"),
            Op::Free { id } => write!(f, "f {id}"),
            Op::Realloc { id, size } => write!(f, "r {id} {size}"),
        }
    }
}

/// A named sequence of operations.
///
/// A trace read by [`Trace::parse`] or made by a generator is valid: every id is allocated only
/// when it is not live, and freed or resized only when it is. One put together by hand may not
/// be; [`replay_checked`] reports its first invalid step as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// What the trace is called in reports (its file name without `.trace`, say).
    pub name: String,
    /// The operations, in order.
    pub ops: Vec<Op>,
}
