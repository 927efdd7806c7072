//! `usedpools`: for each size class, the list of its *used* pools (partly full), where
//! `pymalloc_alloc` finds a block in constant time: the first pool of `usedpools[class]` always
//! has a free block.
//!
//! ```text
//!   usedpools[0] --> [pool a] <--> [pool c] --> None        (class 0: blocks of 16 bytes)
//!   usedpools[1] --> None                                   (no used pool of 32-byte blocks)
//!   usedpools[2] --> [pool b] --> None
//!   ...
//!   usedpools[31]
//! ```
//!
//! A pool joins its list when it is taken for a class (`allocate_from_new_pool`) or when a
//! block of a full pool is freed, always at the **front**: the next allocation of that class
//! reuses the block just freed, whose memory is most likely still in the cache. It leaves its
//! list when it becomes full (`pymalloc_pool_extend`) or empty (`insert_to_freepool`).
//!
//! **A departure from CPython, and why.** CPython's `usedpools` is the famous "major
//! obscurity": an array of `2 * 32` pointers initialised so that `usedpools[2*i]`, minus two
//! pointer widths, *looks like* a pool header whose `nextpool` and `prevpool` fields are the two
//! array slots (the `PTA(x)` macro). Each list is then circular, with that fake header as its
//! sentinel, so linking and unlinking never test for an empty list or an end, and the table
//! costs only two pointers per class. It relies on C laying out `pool_header` with no padding
//! before `prevpool` and on the table never moving (it is a static). Our allocator is an
//! ordinary value that tests create and move freely, so a sentinel pointing into it would
//! dangle; and forging a header out of array slots is exactly the kind of trick Rust's aliasing
//! rules make unsound. So each class has a plain head pointer, and the list is doubly linked and
//! ends in `None` at both ends: one `match` where CPython has none, and the same order, the same
//! pools, the same decisions.

use super::PyMalloc;
use super::pool::PoolP;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use super::pool::header;

impl PyMalloc {
    // ANCHOR: insert_to_usedpool
    /// Links `pool` at the front of `usedpools[size]` (CPython's `insert_to_usedpool`, and the
    /// "frontlink" in `allocate_from_new_pool`), so that the next allocation of that class takes
    /// a block from it.
    ///
    /// Before: `pool` is in no list (its own links mean nothing). After: it is the first pool of
    /// `usedpools[size]`, followed by the pools that were there, in the same order, and the list
    /// is well linked both ways: each pool's `nextpool` is the pool after it, each pool's
    /// `prevpool` the pool before it (`None` for the first).
    pub(crate) fn insert_to_usedpool(&mut self, pool: PoolP, size: usize) {
        // BEGIN SOLUTION: afterwards pool is the first of usedpools[size], followed by the pools that were there, with nextpool and prevpool right in both directions
        let next = self.usedpools[size];
        // SAFETY: `pool` is a carved pool of a mapped arena, not in any list, so no other
        // reference to its header is live.
        let pool_header = unsafe { header(pool) };
        pool_header.nextpool = next;
        pool_header.prevpool = None;
        if let Some(next) = next {
            // SAFETY: `next` heads usedpools, so it is a carved pool of a mapped arena; it is
            // not `pool` (which was in no list), so the two headers do not alias.
            unsafe { header(next) }.prevpool = Some(pool);
        }
        self.usedpools[size] = Some(pool);
        // END SOLUTION
    }
    // ANCHOR_END: insert_to_usedpool

    // ANCHOR: unlink_from_usedpools
    /// Takes `pool` out of `usedpools[szidx]`, wherever it is in the list (CPython writes this
    /// inline where a pool becomes full or empty).
    ///
    /// Before: `pool` is in `usedpools[szidx]`, which is well linked. After: it is not, the other
    /// pools are in the same order, and the list is still well linked both ways. `pool`'s own
    /// links are left as they are (they mean nothing until it is linked somewhere again).
    pub(crate) fn unlink_from_usedpools(&mut self, pool: PoolP) {
        // BEGIN SOLUTION: afterwards pool is out of usedpools[szidx], the other pools keep their order, and the list is well linked both ways (the head moves on when pool was first)
        // SAFETY: `pool` is in usedpools, so it is a carved pool of a mapped arena; the
        // reference is not used once its neighbours' headers are touched.
        let pool_header = unsafe { header(pool) };
        let (next, prev, size) = (
            pool_header.nextpool,
            pool_header.prevpool,
            pool_header.szidx as usize,
        );
        match prev {
            // SAFETY: `prev` is `pool`'s neighbour in usedpools: a carved pool of ours, and
            // no other header reference is live.
            Some(prev) => unsafe { header(prev) }.nextpool = next,
            None => self.usedpools[size] = next,
        }
        if let Some(next) = next {
            // SAFETY: as for `prev`.
            unsafe { header(next) }.prevpool = prev;
        }
        // END SOLUTION
    }
    // ANCHOR_END: unlink_from_usedpools
}
