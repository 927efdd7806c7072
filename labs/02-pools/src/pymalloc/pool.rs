//! Pools: 16 KiB of memory serving blocks of one size class, with the header that keeps them
//! in the first 48 bytes of the pool itself.
//!
//! ```text
//!   pool (POOL_SIZE = 16 KiB, aligned to 16 KiB)
//!   +--------+---------+---------+---------+-- ... --+---------+-----------------------+
//!   | header | block 0 | block 1 | block 2 |         | block k | never touched yet     |
//!   | 48 B   |  used   |  free ----> free ---> None  |  used   | (carved when needed)  |
//!   +--------+---------+---------+---------+-- ... --+---------+-----------------------+
//!   ^ pool    ^ pool + POOL_OVERHEAD                            ^ pool + nextoffset
//!             freeblock: the head of a LIFO list threaded through the free blocks themselves
//! ```
//!
//! A block's address rounded down to [`POOL_SIZE`] is its pool's header (CPython's `POOL_ADDR`),
//! so freeing needs no search. A free block holds the link to the next free block in its first
//! 8 bytes; a block in use holds whatever its owner wrote.
//!
//! **Carving lazily.** A new pool does not thread all its blocks onto the free list: it carves
//! the first two, hands out the first and puts the second alone on the list. When the list runs
//! dry, the next block is carved at `nextoffset` ([`PyMalloc::pymalloc_pool_extend`]). pymalloc
//! "strives at all levels (arena, pool, and block) never to touch a piece of memory until it's
//! actually needed": untouched pages of an arena never become resident.
//!
//! **Raw memory.** The header and the blocks are not Rust values in a `Vec`: they are bytes of
//! an arena that [`crate::os::map_aligned`] mapped. Reaching them takes `unsafe`, and each place
//! names the invariant that makes it sound, almost always the same one: *a pool between its
//! arena's base and the arena's `pool_address` has been carved, so its header was written by
//! us, and the arena stays mapped while any of its pools is in use*.

use std::ptr::NonNull;

use super::PyMalloc;
use super::consts::{MAX_POOLS_IN_ARENA, POOL_SIZE, POOL_SIZE_MASK};
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use super::{consts::POOL_OVERHEAD, size_class::block_size};

/// A pointer to a pool, which is a pointer to its header (CPython's `poolp`).
pub(crate) type PoolP = NonNull<PoolHeader>;

// ANCHOR: pool_header
/// The header at the start of every pool (CPython's `struct pool_header`, field for field).
/// `repr(C)`: the layout is the one the module diagram draws, 48 bytes on 64-bit.
#[repr(C)]
pub(crate) struct PoolHeader {
    /// How many blocks of this pool are handed out (`ref.count`). CPython keeps a `uint` in a
    /// pointer-sized union so the fields after it stay pointer-aligned; a `usize` does the same.
    pub(crate) count: usize,
    /// The head of the pool's free list (LIFO), or `None`: a used pool always has one (it
    /// carves a new block when the list runs out); a full pool has none.
    pub(crate) freeblock: Option<NonNull<u8>>,
    /// The next pool in `usedpools[szidx]` while the pool is used; the next pool in its arena's
    /// `freepools` while it is empty; meaningless while it is full.
    pub(crate) nextpool: Option<PoolP>,
    /// The previous pool in `usedpools[szidx]` (`None` for the first) while the pool is used;
    /// meaningless otherwise.
    pub(crate) prevpool: Option<PoolP>,
    /// The index of the pool's arena object in the arena vector.
    pub(crate) arenaindex: u32,
    /// The pool's size class; [`DUMMY_SIZE_IDX`](super::consts::DUMMY_SIZE_IDX) for a freshly
    /// carved pool. An empty pool keeps the class it last had.
    pub(crate) szidx: u32,
    /// Offset from the pool's start to the first block never handed out ("virgin").
    pub(crate) nextoffset: u32,
    /// The largest `nextoffset` at which a whole block still fits: `POOL_SIZE - block size`.
    pub(crate) maxnextoffset: u32,
}
// ANCHOR_END: pool_header

// ANCHOR: pool_state
/// The three states of a pool once it has been carved off its arena. A pool is in exactly one,
/// and the state says which list holds it:
///
/// | state   | blocks in use        | linked in                         | `freeblock`  |
/// |---------|----------------------|-----------------------------------|--------------|
/// | `Used`  | some, not all        | `usedpools[szidx]`, doubly linked | never `None` |
/// | `Full`  | all                  | nothing                           | `None`       |
/// | `Empty` | none                 | its arena's `freepools`, singly   | kept         |
///
/// Transitions: a new pool starts `Used` (it is carved because a block is needed). An
/// allocation can take a used pool to `Full` (it leaves `usedpools`). A free in a full pool
/// makes it `Used` again, at the *front* of `usedpools` so the freed block is reused next. A
/// free of its last block takes a used pool to `Empty` (it moves to `freepools`); an empty
/// pool becomes `Used` again when `allocate_from_new_pool` takes it, for any size class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PoolState {
    /// Partly used: at least one block is handed out and at least one is available.
    Used,
    /// Every block of the pool is handed out.
    Full,
    /// No block is handed out; the pool waits on its arena's free list, keeping its size class.
    Empty,
}
// ANCHOR_END: pool_state

impl PoolHeader {
    /// The state of the pool, read from the header: no block in use is `Empty`, no free block
    /// is `Full`, anything else `Used`.
    pub(crate) fn state(&self) -> PoolState {
        if self.count == 0 {
            PoolState::Empty
        } else if self.freeblock.is_none() {
            PoolState::Full
        } else {
            PoolState::Used
        }
    }
}

/// The header of `pool`, to read and change.
///
/// # Safety
/// `pool` has been carved off a mapped arena of this allocator (so its header was written by
/// us and stays mapped while the reference is used), and no other reference to this header is
/// in use at the same time.
pub(crate) unsafe fn header<'a>(pool: PoolP) -> &'a mut PoolHeader {
    // SAFETY: the caller promises the header is ours, initialised, mapped and not aliased.
    unsafe { &mut *pool.as_ptr() }
}

/// The header of `pool`, to read only.
///
/// # Safety
/// As for [`header`], except that other shared references to the header may exist.
pub(crate) unsafe fn header_ref<'a>(pool: PoolP) -> &'a PoolHeader {
    // SAFETY: the caller promises the header is ours, initialised, mapped, and not being changed.
    unsafe { &*pool.as_ptr() }
}

/// The pool that the block at `p` lies in: `p` rounded down to [`POOL_SIZE`] (`POOL_ADDR`).
pub(crate) fn pool_of(p: NonNull<u8>) -> PoolP {
    let pool = p.as_ptr().map_addr(|a| a & !POOL_SIZE_MASK);
    NonNull::new(pool.cast()).expect("a block is never in the first pool-sized page of memory")
}

/// Pool number `index` of the arena whose first byte is `arena` (pools are numbered from 0 at
/// the arena's start). Computing it is safe; reading its header is not.
pub(crate) fn pool_at(arena: NonNull<u8>, index: usize) -> PoolP {
    assert!(index < MAX_POOLS_IN_ARENA, "an arena has no pool {index}");
    NonNull::new(arena.as_ptr().wrapping_add(index * POOL_SIZE).cast())
        .expect("an address inside an arena is not null")
}

/// The address `offset` bytes into `pool` (where a block starts, for the offsets blocks have).
/// Computing it is safe; using it is not, and is up to the caller.
pub(crate) fn block_at(pool: PoolP, offset: usize) -> NonNull<u8> {
    assert!(offset < POOL_SIZE, "offset {offset} is outside the pool");
    NonNull::new(pool.as_ptr().cast::<u8>().wrapping_add(offset))
        .expect("an address inside a pool is not null")
}

/// The link stored in the free block `block`: the next free block of its pool, or `None`.
///
/// # Safety
/// `block` is a block of a carved pool of this allocator, on its pool's free list (so its first
/// 8 bytes are a link we wrote, not its former owner's data).
pub(crate) unsafe fn next_free(block: NonNull<u8>) -> Option<NonNull<u8>> {
    // SAFETY: the caller promises `block` is a free block of ours; blocks are 16-byte aligned
    // and at least 16 bytes long, so the 8-byte link is in bounds and aligned.
    unsafe { block.cast::<Option<NonNull<u8>>>().read() }
}

/// Writes the free-list link `next` into the first 8 bytes of the block `block`.
///
/// # Safety
/// `block` is a block of a carved pool of this allocator that nobody else uses: it is being
/// put on its pool's free list (freed or just carved).
pub(crate) unsafe fn set_next_free(block: NonNull<u8>, next: Option<NonNull<u8>>) {
    // SAFETY: as for `next_free`: the block is ours, aligned, long enough, and unused.
    unsafe { block.cast::<Option<NonNull<u8>>>().write(next) }
}

// ANCHOR: init_pool
/// Sets up `pool` to serve blocks of size class `size` (the "initialize the pool header" part of
/// CPython's `allocate_from_new_pool`) and returns its first block, to be handed out.
///
/// After: the header says class `size` (`szidx`); the pool's free list is its second block
/// alone, its link written (`None`), and the rest of the pool is not carved: `nextoffset` is the
/// offset of the third block, where the next block will be carved, and `maxnextoffset` the
/// largest offset at which a whole block still fits. The blocks are the class's block size
/// apart, the first right after the header ([`POOL_OVERHEAD`]).
///
/// `count`, `nextpool`, `prevpool` and `arenaindex` are the caller's business.
///
/// # Safety
/// `pool` has been carved off a mapped arena of this allocator and no block of it is in use
/// (it is new, or empty and being given a new size class).
pub(crate) unsafe fn init_pool(pool: PoolP, size: usize) -> NonNull<u8> {
    // TODO: afterwards the header serves class size: szidx, nextoffset at the third block,
    //       maxnextoffset at the last offset where a whole block fits, and the free list is the
    //       second block alone (its link written); the first block is returned
    todo!()
}
// ANCHOR_END: init_pool

impl PyMalloc {
    // ANCHOR: pool_extend
    /// Called by `pymalloc_alloc` when it has just taken the last block of `pool`'s free list
    /// (CPython's `pymalloc_pool_extend`); `size` is the pool's size class.
    ///
    /// After: if a block never handed out still fits at `nextoffset` (at most `maxnextoffset`),
    /// that block alone is the pool's free list, its link written, and `nextoffset` is the offset
    /// of the block after it; otherwise every block of the pool is in use, and the pool, now
    /// full, is in no `usedpools` list. Either way the first pool of `usedpools[size]`, if any,
    /// has a free block again, the invariant `pymalloc_alloc` relies on.
    pub(crate) fn pymalloc_pool_extend(&mut self, pool: PoolP, size: usize) {
        // TODO: afterwards the pool's free list is the block at nextoffset alone (nextoffset then
        //       past it) if a whole block still fits there; otherwise the pool is full and in no
        //       usedpools list
        todo!()
    }
    // ANCHOR_END: pool_extend
}
