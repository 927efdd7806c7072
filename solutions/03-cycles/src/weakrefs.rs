//! Weak references to garbage.
//!
//! A weak reference does not keep its referent alive, so the collector may free an object that
//! weakrefs still point to. Before anything is freed, each of those weakrefs must be cleared
//! (made to return `None`), or a later `wr()` would hand out an object in the middle of being
//! torn down. And a weakref with a callback expects its callback to be called when the referent
//! dies. CPython's `handle_weakrefs` does both, in two passes, with one rule that is the whole
//! difficulty:
//!
//! **A callback is called only if its weakref is itself reachable.** If the weakref is garbage
//! too, the weakref and its referent are dying together, and CPython may pretend the weakref
//! died first (so no callback is owed). Calling it would be dangerous: the callback could reach
//! other garbage and bring it back to life after the collector had decided its fate. A
//! reachable weakref, on the other hand, acted as an outside reference to this collection, so
//! nothing its callback can reach is garbage.
//!
//! And **no callback runs before every weakref to garbage is cleared**: otherwise a callback
//! could follow another, not yet cleared weakref to an unreachable object and resurrect it.
//!
//! So `handle_weakrefs` works in two passes, each a function of yours: the first,
//! [`clear_weakrefs_to_garbage`], clears and sets aside; only then does the second,
//! [`call_weakref_callbacks`], call. CPython writes them as the two loops of one function.
//!
//! What `handle_weakrefs` returns is added to what `gc.collect()` returns: a weakref that dies
//! after its callback was found by the collection, as CPython's comments explain ("gc didn't
//! already add it to its count").

use pyheap::{GcList, Heap, Kind};

use crate::skip;

// ANCHOR: handle_weakrefs
/// `handle_weakrefs(unreachable, old)`: clears every weakref to the garbage, then calls the
/// callbacks that are owed. Returns how many weakrefs died after their callback ran. Given: it
/// runs your two passes.
pub fn handle_weakrefs(heap: &mut Heap, unreachable: GcList, old: GcList) -> usize {
    // Not CPython: no weakref in the garbage and none to it, nothing to do (see `skip`).
    if skip::no_weakrefs_in(heap, unreachable) {
        return 0;
    }
    let wrcb_to_call = heap.gc_list_new();
    clear_weakrefs_to_garbage(heap, unreachable, wrcb_to_call);
    // An empty list has no callback to call (CPython's loop would not start): skipped, so that
    // garbage whose weakrefs have no callback needs only your first pass.
    let freed = if heap.gc_list_is_empty(wrcb_to_call) {
        0
    } else {
        call_weakref_callbacks(heap, wrcb_to_call, old)
    };
    heap.gc_list_release(wrcb_to_call);
    freed
}
// ANCHOR_END: handle_weakrefs

// ANCHOR: clear_weakrefs_to_garbage
/// The first pass of `handle_weakrefs`: no code can reach the garbage through a weakref any more,
/// and the weakrefs whose callbacks are owed are set aside. No callback runs here.
///
/// Before: `unreachable` holds the garbage; `wrcb_to_call` is empty.
///
/// After:
/// - no weakref refers to an object of `unreachable` ([`Heap::weakrefs_to`] is empty for each);
/// - every weakref that is itself in `unreachable` is cleared too, even if its referent lives
///   (bpo-38006), so that its callback can never run later;
/// - `wrcb_to_call` holds, in the order they were cleared, exactly the weakrefs cleared here
///   that have a callback and are not garbage themselves, each with one more reference, taken
///   here and given back by the second pass (nothing a callback does can free them before
///   their turn);
/// - nothing was called or freed, and `unreachable` holds what it held.
///
/// [`Heap::clear_weakref`] clears one weakref (its referent becomes `None`) and unlinks it from
/// its referent's [`Heap::weakrefs_to`], keeping its callback ([`Heap::weakref_callback`]) for
/// later. A weakref is always tracked, so [`Heap::gc_list_move`] can move it.
pub fn clear_weakrefs_to_garbage(heap: &mut Heap, unreachable: GcList, wrcb_to_call: GcList) {
    // BEGIN SOLUTION: no weakref refers to garbage and every weakref in the garbage is cleared; the reachable cleared ones with a callback are in `wrcb_to_call`, in order, each with one reference more; nothing called
    let mut cursor = heap.gc_list_first(unreachable);
    while let Some(op) = cursor {
        cursor = heap.gc_list_next(op);
        if matches!(heap.kind(op), Kind::WeakRef { .. }) {
            heap.clear_weakref(op);
        }
        while let Some(&wr) = heap.weakrefs_to(op).first() {
            heap.clear_weakref(wr);
            if heap.weakref_callback(wr).is_none() || heap.gc_list_of(wr) == Some(unreachable) {
                continue;
            }
            heap.incref(wr);
            heap.gc_list_move(wr, wrcb_to_call);
        }
    }
    // END SOLUTION
}
// ANCHOR_END: clear_weakrefs_to_garbage

// ANCHOR: call_weakref_callbacks
/// The second pass of `handle_weakrefs`: the callbacks set aside by the first pass are called.
///
/// Before: `wrcb_to_call` holds cleared weakrefs that have a callback, each holding one
/// reference taken by the first pass.
///
/// After: each callback was called once ([`Heap::call_weakref_callback`]), with its weakref, in
/// the list's order; each of those references was given back after its weakref's callback;
/// `wrcb_to_call` is empty, and the weakrefs that are still alive are at the tail of `old`, in
/// that order. Returns how many of them died when their reference was given back.
pub fn call_weakref_callbacks(heap: &mut Heap, wrcb_to_call: GcList, old: GcList) -> usize {
    // BEGIN SOLUTION: each callback called once, in order, then the first pass's reference given back; the live weakrefs in `old`, `wrcb_to_call` empty; return how many died
    let mut freed = 0;
    while let Some(wr) = heap.gc_list_first(wrcb_to_call) {
        heap.call_weakref_callback(wr);
        heap.decref(wr);
        if heap.gc_list_first(wrcb_to_call) == Some(wr) {
            heap.gc_list_move(wr, old);
        } else {
            freed += 1;
        }
    }
    freed
    // END SOLUTION
}
// ANCHOR_END: call_weakref_callbacks
