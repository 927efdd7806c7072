//! pymalloc as Rust's global allocator (provided, not a task).
//!
//! ```no_run
//! use pools::pymalloc::PyMallocGlobal;
//!
//! #[global_allocator]
//! static GLOBAL: PyMallocGlobal = PyMallocGlobal::new();
//!
//! fn main() {
//!     let words: Vec<String> = (0..1000).map(|i| format!("word{i}")).collect();
//!     println!("{}", GLOBAL.debug_malloc_stats()); // the Strings live in pools
//!     drop(words);
//! }
//! ```
//!
//! Every `Box`, `Vec`, `String` and `BTreeMap` node of such a program then comes from
//! [`PyMalloc`]: layouts of at most 512 bytes aligned to at most 16 go to pymalloc, everything
//! else to [`System`] (C's `malloc`), the split CPython makes between `PyObject_Malloc` and
//! `PyMem_RawMalloc`. Rust's `dealloc` is told the layout, so it routes by the same rule.
//!
//! **One lock.** CPython 3.11 relies on the GIL: one thread at a time runs obmalloc. Here a
//! `std::sync::Mutex` plays the GIL. It never allocates (on Linux it is a futex word), so the
//! allocator can use it while it is the allocator.
//!
//! **No allocation while locked.** pymalloc's own bookkeeping lives in memory from C's allocator
//! (the arena vector, the arena map) and in its arenas, so it never calls back into the global
//! allocator. If code running under the lock *does* allocate (formatting an invariant error,
//! or the panic machinery after a bug), the request would come back here while the lock is held,
//! and a `Mutex` locked twice by one thread deadlocks. So a thread-local flag marks "this thread
//! is inside pymalloc", and requests made meanwhile go to the system allocator instead.
//!
//! **A panic aborts.** A global allocator must not unwind (the standard library assumes it
//! cannot). If pymalloc panics (a `todo!()` not written yet, a failed assertion), the panic
//! message is printed as usual, then the process aborts with a note saying so.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use super::PyMalloc;
use super::consts::{ALIGNMENT, SMALL_REQUEST_THRESHOLD};
use super::stats::Stats;

thread_local! {
    /// Whether this thread is inside pymalloc (holding the lock) right now.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// pymalloc behind a lock, usable as `#[global_allocator]`.
pub struct PyMallocGlobal {
    heap: Mutex<PyMalloc>,
}

impl PyMallocGlobal {
    /// A global allocator with no arena yet.
    pub const fn new() -> Self {
        PyMallocGlobal {
            heap: Mutex::new(PyMalloc::new()),
        }
    }

    /// Whether pymalloc serves `layout` (at most 512 bytes, aligned to at most 16).
    fn serves(layout: Layout) -> bool {
        layout.size() <= SMALL_REQUEST_THRESHOLD && layout.align() <= ALIGNMENT
    }

    /// Runs `f` on the allocator with the lock held and this thread marked as inside pymalloc.
    /// A panic in `f` aborts the process.
    fn locked<R>(&self, f: impl FnOnce(&mut PyMalloc) -> R) -> R {
        if INSIDE.get() {
            // Locking again would deadlock: say so instead of hanging.
            abort_with(
                b"\nerror: pymalloc was entered again by the thread already inside it \
                         (the global allocator called from within itself); the process aborts.\n",
            );
        }
        INSIDE.set(true);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut heap = self.heap.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut heap)
        }));
        INSIDE.set(false);
        match result {
            Ok(value) => value,
            Err(_) => abort_after_panic(),
        }
    }

    /// The allocator's statistics (see [`PyMalloc::stats`]).
    pub fn stats(&self) -> Stats {
        self.locked(|heap| heap.stats())
    }

    /// The statistics as `sys._debugmallocstats()` prints them. The text is formatted after the
    /// lock is released, so it is itself allocated by pymalloc.
    pub fn debug_malloc_stats(&self) -> String {
        self.stats().to_string()
    }

    /// Checks the allocator's invariants (see [`PyMalloc::check_invariants`]).
    pub fn check_invariants(&self) -> Result<(), String> {
        self.locked(|heap| heap.check_invariants())
    }

    /// Whether `ptr` lies in one of pymalloc's arenas (see [`PyMalloc::address_in_range`]).
    /// Always false for a thread that is inside pymalloc: what it frees there was allocated
    /// there, by the system allocator.
    pub fn owns(&self, ptr: *const u8) -> bool {
        !INSIDE.get() && self.locked(|heap| heap.address_in_range(ptr))
    }
}

impl Default for PyMallocGlobal {
    fn default() -> Self {
        Self::new()
    }
}

/// Says why, then aborts: a global allocator must not unwind.
fn abort_after_panic() -> ! {
    abort_with(
        b"\nerror: pymalloc panicked while serving as the global allocator (see the panic \
          above); a global allocator must not unwind, so the process aborts.\n",
    )
}

/// Writes `note` to the standard error without allocating, then aborts.
fn abort_with(note: &[u8]) -> ! {
    // SAFETY: writing a static buffer to the standard error descriptor; the result does not
    // matter, as the process is about to abort.
    unsafe { libc::write(2, note.as_ptr().cast(), note.len()) };
    std::process::abort()
}

// SAFETY: blocks come from pymalloc (at most 512 bytes, 16-aligned, as `serves` requires) or
// from `System`, and each is freed by the one that made it: `dealloc` and `realloc` route by the
// layout as `alloc` did, and check the address before giving a block to pymalloc, which covers
// the blocks made by `System` while a thread was inside pymalloc.
unsafe impl GlobalAlloc for PyMallocGlobal {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::serves(layout) || INSIDE.get() {
            // SAFETY: the caller's layout is valid and of non-zero size, as `System` requires.
            return unsafe { System.alloc(layout) };
        }
        self.locked(|heap| heap.malloc(layout.size()))
            .map_or(std::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::serves(layout) && !INSIDE.get() {
            let ptr = NonNull::new(ptr).expect("dealloc is never given null");
            let freed = self.locked(|heap| {
                // The pointer rebuilt with its arena's provenance (see `PyMalloc::in_arena`).
                let Some(ptr) = heap.in_arena(ptr) else {
                    return false;
                };
                // SAFETY: the block lies in one of pymalloc's arenas, so pymalloc handed it
                // out; the caller promises it is live and gives it up.
                unsafe { heap.pymalloc_free(ptr) };
                true
            });
            if freed {
                return;
            }
        }
        // SAFETY: the block is not in an arena, so `System` allocated it with this layout (the
        // caller's promise about the layout holds for whoever made it).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let old = NonNull::new(ptr).expect("realloc is never given null");
        if Self::serves(layout) && Self::serves(new_layout) && !INSIDE.get() {
            // Both sizes are pymalloc's: pymalloc_realloc keeps the block or moves it within
            // pymalloc (a block of the system allocator stays with it, as in CPython).
            return self
                .locked(|heap| {
                    // SAFETY: the caller promises `ptr` is live and allocated with `layout`: a
                    // pymalloc block, or a system one made while inside pymalloc, which
                    // `PyMalloc::realloc` tells apart by address.
                    unsafe { heap.realloc(old, new_size) }
                })
                .map_or(std::ptr::null_mut(), NonNull::as_ptr);
        }
        if !Self::serves(layout) && !Self::serves(new_layout) {
            // SAFETY: `System` made the block with `layout` (pymalloc never serves it), and the
            // caller's promises about `new_size` hold.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // Crossing the line between pymalloc and the system allocator: move the block.
        // SAFETY: `new_layout` is valid and of non-zero size (the caller's promise).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least this long.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: the old block is live and allocated with `layout`; nobody uses it again.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}
