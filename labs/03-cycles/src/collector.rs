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

use pyheap::{GcList, Heap, ObjId};

use crate::deduce::deduce_unreachable;
use crate::delete::delete_garbage;
use crate::finalize::{finalize_garbage, handle_resurrected_objects};
use crate::untrack::{untrack_dicts, untrack_tuples};
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
}

// ANCHOR: collect
impl Collector {
    /// A collector with no debug flags and empty statistics.
    pub fn new() -> Self {
        Collector::default()
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

    // ANCHOR: gc_collect_main
    /// `gc_collect_main(generation)`: one collection of `generation` (0, 1 or 2) and every
    /// younger one, in CPython 3.11's order:
    ///
    /// 1. the allocation counts ([`Heap::gc_counts_mut`]): if `generation < 2`, add one to the
    ///    next generation's count; set the counts of generations `0..=generation` to zero;
    /// 2. merge the younger generations into `young` = [`GcList::generation`]`(generation)`, in
    ///    order (generation 0 first); `old` is the next generation, or `young` itself for a
    ///    full collection;
    /// 3. [`deduce_unreachable`] from `young` into a new list `unreachable`;
    /// 4. [`untrack_tuples`] on the survivors (`young`);
    /// 5. move the survivors to `old`: if `young` is not `old`, add `len(young)` to
    ///    `long_lived_pending` when collecting generation 1, and merge `young` into `old`;
    ///    for a full collection, [`untrack_dicts`] instead, then set `long_lived_pending` to 0
    ///    and `long_lived_total` to `len(young)`;
    /// 6. `m` = [`handle_weakrefs`]`(unreachable, old)`;
    /// 7. [`finalize_garbage`]`(unreachable)`;
    /// 8. [`handle_resurrected_objects`]`(unreachable, final_unreachable, old)` with a new list;
    /// 9. `m += len(final_unreachable)`, then [`delete_garbage`], saving into `gc.garbage` (see
    ///    [`garbage_list`](Collector::garbage_list)) if [`DEBUG_SAVEALL`] is set;
    /// 10. release your lists; `n` is 0 (no legacy finalizers here).
    pub fn gc_collect_main(&mut self, heap: &mut Heap, generation: usize) -> Collected {
        // TODO: the ten steps of the doc comment, in order; return Collected { collected: m,
        //       uncollectable: 0 }
        todo!()
    }
    // ANCHOR_END: gc_collect_main
}
