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
        // BEGIN SOLUTION: link p at the head of its pool's free list and count it out; a pool that was full goes to insert_to_usedpool, one now empty to insert_to_freepool
        let pool = pool_of(p);
        // SAFETY: `p` is a block in use, so its pool is carved off a mapped arena; this is the
        // only live reference to the header.
        let pool_header = unsafe { header(pool) };
        debug_assert!(
            pool_header.count > 0,
            "a pool with a block in use is not empty"
        );
        let lastfree = pool_header.freeblock;
        // SAFETY: the caller gives `p` up: it is ours to link into the free list.
        unsafe { set_next_free(p, lastfree) };
        pool_header.freeblock = Some(p);
        pool_header.count -= 1;

        if lastfree.is_none() {
            // The pool was full, so it is in no list: link it at the front of its usedpools[]
            // list, so that the next allocation of this class reuses the block just freed.
            let size = pool_header.szidx as usize;
            self.insert_to_usedpool(pool, size);
            return;
        }
        // The pool was used, so it is in usedpools. If it is not empty, it stays there.
        if pool_header.count != 0 {
            return;
        }
        // The pool is now empty: unlink it from usedpools and link it to its arena's freepools.
        self.insert_to_freepool(pool);
        // END SOLUTION
    }

    /// Moves the pool `pool`, which has just become empty, from `usedpools` to the front of its
    /// arena's `freepools`, counts it in `nfreepools`, and puts the arena where it belongs
    /// (CPython's `insert_to_freepool`, the four cases in the module documentation). Keeps
    /// `usable_arenas` sorted by increasing `nfreepools` and `nfp2lasta` pointing at the last
    /// arena of each count.
    pub(crate) fn insert_to_freepool(&mut self, pool: PoolP) {
        // BEGIN SOLUTION: unlink pool from usedpools; push it on its arena's freepools; fix nfp2lasta[nf] and count it; then release the arena (case 1), push it at the head (case 2), slide it right after nfp2lasta[old nf] (case 3), or leave it (case 4)
        self.unlink_from_usedpools(pool);

        // Link the pool to freepools: a singly linked list through nextpool.
        // SAFETY: `pool` is carved off a mapped arena and no other reference to its header is
        // live.
        let pool_header = unsafe { header(pool) };
        let arena = pool_header.arenaindex as usize;
        pool_header.nextpool = self.arenas[arena].freepools;
        self.arenas[arena].freepools = Some(pool);

        let nf = self.arenas[arena].nfreepools;
        // If this is the rightmost arena with this number of free pools, nfp2lasta[nf] moves to
        // the arena before it if that one has as many, else to nothing. (With nf == 0 the arena
        // is in no list and no finger points at it.)
        let lastnf = self.nfp2lasta[nf];
        if lastnf == Some(arena) {
            let prev = self.arenas[arena].prevarena;
            self.nfp2lasta[nf] = prev.filter(|&p| self.arenas[p].nfreepools == nf);
        }
        let nf = nf + 1;
        self.arenas[arena].nfreepools = nf;

        // Case 1: every pool is free, and the arena is not the last one in usable_arenas.
        if nf == self.arenas[arena].ntotalpools && self.arenas[arena].nextarena.is_some() {
            // Unlink the arena from usable_arenas.
            let prev = self.arenas[arena].prevarena;
            let next = self.arenas[arena].nextarena;
            match prev {
                None => self.usable_arenas = next,
                Some(prev) => self.arenas[prev].nextarena = next,
            }
            if let Some(next) = next {
                self.arenas[next].prevarena = prev;
            }
            // Record that this arena object is available to be reused.
            self.arenas[arena].nextarena = self.unused_arena_objects;
            self.unused_arena_objects = Some(arena);
            // Free the entire arena.
            let address = self.arenas[arena]
                .address
                .take()
                .expect("an arena in usable_arenas is mapped");
            self.arena_map.mark_unused(address);
            // SAFETY: the arena was mapped by new_arena with ARENA_SIZE bytes; all its pools
            // are free, so no block in it is in use; no list and no map refers to it any more.
            unsafe { os::unmap(address, ARENA_SIZE) };
            self.narenas_currently_allocated -= 1;
            return;
        }

        // Case 2: this is the only free pool of the arena, which was therefore in no list: put
        // it at the head of usable_arenas (one free pool is the fewest there can be).
        if nf == 1 {
            self.arenas[arena].nextarena = self.usable_arenas;
            self.arenas[arena].prevarena = None;
            if let Some(head) = self.usable_arenas {
                self.arenas[head].prevarena = Some(arena);
            }
            self.usable_arenas = Some(arena);
            if self.nfp2lasta[1].is_none() {
                self.nfp2lasta[1] = Some(arena);
            }
            return;
        }

        // If this is the only arena with nf free pools, record that.
        if self.nfp2lasta[nf].is_none() {
            self.nfp2lasta[nf] = Some(arena);
        }
        // Case 4: it was the rightmost arena with its old count, so it is still in order.
        if lastnf == Some(arena) {
            return;
        }

        // Case 3: it has more free pools than the arena to its right. Unlink it, and insert it
        // after lastnf, the last arena with its old count.
        let lastnf = lastnf.expect("an arena with free pools has a finger for its count");
        let prev = self.arenas[arena].prevarena;
        let next = self.arenas[arena]
            .nextarena
            .expect("an arena that must move right has an arena after it");
        match prev {
            Some(prev) => self.arenas[prev].nextarena = Some(next),
            None => self.usable_arenas = Some(next),
        }
        self.arenas[next].prevarena = prev;
        let after = self.arenas[lastnf].nextarena;
        self.arenas[arena].prevarena = Some(lastnf);
        self.arenas[arena].nextarena = after;
        if let Some(after) = after {
            self.arenas[after].prevarena = Some(arena);
        }
        self.arenas[lastnf].nextarena = Some(arena);
        // END SOLUTION
    }
}
