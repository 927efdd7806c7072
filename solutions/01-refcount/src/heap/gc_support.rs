//! What a cycle collector needs from the object model, under CPython's names for it ("Supporting
//! Cyclic Garbage Collection" in the C API docs): which objects are containers, which references
//! each one holds (`tp_traverse`), a way to make a container drop everything it holds
//! (`tp_clear`), and a walk over all live objects (the collector's generation lists). Reference
//! counting alone never uses these; labs 03 to 05 do.

use super::hooks::HeapHooks;
use super::object::{ObjId, Object};
use super::slots::{Entry, Heap};

impl<H: HeapHooks> Heap<H> {
    /// Whether `id` can hold references (a list, tuple, dict or instance): the objects a cycle
    /// collector tracks (`PyObject_IS_GC`).
    pub fn is_container(&self, id: ObjId) -> bool {
        self.kind(id).is_container()
    }

    /// `tp_traverse`: calls `visit` on each reference `id` holds, once per reference, in CPython's
    /// order: list and tuple items from the last to the first, each dict entry's value then its
    /// key, instance attribute values in order. Atoms hold nothing.
    pub fn traverse(&self, id: ObjId, mut visit: impl FnMut(ObjId)) {
        self.kind(id).traverse(&mut visit);
    }

    /// `gc.get_referents(obj)`: the references `id` holds, in [`traverse`](Heap::traverse) order.
    pub fn referents(&self, id: ObjId) -> Vec<ObjId> {
        let mut found = Vec::new();
        self.traverse(id, |referent| found.push(referent));
        found
    }

    /// Every live object, in slot order (not creation order: slots are reused).
    pub fn objects(&self) -> impl Iterator<Item = (ObjId, &Object)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match &slot.entry {
                Entry::Live(object) => Some((
                    ObjId {
                        index: index as u32,
                        generation: slot.generation,
                    },
                    object,
                )),
                Entry::Free { .. } => None,
            })
    }

    // ANCHOR: clear
    /// `tp_clear`: makes the container `id` give up every reference it holds, leaving it empty
    /// (an instance keeps its class, a dict and a list become empty). This is how CPython's cycle
    /// collector breaks a cycle of garbage (`delete_garbage`): once one member lets go of its
    /// references, counts reach zero and ordinary deallocation does the rest. An atom holds
    /// nothing, so clearing it does nothing. Clearing may destroy `id` itself (a list whose only
    /// reference is its own item); to use `id` afterwards, hold a reference around the call, as
    /// `delete_garbage` does.
    ///
    /// The references are released in `tp_dealloc` order, after the container has been emptied
    /// (as `list_clear` does), so whatever their release destroys finds nothing left here.
    ///
    /// CPython's tuples have no `tp_clear` (they rely on another member of the cycle having one);
    /// here every container can be cleared, so that a collector needs no special case.
    ///
    /// # Panics
    /// If `id` was already destroyed.
    pub fn clear(&mut self, id: ObjId) {
        // BEGIN SOLUTION: afterwards `id` (if it is still alive) holds nothing, and every reference it held has been given up, in `tp_dealloc` order; whatever those releases destroy (even `id` itself) finds `id` already empty. `take_references()` on `self.object_mut(id).kind` hands over what it holds
        let held = self.object_mut(id).kind.take_references();
        for referent in held {
            self.decref(referent);
        }
        // END SOLUTION
    }
    // ANCHOR_END: clear
}
