//! Graded test for lab 02, part (b): pymalloc as Rust's global allocator.
//!
//! This file is a test binary of its own because it sets its own `#[global_allocator]`. That
//! allocator sends a thread's requests to your pymalloc only while the thread runs
//! [`on_pymalloc`], and everything else (the test harness itself) to the system allocator: so
//! listing and starting the tests never depends on your code, and a bug in it fails this test
//! alone. Blocks are freed by whoever made them, wherever they are freed: `PyMallocGlobal`
//! checks the address, as CPython's `PyObject_Free` does.
//!
//! A panic inside a global allocator cannot unwind, so a `todo!()` reached here aborts the test
//! process (after printing where it was), instead of failing the test normally.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use pools::pymalloc::PyMallocGlobal;
use testkit::assert_expected;

/// Your pymalloc, as a global allocator.
static PYMALLOC: PyMallocGlobal = PyMallocGlobal::new();

/// Set once `PYMALLOC` may own blocks: from then on frees are offered to it first.
static USED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread's allocations go to `PYMALLOC`.
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// Sends the allocations of threads inside [`on_pymalloc`] to `PYMALLOC`, all others to the
/// system allocator.
struct Router;

#[global_allocator]
static ROUTER: Router = Router;

// SAFETY: each block is freed by the allocator that made it: `PyMallocGlobal` frees only blocks
// inside its arenas and passes every other block to `System`, which made it.
unsafe impl GlobalAlloc for Router {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.get() {
            // SAFETY: the caller's layout is valid and non-zero, as both allocators require.
            unsafe { PYMALLOC.alloc(layout) }
        } else {
            // SAFETY: as above.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if USED.load(Ordering::Acquire) {
            // SAFETY: the block is live with this layout; PyMallocGlobal gives blocks that are
            // not in its arenas to System.
            unsafe { PYMALLOC.dealloc(ptr, layout) }
        } else {
            // SAFETY: nothing was ever allocated by PYMALLOC, so System made this block.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.get() || (USED.load(Ordering::Acquire) && PYMALLOC.owns(ptr)) {
            // SAFETY: the caller's promises; PyMallocGlobal handles System's blocks too.
            unsafe { PYMALLOC.realloc(ptr, layout, new_size) }
        } else {
            // SAFETY: the block is not in pymalloc's arenas, so System made it.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

/// Runs `f` with this thread's allocations going to your pymalloc.
fn on_pymalloc<R>(f: impl FnOnce() -> R) -> R {
    USED.store(true, Ordering::Release);
    ON.set(true);
    let result = f();
    ON.set(false);
    result
}

/// How much smaller the program is under Miri, which runs it thousands of times slower.
const SCALE: u64 = if cfg!(miri) { 50 } else { 1 };

/// A small "Python program": a dict of lists keyed by strings, a list of strings, tuples in
/// boxes, all of it grown, shrunk and freed. Returns a checksum of what it computed.
fn python_like_program() -> u64 {
    let mut dict: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for i in 0..3000 / SCALE {
        let key = format!("key{:05}", i * 7919 % 3001);
        let list = dict.entry(key).or_default();
        list.extend((0..i % 50).map(|x| x * i));
    }
    // One list grows past 512 bytes: its buffer moves from pymalloc to the system allocator.
    let long: Vec<u64> = (0..300).collect();
    let words: Vec<String> = (0..4000 / SCALE as usize)
        .map(|i| "spam".repeat(1 + i % 9))
        .collect();
    let tuples: Vec<Box<(u64, u64, u64)>> = (0..2000 / SCALE)
        .map(|i| Box::new((i, i * i, i ^ 0x55)))
        .collect();
    // Delete every other key, as `del d[k]` would.
    let keys: Vec<String> = dict.keys().step_by(2).cloned().collect();
    for key in &keys {
        dict.remove(key);
    }
    let mut sum = long.iter().sum::<u64>();
    for (key, list) in &dict {
        sum = sum.wrapping_mul(31).wrapping_add(key.len() as u64);
        sum = sum.wrapping_add(list.iter().sum::<u64>());
    }
    sum = sum.wrapping_add(words.iter().map(|w| w.len() as u64).sum::<u64>());
    sum.wrapping_add(tuples.iter().map(|t| t.0 + t.1 + t.2).sum::<u64>())
}

/// Strings kept alive while the statistics are read: 5000 (100 under Miri).
const KEPT: usize = 5000 / SCALE as usize;

#[test]
fn program_runs_on_pymalloc_as_global_allocator() {
    let expected = python_like_program(); // on the system allocator
    let (result, busy, after) = on_pymalloc(|| {
        let result = python_like_program();
        let busy = PYMALLOC.stats(); // the program's data is freed by now...
        let kept: Vec<String> = (0..KEPT).map(|i| format!("{i}")).collect();
        let during = PYMALLOC.stats(); // ...but these KEPT strings are alive
        drop(kept);
        let after = PYMALLOC.stats();
        (result, (busy, during), after)
    });
    assert_expected(
        "the checksum the program computed on your pymalloc (the system allocator's result)",
        &expected,
        &result,
    );
    let (busy, during) = busy;
    assert!(
        during.arenas_allocated_total >= 1,
        "no arena was ever mapped: expected the program's small blocks to come from pymalloc's \
         arenas"
    );
    assert_expected(
        &format!(
            "blocks in use once the program has freed its data: every block it allocated from \
             pymalloc was freed\n{busy}"
        ),
        &0,
        &busy.blocks_in_use(),
    );
    assert_expected(
        &format!(
            "blocks in use while {KEPT} strings of at most 4 bytes are alive: one 16-byte block \
             each\n{during}"
        ),
        &KEPT,
        &during.blocks_in_use(),
    );
    assert_expected(
        "blocks in use of class 0 (16-byte blocks) while the strings are alive",
        &KEPT,
        &during.classes[0].blocks_in_use,
    );
    assert_expected(
        "blocks in use once the strings are dropped",
        &0,
        &after.blocks_in_use(),
    );
    if let Err(why) = PYMALLOC.check_invariants() {
        panic!("check_invariants after the program: {why}");
    }
}
