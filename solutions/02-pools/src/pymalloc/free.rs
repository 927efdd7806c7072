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
        // BEGIN SOLUTION: afterwards p heads its pool's free list and count no longer counts it; a pool that was full is first in usedpools again; a pool now empty has gone to insert_to_freepool
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
        // BEGIN SOLUTION: afterwards pool is first on its arena's freepools and in no usedpools list, nfreepools counts it, usable_arenas is sorted by nfreepools with nfp2lasta naming the last arena of each count, and a wholly free arena that is not the last of usable_arenas is released
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
            self.unlink_from_usable_arenas(arena);
            self.free_arena(arena);
            return;
        }

        // Case 2: this is the only free pool of the arena, which was therefore in no list: put
        // it at the head of usable_arenas (one free pool is the fewest there can be).
        if nf == 1 {
            self.link_usable_arena_after(arena, None);
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

        // Case 3: it has more free pools than the arena to its right: move it to just after
        // lastnf, the last arena with its old count.
        let lastnf = lastnf.expect("an arena with free pools has a finger for its count");
        self.unlink_from_usable_arenas(arena);
        self.link_usable_arena_after(arena, Some(lastnf));
        // END SOLUTION
    }
    // ANCHOR_END: insert_to_freepool
}
