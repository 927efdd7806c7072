//! Breaking the garbage's cycles.
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
/// `delete_garbage(collectable, old, save_all)`: breaks the garbage's cycles, so that reference
/// counting frees it.
///
/// Before: `collectable` holds the garbage; `save_all` is `Some(gc.garbage)` when
/// `DEBUG_SAVEALL` is set, else `None`.
///
/// After: `collectable` is empty, and every object of it that is still alive is at the tail of
/// `old`, in the order the objects were dealt with. In between, each object still in
/// `collectable` when its turn came, in list order:
/// - without `save_all`: had its `tp_clear` called ([`Heap::clear`]) once, while the collector
///   held a reference to it, so that an object its own clear frees dies when the collector lets
///   go, after everything the clear released, and not inside `clear`;
/// - with `save_all`: was appended to `gc.garbage` ([`Heap::list_append`]), and nothing was
///   cleared.
///
/// Objects die while you work (they leave `collectable` as they do), and some survive their
/// clear: a tuple has no `tp_clear` ([`Heap::clear`] returns false), and an object may still be
/// held by garbage not cleared yet.
pub fn delete_garbage(heap: &mut Heap, collectable: GcList, old: GcList, save_all: Option<ObjId>) {
    // TODO: `collectable` empty; each object, in list order, appended to `save_all` or cleared once
    //       with a reference held; the survivors in `old`, in order
    todo!()
}
// ANCHOR_END: delete_garbage
