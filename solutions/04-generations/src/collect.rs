//! One collection of generation g: `gc_collect_main`, seen from the generations.
//!
//! Lab 03 wrote what a collection does to the objects of one list: which are garbage, and how
//! they are freed. What a collection does to the *generations* is this lab's:
//!
//! ```text
//!   collect(1)            before                        after
//!   generation 0   [a b c]        ─┐ merged into 1
//!   generation 1   [d e]    ◀──────┘  young = [d e a b c]   (empty)
//!   generation 2   [f]            ◀── survivors of young    [f d e a c]  (b was garbage)
//!   counts         (5, 3, 7)                                (0, 0, 8)
//! ```
//!
//! - The counts ([`update_counts`]): the collection covers generations 0 to g, so their counts
//!   start again from 0, and the next generation's count records one more collection.
//! - The merge ([`merge_younger`]): collecting generation g means collecting 0 to g, as one list.
//! - The survivors ([`Gc::move_survivors`]): they move up one generation; a full collection
//!   keeps them in generation 2. The long-lived counts record how many objects reached
//!   generation 2 since the last full collection, and how many that one left.
//! - A full collection empties the free lists ([`clear_freelists`]).
//! - The statistics ([`Gc::record_stats`]).
//!
//! [`Gc::gc_collect_main`] (given) runs them in CPython's order around lab 03's reference
//! collector.

use std::fmt;

use cycles::watch::describe_list;
use cycles::{Collected, deduce_unreachable, untrack_dicts, untrack_tuples};
use pyheap::{GcList, Heap};

use crate::state::{Gc, NUM_GENERATIONS};

/// Lab 03's part of a collection, which [`Gc::gc_collect_main`] calls: finding the garbage among
/// the objects of `young`, and what becomes of it. By default it is lab 03's reference collector
/// ([`ReferenceCycles`]); the course's interpreter, `pyrun`, gives a [`Gc`] your own lab 03
/// collector instead ([`Gc::with_cycles`]), so that a Python program runs on both of your labs.
pub trait Cycles: fmt::Debug {
    /// `deduce_unreachable(young, unreachable)`: moves the garbage of `young` to `unreachable`.
    fn deduce_unreachable(&mut self, heap: &mut Heap, young: GcList, unreachable: GcList);
    /// `untrack_tuples(young)`: untracks the surviving tuples that can hold no cycle.
    fn untrack_tuples(&mut self, heap: &mut Heap, young: GcList);
    /// Weakrefs, finalizers, resurrection and `tp_clear` for the garbage in `unreachable` (not
    /// empty), survivors to `old`; returns `m`, what `gc.collect()` counts (lab 03's
    /// `Collector::handle_unreachable`).
    fn handle_unreachable(&mut self, heap: &mut Heap, unreachable: GcList, old: GcList) -> usize;
}

/// Lab 03's reference collector, as [`Cycles`]: what a [`Gc`] uses unless told otherwise.
#[derive(Debug, Default)]
pub struct ReferenceCycles(pub cycles::Collector);

impl Cycles for ReferenceCycles {
    fn deduce_unreachable(&mut self, heap: &mut Heap, young: GcList, unreachable: GcList) {
        deduce_unreachable(heap, young, unreachable);
    }

    fn untrack_tuples(&mut self, heap: &mut Heap, young: GcList) {
        untrack_tuples(heap, young);
    }

    fn handle_unreachable(&mut self, heap: &mut Heap, unreachable: GcList, old: GcList) -> usize {
        self.0.handle_unreachable(heap, unreachable, old)
    }
}

// ANCHOR: update_counts
/// The counts at the start of a collection of `generation`: afterwards the counts of
/// generations `0..=generation` are 0, and, unless `generation` is the oldest, the count of
/// `generation + 1` is one more than before (it counts the collections of the generation below
/// it since its own last collection). Read and write them with [`Heap::gc_counts_mut`].
pub fn update_counts(heap: &mut Heap, generation: usize) {
    // BEGIN SOLUTION: leave the counts as the doc comment says: the collected generations' at 0, the next one's one higher
    let counts = heap.gc_counts_mut();
    if generation + 1 < NUM_GENERATIONS {
        counts[generation + 1] += 1;
    }
    for count in &mut counts[..=generation] {
        *count = 0;
    }
    // END SOLUTION
}
// ANCHOR_END: update_counts

// ANCHOR: merge_younger
/// Makes generation `generation` hold every object of generations `0..=generation` and
/// returns it (`young`): what was in it stays first, followed by each younger generation in
/// order, 0 first, each keeping its own order; the younger generations end empty. Objects of
/// older generations are not touched.
pub fn merge_younger(heap: &mut Heap, generation: usize) -> GcList {
    // BEGIN SOLUTION: append each younger generation, 0 first, to the end of this one, and return this one
    let young = GcList::generation(generation);
    for younger in 0..generation {
        heap.gc_list_merge(GcList::generation(younger), young);
    }
    young
    // END SOLUTION
}
// ANCHOR_END: merge_younger

// ANCHOR: clear_freelists
/// The end of a collection of `generation`: a full collection (generation 2) empties the free
/// lists ([`Heap::clear_free_lists`]); a younger one leaves them as they are.
pub fn clear_freelists(heap: &mut Heap, generation: usize) {
    // BEGIN SOLUTION: empty the free lists after a full collection, and only then
    if generation == NUM_GENERATIONS - 1 {
        heap.clear_free_lists();
    }
    // END SOLUTION
}
// ANCHOR_END: clear_freelists

impl Gc {
    // ANCHOR: move_survivors
    /// The survivors of a collection of `generation`, which are in `young` once the garbage
    /// was moved out, and the long-lived counts:
    ///
    /// - a collection of generation 0 or 1 moves every survivor to the end of `old`, the next
    ///   generation, in order; when it collected generation 1, the survivors are promoted to
    ///   generation 2, and [`long_lived_pending`](Gc::long_lived_pending) grows by their number;
    /// - a full collection keeps its survivors in generation 2 (`young` is `old`); it first
    ///   untracks the dicts among them that can hold no cycle (lab 03's [`untrack_dicts`], run
    ///   only here), then [`long_lived_total`](Gc::long_lived_total) becomes the number of
    ///   survivors left tracked, and `long_lived_pending` starts again from 0.
    pub fn move_survivors(
        &mut self,
        heap: &mut Heap,
        generation: usize,
        young: GcList,
        old: GcList,
    ) {
        // BEGIN SOLUTION: promote the survivors (or keep them, in a full collection) and keep the two long-lived counts as the doc comment says
        if young != old {
            if generation == NUM_GENERATIONS - 2 {
                self.long_lived_pending += heap.gc_list_len(young);
            }
            heap.gc_list_merge(young, old);
        } else {
            untrack_dicts(heap, young);
            self.long_lived_pending = 0;
            self.long_lived_total = heap.gc_list_len(young);
        }
        // END SOLUTION
    }
    // ANCHOR_END: move_survivors

    // ANCHOR: record_stats
    /// `gc.get_stats()` after a collection of `generation` that examined `examined` objects and
    /// found `found`: that generation's entry, and only it, counts one more collection, the
    /// objects collected and uncollectable, and the objects examined.
    pub fn record_stats(&mut self, generation: usize, found: Collected, examined: usize) {
        // BEGIN SOLUTION: add this collection to the statistics of the generation collected
        let stats = &mut self.stats[generation];
        stats.collections += 1;
        stats.collected += found.collected;
        stats.uncollectable += found.uncollectable;
        stats.examined += examined;
        // END SOLUTION
    }
    // ANCHOR_END: record_stats

    // ANCHOR: gc_collect_main
    /// `gc_collect_main(generation)`: one collection of `generation` (0, 1 or 2) and every
    /// younger one, in CPython 3.11's order. Returns what it found. Given: it calls your steps
    /// 1 to 5 and lab 03's collector ([`Cycles`]: the reference, unless [`Gc::with_cycles`] gave
    /// another).
    ///
    /// # Panics
    /// If `generation` is above 2.
    pub fn gc_collect_main(&mut self, heap: &mut Heap, generation: usize) -> Collected {
        assert!(
            generation < NUM_GENERATIONS,
            "gc_collect_main({generation}): there are three generations, 0 to 2"
        );
        update_counts(heap, generation);
        let young = merge_younger(heap, generation);
        let examined = heap.gc_list_len(young);
        let old = if generation + 1 < NUM_GENERATIONS {
            GcList::generation(generation + 1)
        } else {
            young
        };
        self.say(|| {
            let (counts, young) = (heap.gc_counts(), describe_list(heap, young));
            let collection = format!("collection of generation {generation}");
            format!("{collection}: counts now {counts:?}, young holds {young}")
        });

        // Lab 03: which objects of `young` are garbage. Survivors stay in `young`.
        let unreachable = heap.gc_list_new();
        self.cycles.deduce_unreachable(heap, young, unreachable);
        self.say(|| {
            let (garbage, left) = (describe_list(heap, unreachable), heap.gc_list_len(young));
            format!("  deduce_unreachable: {garbage} unreachable, {left} reachable")
        });
        let survivors = self.snapshot(heap, young);
        self.cycles.untrack_tuples(heap, young);
        self.move_survivors(heap, generation, young, old);
        let (pending, total) = (self.long_lived_pending, self.long_lived_total);
        self.say(|| {
            let untracked = survivors.those(|id| !heap.is_tracked(id));
            let now_in_old = survivors.those(|id| heap.gc_list_of(id) == Some(old));
            let went = if young == old { "stay in" } else { "moved to" };
            format!(
                "  move_survivors: {untracked} untracked, {now_in_old} {went} {}; \
                 long_lived_pending {pending}, long_lived_total {total}",
                old.name()
            )
        });

        // Lab 03: weakrefs, finalizers, resurrection, and tp_clear on the rest (nothing to do
        // when nothing is unreachable, as in lab 03's own outline).
        let garbage = self.snapshot(heap, unreachable);
        let collected = if heap.gc_list_is_empty(unreachable) {
            0
        } else {
            self.cycles.handle_unreachable(heap, unreachable, old)
        };
        heap.gc_list_release(unreachable);
        self.say(|| {
            let freed = garbage.those(|id| !heap.is_alive(id));
            let alive = garbage.those(|id| heap.is_alive(id));
            format!("  the garbage: {freed} freed, {alive} still alive")
        });

        clear_freelists(heap, generation);
        let found = Collected {
            collected,
            uncollectable: 0,
        };
        self.record_stats(generation, found, examined);
        let stats = self.stats[generation];
        self.say(|| {
            format!(
                "  record_stats: generation {generation} has collections {}, collected {}, \
                 examined {}",
                stats.collections, stats.collected, stats.examined
            )
        });
        found
    }
    // ANCHOR_END: gc_collect_main
}
