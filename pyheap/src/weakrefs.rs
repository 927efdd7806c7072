//! Weak references: `weakref.ref(obj, callback)`.
//!
//! A weakref refers to an object without holding a reference to it: the referent's count does
//! not include it, and when the referent dies the weakref is *cleared* (its referent becomes
//! `None`) and its callback, if it has one, is called with the weakref as argument.
//!
//! Each referent keeps the list of weakrefs to it (CPython's `tp_weaklist`, at
//! `tp_weaklistoffset`). Only instances of user classes can be weakly referenced here, as in
//! CPython (`weakref.ref([])` raises `TypeError: cannot create weak reference to 'list'
//! object`). The list's order is CPython's (`weakref___new__`, `insert_head`, `insert_after`):
//!
//! ```text
//!   weaklist of obj:  [ basic ref (no callback, shared) | newest ref with callback | ... | oldest ]
//! ```
//!
//! A weakref with no callback is shared: `weakref.ref(o) is weakref.ref(o)` is True, so asking
//! for another returns the same object with one more reference. Each weakref with a callback is
//! new, and goes right after the basic ref, so callbacks run newest first. CPython 3.11.7, three
//! weakrefs r1, r2, r3 made in that order, then `del o`, prints `cb r3`, `cb r2`, `cb r1`.
//!
//! At a death (`PyObject_ClearWeakRefs`) every weakref in the list is cleared first, and only
//! then are the callbacks called, in list order; the weakrefs are kept alive until the last
//! callback returns (CPython holds them in a tuple). A collector's `handle_weakrefs` uses the
//! pieces separately: [`Heap::weakrefs_to`], [`Heap::clear_weakref`] (which keeps the callback
//! so it can be called later) and [`Heap::call_weakref_callback`].

use crate::allocation::{GcLink, NoGc};
use crate::behaviour::{Callback, Event};
use crate::heap::Heap;
use crate::object::{Kind, ObjId};

impl Heap {
    /// `weakref.ref(referent, callback)`: a weakref to the instance `referent`, tracked.
    /// Without a callback, an existing basic ref to `referent` is returned instead, with one more
    /// reference. Returns a new reference.
    ///
    /// # Panics
    /// With `TypeError` if `referent` is not an instance.
    #[track_caller]
    pub fn new_weakref(&mut self, referent: ObjId, callback: Option<Callback>) -> ObjId {
        self.make_weakref(referent, callback, &mut NoGc)
    }

    /// [`new_weakref`](Heap::new_weakref) and [`new_weakref_with`](Heap::new_weakref_with). The
    /// new weakref joins its referent's weaklist after the hook ran, as `init_weakref` runs after
    /// `PyObject_GC_New`: a collection started inside the allocation does not see it there.
    #[track_caller]
    pub(crate) fn make_weakref(
        &mut self,
        referent: ObjId,
        callback: Option<Callback>,
        gc: &mut dyn GcLink,
    ) -> ObjId {
        if !matches!(self.kind(referent), Kind::Instance { .. }) {
            panic!(
                "TypeError: cannot create weak reference to '{}' object",
                self.type_name(referent)
            )
        }
        let basic = self
            .object(referent)
            .weakrefs
            .first()
            .copied()
            .filter(|&wr| matches!(self.kind(wr), Kind::WeakRef { callback: None, .. }));
        if callback.is_none()
            && let Some(basic) = basic
        {
            self.incref(basic);
            return basic;
        }
        let has_callback = callback.is_some();
        // init_weakref: `Py_XINCREF(callback)`, before the allocation can run a collection.
        for held in callback.iter().flat_map(Callback::held) {
            self.incref(held);
        }
        let id = self.alloc(
            Kind::WeakRef {
                referent: Some(referent),
                callback,
            },
            gc,
        );
        // The hook may have run a collection that freed or made the basic ref: look again.
        let basic = self
            .object(referent)
            .weakrefs
            .first()
            .copied()
            .filter(|&wr| matches!(self.kind(wr), Kind::WeakRef { callback: None, .. }));
        let position = if has_callback {
            usize::from(basic.is_some())
        } else {
            0
        };
        self.track(id);
        self.object_mut(referent).weakrefs.insert(position, id);
        id
    }

    /// The weakrefs to `id`, in weaklist order (empty for a type that has no weaklist).
    #[track_caller]
    pub fn weakrefs_to(&self, id: ObjId) -> &[ObjId] {
        &self.object(id).weakrefs
    }

    /// `wr()`: the referent, borrowed, or `None` once it was cleared.
    ///
    /// # Panics
    /// If `wr` is not a weakref.
    #[track_caller]
    pub fn weakref_referent(&self, wr: ObjId) -> Option<ObjId> {
        match self.kind(wr) {
            Kind::WeakRef { referent, .. } => *referent,
            _ => panic!("expected a weakref, got {}", self.describe(wr)),
        }
    }

    /// The callback of `wr`, if it still has one.
    ///
    /// # Panics
    /// If `wr` is not a weakref.
    #[track_caller]
    pub fn weakref_callback(&self, wr: ObjId) -> Option<&Callback> {
        match self.kind(wr) {
            Kind::WeakRef { callback, .. } => callback.as_ref(),
            _ => panic!("expected a weakref, got {}", self.describe(wr)),
        }
    }

    /// `_PyWeakref_ClearRef(wr)`: sets its referent to `None` and unlinks it from the referent's
    /// weaklist, **keeping** its callback, which is not called (a collector's `handle_weakrefs`
    /// calls it later, if the weakref is reachable). Doing it twice does nothing.
    ///
    /// # Panics
    /// If `wr` is not a weakref.
    #[track_caller]
    pub fn clear_weakref(&mut self, wr: ObjId) {
        self.weakref_referent(wr);
        self.unlink_weakref(wr);
    }

    /// `handle_callback(wr, callback)`: calls the callback of `wr` with `wr` as argument (the
    /// call holds a reference to it), logging [`Event::CallbackCalled`]. The callback stays in
    /// place (CPython's `handle_weakrefs` drops it with the weakref). Returns whether `wr` had a
    /// callback to call.
    ///
    /// # Panics
    /// If `wr` is not a weakref.
    #[track_caller]
    pub fn call_weakref_callback(&mut self, wr: ObjId) -> bool {
        let Some(callback) = self.weakref_callback(wr).cloned() else {
            return false;
        };
        self.handle_callback(wr, &callback);
        true
    }

    fn handle_callback(&mut self, wr: ObjId, callback: &Callback) {
        let serial = self.serial(wr);
        self.log(Event::CallbackCalled(serial));
        self.call(&[wr], |heap, args| {
            heap.run_actions(args[0], &callback.actions, serial)
        });
    }

    /// `PyObject_ClearWeakRefs(id)`, at `id`'s death: clears every weakref to it (referent
    /// `None`, callback taken away), then calls the taken callbacks in weaklist order, the
    /// weakrefs held alive until all have run, then let go of from the last to the first (the
    /// order `tupledealloc` releases CPython's holding tuple in), each after the objects its
    /// callback held.
    pub(crate) fn clear_weakrefs(&mut self, id: ObjId) {
        let weakrefs = self.object_mut(id).weakrefs.take();
        let mut to_call = Vec::new();
        for wr in weakrefs {
            let Kind::WeakRef { referent, callback } = &mut self.object_mut(wr).kind else {
                unreachable!("a weaklist holds weakrefs only")
            };
            *referent = None;
            if let Some(callback) = callback.take() {
                to_call.push((wr, callback));
            }
        }
        for &(wr, _) in &to_call {
            self.incref(wr);
        }
        for (wr, callback) in &to_call {
            self.handle_callback(*wr, callback);
        }
        // CPython holds each weakref and its callback in a tuple, [wr0, cb0, wr1, cb1, ...],
        // and releases the tuple: its items go last to first, each callback before its weakref.
        for (wr, callback) in to_call.iter().rev() {
            for held in callback.held() {
                self.decref(held);
            }
            self.decref(*wr);
        }
    }

    /// `clear_weakref(wr)` without dropping the callback: referent `None`, unlinked from the
    /// referent's weaklist.
    pub(crate) fn unlink_weakref(&mut self, wr: ObjId) {
        let Kind::WeakRef { referent, .. } = &mut self.object_mut(wr).kind else {
            unreachable!("callers pass weakrefs")
        };
        if let Some(referent) = referent.take() {
            self.object_mut(referent)
                .weakrefs
                .retain(|&other| other != wr);
        }
    }
}
