//! Allocation: `pymalloc_alloc` serves a small request from the first used pool of its size
//! class, and `allocate_from_new_pool` finds a pool for a class that has none.
//!
//! Both keep, and rely on, one invariant: **the first pool of `usedpools[class]`, if there is
//! one, has a free block.** So the common case, a block from a pool that has one, needs no
//! search and no test of the pool; a new pool, an empty pool reused or a new arena are needed
//! only when a class runs out of used pools.
//!
//! **Why the first usable arena.** `usable_arenas` is sorted by increasing `nfreepools`, so its
//! first arena is the *most used* one. Taking pools from it lets nearly empty arenas drain, and
//! an arena whose pools are all free goes back to the OS.

use std::ptr::NonNull;

use super::PyMalloc;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use super::{
    consts::{ARENA_SIZE, DUMMY_SIZE_IDX, POOL_SIZE},
    pool::{PoolHeader, PoolP, header, init_pool, next_free},
    size_class::size_class,
};

impl PyMalloc {
    // ANCHOR: alloc
    /// Allocates a block for a request of `nbytes` bytes from a pool (CPython's
    /// `pymalloc_alloc`), or returns `None` if pymalloc does not serve the request (0 bytes, or
    /// more than 512) or memory is exhausted; the caller ([`PyMalloc::malloc`]) then asks the
    /// system allocator.
    ///
    /// The block is a free block of the request's size class, taken from the first pool of
    /// `usedpools[class]`, or from [`allocate_from_new_pool`](PyMalloc::allocate_from_new_pool)
    /// when the class has no used pool. Before and after: the first pool of every
    /// `usedpools[class]` has a free block (when a pool's free list runs dry,
    /// [`pymalloc_pool_extend`](PyMalloc::pymalloc_pool_extend) restores that), and a pool's
    /// `count` is the number of its blocks handed out.
    pub(crate) fn pymalloc_alloc(&mut self, nbytes: usize) -> Option<NonNull<u8>> {
        // TODO: None for a request pymalloc does not serve; otherwise the block returned is a free
        //       block of the request's class, counted in its pool, from the first used pool of the
        //       class (allocate_from_new_pool when there is none), and that pool, if still in
        //       usedpools, has a free block again
        todo!()
    }
    // ANCHOR_END: alloc

    // ANCHOR: allocate_from_new_pool
    /// Called when `usedpools[size]` is empty: takes a pool from the first arena of
    /// `usable_arenas`, mapping a new arena with [`new_arena`](PyMalloc::new_arena) when there
    /// is none, makes it the only pool of `usedpools[size]`, and returns a block of it (CPython's
    /// `allocate_from_new_pool`). `None` if no arena can be mapped.
    ///
    /// The pool is the arena's first cached empty pool (`freepools`) if it has one, otherwise a
    /// pool carved at its `pool_address`. A carved pool knows its arena (`arenaindex`) and has
    /// no size class yet ([`DUMMY_SIZE_IDX`]).
    ///
    /// After: the pool has one block in use, the one returned. If the pool last served class
    /// `size`, its header and free list are still valid and the block comes off that list;
    /// otherwise [`init_pool`] has set it up. The arena's `nfreepools` no longer counts the pool;
    /// `usable_arenas` holds exactly the arenas with a free pool, sorted by increasing
    /// `nfreepools` (a new arena joins it; an arena whose last free pool was taken leaves it);
    /// and `nfp2lasta[n]` is the last arena of the list with `n` free pools, or `None`.
    pub(crate) fn allocate_from_new_pool(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: afterwards a pool of the first usable arena (a new arena if there was none), its
        //       first cached empty pool or else a newly carved one, is the only pool of
        //       usedpools[size], with one block in use, the one returned; nfreepools, usable_arenas
        //       and nfp2lasta agree with the pool taken
        todo!()
    }
    // ANCHOR_END: allocate_from_new_pool
}
