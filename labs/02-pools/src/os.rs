//! What the allocators ask of the operating system (provided, not a task).
//!
//! CPython's obmalloc gets each 1 MiB arena from `mmap` and gives it back with `munmap`
//! (`_PyObject_ArenaMmap` / `_PyObject_ArenaMunmap`), so that an empty arena really returns its
//! memory to the OS. We do the same. One difference: CPython takes whatever address `mmap`
//! returns, and when it is not a multiple of the 16 KiB pool size it loses one pool to alignment
//! (63 pools instead of 64; `sys._debugmallocstats()` reports the "bytes lost to arena
//! alignment"). Which it gets depends on where the kernel puts the mapping, so it varies from run
//! to run. [`map_aligned`] always returns an aligned arena instead, so that every arena has 64
//! pools and two allocators given the same requests make exactly the same decisions, which the
//! graded tests compare step by step.

use std::ptr::NonNull;

/// The size of a virtual memory page.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Maps `size` fresh, zeroed bytes of memory at an address that is a multiple of `align`, or
/// returns `None` if the OS refuses. `size` and `align` must be multiples of the page size, and
/// `align` a power of two.
///
/// It maps `size + align` bytes, then unmaps the part before the first aligned address and the
/// part after the `size` bytes that follow it, all but one page: that page, right after the
/// memory returned, is left inaccessible (a *guard page*; it costs no memory). Code that reads or
/// writes past the end of the mapping, say a copy of too many bytes from the last block of an
/// arena, stops there with a segmentation fault instead of reading whatever the kernel mapped
/// next. The graded tests rely on it; [`unmap`] gives the guard page back too.
///
/// Under Miri, which cannot run `mmap`, the memory comes from `std::alloc` with the same size and
/// alignment instead, so that the allocator's own code can still be checked for undefined
/// behaviour; [`unmap`] then gives it back with `std::alloc::dealloc`.
#[cfg(not(miri))]
pub fn map_aligned(size: usize, align: usize) -> Option<NonNull<u8>> {
    assert!(
        align.is_power_of_two()
            && size.is_multiple_of(page_size())
            && align.is_multiple_of(page_size())
    );
    let total = size.checked_add(align)?;
    // SAFETY: an anonymous private mapping at an address the kernel chooses touches no existing
    // memory.
    let raw = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            total,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return None;
    }
    let start = raw as usize;
    let aligned = start.next_multiple_of(align);
    let head = aligned - start;
    let tail = total - head - size;
    if head > 0 {
        // SAFETY: [start, start + head) is the front of the mapping just made, and nothing uses it.
        unsafe { libc::munmap(raw, head) };
    }
    // `align` and `head` are multiples of the page size and `head < align`, so the tail holds at
    // least the guard page.
    let guard = page_size();
    // SAFETY: [aligned + size, aligned + size + guard) is part of the mapping just made, unused.
    unsafe {
        libc::mprotect(
            (aligned + size) as *mut libc::c_void,
            guard,
            libc::PROT_NONE,
        )
    };
    if tail > guard {
        // SAFETY: [aligned + size + guard, start + total) is the back of the mapping, unused.
        unsafe { libc::munmap((aligned + size + guard) as *mut libc::c_void, tail - guard) };
    }
    NonNull::new(aligned as *mut u8)
}

/// [`map_aligned`] under Miri: zeroed memory from `std::alloc`.
#[cfg(miri)]
pub fn map_aligned(size: usize, align: usize) -> Option<NonNull<u8>> {
    let layout = std::alloc::Layout::from_size_align(size, align).ok()?;
    // SAFETY: `layout` has a non-zero size (a multiple of the page size).
    NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })
}

/// [`unmap`] under Miri: the memory goes back to `std::alloc`.
///
/// # Safety
/// As for the real [`unmap`], and `size` is the whole size [`map_aligned`] was asked for.
#[cfg(miri)]
pub unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
    let layout = std::alloc::Layout::from_size_align(size, size.next_power_of_two())
        .expect("arena sizes are powers of two");
    // SAFETY: the caller promises `ptr` came from `map_aligned(size, size)`, which allocated it
    // with this layout (arenas are mapped aligned to their own size).
    unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) }
}

/// Gives the `size` bytes at `ptr` back to the OS, with the guard page after them.
///
/// # Safety
/// `ptr` was returned by [`map_aligned`], `size` is the size it was asked for, and nothing will
/// use that memory again.
#[cfg(not(miri))]
pub unsafe fn unmap(ptr: NonNull<u8>, size: usize) {
    // SAFETY: the caller promises the range, and so the guard page mapped after it, is ours and
    // unused.
    let result = unsafe { libc::munmap(ptr.as_ptr().cast(), size + page_size()) };
    debug_assert_eq!(
        result,
        0,
        "munmap failed: {}",
        std::io::Error::last_os_error()
    );
}

/// The process's resident memory in bytes: the pages it really has in RAM, as the second field of
/// `/proc/self/statm` says (Linux only; `None` elsewhere or if the file cannot be read).
pub fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}
