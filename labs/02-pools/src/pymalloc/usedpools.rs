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
        // TODO: afterwards pool is the first of usedpools[size], followed by the pools that were
        //       there, with nextpool and prevpool right in both directions
        todo!()
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
        // TODO: afterwards pool is out of usedpools[szidx], the other pools keep their order, and
        //       the list is well linked both ways (the head moves on when pool was first)
        todo!()
    }
    // ANCHOR_END: unlink_from_usedpools
}
