//! What a cycle collector needs from each type, under CPython's names ("Supporting Cyclic
//! Garbage Collection" in the C API docs): `tp_traverse` ([`Heap::traverse`]), `tp_clear`
//! ([`Heap::clear`]), and the rules that keep objects that can never be part of a cycle out of
//! the generations.
//!
//! # Which objects are tracked (CPython 3.11)
//!
//! | object                     | tracked when                                                   |
//! |----------------------------|----------------------------------------------------------------|
//! | `None`, int, str           | never (not GC types)                                           |
//! | `()`                       | never (a static singleton)                                     |
//! | other tuples               | from creation, until [`Heap::maybe_untrack_tuple`] finds all   |
//! |                            | items untracked (`untrack_tuples`, every collection)           |
//! | dict                       | from the first insertion of a key or value that may be tracked |
//! |                            | (`MAINTAIN_TRACKING`), until [`Heap::maybe_untrack_dict`]       |
//! |                            | finds none (`untrack_dicts`, full collections only)            |
//! | list, instance, weakref    | always, from creation                                          |
//!
//! Checked with CPython 3.11.7: `t = tuple([1, 2])` is tracked; after `gc.collect(0)` it is
//! not. A tuple holding another tracked tuple is untracked only once the inner one is, so
//! nested tuples may need a pass per level, depending on the order the pass meets them.

use crate::heap::{Entry, Heap};
use crate::object::{Kind, NIL, ObjId};

impl Heap {
    /// `tp_traverse`: calls `visit` on each reference `id` holds, in CPython's order: list and
    /// tuple items from the last to the first; dict values only when every key ever inserted
    /// since the last clear was a str, otherwise each value then its key, in entry order;
    /// instance attribute values in order; for a weakref, the objects its callback calls (none
    /// for a callback that is only data); nothing for an atom. Keys are atoms, so the dict rule never changes what a collector finds.
    #[track_caller]
    #[inline(always)]
    pub fn traverse(&self, id: ObjId, mut visit: impl FnMut(ObjId)) {
        let kind = self.kind(id);
        self.prefetch_ahead(id);
        kind.traverse(&mut visit);
    }

    /// Asks the CPU to fetch, ahead of time, what a collector walking `id`'s GC list and
    /// traversing (or clearing) each object will read next: the header and the body of the
    /// object two places after `id`, and the headers of what the next object refers to (the
    /// first three).
    ///
    /// Not CPython, and it changes nothing a program can observe: a prefetch is a hint. It is
    /// here for the graphs whose references lead to random places (workload C's `d_random`):
    /// there a collection waits on one cache miss after another, each header read before the
    /// next can start, and `subtract_refs` and `move_unreachable` spend most of their time
    /// waiting. With the fetches started one object early, the misses overlap: when this was
    /// added, one full collection of `d_random` at 1,000,000 went from 340 ms to about 250.
    /// `clear` asks too: `delete_garbage` clears a list in order, and in `c_live` the garbage
    /// pairs lie among live objects, a cache miss each; its deletions went from 17 ms to 5.
    /// Where the lists and references follow allocation order (`a_pairs`), everything is in
    /// cache already and the hint costs its instructions, a few percent of `subtract_refs`.
    ///
    /// The two reads it makes are of lines it asked for one object earlier.
    #[inline(always)]
    fn prefetch_ahead(&self, id: ObjId) {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let fetch = |address: *const u8| {
                // SAFETY: a prefetch reads nothing the program can observe and never faults,
                // whatever the address; SSE, which it needs, is part of every x86-64 CPU.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
            };
            let next = self.heads[id.index()].next;
            if next == NIL {
                return;
            }
            let after = self.heads[next as usize].next;
            if after != NIL {
                fetch(self.heads.as_ptr().wrapping_add(after as usize).cast());
                fetch(self.bodies.as_ptr().wrapping_add(after as usize).cast());
            }
            if let Entry::Live(object) = &self.bodies[next as usize]
                && let Kind::List(items) | Kind::Tuple(items) = &object.kind
            {
                for item in items.iter().take(3) {
                    fetch(self.heads.as_ptr().wrapping_add(item.index()).cast());
                }
            }
        }
    }

    /// `gc.get_referents(id)`: the references [`traverse`](Heap::traverse) visits, in order.
    #[track_caller]
    pub fn referents(&self, id: ObjId) -> Vec<ObjId> {
        let mut found = Vec::new();
        self.kind(id).traverse(&mut |referent| found.push(referent));
        found
    }

    /// `tp_clear`: makes the container give up every reference it holds, and returns whether
    /// its type has a `tp_clear` at all.
    ///
    /// - list (`_list_clear`): emptied, items released last to first;
    /// - dict (`dict_tp_clear`, `PyDict_Clear`): emptied (keys table str-only again), entries
    ///   released in order, key before value;
    /// - instance (`subtype_clear`): attributes released in order;
    /// - weakref (`gc_clear`): cleared, callback dropped and never called (the objects it held
    ///   released);
    /// - tuple: **no `tp_clear`** in CPython (a tuple cannot be emptied; a cycle through a
    ///   tuple is broken by clearing another member): returns false, changes nothing;
    /// - atoms: not GC types: returns false.
    ///
    /// The container is emptied before anything is released. Clearing may destroy `id` itself
    /// (a list whose only reference was its own item); `delete_garbage` holds a reference
    /// around the call for that reason.
    #[track_caller]
    pub fn clear(&mut self, id: ObjId) -> bool {
        if self.is_tracked(id) {
            // `delete_garbage` clears the objects of a list in order (see `traverse`).
            self.prefetch_ahead(id);
        }
        match self.kind(id) {
            Kind::None | Kind::Int(_) | Kind::Str(_) | Kind::Tuple(_) => false,
            Kind::WeakRef { .. } => {
                self.unlink_weakref(id);
                let mut held = self.object_mut(id).kind.take_references();
                while let Some(object) = held.pop() {
                    self.decref(object);
                }
                true
            }
            Kind::List(_) | Kind::Dict { .. } | Kind::Instance { .. } => {
                let mut held = self.object_mut(id).kind.take_references();
                while let Some(referent) = held.pop() {
                    self.decref(referent);
                }
                true
            }
        }
    }

    /// `_PyObject_GC_MAY_BE_TRACKED(id)`: false for a non-GC object, a tuple's own tracking
    /// state for a tuple, true for every other GC object (even an untracked dict, which may be
    /// tracked again).
    #[track_caller]
    pub fn may_be_tracked(&self, id: ObjId) -> bool {
        match self.kind(id) {
            Kind::Tuple(_) => self.is_tracked(id),
            kind => kind.is_gc(),
        }
    }

    /// `_PyTuple_MaybeUntrack(id)`: untracks a tracked tuple none of whose items may be tracked.
    /// Returns whether it untracked it. Does nothing to anything else.
    #[track_caller]
    pub fn maybe_untrack_tuple(&mut self, id: ObjId) -> bool {
        let Kind::Tuple(items) = self.kind(id) else {
            return false;
        };
        if !self.is_tracked(id) || items.iter().any(|&item| self.may_be_tracked(item)) {
            return false;
        }
        self.untrack(id);
        true
    }

    /// `_PyDict_MaybeUntrack(id)`: untracks a tracked dict none of whose values (nor keys, for a
    /// general keys table) may be tracked. Returns whether it untracked it. Does nothing to
    /// anything else.
    #[track_caller]
    pub fn maybe_untrack_dict(&mut self, id: ObjId) -> bool {
        let Kind::Dict { entries, str_keys } = self.kind(id) else {
            return false;
        };
        let holds_trackable = entries.iter().any(|&(key, value)| {
            self.may_be_tracked(value) || (!str_keys && self.may_be_tracked(key))
        });
        if !self.is_tracked(id) || holds_trackable {
            return false;
        }
        self.untrack(id);
        true
    }
}
