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
    /// Links `pool` at the front of `usedpools[size]` (CPython's `insert_to_usedpool`, and the
    /// "frontlink" in `allocate_from_new_pool`): it becomes the first pool of its class, so the
    /// next allocation of that class takes a block from it. `pool` must not be in any list.
    pub(crate) fn insert_to_usedpool(&mut self, pool: PoolP, size: usize) {
        // TODO: make pool the head of usedpools[size]: its nextpool is the old head, its prevpool
        //       None, the old head's prevpool is pool
        todo!()
    }

    /// Unlinks `pool` from `usedpools[szidx]`, wherever it is in the list: its neighbours are
    /// linked to each other, or the list head moves on if `pool` was first. `pool`'s own links
    /// are left as they are (they mean nothing until the pool is linked somewhere again).
    pub(crate) fn unlink_from_usedpools(&mut self, pool: PoolP) {
        // TODO: link pool's prevpool and nextpool to each other; if prevpool is None,
        //       usedpools[szidx] becomes nextpool
        todo!()
    }
}
