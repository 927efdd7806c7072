//! Resizing: `pymalloc_realloc`, which keeps a block in place when the new size still fits
//! and not too much would be wasted, and otherwise moves it.
//!
//! A pymalloc block cannot grow in place: its neighbours in the pool are blocks of the same
//! size, and the next size class lives in other pools. So a block stays put only when the new
//! size fits in its class; growing past it always moves the block (to a bigger class, or to
//! the system allocator past 512 bytes).
//!
//! Shrinking is a trade-off. Moving costs a malloc, a copy and a free; staying wastes the
//! difference for as long as the block lives. CPython's compromise: **copy on shrink only if
//! at least 25% of the block can be shaved off**. A 64-byte block asked to hold 49 bytes stays
//! (`4 * 49 = 196 > 3 * 64 = 192`); asked to hold 48 it moves to a 48-byte block.

use std::ptr::NonNull;

use super::PyMalloc;
// What the task of this file needs (unused until it is written).
#[allow(unused_imports)]
use super::{
    pool::{header, pool_of},
    size_class::block_size,
};

impl PyMalloc {
    // ANCHOR: realloc
    /// Resizes the pymalloc block `p` to hold `nbytes` bytes (CPython's `pymalloc_realloc`).
    ///
    /// The block stays where it is, and `p` is returned, when `nbytes` fits in its block and
    /// more than three quarters of the block would be used (`4 * nbytes > 3 * block size`).
    /// Otherwise it moves: the result is a block from [`malloc`](PyMalloc::malloc) (pymalloc's,
    /// or the system allocator's past 512 bytes and for 0) holding the first
    /// `min(block size, nbytes)` bytes of `p`, and `p` has been freed. `None`, with `p` left as
    /// it was, if the new block cannot be allocated.
    ///
    /// # Safety
    /// `p` lies in one of this allocator's arenas, was handed out by pymalloc and has not been
    /// freed; if the result is a new block, nobody uses `p` again.
    pub(crate) unsafe fn pymalloc_realloc(
        &mut self,
        p: NonNull<u8>,
        nbytes: usize,
    ) -> Option<NonNull<u8>> {
        // BEGIN SOLUTION: p itself when nbytes fits its block and more than three quarters of the block would be used; otherwise a block from malloc holding p's first min(block size, nbytes) bytes, with p freed; None leaves p as it was
        // SAFETY: `p` is a pymalloc block in use, so its pool is carved off a mapped arena.
        let mut size = block_size(unsafe { header(pool_of(p)) }.szidx as usize);
        if nbytes <= size {
            // The block is staying the same or shrinking. Copy only if at least 25% of the
            // block would be shaved off.
            if 4 * nbytes > 3 * size {
                return Some(p);
            }
            size = nbytes;
        }
        let moved = self.malloc(nbytes)?;
        // SAFETY: `size` is at most p's block size and at most `nbytes`, so both blocks hold
        // `size` bytes; they are different live blocks, so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(p.as_ptr(), moved.as_ptr(), size) };
        // SAFETY: the caller gives `p` up; it is a live pymalloc block of this allocator.
        unsafe { self.free(p) };
        Some(moved)
        // END SOLUTION
    }
    // ANCHOR_END: realloc
}
