//! Graded test for lab 03: the memory a collection needs.
//!
//! CPython's collector allocates nothing that grows with the heap. The counts it works on
//! (`gc_refs`) and the lists it sorts objects into live in each object's own `PyGC_Head`, so a
//! collection can run when memory is short, which is when it is most needed. pyheap gives you the
//! same: `gc_refs` and the generation lists are in the objects. A collector that gathers the ids of
//! a generation into a `Vec` of its own, or keeps a set of the objects it has seen, gets the same
//! answers and needs memory in proportion to the heap.
//!
//! This test binary's allocator (testkit's `Checking`) counts what each thread holds. The test
//! runs one collection of the same heap with the reference and with yours, and compares the most
//! memory each needed at once beyond what the heap held before. On a heap where everything is
//! alive, the reference needs 256 bytes (one buffer for an object's referents). Where garbage
//! is freed, the heap itself allocates as it goes (its free lists, the log of deaths the other
//! tests read), the same for both.

use pyheap::Heap;
use testkit::alloc::{Checking, Mark};
use testkit::assert_expected;

#[global_allocator]
static ALLOCATOR: Checking = Checking;

/// Objects on each heap.
const OBJECTS: usize = 200_000;

/// How many bytes more than the reference a collection of [`OBJECTS`] objects may need: room for
/// scratch space of another size, and far less than one word per object (1.6 MB).
const SLACK: usize = 64 * 1024;

/// A chain of `n` lists held by the name `head`, made from its end.
fn chain(heap: &mut Heap, n: usize) {
    let mut node = heap.new_list();
    for _ in 1..n {
        let next = heap.new_list();
        heap.list_append(next, node);
        heap.decref(node);
        node = next;
    }
    heap.bind("head", node);
    heap.decref(node);
}

/// All alive: nothing is freed, so the heap allocates nothing while the collector runs, and every
/// byte counted is the collector's.
fn all_alive(heap: &mut Heap) {
    chain(heap, OBJECTS);
}

/// Half a live chain, half garbage 2-cycles: the heap's own log of deaths grows while the garbage
/// is freed, as much for the reference as for yours.
fn half_garbage(heap: &mut Heap) {
    chain(heap, OBJECTS / 2);
    for _ in 0..OBJECTS / 4 {
        let a = heap.new_list();
        let b = heap.new_list();
        heap.list_append(a, b);
        heap.list_append(b, a);
        heap.decref(a);
        heap.decref(b);
    }
}

/// One full collection of a heap `build` makes, by `$krate`'s collector: what it returned, and
/// the most bytes it held at once beyond what was held before it started.
macro_rules! collect_and_measure {
    ($krate:ident, $build:expr) => {{
        let mut heap = Heap::new();
        $build(&mut heap);
        let mut gc = $krate::Collector::new();
        let mark = Mark::now();
        let found = gc.collect(&mut heap);
        (found, mark.peak_extra_bytes())
    }};
}

/// A heap to collect: its name in the failure, and what builds it.
type NamedHeap = (&'static str, fn(&mut Heap));

#[test]
fn collecting_200000_objects_needs_no_memory_that_grows_with_them() {
    let heaps: [NamedHeap; 2] = [
        ("a live chain of 200,000 lists", all_alive),
        (
            "a live chain of 100,000 lists and 50,000 garbage pairs",
            half_garbage,
        ),
    ];
    for (heap_name, build) in heaps {
        let (reference_found, reference_bytes) = collect_and_measure!(reference, build);
        let (found, bytes) = collect_and_measure!(cycles, build);
        println!(
            "{heap_name}: peak extra bytes of one collection: reference {reference_bytes}, yours {bytes}"
        );
        assert_expected(
            &format!("what gc.collect() returned for {heap_name}"),
            &reference_found,
            &found,
        );
        assert!(
            bytes <= reference_bytes + SLACK,
            "one full collection of {heap_name} needed {bytes} bytes of memory beyond what the \
             heap held before it, at its peak; the reference needed {reference_bytes}: expected \
             at most {SLACK} more than the reference. Something in your collector grows with the \
             heap (a Vec of the ids of a list, a set of objects seen): gc_refs and the lists are \
             in the objects themselves, and the steps walk the lists"
        );
    }
}
