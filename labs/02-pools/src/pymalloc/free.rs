//! Freeing: `pymalloc_free` gives a block back to its pool, and `insert_to_freepool` deals with a
//! pool that has just become empty, and with the arena it lies in.
//!
//! What a free may change, and where the pool must be afterwards:
//!
//! | the pool was | it is now | afterwards it is                                        |
//! |--------------|-----------|---------------------------------------------------------|
//! | full         | used      | first in `usedpools[szidx]`                             |
//! | used         | used      | where it was                                            |
//! | used         | empty     | first in its arena's `freepools`, in no `usedpools` list |
//!
//! (A full pool cannot become empty in one free: every pool holds at least 31 blocks.)
//!
//! When a pool becomes empty, its arena has one more free pool, and the arena lists must say so
//! afterwards: `usable_arenas` holds exactly the arenas with a free pool, sorted by increasing
//! `nfreepools`, and `nfp2lasta[n]` names the last of them with `n` free pools. An arena whose
//! pools are now all free is given back to the OS, unless it is the last arena of
//! `usable_arenas`.
//!
//! **Why the last arena is kept (bpo-37257).** Before Python 3.9 an arena was released the
//! moment its last pool emptied. A loop that allocated and freed one object at an arena
//! boundary then mapped and unmapped an arena on every iteration. Since 3.9 the last arena of
//! `usable_arenas`, which has the most free pools, stays as a spare: at most one wholly free
//! arena is kept.
//!
//! **Why `nfp2lasta`.** Before 3.8, an arena whose count grew was moved right one step at a
//! time, which could take time quadratic in the number of arenas (bpo-37029). `nfp2lasta` says
//! in one step where it belongs.

use std::ptr::NonNull;

use super::PyMalloc;
use super::pool::PoolP;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use super::pool::{header, pool_of, set_next_free};

impl PyMalloc {
    // ANCHOR: free
    /// Gives the block `p` back to its pool (CPython's `pymalloc_free`).
    ///
    /// After: `p` heads its pool's free list (LIFO: the next allocation from this pool gets it
    /// back), the pool's `count` no longer counts it, and the pool is on the list its new state
    /// requires (the table in the module documentation): a pool that was full is first in
    /// `usedpools[szidx]`, a pool now empty has gone through `insert_to_freepool`.
    ///
    /// # Safety
    /// `p` lies in one of this allocator's arenas ([`PyMalloc::address_in_range`]), was handed
    /// out by [`pymalloc_alloc`](PyMalloc::pymalloc_alloc) and has not been freed since; nobody
    /// uses it after this call.
    pub(crate) unsafe fn pymalloc_free(&mut self, p: NonNull<u8>) {
        // TODO: afterwards p heads its pool's free list and count no longer counts it; a pool that
        //       was full is first in usedpools again; a pool now empty has gone to
        //       insert_to_freepool
        todo!()
    }
    // ANCHOR_END: free

    // ANCHOR: insert_to_freepool
    /// Moves `pool`, which has just become empty, from `usedpools` to the front of its arena's
    /// `freepools`, counts it in the arena's `nfreepools`, and puts the arena where it belongs
    /// (CPython's `insert_to_freepool`).
    ///
    /// Before: the arena lists are right for the arena's old count (it is in `usable_arenas`
    /// if it had a free pool, in no list if it had none). After, for its new count:
    ///
    /// * if every pool of the arena is free and another arena follows it in `usable_arenas`,
    ///   the arena has been given back ([`free_arena`](PyMalloc::free_arena)), and no list and
    ///   no `nfp2lasta` entry names it;
    /// * otherwise it is in `usable_arenas`, after every arena with fewer free pools than it has
    ///   now and before every other (the list stays sorted by increasing `nfreepools`);
    /// * `nfp2lasta[n]` is the last arena of `usable_arenas` with `n` free pools, or `None`.
    ///
    /// The list moves are [`unlink_from_usable_arenas`](PyMalloc::unlink_from_usable_arenas)
    /// and [`link_usable_arena_after`](PyMalloc::link_usable_arena_after).
    pub(crate) fn insert_to_freepool(&mut self, pool: PoolP) {
        // TODO: afterwards pool is first on its arena's freepools and in no usedpools list,
        //       nfreepools counts it, usable_arenas is sorted by nfreepools with nfp2lasta naming
        //       the last arena of each count, and a wholly free arena that is not the last of
        //       usable_arenas is released
        todo!()
    }
    // ANCHOR_END: insert_to_freepool
}
