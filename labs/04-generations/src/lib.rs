//! # Lab 04: generations with thresholds, when CPython collects and what
//!
//! Lab 03's collector finds the garbage among the objects of one list. Running it over every
//! container of a large program would take time proportional to the whole heap, however little
//! garbage there is; running it rarely would let cycles pile up. CPython 3.11 splits the
//! containers into three *generations* and bets that most objects die young: new containers
//! go to generation 0, which is collected often; what survives moves up to generation 1,
//! collected less often, then to generation 2, collected rarely. Three counts and three
//! thresholds decide when, and a collection starts by itself inside the allocation that pushes
//! the first count over the first threshold.
//!
//! You write that scheduler here, CPython 3.11's exactly (`Modules/gcmodule.c`), on the object
//! model of [`pyheap`], with lab 03's reference collector ([`cycles`]) finding the garbage:
//!
//! | step | function                               | what it does                                      |
//! |------|----------------------------------------|---------------------------------------------------|
//! | 1    | [`update_counts`]                      | a collection resets the counts it covers, bumps the next one |
//! | 2    | [`merge_younger`]                      | collecting generation g takes the younger ones too |
//! | 3    | [`Gc::move_survivors`]                 | survivors move up a generation; the long-lived counts |
//! | 4    | [`clear_freelists`]                    | a full collection empties the free lists          |
//! | 5    | [`Gc::record_stats`]                   | `gc.get_stats()`, and the objects examined        |
//! | 6    | [`Gc::invoke_gc_callback`]             | `gc.callbacks`, with CPython's info dict           |
//! | 7    | [`Gc::collect_with_callback`]          | a collection between its `"start"` and `"stop"`    |
//! | 8    | [`Gc::collect`]                        | `gc.collect(generation)`                          |
//! | 9    | [`Gc::set_threshold`]                  | `gc.set_threshold(t0[, t1[, t2]])`                |
//! | 10   | [`Gc::full_collection_due`]            | the long-lived rule                               |
//! | 11   | [`Gc::collect_generations`]            | which generation an automatic collection takes    |
//! | 12   | [`Gc::should_collect`]                 | whether an allocation starts a collection         |
//! | 13   | [`Gc::maybe_collect`]                  | the automatic collection, inside an allocation    |
//! | 14   | [`Gc::get_objects`]                    | `gc.get_objects(generation)`                      |
//! | 15   | [`Gc::freeze`]                         | `gc.freeze()`                                     |
//! | 16   | [`Gc::unfreeze`]                       | `gc.unfreeze()`                                   |
//!
//! [`Gc::gc_collect_main`], which calls steps 1 to 5 around lab 03's collector, is given, and so
//! are the rest of the `gc` module's functions (`gc.get_count()`, `gc.get_threshold()`,
//! `gc.enable()`, ...), and [`watch`]: lab 03's log of each collection's phases and its stress
//! mode, on this collector (`GCLABS_GC=log,stress`, or [`Gc::set_watch`]).
//!
//! ```
//! use generations::Gc;
//! use pyheap::Heap;
//!
//! let mut heap = Heap::with_free_lists();
//! let mut gc = Gc::new();
//! gc.set_threshold(10, None, None);      // gc.set_threshold(10)
//! let keep = heap.new_list_with(&mut gc); // keep = []
//! for _ in 0..10 {
//!     let item = heap.new_list_with(&mut gc); // keep.append([])
//!     heap.list_append(keep, item);
//!     heap.decref(item);
//! }
//! // The 11th list took count0 past 10: generation 0 was collected inside its allocation,
//! // and `keep` and the 9 lists before it moved to generation 1; the 11th is in generation 0.
//! assert_eq!(heap.gc_counts(), [0, 1, 0]);
//! assert_eq!(gc.get_stats()[0].collections, 1);
//! heap.decref(keep);
//! ```

pub mod automatic;
pub mod callbacks;
pub mod collect;
pub mod errors;
pub mod module;
pub mod state;
pub mod watch;

pub use callbacks::{CallbackAction, CallbackEvent, GcCallback, Phase};
pub use collect::{Cycles, ReferenceCycles, clear_freelists, merge_younger, update_counts};
pub use cycles::Collected;
pub use errors::GcError;
pub use state::{DEFAULT_THRESHOLDS, Gc, GenerationStats, NUM_GENERATIONS};
