//! Finalizers, and the objects they bring back (PEP 442).
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
//! [`finalize_garbage`] keeps the first rule and [`handle_resurrected_objects`] the second.

use pyheap::{GcList, Heap};

use crate::deduce::deduce_unreachable;
use crate::skip;

// ANCHOR: finalize_garbage
/// `finalize_garbage(collectable)`: PEP 442's first rule. Every `__del__` of the garbage runs,
/// once in the object's life, before anything is torn down.
///
/// Before: `collectable` holds the garbage, in the order the collector found it.
///
/// After:
/// - every object of `collectable` whose type has a `tp_finalize` ([`Heap::has_finalizer`])
///   and was not yet finalized ([`Heap::is_finalized`], CPython's `_PyGC_FINALIZED`) has had it
///   called ([`Heap::tp_finalize`]) exactly once, in list order, with its FINALIZED flag set
///   *before* the call ([`Heap::set_finalized`]) and a reference held during the call;
/// - no other object had anything called: not one already finalized, not one without a
///   `__del__` (calling [`Heap::tp_finalize`] on it panics);
/// - `collectable` holds the same objects in the same order, less those a `__del__` freed.
///
/// A `__del__` is arbitrary code. It can free other objects of `collectable` (they leave the
/// list when they die), so an object you have not reached yet may be gone when you get there.
pub fn finalize_garbage(heap: &mut Heap, collectable: GcList) {
    // Not CPython: no `__del__` in the garbage, nothing to do (see `skip`).
    if skip::no_finalizer_in(heap, collectable) {
        return;
    }
    // TODO: each object with a tp_finalize that is not yet FINALIZED is marked FINALIZED, then
    //       finalized with a reference held, once, in list order; the survivors stay in
    //       `collectable`, in order
    todo!()
}
// ANCHOR_END: finalize_garbage

// ANCHOR: handle_resurrected_objects
/// `handle_resurrected_objects(unreachable, still_unreachable, old)`: PEP 442's second rule.
/// After the finalizers, what is garbage still?
///
/// Before: `unreachable` holds the garbage after [`finalize_garbage`]; `still_unreachable` is
/// empty.
///
/// After: `still_unreachable` holds exactly the objects of `unreachable` that nothing outside
/// that set refers to, directly or through others of the set, *now* (the question
/// [`deduce_unreachable`] answers, asked again after the finalizers), in the order it leaves
/// them; the others, what a `__del__` made reachable again and everything it reaches, are at
/// the tail of `old`; `unreachable` is empty. The resurrected objects are not counted as
/// collected: they were not.
pub fn handle_resurrected_objects(
    heap: &mut Heap,
    unreachable: GcList,
    still_unreachable: GcList,
    old: GcList,
) {
    // Not CPython: with no `__del__` in the garbage, nothing ran that could have resurrected
    // anything, so all of it is still unreachable, in the same order (see `skip`).
    if skip::no_finalizer_in(heap, unreachable) {
        heap.gc_list_merge(unreachable, still_unreachable);
        return;
    }
    // TODO: `still_unreachable` holds what is unreachable now, after the finalizers; the
    //       resurrected rest is in `old`; `unreachable` is empty
    todo!()
}
// ANCHOR_END: handle_resurrected_objects
