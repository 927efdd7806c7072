//! The tunables of pymalloc, fenced in one place as in `Objects/obmalloc.c`'s "Main tunable
//! settings section", each derived from the one before it, with the invariants they must keep
//! checked by the compiler.
//!
//! The values are CPython 3.11's on a 64-bit platform with the radix tree enabled (the default
//! build): 16-byte alignment, 32 size classes, 16 KiB pools and 1 MiB arenas.
//!
//! ```text
//!   request (bytes)   block size   size class        pools of class c hold
//!   ---------------   ----------   ----------        blocks_per_pool(c) blocks:
//!        1 ..  16          16           0                 1021 for class 0
//!       17 ..  32          32           1                  510 for class 1
//!       33 ..  48          48           2                  340 for class 2
//!          ...            ...          ...                   ...
//!      497 .. 512         512          31                   31 for class 31
//!   0, and 513 and up: passed to the system allocator (C's malloc)
//! ```
//!
//! **One departure.** CPython takes each arena from `mmap` wherever the kernel puts it; when the
//! address is not a multiple of [`POOL_SIZE`], the first partial pool is lost ("bytes lost to
//! arena alignment") and the arena has 63 pools instead of 64. Here every arena comes from
//! [`crate::os::map_aligned`], aligned to [`ARENA_SIZE`], so every arena has exactly
//! [`MAX_POOLS_IN_ARENA`] = 64 pools. That makes two allocators given the same requests take
//! exactly the same decisions, which is what the graded tests compare; it also makes an arena's
//! base `address & !ARENA_SIZE_MASK` for any address inside it.

use super::pool::PoolHeader;

// ANCHOR: consts
/// Every block is aligned to this many bytes, and size classes are this many bytes apart
/// (`ALIGNMENT`; 8 on 32-bit platforms, where the file comment's 8-byte table comes from).
pub const ALIGNMENT: usize = 16;
/// `log2(ALIGNMENT)`: shifting by it turns a number of bytes into a number of 16-byte steps.
pub const ALIGNMENT_SHIFT: u32 = ALIGNMENT.trailing_zeros();

/// The largest request pymalloc serves itself; larger ones (and 0) go to the system allocator.
/// CPython: "a size threshold of 512 guarantees that newly created dictionaries will be allocated
/// from preallocated memory pools on 64-bit".
pub const SMALL_REQUEST_THRESHOLD: usize = 512;
/// How many size classes there are: 512 / 16 = 32.
pub const NB_SMALL_SIZE_CLASSES: usize = SMALL_REQUEST_THRESHOLD / ALIGNMENT;

/// `log2(POOL_SIZE)`. 12 (4 KiB, one page) before 3.10 and without the radix tree.
pub const POOL_BITS: u32 = 14;
/// A pool: 16 KiB holding blocks of one size class, its header in the first bytes.
pub const POOL_SIZE: usize = 1 << POOL_BITS;
/// `address & !POOL_SIZE_MASK` is the pool an address lies in (CPython's `POOL_ADDR`).
pub const POOL_SIZE_MASK: usize = POOL_SIZE - 1;

/// `log2(ARENA_SIZE)`. 18 (256 KiB) before 3.10.
pub const ARENA_BITS: u32 = 20;
/// An arena: 1 MiB mapped from the OS at once, carved into pools.
pub const ARENA_SIZE: usize = 1 << ARENA_BITS;
/// `address & !ARENA_SIZE_MASK` is the arena an address lies in (our arenas are aligned).
pub const ARENA_SIZE_MASK: usize = ARENA_SIZE - 1;
/// Pools per arena: 64, always (see the module documentation for why not 63).
pub const MAX_POOLS_IN_ARENA: usize = ARENA_SIZE / POOL_SIZE;

/// Bytes at the start of every pool taken by its header, rounded up to [`ALIGNMENT`] so that
/// the first block is aligned: 48.
pub const POOL_OVERHEAD: usize = size_of::<PoolHeader>().next_multiple_of(ALIGNMENT);

/// How many arena objects the arena vector starts with; it doubles when they are all in use.
/// "16 = can allocate 16 arenas = 16 * ARENA_SIZE = 4MB before growing the `arenas` vector."
pub const INITIAL_ARENA_OBJECTS: usize = 16;

/// The size class of a freshly carved pool, which has never held a block: no real class has
/// this number, so the "same class as last time" test in `allocate_from_new_pool` fails and
/// the pool gets initialised.
pub const DUMMY_SIZE_IDX: u32 = 0xffff;
// ANCHOR_END: consts

// The invariants the tunables must keep (obmalloc states them in comments and `#error`s).
const _: () = assert!(usize::BITS == 64, "these tunables are the 64-bit ones");
const _: () = assert!(ALIGNMENT.is_power_of_two() && 1 << ALIGNMENT_SHIFT == ALIGNMENT);
const _: () = assert!(
    ALIGNMENT == crate::allocator::BLOCK_ALIGN,
    "blocks are aligned as the Allocator trait promises"
);
const _: () = assert!(
    ALIGNMENT >= size_of::<*mut u8>(),
    "a free block must have room for the free list's link"
);
const _: () = assert!(
    ALIGNMENT <= SMALL_REQUEST_THRESHOLD
        && SMALL_REQUEST_THRESHOLD <= 512
        && SMALL_REQUEST_THRESHOLD.is_multiple_of(ALIGNMENT),
    "1) ALIGNMENT <= SMALL_REQUEST_THRESHOLD <= 512; 2) the threshold is a multiple of ALIGNMENT"
);
const _: () = assert!(
    MAX_POOLS_IN_ARENA * POOL_SIZE == ARENA_SIZE,
    "arena size not an exact multiple of pool size"
);
const _: () = assert!(
    POOL_OVERHEAD == 48,
    "CPython's 64-bit pool header is 48 bytes"
);
const _: () = assert!(
    (POOL_SIZE - POOL_OVERHEAD) / SMALL_REQUEST_THRESHOLD >= 2,
    "every pool holds at least two blocks: a new pool carves two, and 'used' must exist"
);
const _: () = assert!(
    POOL_SIZE <= u32::MAX as usize,
    "offsets into a pool fit the header's u32 fields"
);
const _: () = assert!(
    DUMMY_SIZE_IDX as usize >= NB_SMALL_SIZE_CLASSES,
    "the dummy size class is no real one"
);
