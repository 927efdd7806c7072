//! The `gc` module's functions (`Modules/gcmodule.c`, `gc_*_impl`), on a [`Gc`] and a heap.
//!
//! | Python                        | here                                    |         |
//! |-------------------------------|-----------------------------------------|---------|
//! | `gc.collect(generation=2)`    | [`Gc::collect`]                         | yours   |
//! | `gc.set_threshold(t0[, t1[, t2]])` | [`Gc::set_threshold`]              | yours   |
//! | `gc.get_objects(generation=None)` | [`Gc::get_objects`]                 | yours   |
//! | `gc.freeze()`, `gc.unfreeze()` | [`Gc::freeze`], [`Gc::unfreeze`]       | yours   |
//! | `gc.get_threshold()`          | [`Gc::get_threshold`]                   | given   |
//! | `gc.get_count()`              | [`Gc::get_count`]                       | given   |
//! | `gc.enable()`, `gc.disable()`, `gc.isenabled()` | [`Gc::enable`], ...   | given   |
//! | `gc.get_stats()`              | [`Gc::get_stats`]                       | given   |
//! | `gc.get_freeze_count()`       | [`Gc::get_freeze_count`]                | given   |
//! | `gc.callbacks`                | [`Gc::add_callback`], ...               | given   |
//!
//! Python's `gc.get_count()`, `gc.get_threshold()` and `gc.get_stats()` return new tuples,
//! lists and dicts, which are containers and count in `count0`; these functions return plain
//! Rust values and allocate nothing (the parity tests make those containers where the scripts
//! do). `gc.get_objects()` returns a list of objects, so here too it returns a list of the heap,
//! made as CPython makes it.

use pyheap::{GcList, Heap, ObjId};

use crate::errors::GcError;
use crate::state::{Gc, GenerationStats, NUM_GENERATIONS};

impl Gc {
    // ANCHOR: collect
    /// `gc.collect(generation)`: a collection of `generation` with its callbacks
    /// ([`collect_with_callback`](Gc::collect_with_callback)), whether automatic collection is
    /// enabled or not. Returns what it found, or 0 without collecting if a collection is
    /// already running (a callback calling `gc.collect()`, say). `collecting` is set while the
    /// collection runs.
    ///
    /// # Errors
    /// [`GcError::InvalidGeneration`] if `generation` is not 0, 1 or 2.
    pub fn collect(&mut self, heap: &mut Heap, generation: i32) -> Result<usize, GcError> {
        // TODO: refuse a generation outside 0..=2; return 0 while collecting; otherwise collect
        //       with callbacks, `collecting` set around it
        todo!()
    }
    // ANCHOR_END: collect

    // ANCHOR: set_threshold
    /// `gc.set_threshold(threshold0[, threshold1[, threshold2]])`: sets threshold 0, and the
    /// others only if given (`PyArg_ParseTuple(args, "i|ii", ...)` leaves a missing one as it
    /// was). Every C `int` is accepted, 0 and negative ones included.
    pub fn set_threshold(
        &mut self,
        threshold0: i32,
        threshold1: Option<i32>,
        threshold2: Option<i32>,
    ) {
        // TODO: set threshold 0, and thresholds 1 and 2 only when given
        todo!()
    }
    // ANCHOR_END: set_threshold

    // ANCHOR: get_objects
    /// `gc.get_objects(generation)`: a new list (a new reference) of the objects tracked in
    /// `generation`, in list order, or in all three generations, 0 first, for `None` or -1
    /// (CPython's default for "no argument"). The list itself is made first, as CPython makes
    /// it: a container, counted, tracked in generation 0, made with your hook (so it may start a
    /// collection); it never lists itself. The frozen objects are in none of the generations.
    ///
    /// # Errors
    /// [`GcError::GenerationTooLarge`] for a generation of 3 or more,
    /// [`GcError::NegativeGeneration`] for one below -1; the list made is released first.
    pub fn get_objects(
        &mut self,
        heap: &mut Heap,
        generation: Option<isize>,
    ) -> Result<ObjId, GcError> {
        // TODO: make the result list first; refuse a bad generation (releasing the list); then
        //       append the objects of the generation, or of all three, leaving the list itself out
        todo!()
    }
    // ANCHOR_END: get_objects

    // ANCHOR: freeze
    /// `gc.freeze()`: moves every object of generations 0, 1 and 2, in that order, to the end
    /// of the permanent generation ([`GcList::PERMANENT`]), which no collection looks at, and
    /// sets the three counts to 0. The long-lived counts are left as they are.
    pub fn freeze(&mut self, heap: &mut Heap) {
        // TODO: every generation, 0 first, to the end of the permanent one; the three counts to 0
        todo!()
    }
    // ANCHOR_END: freeze

    // ANCHOR: unfreeze
    /// `gc.unfreeze()`: moves every object of the permanent generation, in order, to the end
    /// of generation 2 (the oldest, not generation 0: these objects have lived long). The counts
    /// are left as they are.
    pub fn unfreeze(&mut self, heap: &mut Heap) {
        // TODO: the permanent generation to the end of generation 2
        todo!()
    }
    // ANCHOR_END: unfreeze

    /// `gc.get_freeze_count()`: how many objects the permanent generation holds.
    pub fn get_freeze_count(&self, heap: &Heap) -> usize {
        heap.gc_list_len(GcList::PERMANENT)
    }

    /// `gc.get_threshold()`.
    pub fn get_threshold(&self) -> [i32; NUM_GENERATIONS] {
        self.thresholds
    }

    /// `gc.get_count()`: `(count0, count1, count2)`, as the heap keeps them.
    pub fn get_count(&self, heap: &Heap) -> [usize; NUM_GENERATIONS] {
        heap.gc_counts()
    }

    /// `gc.enable()`: allocations may start collections again.
    pub fn enable(&mut self) {
        self.enabled = true;
    }

    /// `gc.disable()`: no allocation starts a collection; `gc.collect()` still collects.
    pub fn disable(&mut self) {
        self.enabled = false;
    }

    /// `gc.isenabled()`.
    pub fn isenabled(&self) -> bool {
        self.enabled
    }

    /// `gc.get_stats()`, with the objects examined (see [`GenerationStats`]).
    pub fn get_stats(&self) -> [GenerationStats; NUM_GENERATIONS] {
        self.stats
    }
}
