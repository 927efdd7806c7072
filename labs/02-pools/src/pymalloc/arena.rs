//! Arenas: 1 MiB mapped from the OS at once and carved into 64 pools, and the *arena objects*
//! that describe them.
//!
//! ```text
//!   arena vector (libc-allocated, grows 16, 32, 64, ...)     the arenas (mmap, 1 MiB each)
//!   +---------------------------------------------+
//!   | 0: address ------------------------------------------> [p0|p1|p2| ... |p63]
//!   |    pool_address (next pool to carve) ------------------------^
//!   |    nfreepools, ntotalpools, freepools,      |
//!   |    nextarena / prevarena (index links)      |
//!   | 1: address = None  (unused: no arena behind) |
//!   | 2: ...                                       |
//!   +---------------------------------------------+
//! ```
//!
//! Every arena object is on exactly one of two lists, or on none:
//!
//! * `unused_arena_objects`: slots with no arena behind them (`address` is `None`), singly
//!   linked through `nextarena`. `new_arena` takes the head; releasing an arena pushes it back.
//! * `usable_arenas`: arenas with at least one free pool, doubly linked and sorted by increasing
//!   `nfreepools` (see `free.rs` and `alloc.rs` for how the order is kept).
//! * neither: an arena all of whose pools are in use.
//!
//! **Links are indices.** CPython links arena objects by pointer into the `arenas` vector, and
//! argues in `new_arena` that no such pointer exists when the vector is `realloc`ed (it only
//! grows when every arena is full). We store indices (`Option<usize>`), which stay valid
//! whatever happens to the vector; CPython's `usable_arenas->nfreepools` reads here
//! `self.arenas[a].nfreepools`.
//!
//! **The vector never uses Rust's allocator.** The arena vector is allocated with C's
//! `realloc`, as CPython uses `PyMem_RawRealloc`: this allocator may itself *be* Rust's global
//! allocator ([`super::PyMallocGlobal`]), and a `Vec` here would call back into it while it is
//! in the middle of an allocation.

use std::ops::{Index, IndexMut, Range};
use std::ptr::NonNull;

use super::PyMalloc;
use super::consts::INITIAL_ARENA_OBJECTS;
use super::pool::PoolP;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use {
    super::consts::{ARENA_SIZE, MAX_POOLS_IN_ARENA},
    crate::os,
};

// ANCHOR: arena_object
/// What pymalloc knows about one arena (CPython's `struct arena_object`).
#[repr(C)]
pub(crate) struct ArenaObject {
    /// The arena's first byte, or `None` if this object has no arena behind it (it is then on
    /// `unused_arena_objects`). CPython uses address 0 for `None`.
    pub(crate) address: Option<NonNull<u8>>,
    /// The next pool to carve off: pools below it have been carved, pools from it up to the end
    /// of the arena never have been (their memory is untouched).
    pub(crate) pool_address: *mut u8,
    /// Available pools: the empty pools on `freepools` plus the pools not carved yet.
    pub(crate) nfreepools: usize,
    /// All the pools of the arena: always [`MAX_POOLS_IN_ARENA`] here, as arenas are aligned.
    pub(crate) ntotalpools: usize,
    /// The empty pools, singly linked through their headers' `nextpool`, most recently emptied
    /// first.
    pub(crate) freepools: Option<PoolP>,
    /// The next arena object in `usable_arenas` (or in `unused_arena_objects`).
    pub(crate) nextarena: Option<usize>,
    /// The previous arena object in `usable_arenas` (`None` for the first); unused in
    /// `unused_arena_objects`.
    pub(crate) prevarena: Option<usize>,
}
// ANCHOR_END: arena_object

impl ArenaObject {
    /// An arena object with no arena behind it.
    const UNUSED: ArenaObject = ArenaObject {
        address: None,
        pool_address: std::ptr::null_mut(),
        nfreepools: 0,
        ntotalpools: 0,
        freepools: None,
        nextarena: None,
        prevarena: None,
    };
}

/// The vector of arena objects (CPython's `arenas` and `maxarenas`), in memory from C's
/// allocator. Indexing works like a slice's: `self.arenas[i].nfreepools`.
pub(crate) struct ArenaObjects {
    /// The first of `len` initialised arena objects, from `libc::realloc`; `None` while empty.
    ptr: Option<NonNull<ArenaObject>>,
    /// How many arena objects there are (`maxarenas`).
    len: usize,
}

impl ArenaObjects {
    /// No arena objects yet: the first [`grow`](Self::grow) makes [`INITIAL_ARENA_OBJECTS`].
    pub(crate) const fn new() -> Self {
        ArenaObjects { ptr: None, len: 0 }
    }

    /// How many arena objects there are, with or without an arena behind them.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Doubles the vector (the first time, makes [`INITIAL_ARENA_OBJECTS`]) with C's `realloc`,
    /// as `new_arena` does. The new objects have no arena behind them and are linked to nothing;
    /// returns their indices, or `None` if memory is exhausted (the vector is then unchanged).
    pub(crate) fn grow(&mut self) -> Option<Range<usize>> {
        let new_len = if self.len == 0 {
            INITIAL_ARENA_OBJECTS
        } else {
            self.len.checked_mul(2)?
        };
        let bytes = new_len.checked_mul(size_of::<ArenaObject>())?;
        let old = self.ptr.map_or(std::ptr::null_mut(), |p| p.as_ptr().cast());
        // SAFETY: `old` is null or the block C's allocator gave us for this vector, not freed;
        // on failure realloc leaves it untouched and we keep it.
        let grown = unsafe { libc::realloc(old, bytes) };
        let grown = NonNull::new(grown.cast::<ArenaObject>())?;
        for i in self.len..new_len {
            // SAFETY: the block has room for `new_len` objects and `i < new_len`; realloc's
            // memory is suitably aligned for any type; slots past the old length are
            // uninitialised, so they are written, not assigned.
            unsafe { grown.add(i).write(ArenaObject::UNUSED) };
        }
        let old_len = self.len;
        self.ptr = Some(grown);
        self.len = new_len;
        Some(old_len..new_len)
    }

    /// The arena objects as a slice.
    fn as_slice(&self) -> &[ArenaObject] {
        match self.ptr {
            // SAFETY: `ptr` points to `len` initialised arena objects that this vector owns.
            Some(ptr) => unsafe { std::slice::from_raw_parts(ptr.as_ptr(), self.len) },
            None => &[],
        }
    }

    /// The arena objects as a mutable slice.
    fn as_mut_slice(&mut self) -> &mut [ArenaObject] {
        match self.ptr {
            // SAFETY: as in `as_slice`, and `&mut self` makes this the only reference.
            Some(ptr) => unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), self.len) },
            None => &mut [],
        }
    }

    /// The arena objects in index order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, ArenaObject> {
        self.as_slice().iter()
    }
}

impl Index<usize> for ArenaObjects {
    type Output = ArenaObject;

    fn index(&self, index: usize) -> &ArenaObject {
        &self.as_slice()[index]
    }
}

impl IndexMut<usize> for ArenaObjects {
    fn index_mut(&mut self, index: usize) -> &mut ArenaObject {
        &mut self.as_mut_slice()[index]
    }
}

impl Drop for ArenaObjects {
    fn drop(&mut self) {
        if let Some(ptr) = self.ptr {
            // SAFETY: the block came from libc::realloc and is freed once, here. Arena objects
            // own nothing themselves (the arenas are unmapped by `Drop for PyMalloc`).
            unsafe { libc::free(ptr.as_ptr().cast()) };
        }
    }
}

impl PyMalloc {
    // ANCHOR: new_arena
    /// Maps a new arena and returns the index of the arena object that describes it (CPython's
    /// `new_arena`), or `None` if the OS or C's allocator refuses, leaving everything as it was.
    /// The caller links the arena into `usable_arenas`.
    ///
    /// The arena object is the head of `unused_arena_objects`. When that list is empty, the
    /// arena vector is grown first (`self.arenas.grow()` doubles it and says which objects are
    /// new), and the new objects join the list in index order, so objects are used 0, 1, 2, ...
    ///
    /// After: the object is off `unused_arena_objects`; its arena is 1 MiB mapped with
    /// [`os::map_aligned`] (aligned to [`ARENA_SIZE`]) and known to the arena map under the
    /// object's index; every pool of it is free and none is carved (`pool_address` is its first
    /// byte, `freepools` is empty); and the counters `narenas_currently_allocated`,
    /// `ntimes_arena_allocated` and `narenas_highwater` count it.
    pub(crate) fn new_arena(&mut self) -> Option<usize> {
        // TODO: afterwards the head of unused_arena_objects (taken after growing the vector if the
        //       list was empty) describes a newly mapped, aligned arena that the arena map knows,
        //       with every pool free and none carved, counted in the three arena counters; on
        //       failure nothing has changed
        todo!()
    }
    // ANCHOR_END: new_arena

    // ANCHOR: free_arena
    /// Gives the arena of arena object `arena` back to the OS: case 1 of CPython's
    /// `insert_to_freepool`, once it has taken the arena out of `usable_arenas`.
    ///
    /// Before: every pool of the arena is free, and the arena is in no list. After: the arena
    /// is unmapped ([`os::unmap`]), so its memory really goes back to the OS; the arena map no
    /// longer knows its addresses; its object has no arena behind it (`address` is `None`) and
    /// heads `unused_arena_objects`, so the next `new_arena` takes it again; and
    /// `narenas_currently_allocated` no longer counts it ("arenas reclaimed" in the statistics
    /// is the total minus the current).
    pub(crate) fn free_arena(&mut self, arena: usize) {
        // TODO: afterwards the arena is unmapped and unknown to the arena map, its object has no
        //       address and heads unused_arena_objects, and narenas_currently_allocated no longer
        //       counts it
        todo!()
    }
    // ANCHOR_END: free_arena
}
