//! mimalloc through its C interface, as an [`Allocator`], for the comparisons the book draws.
//! Shared by `benches/pools.rs` and `examples/resident.rs`.

use std::ptr::NonNull;

use pools::Allocator;
use pools::allocator::BLOCK_ALIGN;

/// Microsoft's mimalloc (`mi_malloc`, `mi_free`, `mi_realloc`), linked in from libmimalloc-sys
/// and called directly, without making it the program's global allocator.
pub struct Mimalloc;

impl Allocator for Mimalloc {
    fn name(&self) -> &'static str {
        "mimalloc"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // SAFETY: mi_malloc has no preconditions; a null result is handled by `NonNull::new`.
        // At least BLOCK_ALIGN bytes, so that tiny requests are 16-aligned too.
        NonNull::new(unsafe { libmimalloc_sys::mi_malloc(size.max(BLOCK_ALIGN)) }.cast())
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the caller promises `ptr` came from this allocator and is not freed yet.
        unsafe { libmimalloc_sys::mi_free(ptr.as_ptr().cast()) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: as for `free`; on failure mi_realloc leaves the old block alone.
        let moved =
            unsafe { libmimalloc_sys::mi_realloc(ptr.as_ptr().cast(), new_size.max(BLOCK_ALIGN)) };
        NonNull::new(moved.cast())
    }
}
