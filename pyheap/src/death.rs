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
//! cascade itself: [`Heap::decref`] keeps the references still to release on an explicit stack
//! (a dying object's are pushed on top, its last item on the very top), as lab 01 does, so a
//! chain of a million lists needs no call stack. The order is the order unbounded recursion
//! gives. Code run *by* a death (a `__del__`, a callback) may decref, and that starts a nested
//! cascade, which works on the same stack above the entries it found there and leaves them as
//! they were: the nesting depth is the depth of finalizers calling finalizers, not the depth of
//! the object graph.

use crate::behaviour::{Action, Event};
use crate::heap::{Entry, Heap};
use crate::object::{Kind, NIL, ObjId};

impl Heap {
    /// `Py_INCREF(id)`.
    ///
    /// # Panics
    /// If the object was already destroyed.
    #[track_caller]
    #[inline]
    pub fn incref(&mut self, id: ObjId) {
        let head = self.header_mut(id);
        head.refcount = head
            .refcount
            .checked_add(1)
            .expect("a reference count above 2^32 - 1: more references than this heap can count");
    }

    /// `Py_DECREF(id)`: gives up one reference; at zero the object dies (see the module docs),
    /// and what it held is released in turn.
    ///
    /// # Panics
    /// If the object was already destroyed (a decref too many), or if it is `None` or the empty
    /// tuple reaching zero (CPython: "deallocating None").
    #[track_caller]
    #[inline]
    pub fn decref(&mut self, id: ObjId) {
        let head = self.header_mut(id);
        head.refcount -= 1;
        if head.refcount == 0 {
            self.dealloc(id);
        }
    }

    /// `tp_dealloc` for every type, with the trashcan built in (no recursion for the cascade).
    ///
    /// The explicit stack is the heap's own (`pending`), kept from one cascade to the next, so
    /// that a death allocates nothing. What a dying object held is pushed on top, so that it is
    /// released, depth first, before what the objects below it held, as CPython's recursive
    /// deallocs do. A cascade started by code a death runs (a `__del__`) uses the same stack
    /// above the entries it found there, and leaves them as they were.
    fn dealloc(&mut self, id: ObjId) {
        let base = self.pending.len();
        if self.die(id) {
            while self.pending.len() > base {
                let Some(child) = self.pending.pop() else {
                    break;
                };
                let head = self.header_mut(child);
                head.refcount -= 1;
                if head.refcount == 0 {
                    self.die(child);
                }
            }
        }
    }

    /// The death of `id`, whose count just reached zero: pushes what it held onto the heap's
    /// `pending` stack (now the caller's to release) and returns true, or returns false if its
    /// `__del__` resurrected it. The caller has checked the handle.
    #[inline(always)]
    fn die(&mut self, id: ObjId) -> bool {
        if id == self.none || id == self.empty_tuple {
            self.deallocating_singleton(id)
        }
        let index = id.index;
        if self.heads[index as usize].tag != NIL {
            self.unlink(index);
        }
        let Entry::Live(object) = &self.bodies[index as usize] else {
            unreachable!("the caller checked the handle")
        };
        // Most deaths run no code: no `__del__`, no weakref to the object, not a weakref itself.
        // Those stay on this path; the others take the one out of line.
        let runs_code = match &object.kind {
            Kind::Instance { class, .. } => self.classes[class.0 as usize].finalizer.is_some(),
            Kind::WeakRef { .. } => true,
            _ => false,
        } || !object.weakrefs.is_empty();
        if runs_code && !self.die_running_code(id) {
            return false;
        }
        self.release_slot(id);
        true
    }

    /// The part of a death that runs code: the `__del__` (which may resurrect the object: then
    /// false), and the weakrefs' clearing. Out of line, so that the common death stays small.
    #[inline(never)]
    fn die_running_code(&mut self, id: ObjId) -> bool {
        let finalizable = self.has_finalizer(id);
        if finalizable && !self.is_finalized(id) && !self.call_finalizer_from_dealloc(id) {
            return false;
        }
        // A `__del__` may have made new weakrefs to it.
        self.clear_weakrefs(id);
        if matches!(self.kind(id), Kind::WeakRef { .. }) {
            // weakref_dealloc: clear_weakref unlinks it from its referent's list.
            self.unlink_weakref(id);
        }
        true
    }

    /// Panics: a decref too many on `None` or the empty tuple.
    #[cold]
    #[inline(never)]
    fn deallocating_singleton(&self, id: ObjId) -> ! {
        panic!(
            "deallocating {}: a decref too many on a singleton the heap owns",
            self.repr_singleton(id)
        )
    }

    fn repr_singleton(&self, id: ObjId) -> &'static str {
        if id == self.none {
            "None"
        } else {
            "the empty tuple"
        }
    }

    /// Whether the type of `id` has a `tp_finalize` slot: here, whether `id` is an instance of
    /// a class that defines `__del__`. Says nothing about whether it already ran: that is the
    /// FINALIZED flag ([`is_finalized`](Heap::is_finalized)).
    #[track_caller]
    #[inline]
    pub fn has_finalizer(&self, id: ObjId) -> bool {
        match self.kind(id) {
            Kind::Instance { class, .. } => self.class(*class).finalizer.is_some(),
            _ => false,
        }
    }

    /// `PyObject_CallFinalizerFromDealloc`, with `subtype_dealloc`'s re-tracking around it.
    /// Returns false if the object was resurrected.
    fn call_finalizer_from_dealloc(&mut self, id: ObjId) -> bool {
        self.track(id);
        self.header_mut(id).refcount = 1; // the temporary resurrection
        // PyObject_CallFinalizer: the caller checked the FINALIZED flag; it is set only after
        // the call (`gc.is_finalized(self)` is False inside a `__del__` run by a death).
        self.tp_finalize(id);
        self.set_finalized(id);
        let head = self.header_mut(id);
        head.refcount -= 1;
        if head.refcount > 0 {
            let serial = self.serial(id);
            self.log(Event::Resurrected(serial));
            return false;
        }
        self.untrack(id);
        true
    }

    /// `Py_TYPE(id)->tp_finalize(id)`: runs the `__del__` of `id`, logging [`Event::Finalized`]
    /// first, and nothing else. Like the C slot, it neither reads nor sets the FINALIZED flag:
    /// keeping a `__del__` to one run per object (PEP 442) is the caller's job. At a death the
    /// heap does it itself (`PyObject_CallFinalizer`); in a collection, `finalize_garbage` must:
    /// test [`is_finalized`](Heap::is_finalized), and [`set_finalized`](Heap::set_finalized)
    /// before the call, as CPython does. The caller must also hold a reference to `id`.
    ///
    /// # Panics
    /// If the type of `id` has no `tp_finalize` ([`has_finalizer`](Heap::has_finalizer) is false):
    /// CPython's `finalize_garbage` checks the slot before calling it.
    #[track_caller]
    pub fn tp_finalize(&mut self, id: ObjId) {
        let Kind::Instance { class, .. } = self.kind(id) else {
            panic!(
                "{} has no tp_finalize (only instances of a class with a __del__ have one): \
                 check Heap::has_finalizer before calling Heap::tp_finalize",
                self.describe(id)
            )
        };
        let Some(finalizer) = self.class(*class).finalizer.clone() else {
            panic!(
                "{} has no tp_finalize (its class defines no __del__): check \
                 Heap::has_finalizer before calling Heap::tp_finalize",
                self.describe(id)
            )
        };
        let serial = self.serial(id);
        self.log(Event::Finalized(serial));
        self.run_actions(id, &finalizer.actions, serial);
    }

    /// Runs a `__del__` or callback body with `me` as self. An action that raises (a name not
    /// bound, a name not bound to a list) ends the body, logged as [`Event::ExceptionIgnored`]
    /// under `owner` (the serial CPython's "Exception ignored in" would name).
    pub(crate) fn run_actions(&mut self, me: ObjId, actions: &[Action], owner: u64) {
        for action in actions {
            let raised = match action {
                Action::Log(text) => {
                    self.log(Event::Log(text.clone()));
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
                Action::Call(callable) => self.call_object(*callable, &[me]).err(),
                Action::DelSelfAttr(name) => {
                    let has = matches!(self.kind(me), Kind::Instance { attrs, .. }
                        if attrs.iter().any(|(attr, _)| attr == name));
                    if has {
                        self.del_attr(me, name);
                        None
                    } else {
                        Some(format!(
                            "AttributeError: '{}' object has no attribute '{name}'",
                            self.type_name(me)
                        ))
                    }
                }
            };
            if !self.is_alive(me) {
                panic!(
                    "object #{owner} was freed while its own __del__ (or callback) was still \
                     running: nothing held a reference to it for the call, and the body's last \
                     action took its count to 0. CPython's finalize_garbage holds one around \
                     tp_finalize (Py_INCREF before, Py_DECREF after), and handle_weakrefs around \
                     a callback; without it, the rest of the call would run on freed memory"
                );
            }
            if let Some(message) = raised {
                self.log(Event::ExceptionIgnored(owner, message));
                return;
            }
        }
    }
}
