//! Allocation: `pymalloc_alloc`, the fast path that takes a block from the first used pool of
//! the size class, and `allocate_from_new_pool`, the slow path that finds a pool when the class
//! has none.
//!
//! ```text
//!   pymalloc_alloc(nbytes)
//!     class = size_class(nbytes)              0 or > 512: None (the caller asks the system)
//!     usedpools[class] has a pool?
//!       yes: pop the head of its free list; list now empty? pymalloc_pool_extend
//!       no:  allocate_from_new_pool(class)
//!              usable_arenas empty? new_arena()
//!              take the first usable arena (the one with the fewest free pools)
//!              a cached empty pool on its freepools?  take it : carve one at pool_address
//!              link the pool at the front of usedpools[class]
//!              same class as it last had? pop its free list : init_pool (carve two blocks)
//! ```
//!
//! **Why the first usable arena.** `usable_arenas` is sorted by increasing `nfreepools`, so the
//! first arena is the *most used* one. Taking pools from it lets nearly empty arenas drain, and
//! an arena whose pools are all free goes back to the OS. Taking one pool from the first arena
//! only makes it "more first", so the list stays sorted, except that the `nfp2lasta` finger of
//! its old count may have to move (and the arena leaves the list when it has no free pool left).

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
    // ANCHOR: sig_alloc
    /// Allocates a block for a request of `nbytes` bytes from a pool, or returns `None` if
    /// pymalloc does not serve the request (0 bytes, or more than 512) or memory is exhausted;
    /// the caller ([`PyMalloc::malloc`]) then asks the system allocator (CPython's
    /// `pymalloc_alloc`).
    ///
    /// The fast path: the first pool of `usedpools[class]` always has a free block. Pop the head
    /// of its free list and count it; if that emptied the list, `pymalloc_pool_extend` carves
    /// the next block or, if none is left, takes the now full pool off `usedpools`. With no
    /// used pool in the class, `allocate_from_new_pool` does the work.
    pub(crate) fn pymalloc_alloc(&mut self, nbytes: usize) -> Option<NonNull<u8>> {
        // ANCHOR_END: sig_alloc
        // TODO: find the size class (None: return None); pop a block from the first pool of
        //       usedpools[class], extending the pool when its free list runs out; with no used
        //       pool, allocate_from_new_pool
        todo!()
    }

    /// Called when `usedpools[size]` is empty: takes a pool from the first usable arena
    /// (mapping a new arena if there is none), links it at the front of `usedpools[size]` and
    /// returns its first block (CPython's `allocate_from_new_pool`). `None` if no arena can be
    /// mapped.
    ///
    /// Keeps the arena lists right: `usable_arenas` sorted by increasing `nfreepools`, with
    /// `nfp2lasta[n]` the last arena having `n` free pools; an arena whose last free pool is
    /// taken leaves `usable_arenas`. A cached empty pool (`freepools`) is preferred over carving
    /// a new one at `pool_address`; a new pool gets its arena index and the dummy size class.
    /// The pool starts with one block in use; if its size class is already `size` (an empty
    /// pool of the same class), its header and free list are still valid and it only pops its
    /// free list; otherwise `init_pool` sets it up.
    pub(crate) fn allocate_from_new_pool(&mut self, size: usize) -> Option<NonNull<u8>> {
        // TODO: pick usable_arenas' head (new_arena if none, fixing nfp2lasta); move nfp2lasta;
        //       take a cached pool or carve one; unlink a wholly used arena; link the pool in
        //       usedpools; return its first block
        todo!()
    }
}
