//! Graded tests for lab 02, parts (b) and (d): pymalloc (`src/pymalloc/`), and memory going back
//! to the OS.
//!
//! In the order of the book's sections. The first tests run one task at a time through
//! [`PyMalloc::steps`] (a new arena, a new pool, the lists of used pools), before `malloc` can
//! run them together; from the first allocation on, each test makes its own allocator, asks it
//! for blocks as a small Python program would, and checks *where* each block went
//! ([`PyMalloc::locate`]: arena, pool, block), the lists (`usedpools`, `usable_arenas`,
//! `freepools`) and the statistics, exactly, then runs the invariant checker. pymalloc's policy
//! is deterministic, so every expected location below is the one CPython 3.11 would choose.
//!
//! The last tests run seeded random programs on your allocator and on the reference solution
//! side by side, comparing locations, lists and statistics after every step. The test that runs
//! a whole program with pymalloc as Rust's global allocator is in `tests/global.rs`.
//!
//! CI runs Miri on `tests/bump.rs` and `tests/global.rs`, not on this file: its tests map many
//! arenas and would take hours under Miri, and the two that read the process's resident memory
//! from /proc cannot run there at all (they say so).

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pools::os::resident_bytes;
use pools::pymalloc::consts::{
    ARENA_SIZE, MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE,
};
use pools::pymalloc::{
    Location, PoolId, PoolInfo, PoolState, PyMalloc, block_size, blocks_per_pool, size_class,
};
use testkit::{XorShift64, assert_expected, catch, check_programs};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Allocates `n` bytes, which must succeed.
#[track_caller]
fn alloc(heap: &mut PyMalloc, n: usize) -> NonNull<u8> {
    heap.malloc(n)
        .unwrap_or_else(|| panic!("malloc({n}) returned None: expected a block"))
}

/// Frees a block this test got from `heap` and has not freed yet.
fn free(heap: &mut PyMalloc, p: NonNull<u8>) {
    // SAFETY: every caller passes a block it allocated from `heap` and frees it once.
    unsafe { heap.free(p) }
}

/// Resizes a block this test got from `heap`.
#[track_caller]
fn realloc(heap: &mut PyMalloc, p: NonNull<u8>, n: usize) -> NonNull<u8> {
    // SAFETY: every caller passes a live block of `heap` and uses only the result afterwards.
    unsafe { heap.realloc(p, n) }
        .unwrap_or_else(|| panic!("realloc(_, {n}) returned None: expected a block"))
}

/// Where `p` is, as (arena, pool, block); panics if it is not in an arena.
#[track_caller]
fn at(heap: &PyMalloc, p: NonNull<u8>) -> (usize, usize, usize) {
    let Location { arena, pool, block } = heap.locate(p.as_ptr()).unwrap_or_else(|| {
        panic!("the block at {p:p} is in none of the allocator's arenas: expected a pool's block")
    });
    (arena, pool, block)
}

/// Panics with the checker's words if an invariant is broken.
#[track_caller]
fn check(heap: &PyMalloc) {
    if let Err(why) = heap.check_invariants() {
        panic!("check_invariants: {why}");
    }
}

/// The pools of `usedpools[class]`, first to last, as (arena, pool).
fn used(heap: &PyMalloc, class: usize) -> Vec<(usize, usize)> {
    heap.usedpools(class)
        .iter()
        .map(|p| (p.arena, p.pool))
        .collect()
}

/// `usable_arenas`, first to last, as (arena, nfreepools).
fn usable(heap: &PyMalloc) -> Vec<(usize, usize)> {
    heap.usable_arenas()
        .iter()
        .map(|a| (a.index, a.nfreepools))
        .collect()
}

/// What the header of pool `pool` of arena `arena` says; panics if it is not carved.
#[track_caller]
fn pool(heap: &PyMalloc, arena: usize, pool: usize) -> PoolInfo {
    heap.pool_info(arena, pool)
        .unwrap_or_else(|| panic!("pool {pool} of arena {arena} has not been carved"))
}

/// A pool's name in the messages: `pool 2 of arena 0`.
fn name(arena: usize, pool: usize) -> String {
    PoolId { arena, pool }.to_string()
}

/// The pools of a list, by name, in the order given.
fn names(pools: &[PoolInfo]) -> Vec<String> {
    pools.iter().map(|p| name(p.arena, p.pool)).collect()
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
#[track_caller]
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

/// The arena counters of the statistics: (allocated total, reclaimed, highwater, current).
fn arena_counters(heap: &PyMalloc) -> (usize, usize, usize, usize) {
    let stats = heap.stats();
    (
        stats.arenas_allocated_total,
        stats.arenas_reclaimed,
        stats.arenas_highwater,
        stats.arenas_allocated_current,
    )
}

/// What `what` says after a step of the test, unwrapped: a refused step is the test's own bug,
/// or your function broke what the step checks before it runs.
#[track_caller]
fn step<T>(what: &str, result: Result<T, pools::pymalloc::StepError>) -> T {
    result.unwrap_or_else(|e| panic!("{what} was refused: {e}"))
}

/// Maps an arena with your `new_arena` and carves `count` pools off it, each set up by your
/// `init_pool` for size class `class`: pools 0, 1, ... of arena 0.
#[track_caller]
fn carved_pools(heap: &mut PyMalloc, count: usize, class: usize) -> Vec<PoolId> {
    let arena = heap
        .steps()
        .new_arena()
        .expect("new_arena returned None: expected arena object 0");
    (0..count)
        .map(|_| {
            let pool = step("carve_pool", heap.steps().carve_pool(arena));
            step("init_pool", heap.steps().init_pool(pool, class));
            pool
        })
        .collect()
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
        assert_expected(
            &format!("size_class({n}): the smallest class whose blocks hold {n} bytes"),
            &Some(class),
            &size_class(n),
        );
    }
    assert_expected(
        "size_class(0): 0 bytes go to the system allocator",
        &None,
        &size_class(0),
    );
    assert_expected(
        "size_class(513): more than 512 bytes go to the system allocator",
        &None,
        &size_class(513),
    );
    assert_expected("size_class(usize::MAX)", &None, &size_class(usize::MAX));
    for class in 0..NB_SMALL_SIZE_CLASSES {
        assert_expected(
            &format!("block_size({class})"),
            &(16 * (class + 1)),
            &block_size(class),
        );
    }
    for n in 1..=512 {
        let class = size_class(n)
            .unwrap_or_else(|| panic!("size_class({n}) is None: 1 to 512 bytes are pymalloc's"));
        let size = block_size(class);
        assert!(
            size >= n && size - n < 16 && size.is_multiple_of(16),
            "a request of {n} bytes gets class {class}, blocks of {size} bytes: expected the \
             smallest multiple of 16 that holds {n} bytes"
        );
    }
    assert_expected(
        "blocks per pool of class 0 and of class 31 (given, from your block_size)",
        &(1021, 31),
        &(blocks_per_pool(0), blocks_per_pool(31)),
    );
}

#[test]
fn requests_over_512_go_to_the_system() {
    let mut heap = PyMalloc::new();
    let mut blocks = Vec::new();
    for n in [513, 4096, 1 << 16] {
        let p = alloc(&mut heap, n);
        assert!(
            !heap.address_in_range(p.as_ptr()),
            "malloc({n}) returned a block inside an arena: expected pymalloc_alloc to refuse a \
             request of more than 512 bytes, so that it goes to the system allocator"
        );
        fill(p, n, n as u64);
        blocks.push((p, n));
    }
    let stats = heap.stats();
    assert_expected(
        "arenas mapped after three large requests",
        &0,
        &stats.arenas_allocated_total,
    );
    assert_expected(
        "blocks of the system allocator after three large requests",
        &3,
        &stats.raw_allocated_blocks,
    );
    for (p, n) in blocks {
        assert!(
            holds(p, n, n as u64),
            "the block of {n} bytes was overwritten"
        );
        free(&mut heap, p);
    }
    assert_expected(
        "blocks of the system allocator once all three are freed",
        &0,
        &heap.stats().raw_allocated_blocks,
    );
    check(&heap);
}

#[test]
fn zero_byte_request_goes_to_the_system() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 0);
    let b = alloc(&mut heap, 0);
    assert!(
        a != b,
        "malloc(0) returned the same block twice ({a:p}): expected a block of its own each time"
    );
    assert!(
        !heap.address_in_range(a.as_ptr()) && !heap.address_in_range(b.as_ptr()),
        "malloc(0) returned a block inside an arena: expected pymalloc_alloc to refuse 0 bytes"
    );
    assert_expected(
        "arenas mapped after malloc(0) twice",
        &0,
        &heap.stats().arenas_allocated_total,
    );
    assert_expected(
        "blocks of the system allocator after malloc(0) twice",
        &2,
        &heap.stats().raw_allocated_blocks,
    );
    free(&mut heap, a);
    free(&mut heap, b);
    assert_expected(
        "blocks of the system allocator once both are freed",
        &0,
        &heap.stats().raw_allocated_blocks,
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// A new arena
// ---------------------------------------------------------------------------------------------

#[test]
fn new_arena_maps_one_aligned_arena() {
    let mut heap = PyMalloc::new();
    let first = heap.steps().new_arena();
    assert_expected(
        "new_arena on a new allocator: the arena object it used",
        &Some(0),
        &first,
    );
    assert_expected(
        "arena objects after the first new_arena (INITIAL_ARENA_OBJECTS)",
        &16,
        &heap.arena_objects(),
    );
    assert_expected(
        "arena 0 after new_arena: (nfreepools, ntotalpools, carved pools)",
        &Some((64, 64, 0)),
        &heap
            .arena_info(0)
            .map(|a| (a.nfreepools, a.ntotalpools, a.carved_pools)),
    );
    let start = heap
        .arena_address(0)
        .expect("arena object 0 has no arena behind it: expected new_arena to map one");
    assert!(
        start.addr().is_multiple_of(ARENA_SIZE),
        "arena 0 starts at {start:p}, which is not a multiple of ARENA_SIZE (1 MiB): expected an \
         arena from os::map_aligned(ARENA_SIZE, ARENA_SIZE)"
    );
    assert!(
        heap.address_in_range(start) && heap.address_in_range(start.wrapping_add(ARENA_SIZE - 1)),
        "address_in_range says arena 0's first or last byte is not in an arena: expected \
         new_arena to mark the arena in the arena map, or free could not find its blocks"
    );
    assert_expected(
        "arena counters after one new_arena: (allocated total, reclaimed, highwater, current)",
        &(1, 0, 1, 1),
        &arena_counters(&heap),
    );
    assert_expected(
        "unused pools after one new_arena: all 64 of the arena",
        &64,
        &heap.stats().unused_pools,
    );

    let second = heap.steps().new_arena();
    assert_expected(
        "a second new_arena: the next arena object (arena object 0 is no longer unused)",
        &Some(1),
        &second,
    );
    let other = heap
        .arena_address(1)
        .expect("arena object 1 has no arena behind it: expected new_arena to map one");
    assert!(
        other != start && heap.address_in_range(other),
        "arena 1 starts at {other:p} (arena 0 at {start:p}): expected an arena of its own, in \
         the arena map"
    );
    assert_expected(
        "arena counters after two new_arena: (allocated total, reclaimed, highwater, current)",
        &(2, 0, 2, 2),
        &arena_counters(&heap),
    );
}

#[test]
fn arena_objects_double_when_all_are_in_use() {
    let mut heap = PyMalloc::new();
    let mut taken = Vec::new();
    let mut objects = Vec::new();
    for _ in 0..33 {
        taken.push(heap.steps().new_arena());
        objects.push(heap.arena_objects());
    }
    let expected: Vec<Option<usize>> = (0..33).map(Some).collect();
    assert_expected(
        "the arena objects 33 calls of new_arena took, in order",
        &expected,
        &taken,
    );
    let mut sizes = vec![16; 16];
    sizes.extend([32; 16]);
    sizes.push(64);
    assert_expected(
        "the number of arena objects after each of the 33 calls: 16, doubled only when every \
         object has an arena (the 17th and the 33rd call)",
        &sizes,
        &objects,
    );
    assert_expected(
        "arena counters after 33 new_arena: (allocated total, reclaimed, highwater, current)",
        &(33, 0, 33, 33),
        &arena_counters(&heap),
    );
}

// ---------------------------------------------------------------------------------------------
// A new pool
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_pool_carves_two_blocks() {
    let mut heap = PyMalloc::new();
    let arena = heap
        .steps()
        .new_arena()
        .expect("new_arena returned None: expected arena object 0");
    // Three pools, for the classes of 112-byte blocks, of 512-byte blocks and of 16-byte blocks.
    for (index, class) in [(0, 6), (1, 31), (2, 0)] {
        let size = block_size(class);
        let p = step("carve_pool", heap.steps().carve_pool(arena));
        let first = step("init_pool", heap.steps().init_pool(p, class));
        let where_ = format!("{p}, set up for class {class} ({size}-byte blocks)");
        assert_expected(
            &format!("the block init_pool returned for {where_}: (arena, pool, block)"),
            &(0, index, 0),
            &at(&heap, first),
        );
        assert_expected(
            &format!("the offset of that block in {p}: right after the 48-byte header"),
            &POOL_OVERHEAD,
            &(first.as_ptr().addr() % POOL_SIZE),
        );
        assert_expected(
            &format!("{where_}: block 0 handed out, block 1 alone on the free list"),
            &PoolInfo {
                arena: 0,
                pool: index,
                state: PoolState::Used,
                size_class: Some(class),
                blocks_in_use: 1,
                carved_blocks: 2,
                free_list_len: 1,
            },
            &pool(&heap, 0, index),
        );
        assert_expected(
            &format!("the free list of {p}, head first, as block numbers"),
            &vec![1],
            &heap.free_list(0, index),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The lists of used pools
// ---------------------------------------------------------------------------------------------

#[test]
fn a_pool_joins_usedpools_at_the_front() {
    let mut heap = PyMalloc::new();
    let pools = carved_pools(&mut heap, 3, 5); // pools 0, 1 and 2 of arena 0, class 5
    for (k, &p) in pools.iter().enumerate() {
        step("insert_to_usedpool", heap.steps().insert_to_usedpool(p, 5));
        let expected: Vec<String> = pools[..=k].iter().rev().map(|p| p.to_string()).collect();
        assert_expected(
            &format!("usedpools[5], first to last, after inserting {p}: it comes first"),
            &expected,
            &names(&heap.usedpools(5)),
        );
        let backwards: Vec<String> = expected.iter().rev().cloned().collect();
        assert_expected(
            &format!(
                "usedpools[5] read backwards through prevpool, after inserting {p}: the same \
                 pools, last to first"
            ),
            &backwards,
            &names(&heap.usedpools_from_last(5)),
        );
    }
    // A pool of another class joins another list.
    let other = step("carve_pool", heap.steps().carve_pool(0));
    step("init_pool", heap.steps().init_pool(other, 7));
    step(
        "insert_to_usedpool",
        heap.steps().insert_to_usedpool(other, 7),
    );
    assert_expected(
        &format!("usedpools[7] after inserting {other}, of class 7"),
        &vec![other.to_string()],
        &names(&heap.usedpools(7)),
    );
    assert_expected(
        "usedpools[5] after a pool of class 7 was inserted: unchanged",
        &vec![name(0, 2), name(0, 1), name(0, 0)],
        &names(&heap.usedpools(5)),
    );
}

#[test]
fn a_pool_leaves_usedpools_from_any_place() {
    let mut heap = PyMalloc::new();
    let pools = carved_pools(&mut heap, 3, 5);
    for &p in &pools {
        step("insert_to_usedpool", heap.steps().insert_to_usedpool(p, 5));
    }
    let (p0, p1, p2) = (pools[0], pools[1], pools[2]);
    // usedpools[5] is now p2, p1, p0. Each step unlinks one pool and says what is left.
    let script: [(&str, PoolId, Vec<PoolId>); 4] = [
        ("the middle one", p1, vec![p2, p0]),
        ("the first one", p2, vec![p0]),
        ("", p1, vec![p1, p0]), // inserted again, at the front
        ("the last one", p0, vec![p1]),
    ];
    for (what, p, left) in script {
        if what.is_empty() {
            step("insert_to_usedpool", heap.steps().insert_to_usedpool(p, 5));
            continue;
        }
        step(
            "unlink_from_usedpools",
            heap.steps().unlink_from_usedpools(p),
        );
        let expected: Vec<String> = left.iter().map(|p| p.to_string()).collect();
        assert_expected(
            &format!("usedpools[5], first to last, after unlinking {p}, {what}"),
            &expected,
            &names(&heap.usedpools(5)),
        );
        let backwards: Vec<String> = expected.iter().rev().cloned().collect();
        assert_expected(
            &format!("usedpools[5] read backwards through prevpool, after unlinking {p}"),
            &backwards,
            &names(&heap.usedpools_from_last(5)),
        );
    }
    step(
        "unlink_from_usedpools",
        heap.steps().unlink_from_usedpools(p1),
    );
    assert_expected(
        &format!("usedpools[5] after unlinking {p1}, the only one"),
        &Vec::<String>::new(),
        &names(&heap.usedpools(5)),
    );
}

// ---------------------------------------------------------------------------------------------
// The first allocation
// ---------------------------------------------------------------------------------------------

#[test]
fn first_alloc_maps_one_arena() {
    let mut heap = PyMalloc::new();
    assert_expected(
        "arena objects of a new allocator",
        &0,
        &heap.arena_objects(),
    );
    let p = alloc(&mut heap, 24); // size class 1: 32-byte blocks
    assert_expected(
        "where the first block `p` (24 bytes) is: (arena, pool, block)",
        &(0, 0, 0),
        &at(&heap, p),
    );
    assert_expected(
        "the offset of `p` in its arena: right after the first pool's header",
        &POOL_OVERHEAD,
        &(p.as_ptr().addr() % ARENA_SIZE),
    );
    assert_expected(
        "arena objects after the first allocation",
        &16,
        &heap.arena_objects(),
    );
    assert_expected(
        "arena counters after the first allocation: (allocated total, reclaimed, highwater, \
         current)",
        &(1, 0, 1, 1),
        &arena_counters(&heap),
    );
    let stats = heap.stats();
    assert_expected(
        "unused pools: one pool of 64 taken",
        &63,
        &stats.unused_pools,
    );
    assert_expected(
        "class 1 after the first allocation: (pools, blocks in use, avail blocks)",
        &(1, 1, 509),
        &(
            stats.classes[1].pools,
            stats.classes[1].blocks_in_use,
            stats.classes[1].avail_blocks,
        ),
    );
    assert_expected(
        "usable_arenas as (arena, nfreepools): arena 0, with the pool taken",
        &vec![(0, 63)],
        &usable(&heap),
    );
    assert_expected(
        "carved pools of arena 0",
        &Some(1),
        &heap.arena_info(0).map(|a| a.carved_pools),
    );
    assert_expected("usedpools[1]: the new pool", &vec![(0, 0)], &used(&heap, 1));
    assert_expected(
        "pool 0 of arena 0 after the first allocation",
        &PoolInfo {
            arena: 0,
            pool: 0,
            state: PoolState::Used,
            size_class: Some(1),
            blocks_in_use: 1,
            carved_blocks: 2,
            free_list_len: 1,
        },
        &pool(&heap, 0, 0),
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Carving lazily
// ---------------------------------------------------------------------------------------------

#[test]
fn blocks_are_carved_one_at_a_time() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 100); // class 6: 112-byte blocks, 145 to a pool
    let b = alloc(&mut heap, 100);
    assert_expected(
        "bytes from `a` to `b`, the first two blocks of a pool of 112-byte blocks",
        &112,
        &(b.as_ptr().addr().wrapping_sub(a.as_ptr().addr())),
    );
    let info = pool(&heap, 0, 0);
    assert_expected(
        "pool 0 after `a` and `b`: (blocks in use, carved, on the free list); taking the last \
         listed block carves the next one",
        &(2, 3, 1),
        &(info.blocks_in_use, info.carved_blocks, info.free_list_len),
    );
    // Carving goes on one block at a time, up to the pool's last block.
    let per_pool = blocks_per_pool(6);
    for k in 3..=per_pool {
        let p = alloc(&mut heap, 100);
        assert_expected(
            &format!("where allocation {k} of 112-byte blocks is: (arena, pool, block)"),
            &(0, 0, k - 1),
            &at(&heap, p),
        );
        let info = pool(&heap, 0, 0);
        let carved = (k + 1).min(per_pool);
        let listed = usize::from(k < per_pool);
        assert_expected(
            &format!("pool 0 after {k} allocations: (blocks in use, carved, on the free list)"),
            &(k, carved, listed),
            &(info.blocks_in_use, info.carved_blocks, info.free_list_len),
        );
    }
    assert_expected(
        "pool 0 once its 145 blocks are handed out",
        &PoolState::Full,
        &pool(&heap, 0, 0).state,
    );
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
                    "malloc({n}) returned {p:p}: expected an address aligned to 16"
                );
                let seed = (blocks.len() * 7 + round) as u64;
                fill(p, n, seed);
                blocks.push((p, n, seed));
            }
        }
    }
    let mut spans: Vec<(usize, usize, usize)> = blocks
        .iter()
        .map(|&(p, n, _)| (p.as_ptr().addr(), p.as_ptr().addr() + n, n))
        .collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        let ((a, a_end, a_n), (b, _, b_n)) = (pair[0], pair[1]);
        assert!(
            a_end <= b,
            "a block of {a_n} bytes at {a:#x} overlaps the block of {b_n} bytes at {b:#x}: \
             expected every block to have its own bytes"
        );
    }
    for &(p, n, seed) in &blocks {
        assert!(
            holds(p, n, seed),
            "the block of {n} bytes at {p:p} was overwritten by another block"
        );
        let (_, pool_index, block) = at(&heap, p);
        let info = pool(&heap, 0, pool_index);
        let size = block_size(info.size_class.expect("a used pool has a size class"));
        assert_expected(
            &format!(
                "the offset of the block of {n} bytes (block {block} of pool {pool_index}) in \
                 its pool: the header, then {block} blocks of {size} bytes"
            ),
            &(POOL_OVERHEAD + block * size),
            &(p.as_ptr().addr() % POOL_SIZE),
        );
    }
    check(&heap);
}

#[test]
fn full_pool_leaves_usedpools() {
    let mut heap = PyMalloc::new();
    // 16-byte blocks fill a pool exactly: 1021 of them after the header.
    let small = alloc_many(&mut heap, 1021, 16);
    assert_expected(
        "where the 1021st block of 16 bytes is: the last of pool 0",
        &(0, 0, 1020),
        &at(&heap, small[1020]),
    );
    let info = pool(&heap, 0, 0);
    assert_expected(
        "pool 0 after 1021 blocks of 16 bytes: (state, blocks in use, on the free list)",
        &(PoolState::Full, 1021, 0),
        &(info.state, info.blocks_in_use, info.free_list_len),
    );
    assert_expected(
        "usedpools[0] once its only pool is full: a full pool is in no list",
        &vec![],
        &used(&heap, 0),
    );
    let next = alloc(&mut heap, 16);
    assert_expected(
        "where the 1022nd block of 16 bytes is: the next block of the class needs a new pool",
        &(0, 1, 0),
        &at(&heap, next),
    );
    assert_expected(
        "usedpools[0] after the 1022nd block",
        &vec![(0, 1)],
        &used(&heap, 0),
    );
    // 512-byte blocks: 31 to a pool, and 464 bytes at the end too few for another.
    let big = alloc_many(&mut heap, 31, BIG);
    let info = pool(&heap, 0, 2);
    assert_expected(
        "pool 2 after 31 blocks of 512 bytes: (state, blocks in use, on the free list)",
        &(PoolState::Full, 31, 0),
        &(info.state, info.blocks_in_use, info.free_list_len),
    );
    assert_expected(
        "usedpools[31] once its only pool is full",
        &vec![],
        &used(&heap, 31),
    );
    let one_more = alloc(&mut heap, BIG);
    assert_expected(
        "where the 32nd block of 512 bytes is",
        &(0, 3, 0),
        &at(&heap, one_more),
    );
    let stats = heap.stats();
    assert_expected(
        "class 31: (pools, blocks in use, avail blocks)",
        &(2, 32, 30),
        &(
            stats.classes[31].pools,
            stats.classes[31].blocks_in_use,
            stats.classes[31].avail_blocks,
        ),
    );
    assert_expected("blocks of 512 bytes", &31, &big.len());
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Freeing a block
// ---------------------------------------------------------------------------------------------

#[test]
fn freed_block_is_reused_first() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 40); // class 2: blocks 0, 1 and 2 of pool 0
    let b = alloc(&mut heap, 40);
    let c = alloc(&mut heap, 40);
    free(&mut heap, a);
    free(&mut heap, c);
    assert_expected(
        "the free list of pool 0 after freeing `a` (block 0) then `c` (block 2), as block \
         numbers from the head: `c`, `a`, then the carved block 3",
        &vec![2, 0, 3],
        &heap.free_list(0, 0),
    );
    assert_expected(
        "blocks in use in pool 0: only `b`",
        &1,
        &pool(&heap, 0, 0).blocks_in_use,
    );
    let again = alloc(&mut heap, 40);
    assert!(
        again == c,
        "the next block of 40 bytes is at {:?}: expected `c`, freed last (the free list is \
         LIFO), at (0, 0, 2)",
        at(&heap, again)
    );
    let then = alloc(&mut heap, 40);
    assert!(
        then == a,
        "the block after it is at {:?}: expected `a`, at (0, 0, 0)",
        at(&heap, then)
    );
    let d = alloc(&mut heap, 40);
    assert_expected(
        "where `d` is: the carved block after `c`",
        &(0, 0, 3),
        &at(&heap, d),
    );
    assert_expected("where `b` is: untouched", &(0, 0, 1), &at(&heap, b));
    check(&heap);
}

#[test]
fn free_in_full_pool_puts_it_at_the_front() {
    let mut heap = PyMalloc::new();
    let blocks = alloc_many(&mut heap, 62 + 1, BIG); // pools 0 and 1 full, one block in pool 2
    assert_expected(
        "usedpools[31] with pools 0 and 1 full",
        &vec![(0, 2)],
        &used(&heap, 31),
    );
    free(&mut heap, blocks[5]); // pool 0 was full
    assert_expected(
        "usedpools[31] after a free in pool 0, which was full: it goes to the front",
        &vec![(0, 0), (0, 2)],
        &used(&heap, 31),
    );
    free(&mut heap, blocks[40]); // pool 1 was full
    assert_expected(
        "usedpools[31] after a free in pool 1, which was full",
        &vec![(0, 1), (0, 0), (0, 2)],
        &used(&heap, 31),
    );
    let again = alloc(&mut heap, BIG);
    assert!(
        again == blocks[40],
        "the next block of 512 bytes is at {:?}: expected the block just freed in pool 1, at \
         (0, 1, 9)",
        at(&heap, again)
    );
    assert_expected(
        "usedpools[31] once pool 1 is full again",
        &vec![(0, 0), (0, 2)],
        &used(&heap, 31),
    );
    let then = alloc(&mut heap, BIG);
    assert!(
        then == blocks[5],
        "the block after it is at {:?}: expected the block freed in pool 0, at (0, 0, 5)",
        at(&heap, then)
    );
    assert_expected(
        "usedpools[31] once pool 0 is full again",
        &vec![(0, 2)],
        &used(&heap, 31),
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// An empty pool
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_pool_goes_to_its_arenas_free_list() {
    let mut heap = PyMalloc::new();
    let a = alloc(&mut heap, 16); // pool 0
    let b = alloc(&mut heap, 32); // pool 1
    let c = alloc(&mut heap, 48); // pool 2
    assert_expected(
        "usable_arenas as (arena, nfreepools), three pools taken",
        &vec![(0, 61)],
        &usable(&heap),
    );
    free(&mut heap, a);
    assert_expected(
        "the state of pool 0 once `a`, its only block, is freed",
        &PoolState::Empty,
        &pool(&heap, 0, 0).state,
    );
    assert_expected(
        "usedpools[0] once pool 0 is empty: an empty pool leaves it",
        &vec![],
        &used(&heap, 0),
    );
    assert_expected(
        "the freepools of arena 0: pool 0",
        &vec![0],
        &heap.freepools(0),
    );
    assert_expected(
        "usable_arenas: nfreepools counts the empty pool",
        &vec![(0, 62)],
        &usable(&heap),
    );
    free(&mut heap, c);
    assert_expected(
        "the freepools of arena 0 after `c` empties pool 2: most recently emptied first",
        &vec![2, 0],
        &heap.freepools(0),
    );
    let d = alloc(&mut heap, 64); // class 3: no used pool
    assert_expected(
        "where `d` (64 bytes, a class with no used pool) is: a cached empty pool is preferred \
         over carving pool 3",
        &(0, 2, 0),
        &at(&heap, d),
    );
    assert_expected(
        "the size class of pool 2 now",
        &Some(3),
        &pool(&heap, 0, 2).size_class,
    );
    assert_expected(
        "the freepools of arena 0 after `d`",
        &vec![0],
        &heap.freepools(0),
    );
    assert_expected(
        "carved pools of arena 0",
        &Some(3),
        &heap.arena_info(0).map(|a| a.carved_pools),
    );
    free(&mut heap, b);
    free(&mut heap, d);
    assert_expected(
        "the freepools of arena 0 after `b` and `d` are freed",
        &vec![2, 1, 0],
        &heap.freepools(0),
    );
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
    assert_expected(
        "pool 0 once a[0], a[2] and a[1] are freed: (state, size class)",
        &(PoolState::Empty, Some(0)),
        &(info.state, info.size_class),
    );
    assert_expected(
        "the free list of pool 0, head first: a[1], a[2], a[0] and the carved block 3",
        &vec![1, 2, 0, 3],
        &heap.free_list(0, 0),
    );
    let again = alloc(&mut heap, 16);
    assert!(
        again == a[1],
        "the next block of 16 bytes is at {:?}: expected a[1], at (0, 0, 1). Taken again for \
         the class it had, the pool keeps its header and its free list (no new init_pool): the \
         block handed out is the head of its old free list",
        at(&heap, again)
    );
    assert_expected(
        "carved blocks of pool 0, still 4",
        &4,
        &pool(&heap, 0, 0).carved_blocks,
    );
    free(&mut heap, again);
    let b = alloc(&mut heap, 80); // class 4: the empty pool is set up anew
    assert!(
        b == a[0],
        "a block of 80 bytes is at {:?}: expected a[0]'s place, (0, 0, 0). For another class \
         the pool is set up anew by init_pool: its first block comes first",
        at(&heap, b)
    );
    let info = pool(&heap, 0, 0);
    assert_expected(
        "pool 0 taken for class 4: (size class, carved blocks, on the free list)",
        &(Some(4), 2, 1),
        &(info.size_class, info.carved_blocks, info.free_list_len),
    );
    free(&mut heap, other);
    check(&heap);
}

#[test]
fn the_only_arena_stays_when_it_empties() {
    let mut heap = PyMalloc::new();
    // One arena, emptied: nothing follows it in usable_arenas, so it stays (bpo-37257)...
    let p = alloc(&mut heap, 64);
    free(&mut heap, p);
    assert_expected(
        "usable_arenas as (arena, nfreepools) once the only block is freed: the only arena \
         stays, wholly free",
        &vec![(0, 64)],
        &usable(&heap),
    );
    // ...and a loop allocating and freeing one block maps no arena after the first.
    for _ in 0..100 {
        let p = alloc(&mut heap, 64);
        free(&mut heap, p);
    }
    assert_expected(
        "arena counters after 100 rounds of malloc and free: (allocated total, reclaimed, \
         highwater, current)",
        &(1, 0, 1, 1),
        &arena_counters(&heap),
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
    for n in [64, 60, 49] {
        let q = realloc(&mut heap, p, n);
        assert!(
            q == p,
            "realloc of the 64-byte block `p` to {n} bytes moved it to {:?}: expected it to \
             stay, as more than three quarters of it would be used (4 * {n} > 3 * 64)",
            at(&heap, q)
        );
    }
    let q = realloc(&mut heap, p, 48);
    assert!(
        q != p,
        "realloc of `p` to 48 bytes kept it in place: expected it to move, as a quarter of the \
         block can be saved (4 * 48 = 3 * 64)"
    );
    let (arena, pool_index, _) = at(&heap, q);
    assert_expected(
        "the size class of the pool `q` (48 bytes) moved to",
        &Some(2),
        &pool(&heap, arena, pool_index).size_class,
    );
    assert_expected(
        "blocks in use of class 3 once `p` moved: the old block was freed",
        &0,
        &heap.stats().classes[3].blocks_in_use,
    );
    let r = realloc(&mut heap, q, 49);
    assert!(
        r != q,
        "realloc of the 48-byte block `q` to 49 bytes kept it in place: a block never grows past \
         its size class in place"
    );
    let s = realloc(&mut heap, r, 600);
    assert!(
        !heap.address_in_range(s.as_ptr()),
        "realloc of `r` to 600 bytes returned a block in an arena: past 512 bytes, expected a \
         block of the system allocator (your pymalloc_realloc must allocate with malloc)"
    );
    let t = realloc(&mut heap, s, 100);
    assert!(
        !heap.address_in_range(t.as_ptr()),
        "a block of the system allocator stays with it, whatever its new size"
    );
    assert_expected(
        "blocks of the system allocator: `t`",
        &1,
        &heap.stats().raw_allocated_blocks,
    );
    let u = alloc(&mut heap, 64);
    let v = realloc(&mut heap, u, 0);
    assert!(
        !heap.address_in_range(v.as_ptr()),
        "realloc of the 64-byte block `u` to 0 bytes returned a block in an arena: expected a \
         block of the system allocator, as malloc(0) gives"
    );
    free(&mut heap, t);
    free(&mut heap, v);
    assert_expected(
        "blocks in use once `t` and `v` are freed",
        &0,
        &heap.stats().blocks_in_use(),
    );
    assert_expected(
        "blocks of the system allocator once `t` and `v` are freed",
        &0,
        &heap.stats().raw_allocated_blocks,
    );
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
            "realloc from {old} to {new} bytes lost bytes: expected the first {} bytes of the \
             block to come along",
            old.min(new)
        );
        fill(p, new, step as u64 + 1);
        check(&heap);
    }
    free(&mut heap, p);
    let stats = heap.stats();
    assert_expected(
        "(blocks in use, blocks of the system allocator) once the block is freed",
        &(0, 0),
        &(stats.blocks_in_use(), stats.raw_allocated_blocks),
    );
}

#[test]
fn realloc_reads_nothing_past_the_old_block() {
    let mut heap = PyMalloc::new();
    // 16 divides a pool's 16,336 bytes of blocks, so the last 16-byte block of an arena ends
    // exactly where the arena does; and the page after every arena is inaccessible (see
    // `os::map_aligned`). Fill the first arena with them.
    let per_arena = MAX_POOLS_IN_ARENA * blocks_per_pool(size_class(16).expect("a small size"));
    let blocks: Vec<NonNull<u8>> = (0..per_arena).map(|_| alloc(&mut heap, 16)).collect();
    let last = blocks[per_arena - 1];
    assert_expected(
        "where the last of 65,344 16-byte blocks went (arena, pool, block)",
        &(
            0,
            MAX_POOLS_IN_ARENA - 1,
            per_arena / MAX_POOLS_IN_ARENA - 1,
        ),
        &at(&heap, last),
    );
    let arena_end = (last.as_ptr() as usize & !(ARENA_SIZE - 1)) + ARENA_SIZE;
    fill(last, 16, 7);
    let grown = testkit::alloc::fenced(
        "realloc read past the end of the block it moved: copy only what both blocks hold, the \
         smaller of the old block's size and nbytes (book: 02-pools/pools.md#realloc)",
        arena_end..arena_end + pools::os::page_size(),
        || realloc(&mut heap, last, 2000),
    );
    assert!(
        holds(grown, 16, 7),
        "realloc of the arena's last 16-byte block to 2,000 bytes lost its 16 bytes: expected \
         them at the start of the new block"
    );
    free(&mut heap, grown);
    for &p in &blocks[..per_arena - 1] {
        free(&mut heap, p);
    }
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// The order of arenas
// ---------------------------------------------------------------------------------------------

/// Three full arenas of 512-byte blocks, then pools freed so that arena 0 has 5 free pools,
/// arena 1 has 2 and arena 2 has 9. Returns the blocks still allocated, by (arena, pool).
#[track_caller]
fn three_arenas(heap: &mut PyMalloc) -> BTreeMap<(usize, usize), Vec<NonNull<u8>>> {
    let blocks = alloc_many(heap, 3 * BIG_PER_ARENA, BIG);
    assert_expected(
        "usable_arenas once arenas 0, 1 and 2 are full: full arenas are not usable",
        &vec![],
        &usable(heap),
    );
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
    assert_expected(
        "usable_arenas as (arena, nfreepools) after emptying 5 pools of arena 0, 2 of arena 1 \
         and 9 of arena 2: sorted by increasing nfreepools",
        &vec![(1, 2), (0, 5), (2, 9)],
        &usable(&heap),
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 1, 2..6);
    assert_expected(
        "usable_arenas after 4 more pools of arena 1 empty: arena 1 slides right",
        &vec![(0, 5), (1, 6), (2, 9)],
        &usable(&heap),
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 1, 6..9);
    assert_expected(
        "usable_arenas after arena 1 reaches 9 free pools: it slides only past arenas with \
         fewer, and stays before arena 2, which had 9 already",
        &vec![(0, 5), (1, 9), (2, 9)],
        &usable(&heap),
    );
    check(&heap);
    free_pools(&mut heap, &mut groups, 2, 9..10);
    free_pools(&mut heap, &mut groups, 0, 5..12);
    assert_expected(
        "usable_arenas after one more pool of arena 2 and 7 of arena 0 empty",
        &vec![(1, 9), (2, 10), (0, 12)],
        &usable(&heap),
    );
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
    assert_expected(
        "where the first block of 400 bytes is: the pool of arena 1 (the fewest free pools) \
         emptied last",
        &(1, 1, 0),
        &at(&heap, first[0]),
    );
    assert_expected(
        "usable_arenas as (arena, nfreepools) after it",
        &vec![(1, 1), (0, 5), (2, 9)],
        &usable(&heap),
    );
    let second = alloc(&mut heap, 400);
    assert_expected(
        "where the 41st block of 400 bytes is: the last free pool of arena 1",
        &(1, 0, 0),
        &at(&heap, second),
    );
    assert_expected(
        "usable_arenas once arena 1 has no free pool: it leaves the list",
        &vec![(0, 5), (2, 9)],
        &usable(&heap),
    );
    let third = alloc_many(&mut heap, per_pool, 400);
    assert_expected(
        "where the last of the next 40 blocks of 400 bytes is: then the next fullest arena",
        &(0, 4, 0),
        &at(&heap, third[per_pool - 1]),
    );
    assert_expected(
        "usable_arenas after them",
        &vec![(0, 4), (2, 9)],
        &usable(&heap),
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Releasing an arena
// ---------------------------------------------------------------------------------------------

#[test]
fn arena_released_when_last_pool_empties() {
    let mut heap = PyMalloc::new();
    let blocks = alloc_many(&mut heap, BIG_PER_ARENA, BIG); // arena 0, full
    let last = alloc(&mut heap, BIG); // arena 1
    assert_expected(
        "where `last`, the block after a full arena, is",
        &(1, 0, 0),
        &at(&heap, last),
    );
    let (survivor, rest) = blocks.split_last().expect("blocks");
    for &p in rest {
        free(&mut heap, p);
    }
    assert_expected(
        "usable_arenas as (arena, nfreepools) while `survivor` keeps arena 0",
        &vec![(0, 63), (1, 63)],
        &usable(&heap),
    );
    free(&mut heap, *survivor);
    assert!(
        heap.arena_info(0).is_none(),
        "arena 0 is still mapped after `survivor`, its last block, was freed: expected it to be \
         released, as arena 1 follows it in usable_arenas"
    );
    assert!(
        !heap.address_in_range(survivor.as_ptr()),
        "address_in_range still says `survivor`'s address is in an arena: expected the released \
         arena to leave the arena map"
    );
    assert_expected(
        "usable_arenas once arena 0 is released",
        &vec![(1, 63)],
        &usable(&heap),
    );
    assert_expected(
        "arena counters: (allocated total, reclaimed, highwater, current)",
        &(2, 1, 2, 1),
        &arena_counters(&heap),
    );
    check(&heap);
    // The next arena takes arena object 0 again: a released object heads unused_arena_objects.
    let more = alloc_many(&mut heap, BIG_PER_ARENA - 1, BIG); // fills arena 1
    let next = alloc(&mut heap, BIG);
    assert_expected(
        "where the first block after arena 1 fills is: a new arena, on arena object 0, the one \
         released last",
        &(0, 0, 0),
        &at(&heap, next),
    );
    assert_expected(
        "arena counters after that: (allocated total, reclaimed, highwater, current)",
        &(3, 1, 2, 2),
        &arena_counters(&heap),
    );
    assert_expected("blocks of 512 bytes in arena 1", &1983, &more.len());
    check(&heap);
}

#[test]
fn only_the_last_empty_arena_is_kept() {
    let mut heap = PyMalloc::new();
    // Two arenas: the one emptied first is the last of usable_arenas, so it stays; the other is
    // released when it empties, since an arena follows it.
    let blocks = alloc_many(&mut heap, BIG_PER_ARENA, BIG); // fills arena 0
    let q = alloc(&mut heap, BIG); // arena 1
    assert_expected("where `q` is", &(1, 0, 0), &at(&heap, q));
    free(&mut heap, q);
    assert_expected(
        "usable_arenas as (arena, nfreepools) once `q` is freed: arena 1, wholly free, is kept",
        &vec![(1, 64)],
        &usable(&heap),
    );
    for p in blocks {
        free(&mut heap, p);
    }
    assert_expected(
        "usable_arenas once arena 0 is emptied too: arena 0 was released, since arena 1 \
         followed it; at most one wholly free arena is kept",
        &vec![(1, 64)],
        &usable(&heap),
    );
    assert_expected(
        "arena counters: (allocated total, reclaimed, highwater, current)",
        &(2, 1, 2, 1),
        &arena_counters(&heap),
    );
    check(&heap);
}

// ---------------------------------------------------------------------------------------------
// Back to the OS
// ---------------------------------------------------------------------------------------------

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
    let per_arena = blocks_per_pool(1) * MAX_POOLS_IN_ARENA;
    let arenas = count.div_ceil(per_arena);
    assert_expected(
        "arenas mapped for 64 MiB of 32-byte blocks",
        &arenas,
        &heap.stats().arenas_allocated_current,
    );
    for &p in &blocks {
        free(&mut heap, p);
    }
    let after = resident_bytes();
    let stats = heap.stats();
    assert_expected(
        "blocks in use once all are freed",
        &0,
        &stats.blocks_in_use(),
    );
    assert_expected(
        "(arenas mapped, arenas reclaimed) once all are freed: every arena but the last usable \
         one is released",
        &(1, arenas - 1),
        &(stats.arenas_allocated_current, stats.arenas_reclaimed),
    );
    check(&heap);
    // The process's resident memory shows it (Linux only: /proc/self/statm).
    if let (Some(before), Some(peak), Some(after)) = (before, peak, after) {
        let mib = |bytes: usize| bytes as f64 / f64::from(1 << 20);
        assert!(
            peak.saturating_sub(before) >= 48 << 20,
            "allocating 64 MiB of blocks raised resident memory by only {:.1} MiB: expected at \
             least 48",
            mib(peak.saturating_sub(before))
        );
        assert!(
            peak.saturating_sub(after) >= 32 << 20,
            "freeing 64 MiB of blocks lowered resident memory by only {:.1} MiB: expected at \
             least 32, as the arenas must be unmapped (before {:.1}, peak {:.1}, after {:.1} \
             MiB)",
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
    assert_expected(
        "arenas mapped for 16 arenas' worth of 32-byte blocks",
        &arenas,
        &heap.stats().arenas_allocated_current,
    );
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
    assert_expected(
        "survivors: the first block of each arena",
        &arenas,
        &survivors.len(),
    );
    assert_expected(
        "blocks in use: the survivors",
        &arenas,
        &stats.blocks_in_use(),
    );
    assert_expected(
        "(arenas mapped, arenas reclaimed) with one survivor in each: one live block keeps its \
         whole arena mapped",
        &(arenas, 0),
        &(stats.arenas_allocated_current, stats.arenas_reclaimed),
    );
    let counts: Vec<usize> = usable(&heap).iter().map(|&(_, nf)| nf).collect();
    assert_expected(
        "nfreepools of each usable arena: 63, all but the survivor's pool",
        &vec![63; arenas],
        &counts,
    );
    check(&heap);
    if let (Some(peak), Some(after)) = (peak, after) {
        assert!(
            peak.saturating_sub(after) < 8 << 20,
            "16 arenas pinned by one block each must stay resident, but resident memory fell \
             by {} KiB: expected less than 8 MiB",
            peak.saturating_sub(after) >> 10
        );
    }
    for p in survivors {
        free(&mut heap, p);
    }
    assert_expected(
        "arenas mapped once the survivors are freed too: all but one go back",
        &1,
        &heap.stats().arenas_allocated_current,
    );
    check(&heap);
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
    assert_expected(
        "sys._debugmallocstats() after 1022 blocks of 16 bytes and 50 of 500",
        &expected.to_string(),
        &heap.debug_malloc_stats(),
    );
    let stats = heap.stats();
    assert_expected(
        "(blocks in use, pools in use)",
        &(1072, 4),
        &(stats.blocks_in_use(), stats.pools_in_use()),
    );
    for p in small.into_iter().chain(big) {
        free(&mut heap, p);
    }
    let stats = heap.stats();
    assert_expected(
        "(blocks in use, pools in use, unused pools, arenas) after freeing everything",
        &(0, 0, 64, 1),
        &(
            stats.blocks_in_use(),
            stats.pools_in_use(),
            stats.unused_pools,
            stats.arenas_allocated_current,
        ),
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

/// A *block* program: single operations on the first two regions, with sizes of every class,
/// and now and then a region filled or swept. It tests pools, free lists, usedpools and realloc,
/// in one arena.
fn block_program(rng: &mut XorShift64) -> Vec<Op> {
    (0..200).map(|_| block_op(rng)).collect()
}

/// An *arena* program: whole regions filled and drained, mostly with large blocks. It maps
/// several arenas, reorders them in usable_arenas and releases them.
fn arena_program(rng: &mut XorShift64) -> Vec<Op> {
    (0..80).map(|_| arena_op(rng)).collect()
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
                "the block in slot {slot} ({size} bytes) is at {} in yours, expected (reference) \
                 at {} (arena, pool, block; `system` for a block of the C library)",
                show(got),
                show(want)
            )));
        }
        let (want, got) = (
            theirs.heap.snapshot(),
            catch(|| yours.heap.snapshot()).map_err(|p| after(format!("your allocator {p}")))?,
        );
        if want != got {
            return Err(after(format!(
                "your allocator's statistics or lists differ from the reference's \
                 (< expected (reference), > yours):\n{}",
                pretty_assertions::StrComparison::new(&want, &got)
            )));
        }
    }
    Ok(())
}

#[test]
fn random_block_programs_match_the_reference() {
    let _quiet = memory_lock();
    check_programs(
        "random pymalloc programs of single blocks",
        0..12,
        block_program,
        compare_with_reference,
    );
}

#[test]
fn random_arena_programs_match_the_reference() {
    let _quiet = memory_lock();
    check_programs(
        "random pymalloc programs of whole regions",
        0..12,
        arena_program,
        compare_with_reference,
    );
}

/// A location as `(arena, pool, block)`, or `system`.
fn show(place: Place) -> String {
    place.map_or("system".to_string(), |(a, p, b)| format!("({a}, {p}, {b})"))
}
