//! The three colours, the two kinds of write barrier (and none), and the phases of a cycle.
//!
//! ```text
//!                 shade                        scan
//!    White  ─────────────────▶  Gray  ─────────────────────▶  Black
//!    not reached (yet)          reached; its references       reached, and every reference
//!                               not all scanned: on the       it held when scanned was
//!                               worklist                      shaded
//!
//!    sweep: White is freed, Black becomes White again for the next cycle
//! ```
//!
//! A cycle has two phases. Between cycles ([`Phase::Idle`]) every object is white. A cycle
//! starts with a short pause that shades the roots, marks in steps ([`Phase::Marking`]) with the
//! program running in between, and ends with a second short pause that finishes marking and
//! sweeps. A stop-the-world collection does all of it in one pause.

use std::fmt;

// ANCHOR: color
/// The colour of an object during marking: the tricolor abstraction (Dijkstra, Lamport, Martin,
/// Scholten and Steffens, "On-the-fly garbage collection", 1978).
///
/// The invariant every mark phase keeps, in one form or the other (see
/// [`Heap::check_invariants`](crate::Heap::check_invariants)): **no black object points to a white
/// object** that nothing gray can still reach. When marking ends there is no gray object left, so
/// every object reachable from the roots is black, and what is still white is garbage.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Color {
    /// Not reached by this cycle's marking (yet). Every object is white between cycles; whatever
    /// is still white when marking ends is garbage, and the sweep frees it.
    White,
    /// Reached, but not every reference it holds has been scanned: it is on the worklist,
    /// waiting for a step to scan it. Gray is the frontier between black and white.
    Gray,
    /// Reached, and scanned: every reference it held when it was scanned has been shaded. Marking
    /// never looks at a black object again in this cycle, which is why a black object must not
    /// come to point at a white one behind the collector's back.
    Black,
}
// ANCHOR_END: color

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Color::White => "white",
            Color::Gray => "gray",
            Color::Black => "black",
        })
    }
}

// ANCHOR: barrier
/// The write barrier a heap is built with: what the mutator's stores do for the collector while
/// marking is under way. Only stores into objects (fields, list items) go through it; pushing and
/// popping roots does not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Barrier {
    /// No barrier: stores are plain stores. Incremental marking is then unsafe: a store can hide
    /// a white object behind a black one, and the sweep frees an object the program still uses.
    /// The lab keeps this kind to show that bug.
    None,
    /// Dijkstra's insertion barrier (incremental update): a store `x.f = y` shades `y`, the new
    /// target, so no black object ever points to a white one. Roots have no barrier, so the final
    /// pause scans the roots again.
    Dijkstra,
    /// Yuasa's deletion barrier (snapshot at the beginning): a store `x.f = y` shades the old
    /// target of `x.f`, the reference being deleted, so every object reachable when the cycle
    /// started is marked. New objects are allocated black, and the final pause has no roots to
    /// scan again.
    Yuasa,
}
// ANCHOR_END: barrier

impl fmt::Display for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Barrier::None => "no barrier",
            Barrier::Dijkstra => "Dijkstra's insertion barrier",
            Barrier::Yuasa => "Yuasa's deletion barrier",
        })
    }
}

/// Where the collector is in its cycle.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Phase {
    /// Between cycles: every object is white, the worklist is empty, the barrier does nothing.
    Idle,
    /// Between the initial pause and the end of the final pause: objects are white, gray or
    /// black, the worklist holds the gray ones, and the barrier is on.
    Marking,
}
