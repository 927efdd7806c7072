//! Automatic collection: when CPython 3.11 collects without being asked, and which generation.
//!
//! ```text
//!   every container allocation (not served by a free list), in gc_alloc:
//!     _PyObject_GC_Link:  count0 += 1                              (pyheap does this)
//!                         count0 > threshold0, enabled, threshold0 != 0, not collecting?
//!                           collecting = true
//!                           gc_collect_generations:  the oldest g with count[g] > threshold[g],
//!                             skipping g = 2 while long_lived_pending < long_lived_total / 4,
//!                             collected with its callbacks
//!                           collecting = false
//!     then the new object is initialized and tracked: it was not part of that collection
//! ```
//!
//! So with the default thresholds (700, 10, 10), generation 0 is collected once 700 more
//! containers were made than freed since the last collection, generation 1 on every 11th
//! collection of generation 0, and generation 2 on every 11th collection of generation 1, but
//! only if that is worth it: a full collection looks at every tracked object, and the objects
//! promoted since the last one must be at least a quarter of those it left (the long-lived
//! rule, issue #4074), or a program that only grows would spend time quadratic in its size.
//!
//! pyheap counts each allocation and then calls [`GcLink::gc_link`] on whatever the `_with`
//! constructors were given (`heap.new_list_with(&mut gc)`), before tracking the new object:
//! the [`Gc`]'s `gc_link` calls [`Gc::maybe_collect`], the rest of `_PyObject_GC_Link`.

use pyheap::{GcLink, Heap};

use crate::state::{Gc, MAX_NESTING, NUM_GENERATIONS};

impl Gc {
    // ANCHOR: full_collection_due
    /// The long-lived rule: whether a full collection that the counts ask for should run now.
    /// It should unless the objects promoted into generation 2 since the last full collection
    /// ([`long_lived_pending`](Gc::long_lived_pending)) are fewer than a quarter of those that
    /// survived it ([`long_lived_total`](Gc::long_lived_total)), the quarter rounded down as C's
    /// integer division rounds it.
    pub fn full_collection_due(&self) -> bool {
        // BEGIN SOLUTION: true unless pending is below a quarter of total (rounded down)
        self.long_lived_pending >= self.long_lived_total / 4
        // END SOLUTION
    }
    // ANCHOR_END: full_collection_due

    // ANCHOR: collect_generations
    /// `gc_collect_generations()`: collects, with its callbacks, the oldest generation whose
    /// count is above its threshold, except generation 2 when the long-lived rule says a full
    /// collection is not due (then the next younger generation over its threshold is the one).
    /// Returns what the collection found (collected plus uncollectable), or 0 if no count was
    /// above its threshold. The counts are the heap's ([`Heap::gc_counts`]); the thresholds are C
    /// `int`s and may be negative.
    pub fn collect_generations(&mut self, heap: &mut Heap) -> usize {
        // BEGIN SOLUTION: the oldest generation over its threshold, generation 2 only if a full collection is due; collect it with its callbacks
        let counts = heap.gc_counts();
        for generation in (0..NUM_GENERATIONS).rev() {
            if counts[generation] as i64 > i64::from(self.thresholds[generation]) {
                if generation == NUM_GENERATIONS - 1 && !self.full_collection_due() {
                    continue;
                }
                return self.collect_with_callback(heap, generation);
            }
        }
        0
        // END SOLUTION
    }
    // ANCHOR_END: collect_generations

    // ANCHOR: should_collect
    /// The condition of `_PyObject_GC_Link`, after the heap counted an allocation: whether an
    /// automatic collection starts now. It does if and only if count0 is above threshold 0,
    /// automatic collection is enabled ([`isenabled`](Gc::isenabled)), threshold 0 is not 0 (0
    /// turns automatic collection off, whatever count0 is), and no collection is running
    /// already ([`is_collecting`](Gc::is_collecting)).
    pub fn should_collect(&self, heap: &Heap) -> bool {
        // BEGIN SOLUTION: the four conditions of the doc comment, all of them
        let threshold = self.thresholds[0];
        heap.gc_counts()[0] as i64 > i64::from(threshold)
            && self.enabled
            && threshold != 0
            && !self.collecting
        // END SOLUTION
    }
    // ANCHOR_END: should_collect

    // ANCHOR: maybe_collect
    /// The rest of `_PyObject_GC_Link`, after the heap counted an allocation (`count0 += 1`)
    /// and before it tracks the new object: when [`should_collect`](Gc::should_collect) says
    /// so, runs [`collect_generations`](Gc::collect_generations), with `collecting` set while it
    /// runs, so that the allocations the collection makes (whatever its callbacks make) start
    /// none.
    pub fn maybe_collect(&mut self, heap: &mut Heap) {
        // BEGIN SOLUTION: when should_collect says so, run collect_generations with `collecting` set around it
        if self.should_collect(heap) {
            self.collecting = true;
            self.collect_generations(heap);
            self.collecting = false;
        }
        // END SOLUTION
    }
    // ANCHOR_END: maybe_collect
}

/// What the heap calls inside an allocation (see [`GcLink`]): [`Gc::maybe_collect`], with a
/// guard that turns an endless nesting of collections into a message, and before it a full
/// collection when the stress mode is on (see [`crate::watch`]). Given.
impl GcLink for Gc {
    fn gc_link(&mut self, heap: &mut Heap) {
        self.link_depth += 1;
        if self.link_depth > MAX_NESTING {
            self.link_depth = 0;
            panic!(
                "gc_link is running inside gc_link {MAX_NESTING} deep: an allocation made during \
                 a collection started another collection, which allocated and started another. \
                 CPython never starts a collection while one is running (`collecting`)"
            );
        }
        if self.watch.stress && !self.collecting {
            // The stress mode (see `crate::watch`): a full collection at every allocation.
            // Generation 2 always exists, so `collect` has no error to return.
            self.say(|| "stress: a full collection at this allocation".to_string());
            let _ = self.collect(heap, 2);
        }
        self.maybe_collect(heap);
        self.link_depth -= 1;
    }
}
