//! Graded test for lab 04: the memory that moving generations needs.
//!
//! A generation is a list threaded through the objects' own headers, so moving a whole generation
//! (the survivors of a collection to the next one, everything to the permanent generation in
//! `gc.freeze()`, and back in `gc.unfreeze()`) is a splice of two lists: a handful of pointers,
//! whatever the generation holds (`gc_list_merge`). Moving the objects one by one gives the same
//! lists in the same order, and costs time in proportion to the generation; gathering them first
//! (`gc_list_objects`, a `Vec` of ids) costs memory in proportion too.
//!
//! This test binary's allocator (testkit's `Checking`) counts what each thread holds. The test
//! runs the same steps with the reference and with yours on a heap of 200,000 live objects, and
//! compares the most memory each step needed at once beyond what was held before it. Nothing dies,
//! so the heap itself allocates nothing meanwhile.

use pyheap::Heap;
use testkit::alloc::{Checking, Mark};
use testkit::assert_same;

#[global_allocator]
static ALLOCATOR: Checking = Checking;

/// Objects on the heap, all alive.
const OBJECTS: usize = 200_000;

/// How many bytes more than the reference a step may need: room for scratch space of another
/// size, and far less than one word per object (1.6 MB).
const SLACK: usize = 64 * 1024;

/// What the test does, step by step, in Python.
const STEPS: [&str; 5] = [
    "gc.collect(0)",
    "gc.collect(1)",
    "gc.freeze()",
    "gc.unfreeze()",
    "gc.collect(2)",
];

/// A chain of [`OBJECTS`] lists held by the name `head`, made from its end, in generation 0.
fn chain(heap: &mut Heap) {
    let mut node = heap.new_list();
    for _ in 1..OBJECTS {
        let next = heap.new_list();
        heap.list_append(next, node);
        heap.decref(node);
        node = next;
    }
    heap.bind("head", node);
    heap.decref(node);
}

/// Runs [`STEPS`] with `$krate`'s `Gc` on a fresh [`chain`]: for each step, the most bytes held
/// at once beyond what was held before it, and the generations' sizes afterwards.
macro_rules! steps_measured {
    ($krate:ident) => {{
        let mut heap = Heap::new();
        chain(&mut heap);
        let mut gc = $krate::Gc::new();
        let mut peaks = Vec::with_capacity(STEPS.len());
        let mut sizes = Vec::with_capacity(STEPS.len());
        for step in 0..STEPS.len() {
            let mark = Mark::now();
            match step {
                0 => drop(gc.collect(&mut heap, 0)),
                1 => drop(gc.collect(&mut heap, 1)),
                2 => gc.freeze(&mut heap),
                3 => gc.unfreeze(&mut heap),
                _ => drop(gc.collect(&mut heap, 2)),
            }
            peaks.push(mark.peak_extra_bytes());
            sizes.push((
                [0, 1, 2].map(|g| heap.gc_list_len(pyheap::GcList::generation(g))),
                gc.get_freeze_count(&heap),
            ));
        }
        (peaks, sizes)
    }};
}

#[test]
fn moving_200000_objects_between_generations_needs_no_memory_that_grows_with_them() {
    let (reference_peaks, reference_sizes) = steps_measured!(reference);
    let (peaks, sizes) = steps_measured!(generations);
    for (step, what) in STEPS.iter().enumerate() {
        println!(
            "{what}: peak extra bytes: reference {}, yours {}",
            reference_peaks[step], peaks[step]
        );
        assert_same(
            &format!(
                "([len of generations 0, 1, 2], gc.get_freeze_count()) after {what}, on a chain \
                 of {OBJECTS} live lists"
            ),
            &reference_sizes[step],
            &sizes[step],
        );
        assert!(
            peaks[step] <= reference_peaks[step] + SLACK,
            "{what} on a chain of {OBJECTS} live lists needed {} bytes of memory beyond what was \
             held before it, at its peak; the reference needed {}: expected at most {SLACK} more \
             than the reference. Your code gathers the objects of a generation before moving \
             them (gc_list_objects, a Vec of ids): a generation moves whole, by splicing its list \
             (gc_list_merge)",
            peaks[step],
            reference_peaks[step]
        );
    }
}
