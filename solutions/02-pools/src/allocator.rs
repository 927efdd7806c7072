//! The interface every allocator of this lab offers: C's `malloc`, `free` and `realloc`.
//!
//! The trace driver ([`crate::trace`]) replays a trace against any [`Allocator`], so the learner's
//! pymalloc, the reference's and the C library's [`SystemAllocator`] are checked and measured by
//! the same code, in the same run.

use std::ptr::NonNull;

/// Every block an [`Allocator`] returns is aligned to this many bytes: pymalloc's `ALIGNMENT` on
/// 64-bit platforms, which is also what glibc's `malloc` guarantees on x86-64.
pub const BLOCK_ALIGN: usize = 16;

/// An allocator with C's interface: blocks of bytes, aligned to [`BLOCK_ALIGN`], freed by address
/// alone (no size is passed back, as with C's `free`).
pub trait Allocator {
    /// A short name for reports: `"pymalloc"`, `"system"`.
    fn name(&self) -> &'static str;

    /// Allocates a block of at least `size` bytes (a request for 0 bytes gets a unique block of
    /// its own, as C's `malloc(0)` may). Returns `None` when memory is exhausted.
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>>;

    /// Frees a block.
    ///
    /// # Safety
    /// `ptr` was returned by this allocator's [`malloc`](Allocator::malloc) or
    /// [`realloc`](Allocator::realloc) and has not been freed since.
    unsafe fn free(&mut self, ptr: NonNull<u8>);

    /// Resizes a block to at least `new_size` bytes, moving it if needed: the first
    /// `min(old size, new_size)` bytes are kept. On success the old pointer must not be used
    /// again; on `None` the old block is left as it was.
    ///
    /// # Safety
    /// As for [`free`](Allocator::free).
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>>;

    /// The memory this allocator holds from the OS right now, in bytes, if it can tell: for
    /// pymalloc the arenas it has mapped plus the large blocks it passed on; for the C library,
    /// what `mallinfo2` reports. The trace driver's utilisation is peak live payload over the peak
    /// of this.
    fn footprint(&self) -> Option<usize> {
        None
    }
}

/// The C library's allocator (glibc's `malloc` here): the baseline every measurement is compared
/// with, and where pymalloc sends the requests it does not serve (more than 512 bytes, or 0).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemAllocator;

impl Allocator for SystemAllocator {
    fn name(&self) -> &'static str {
        "system"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        // C's malloc(0) may return NULL; asking for at least one byte gives every request a block
        // of its own, as CPython's `_PyMem_RawMalloc` does. We ask for at least BLOCK_ALIGN bytes,
        // so that the block is 16-aligned even where tiny requests get less (Miri's malloc).
        // SAFETY: malloc has no preconditions; a null result is handled by `NonNull::new`.
        NonNull::new(unsafe { libc::malloc(size.max(BLOCK_ALIGN)) }.cast())
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the caller promises `ptr` came from this allocator, i.e. from C's malloc or
        // realloc, and is not freed yet.
        unsafe { libc::free(ptr.as_ptr().cast()) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: as for `free`; on failure C's realloc leaves the old block alone.
        NonNull::new(
            unsafe { libc::realloc(ptr.as_ptr().cast(), new_size.max(BLOCK_ALIGN)) }.cast(),
        )
    }

    fn footprint(&self) -> Option<usize> {
        // SAFETY: mallinfo2 only reads the C library's own bookkeeping.
        let info = unsafe { libc::mallinfo2() };
        // `arena`: bytes in the main heap and its per-thread heaps (from brk or mmap);
        // `hblkhd`: bytes in blocks large enough to get a mapping of their own.
        Some(info.arena + info.hblkhd)
    }
}
