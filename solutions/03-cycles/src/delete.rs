//! Step 8: breaking the cycles.
//!
//! The collector never frees an object itself. It calls each garbage container's `tp_clear`
//! ([`Heap::clear`]), which makes the container drop the references it holds; the cycle is
//! broken, counts fall to zero, and ordinary reference counting frees everything, running the
//! usual deaths (weakrefs were already cleared, finalizers already ran). Clearing one member of
//! a cycle is often enough to free all of it, so most objects leave the list on their own,
//! destroyed, before their turn comes.
//!
//! A tuple has no `tp_clear`: a cycle through a tuple is broken by clearing another member. An
//! object that survives its `tp_clear` (something else of the garbage still refers to it, to be
//! cleared later, or it has no `tp_clear`) moves to `old`, where it will die when the rest goes.
//!
//! With `gc.set_debug(gc.DEBUG_SAVEALL)`, nothing is cleared: each object is appended to
//! `gc.garbage` instead, which keeps it alive for the programmer to look at.

use pyheap::{GcList, Heap, ObjId};

// ANCHOR: delete_garbage
/// `delete_garbage(collectable, old)`: until `collectable` is empty, takes its first object and
///
/// - with `save_all = Some(garbage)` (`DEBUG_SAVEALL`): appends it to the list `garbage`;
/// - otherwise: calls [`Heap::clear`] on it, holding a reference to it during the call (the
///   clear may free it, and the reference makes the free happen at your `decref`, not inside
///   the clear);
///
/// then, if it is still the first object of `collectable` (it is alive), moves it to `old`.
pub fn delete_garbage(heap: &mut Heap, collectable: GcList, old: GcList, save_all: Option<ObjId>) {
    // BEGIN SOLUTION: the loop of the doc comment: append to `garbage` or clear with a reference held; move the object to `old` if it is still first in `collectable`
    while let Some(op) = heap.gc_list_first(collectable) {
        match save_all {
            Some(garbage) => heap.list_append(garbage, op),
            None => {
                heap.incref(op);
                heap.clear(op);
                heap.decref(op);
            }
        }
        if heap.gc_list_first(collectable) == Some(op) {
            heap.gc_list_move(op, old);
        }
    }
    // END SOLUTION
}
// ANCHOR_END: delete_garbage
