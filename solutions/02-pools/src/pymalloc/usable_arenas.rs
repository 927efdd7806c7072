//! `usable_arenas`: the arenas that still have a free pool, doubly linked through their arena
//! objects' `nextarena` and `prevarena` (indices into the arena vector), sorted by increasing
//! `nfreepools`, the most used arena first.
//!
//! ```text
//!   usable_arenas --> [arena 1: 2 free] <--> [arena 0: 5 free] <--> [arena 2: 9 free] --> None
//!                      nfp2lasta[2]            nfp2lasta[5]            nfp2lasta[9]
//! ```
//!
//! New pools are taken from the first arena, so nearly empty arenas, at the far end, receive no
//! new pool and may drain until they go back to the OS. `nfp2lasta[n]` names the last arena
//! with `n` free pools, so that an arena whose count grows finds its new place in one step
//! (bpo-37029). The two functions here are the list operations `insert_to_freepool` needs to
//! keep that order; deciding *where* an arena goes is `insert_to_freepool`'s business, and it
//! keeps `nfp2lasta` itself.
//!
//! CPython writes both operations inline, in the cases of `insert_to_freepool`; they are
//! functions here so that each can be written, and tested, on its own.

use super::PyMalloc;

impl PyMalloc {
    // ANCHOR: unlink_from_usable_arenas
    /// Takes arena `arena` out of `usable_arenas`, wherever it is in the list: its neighbours are
    /// linked to each other, or the head moves on if it was first. Its own links are left as
    /// they are (they mean nothing until it is linked again).
    ///
    /// Before: `arena` is in `usable_arenas`. After: it is not, and the other arenas are in the
    /// same order as before. `nfp2lasta` is not touched.
    pub(crate) fn unlink_from_usable_arenas(&mut self, arena: usize) {
        // BEGIN SOLUTION: afterwards arena is out of usable_arenas, the other arenas keep their order, and the list is well linked both ways (the head moves on when arena was first)
        let prev = self.arenas[arena].prevarena;
        let next = self.arenas[arena].nextarena;
        match prev {
            None => self.usable_arenas = next,
            Some(prev) => self.arenas[prev].nextarena = next,
        }
        if let Some(next) = next {
            self.arenas[next].prevarena = prev;
        }
        // END SOLUTION
    }
    // ANCHOR_END: unlink_from_usable_arenas

    // ANCHOR: link_usable_arena_after
    /// Links arena `arena` into `usable_arenas` right after arena `after`, or at the head when
    /// `after` is `None`.
    ///
    /// Before: `arena` is in no list; `after`, if any, is in `usable_arenas`. After: `arena` is
    /// in `usable_arenas`, between `after` (or the head) and the arena that followed `after` (or
    /// the old first arena), with both links of every arena right. `nfp2lasta` is not touched.
    pub(crate) fn link_usable_arena_after(&mut self, arena: usize, after: Option<usize>) {
        // BEGIN SOLUTION: afterwards arena is in usable_arenas right after `after` (first when None) and before the arena that followed it, and the list is well linked both ways
        let next = match after {
            None => self.usable_arenas,
            Some(after) => self.arenas[after].nextarena,
        };
        self.arenas[arena].prevarena = after;
        self.arenas[arena].nextarena = next;
        if let Some(next) = next {
            self.arenas[next].prevarena = Some(arena);
        }
        match after {
            None => self.usable_arenas = Some(arena),
            Some(after) => self.arenas[after].nextarena = Some(arena),
        }
        // END SOLUTION
    }
    // ANCHOR_END: link_usable_arena_after
}
