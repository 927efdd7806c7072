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
//! per-thread cache (tcache) needs no lock at all. So each thread keeps blocks of each size class
//! for itself, as glibc does, and takes the lock about once per [`REFILL`] allocations of a class
//! or [`PENDING`] frees:
//!
//! ```text
//!   alloc:  the thread's blocks of that class ──(none left)──▶ lock: the pending frees checked,
//!           then blocks from pymalloc until the thread has REFILL (64) of the class
//!   free:   the thread's pending frees ──(128 of them)──▶ lock: each block checked by address
//!           (in an arena? then kept for this thread, up to KEPT_PER_CLASS, or given back to its
//!           pool; if not, it is the system allocator's, and goes back there)
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
//! The cache is a thread-local of plain `Cell`s with no destructor, so reaching it costs one
//! load and no "is it set up yet" test; a second, empty thread-local carries the destructor that
//! gives the blocks back. An allocation that finds a block on hand runs about 25 instructions
//! (`objdump -d` of `__rust_alloc` in `gclabs-bench-global-pymalloc`), no atomic among them.
//!
//! **No allocation while locked.** pymalloc's own bookkeeping lives in memory from C's allocator
//! (the arena vector, the arena map) and in its arenas, so it never calls back into the global
//! allocator. If code running under the lock *does* allocate (formatting an invariant error,
//! or the panic machinery after a bug), the request would come back here while the lock is held,
//! and a `Mutex` locked twice by one thread deadlocks. So the thread's cache marks "this thread
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
use super::consts::{
    ALIGNMENT, ALIGNMENT_SHIFT, ARENA_SIZE, NB_SMALL_SIZE_CLASSES, SMALL_REQUEST_THRESHOLD,
};
use super::stats::Stats;

/// Blocks of a class a thread has on hand after each trip to the lock for that class: it takes
/// the lock about once per `REFILL` allocations of a class.
pub const REFILL: usize = 64;
/// The most blocks of one class a thread keeps; beyond that, its frees go back to their pools.
pub const KEPT_PER_CLASS: u16 = 128;
/// Frees a thread collects before it checks them, under the lock, all at once.
pub const PENDING: usize = 128;

thread_local! {
    /// This thread's blocks (see the module docs). Only `Cell`s and no destructor: reaching it
    /// is one load relative to the thread pointer, with no "is it initialised yet" test, and it
    /// stays usable while the thread's other thread-locals are being destroyed.
    static CACHE: ThreadCache = const { ThreadCache::new() };
    /// Gives the thread's blocks back when the thread ends. Touched on the thread's first trip
    /// to the lock, which registers its destructor.
    static GIVE_BACK: GiveBack = const { GiveBack };
}

/// What `ThreadCache::owner` holds once the thread has given its blocks back: an address no
/// allocator has, so that every later request of the thread goes straight to the lock.
const GONE: *const PyMallocGlobal = std::ptr::dangling();

/// The blocks one thread keeps, and the frees it has not checked yet.
///
/// Every field is a `Cell`, so nothing here is ever borrowed across a call: a request that comes
/// back into the allocator from inside it (while a destructor is registered, say) sees the cache
/// in a consistent state.
struct ThreadCache {
    /// The allocator the blocks belong to: null until the thread first uses one, [`GONE`] after
    /// the thread gave its blocks back.
    owner: Cell<*const PyMallocGlobal>,
    /// Whether this thread is inside pymalloc (holding the lock) right now.
    inside: Cell<bool>,
    /// Per size class, the first block the thread keeps; each kept block holds the address of
    /// the next in its first word. Every one of them is a pymalloc block, with its arena's
    /// provenance.
    kept: [Cell<*mut u8>; NB_SMALL_SIZE_CLASSES],
    /// How many blocks each class keeps.
    counts: [Cell<u16>; NB_SMALL_SIZE_CLASSES],
    /// Blocks freed by this thread and not yet checked, with their layouts.
    pending: [Cell<(*mut u8, Layout)>; PENDING],
    /// How many of `pending` are in use (always less than `PENDING` between calls).
    pending_len: Cell<usize>,
}

impl ThreadCache {
    const fn new() -> ThreadCache {
        ThreadCache {
            owner: Cell::new(std::ptr::null()),
            inside: Cell::new(false),
            kept: [const { Cell::new(std::ptr::null_mut()) }; NB_SMALL_SIZE_CLASSES],
            counts: [const { Cell::new(0) }; NB_SMALL_SIZE_CLASSES],
            pending: [const { Cell::new((std::ptr::null_mut(), Layout::new::<u8>())) }; PENDING],
            pending_len: Cell::new(0),
        }
    }

    /// Whether the cache may serve `allocator` right now: the thread is not inside pymalloc, and
    /// the cache belongs to `allocator`. The test of the fast paths.
    #[inline(always)]
    fn ready_for(&self, allocator: &PyMallocGlobal) -> bool {
        std::ptr::eq(self.owner.get(), allocator) && !self.inside.get()
    }

    /// [`ready_for`](Self::ready_for), after adopting `allocator` if the thread has used none
    /// yet. The first adoption registers the destructor that gives the blocks back.
    fn adopt(&self, allocator: &PyMallocGlobal) -> bool {
        if self.inside.get() {
            return false;
        }
        if self.owner.get().is_null() {
            // Owner first: registering the destructor may allocate, and that request must find
            // the cache already adopted rather than register again.
            self.owner.set(allocator);
            // Fails only while the thread is ending; its blocks then stay counted as in use.
            let _ = GIVE_BACK.try_with(|_| ());
        }
        std::ptr::eq(self.owner.get(), allocator)
    }

    /// Takes a kept block of `class`.
    #[inline(always)]
    fn pop(&self, class: usize) -> Option<*mut u8> {
        let block = self.kept[class].get();
        if block.is_null() {
            return None;
        }
        // SAFETY: a kept block is a free pymalloc block of at least 16 bytes, 16-aligned, with
        // its arena's provenance, whose first word this cache wrote.
        self.kept[class].set(unsafe { block.cast::<*mut u8>().read() });
        self.counts[class].set(self.counts[class].get() - 1);
        Some(block)
    }

    /// Keeps `block`, a free pymalloc block of `class` with its arena's provenance.
    #[inline(always)]
    fn push(&self, class: usize, block: NonNull<u8>) {
        // SAFETY: the block is free and ours, at least 16 bytes and 16-aligned.
        unsafe {
            block
                .as_ptr()
                .cast::<*mut u8>()
                .write(self.kept[class].get())
        };
        self.kept[class].set(block.as_ptr());
        self.counts[class].set(self.counts[class].get() + 1);
    }

    /// Adds a freed block to the pending list; true when the list is full and must be drained.
    #[inline(always)]
    fn defer(&self, ptr: *mut u8, layout: Layout) -> bool {
        let len = self.pending_len.get();
        self.pending[len].set((ptr, layout));
        self.pending_len.set(len + 1);
        len + 1 == PENDING
    }

    /// Checks the pending frees, with the lock held: each pymalloc block is kept (while its
    /// class has room) or freed in its pool; each other block goes back to the system allocator.
    fn drain(&self, heap: &mut PyMalloc) {
        // The arena the last block was found in: consecutive frees mostly fall in one arena, and
        // an address inside it needs no walk of the arena map. (Sound within one drain: every
        // pending block was allocated before it began, when each mapped arena held only
        // pymalloc's blocks, and an arena with a pending block in it is not released before
        // that block is freed.)
        let mut last: Option<NonNull<u8>> = None;
        let len = self.pending_len.replace(0);
        for entry in &self.pending[..len] {
            let (ptr, layout) = entry.get();
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
                    if self.counts[class].get() < KEPT_PER_CLASS {
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
    }

    /// Gives every block back, with the lock held: the pending ones checked, the kept ones freed.
    fn flush(&self, heap: &mut PyMalloc) {
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

/// The thread-local whose destructor gives the thread's blocks back.
struct GiveBack;

impl Drop for GiveBack {
    /// A thread that ends gives its blocks back; its later requests (other thread-locals'
    /// destructors may still allocate) bypass the cache.
    fn drop(&mut self) {
        CACHE.with(|cache| {
            let owner = cache.owner.replace(GONE);
            if owner.is_null() || owner == GONE {
                return;
            }
            // SAFETY: `owner` is the allocator this cache served, which lives as long as the
            // program (a `PyMallocGlobal` is a static: see `PyMallocGlobal::new`).
            let owner = unsafe { &*owner };
            owner.locked(|heap| cache.flush(heap));
        });
    }
}

/// The size class of a request of `size` bytes (1 to 512), as obmalloc computes it.
#[inline(always)]
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
    #[inline(always)]
    fn serves(layout: Layout) -> bool {
        layout.size() <= SMALL_REQUEST_THRESHOLD && layout.align() <= ALIGNMENT
    }

    /// Runs `f` on the allocator with the lock held and this thread marked as inside pymalloc.
    /// A panic in `f` aborts the process.
    fn locked<R>(&self, f: impl FnOnce(&mut PyMalloc) -> R) -> R {
        CACHE.with(|cache| {
            if cache.inside.replace(true) {
                // Locking again would deadlock: say so instead of hanging.
                abort_with(
                    b"\nerror: pymalloc was entered again by the thread already inside it \
                      (the global allocator called from within itself); the process aborts.\n",
                );
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                let mut heap = self.heap.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut heap)
            }));
            cache.inside.set(false);
            match result {
                Ok(value) => value,
                Err(_) => abort_after_panic(),
            }
        })
    }

    /// Runs `f` on the allocator with the lock held, after giving back the blocks the calling
    /// thread keeps, so that `f` sees them free.
    fn flushed<R>(&self, f: impl FnOnce(&mut PyMalloc) -> R) -> R {
        CACHE.with(|cache| {
            let mine = std::ptr::eq(cache.owner.get(), self);
            self.locked(|heap| {
                if mine {
                    cache.flush(heap);
                }
                f(heap)
            })
        })
    }

    /// `alloc` when the thread has no block of `class` on hand, or cannot use its cache.
    #[cold]
    #[inline(never)]
    fn alloc_slow(&self, cache: &ThreadCache, layout: Layout) -> *mut u8 {
        if cache.inside.get() {
            // SAFETY: the caller's layout is valid and of non-zero size, as `System` requires.
            return unsafe { System.alloc(layout) };
        }
        if !cache.adopt(self) {
            // The thread has ended, or its cache serves another allocator.
            return self
                .locked(|heap| heap.malloc(layout.size()))
                .map_or(std::ptr::null_mut(), NonNull::as_ptr);
        }
        let class = class_of(layout.size());
        self.locked(|heap| {
            cache.drain(heap);
            // Refill to `REFILL` blocks, not just when none came back from the pending list:
            // else a thread that begins by freeing one block of a class would go on with that one
            // block, taking the lock on every allocation.
            let size = (class + 1) << ALIGNMENT_SHIFT;
            while usize::from(cache.counts[class].get()) < REFILL {
                match heap.malloc(size) {
                    Some(block) => cache.push(class, block),
                    None => break,
                }
            }
        });
        cache.pop(class).unwrap_or(std::ptr::null_mut())
    }

    /// `dealloc` when the pending list is full, or the thread cannot use its cache.
    #[cold]
    #[inline(never)]
    fn dealloc_slow(&self, cache: &ThreadCache, ptr: *mut u8, layout: Layout) {
        if cache.inside.get() {
            // What a thread frees while inside pymalloc was allocated there, by `System`.
            // SAFETY: the caller promises the block is live with this layout.
            return unsafe { System.dealloc(ptr, layout) };
        }
        if cache.adopt(self) {
            if cache.defer(ptr, layout) {
                self.drain_pending(cache);
            }
            return;
        }
        // The thread has ended, or its cache serves another allocator.
        let ptr = NonNull::new(ptr).expect("dealloc is never given null");
        let freed = self.locked(|heap| {
            // The pointer rebuilt with its arena's provenance (see `PyMalloc::in_arena`).
            let Some(ptr) = heap.in_arena(ptr) else {
                return false;
            };
            // SAFETY: the block lies in one of pymalloc's arenas, so pymalloc handed it out; the
            // caller promises it is live and gives it up.
            unsafe { heap.pymalloc_free(ptr) };
            true
        });
        if !freed {
            // SAFETY: the block is not in an arena, so `System` allocated it with this layout
            // (the caller's promise about the layout holds for whoever made it).
            unsafe { System.dealloc(ptr.as_ptr(), layout) }
        }
    }

    /// Checks the thread's full list of pending frees.
    #[cold]
    #[inline(never)]
    fn drain_pending(&self, cache: &ThreadCache) {
        self.locked(|heap| cache.drain(heap));
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
        !CACHE.with(|cache| cache.inside.get()) && self.locked(|heap| heap.address_in_range(ptr))
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
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !Self::serves(layout) {
            // SAFETY: the caller's layout is valid and of non-zero size, as `System` requires.
            return unsafe { System.alloc(layout) };
        }
        CACHE.with(|cache| {
            if cache.ready_for(self)
                && let Some(block) = cache.pop(class_of(layout.size()))
            {
                return block;
            }
            self.alloc_slow(cache, layout)
        })
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !Self::serves(layout) {
            // SAFETY: pymalloc never serves this layout, so `System` made the block with it.
            return unsafe { System.dealloc(ptr, layout) };
        }
        CACHE.with(|cache| {
            if !cache.ready_for(self) {
                return self.dealloc_slow(cache, ptr, layout);
            }
            if cache.defer(ptr, layout) {
                self.drain_pending(cache);
            }
        })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let old = NonNull::new(ptr).expect("realloc is never given null");
        if Self::serves(layout)
            && Self::serves(new_layout)
            && !CACHE.with(|cache| cache.inside.get())
        {
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
