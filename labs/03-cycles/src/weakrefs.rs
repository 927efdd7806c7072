//! Step 5: weak references to garbage.
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
//! ```text
//!   pass 1, for each object op in unreachable:
//!     op is a weakref itself?  clear it (bpo-38006: its callback must never run later)
//!     for each weakref wr to op:  clear wr (referent None, callback kept)
//!         wr has a callback and wr is NOT in unreachable:
//!             take a reference to wr, move it to the list wrcb_to_call
//!   pass 2, for each wr in wrcb_to_call, first to last:
//!     call wr's callback with wr; give up the reference
//!     wr still alive: move it to old.  wr freed by that: count it
//! ```
//!
//! The count is added to what `gc.collect()` returns: a weakref freed this way was found by
//! the collection, as CPython's comments explain ("gc didn't already add it to its count").

use pyheap::{GcList, Heap, Kind};

// ANCHOR: handle_weakrefs
/// `handle_weakrefs(unreachable, old)`: the two passes of the module docs. Returns how many
/// weakrefs with callbacks were freed by pass 2.
///
/// Use [`Heap::weakrefs_to`], [`Heap::clear_weakref`] (which unlinks the weakref from its
/// referent, so `weakrefs_to(op)` shrinks as you clear), [`Heap::weakref_callback`],
/// [`Heap::call_weakref_callback`], and a list of your own from [`Heap::gc_list_new`] (give it
/// back with [`Heap::gc_list_release`]). A weakref is always tracked, so it can be moved.
pub fn handle_weakrefs(heap: &mut Heap, unreachable: GcList, old: GcList) -> usize {
    // TODO: pass 1: clear unreachable weakrefs and every weakref to an unreachable object, moving
    //       the reachable ones with callbacks (with a reference taken) to a list of your own; pass
    //       2: call each callback, let go, and count the weakrefs that died
    todo!()
}
// ANCHOR_END: handle_weakrefs
