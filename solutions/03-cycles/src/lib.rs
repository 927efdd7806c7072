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
//! time, in the order of the book (each row's functions are yours):
//!
//! | part                 | functions                                      | what they do                                             |
//! |----------------------|------------------------------------------------|----------------------------------------------------------|
//! | finding the garbage  | [`update_refs`], [`subtract_refs`]             | `gc_refs` = the count, minus the references from inside  |
//! |                      | [`visit_reachable`], [`move_unreachable`]      | positive `gc_refs`, and all it reaches, is reachable     |
//! | breaking its cycles  | [`delete_garbage`]                             | `tp_clear` each object, so reference counting frees it   |
//! | the whole collection | [`Collector::start_collection`]                | the counts, and which generations are collected          |
//! |                      | [`Collector::handle_unreachable`]              | what becomes of the garbage, and what is counted         |
//! |                      | [`Collector::promote_survivors`]               | survivors of a young collection move on                  |
//! | untracking           | [`untrack_tuples`], [`untrack_dicts`]          | stop tracking what can never be in a cycle               |
//! | weak references      | [`clear_weakrefs_to_garbage`], [`call_weakref_callbacks`] | the two passes of [`handle_weakrefs`]         |
//! | finalizers (PEP 442) | [`finalize_garbage`]                           | run each `__del__` once                                  |
//! |                      | [`handle_resurrected_objects`]                 | whatever a `__del__` made reachable again lives          |
//!
//! Given: [`deduce_unreachable`] (the first four in order), [`handle_weakrefs`] (its two
//! passes), [`Collector::gc_collect_main`] (the outline of one collection, calling your steps),
//! [`Collector::collect`] (`gc.collect()`, with its statistics), and the [`skip`] checks that
//! let a collection pass over a step with nothing to do, so that whole collections work before
//! the later steps do.
//!
//! Also given, to see your collector at work: [`watch`], a log that prints each phase of each
//! collection with the objects it moved, and a stress mode that runs a full collection at every
//! allocation. Switch them on in a test of yours (`gc.set_watch(..)`) or for a whole run
//! (`GCLABS_GC=log,stress`); `cargo run -p cycles --example watch` shows both.
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
pub mod skip;
pub mod untrack;
pub mod watch;
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
pub use weakrefs::{call_weakref_callbacks, clear_weakrefs_to_garbage, handle_weakrefs};
