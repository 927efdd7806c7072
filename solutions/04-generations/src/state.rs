//! The collector's state: what CPython 3.11 keeps in `gcstate` (`struct _gc_runtime_state`,
//! `Include/internal/pycore_gc.h`), apart from what the heap keeps.
//!
//! ```text
//!   gcstate                                   pyheap's Heap
//!   ├─ generations[3]                         ├─ the generation lists (GcList::GEN0..GEN2)
//!   │    ├─ head: the list ─────────────────────▶ and the permanent generation
//!   │    ├─ threshold            Gc           ├─ the counts: count0 (kept by the heap at
//!   │    └─ count ──────────────────────────────▶ every allocation), count1, count2
//!   ├─ enabled, collecting       Gc           └─ the free lists
//!   ├─ long_lived_total, long_lived_pending   Gc
//!   ├─ generation_stats[3]       Gc
//!   └─ callbacks, garbage        Gc (callbacks; gc.garbage is lab 03's)
//! ```
//!
//! The thresholds are C `int`s, as in CPython: `gc.set_threshold(-5)` is accepted and kept.
//! Lab 03's debug flags and `gc.garbage` are left out here (its collector runs without
//! `DEBUG_SAVEALL`): this lab is about when collections run, not what they do with garbage.

use cycles::watch::{Log, Watch};

use crate::callbacks::{CallbackEvent, GcCallback};
use crate::collect::{Cycles, ReferenceCycles};

/// How many generations there are: 0, 1 and 2 (the permanent generation is not collected).
pub const NUM_GENERATIONS: usize = 3;

/// CPython 3.11's thresholds (`_PyGC_InitState`): a collection of generation 0 once count0 is
/// above 700, of generation 1 once more than 10 collections of generation 0 ran since the last
/// one, of generation 2 once more than 10 of generation 1 ran (and the long-lived rule agrees).
pub const DEFAULT_THRESHOLDS: [i32; NUM_GENERATIONS] = [700, 10, 10];

/// How deep [`pyheap::GcLink::gc_link`] or a callback may be nested before the given guards
/// stop a runaway: a correct collector nests them at most twice (a collection's callbacks
/// allocate, which calls the hook again, which must not collect).
pub(crate) const MAX_NESTING: usize = 8;

/// One generation's entry in `gc.get_stats()`, plus the work done.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct GenerationStats {
    /// How many collections of this generation ran.
    pub collections: usize,
    /// How many objects they found unreachable and collected.
    pub collected: usize,
    /// How many unreachable objects they could not collect (always 0 here: no legacy
    /// finalizers, see lab 03).
    pub uncollectable: usize,
    /// Not in CPython's `gc.get_stats()`: how many objects these collections examined, the
    /// length of the generation collected once the younger ones were merged into it. It is what
    /// a collection's time is proportional to, and what generations save.
    pub examined: usize,
}

/// The collector's state (CPython's `gcstate`), apart from the heap. Make one with
/// [`Gc::new`], then pass it to the heap's `_with` constructors (`heap.new_list_with(&mut gc)`)
/// so that allocations can start collections, and call the `gc` module's functions on it
/// (`gc.collect(&mut heap, 0)`).
#[derive(Debug)]
pub struct Gc {
    /// `generations[g].threshold`, for g = 0, 1, 2.
    pub(crate) thresholds: [i32; NUM_GENERATIONS],
    /// `gcstate->enabled`: whether allocations may start collections (`gc.isenabled()`).
    pub(crate) enabled: bool,
    /// `gcstate->collecting`: a collection is running.
    pub(crate) collecting: bool,
    /// `gc.get_stats()`, by generation.
    pub(crate) stats: [GenerationStats; NUM_GENERATIONS],
    /// `gc.callbacks`, in order.
    pub(crate) callbacks: Vec<GcCallback>,
    /// What the callbacks recorded, in order.
    pub(crate) callback_log: Vec<CallbackEvent>,
    /// Objects promoted from generation 1 to generation 2 since the last full collection
    /// (`long_lived_pending`).
    pub long_lived_pending: usize,
    /// Objects that survived the last full collection (`long_lived_total`).
    pub long_lived_total: usize,
    /// How deep the `gc_link` calls are nested now (the given guard's).
    pub(crate) link_depth: usize,
    /// How deep the callback calls are nested now (the given guard's).
    pub(crate) callback_depth: usize,
    /// The log and stress switches (see [`crate::watch`]).
    pub(crate) watch: Watch,
    /// What the log printed, kept.
    pub(crate) log: Log,
    /// Lab 03's part of each collection (see [`Cycles`]).
    pub(crate) cycles: Box<dyn Cycles>,
}

impl Default for Gc {
    fn default() -> Self {
        Self::new()
    }
}

impl Gc {
    /// A collector as CPython 3.11 starts: thresholds (700, 10, 10), enabled, not collecting,
    /// empty statistics, no callbacks, both long-lived counts 0; watched as the environment
    /// variable `GCLABS_GC` asks (see [`crate::watch`]; not watched when it is not set).
    pub fn new() -> Self {
        Gc {
            thresholds: DEFAULT_THRESHOLDS,
            enabled: true,
            collecting: false,
            stats: [GenerationStats::default(); NUM_GENERATIONS],
            callbacks: Vec::new(),
            callback_log: Vec::new(),
            long_lived_pending: 0,
            long_lived_total: 0,
            link_depth: 0,
            callback_depth: 0,
            watch: Watch::from_env(),
            log: Log::default(),
            cycles: Box::new(ReferenceCycles::default()),
        }
    }

    /// [`Gc::new`], with `cycles` finding and freeing the garbage of each collection instead of
    /// lab 03's reference collector.
    pub fn with_cycles(cycles: Box<dyn Cycles>) -> Self {
        Gc {
            cycles,
            ..Gc::new()
        }
    }

    /// Whether a collection is running (`gcstate->collecting`).
    pub fn is_collecting(&self) -> bool {
        self.collecting
    }
}
