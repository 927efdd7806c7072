//! Graded tests for lab 02, parts (b) and (d): pymalloc (`src/pymalloc/`), and memory going back
//! to the OS.
//!
//! Each test makes its own allocator, asks it for blocks as a small Python program would, and
//! checks *where* each block went ([`PyMalloc::locate`]: arena, pool, block), the lists
//! (`usedpools`, `usable_arenas`, `freepools`) and the statistics, exactly, then runs the
//! invariant checker. pymalloc's policy is deterministic, so every expected location below is
//! the one CPython 3.11 would choose.
//!
//! The last test runs seeded random programs on your allocator and on the reference solution
//! side by side, comparing locations, lists and statistics after every step. The test that runs
//! a whole program with pymalloc as Rust's global allocator is in `tests/global.rs`.
//!
//! Miri cannot run most of these tests: arenas come from `os::map_aligned`, which unmaps part
//! of a mapping, and Miri cannot. Those tests say so; the others run under Miri.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pools::os::resident_bytes;
use pools::pymalloc::consts::{
    ARENA_SIZE, MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE,
};
use pools::pymalloc::{
    ArenaInfo, Location, PoolInfo, PoolState, PyMalloc, block_size, blocks_per_pool, size_class,
};
use pretty_assertions::assert_eq;
use testkit::{XorShift64, catch, check_programs};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Allocates `n` bytes, which must succeed.
fn alloc(heap: &mut PyMalloc, n: usize) -> NonNull<u8> {
    heap.malloc(n)
        .unwrap_or_else(|| panic!("malloc({n}) returned None"))
}

/// Frees a block this test got from `heap` and has not freed yet.
fn free(heap: &mut PyMalloc, p: NonNull<u8>) {
    // SAFETY: every caller passes a block it allocated from `heap` and frees it once.
    unsafe { heap.free(p) }
}

/// Resizes a block this test got from `heap`.
fn realloc(heap: &mut PyMalloc, p: NonNull<u8>, n: usize) -> NonNull<u8> {
    // SAFETY: every caller passes a live block of `heap` and uses only the result afterwards.
    unsafe { heap.realloc(p, n) }.unwrap_or_else(|| panic!("realloc(_, {n}) returned None"))
}

/// Where `p` is, as (arena, pool, block); panics if it is not in an arena.
fn at(heap: &PyMalloc, p: NonNull<u8>) -> (usize, usize, usize) {
    let Location { arena, pool, block } = heap
        .locate(p.as_ptr())
        .unwrap_or_else(|| panic!("the block at {p:p} is in none of the allocator's arenas"));
    (arena, pool, block)
}

/// Panics with the checker's words if an invariant is broken.
fn check(heap: &PyMalloc) {
    if let Err(why) = heap.check_invariants() {
        panic!("check_invariants: {why}");
    }
}

/// The pools of `usedpools[class]`, as (arena, pool).
fn used(heap: &PyMalloc, class: usize) -> Vec<(usize, usize)> {
    heap.usedpools(class)
        .iter()
        .map(|p| (p.arena, p.pool))
        .collect()
}

/// `usable_arenas`, as (arena, nfreepools).
fn usable(heap: &PyMalloc) -> Vec<(usize, usize)> {
    heap.usable_arenas()
        .iter()
        .map(|a| (a.index, a.nfreepools))
        .collect()
}

/// What the header of pool `pool` of arena `arena` says; panics if it is not carved.
fn pool(heap: &PyMalloc, arena: usize, pool: usize) -> PoolInfo {
    heap.pool_info(arena, pool)
        .unwrap_or_else(|| panic!("pool {pool} of arena {arena} has not been carved"))
}

/// Fills `len` bytes at `p` with a pattern made from `seed`: an 8-byte word derived from it,
/// repeated (so that any prefix of the block can be checked, and two blocks with different seeds
/// that overlap are caught).
fn fill(p: NonNull<u8>, len: usize, seed: u64) {
    // SAFETY: the caller's block has at least `len` bytes, and nothing else uses it.
    let bytes = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), len) };
    let word = pattern(seed);
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// Checks the first `len` bytes at `p` still hold `fill`'s pattern for `seed`.
fn holds(p: NonNull<u8>, len: usize, seed: u64) -> bool {
    // SAFETY: the caller's block has at least `len` bytes, written by `fill`.
    let bytes = unsafe { std::slice::from_raw_parts(p.as_ptr(), len) };
    let word = pattern(seed);
    bytes.chunks(8).all(|chunk| chunk == &word[..chunk.len()])
}

fn pattern(seed: u64) -> [u8; 8] {
    (seed ^ 0x5eed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .to_ne_bytes()
}

/// Allocates `count` blocks of `n` bytes.
fn alloc_many(heap: &mut PyMalloc, count: usize, n: usize) -> Vec<NonNull<u8>> {
    (0..count).map(|_| alloc(heap, n)).collect()
}

/// Groups blocks by (arena, pool).
fn by_pool(heap: &PyMalloc, blocks: &[NonNull<u8>]) -> BTreeMap<(usize, usize), Vec<NonNull<u8>>> {
    let mut pools: BTreeMap<(usize, usize), Vec<NonNull<u8>>> = BTreeMap::new();
    for &p in blocks {
        let (arena, pool, _) = at(heap, p);
        pools.entry((arena, pool)).or_default().push(p);
    }
    pools
}

/// Frees every block of pools `pools` of arena `arena` (taking them out of `groups`).
fn free_pools(
    heap: &mut PyMalloc,
    groups: &mut BTreeMap<(usize, usize), Vec<NonNull<u8>>>,
    arena: usize,
    pools: std::ops::Range<usize>,
) {
    for p in pools {
        for block in groups.remove(&(arena, p)).unwrap_or_default() {
            free(heap, block);
        }
    }
}

/// The tests that map tens of arenas and measure the process's resident memory take this lock,
/// so that, when `cargo test` runs tests in parallel, none of them maps or unmaps arenas while
/// another measures. (The grader runs each test alone.)
fn memory_lock() -> MutexGuard<'static, ()> {
    static MEMORY: Mutex<()> = Mutex::new(());
    MEMORY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 512-byte blocks: 31 to a pool, 31 * 64 = 1984 to an arena.
const BIG: usize = 512;
const BIG_PER_ARENA: usize = 31 * MAX_POOLS_IN_ARENA;

// ---------------------------------------------------------------------------------------------
// Size classes
// ---------------------------------------------------------------------------------------------

#[test]
fn size_classes_round_up_to_16() {
    for (n, class) in [
        (1, 0),
        (16, 0),
        (17, 1),
        (32, 1),
        (33, 2),
        (100, 6),
        (497, 31),
        (512, 31),
    ] {
        assert_eq!(size_class(n), Some(class), "size_class({n})");
    }
    assert_eq!(size_class(0), None, "0 bytes go to the system allocator");
    assert_eq!(
        size_class(513),
        None,
        "more than 512 bytes go to the system allocator"
    );
    assert_eq!(size_class(usize::MAX), None);
    for class in 0..NB_SMALL_SIZE_CLASSES {
        assert_eq!(block_size(class), 16 * (class + 1), "block_size({class})");
    }
    for n in 1..=512 {
        let class = size_class(n).expect("1..=512 bytes are small requests");
        let size = block_size(class);
        assert!(
            size >= n && size - n < 16 && size.is_multiple_of(16),
            "a request of {n} bytes gets class {class}, blocks of {size} bytes: they must be the \
             smallest multiple of 16 that holds {n} bytes"
        );
    }
    assert_eq!((blocks_per_pool(0), blocks_per_pool(31)), (1021, 31));
}

#[test]
fn requests_over_512_go_to_the_system() {
    let mut heap = PyMalloc::new();
    let mut blocks = Vec::new();
    for n in [513, 4096, 1 << 16] {
        let p = alloc(&mut heap, n);
        assert!(
            !heap.address_in_range(p.as_ptr()),
            "a request of {n} bytes must be passed to the system allocator, not served from an arena"
        );
        fill(p, n, n as u64);
        blocks.push((p, n));
    }
    let stats = heap.stats();
    assert_eq!(
        stats.arenas_allocated_total, 0,
        "no arena for large requests"
    );
    assert_eq!(stats.raw_allocated_blocks, 3);
    for (p, n) in blocks {
        assert!(holds(p, n, n as u64));
        free(&mut heap, p);
    }
    assert_eq!(heap.stats().raw_allocated_blocks, 0);
    check(&heap);
}

#[test]
fn zero_byte_request_goes_to_the_system() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 0);
    let b = alloc(&mut heap, 0);
    assert_ne!(a, b, "each malloc(0) gets a block of its own");
    assert!(!heap.address_in_range(a.as_ptr()) && !heap.address_in_range(b.as_ptr()));
    assert_eq!(
        heap.stats().arenas_allocated_total,
        0,
        "malloc(0) maps no arena"
    );
    assert_eq!(heap.stats().raw_allocated_blocks, 2);
    free(&mut heap, a);
    free(&mut heap, b);
    assert_eq!(heap.stats().raw_allocated_blocks, 0);
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// The first block: an arena, a pool, a block
// ---------------------------------------------------------------------------------------------

#[test]
fn first_alloc_maps_one_arena() {
    let mut heap = PyMalloc::new();
    assert_eq!(heap.arena_objects(), 0);
    let p = alloc(&mut heap, 24); // size class 1: 32-byte blocks
    assert_eq!(at(&heap, p), (0, 0, 0), "arena 0, pool 0, block 0");
    assert_eq!(
        p.as_ptr().addr() % ARENA_SIZE,
        POOL_OVERHEAD,
        "the first block starts right after the first pool's header"
    );
    assert_eq!(
        heap.arena_objects(),
        16,
        "the arena vector starts with 16 arena objects"
    );
    let stats = heap.stats();
    assert_eq!(
        (
            stats.arenas_allocated_total,
            stats.arenas_allocated_current,
            stats.arenas_highwater,
            stats.arenas_reclaimed
        ),
        (1, 1, 1, 0),
        "(total, current, highwater, reclaimed) arenas"
    );
    assert_eq!(stats.unused_pools, 63, "one pool of 64 taken");
    assert_eq!(stats.classes[1].pools, 1);
    assert_eq!(stats.classes[1].blocks_in_use, 1);
    assert_eq!(stats.classes[1].avail_blocks, 509);
    assert_eq!(
        heap.usable_arenas(),
        vec![ArenaInfo {
            index: 0,
            nfreepools: 63,
            ntotalpools: 64,
            carved_pools: 1
        }]
    );
    assert_eq!(
        used(&heap, 1),
        vec![(0, 0)],
        "the new pool is in usedpools[1]"
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_pool_carves_two_blocks() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 100); // class 6: 112-byte blocks
    assert_eq!(
        pool(&heap, 0, 0),
        PoolInfo {
            arena: 0,
            pool: 0,
            state: PoolState::Used,
            size_class: Some(6),
            blocks_in_use: 1,
            carved_blocks: 2,
            free_list_len: 1
        },
        "a new pool hands out its first block and puts only the second on its free list"
    );
    let b = alloc(&mut heap, 100);
    assert_eq!(b.as_ptr().addr() - a.as_ptr().addr(), 112);
    let info = pool(&heap, 0, 0);
    assert_eq!(
        (info.blocks_in_use, info.carved_blocks, info.free_list_len),
        (2, 3, 1),
        "taking the last listed block carves the next one (pymalloc_pool_extend)"
    );
    // Carving goes on one block at a time, up to the pool's last block.
    for k in 3..blocks_per_pool(6) {
        let p = alloc(&mut heap, 100);
        assert_eq!(at(&heap, p), (0, 0, k - 1));
        let info = pool(&heap, 0, 0);
        assert_eq!(
            (info.blocks_in_use, info.carved_blocks, info.free_list_len),
            (k, k + 1, 1),
            "(blocks in use, carved, on the free list) after {k} allocations"
        );
    }
    check(&heap);
}

#[test]
fn blocks_are_16_byte_aligned_and_disjoint() {
    let mut heap = PyMalloc::new();
    let mut blocks = Vec::new();
    for round in 0..3 {
        for class in 0..NB_SMALL_SIZE_CLASSES {
            for n in [block_size(class) - 15, block_size(class)] {
                let p = alloc(&mut heap, n);
                assert!(
                    p.as_ptr().addr().is_multiple_of(16),
                    "malloc({n}) returned {p:p}, not aligned to 16"
                );
                let seed = (blocks.len() * 7 + round) as u64;
                fill(p, n, seed);
                blocks.push((p, n, seed));
            }
        }
    }
    let mut spans: Vec<(usize, usize)> = blocks
        .iter()
        .map(|&(p, n, _)| (p.as_ptr().addr(), p.as_ptr().addr() + n))
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two blocks overlap: {pair:x?}");
    }
    for &(p, n, seed) in &blocks {
        assert!(holds(p, n, seed), "a block's bytes were overwritten");
        let (_, pool_index, block) = at(&heap, p);
        let info = pool(&heap, 0, pool_index);
        let size = block_size(info.size_class.expect("a used pool has a size class"));
        assert_eq!(
            p.as_ptr().addr() % POOL_SIZE,
            POOL_OVERHEAD + block * size,
            "blocks sit one after the other past the pool header"
        );
    }
    check(&heap);
}

#[test]
fn freed_block_is_reused_first() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 40);
    let b = alloc(&mut heap, 40);
    let c = alloc(&mut heap, 40);
    free(&mut heap, a);
    free(&mut heap, c);
    assert_eq!(
        pool(&heap, 0, 0).free_list_len,
        3,
        "c, a, and the carved block after c"
    );
    assert_eq!(
        alloc(&mut heap, 40),
        c,
        "the free list is LIFO: the last block freed comes first"
    );
    assert_eq!(alloc(&mut heap, 40), a);
    let d = alloc(&mut heap, 40);
    assert_eq!(at(&heap, d), (0, 0, 3), "then the carved block after c");
    assert_eq!(at(&heap, b), (0, 0, 1));
    check(&heap);
}

#[test]
fn empty_pool_keeps_its_size_class() {
    let mut heap = PyMalloc::new();
    let a = alloc_many(&mut heap, 3, 16); // pool 0, class 0, blocks 0 1 2
    let other = alloc(&mut heap, 32); // pool 1
    free(&mut heap, a[0]);
    free(&mut heap, a[2]);
    free(&mut heap, a[1]);
    let info = pool(&heap, 0, 0);
    assert_eq!(info.state, PoolState::Empty);
    assert_eq!(
        info.size_class,
        Some(0),
        "an empty pool keeps its size class"
    );
    assert_eq!(info.free_list_len, 4, "a1, a2, a0 and the carved block 3");
    let again = alloc(&mut heap, 16);
    assert_eq!(
        again, a[1],
        "reused for the same class, the pool keeps its header and free list (no re-initialisation): \
         the block handed out is the head of its old free list"
    );
    assert_eq!(pool(&heap, 0, 0).carved_blocks, 4);
    free(&mut heap, again);
    let b = alloc(&mut heap, 80); // class 4: the empty pool is initialised anew
    assert_eq!(
        b, a[0],
        "for another class the pool is initialised: its first block comes first"
    );
    let info = pool(&heap, 0, 0);
    assert_eq!(
        (info.size_class, info.carved_blocks, info.free_list_len),
        (Some(4), 2, 1)
    );
    free(&mut heap, other);
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// usedpools
// ---------------------------------------------------------------------------------------------

#[test]
fn full_pool_leaves_usedpools() {
    let mut heap = PyMalloc::new();
    let blocks = alloc_many(&mut heap, 31, BIG); // a pool of 512-byte blocks holds 31
    let info = pool(&heap, 0, 0);
    assert_eq!(
        (info.state, info.blocks_in_use, info.free_list_len),
        (PoolState::Full, 31, 0)
    );
    assert_eq!(used(&heap, 31), vec![], "a full pool is in no list");
    let next = alloc(&mut heap, BIG);
    assert_eq!(
        at(&heap, next),
        (0, 1, 0),
        "the next block of the class needs a new pool"
    );
    assert_eq!(used(&heap, 31), vec![(0, 1)]);
    let stats = heap.stats();
    assert_eq!(
        (
            stats.classes[31].pools,
            stats.classes[31].blocks_in_use,
            stats.classes[31].avail_blocks
        ),
        (2, 32, 30)
    );
    assert_eq!(blocks.len(), 31);
    check(&heap);
}

#[test]
fn free_in_full_pool_puts_it_at_the_front() {
    let mut heap = PyMalloc::new();
    let blocks = alloc_many(&mut heap, 62 + 1, BIG); // pools 0 and 1 full, one block in pool 2
    assert_eq!(used(&heap, 31), vec![(0, 2)]);
    free(&mut heap, blocks[5]); // pool 0 was full
    assert_eq!(
        used(&heap, 31),
        vec![(0, 0), (0, 2)],
        "a pool that was full goes to the front of usedpools"
    );
    free(&mut heap, blocks[40]); // pool 1 was full
    assert_eq!(used(&heap, 31), vec![(0, 1), (0, 0), (0, 2)]);
    assert_eq!(
        alloc(&mut heap, BIG),
        blocks[40],
        "the next allocation reuses the block just freed"
    );
    assert_eq!(
        used(&heap, 31),
        vec![(0, 0), (0, 2)],
        "pool 1 is full again"
    );
    assert_eq!(alloc(&mut heap, BIG), blocks[5]);
    assert_eq!(used(&heap, 31), vec![(0, 2)]);
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Freeing pools
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_pool_goes_to_its_arenas_free_list() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 16); // pool 0
    let b = alloc(&mut heap, 32); // pool 1
    let c = alloc(&mut heap, 48); // pool 2
    assert_eq!(usable(&heap), vec![(0, 61)]);
    free(&mut heap, a);
    assert_eq!(pool(&heap, 0, 0).state, PoolState::Empty);
    assert_eq!(used(&heap, 0), vec![], "an empty pool leaves usedpools");
    assert_eq!(
        heap.freepools(0),
        vec![0],
        "and goes to its arena's freepools"
    );
    assert_eq!(usable(&heap), vec![(0, 62)], "nfreepools counts it");
    free(&mut heap, c);
    assert_eq!(heap.freepools(0), vec![2, 0], "most recently emptied first");
    let d = alloc(&mut heap, 64); // class 3: no used pool
    assert_eq!(
        at(&heap, d),
        (0, 2, 0),
        "a cached empty pool is preferred over carving pool 3"
    );
    assert_eq!(pool(&heap, 0, 2).size_class, Some(3));
    assert_eq!(heap.freepools(0), vec![0]);
    assert_eq!(heap.arena_info(0).map(|a| a.carved_pools), Some(3));
    free(&mut heap, b);
    free(&mut heap, d);
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Arenas
// ---------------------------------------------------------------------------------------------

#[test]
fn arena_objects_double_and_are_reused() {
    let _quiet = memory_lock();
    let mut heap = PyMalloc::new();
    let mut blocks = alloc_many(&mut heap, 16 * BIG_PER_ARENA, BIG);
    assert_eq!(heap.stats().arenas_allocated_current, 16);
    assert_eq!(heap.arena_objects(), 16, "16 arena objects hold 16 arenas");
    blocks.push(alloc(&mut heap, BIG));
    assert_eq!(
        heap.arena_objects(),
        32,
        "the 17th arena doubles the vector"
    );
    assert_eq!(at(&heap, blocks[blocks.len() - 1]), (16, 0, 0));
    blocks.extend(alloc_many(&mut heap, 16 * BIG_PER_ARENA - 1, BIG));
    assert_eq!(heap.arena_objects(), 32);
    blocks.push(alloc(&mut heap, BIG));
    assert_eq!(heap.arena_objects(), 64, "the 33rd arena doubles it again");
    // Empty arena 3: it is not the last usable arena, so it is released.
    let mut groups = by_pool(&heap, &blocks);
    free_pools(&mut heap, &mut groups, 3, 0..64);
    assert_eq!(heap.arena_info(3), None, "arena 3 was released");
    // Fill arena 32; the next arena reuses arena object 3, the head of unused_arena_objects.
    let more = alloc_many(&mut heap, BIG_PER_ARENA - 1, BIG);
    let next = alloc(&mut heap, BIG);
    assert_eq!(
        at(&heap, next),
        (3, 0, 0),
        "a new arena takes the arena object released last"
    );
    let stats = heap.stats();
    assert_eq!(
        (
            stats.arenas_allocated_total,
            stats.arenas_reclaimed,
            stats.arenas_highwater,
            stats.arenas_allocated_current
        ),
        (34, 1, 33, 33),
        "(total, reclaimed, highwater, current) arenas"
    );
    assert_eq!(heap.arena_objects(), 64);
    assert_eq!(more.len(), BIG_PER_ARENA - 1);
    check(&heap);
}

/// Three full arenas of 512-byte blocks, then pools freed so that arena 0 has 5 free pools,
/// arena 1 has 2 and arena 2 has 9. Returns the blocks still allocated, by (arena, pool).
fn three_arenas(heap: &mut PyMalloc) -> BTreeMap<(usize, usize), Vec<NonNull<u8>>> {
    let blocks = alloc_many(heap, 3 * BIG_PER_ARENA, BIG);
    assert_eq!(usable(heap), vec![], "full arenas are not usable");
    let mut groups = by_pool(heap, &blocks);
    free_pools(heap, &mut groups, 0, 0..5);
    free_pools(heap, &mut groups, 1, 0..2);
    free_pools(heap, &mut groups, 2, 0..9);
    groups
}

#[test]
fn usable_arenas_most_used_first() {
    let _quiet = memory_lock();
    let mut heap = PyMalloc::new();
    let mut groups = three_arenas(&mut heap);
    assert_eq!(
        usable(&heap),
        vec![(1, 2), (0, 5), (2, 9)],
        "usable_arenas is sorted by increasing nfreepools: (arena, nfreepools)"
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 1, 2..6);
    assert_eq!(
        usable(&heap),
        vec![(0, 5), (1, 6), (2, 9)],
        "arena 1 slid right"
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 1, 6..9);
    assert_eq!(
        usable(&heap),
        vec![(0, 5), (1, 9), (2, 9)],
        "an arena slides only past arenas with fewer free pools"
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 2, 9..10);
    free_pools(&mut heap, &mut groups, 0, 5..12);
    assert_eq!(usable(&heap), vec![(1, 9), (2, 10), (0, 12)]);
    check(&heap);
}

#[test]
fn allocation_prefers_the_fullest_arena() {
    let _quiet = memory_lock();
    let mut heap = PyMalloc::new();
    let _groups = three_arenas(&mut heap);
    // Arena 1 has the fewest free pools: new pools come from it, the pool freed last first.
    let per_pool = blocks_per_pool(24); // 40 blocks of 400 bytes
    let first = alloc_many(&mut heap, per_pool, 400);
    assert_eq!(at(&heap, first[0]), (1, 1, 0));
    assert_eq!(usable(&heap), vec![(1, 1), (0, 5), (2, 9)]);
    let second = alloc(&mut heap, 400);
    assert_eq!(at(&heap, second), (1, 0, 0));
    assert_eq!(
        usable(&heap),
        vec![(0, 5), (2, 9)],
        "an arena with no free pool leaves usable_arenas"
    );
    let third = alloc_many(&mut heap, per_pool, 400);
    assert_eq!(
        at(&heap, third[per_pool - 1]),
        (0, 4, 0),
        "then the next fullest arena"
    );
    assert_eq!(usable(&heap), vec![(0, 4), (2, 9)]);
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Arenas going back to the OS
// ---------------------------------------------------------------------------------------------

#[test]
fn arena_released_when_last_pool_empties() {
    let mut heap = PyMalloc::new();
    let blocks = alloc_many(&mut heap, BIG_PER_ARENA, BIG); // arena 0, full
    let last = alloc(&mut heap, BIG); // arena 1
    assert_eq!(at(&heap, last), (1, 0, 0));
    let (survivor, rest) = blocks.split_last().expect("blocks");
    for &p in rest {
        free(&mut heap, p);
    }
    assert_eq!(
        usable(&heap),
        vec![(0, 63), (1, 63)],
        "one block keeps arena 0 mapped"
    );
    free(&mut heap, *survivor);
    assert_eq!(
        heap.arena_info(0),
        None,
        "the last block freed, arena 0 is released at once"
    );
    assert!(!heap.address_in_range(survivor.as_ptr()));
    assert_eq!(usable(&heap), vec![(1, 63)]);
    let stats = heap.stats();
    assert_eq!(
        (
            stats.arenas_allocated_total,
            stats.arenas_reclaimed,
            stats.arenas_allocated_current
        ),
        (2, 1, 1)
    );
    free(&mut heap, last);
    check(&heap);
}

#[test]
fn one_empty_arena_is_kept() {
    let mut heap = PyMalloc::new();
    // One arena, emptied: it is the last of usable_arenas, so it stays (bpo-37257)...
    let p = alloc(&mut heap, 64);
    free(&mut heap, p);
    assert_eq!(
        usable(&heap),
        vec![(0, 64)],
        "the only arena stays, wholly free"
    );
    // ...and a loop allocating and freeing one block maps no arena after the first.
    for _ in 0..100 {
        let p = alloc(&mut heap, 64);
        free(&mut heap, p);
    }
    assert_eq!(heap.stats().arenas_allocated_total, 1);
    check(&heap);

    // Two arenas: the one emptied first is the last of usable_arenas, so it stays; the other is
    // released when it empties, since an arena follows it.
    let blocks = alloc_many(&mut heap, BIG_PER_ARENA, BIG); // fills arena 0
    let q = alloc(&mut heap, BIG); // arena 1
    assert_eq!(at(&heap, q), (1, 0, 0));
    free(&mut heap, q);
    assert_eq!(
        usable(&heap),
        vec![(1, 64)],
        "arena 1, wholly free, is kept"
    );
    for p in blocks {
        free(&mut heap, p);
    }
    assert_eq!(
        usable(&heap),
        vec![(1, 64)],
        "arena 0 was released: at most one wholly free arena is kept"
    );
    let stats = heap.stats();
    assert_eq!(
        (stats.arenas_reclaimed, stats.arenas_allocated_current),
        (1, 1)
    );
    check(&heap);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the resident memory from /proc, which Miri isolates"
)]
fn memory_goes_back_to_the_os() {
    let _quiet = memory_lock();
    let mut heap = PyMalloc::new();
    let count = (64 << 20) / 32; // 64 MiB of 32-byte blocks
    let mut blocks = Vec::with_capacity(count);
    blocks.resize(count, NonNull::dangling()); // make the vector itself resident now
    let before = resident_bytes();
    for slot in blocks.iter_mut() {
        let p = alloc(&mut heap, 32);
        // SAFETY: a fresh 32-byte block: touching it makes its page resident.
        unsafe { p.as_ptr().cast::<u64>().write(0x5eed) };
        *slot = p;
    }
    let peak = resident_bytes();
    let stats = heap.stats();
    let per_arena = blocks_per_pool(1) * MAX_POOLS_IN_ARENA;
    let arenas = count.div_ceil(per_arena);
    assert_eq!(stats.arenas_allocated_current, arenas);
    for &p in &blocks {
        free(&mut heap, p);
    }
    let after = resident_bytes();
    let stats = heap.stats();
    assert_eq!(stats.blocks_in_use(), 0);
    assert_eq!(
        (stats.arenas_allocated_current, stats.arenas_reclaimed),
        (1, arenas - 1),
        "every arena but the last usable one is released"
    );
    check(&heap);
    // The process's resident memory shows it (Linux only: /proc/self/statm).
    if let (Some(before), Some(peak), Some(after)) = (before, peak, after) {
        let mib = |bytes: usize| bytes as f64 / f64::from(1 << 20);
        assert!(
            peak.saturating_sub(before) >= 48 << 20,
            "allocating 64 MiB of blocks raised resident memory by only {:.1} MiB",
            mib(peak.saturating_sub(before))
        );
        assert!(
            peak.saturating_sub(after) >= 32 << 20,
            "freeing 64 MiB of blocks lowered resident memory by only {:.1} MiB: the arenas \
             must be unmapped (before {:.1}, peak {:.1}, after {:.1} MiB)",
            mib(peak.saturating_sub(after)),
            mib(before),
            mib(peak),
            mib(after)
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the resident memory from /proc, which Miri isolates"
)]
fn one_survivor_pins_its_arena() {
    let _quiet = memory_lock();
    let mut heap = PyMalloc::new();
    let arenas = 16;
    let count = arenas * blocks_per_pool(1) * MAX_POOLS_IN_ARENA; // 16 full arenas
    let mut blocks = Vec::with_capacity(count);
    for _ in 0..count {
        let p = alloc(&mut heap, 32);
        // SAFETY: a fresh 32-byte block: touching it makes its page resident.
        unsafe { p.as_ptr().cast::<u64>().write(0x5eed) };
        blocks.push(p);
    }
    assert_eq!(heap.stats().arenas_allocated_current, arenas);
    let peak = resident_bytes();
    // Free everything but the first block of each arena.
    let mut survivors = Vec::new();
    for &p in &blocks {
        if matches!(at(&heap, p), (_, 0, 0)) {
            survivors.push(p);
        } else {
            free(&mut heap, p);
        }
    }
    let after = resident_bytes();
    let stats = heap.stats();
    assert_eq!(survivors.len(), arenas);
    assert_eq!(stats.blocks_in_use(), arenas);
    assert_eq!(
        (stats.arenas_allocated_current, stats.arenas_reclaimed),
        (arenas, 0),
        "one live block keeps its whole arena mapped"
    );
    assert!(usable(&heap).iter().all(|&(_, nf)| nf == 63));
    check(&heap);
    if let (Some(peak), Some(after)) = (peak, after) {
        assert!(
            peak.saturating_sub(after) < 8 << 20,
            "16 arenas pinned by one block each must stay resident, but resident memory fell \
             by {} KiB",
            peak.saturating_sub(after) >> 10
        );
    }
    for p in survivors {
        free(&mut heap, p);
    }
    assert_eq!(
        heap.stats().arenas_allocated_current,
        1,
        "freed at last, all but one go back"
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// realloc
// ---------------------------------------------------------------------------------------------

#[test]
fn realloc_shrinking_by_less_than_a_quarter_stays() {
    let mut heap = PyMalloc::new();
    let p = alloc(&mut heap, 64); // class 3, 64-byte blocks
    assert_eq!(realloc(&mut heap, p, 64), p, "the same size stays");
    assert_eq!(realloc(&mut heap, p, 60), p);
    assert_eq!(
        realloc(&mut heap, p, 49),
        p,
        "49 of 64 bytes: less than a quarter would be saved (4 * 49 > 3 * 64), so it stays"
    );
    let q = realloc(&mut heap, p, 48);
    assert_ne!(q, p, "48 of 64 bytes saves a quarter: the block moves");
    let (arena, pool_index, _) = at(&heap, q);
    assert_eq!(
        pool(&heap, arena, pool_index).size_class,
        Some(2),
        "to 48-byte blocks"
    );
    assert_eq!(
        heap.stats().classes[3].blocks_in_use,
        0,
        "the old block was freed"
    );
    let r = realloc(&mut heap, q, 49);
    assert_ne!(r, q, "a block never grows past its size class in place");
    let s = realloc(&mut heap, r, 600);
    assert!(
        !heap.address_in_range(s.as_ptr()),
        "past 512 bytes, to the system"
    );
    let t = realloc(&mut heap, s, 100);
    assert!(
        !heap.address_in_range(t.as_ptr()),
        "a block of the system allocator stays with it, whatever its new size"
    );
    assert_eq!(heap.stats().raw_allocated_blocks, 1);
    let u = alloc(&mut heap, 64);
    let v = realloc(&mut heap, u, 0);
    assert!(
        !heap.address_in_range(v.as_ptr()),
        "realloc to 0 bytes gives a system block"
    );
    free(&mut heap, t);
    free(&mut heap, v);
    assert_eq!(heap.stats().blocks_in_use(), 0);
    assert_eq!(heap.stats().raw_allocated_blocks, 0);
    check(&heap);
}

#[test]
fn realloc_keeps_the_payload() {
    let mut heap = PyMalloc::new();
    let sizes = [
        1, 16, 17, 100, 500, 512, 513, 3000, 300, 200, 20, 8, 511, 40,
    ];
    let mut p = alloc(&mut heap, sizes[0]);
    fill(p, sizes[0], 0);
    for (step, pair) in sizes.windows(2).enumerate() {
        let (old, new) = (pair[0], pair[1]);
        p = realloc(&mut heap, p, new);
        assert!(
            holds(p, old.min(new), step as u64),
            "realloc from {old} to {new} bytes lost the first {} bytes",
            old.min(new)
        );
        fill(p, new, step as u64 + 1);
        check(&heap);
    }
    free(&mut heap, p);
    let stats = heap.stats();
    assert_eq!((stats.blocks_in_use(), stats.raw_allocated_blocks), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

#[test]
fn stats_match_debugmallocstats_counters() {
    let mut heap = PyMalloc::new();
    let small = alloc_many(&mut heap, 1022, 16); // one pool of 1021 blocks, and one more
    let big = alloc_many(&mut heap, 50, 500); // 31 to a pool: 2 pools
    let expected = "\
Small block threshold = 512, in 32 size classes.

class   size   num pools   blocks in use  avail blocks
-----   ----   ---------   -------------  ------------
    0     16           2            1022          1020
   31    512           2              50            12

# arenas allocated total           =                    1
# arenas reclaimed                 =                    0
# arenas highwater mark            =                    1
# arenas allocated current         =                    1
1 arenas * 1048576 bytes/arena     =            1,048,576

# bytes in allocated blocks        =               41,952
# bytes in available blocks        =               22,464
60 unused pools * 16384 bytes      =              983,040
# bytes lost to pool headers       =                  192
# bytes lost to quantization       =                  928
# bytes lost to arena alignment    =                    0
Total                              =            1,048,576

arena map counts
# arena map mid nodes              =                    1
# arena map bot nodes              =                    1

# bytes lost to arena map root     =              262,144
# bytes lost to arena map mid      =              262,144
# bytes lost to arena map bot      =               65,536
Total                              =              589,824

system allocator (requests of 0 or more than 512 bytes)
# raw allocated blocks             =                    0
";
    assert_eq!(heap.debug_malloc_stats(), expected);
    let stats = heap.stats();
    assert_eq!((stats.blocks_in_use(), stats.pools_in_use()), (1072, 4));
    for p in small.into_iter().chain(big) {
        free(&mut heap, p);
    }
    let stats = heap.stats();
    assert_eq!(
        (
            stats.blocks_in_use(),
            stats.pools_in_use(),
            stats.unused_pools,
            stats.arenas_allocated_current
        ),
        (0, 0, 64, 1),
        "(blocks in use, pools in use, unused pools, arenas) after freeing everything"
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Random programs, compared with the reference
// ---------------------------------------------------------------------------------------------

/// How many blocks a random program names (its "slots"). Bulk operations fill and empty
/// whole regions of slots: a region of 512-byte blocks takes a quarter of an arena.
const SLOTS: usize = 8000;
const REGION: usize = 500;

/// One step of a random program. Slots name blocks; an operation on an empty slot (or an
/// allocation into a full one) does nothing.
#[derive(Clone, Debug)]
enum Op {
    /// Allocate `size` bytes into `slot`.
    Malloc { slot: usize, size: usize },
    /// Free the block in `slot`.
    Free { slot: usize },
    /// Resize the block in `slot` to `size` bytes.
    Realloc { slot: usize, size: usize },
    /// Allocate `size` bytes into each empty slot of region `region`.
    FillRegion { region: usize, size: usize },
    /// Free every block of region `region`.
    FreeRegion { region: usize },
    /// Free every `step`-th live block of region `region`, counting from `offset`.
    Sweep {
        region: usize,
        offset: usize,
        step: usize,
    },
    /// Free every block.
    FreeAll,
}

/// A request size: mostly small, as in workload A, sometimes 0 or past 512.
fn random_size(rng: &mut XorShift64) -> usize {
    match rng.below(100) {
        0..=2 => 0,
        3..=5 => 513 + rng.below(1500),
        6..=50 => 1 + rng.below(64),
        51..=80 => 65 + rng.below(64),
        81..=92 => 129 + rng.below(128),
        _ => 257 + rng.below(256),
    }
}

/// A random program of one of two kinds. *Block* programs do single operations on the first
/// two regions, with sizes of every class: they test pools, free lists and usedpools. *Arena*
/// programs fill and drain whole regions, mostly with large blocks: they map several arenas,
/// reorder them and release them.
fn random_program(rng: &mut XorShift64) -> Vec<Op> {
    // The lowest bit of the first number (small seeds make the high bits zero at first).
    if rng.next_u64() & 1 == 0 {
        (0..200).map(|_| block_op(rng)).collect()
    } else {
        (0..80).map(|_| arena_op(rng)).collect()
    }
}

fn block_op(rng: &mut XorShift64) -> Op {
    let slot = rng.below(2 * REGION);
    match rng.below(100) {
        0..=44 => Op::Malloc {
            slot,
            size: random_size(rng),
        },
        45..=74 => Op::Free { slot },
        75..=94 => Op::Realloc {
            slot,
            size: random_size(rng),
        },
        95..=97 => Op::FillRegion {
            region: rng.below(2),
            size: random_size(rng),
        },
        _ => Op::Sweep {
            region: rng.below(2),
            offset: rng.below(2),
            step: 2 + rng.below(3),
        },
    }
}

fn arena_op(rng: &mut XorShift64) -> Op {
    let region = rng.below(SLOTS / REGION);
    match rng.below(100) {
        0..=49 => Op::FillRegion {
            region,
            size: if rng.chance(70) {
                449 + rng.below(64)
            } else {
                random_size(rng)
            },
        },
        50..=64 => Op::FreeRegion { region },
        65..=84 => Op::Sweep {
            region,
            offset: rng.below(2),
            step: 2 + rng.below(3),
        },
        85..=87 => Op::FreeAll,
        88..=93 => Op::Malloc {
            slot: rng.below(SLOTS),
            size: random_size(rng),
        },
        _ => Op::Free {
            slot: rng.below(SLOTS),
        },
    }
}

/// An allocator the random programs run on: yours or the reference's.
trait Heap {
    fn malloc(&mut self, n: usize) -> Option<NonNull<u8>>;
    /// # Safety
    /// `p` is a live block of this heap.
    unsafe fn free(&mut self, p: NonNull<u8>);
    /// # Safety
    /// `p` is a live block of this heap.
    unsafe fn realloc(&mut self, p: NonNull<u8>, n: usize) -> Option<NonNull<u8>>;
    fn place(&self, p: NonNull<u8>) -> Place;
    /// Statistics, lists and arenas, as text.
    fn snapshot(&self) -> String;
    fn invariants(&self) -> Result<(), String>;
}

macro_rules! heap_for {
    ($krate:ident) => {
        impl Heap for $krate::pymalloc::PyMalloc {
            fn malloc(&mut self, n: usize) -> Option<NonNull<u8>> {
                $krate::pymalloc::PyMalloc::malloc(self, n)
            }
            unsafe fn free(&mut self, p: NonNull<u8>) {
                // SAFETY: the caller's promise.
                unsafe { $krate::pymalloc::PyMalloc::free(self, p) }
            }
            unsafe fn realloc(&mut self, p: NonNull<u8>, n: usize) -> Option<NonNull<u8>> {
                // SAFETY: the caller's promise.
                unsafe { $krate::pymalloc::PyMalloc::realloc(self, p, n) }
            }
            fn place(&self, p: NonNull<u8>) -> Place {
                self.locate(p.as_ptr()).map(|l| (l.arena, l.pool, l.block))
            }
            fn snapshot(&self) -> String {
                let mut text = self.debug_malloc_stats();
                text.push_str("\nusable_arenas (arena: nfreepools):");
                for a in self.usable_arenas() {
                    text.push_str(&format!(" {}: {}", a.index, a.nfreepools));
                    let free = self.freepools(a.index);
                    if !free.is_empty() {
                        text.push_str(&format!(" (freepools {free:?})"));
                    }
                }
                text.push_str("\nusedpools (class: arena/pool in use), first to last:\n");
                for class in 0..NB_SMALL_SIZE_CLASSES {
                    let pools = self.usedpools(class);
                    if pools.is_empty() {
                        continue;
                    }
                    text.push_str(&format!("  {class:>2}:"));
                    for p in pools {
                        text.push_str(&format!(" {}/{} {}", p.arena, p.pool, p.blocks_in_use));
                    }
                    text.push('\n');
                }
                text
            }
            fn invariants(&self) -> Result<(), String> {
                self.check_invariants()
            }
        }
    };
}

heap_for!(pools);
heap_for!(reference);

/// A random program running on one heap: the block in each slot, with its size and the seed
/// of the pattern written in it.
struct Run<H: Heap> {
    heap: H,
    slots: Vec<Option<(NonNull<u8>, usize, u64)>>,
    /// Operations done so far (seeds the patterns).
    clock: u64,
}

impl<H: Heap> Run<H> {
    fn new(heap: H) -> Self {
        Run {
            heap,
            slots: vec![None; SLOTS],
            clock: 0,
        }
    }

    fn malloc(&mut self, slot: usize, size: usize) {
        if self.slots[slot].is_some() {
            return;
        }
        self.clock += 1;
        let p = self.heap.malloc(size).expect("malloc returned None");
        fill(p, size, self.clock);
        self.slots[slot] = Some((p, size, self.clock));
    }

    fn free(&mut self, slot: usize) {
        if let Some((p, size, seed)) = self.slots[slot].take() {
            assert!(
                holds(p, size, seed),
                "the block in slot {slot} ({size} bytes) was overwritten before it was freed"
            );
            // SAFETY: the block is live in this heap and freed once (its slot is now empty).
            unsafe { self.heap.free(p) };
        }
    }

    fn realloc(&mut self, slot: usize, size: usize) {
        let Some((p, old, seed)) = self.slots[slot] else {
            return;
        };
        assert!(
            holds(p, old, seed),
            "the block in slot {slot} ({old} bytes) was overwritten before realloc"
        );
        // SAFETY: the block is live in this heap; only the result is used afterwards.
        let q = unsafe { self.heap.realloc(p, size) }.expect("realloc returned None");
        assert!(
            holds(q, old.min(size), seed),
            "realloc from {old} to {size} bytes lost the block's first {} bytes",
            old.min(size)
        );
        self.clock += 1;
        fill(q, size, self.clock);
        self.slots[slot] = Some((q, size, self.clock));
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Malloc { slot, size } => self.malloc(slot, size),
            Op::Free { slot } => self.free(slot),
            Op::Realloc { slot, size } => self.realloc(slot, size),
            Op::FillRegion { region, size } => {
                for slot in region * REGION..(region + 1) * REGION {
                    self.malloc(slot, size);
                }
            }
            Op::FreeRegion { region } => {
                for slot in region * REGION..(region + 1) * REGION {
                    self.free(slot);
                }
            }
            Op::FreeAll => {
                for slot in 0..SLOTS {
                    self.free(slot);
                }
            }
            Op::Sweep {
                region,
                offset,
                step,
            } => {
                let live: Vec<usize> = (region * REGION..(region + 1) * REGION)
                    .filter(|&s| self.slots[s].is_some())
                    .collect();
                for (i, slot) in live.into_iter().enumerate() {
                    if i % step == offset {
                        self.free(slot);
                    }
                }
            }
        }
    }
}

/// Where a block is, as (arena, pool, block); `None` for a block of the system allocator.
type Place = Option<(usize, usize, usize)>;

/// The first live slot whose block is not where the reference put it: (slot, size, where it is
/// in yours, where it is in the reference's). Both runs have the same slots live, as they run
/// the same program.
fn first_misplaced<A: Heap, B: Heap>(
    theirs: &Run<A>,
    yours: &Run<B>,
) -> Option<(usize, usize, Place, Place)> {
    for slot in 0..SLOTS {
        if let (Some((want, size, _)), Some((got, _, _))) = (theirs.slots[slot], yours.slots[slot])
        {
            let (want, got) = (theirs.heap.place(want), yours.heap.place(got));
            if want != got {
                return Some((slot, size, got, want));
            }
        }
    }
    None
}

/// Runs `program` on the reference and on your allocator in lockstep, comparing after every
/// step: your invariants, then where every live block is, then the statistics and lists.
fn compare_with_reference(program: &[Op]) -> Result<(), String> {
    let mut theirs = Run::new(reference::pymalloc::PyMalloc::new());
    let mut yours = Run::new(pools::pymalloc::PyMalloc::new());
    for (step, op) in program.iter().enumerate() {
        theirs.apply(op);
        catch(|| yours.apply(op))
            .map_err(|panic| format!("step {step}, `{op:?}`: your allocator {panic}"))?;
        let after = |what: String| format!("after step {step}, `{op:?}`, {what}");
        catch(|| yours.heap.invariants())
            .and_then(|r| r)
            .map_err(|why| after(format!("check_invariants fails: {why}")))?;
        if let Some((slot, size, got, want)) = first_misplaced(&theirs, &yours) {
            return Err(after(format!(
                "the block in slot {slot} ({size} bytes) is at {got:?} (arena, pool, block) in \
                 your allocator, at {want:?} in the reference"
            )));
        }
        let (want, got) = (
            theirs.heap.snapshot(),
            catch(|| yours.heap.snapshot()).map_err(|p| after(format!("your allocator {p}")))?,
        );
        if want != got {
            return Err(after(format!(
                "your allocator's statistics or lists differ from the reference's \
                 (< reference, > yours):\n{}",
                pretty_assertions::StrComparison::new(&want, &got)
            )));
        }
    }
    Ok(())
}

#[test]
fn random_programs_match_the_reference() {
    let _quiet = memory_lock();
    check_programs(
        "random pymalloc programs",
        0..12,
        random_program,
        compare_with_reference,
    );
}
