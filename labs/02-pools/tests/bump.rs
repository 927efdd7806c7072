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
use pretty_assertions::assert_eq;

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
fn fill_chunk(bump: &Bump, layout: Layout) -> (usize, std::ptr::NonNull<u8>) {
    let chunks = bump.chunk_count();
    for fitted in 0..1_000_000 {
        let block = bump.alloc_layout(layout);
        if bump.chunk_count() != chunks {
            return (fitted, block);
        }
    }
    panic!("a million blocks of {layout:?} and still no new chunk");
}

#[test]
fn bump_blocks_are_aligned_for_every_power_of_two() {
    let bump = Bump::with_chunk_size(256);
    let mut blocks = Vec::new();
    for shift in 0..=12 {
        let align = 1usize << shift;
        for size in [1, align, align + 3] {
            let block = bump.alloc_layout(layout(size, align));
            assert_eq!(
                addr(block) % align,
                0,
                "a block of {size} bytes aligned to {align} is at {:#x}",
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
            "the block of {size} bytes at {:#x} was overwritten: blocks overlap",
            addr(block)
        );
    }
    let requested: usize = blocks.iter().map(|&(_, size, _)| size).sum();
    assert_eq!(bump.allocated_bytes(), requested);
}

#[test]
fn bump_blocks_follow_each_other_in_a_chunk() {
    let bump = Bump::with_chunk_size(1024);
    let a = addr(bump.alloc_layout(layout(8, 8)));
    let b = addr(bump.alloc_layout(layout(8, 8)));
    assert_eq!(b, a + 8, "the second block starts where the first ends");
    let c = addr(bump.alloc_layout(layout(1, 1)));
    assert_eq!(c, a + 16, "a 1-byte block needs no padding");
    let d = addr(bump.alloc_layout(layout(8, 8)));
    assert_eq!(
        d,
        a + 24,
        "after the 1-byte block the cursor is rounded up to 8 (7 bytes of padding)"
    );
    assert_eq!(bump.chunk_count(), 1);
    assert_eq!(
        bump.allocated_bytes(),
        25,
        "allocated_bytes counts requested bytes, not padding"
    );
}

#[test]
fn bump_grows_by_doubling_chunks() {
    let bump = Bump::with_chunk_size(1024);
    assert_eq!(bump.chunk_count(), 0, "a new arena holds no chunk yet");
    let sixteen = layout(16, 16);
    bump.alloc_layout(sixteen);
    assert_eq!(bump.chunk_count(), 1);
    let mut per_chunk = Vec::new();
    // The first chunk already holds one block.
    let (fitted, _) = fill_chunk(&bump, sixteen);
    per_chunk.push(fitted + 1);
    for _ in 0..2 {
        let (fitted, _) = fill_chunk(&bump, sixteen);
        per_chunk.push(fitted + 1);
    }
    assert_eq!(
        per_chunk,
        [64, 128, 256],
        "blocks of 16 bytes per chunk: chunks of 1024, 2048 and 4096 bytes"
    );
    assert_eq!(bump.chunk_count(), 4);
    assert_eq!(bump.capacity_bytes(), 1024 + 2048 + 4096 + 8192);
    assert_eq!(bump.allocated_bytes(), 16 * (64 + 128 + 256 + 1));
}

#[test]
fn large_request_gets_its_own_chunk() {
    let bump = Bump::with_chunk_size(1024);
    let first = addr(bump.alloc_layout(layout(16, 16)));
    let large = bump.alloc_layout(layout(100_000, 64));
    assert_eq!(addr(large) % 64, 0);
    assert_eq!(
        bump.chunk_count(),
        2,
        "the large request has a chunk of its own"
    );
    assert_eq!(bump.capacity_bytes(), 1024 + 100_000);
    let next = addr(bump.alloc_layout(layout(16, 16)));
    assert_eq!(
        next,
        first + 16,
        "the first chunk is still current: the next small block follows the first one"
    );
    assert_eq!(bump.chunk_count(), 2);
    assert_eq!(bump.allocated_bytes(), 16 + 100_000 + 16);
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
    assert!(bump.chunk_count() > 5, "64-byte chunks fill up quickly");
    for (i, (number, name)) in numbers.iter().zip(&names).enumerate() {
        assert_eq!(**number, i as u64 * 3);
        assert_eq!(&**name, format!("object {i}"));
    }
    *numbers[7] += 1;
    assert_eq!(*numbers[7], 22);
    assert_eq!(
        *numbers[8], 24,
        "writing one value leaves its neighbour alone"
    );
}

#[test]
fn zero_sized_requests_take_no_memory() {
    let bump = Bump::new();
    let empty = bump.alloc_layout(layout(0, 64));
    assert_eq!(addr(empty) % 64, 0);
    let unit: &mut () = bump.alloc(());
    *unit = ();
    assert_eq!(bump.chunk_count(), 0, "zero bytes need no chunk");
    assert_eq!(bump.allocated_bytes(), 0);
    let byte = bump.alloc(7u8);
    assert_eq!(*byte, 7);
    assert_eq!(
        bump.chunk_count(),
        1,
        "the first byte takes the first chunk"
    );
    assert_eq!(bump.allocated_bytes(), 1);
}

#[test]
fn reset_frees_everything_and_reuses_one_chunk() {
    let mut bump = Bump::with_chunk_size(1024);
    let sixteen = layout(16, 16);
    bump.alloc_layout(sixteen);
    fill_chunk(&bump, sixteen); // into the second chunk (2048 bytes)
    let (_, first_of_third) = fill_chunk(&bump, sixteen); // into the third (4096 bytes)
    bump.alloc_layout(layout(50_000, 16)); // a chunk of its own
    assert_eq!(bump.chunk_count(), 4);

    bump.reset();
    assert_eq!(bump.chunk_count(), 1, "reset keeps exactly one chunk");
    assert_eq!(bump.allocated_bytes(), 0);
    assert_eq!(
        bump.capacity_bytes(),
        4096,
        "the chunk kept is the current one, the largest"
    );
    let again = bump.alloc_layout(sixteen);
    assert_eq!(
        addr(again),
        addr(first_of_third),
        "after reset, allocation starts again at the start of the kept chunk"
    );
    let (fitted, _) = fill_chunk(&bump, sixteen);
    assert_eq!(fitted + 1, 256, "all of the kept chunk is free again");
    assert_eq!(
        bump.capacity_bytes(),
        4096 + 8192,
        "after the kept chunk, chunks go on doubling"
    );
}

#[test]
fn reset_in_a_loop_settles_on_one_chunk() {
    let mut bump = Bump::new();
    let mut capacities = Vec::new();
    for phase in 0..50u64 {
        for i in 0..1_000u64 {
            let triple = bump.alloc([phase, i, phase ^ i]);
            assert_eq!(triple[2], phase ^ i);
        }
        assert_eq!(bump.allocated_bytes(), 24_000);
        bump.reset();
        assert_eq!(bump.chunk_count(), 1);
        capacities.push(bump.capacity_bytes());
    }
    assert!(
        capacities[5..].iter().all(|&c| c == capacities[5]),
        "once the kept chunk holds a whole phase, no phase needs a new chunk: {capacities:?}"
    );
    assert!(capacities[5] < 4 * 24_000, "{capacities:?}");
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
        assert_eq!(token.id, id);
    }
    assert_eq!(arena.len(), 1_000);
    assert_eq!(probe.drops(), 0, "values live as long as the arena");
    drop(arena);
    assert_eq!(
        probe.drops(),
        1_000,
        "dropping the arena drops every value, once"
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
        assert_eq!(value.0, i);
        assert_eq!(value.1, format!("value {i}"));
        value.1.push('!');
    }
    for (value, &address) in refs.iter().zip(&addresses) {
        assert_eq!(
            *value as *const (usize, String) as usize, address,
            "a value never moves"
        );
        assert!(value.1.ends_with('!'));
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
    assert_eq!(arena.len(), 500);
    assert_eq!(UNIT_DROPS.with(Cell::get), 0);
    drop(arena);
    assert_eq!(
        UNIT_DROPS.with(Cell::get),
        500,
        "each zero-sized value is dropped once"
    );
}
