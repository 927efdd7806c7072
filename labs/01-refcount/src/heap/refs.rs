//! Counting references: [`incref`](Heap::incref), [`decref`](Heap::decref), destruction at zero,
//! and [`getrefcount`](Heap::getrefcount).
//!
//! # Destruction without recursion (CPython's trashcan)
//!
//! Destroying an object releases what it holds, which can bring other counts to zero, which
//! destroys those objects, and so on: a list of lists of lists is destroyed as a cascade. CPython
//! writes this as plain recursion (`list_dealloc` calls `Py_DECREF` on each item, which calls the
//! item's `tp_dealloc`, ...), so a chain of a million nested lists would need a million C stack
//! frames. Its *trashcan* (`Py_TRASHCAN_BEGIN` / `Py_TRASHCAN_END` in `list_dealloc`,
//! `tupledealloc`, `dict_dealloc`, `subtype_dealloc`) caps the depth: past 50 nested deallocations
//! (`_PyTrash_UNWIND_LEVEL`) an object is not destroyed but put on a "delete later" list, which the
//! outermost deallocation empties once it has unwound.
//!
//! Ours never recurses at all. [`Heap::dealloc`] keeps the work the recursion would keep on the
//! call stack in an explicit stack on the heap instead, one entry per object being destroyed:
//! the references it still has to release.
//!
//! ```text
//!   L = [a, b] where a = 7 and b = ["hi"], each object held only by its container.  del L:
//!
//!   destroyed   references still to release, one entry per object being destroyed (top last)
//!   L           [ (b, a) ]            L's items, last first
//!   b           [ (a), ("hi") ]       b's count reached 0: its references go on top
//!   "hi"        [ (a) ]
//!   a           [ ]
//! ```
//!
//! Objects are destroyed in exactly the order unlimited recursion would destroy them (the outer
//! object first, then its items last to first, each item's own contents before the next item),
//! and the stack holds only references still to be released, so a chain of a million lists needs
//! one entry at a time. CPython's order is the same up to depth 50 and differs past it.

use super::hooks::HeapHooks;
use super::object::ObjId;
use super::slots::Heap;

impl<H: HeapHooks> Heap<H> {
    // ANCHOR: sig_incref
    /// `Py_INCREF(id)`: adds one reference to `id`'s count. Call it when you store a copy of the
    /// handle somewhere that will later [`decref`](Heap::decref) it (a name, a container, a frame).
    ///
    /// # Panics
    /// If the object was already destroyed.
    pub fn incref(&mut self, id: ObjId) {
        // ANCHOR_END: sig_incref
        // TODO: add one to the object's count (`self.object_mut(id)` finds the object, and panics
        //       for you if it was destroyed)
        todo!()
    }

    // ANCHOR: sig_decref
    /// `Py_DECREF(id)`: gives up one reference to `id`. When the count reaches zero the object is
    /// destroyed at once, and what it held is released in turn, which can destroy more objects.
    /// After this call, the caller must not use `id` again unless it holds another reference.
    ///
    /// # Panics
    /// If the object was already destroyed: a decref too many.
    pub fn decref(&mut self, id: ObjId) {
        // ANCHOR_END: sig_decref
        // TODO: take one away from the object's count; if it reached zero, destroy the object with
        //       `self.dealloc(id)`
        todo!()
    }

    // ANCHOR: sig_dealloc
    /// `tp_dealloc` for every type, with the trashcan built in: destroys `id`, whose count has
    /// just reached zero, then releases everything it held, destroying in turn each object whose
    /// count that brings to zero, and so on, without recursion.
    ///
    /// Each object is destroyed by [`release_slot`](Heap::release_slot) (which tells the hooks,
    /// frees the slot and hands back the [`Kind`](super::Kind)), and its references come out of
    /// the `Kind` with `take_references`, in CPython's order. The order of destruction is the one
    /// recursion would give: an object, then the first reference it releases and everything *that*
    /// destroys, then its second reference, and so on.
    fn dealloc(&mut self, id: ObjId) {
        // ANCHOR_END: sig_dealloc
        // TODO: keep a stack of "references still to release", one entry per object being destroyed
        //       (start with `self.release_slot(id).take_references()`); take the next reference
        //       from the top entry, decrement its count directly (calling `decref` here would
        //       recurse) and, if it reached zero, release that object's slot and push its
        //       references; pop an entry once it is empty
        todo!()
    }

    // ANCHOR: sig_getrefcount
    /// `sys.getrefcount(id)`: the count *as seen by a function that was passed `id`*, which is
    /// one more than [`refcount`](Heap::refcount) because the call itself holds a reference to
    /// its argument for as long as it runs (see [`call`](Heap::call)). This is why
    /// `sys.getrefcount(x)` in CPython is always one more than you expect, and why only
    /// differences between two calls tell you anything.
    ///
    /// # Panics
    /// If the object was already destroyed.
    pub fn getrefcount(&mut self, id: ObjId) -> usize {
        // ANCHOR_END: sig_getrefcount
        // TODO: pass `id` to a call, like Python does, and read the count from inside it
        todo!()
    }
}
