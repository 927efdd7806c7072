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
//! **A cache per thread.** Taking a lock costs two atomic instructions, and two threads that take
//! it in turn pass its cache line back and forth: more than glibc's whole `malloc` + `free`, whose
//! per-thread cache (tcache) needs no lock at all. So each thread keeps a few blocks of each size
//! class for itself, as glibc does, and takes the lock about once per [`REFILL`]
//! allocations or [`PENDING`] frees:
//!
//! ```text
//!   alloc:  the thread's blocks of that class ──(none left)──▶ lock: 16 blocks from pymalloc
//!   free:   the thread's pending frees ──(64 of them)──▶ lock: each block checked by address
//!           (in an arena? then kept for this thread, or given back to its pool; if not, it is
//!           the system allocator's, and goes back there)
//! ```
//!
//! A freed block is not kept at once: only pymalloc, under the lock, can tell its blocks from the
//! system allocator's by address (`address_in_range`), so a free waits in the pending list until
//! the next batch is checked. The blocks a thread keeps count as in use for pymalloc. The
//! statistics and the invariant check give the calling thread's blocks back first, so that a
//! single-threaded program sees exact counts; a thread gives its blocks back when it ends. This
//! is what makes `PyMallocGlobal` thread-safe without serialising every call: the lock guards
//! pymalloc itself, and a thread's cache is its own.
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
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use super::PyMalloc;
use super::consts::{
    ALIGNMENT, ALIGNMENT_SHIFT, ARENA_SIZE, NB_SMALL_SIZE_CLASSES, SMALL_REQUEST_THRESHOLD,
};
use super::stats::Stats;

/// Blocks a thread takes from pymalloc at once when it has none of a class left.
pub const REFILL: usize = 16;
/// The most blocks of one class a thread keeps.
pub const KEPT_PER_CLASS: u16 = 32;
/// Frees a thread collects before it checks them, under the lock, all at once.
pub const PENDING: usize = 64;

thread_local! {
    /// Whether this thread is inside pymalloc (holding the lock) right now.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    /// This thread's blocks (see the module docs).
    static CACHE: RefCell<ThreadCache> = const { RefCell::new(ThreadCache::new()) };
}

/// The blocks one thread keeps, and the frees it has not checked yet.
struct ThreadCache {
    /// The allocator the blocks belong to (null until the first use).
    owner: *const PyMallocGlobal,
    /// Per size class, the first block the thread keeps; each kept block holds the address of
    /// the next in its first word. Every one of them is a pymalloc block, with its arena's
    /// provenance.
    kept: [*mut u8; NB_SMALL_SIZE_CLASSES],
    /// How many blocks each class keeps.
    counts: [u16; NB_SMALL_SIZE_CLASSES],
    /// Blocks freed by this thread and not yet checked, with their layouts.
    pending: [(*mut u8, Layout); PENDING],
    /// How many of `pending` are in use.
    pending_len: usize,
}

impl ThreadCache {
    const fn new() -> ThreadCache {
        ThreadCache {
            owner: std::ptr::null(),
            kept: [std::ptr::null_mut(); NB_SMALL_SIZE_CLASSES],
            counts: [0; NB_SMALL_SIZE_CLASSES],
            pending: [(std::ptr::null_mut(), Layout::new::<u8>()); PENDING],
            pending_len: 0,
        }
    }

    /// Whether this cache may serve `allocator` (it serves the first allocator that uses it).
    fn serves(&mut self, allocator: &PyMallocGlobal) -> bool {
        if self.owner.is_null() {
            self.owner = allocator;
        }
        std::ptr::eq(self.owner, allocator)
    }

    /// Takes a kept block of `class`.
    fn pop(&mut self, class: usize) -> Option<*mut u8> {
        let block = self.kept[class];
        if block.is_null() {
            return None;
        }
        // SAFETY: a kept block is a free pymalloc block of at least 16 bytes, 16-aligned, with
        // its arena's provenance, whose first word this cache wrote.
        self.kept[class] = unsafe { block.cast::<*mut u8>().read() };
        self.counts[class] -= 1;
        Some(block)
    }

    /// Keeps `block`, a free pymalloc block of `class` with its arena's provenance.
    fn push(&mut self, class: usize, block: NonNull<u8>) {
        // SAFETY: the block is free and ours, at least 16 bytes and 16-aligned.
        unsafe { block.as_ptr().cast::<*mut u8>().write(self.kept[class]) };
        self.kept[class] = block.as_ptr();
        self.counts[class] += 1;
    }

    /// Checks the pending frees, with the lock held: each pymalloc block is kept (while its
    /// class has room) or freed in its pool; each other block goes back to the system allocator.
    fn drain(&mut self, heap: &mut PyMalloc) {
        // The arena the last block was found in: consecutive frees mostly fall in one arena, and
        // an address inside it needs no walk of the arena map. (Sound within one drain: every
        // pending block was allocated before it began, when each mapped arena held only
        // pymalloc's blocks, and an arena with a pending block in it is not released before
        // that block is freed.)
        let mut last: Option<NonNull<u8>> = None;
        for i in 0..self.pending_len {
            let (ptr, layout) = self.pending[i];
            let Some(ptr) = NonNull::new(ptr) else {
                continue;
            };
            let found = match last {
                Some(base) if ptr.addr().get().wrapping_sub(base.addr().get()) < ARENA_SIZE => {
                    Some(base.with_addr(ptr.addr()))
                }
                _ => {
                    let base = heap
                        .arena_map
                        .lookup(ptr.addr().get())
                        .and_then(|index| heap.arenas[index].address);
                    last = base.or(last);
                    base.map(|base| base.with_addr(ptr.addr()))
                }
            };
            match found {
                Some(block) => {
                    let class = class_of(layout.size());
                    if self.counts[class] < KEPT_PER_CLASS {
                        self.push(class, block);
                    } else {
                        // SAFETY: the block lies in one of pymalloc's arenas, so pymalloc handed
                        // it out; its owner freed it, and nobody uses it.
                        unsafe { heap.pymalloc_free(block) };
                    }
                }
                // SAFETY: not in an arena, so `System` made it with this layout (the freeing
                // caller's promise about the layout holds for whoever made it).
                None => unsafe { System.dealloc(ptr.as_ptr(), layout) },
            }
        }
        self.pending_len = 0;
    }

    /// Gives every block back, with the lock held: the pending ones checked, the kept ones freed.
    fn flush(&mut self, heap: &mut PyMalloc) {
        self.drain(heap);
        for class in 0..NB_SMALL_SIZE_CLASSES {
            while let Some(block) = self.pop(class) {
                let block = NonNull::new(block).expect("kept blocks are not null");
                // SAFETY: a kept block is a free pymalloc block, with its arena's provenance.
                unsafe { heap.pymalloc_free(block) };
            }
        }
    }
}

impl Drop for ThreadCache {
    /// A thread that ends gives its blocks back.
    fn drop(&mut self) {
        if self.owner.is_null() {
            return;
        }
        // SAFETY: `owner` is the allocator this cache served, which lives as long as the program
        // (a `PyMallocGlobal` is a static: see `PyMallocGlobal::new`).
        let owner = unsafe { &*self.owner };
        owner.locked(|heap| self.flush(heap));
    }
}

/// The size class of a request of `size` bytes (1 to 512), as obmalloc computes it.
fn class_of(size: usize) -> usize {
    (size.max(1) - 1) >> ALIGNMENT_SHIFT
}

/// pymalloc behind a lock, usable as `#[global_allocator]`.
pub struct PyMallocGlobal {
    heap: Mutex<PyMalloc>,
}

impl PyMallocGlobal {
    /// A global allocator with no arena yet. Make it a `static` (as `#[global_allocator]`
    /// requires): the threads' caches refer to it until they end.
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

    /// Runs `f` on the allocator with the lock held, after giving back the blocks the calling
    /// thread keeps, so that `f` sees them free.
    fn flushed<R>(&self, f: impl FnOnce(&mut PyMalloc) -> R) -> R {
        let mut f = Some(f);
        let done = CACHE.try_with(|cell| {
            let mut cache = cell.try_borrow_mut().ok()?;
            let f = f.take()?;
            Some(self.locked(|heap| {
                if std::ptr::eq(cache.owner, self) {
                    cache.flush(heap);
                }
                f(heap)
            }))
        });
        match (done, f) {
            (Ok(Some(result)), _) => result,
            // The thread is ending and its cache is gone: there is nothing of it to give back.
            (_, Some(f)) => self.locked(f),
            (_, None) => unreachable!("`f` runs once"),
        }
    }

    /// A block of `class` from the calling thread's cache, refilled from pymalloc when it has
    /// none; `None` when the cache cannot be used (the thread is ending, or the cache serves
    /// another allocator).
    fn cached_alloc(&self, class: usize) -> Option<*mut u8> {
        CACHE
            .try_with(|cell| {
                let mut cache = cell.try_borrow_mut().ok()?;
                if !cache.serves(self) {
                    return None;
                }
                if let Some(block) = cache.pop(class) {
                    return Some(block);
                }
                self.locked(|heap| {
                    cache.drain(heap);
                    if cache.counts[class] == 0 {
                        let size = (class + 1) << ALIGNMENT_SHIFT;
                        for _ in 0..REFILL {
                            match heap.malloc(size) {
                                Some(block) => cache.push(class, block),
                                None => break,
                            }
                        }
                    }
                });
                cache.pop(class)
            })
            .ok()
            .flatten()
    }

    /// Puts a freed block on the calling thread's pending list, checking the list once it is
    /// full; false when the cache cannot be used.
    fn cached_free(&self, ptr: *mut u8, layout: Layout) -> bool {
        CACHE
            .try_with(|cell| {
                let Ok(mut cache) = cell.try_borrow_mut() else {
                    return false;
                };
                if !cache.serves(self) {
                    return false;
                }
                let len = cache.pending_len;
                cache.pending[len] = (ptr, layout);
                cache.pending_len += 1;
                if cache.pending_len == PENDING {
                    self.locked(|heap| cache.drain(heap));
                }
                true
            })
            .unwrap_or(false)
    }

    /// The allocator's statistics (see [`PyMalloc::stats`]), with the calling thread's cached
    /// blocks given back first. Blocks other threads keep count as in use.
    pub fn stats(&self) -> Stats {
        self.flushed(|heap| heap.stats())
    }

    /// The statistics as `sys._debugmallocstats()` prints them. The text is formatted after the
    /// lock is released, so it is itself allocated by pymalloc.
    pub fn debug_malloc_stats(&self) -> String {
        self.stats().to_string()
    }

    /// Checks the allocator's invariants (see [`PyMalloc::check_invariants`]), with the calling
    /// thread's cached blocks given back first.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.flushed(|heap| heap.check_invariants())
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
        if let Some(block) = self.cached_alloc(class_of(layout.size())) {
            return block;
        }
        self.locked(|heap| heap.malloc(layout.size()))
            .map_or(std::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if Self::serves(layout) && !INSIDE.get() && self.cached_free(ptr, layout) {
            return;
        }
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
