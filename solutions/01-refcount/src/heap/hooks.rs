//! Watching objects come and go without changing the heap: the [`HeapHooks`] a heap calls when it
//! allocates and when it destroys an object.

use super::object::{ObjId, Object};

// ANCHOR: hooks
/// What a [`Heap`](super::Heap) tells an observer about each object's life. Every method has an
/// empty default, and `()` is the observer that watches nothing (the default of `Heap<H = ()>`).
///
/// The later labs build on this: a cycle collector keeps its generation lists here, and a test
/// keeps a log here (behind an `Rc<RefCell<..>>`, so it can still be read after the heap is
/// dropped) to prove that each object was destroyed exactly once.
///
/// The hooks are called while the heap is in the middle of an operation, so they are given the
/// object but not the heap.
pub trait HeapHooks {
    /// A new object was just created, with count 1. CPython's allocation points for the cycle
    /// collector: `_PyObject_GC_Link` (counts the allocation towards generation 0's threshold)
    /// and `_PyObject_GC_TRACK` (links the object into generation 0's list). CPython calls them for
    /// containers only; here every object is reported, and `object.kind().is_container()` says
    /// whether a collector would track it.
    fn allocated(&mut self, id: ObjId, object: &Object) {
        let _ = (id, object);
    }

    /// An object's count just reached zero and it is being destroyed: it still holds its
    /// references, which will be released right after, and `id` is stale from now on. CPython's
    /// points: `PyObject_GC_UnTrack` at the start of `tp_dealloc` (unlink it from its generation)
    /// and `PyObject_GC_Del` at the end (the allocation no longer counts). Objects that leak in a
    /// cycle never reach this point.
    fn deallocated(&mut self, id: ObjId, object: &Object) {
        let _ = (id, object);
    }
}
// ANCHOR_END: hooks

/// Watches nothing: the hooks of a plain `Heap`.
impl HeapHooks for () {}
