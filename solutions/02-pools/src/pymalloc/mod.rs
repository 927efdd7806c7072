//! pymalloc: CPython 3.11's allocator for small objects (`Objects/obmalloc.c`), rebuilt.
//!
//! # The problem
//!
//! A Python program allocates and frees objects all the time, and nearly all of them are small:
//! an `int` is 28 bytes, an empty `dict` 64, a short `str` 50 to 80. C's `malloc` serves any size
//! from one heap, and pays for that generality on every call (a header per block, searching free
//! lists of mixed sizes, locks). pymalloc serves requests of at most 512 bytes itself, from
//! blocks of a few fixed sizes, and passes the rest (and 0) to `malloc`.
//!
//! # The layers
//!
//! ```text
//!   malloc(nbytes)           its size class: 32 classes, of blocks of 16, 32, ..., 512 bytes
//!        |
//!   usedpools[class] -----> a used pool of that class --> its free list --> a block
//!        |  (none)
//!   usable_arenas ---------> the most used arena with a free pool --> a pool (cached or carved)
//!        |  (none)
//!   new_arena() -----------> 1 MiB from mmap, 64 pools of 16 KiB
//!
//!   arena (1 MiB)   [pool 0][pool 1][pool 2] ...                                [pool 63]
//!   pool (16 KiB)   [header 48 B][block][block][block] ...  one size class per pool
//! ```
//!
//! * A **block** is what `malloc` returns. A free block holds the link to the next free block
//!   of its pool: free lists cost no memory.
//! * A **pool** holds blocks of one size class and is *used*, *full* or *empty*
//!   ([`PoolState`]); its header, in its first 48 bytes, keeps its free list and its links.
//! * An **arena** is 1 MiB mapped from the OS, carved into pools as they are needed. An arena
//!   whose pools are all empty is unmapped, so its memory really goes back to the OS, unlike
//!   memory freed with glibc's `free`, which mostly stays in the process.
//!
//! The decisions are deterministic: given the same requests, CPython 3.11 and this allocator
//! choose the same arena, pool and block every time (up to CPython's occasional 63-pool arena,
//! see [`consts`]). [`PyMalloc::locate`] says where a block is, and the graded tests compare it
//! with the reference solution's after every step.
//!
//! # The files
//!
//! | file               | CPython                                                                   |
//! |--------------------|---------------------------------------------------------------------------|
//! | `consts.rs`        | the tunables section                                                      |
//! | `size_class.rs`    | the size class of a request, `INDEX2SIZE`, `NUMBLOCKS`                    |
//! | `arena.rs`         | `struct arena_object`, the `arenas` vector, `new_arena`, freeing an arena |
//! | `pool.rs`          | `struct pool_header`, pool initialisation, `pymalloc_pool_extend`         |
//! | `usedpools.rs`     | `usedpools`, `insert_to_usedpool`                                         |
//! | `alloc.rs`         | `pymalloc_alloc`, `allocate_from_new_pool`                                |
//! | `free.rs`          | `pymalloc_free`, `insert_to_freepool`                                     |
//! | `realloc.rs`       | `pymalloc_realloc`                                                        |
//! | `usable_arenas.rs` | the moves in `usable_arenas` that `insert_to_freepool` makes              |
//! | `stats.rs`         | `_PyObject_DebugMallocStats` (`sys._debugmallocstats()`)                  |
//! | `arena_map.rs`     | the radix tree behind `address_in_range` (provided)                       |
//! | `invariants.rs`    | the `assert`s of a debug build, as one checker (provided)                 |
//! | `locate.rs`        | where a block is, and views of the lists, for tests (provided)            |
//! | `steps.rs`         | the first tasks run one at a time, for tests (provided)                   |
//! | `global.rs`        | pymalloc as Rust's `#[global_allocator]` (provided)                       |
//!
//! # Example
//!
//! ```
//! use pools::pymalloc::PyMalloc;
//!
//! let mut heap = PyMalloc::new();
//! let a = heap.malloc(24).unwrap(); // size class 1: a 32-byte block
//! let place = heap.locate(a.as_ptr()).unwrap();
//! assert_eq!((place.arena, place.pool, place.block), (0, 0, 0));
//! assert_eq!(heap.stats().classes[1].blocks_in_use, 1);
//! // SAFETY: `a` came from `heap.malloc` and is freed once.
//! unsafe { heap.free(a) };
//! heap.check_invariants().unwrap();
//! ```

use std::fmt;
use std::ptr::NonNull;

use crate::allocator::Allocator;

mod alloc;
mod arena;
mod arena_map;
pub mod consts;
mod free;
pub mod global;
mod invariants;
mod locate;
mod pool;
mod realloc;
mod size_class;
mod stats;
mod steps;
mod usable_arenas;
mod usedpools;

pub use arena_map::{ARENA_MAP_LEVELS, arena_map_indices};
pub use global::PyMallocGlobal;
pub use locate::{ArenaInfo, Location, PoolInfo};
pub use pool::PoolState;
pub use size_class::{block_size, blocks_per_pool, size_class};
pub use stats::{ClassStats, Stats};
pub use steps::{PoolId, StepError, Steps};

use arena::ArenaObjects;
use arena_map::ArenaMap;
use consts::{MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES};
use pool::PoolP;

/// The allocator: CPython's obmalloc state (`struct _obmalloc_state` in 3.12, static variables
/// in 3.11), owned by one value, so that each test has a heap of its own.
///
/// Dropping it unmaps every arena: blocks it handed out must not be used afterwards. Blocks
/// passed to the system allocator are left alone (they belong to C's heap).
pub struct PyMalloc {
    /// `usedpools[c]`: the first used pool of size class `c`, heading a doubly linked list
    /// (see `usedpools.rs` for why it is not CPython's circular list with a fake header).
    usedpools: [Option<PoolP>; NB_SMALL_SIZE_CLASSES],
    /// The arena objects (`arenas`, `maxarenas`).
    arenas: ArenaObjects,
    /// The head of the singly linked list of arena objects with no arena behind them.
    unused_arena_objects: Option<usize>,
    /// The head of the doubly linked list of arenas with free pools, by increasing
    /// `nfreepools`: the most used arena first.
    usable_arenas: Option<usize>,
    /// `nfp2lasta[n]`: the last arena in `usable_arenas` with `n` free pools, if any.
    nfp2lasta: [Option<usize>; MAX_POOLS_IN_ARENA + 1],
    /// Arenas mapped now.
    narenas_currently_allocated: usize,
    /// Arenas mapped since the start ("arenas allocated total").
    ntimes_arena_allocated: usize,
    /// The most arenas mapped at once ("arenas highwater mark").
    narenas_highwater: usize,
    /// Blocks handed out by the system allocator and not freed (`raw_allocated_blocks`).
    raw_allocated_blocks: isize,
    /// Their bytes, as C's `malloc_usable_size` reports them (for [`Allocator::footprint`]).
    raw_allocated_bytes: isize,
    /// Which addresses are in which arena (the radix tree of `address_in_range`).
    arena_map: ArenaMap,
}

// SAFETY: a `PyMalloc` owns everything its pointers reach (its arenas, the arena vector, the
// arena map) and nothing of it is tied to a thread, so it may move to another thread. It is not
// `Sync`: every operation needs `&mut self`, and `PyMallocGlobal` puts it behind a mutex.
unsafe impl Send for PyMalloc {}

impl PyMalloc {
    /// An allocator with no arena yet: the first small request maps one.
    pub const fn new() -> Self {
        PyMalloc {
            usedpools: [None; NB_SMALL_SIZE_CLASSES],
            arenas: ArenaObjects::new(),
            unused_arena_objects: None,
            usable_arenas: None,
            nfp2lasta: [None; MAX_POOLS_IN_ARENA + 1],
            narenas_currently_allocated: 0,
            ntimes_arena_allocated: 0,
            narenas_highwater: 0,
            raw_allocated_blocks: 0,
            raw_allocated_bytes: 0,
            arena_map: ArenaMap::new(),
        }
    }

    /// Allocates a block of at least `nbytes` bytes, aligned to 16 (CPython's
    /// `_PyObject_Malloc`): from a pool if `pymalloc_alloc` serves the request, otherwise from
    /// the system allocator (C's `malloc`; a request for 0 bytes gets a block of its own).
    /// `None` if memory is exhausted.
    pub fn malloc(&mut self, nbytes: usize) -> Option<NonNull<u8>> {
        if nbytes > isize::MAX as usize {
            return None;
        }
        if let Some(block) = self.pymalloc_alloc(nbytes) {
            return Some(block);
        }
        // SAFETY: malloc has no preconditions; a null result is handled by `NonNull::new`.
        let raw = NonNull::new(unsafe { libc::malloc(nbytes.max(1)) }.cast::<u8>())?;
        self.raw_allocated_blocks += 1;
        self.raw_allocated_bytes += usable_size(raw);
        Some(raw)
    }

    /// `p` with the provenance of the arena it lies in (CPython's `address_in_range`, answering
    /// with a pointer), or `None` if it lies in none of our arenas.
    ///
    /// Why not use `p` itself? C computes a pool header's address from a block's address and
    /// reads it, and so do we (`pool_of`). In Rust a pointer also carries permission to access
    /// some range of memory (its *provenance*), and a pointer that went through a reference on
    /// its way back to us (a `Box` the program dropped, say) may access that one block and
    /// nothing else: reading the pool header through it is undefined behaviour, which Miri
    /// reports. The pointer `mmap` gave us for the arena may access all of it, so we rebuild `p`
    /// from that one, at the same address.
    pub(crate) fn in_arena(&self, p: NonNull<u8>) -> Option<NonNull<u8>> {
        let index = self.arena_map.lookup(p.addr().get())?;
        let base = self.arenas[index].address?;
        Some(base.with_addr(p.addr()))
    }

    /// Frees the block `p` (CPython's `_PyObject_Free`): back to its pool if it lies in one of
    /// our arenas, otherwise to the system allocator.
    ///
    /// # Safety
    /// `p` was returned by this allocator's [`malloc`](Self::malloc) or
    /// [`realloc`](Self::realloc) and has not been freed since; nobody uses it after this call.
    pub unsafe fn free(&mut self, p: NonNull<u8>) {
        if let Some(p) = self.in_arena(p) {
            // SAFETY: `p` is a live block of ours (the caller's promise) inside one of our
            // arenas, so pymalloc_alloc handed it out.
            unsafe { self.pymalloc_free(p) };
        } else {
            self.raw_allocated_blocks -= 1;
            self.raw_allocated_bytes -= usable_size(p);
            // SAFETY: `p` is not in an arena, so it came from C's malloc or realloc (the caller
            // promises it is ours and live), and is freed once.
            unsafe { libc::free(p.as_ptr().cast()) };
        }
    }

    /// Resizes the block `p` to at least `nbytes` bytes, moving it if needed; the first
    /// `min(old size, nbytes)` bytes are kept (CPython's `_PyObject_Realloc`). A pymalloc block
    /// is resized by `pymalloc_realloc`; a block of the system allocator stays with it (C's
    /// `realloc`), whatever the new size, as CPython cannot know how much of it to copy. On
    /// `None` the old block is left as it was.
    ///
    /// # Safety
    /// As for [`free`](Self::free); on success, nobody uses `p` again unless the result is `p`.
    pub unsafe fn realloc(&mut self, p: NonNull<u8>, nbytes: usize) -> Option<NonNull<u8>> {
        if nbytes > isize::MAX as usize {
            return None;
        }
        if let Some(p) = self.in_arena(p) {
            // SAFETY: as in `free`: a live pymalloc block of ours.
            return unsafe { self.pymalloc_realloc(p, nbytes) };
        }
        let old_bytes = usable_size(p);
        // SAFETY: `p` came from C's malloc or realloc and is live (the caller's promise); on
        // failure C's realloc leaves it untouched.
        let moved = NonNull::new(unsafe { libc::realloc(p.as_ptr().cast(), nbytes.max(1)) })?;
        let moved = moved.cast::<u8>();
        self.raw_allocated_bytes += usable_size(moved) - old_bytes;
        Some(moved)
    }

    /// Blocks handed out by the system allocator and not yet freed (requests of 0 or more than
    /// 512 bytes): CPython's `raw_allocated_blocks`, part of `sys.getallocatedblocks()`.
    pub fn raw_allocated_blocks(&self) -> isize {
        self.raw_allocated_blocks
    }
}

/// The usable size of a block of C's allocator, as a signed count for the running totals.
/// Miri does not implement `malloc_usable_size`: there the footprint leaves large blocks out.
fn usable_size(p: NonNull<u8>) -> isize {
    if cfg!(miri) {
        return 0;
    }
    // SAFETY: `p` is a live block of C's allocator (every caller has just allocated it or is
    // about to free it).
    let bytes = unsafe { libc::malloc_usable_size(p.as_ptr().cast()) };
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

impl Default for PyMalloc {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PyMalloc {
    fn drop(&mut self) {
        for arena in self.arenas.iter() {
            if let Some(address) = arena.address {
                // SAFETY: the arena was mapped by new_arena with ARENA_SIZE bytes and is
                // unmapped once; the allocator is going away, so no block of it is used again.
                unsafe { crate::os::unmap(address, consts::ARENA_SIZE) };
            }
        }
        // The arena vector and the arena map free their own memory when dropped.
    }
}

impl fmt::Debug for PyMalloc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyMalloc")
            .field("arena_objects", &self.arenas.len())
            .field(
                "arenas_allocated_current",
                &self.narenas_currently_allocated,
            )
            .field("usable_arenas", &self.usable_arenas)
            .field("unused_arena_objects", &self.unused_arena_objects)
            .field("raw_allocated_blocks", &self.raw_allocated_blocks)
            .finish_non_exhaustive()
    }
}

impl Allocator for PyMalloc {
    fn name(&self) -> &'static str {
        "pymalloc"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        PyMalloc::malloc(self, size)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the trait's contract is `PyMalloc::free`'s.
        unsafe { PyMalloc::free(self, ptr) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the trait's contract is `PyMalloc::realloc`'s.
        unsafe { PyMalloc::realloc(self, ptr, new_size) }
    }

    fn footprint(&self) -> Option<usize> {
        let raw = usize::try_from(self.raw_allocated_bytes).unwrap_or(0);
        Some(self.narenas_currently_allocated * consts::ARENA_SIZE + raw)
    }
}
