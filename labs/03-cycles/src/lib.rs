//! # Lab 03: cycle detection, CPython's collector for reference cycles
//!
//! Reference counting frees an object the moment nothing refers to it, so it can never free a
//! cycle: `a = []; a.append(a); del a` leaves a list whose only reference is its own item.
//! CPython's answer is a second mechanism that runs now and then, the *cyclic garbage
//! collector* (`Modules/gcmodule.c` in 3.11). It finds garbage without knowing where the
//! program's roots are. It looks only at the containers it tracks, and asks of each one: are
//! all the references to it coming from other containers in the set being collected? If the
//! answer is yes for a whole group, nothing outside can reach it, and it is garbage.
//!
//! You write that collector here, on the object model of [`pyheap`], one CPython function at a
//! time:
//!
//! | step | function                        | what it does                                          |
//! |------|---------------------------------|-------------------------------------------------------|
//! | 1    | [`update_refs`]                 | `gc_refs` = the reference count                       |
//! | 2    | [`subtract_refs`]               | minus one per reference from inside the set           |
//! | 3    | [`move_unreachable`]            | positive `gc_refs`, and all they reach, is reachable  |
//! | 4    | [`untrack_tuples`], [`untrack_dicts`] | stop tracking what can never be in a cycle      |
//! | 5    | [`handle_weakrefs`]             | clear weakrefs to garbage, call the callbacks needed  |
//! | 6    | [`finalize_garbage`]            | run each `__del__` once (PEP 442)                     |
//! | 7    | [`handle_resurrected_objects`]  | whatever a `__del__` made reachable again lives       |
//! | 8    | [`delete_garbage`]              | `tp_clear` each object, so reference counting frees it |
//! | all  | [`Collector::gc_collect_main`]  | the steps in order, and what `gc.collect()` returns   |
//!
//! [`deduce_unreachable`] (steps 1 to 3) and [`Collector::collect`] (`gc.collect()`, with its
//! statistics) are provided.
//!
//! ```
//! use cycles::Collector;
//! use pyheap::Heap;
//!
//! let mut heap = Heap::new();
//! let mut gc = Collector::new();
//! let a = heap.assign_new_list("a"); // a = []
//! heap.list_append(a, a);            // a.append(a)
//! heap.del("a");                     // del a: the list still refers to itself
//! assert!(heap.is_alive(a));
//! assert_eq!(gc.collect(&mut heap), 1); // gc.collect() finds one object, and frees it
//! assert!(!heap.is_alive(a));
//! ```

pub mod collector;
pub mod deduce;
pub mod delete;
pub mod finalize;
pub mod untrack;
pub mod weakrefs;

pub use collector::{
    Collected, Collector, DEBUG_COLLECTABLE, DEBUG_LEAK, DEBUG_SAVEALL, DEBUG_STATS,
    DEBUG_UNCOLLECTABLE, GenerationStats, InvalidGeneration, NUM_GENERATIONS,
};
pub use deduce::{
    deduce_unreachable, move_unreachable, subtract_refs, update_refs, visit_reachable,
};
pub use delete::delete_garbage;
pub use finalize::{finalize_garbage, handle_resurrected_objects};
pub use untrack::{untrack_dicts, untrack_tuples};
pub use weakrefs::handle_weakrefs;
