//! Freeing: `pymalloc_free` puts the block back on its pool's free list and moves the pool
//! between states; `insert_to_freepool` handles a pool that has just become empty, and with it
//! the arena: kept in order in `usable_arenas`, or given back to the OS.
//!
//! ```text
//!   pymalloc_free(p)
//!     pool = p rounded down to POOL_SIZE; push p on pool.freeblock; count -= 1
//!     pool was full (its list was empty)?  -> insert_to_usedpool: front of usedpools[szidx]
//!     pool now empty (count == 0)?         -> insert_to_freepool
//!     otherwise                            -> nothing else: it stays where it is in usedpools
//!
//!   insert_to_freepool(pool)
//!     unlink pool from usedpools; push it on its arena's freepools; nfreepools += 1
//!     (moving nfp2lasta[old count] off the arena if it pointed at it), then one of four cases:
//!     1. every pool free and the arena is not the last in usable_arenas: unlink it, put its
//!        arena object on unused_arena_objects, unmark it in the arena map, unmap it
//!     2. its first free pool (nfreepools == 1): it was in no list; push it at the head
//!     3. now more free pools than the arena after it: move it right, after nfp2lasta[old count]
//!     4. otherwise: it is still in order; nothing to do
//! ```
//!
//! **Why the last arena is kept (bpo-37257).** Before Python 3.9 an arena was released the
//! moment its last pool emptied. A loop that allocated and freed one object at an arena
//! boundary then mapped and unmapped an arena on every iteration. Since 3.9, CPython releases an
//! empty arena only if it is not the last one in `usable_arenas` (`ao->nextarena != NULL`); the
//! last one, having the most free pools, stays as a spare. At most one wholly free arena is kept
//! this way: any other empty arena sits before the last one and is released.
//!
//! **Why O(1).** `usable_arenas` stays sorted by `nfreepools`. Before 3.8 a freed pool moved its
//! arena right one step at a time, which could take time quadratic in the number of arenas
//! (bpo-37029). `nfp2lasta[n]`, the last arena with `n` free pools, tells in one step where
//! the arena goes: right after the last arena that had as many free pools as it had before.

use std::ptr::NonNull;

use super::PyMalloc;
use super::pool::PoolP;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use {
    super::consts::ARENA_SIZE,
    super::pool::{header, pool_of, set_next_free},
    crate::os,
};

impl PyMalloc {
    // ANCHOR: sig_free
    /// Gives the block `p` back to its pool (CPython's `pymalloc_free`): push it on the pool's
    /// free list (LIFO: the next allocation from this pool gets it back), count it out, and
    /// move the pool if its state changed: a pool that was full (its free list was empty) goes
    /// to the front of `usedpools`; a pool that is now empty goes to `insert_to_freepool`.
    ///
    /// # Safety
    /// `p` lies in one of this allocator's arenas ([`PyMalloc::address_in_range`]), was handed
    /// out by [`pymalloc_alloc`](PyMalloc::pymalloc_alloc) and has not been freed since; nobody
    /// uses it after this call.
    pub(crate) unsafe fn pymalloc_free(&mut self, p: NonNull<u8>) {
        // ANCHOR_END: sig_free
        // TODO: link p at the head of its pool's free list and count it out; a pool that was full
        //       goes to insert_to_usedpool, one now empty to insert_to_freepool
        todo!()
    }

    /// Moves the pool `pool`, which has just become empty, from `usedpools` to the front of its
    /// arena's `freepools`, counts it in `nfreepools`, and puts the arena where it belongs
    /// (CPython's `insert_to_freepool`, the four cases in the module documentation). Keeps
    /// `usable_arenas` sorted by increasing `nfreepools` and `nfp2lasta` pointing at the last
    /// arena of each count.
    pub(crate) fn insert_to_freepool(&mut self, pool: PoolP) {
        // TODO: unlink pool from usedpools; push it on its arena's freepools; fix nfp2lasta[nf] and
        //       count it; then release the arena (case 1), push it at the head (case 2), slide it
        //       right after nfp2lasta[old nf] (case 3), or leave it (case 4)
        todo!()
    }
}
