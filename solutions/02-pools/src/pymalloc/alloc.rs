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
        // BEGIN SOLUTION: None for a request pymalloc does not serve; otherwise the block returned is a free block of the request's class, counted in its pool, from the first used pool of the class (allocate_from_new_pool when there is none), and that pool, if still in usedpools, has a free block again
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
        // BEGIN SOLUTION: afterwards a pool of the first usable arena (a new arena if there was none), its first cached empty pool or else a newly carved one, is the only pool of usedpools[size], with one block in use, the one returned; nfreepools, usable_arenas and nfp2lasta agree with the pool taken
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
    // ANCHOR_END: allocate_from_new_pool
}
