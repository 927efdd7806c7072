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
        // BEGIN SOLUTION: find the size class (None: return None); pop a block from the first pool of usedpools[class], extending the pool when its free list runs out; with no used pool, allocate_from_new_pool
        let size = size_class(nbytes)?;
        let Some(pool) = self.usedpools[size] else {
            // There isn't a pool of the right size class immediately available: use a free pool.
            return self.allocate_from_new_pool(size);
        };
        // SAFETY: `pool` heads usedpools, so it is a carved pool of a mapped arena; this is the
        // only live reference to its header.
        let pool_header = unsafe { header(pool) };
        pool_header.count += 1;
        let block = pool_header
            .freeblock
            .expect("a pool in usedpools always has a free block");
        // SAFETY: `block` is the head of the pool's free list, so a free block of ours.
        pool_header.freeblock = unsafe { next_free(block) };
        if pool_header.freeblock.is_none() {
            // Reached the end of the free list: carve another block, or retire the full pool.
            self.pymalloc_pool_extend(pool, size);
        }
        Some(block)
        // END SOLUTION
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
        // BEGIN SOLUTION: pick usable_arenas' head (new_arena if none, fixing nfp2lasta); move nfp2lasta; take a cached pool or carve one; unlink a wholly used arena; link the pool in usedpools; return its first block
        let arena = match self.usable_arenas {
            Some(arena) => arena,
            None => {
                // No arena has a free pool: allocate a new arena.
                let arena = self.new_arena()?;
                self.usable_arenas = Some(arena);
                self.arenas[arena].nextarena = None;
                self.arenas[arena].prevarena = None;
                let nf = self.arenas[arena].nfreepools;
                debug_assert!(self.nfp2lasta[nf].is_none());
                self.nfp2lasta[nf] = Some(arena);
                arena
            }
        };
        debug_assert!(self.arenas[arena].address.is_some());

        // This arena already had the smallest nfreepools value, so decreasing nfreepools does
        // not change that, and usable_arenas needs no rearranging; but the fingers move.
        let nf = self.arenas[arena].nfreepools;
        debug_assert!(nf > 0);
        if self.nfp2lasta[nf] == Some(arena) {
            // It was the last with this count, so there will be none.
            self.nfp2lasta[nf] = None;
        }
        if nf > 1 {
            // If any free pools remain, this arena is the new (only) one with nf - 1.
            debug_assert!(self.nfp2lasta[nf - 1].is_none());
            self.nfp2lasta[nf - 1] = Some(arena);
        }

        let pool = match self.arenas[arena].freepools {
            Some(pool) => {
                // A cached free pool: unlink it.
                // SAFETY: a pool on an arena's freepools is carved off that mapped arena and
                // nothing else references its header now.
                self.arenas[arena].freepools = unsafe { header(pool) }.nextpool;
                pool
            }
            None => {
                // Carve off a new pool.
                let ao = &mut self.arenas[arena];
                let start = ao.address.expect("usable arenas are mapped").as_ptr();
                assert!(
                    ao.pool_address <= start.wrapping_add(ARENA_SIZE - POOL_SIZE),
                    "an arena with free pools but none cached has pools left to carve"
                );
                let pool: PoolP = NonNull::new(ao.pool_address.cast::<PoolHeader>())
                    .expect("a mapped arena's pools are not null");
                ao.pool_address = ao.pool_address.wrapping_add(POOL_SIZE);
                // SAFETY: the pool lies in the mapped arena, below the new pool_address: it is
                // carved now and nobody else references it.
                let pool_header = unsafe { header(pool) };
                pool_header.arenaindex = u32::try_from(arena).expect("fewer than 2^32 arenas");
                pool_header.szidx = DUMMY_SIZE_IDX;
                pool
            }
        };
        self.arenas[arena].nfreepools -= 1;
        if self.arenas[arena].nfreepools == 0 {
            // Wholly allocated: unlink the arena (it is the head of usable_arenas).
            debug_assert!(self.arenas[arena].freepools.is_none());
            self.usable_arenas = self.arenas[arena].nextarena;
            if let Some(next) = self.usable_arenas {
                self.arenas[next].prevarena = None;
            }
        }

        // Frontlink to used pools.
        self.insert_to_usedpool(pool, size);
        // SAFETY: `pool` was just taken off its arena: carved, mapped, and only we reference it.
        let pool_header = unsafe { header(pool) };
        pool_header.count = 1;
        if pool_header.szidx as usize == size {
            // This pool last held blocks of this size class, so its header and free list are
            // already initialised.
            let block = pool_header
                .freeblock
                .expect("an empty pool keeps the free list of its size class");
            // SAFETY: `block` heads the pool's free list: a free block of ours.
            pool_header.freeblock = unsafe { next_free(block) };
            return Some(block);
        }
        // SAFETY: the pool is carved off a mapped arena and none of its blocks is in use.
        Some(unsafe { init_pool(pool, size) })
        // END SOLUTION
    }
}
