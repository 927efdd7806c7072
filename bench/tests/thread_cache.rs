//! The maintainers' tests of `PyMallocGlobal`'s per-thread caches (lab 02's `pymalloc/global.rs`:
//! given to the learner, so not graded), on the reference. They live here, beside the benchmark
//! that measures those caches, because a lab's solution runs exactly the lab's graded tests.
//! `.ci/run` runs them (`cargo test -p gclabs-bench --release --test thread_cache`).
//!
//! `PyMallocGlobal` is used through its `GlobalAlloc` methods, not installed as the global
//! allocator: the test harness runs on the system's.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::mpsc;

use sol02::pymalloc::PyMallocGlobal;
use sol02::pymalloc::global::REFILL;

/// A block's address, sent to another thread.
struct Block(*mut u8);

// SAFETY: the block is plain memory; only its address travels, and one thread uses it at a time.
unsafe impl Send for Block {}

/// 24 bytes: size class 1 (32-byte blocks).
fn layout() -> Layout {
    Layout::new::<[u64; 3]>()
}

/// Blocks of class 1 that pymalloc counts as in use, seen from the calling thread (whose own
/// cached blocks `stats` gives back first).
fn class_1_in_use(heap: &PyMallocGlobal) -> usize {
    heap.stats().classes[1].blocks_in_use
}

/// Runs `f` on a new thread: a thread's cache serves the first `PyMallocGlobal` it uses, so each
/// test's allocator gets threads of its own.
fn on_new_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f).join().unwrap();
}

#[test]
fn a_thread_that_frees_before_it_allocates_still_keeps_a_full_refill_and_gives_it_back_at_exit() {
    on_new_thread(frees_first);
}

fn frees_first() {
    static HEAP: PyMallocGlobal = PyMallocGlobal::new();
    // SAFETY: the layout is valid and non-zero.
    let block = Block(unsafe { HEAP.alloc(layout()) });
    assert!(!block.0.is_null());

    let (done, wait_done) = mpsc::channel();
    let (go, wait_go) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let block = block;
        // The thread's first request is a free: the block goes to its pending list.
        // SAFETY: `block` came from `HEAP.alloc` with this layout and is freed once.
        unsafe { HEAP.dealloc(block.0, layout()) };
        for _ in 0..1000 {
            // SAFETY: as above, for a block made here.
            let p = unsafe { HEAP.alloc(layout()) };
            assert!(!p.is_null());
            // SAFETY: `p` came from `HEAP.alloc` with this layout and is freed once.
            unsafe { HEAP.dealloc(p, layout()) };
        }
        done.send(()).unwrap();
        wait_go.recv().unwrap();
    });

    wait_done.recv().unwrap();
    // The worker holds its blocks (kept or pending); pymalloc counts them in use.
    let held = class_1_in_use(&HEAP);
    go.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(
        held, REFILL,
        "a thread that allocates and frees one block of a class at a time should hold REFILL \
         blocks of it (one trip to the lock per REFILL allocations); it held {held}"
    );
    assert_eq!(
        class_1_in_use(&HEAP),
        0,
        "a thread that ended should have given its blocks back"
    );
    HEAP.check_invariants().unwrap();
}

#[test]
fn blocks_freed_on_another_thread_go_back_to_their_pools() {
    on_new_thread(frees_elsewhere);
}

fn frees_elsewhere() {
    static HEAP: PyMallocGlobal = PyMallocGlobal::new();
    let (send, receive) = mpsc::channel::<Block>();
    let freer = std::thread::spawn(move || {
        for block in receive {
            // SAFETY: each block came from `HEAP.alloc` with this layout and is freed once.
            unsafe { HEAP.dealloc(block.0, layout()) };
        }
    });
    for i in 0..10_000u64 {
        // SAFETY: the layout is valid and non-zero.
        let p = unsafe { HEAP.alloc(layout()) };
        assert!(!p.is_null());
        // SAFETY: the block is 24 bytes, 16-aligned, and ours.
        unsafe { p.cast::<[u64; 3]>().write([i, i, i]) };
        send.send(Block(p)).unwrap();
    }
    drop(send);
    freer.join().unwrap();
    assert_eq!(class_1_in_use(&HEAP), 0, "every block was freed");
    HEAP.check_invariants().unwrap();
}
