//! The whole collection (`gc_collect_main`) and the `gc` module around it.
//!
//! [`Collector`] is the collector's state that CPython keeps in `gcstate` (the interpreter's
//! `struct _gc_runtime_state`): the debug flags, `gc.garbage`, the statistics of each
//! generation, and two counts used to damp full collections (lab 04). The object heap itself,
//! with its generation lists and allocation counts, is pyheap's [`Heap`].
//!
//! What CPython 3.11 has and this lab leaves out, because a pyheap program cannot reach it:
//! legacy finalizers (a C type's `tp_del`, the only way to get an *uncollectable* object since
//! PEP 442: Python code cannot create one), free lists (`clear_freelists`), the
//! `DEBUG_STATS`/`DEBUG_COLLECTABLE` messages, `gc.callbacks`, and the guard against a
//! collection starting inside another (no finalizer here can call `gc.collect()`).

use std::fmt;

use pyheap::{GcLink, GcList, Heap, ObjId};

use crate::deduce::deduce_unreachable;
use crate::delete::delete_garbage;
use crate::finalize::{finalize_garbage, handle_resurrected_objects};
use crate::untrack::{untrack_dicts, untrack_tuples};
use crate::watch::{Log, Snapshot, Watch, describe_list};
use crate::weakrefs::handle_weakrefs;

/// `gc.DEBUG_STATS`: print statistics during collection (accepted, prints nothing here).
pub const DEBUG_STATS: u32 = 1;
/// `gc.DEBUG_COLLECTABLE`: print the collectable objects found (accepted, prints nothing here).
pub const DEBUG_COLLECTABLE: u32 = 2;
/// `gc.DEBUG_UNCOLLECTABLE`: print the uncollectable objects found (accepted, prints nothing).
pub const DEBUG_UNCOLLECTABLE: u32 = 4;
/// `gc.DEBUG_SAVEALL`: append the garbage to `gc.garbage` instead of freeing it.
pub const DEBUG_SAVEALL: u32 = 32;
/// `gc.DEBUG_LEAK`: `DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL`.
pub const DEBUG_LEAK: u32 = DEBUG_COLLECTABLE | DEBUG_UNCOLLECTABLE | DEBUG_SAVEALL;

/// How many generations there are: 0, 1 and 2 (the permanent generation is not collected).
pub const NUM_GENERATIONS: usize = 3;

/// One generation's entry in `gc.get_stats()`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct GenerationStats {
    /// How many collections of this generation ran.
    pub collections: usize,
    /// How many objects they found unreachable and collected.
    pub collected: usize,
    /// How many unreachable objects they could not collect (always 0 here: see the module docs).
    pub uncollectable: usize,
}

/// What one collection found: CPython's `m` and `n`. `gc.collect()` returns their sum.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Collected {
    /// `m`: the unreachable tracked containers found (resurrected ones excluded), plus the
    /// weakrefs freed after their callbacks ran.
    pub collected: usize,
    /// `n`: the objects held back by legacy finalizers (always 0 here).
    pub uncollectable: usize,
}

/// `gc.collect(generation)` with a generation outside 0..=2 (the generation asked for): CPython
/// raises `ValueError: invalid generation`, in those words, without the number.
///
/// ```
/// assert_eq!(
///     cycles::InvalidGeneration(3).to_string(),
///     "ValueError: invalid generation"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InvalidGeneration(pub usize);

impl fmt::Display for InvalidGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValueError: invalid generation")
    }
}

impl std::error::Error for InvalidGeneration {}

/// The collector's state (CPython's `gcstate`), apart from the heap.
#[derive(Debug, Default)]
pub struct Collector {
    /// `gc.get_debug()`.
    debug: u32,
    /// `gc.garbage`: a list object of the heap, made on first use; the collector holds one
    /// reference to it.
    garbage: Option<ObjId>,
    /// `gc.get_stats()`, by generation.
    stats: [GenerationStats; NUM_GENERATIONS],
    /// Objects promoted from generation 1 to generation 2 since the last full collection
    /// (`long_lived_pending`; lab 04 uses it to damp full collections).
    pub long_lived_pending: usize,
    /// Objects that survived the last full collection (`long_lived_total`).
    pub long_lived_total: usize,
    /// The log and stress switches (see [`crate::watch`]).
    watch: Watch,
    /// What the log printed, kept.
    log: Log,
    /// A stress collection is running (so the allocations it makes start none).
    stressing: bool,
}

// ANCHOR: collect
impl Collector {
    /// A collector with no debug flags and empty statistics, watched as the environment
    /// variable `GCLABS_GC` asks ([`Watch::from_env`]; not watched when it is not set).
    pub fn new() -> Self {
        Collector {
            watch: Watch::from_env(),
            ..Collector::default()
        }
    }

    /// `gc.collect()`: a full collection (generation 2). Returns the number of unreachable
    /// objects found.
    pub fn collect(&mut self, heap: &mut Heap) -> usize {
        self.collect_generation(heap, NUM_GENERATIONS - 1)
            .expect("generation 2 is valid")
    }

    /// `gc.collect(generation)`: collects that generation and every younger one, records the
    /// statistics, and returns `n + m` (see [`Collected`]).
    ///
    /// # Errors
    /// [`InvalidGeneration`] if `generation` is not 0, 1 or 2.
    pub fn collect_generation(
        &mut self,
        heap: &mut Heap,
        generation: usize,
    ) -> Result<usize, InvalidGeneration> {
        if generation >= NUM_GENERATIONS {
            return Err(InvalidGeneration(generation));
        }
        let found = self.gc_collect_main(heap, generation);
        let stats = &mut self.stats[generation];
        stats.collections += 1;
        stats.collected += found.collected;
        stats.uncollectable += found.uncollectable;
        Ok(found.collected + found.uncollectable)
    }
    // ANCHOR_END: collect

    /// `gc.get_debug()`.
    pub fn debug(&self) -> u32 {
        self.debug
    }

    /// `gc.set_debug(flags)`. Setting [`DEBUG_SAVEALL`] makes `gc.garbage` if it does not exist
    /// yet (a new list, tracked in generation 0 like any other).
    pub fn set_debug(&mut self, heap: &mut Heap, flags: u32) {
        self.debug = flags;
        if flags & DEBUG_SAVEALL != 0 {
            self.garbage_list(heap);
        }
    }

    /// `gc.garbage`, if it was made.
    pub fn garbage(&self) -> Option<ObjId> {
        self.garbage
    }

    /// `gc.garbage`, made now if needed (borrowed: the collector keeps its reference).
    pub fn garbage_list(&mut self, heap: &mut Heap) -> ObjId {
        *self.garbage.get_or_insert_with(|| heap.new_list())
    }

    /// `gc.get_stats()`.
    pub fn stats(&self) -> [GenerationStats; NUM_GENERATIONS] {
        self.stats
    }

    /// Gives up the collector's reference to `gc.garbage` (as the interpreter does at exit), so
    /// a test can check that everything was freed.
    pub fn release(&mut self, heap: &mut Heap) {
        if let Some(garbage) = self.garbage.take() {
            heap.decref(garbage);
        }
    }

    /// Switches the log and the stress mode on or off for this collector (see
    /// [`crate::watch`]), whatever `GCLABS_GC` says.
    pub fn set_watch(&mut self, watch: Watch) {
        self.watch = watch;
    }

    /// Which of the log and the stress mode are on.
    pub fn watch(&self) -> Watch {
        self.watch
    }

    /// Every line the log printed so far, `gc: ` included, in order.
    pub fn watch_log(&self) -> &[String] {
        self.log.lines()
    }

    /// Prints and keeps the line `line` makes, when the log is on (the line is not made
    /// otherwise).
    fn say(&mut self, line: impl FnOnce() -> String) {
        if self.watch.log {
            self.log.say(line());
        }
    }

    /// The objects of `list` described now, when the log is on; nothing otherwise.
    fn snapshot(&self, heap: &Heap, list: GcList) -> Snapshot {
        if self.watch.log {
            Snapshot::of(heap, list)
        } else {
            Snapshot::default()
        }
    }

    // ANCHOR: gc_collect_main
    /// `gc_collect_main(generation)`: one collection of `generation` (0, 1 or 2) and every
    /// younger one, in CPython 3.11's order. Returns `m` and `n` (see [`Collected`]).
    ///
    /// The outline is given; each step it calls is yours. Where this outline skips a step that
    /// has nothing to do, it departs from CPython, which runs every step and finds nothing
    /// (the `skip` module says why).
    pub fn gc_collect_main(&mut self, heap: &mut Heap, generation: usize) -> Collected {
        let (young, old) = self.start_collection(heap, generation);
        self.say(|| {
            let young = describe_list(heap, young);
            format!("collection of generation {generation}: young holds {young}")
        });
        let unreachable = heap.gc_list_new();
        deduce_unreachable(heap, young, unreachable);
        self.say(|| {
            let (garbage, left) = (describe_list(heap, unreachable), heap.gc_list_len(young));
            format!("  deduce_unreachable: {garbage} unreachable, {left} reachable")
        });
        let survivors = self.snapshot(heap, young);
        untrack_tuples(heap, young);
        if young != old {
            self.promote_survivors(heap, generation, young, old);
        } else {
            // A full collection keeps its survivors where they are. Only full collections
            // untrack dicts: a dict untracked by a young collection is tracked again by its
            // next insertion, and then walked by every young collection (CPython issue #14775).
            untrack_dicts(heap, young);
            self.long_lived_pending = 0;
            self.long_lived_total = heap.gc_list_len(young);
        }
        self.say(|| {
            let untracked = survivors.those(|id| !heap.is_tracked(id));
            let now_in_old = survivors.those(|id| heap.gc_list_of(id) == Some(old));
            let went = if young == old { "stay in" } else { "moved to" };
            format!(
                "  survivors: {untracked} untracked, {now_in_old} {went} {}",
                old.name()
            )
        });
        let garbage = self.snapshot(heap, unreachable);
        // Not CPython: nothing unreachable, nothing to handle, count or delete.
        let collected = if heap.gc_list_is_empty(unreachable) {
            0
        } else {
            self.handle_unreachable(heap, unreachable, old)
        };
        heap.gc_list_release(unreachable);
        self.say(|| {
            if garbage.is_empty() {
                return "  handle_unreachable: skipped, nothing is unreachable".to_string();
            }
            let freed = garbage.those(|id| !heap.is_alive(id));
            let alive = garbage.those(|id| heap.is_alive(id));
            format!("  handle_unreachable: {freed} freed, {alive} still alive; found {collected}")
        });
        Collected {
            collected,
            uncollectable: 0,
        }
    }
    // ANCHOR_END: gc_collect_main

    // ANCHOR: start_collection
    /// The start of `gc_collect_main(generation)`: the allocation counts, and the lists the
    /// collection works on. Returns `(young, old)`.
    ///
    /// After:
    /// - the counts ([`Heap::gc_counts_mut`], `gc.get_count()`) of generations `0..=generation`
    ///   are 0, and the count of generation `generation + 1`, if there is one, is one higher
    ///   than before (a generation's count is the number of collections of the generation
    ///   below it since its own last collection);
    /// - `young` is [`GcList::generation`]`(generation)`, and holds every object of the younger
    ///   generations too: its own objects first, then generation 0's, then generation 1's, each
    ///   list in its order; the younger generations are empty;
    /// - `old` is where the survivors will go: the next generation, or `young` itself for a
    ///   full collection (generation 2, the oldest).
    pub fn start_collection(&mut self, heap: &mut Heap, generation: usize) -> (GcList, GcList) {
        // TODO: counts of 0..=generation are 0 and the next generation's is one higher; `young` is
        //       the generation with the younger ones merged in, 0 first; `old` is the next
        //       generation, or `young` for generation 2
        todo!()
    }
    // ANCHOR_END: start_collection

    // ANCHOR: handle_unreachable
    /// What becomes of the garbage, in CPython's order (PEP 442), and how much of it
    /// `gc.collect()` counts. Returns `m`.
    ///
    /// Before: `unreachable` holds the garbage [`deduce_unreachable`] found, in the scan's
    /// order, and is not empty; the survivors are in `old` or on their way there.
    ///
    /// After:
    /// - every weakref to the garbage was cleared, and the callbacks owed were called, before
    ///   any `__del__` ran ([`handle_weakrefs`]);
    /// - every `__del__` of the garbage that had not run ran once ([`finalize_garbage`]), before
    ///   anything was torn down;
    /// - what the finalizers made reachable again, with everything it reaches, is in `old`,
    ///   alive ([`handle_resurrected_objects`]);
    /// - the rest was torn down by [`delete_garbage`], or, when [`DEBUG_SAVEALL`] is set,
    ///   appended to `gc.garbage` ([`garbage_list`](Collector::garbage_list)); whatever of it
    ///   is still alive is in `old`;
    /// - `unreachable` is empty, and every list you made was given back
    ///   ([`Heap::gc_list_release`]);
    /// - it returns `m`: the garbage that was not resurrected, plus the weakrefs that
    ///   [`handle_weakrefs`] reports freed.
    pub fn handle_unreachable(
        &mut self,
        heap: &mut Heap,
        unreachable: GcList,
        old: GcList,
    ) -> usize {
        // TODO: weakrefs, then finalizers, then what they resurrected; m is the garbage still
        //       unreachable plus the weakrefs freed; it is deleted, or saved under DEBUG_SAVEALL;
        //       your lists given back
        todo!()
    }
    // ANCHOR_END: handle_unreachable

    // ANCHOR: promote_survivors
    /// What a young collection (generation 0 or 1) does with its survivors: they move on to the
    /// next generation.
    ///
    /// Before: `young` holds the survivors of the collection of `generation`, 0 or 1; `old` is
    /// generation `generation + 1`.
    ///
    /// After: `young` is empty and its objects are at the tail of `old`, after what `old` held,
    /// in their order. A collection of generation 1 promotes into generation 2, the long-lived
    /// objects: `long_lived_pending` has grown by the number of objects it promoted. A
    /// collection of generation 0 leaves it alone.
    pub fn promote_survivors(
        &mut self,
        heap: &mut Heap,
        generation: usize,
        young: GcList,
        old: GcList,
    ) {
        // TODO: `young`'s objects at the tail of `old`, in order; `long_lived_pending` grown by
        //       their number for generation 1 only
        todo!()
    }
    // ANCHOR_END: promote_survivors
}

/// The stress mode (see [`crate::watch`]): a collector passed to the heap's `_with`
/// constructors (`heap.new_list_with(&mut gc)`) runs a full collection at each of those
/// allocations when its stress switch is on, and does nothing otherwise. Given.
impl GcLink for Collector {
    fn gc_link(&mut self, heap: &mut Heap) {
        if self.watch.stress && !self.stressing {
            self.stressing = true;
            self.say(|| "stress: a full collection at this allocation".to_string());
            self.collect(heap);
            self.stressing = false;
        }
    }
}
