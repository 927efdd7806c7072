//! Size classes: every small request is rounded up to a multiple of [`ALIGNMENT`], and all the
//! requests that round to the same size share one *size class*, served by pools of blocks of
//! exactly that size.
//!
//! ```text
//!   request (bytes)   1..=16   17..=32   33..=48   ...   497..=512
//!   size class           0        1         2      ...       31
//!   block size          16       32        48      ...      512
//! ```
//!
//! Rounding up wastes at most 15 bytes a block, and in exchange a block of any class can be
//! found, freed and reused without searching: a pool only ever holds blocks of one size.

use super::consts::{
    ALIGNMENT, ALIGNMENT_SHIFT, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE,
    SMALL_REQUEST_THRESHOLD,
};

// ANCHOR: size_class
/// The size class of a request for `nbytes` bytes, or `None` if pymalloc does not serve it:
/// requests for 0 bytes and for more than [`SMALL_REQUEST_THRESHOLD`] (512) go to the system
/// allocator. Class `c` serves requests of `16c + 1 ..= 16c + 16` bytes.
pub fn size_class(nbytes: usize) -> Option<usize> {
    // ANCHOR_END: size_class
    // BEGIN SOLUTION: None for 0 bytes and for more than SMALL_REQUEST_THRESHOLD; otherwise the smallest class whose blocks hold nbytes
    if nbytes == 0 || nbytes > SMALL_REQUEST_THRESHOLD {
        return None;
    }
    Some((nbytes - 1) >> ALIGNMENT_SHIFT)
    // END SOLUTION
}

/// The size of the blocks of size class `class`: 16 for class 0, 512 for class 31 (CPython's
/// `INDEX2SIZE`). `class` must be below [`NB_SMALL_SIZE_CLASSES`].
pub fn block_size(class: usize) -> usize {
    debug_assert!(class < NB_SMALL_SIZE_CLASSES, "no size class {class}");
    // BEGIN SOLUTION: the size of the blocks of class, which is also the largest request the class serves
    (class + 1) << ALIGNMENT_SHIFT
    // END SOLUTION
}

/// How many blocks one pool of size class `class` holds once it is carved completely: what is
/// left of [`POOL_SIZE`] after the header, divided by the block size (CPython's `NUMBLOCKS`).
/// 1021 blocks of 16 bytes, 31 blocks of 512.
pub fn blocks_per_pool(class: usize) -> usize {
    (POOL_SIZE - POOL_OVERHEAD) / block_size(class)
}

// Every class's blocks are aligned because they are multiples of ALIGNMENT past an aligned
// header; checked here once for the smallest and the largest class.
const _: () = assert!(POOL_OVERHEAD.is_multiple_of(ALIGNMENT));
const _: () = assert!(NB_SMALL_SIZE_CLASSES << ALIGNMENT_SHIFT == SMALL_REQUEST_THRESHOLD);
