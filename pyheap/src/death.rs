//! `Py_INCREF`, `Py_DECREF`, and what happens when a count reaches zero.
//!
//! # A death, in CPython 3.11's order (`subtype_dealloc`, `PyObject_ClearWeakRefs`)
//!
//! ```text
//!   count reaches 0
//!     │  untrack                                   PyObject_GC_UnTrack
//!     ├─ an instance whose class has __del__, not yet finalized?
//!     │     track again (tail of generation 0)     _PyObject_GC_TRACK before tp_finalize
//!     │     count = 1, run __del__, mark FINALIZED PyObject_CallFinalizerFromDealloc
//!     │     count -= 1: above 0? ──▶ resurrected: it lives on, tracked and finalized. Stop.
//!     │     untrack
//!     ├─ clear every weakref to it (referent = None), then call the callbacks of those
//!     │  weakrefs, in weaklist order                 PyObject_ClearWeakRefs
//!     ├─ free the slot (count0 -= 1 for a GC type)  PyObject_GC_Del
//!     └─ release what it held, last item first ... each release may start another death
//! ```
//!
//! A second death of a resurrected object skips `__del__` (it is FINALIZED) and goes straight
//! to the weakrefs: `__del__` runs at most once per object (PEP 442). A weakref that dies is
//! unlinked from its referent's list and its callback is never called.
//!
//! # The trashcan
//!
//! Releasing what an object held can bring more counts to zero. CPython recurses (with its
//! trashcan capping the depth at 50 and deferring the rest); this heap never recurses for the
//! cascade itself: [`Heap::decref`] keeps one entry per object being destroyed on an explicit
//! stack, exactly as lab 01 does, so a chain of a million lists needs no call stack. The order
//! is the order unbounded recursion gives. Code run *by* a death (a `__del__`, a callback) may
//! decref, and that starts a nested cascade with its own stack: the nesting depth is the depth
//! of finalizers calling finalizers, not the depth of the object graph.

use crate::behaviour::{Action, Event};
use crate::heap::Heap;
use crate::object::{Kind, ObjId};

impl Heap {
    /// `Py_INCREF(id)`.
    ///
    /// # Panics
    /// If the object was already destroyed.
    #[track_caller]
    pub fn incref(&mut self, id: ObjId) {
        self.object_mut(id).refcount += 1;
    }

    /// `Py_DECREF(id)`: gives up one reference; at zero the object dies (see the module docs),
    /// and what it held is released in turn.
    ///
    /// # Panics
    /// If the object was already destroyed (a decref too many), or if it is `None` or the empty
    /// tuple reaching zero (CPython: "deallocating None").
    #[track_caller]
    pub fn decref(&mut self, id: ObjId) {
        let object = self.object_mut(id);
        object.refcount -= 1;
        if object.refcount == 0 {
            self.dealloc(id);
        }
    }

    /// `tp_dealloc` for every type, with the trashcan built in (no recursion for the cascade).
    fn dealloc(&mut self, id: ObjId) {
        let Some(held) = self.die(id) else { return };
        if held.is_empty() {
            return;
        }
        let mut pending = vec![held.into_iter()];
        while let Some(top) = pending.last_mut() {
            let Some(child) = top.next() else {
                pending.pop();
                continue;
            };
            // Nothing left here: drop the entry now, as a tail call drops its frame.
            if top.len() == 0 {
                pending.pop();
            }
            let object = self.object_mut(child);
            object.refcount -= 1;
            if object.refcount == 0
                && let Some(held) = self.die(child)
            {
                pending.push(held.into_iter());
            }
        }
    }

    /// The death of `id`, whose count just reached zero: returns what it held (now the caller's
    /// to release), or `None` if its `__del__` resurrected it.
    fn die(&mut self, id: ObjId) -> Option<Vec<ObjId>> {
        if id == self.none || id == self.empty_tuple {
            panic!(
                "deallocating {}: a decref too many on a singleton the heap owns",
                self.repr_singleton(id)
            )
        }
        self.untrack(id);
        if self.has_pending_finalizer(id) && !self.call_finalizer_from_dealloc(id) {
            return None;
        }
        self.clear_weakrefs(id);
        if let Kind::WeakRef { .. } = self.kind(id) {
            // weakref_dealloc: clear_weakref unlinks it from its referent's list.
            self.unlink_weakref(id);
        }
        Some(self.release_slot(id).take_references())
    }

    fn repr_singleton(&self, id: ObjId) -> &'static str {
        if id == self.none {
            "None"
        } else {
            "the empty tuple"
        }
    }

    /// Whether `id` is an instance whose class has a `__del__` that has not run yet.
    pub(crate) fn has_pending_finalizer(&self, id: ObjId) -> bool {
        match self.kind(id) {
            Kind::Instance { class, .. } => {
                self.class(*class).finalizer.is_some() && !self.is_finalized(id)
            }
            _ => false,
        }
    }

    /// `PyObject_CallFinalizerFromDealloc`, with `subtype_dealloc`'s re-tracking around it.
    /// Returns false if the object was resurrected.
    fn call_finalizer_from_dealloc(&mut self, id: ObjId) -> bool {
        self.track(id);
        self.object_mut(id).refcount = 1; // the temporary resurrection
        self.finalize(id);
        let object = self.object_mut(id);
        object.refcount -= 1;
        if object.refcount > 0 {
            let serial = object.serial;
            self.events.push(Event::Resurrected(serial));
            return false;
        }
        self.untrack(id);
        true
    }

    /// `PyObject_CallFinalizer(id)`: if `id` is an instance whose class has a `__del__` and it
    /// is not finalized yet, logs [`Event::Finalized`], runs the `__del__`, then marks the object
    /// FINALIZED (`gc.is_finalized` is false *during* `__del__`, as CPython 3.11.7 shows).
    /// Returns whether a finalizer ran. This is what a collector's `finalize_garbage` calls; the
    /// caller must hold a reference to `id` (the collector's object is alive, so it does).
    #[track_caller]
    pub fn finalize(&mut self, id: ObjId) -> bool {
        if !self.has_pending_finalizer(id) {
            return false;
        }
        let Kind::Instance { class, .. } = self.kind(id) else {
            unreachable!("has_pending_finalizer checked it is an instance")
        };
        let actions = self
            .class(*class)
            .finalizer
            .clone()
            .expect("checked")
            .actions;
        let serial = self.serial(id);
        self.events.push(Event::Finalized(serial));
        self.run_actions(id, &actions, serial);
        self.set_finalized(id);
        true
    }

    /// Runs a `__del__` or callback body with `me` as self. An action that raises (a name not
    /// bound, a name not bound to a list) ends the body, logged as [`Event::ExceptionIgnored`]
    /// under `owner` (the serial CPython's "Exception ignored in" would name).
    pub(crate) fn run_actions(&mut self, me: ObjId, actions: &[Action], owner: u64) {
        for action in actions {
            let raised = match action {
                Action::Log(text) => {
                    self.events.push(Event::Log(text.clone()));
                    None
                }
                Action::BindSelf(name) => {
                    self.bind(name, me);
                    None
                }
                Action::AppendSelfTo(name) => match self.lookup(name) {
                    Some(list) if matches!(self.kind(list), Kind::List(_)) => {
                        self.list_append(list, me);
                        None
                    }
                    Some(other) => Some(format!(
                        "AttributeError: '{}' object has no attribute 'append'",
                        self.type_name(other)
                    )),
                    None => Some(format!("NameError: name '{name}' is not defined")),
                },
                Action::Unbind(name) => match self.lookup(name) {
                    Some(_) => {
                        self.unbind(name);
                        None
                    }
                    None => Some(format!("NameError: name '{name}' is not defined")),
                },
            };
            if let Some(message) = raised {
                self.events.push(Event::ExceptionIgnored(owner, message));
                return;
            }
        }
    }
}
