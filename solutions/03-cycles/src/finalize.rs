//! Steps 6 and 7: finalizers, and the objects they bring back (PEP 442).
//!
//! Before Python 3.4, a cycle containing an object with a `__del__` was never freed: in what
//! order should the finalizers run, when each may use the others? The collector gave up and
//! put the whole cycle in `gc.garbage` for the programmer to deal with. PEP 442 ("Safe object
//! finalization") made such cycles collectable with two rules:
//!
//! 1. every finalizer of the garbage runs, once, **before** anything is torn down, so each one
//!    sees the others intact (in list order; a finalizer never runs twice for one object, the
//!    FINALIZED bit records that it ran: `gc.is_finalized`);
//! 2. a finalizer may make its object reachable again (store `self` in a global): the
//!    collector then checks the garbage again, and whatever is now reachable, with everything
//!    it reaches, survives. Only what is still unreachable is torn down.
//!
//! ```text
//!   finalize_garbage(unreachable)        run each pending __del__, once
//!   handle_resurrected_objects(unreachable, final_unreachable, old)
//!       deduce_unreachable(unreachable, final_unreachable)   steps 1 to 3 again, on the garbage
//!       what stayed in unreachable was resurrected: merge it into old
//! ```

use pyheap::{GcList, Heap};

use crate::deduce::deduce_unreachable;

// ANCHOR: finalize_garbage
/// `finalize_garbage(collectable)`: calls [`Heap::finalize`] (`__del__`, if the object has one
/// that has not run) on each object of `collectable`, first to last, holding a reference to it
/// during the call.
///
/// A `__del__` can do anything, including freeing other objects of the list (they leave it when
/// they die). So take the *first* object each time and move it to a list of your own (`seen`)
/// before finalizing it, and merge `seen` back into `collectable` at the end, as CPython does:
/// the order is kept and nothing is finalized twice.
pub fn finalize_garbage(heap: &mut Heap, collectable: GcList) {
    // BEGIN SOLUTION: move the first object to a `seen` list, finalize it with a reference held, repeat until `collectable` is empty; merge `seen` back and release it
    let seen = heap.gc_list_new();
    while let Some(op) = heap.gc_list_first(collectable) {
        heap.gc_list_move(op, seen);
        heap.incref(op);
        heap.finalize(op);
        heap.decref(op);
    }
    heap.gc_list_merge(seen, collectable);
    heap.gc_list_release(seen);
    // END SOLUTION
}
// ANCHOR_END: finalize_garbage

// ANCHOR: handle_resurrected_objects
/// `handle_resurrected_objects(unreachable, still_unreachable, old)`: after the finalizers, runs
/// [`deduce_unreachable`] on `unreachable` itself, which leaves in it what a finalizer made
/// reachable again and moves the rest to `still_unreachable` (which must be empty); then merges
/// the resurrected objects into `old`.
///
/// The resurrected objects are not counted as collected: they were not.
pub fn handle_resurrected_objects(
    heap: &mut Heap,
    unreachable: GcList,
    still_unreachable: GcList,
    old: GcList,
) {
    // BEGIN SOLUTION: deduce_unreachable(unreachable -> still_unreachable), then merge what is left in `unreachable` into `old`
    deduce_unreachable(heap, unreachable, still_unreachable);
    heap.gc_list_merge(unreachable, old);
    // END SOLUTION
}
// ANCHOR_END: handle_resurrected_objects
