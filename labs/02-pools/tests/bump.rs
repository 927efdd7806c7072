//! Graded tests for lab 02 part (a): the bump arena and the typed arena.
//!
//! In the order of the chapter's tasks: the bump (alignment, the cursor, new chunks that double,
//! a chunk of its own for a large request), then `reset`, then the typed arena (each value
//! dropped exactly once, references that survive growth). That a reference from an arena cannot
//! outlive it is checked by the compiler, not by a test: see the `compile_fail` examples in the
//! docs of `pools::bump`.

use std::alloc::Layout;
use std::cell::Cell;
use std::rc::Rc;

use pools::bump::{Arena, Bump};
use testkit::assert_expected;

/// A layout of `size` bytes aligned to `align`.
fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

/// The address of a block.
fn addr(block: std::ptr::NonNull<u8>) -> usize {
    block.as_ptr() as usize
}

/// Allocates `layout` from `bump` until the arena takes a new chunk; returns how many blocks
/// fitted before that, and the block that went into the new chunk.
#[track_caller]
fn fill_chunk(bump: &Bump, layout: Layout) -> (usize, std::ptr::NonNull<u8>) {
    let chunks = bump.chunk_count();
    for fitted in 0..1_000_000 {
        let block = bump.alloc_layout(layout);
        if bump.chunk_count() != chunks {
            return (fitted, block);
        }
    }
    panic!("a million blocks of {layout:?} and still no new chunk: expected a chunk to fill up");
}

#[test]
fn bump_blocks_are_aligned_for_every_power_of_two() {
    let bump = Bump::with_chunk_size(256);
    let mut blocks = Vec::new();
    for shift in 0..=12 {
        let align = 1usize << shift;
        for size in [1, align, align + 3] {
            let block = bump.alloc_layout(layout(size, align));
            assert!(
                addr(block).is_multiple_of(align),
                "a block of {size} bytes aligned to {align} is at {:#x}: expected a multiple of \
                 {align}",
                addr(block)
            );
            // Fill the block with its own tag: a later block that overlaps it overwrites it.
            let tag = blocks.len() as u8;
            // SAFETY: the arena handed out `size` bytes at `block`, for us alone.
            unsafe { block.as_ptr().write_bytes(tag, size) };
            blocks.push((block, size, tag));
        }
    }
    for &(block, size, tag) in &blocks {
        // SAFETY: the block is still allocated (the arena lives) and was fully written above.
        let bytes = unsafe { std::slice::from_raw_parts(block.as_ptr(), size) };
        assert!(
            bytes.iter().all(|&b| b == tag),
            "the block of {size} bytes at {:#x} was overwritten by a later block: expected every \
             block to have bytes of its own",
            addr(block)
        );
    }
    let requested: usize = blocks.iter().map(|&(_, size, _)| size).sum();
    assert_expected(
        "allocated_bytes: the sum of the sizes requested, padding not counted",
        &requested,
        &bump.allocated_bytes(),
    );
}

#[test]
fn bump_blocks_follow_each_other_in_a_chunk() {
    let bump = Bump::with_chunk_size(1024);
    let a = addr(bump.alloc_layout(layout(8, 8)));
    let b = addr(bump.alloc_layout(layout(8, 8)));
    assert_expected(
        "bytes from block `a` (8 bytes) to block `b`: `b` starts where `a` ends",
        &8,
        &b.wrapping_sub(a),
    );
    let c = addr(bump.alloc_layout(layout(1, 1)));
    assert_expected(
        "bytes from `a` to `c`, a 1-byte block after `b`: no padding",
        &16,
        &c.wrapping_sub(a),
    );
    let d = addr(bump.alloc_layout(layout(8, 8)));
    assert_expected(
        "bytes from `a` to `d`, an 8-byte block after `c`: the cursor rounded up to 8 (7 bytes \
         of padding)",
        &24,
        &d.wrapping_sub(a),
    );
    assert_expected("chunks held after `a` to `d`", &1, &bump.chunk_count());
    assert_expected(
        "allocated_bytes after `a` to `d`: the bytes requested, not the padding",
        &25,
        &bump.allocated_bytes(),
    );
}

#[test]
fn bump_grows_by_doubling_chunks() {
    let bump = Bump::with_chunk_size(1024);
    assert_expected(
        "chunks held by a new arena: none yet",
        &0,
        &bump.chunk_count(),
    );
    let sixteen = layout(16, 16);
    bump.alloc_layout(sixteen);
    assert_expected("chunks held after the first block", &1, &bump.chunk_count());
    let mut per_chunk = Vec::new();
    // The first chunk already holds one block.
    let (fitted, _) = fill_chunk(&bump, sixteen);
    per_chunk.push(fitted + 1);
    for _ in 0..2 {
        let (fitted, _) = fill_chunk(&bump, sixteen);
        per_chunk.push(fitted + 1);
    }
    assert_expected(
        "blocks of 16 bytes in each of the first three chunks: chunks of 1024, 2048 and 4096 \
         bytes",
        &vec![64, 128, 256],
        &per_chunk,
    );
    assert_expected("chunks held", &4, &bump.chunk_count());
    assert_expected(
        "capacity_bytes: chunks of 1024, 2048, 4096 and 8192 bytes",
        &(1024 + 2048 + 4096 + 8192),
        &bump.capacity_bytes(),
    );
    assert_expected(
        "allocated_bytes: 449 blocks of 16 bytes",
        &(16 * (64 + 128 + 256 + 1)),
        &bump.allocated_bytes(),
    );
}

#[test]
fn large_request_gets_its_own_chunk() {
    let bump = Bump::with_chunk_size(1024);
    let first = addr(bump.alloc_layout(layout(16, 16)));
    let large = bump.alloc_layout(layout(100_000, 64));
    assert!(
        addr(large).is_multiple_of(64),
        "the large block, aligned to 64, is at {:#x}: expected a multiple of 64",
        addr(large)
    );
    assert_expected(
        "chunks held after `first` and the large block: the large request has a chunk of its own",
        &2,
        &bump.chunk_count(),
    );
    assert_expected(
        "capacity_bytes: the first chunk and a chunk of exactly 100,000 bytes",
        &(1024 + 100_000),
        &bump.capacity_bytes(),
    );
    let next = addr(bump.alloc_layout(layout(16, 16)));
    assert_expected(
        "bytes from `first` to `next`, the small block after the large one: the first chunk is \
         still current, so `next` follows `first`",
        &16,
        &next.wrapping_sub(first),
    );
    assert_expected("chunks held after `next`", &2, &bump.chunk_count());
    assert_expected(
        "allocated_bytes",
        &(16 + 100_000 + 16),
        &bump.allocated_bytes(),
    );
    // A request of exactly the next chunk's size is not large: it gets a chunk of that size,
    // which becomes current (and full), and the size after it doubles.
    let exact = Bump::with_chunk_size(1024);
    exact.alloc_layout(layout(16, 16));
    exact.alloc_layout(layout(2048, 16));
    exact.alloc_layout(layout(16, 16));
    assert_expected(
        "(chunks, capacity_bytes) after 16 bytes, then exactly 2048 (the next chunk's size), then \
         16 more: the 2048-byte chunk became current and full, so the last block opened a chunk \
         of 4096",
        &(3, 1024 + 2048 + 4096),
        &(exact.chunk_count(), exact.capacity_bytes()),
    );
}

#[test]
fn values_stay_intact_across_chunks() {
    let bump = Bump::with_chunk_size(64);
    let mut numbers = Vec::new();
    let mut names = Vec::new();
    for i in 0..2_000u64 {
        numbers.push(bump.alloc(i * 3));
        names.push(bump.alloc_str(&format!("object {i}")));
    }
    assert!(
        bump.chunk_count() > 5,
        "2,000 numbers and 2,000 strings fit in {} chunks: expected many chunks of 64 bytes and \
         more",
        bump.chunk_count()
    );
    for (i, (number, name)) in numbers.iter().zip(&names).enumerate() {
        assert_expected(
            &format!("number {i}, read back at the end"),
            &(i as u64 * 3),
            &**number,
        );
        assert_expected(
            &format!("string {i}, read back at the end"),
            &format!("object {i}"),
            &name.to_string(),
        );
    }
    *numbers[7] += 1;
    assert_expected("number 7 after adding 1", &22, &*numbers[7]);
    assert_expected(
        "number 8 after number 7 changed: writing one value leaves its neighbour alone",
        &24,
        &*numbers[8],
    );
}

#[test]
fn zero_sized_requests_take_no_memory() {
    let bump = Bump::new();
    let empty = bump.alloc_layout(layout(0, 64));
    assert!(
        addr(empty).is_multiple_of(64),
        "a zero-sized block aligned to 64 is at {:#x}: expected a multiple of 64",
        addr(empty)
    );
    let unit: &mut () = bump.alloc(());
    *unit = ();
    assert_expected(
        "chunks held after two zero-sized requests: zero bytes need no chunk",
        &0,
        &bump.chunk_count(),
    );
    assert_expected(
        "allocated_bytes after two zero-sized requests",
        &0,
        &bump.allocated_bytes(),
    );
    let byte = bump.alloc(7u8);
    assert_expected("the byte read back", &7, &*byte);
    assert_expected(
        "chunks held after the first byte: it takes the first chunk",
        &1,
        &bump.chunk_count(),
    );
    assert_expected(
        "allocated_bytes after the first byte",
        &1,
        &bump.allocated_bytes(),
    );
}

#[test]
fn reset_frees_everything_and_reuses_one_chunk() {
    let mut bump = Bump::with_chunk_size(1024);
    let sixteen = layout(16, 16);
    bump.alloc_layout(sixteen);
    fill_chunk(&bump, sixteen); // into the second chunk (2048 bytes)
    let (_, first_of_third) = fill_chunk(&bump, sixteen); // into the third (4096 bytes)
    bump.alloc_layout(layout(50_000, 16)); // a chunk of its own
    assert_expected(
        "chunks held before reset: three doubling chunks and a large request's own",
        &4,
        &bump.chunk_count(),
    );

    bump.reset();
    assert_expected(
        "chunks held after reset: exactly one",
        &1,
        &bump.chunk_count(),
    );
    assert_expected("allocated_bytes after reset", &0, &bump.allocated_bytes());
    assert_expected(
        "capacity_bytes after reset: the chunk kept is the current one, of 4096 bytes",
        &4096,
        &bump.capacity_bytes(),
    );
    let again = bump.alloc_layout(sixteen);
    assert!(
        addr(again) == addr(first_of_third),
        "the first block after reset is at {:#x}: expected the start of the kept chunk, {:#x}, \
         where the first block of that chunk was",
        addr(again),
        addr(first_of_third)
    );
    let (fitted, _) = fill_chunk(&bump, sixteen);
    assert_expected(
        "blocks of 16 bytes the kept chunk holds after reset: all of it is free again",
        &256,
        &(fitted + 1),
    );
    assert_expected(
        "capacity_bytes once the kept chunk is full: after it, chunks go on doubling",
        &(4096 + 8192),
        &bump.capacity_bytes(),
    );
}

#[test]
fn reset_in_a_loop_settles_on_one_chunk() {
    let mut bump = Bump::new();
    let mut capacities = Vec::new();
    for phase in 0..50u64 {
        for i in 0..1_000u64 {
            let triple = bump.alloc([phase, i, phase ^ i]);
            assert_expected(
                &format!("phase {phase}, value {i}, read back"),
                &(phase ^ i),
                &triple[2],
            );
        }
        assert_expected(
            &format!("allocated_bytes at the end of phase {phase}"),
            &24_000,
            &bump.allocated_bytes(),
        );
        bump.reset();
        assert_expected(
            &format!("chunks held after the reset of phase {phase}"),
            &1,
            &bump.chunk_count(),
        );
        capacities.push(bump.capacity_bytes());
    }
    assert!(
        capacities[5..].iter().all(|&c| c == capacities[5]),
        "capacity after each reset: {capacities:?}; expected it to stop changing after a few \
         phases, once the kept chunk holds a whole phase"
    );
    assert!(
        capacities[5] < 4 * 24_000,
        "capacity after each reset: {capacities:?}; expected the chunk kept to be less than four \
         times a phase (24,000 bytes)"
    );
}

/// Counts drops, so that a test can see each value dropped exactly once.
#[derive(Clone, Default)]
struct DropProbe(Rc<Cell<usize>>);

/// A value whose drop adds one to its probe.
struct Token {
    probe: DropProbe,
    id: usize,
}

impl DropProbe {
    fn token(&self, id: usize) -> Token {
        Token {
            probe: self.clone(),
            id,
        }
    }

    fn drops(&self) -> usize {
        self.0.get()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.probe.0.set(self.probe.0.get() + 1);
    }
}

#[test]
fn typed_arena_drops_each_value_exactly_once() {
    let probe = DropProbe::default();
    let arena = Arena::new();
    for id in 0..1_000 {
        let token = arena.alloc(probe.token(id));
        assert_expected(&format!("the id of token {id}, read back"), &id, &token.id);
    }
    assert_expected("values in the arena", &1_000, &arena.len());
    assert_expected(
        "drops while the arena lives: values live as long as the arena",
        &0,
        &probe.drops(),
    );
    drop(arena);
    assert_expected(
        "drops once the arena is dropped: every token, once",
        &1_000,
        &probe.drops(),
    );
}

#[test]
fn typed_arena_references_stay_valid_across_growth() {
    let arena = Arena::with_capacity(4);
    let mut refs: Vec<&mut (usize, String)> = Vec::new();
    let mut addresses = Vec::new();
    for i in 0..10_000 {
        let value = arena.alloc((i, format!("value {i}")));
        addresses.push(value as *const (usize, String) as usize);
        refs.push(value);
    }
    assert!(
        arena.chunk_count() >= 10,
        "4, 8, 16, ... values per chunk: 10,000 values need 12 chunks, not {}",
        arena.chunk_count()
    );
    for (i, value) in refs.iter_mut().enumerate() {
        assert_expected(
            &format!("value {i}, read back through its reference"),
            &(i, format!("value {i}")),
            &(value.0, value.1.clone()),
        );
        value.1.push('!');
    }
    for (i, (value, &address)) in refs.iter().zip(&addresses).enumerate() {
        assert!(
            *value as *const (usize, String) as usize == address,
            "value {i} moved from {address:#x}: expected a value never to move while the arena \
             grows"
        );
        assert!(
            value.1.ends_with('!'),
            "value {i} reads {:?}: expected the '!' written through its reference",
            value.1
        );
    }
}

thread_local! {
    static UNIT_DROPS: Cell<usize> = const { Cell::new(0) };
}

/// A zero-sized value that counts its drops (in a thread-local: each test has its own thread).
struct UnitProbe;

impl Drop for UnitProbe {
    fn drop(&mut self) {
        UNIT_DROPS.with(|drops| drops.set(drops.get() + 1));
    }
}

#[test]
fn typed_arena_holds_zero_sized_values() {
    let arena = Arena::new();
    for _ in 0..500 {
        arena.alloc(UnitProbe);
    }
    assert_expected("zero-sized values in the arena", &500, &arena.len());
    assert_expected(
        "drops while the arena lives",
        &0,
        &UNIT_DROPS.with(Cell::get),
    );
    drop(arena);
    assert_expected(
        "drops once the arena is dropped: each zero-sized value, once",
        &500,
        &UNIT_DROPS.with(Cell::get),
    );
}
