//! Counting references: [`incref`](Heap::incref), [`decref`](Heap::decref), destruction at zero
//! (`dealloc`, and `dealloc_container` for what a container held), and
//! [`getrefcount`](Heap::getrefcount).
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
//! Ours must not recurse at all, whatever the depth, and must still destroy objects in exactly
//! the order unlimited recursion would (the outer object first, then its references in CPython's
//! release order, each one's own contents before the next). CPython's order is the same up to
//! depth 50 and differs past it. The book's section "Deallocation" shows how.

use super::hooks::HeapHooks;
use super::object::ObjId;
use super::slots::Heap;

impl<H: HeapHooks> Heap<H> {
    // ANCHOR: incref
    /// `Py_INCREF(id)`: adds one reference to `id`'s count. Call it when you store a copy of the
    /// handle somewhere that will later [`decref`](Heap::decref) it (a name, a container, a frame).
    ///
    /// # Panics
    /// If the object was already destroyed.
    pub fn incref(&mut self, id: ObjId) {
        // TODO: afterwards the live object `id` has one more reference counted
        //       (`self.object_mut(id)` reaches it, and panics with a clear message if `id` is
        //       stale)
        todo!()
    }
    // ANCHOR_END: incref

    // ANCHOR: decref
    /// `Py_DECREF(id)`: gives up one reference to `id`. When the count reaches zero the object is
    /// destroyed at once, and what it held is released in turn, which can destroy more objects.
    /// After this call, the caller must not use `id` again unless it holds another reference.
    ///
    /// # Panics
    /// If the object was already destroyed: a decref too many.
    pub fn decref(&mut self, id: ObjId) {
        // TODO: afterwards the object has one reference fewer; the reference that takes the count
        //       to 0 destroys it on the spot, with `dealloc`, and nothing else does
        todo!()
    }
    // ANCHOR_END: decref

    // ANCHOR: dealloc
    /// `_Py_Dealloc(id)`: destroys `id`, whose count has just reached zero, by calling its type's
    /// deallocator. An atom (`long_dealloc`, `unicode_dealloc`) holds no references, so destroying
    /// it is all there is to do. A container's deallocator (`list_dealloc`, `tupledealloc`, ...)
    /// also releases what it held, which may destroy more objects: that is
    /// [`dealloc_container`](Heap::dealloc_container)'s job.
    ///
    /// An object is destroyed by [`release_slot`](Heap::release_slot), given: it tells the hooks,
    /// frees the slot (so `id` is stale from then on) and hands back what the object held.
    fn dealloc(&mut self, id: ObjId) {
        // TODO: afterwards `id` is destroyed, exactly once, and the hooks heard of it; a container
        //       is handed to `dealloc_container`, which also releases what it held
        todo!()
    }
    // ANCHOR_END: dealloc

    // ANCHOR: dealloc_container
    /// The deallocator of every container (`list_dealloc`, `tupledealloc`, `dict_dealloc`,
    /// `subtype_dealloc`), with the trashcan built in: destroys the container `id`, whose count
    /// has just reached zero, then releases every reference it held, in CPython's order; each
    /// object whose count that brings to zero is destroyed in turn, and releases what *it* held,
    /// and so on.
    ///
    /// Afterwards:
    /// - every object whose count reached zero is destroyed, exactly once, and nothing else is;
    /// - they were destroyed in the order recursive deallocators would destroy them: an object,
    ///   then the first reference it releases and everything *that* destroys, then its second
    ///   reference, and so on;
    /// - the call stack never grew with the depth of what was destroyed: a chain of a million
    ///   nested containers must not overflow it, so this function never calls
    ///   [`decref`](Heap::decref), [`dealloc`](Heap::dealloc) or itself.
    ///
    /// Given: [`release_slot`](Heap::release_slot) destroys one object and returns its
    /// [`Kind`](super::Kind); `take_references()` on that `Kind` hands over the references it held,
    /// in the order CPython's deallocators release them. Both need `&mut self`, as does
    /// `object_mut`: let the `&mut Object` of one go before you call the next.
    fn dealloc_container(&mut self, id: ObjId) {
        // TODO: destroy `id` and release what it held; every object whose count that takes to 0 is
        //       destroyed the same way, each exactly once, in the order recursive deallocators
        //       would give, with a call stack that does not grow with the depth (no recursion)
        todo!()
    }
    // ANCHOR_END: dealloc_container

    // ANCHOR: getrefcount
    /// `sys.getrefcount(id)`: the count *as seen by a function that was passed `id`*, which is
    /// one more than [`refcount`](Heap::refcount) because the call itself holds a reference to
    /// its argument for as long as it runs (see [`call`](Heap::call)). This is why
    /// `sys.getrefcount(x)` in CPython is always one more than you expect, and why only
    /// differences between two calls tell you anything.
    ///
    /// # Panics
    /// If the object was already destroyed.
    pub fn getrefcount(&mut self, id: ObjId) -> usize {
        // TODO: the count of `id` as a Python function passed `id` would see it, the +1 coming from
        //       where CPython's comes from; afterwards every count is as it was
        todo!()
    }
    // ANCHOR_END: getrefcount
}
