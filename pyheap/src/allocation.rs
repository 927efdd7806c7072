//! What one allocation of a container does to the collector's count: `count0`, CPython 3.11's
//! free lists, and the hook where an automatic collection starts (lab 04).
//!
//! # `count0`
//!
//! `gc.get_count()[0]` is "GC allocations minus GC deallocations since the last collection",
//! kept where CPython keeps it:
//!
//! ```text
//!   gc_alloc -> _PyObject_GC_Link(op)      count0 += 1; then, if count0 > threshold 0 (and the
//!                                          collector is enabled, and not already collecting):
//!                                          collect, INSIDE this allocation, before op is tracked
//!   PyObject_GC_Del(op)                    if count0 > 0: count0 -= 1
//! ```
//!
//! The heap does the counting. What follows the `+= 1` in `_PyObject_GC_Link`, deciding whether
//! to collect, is the collector's: the constructors that end in `_with` ([`Heap::new_list_with`],
//! ...) take a [`GcLink`] and call it right after the count and before the new object is tracked,
//! which is exactly where CPython 3.11 runs an automatic collection. The plain constructors
//! ([`Heap::new_list`], ...) count the same way and call no one: a heap without a collector.
//!
//! # Free lists (`Heap::with_free_lists`)
//!
//! CPython 3.11 keeps recently freed lists, dicts and small tuples on *free lists* and hands them
//! out again instead of allocating. An object taken from a free list skips `_PyObject_GC_Link`
//! (no `+= 1`, no automatic collection), and an object put on one skips `PyObject_GC_Del` (no
//! `-= 1`). So a loop that makes and drops a list moves `count0` by almost nothing, however long
//! it runs, and the automatic collections come when CPython's come only if the free lists are
//! modelled. The sizes are 3.11's (`Objects/listobject.c`, `dictobject.c`, `tupleobject.c`,
//! checked with CPython 3.11.7: `pyheap/parity/free_lists.py`):
//!
//! | free list | holds at most | taken by | filled by |
//! |-----------|---------------|----------|-----------|
//! | lists (`PyList_MAXFREELIST`) | 80 | `[]` (`PyList_New`) | `list_dealloc` |
//! | dicts (`PyDict_MAXFREELIST`) | 80 | `{}` (`new_dict`) | `dict_dealloc` |
//! | tuples of *n* items, one list per *n* (`PyTuple_MAXFREELIST`) | 2000 each | *n* = 1 to 19 (`maybe_freelist_pop`: `size < PyTuple_MAXSAVESIZE`) | *n* = 1 to **20** (`maybe_freelist_push`: `index < PyTuple_NFREELISTS`) |
//!
//! The last row is a quirk of 3.11 (and 3.12): a dead 20-tuple is put on its free list, but no
//! allocation ever takes one from it, so each 20-tuple made counts and its death does not, until
//! 2000 of them wait there. 3.13 takes them too. Instances and weakrefs have no free list.
//!
//! A full collection empties the free lists (`clear_freelists`, called by `gc_collect_main`):
//! each object on them is really freed then, with `PyObject_GC_Del`'s `-= 1`
//! ([`Heap::clear_free_lists`]; calling it is the collector's job).
//!
//! [`Heap::new`] has no free lists: every container allocation counts, the simpler model that
//! labs 01 to 03 use. [`Heap::with_free_lists`] has CPython 3.11's.
//!
//! The objects themselves are not kept (a freed object's slot is freed as usual): only how many
//! each free list holds matters, because that decides whether the next allocation counts.

use crate::behaviour::{Callback, ClassId};
use crate::heap::Heap;
use crate::object::{Kind, ObjId};

/// `PyList_MAXFREELIST`: the most lists the list free list holds.
pub const LIST_FREE_LIST_MAX: usize = 80;
/// `PyDict_MAXFREELIST`: the most dicts the dict free list holds.
pub const DICT_FREE_LIST_MAX: usize = 80;
/// `PyTuple_MAXFREELIST`: the most tuples each tuple free list holds.
pub const TUPLE_FREE_LIST_MAX: usize = 2000;
/// `PyTuple_MAXSAVESIZE`: a tuple is *taken* from a free list only if it has fewer items than
/// this (1 to 19), and *put* on one if it has at most this many (1 to 20).
pub const TUPLE_MAX_SAVE_SIZE: usize = 20;

// ANCHOR: gc_link_trait
/// What `_PyObject_GC_Link` does after `count0 += 1`: lab 04's automatic collection.
///
/// The heap calls [`gc_link`](GcLink::gc_link) inside every allocation of a container that a
/// `_with` constructor makes and no free list served, after adding one to `count0` and before
/// tracking the new object. The new object is not in any generation yet, so a collection started
/// here cannot see it.
///
/// The call may run a whole collection, which may run finalizers, which may allocate again: the
/// heap then calls the hook again, nested. Deciding not to start a collection inside another is
/// the hook's job, as it is `_PyObject_GC_Link`'s (`gcstate->collecting`).
pub trait GcLink {
    /// Called with the heap right after an allocation was counted.
    fn gc_link(&mut self, heap: &mut Heap);
}
// ANCHOR_END: gc_link_trait

/// The hook of the plain constructors: nothing happens after the count.
pub(crate) struct NoGc;

impl GcLink for NoGc {
    fn gc_link(&mut self, _heap: &mut Heap) {}
}

/// How many objects each free list holds now.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct FreeLists {
    /// Lists waiting to be reused by `[]`.
    pub lists: usize,
    /// Dicts waiting to be reused by `{}`.
    pub dicts: usize,
    /// `tuples[n - 1]`: tuples of `n` items waiting (n = 1 to 20; see the module docs for 20).
    pub tuples: [usize; TUPLE_MAX_SAVE_SIZE],
}

/// Which free list an object of some kind and size would use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FreeList {
    List,
    Dict,
    /// Tuples of this many items (1 to 20).
    Tuple(usize),
}

impl FreeList {
    /// The free list `kind` uses, if any.
    pub(crate) fn of(kind: &Kind) -> Option<FreeList> {
        match kind {
            Kind::List(_) => Some(FreeList::List),
            Kind::Dict { .. } => Some(FreeList::Dict),
            Kind::Tuple(items) if (1..=TUPLE_MAX_SAVE_SIZE).contains(&items.len()) => {
                Some(FreeList::Tuple(items.len()))
            }
            _ => None,
        }
    }
}

impl FreeLists {
    /// Takes an object from `list`, if it has one that an allocation may take.
    fn pop(&mut self, list: FreeList) -> bool {
        let slot = match list {
            FreeList::List => &mut self.lists,
            FreeList::Dict => &mut self.dicts,
            FreeList::Tuple(n) if n < TUPLE_MAX_SAVE_SIZE => &mut self.tuples[n - 1],
            FreeList::Tuple(_) => return false,
        };
        if *slot == 0 {
            return false;
        }
        *slot -= 1;
        true
    }

    /// Puts a dead object on `list`, if it has room.
    fn push(&mut self, list: FreeList) -> bool {
        let (slot, max) = match list {
            FreeList::List => (&mut self.lists, LIST_FREE_LIST_MAX),
            FreeList::Dict => (&mut self.dicts, DICT_FREE_LIST_MAX),
            FreeList::Tuple(n) => (&mut self.tuples[n - 1], TUPLE_FREE_LIST_MAX),
        };
        if *slot == max {
            return false;
        }
        *slot += 1;
        true
    }

    /// How many objects they hold in all.
    pub fn total(&self) -> usize {
        self.lists + self.dicts + self.tuples.iter().sum::<usize>()
    }

    /// `"list 3, dict 1, tuple(1) 2"`, or `"empty"`: the dump's line.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.lists > 0 {
            parts.push(format!("list {}", self.lists));
        }
        if self.dicts > 0 {
            parts.push(format!("dict {}", self.dicts));
        }
        for (index, &n) in self.tuples.iter().enumerate() {
            if n > 0 {
                parts.push(format!("tuple({}) {n}", index + 1));
            }
        }
        if parts.is_empty() {
            "empty".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl Heap {
    /// An empty heap with CPython 3.11's free lists (see the module docs), empty to begin with,
    /// as after a full collection.
    pub fn with_free_lists() -> Self {
        let mut heap = Heap::new();
        heap.free_lists = Some(FreeLists::default());
        heap
    }

    /// How many objects each free list holds, or `None` for a heap without free lists.
    pub fn free_lists(&self) -> Option<FreeLists> {
        self.free_lists
    }

    /// `clear_freelists`, which `gc_collect_main` calls at the end of a full collection: frees
    /// every object waiting on a free list, each with `PyObject_GC_Del`'s `count0 -= 1` (never
    /// below zero). Does nothing on a heap without free lists.
    pub fn clear_free_lists(&mut self) {
        if let Some(lists) = self.free_lists.take() {
            self.gc_counts[0] = self.gc_counts[0].saturating_sub(lists.total());
            self.free_lists = Some(FreeLists::default());
        }
    }

    /// Whether the allocation of an object of `kind` is served by a free list (which then holds
    /// one fewer). Always false without free lists.
    pub(crate) fn take_from_free_list(&mut self, kind: &Kind) -> bool {
        match (FreeList::of(kind), self.free_lists.as_mut()) {
            (Some(list), Some(lists)) => lists.pop(list),
            _ => false,
        }
    }

    /// Whether a dead object that used `list` goes onto it (which then holds one more) instead
    /// of being freed with `PyObject_GC_Del`.
    pub(crate) fn put_on_free_list(&mut self, list: Option<FreeList>) -> bool {
        match (list, self.free_lists.as_mut()) {
            (Some(list), Some(lists)) => lists.push(list),
            _ => false,
        }
    }

    // The constructors that call the collector's hook.

    /// [`new_list`](Heap::new_list), calling `gc` inside the allocation (see [`GcLink`]).
    pub fn new_list_with(&mut self, gc: &mut dyn GcLink) -> ObjId {
        let id = self.alloc(Kind::List(crate::object::Items::new()), gc);
        self.track(id);
        id
    }

    /// [`new_tuple`](Heap::new_tuple), calling `gc` inside the allocation (see [`GcLink`]). The
    /// tuple holds its items before the hook runs, as CPython's value stack holds them while
    /// `BUILD_TUPLE` allocates, so a collection there sees them referenced.
    pub fn new_tuple_with(&mut self, items: &[ObjId], gc: &mut dyn GcLink) -> ObjId {
        if items.is_empty() {
            self.incref(self.empty_tuple);
            return self.empty_tuple;
        }
        for &item in items {
            self.incref(item);
        }
        let id = self.alloc(Kind::Tuple(items.into()), gc);
        self.track(id);
        id
    }

    /// [`new_dict`](Heap::new_dict), calling `gc` inside the allocation (see [`GcLink`]). The
    /// dict is untracked, as always.
    pub fn new_dict_with(&mut self, gc: &mut dyn GcLink) -> ObjId {
        self.alloc(
            Kind::Dict {
                entries: Vec::new(),
                str_keys: true,
            },
            gc,
        )
    }

    /// [`new_instance`](Heap::new_instance), calling `gc` inside the allocation (see
    /// [`GcLink`]).
    pub fn new_instance_with(&mut self, class: ClassId, gc: &mut dyn GcLink) -> ObjId {
        assert!(
            (class.0 as usize) < self.classes.len(),
            "{class:?} is not a class of this heap"
        );
        let id = self.alloc(
            Kind::Instance {
                class,
                attrs: Vec::new(),
            },
            gc,
        );
        self.track(id);
        id
    }

    /// [`new_weakref`](Heap::new_weakref), calling `gc` inside the allocation (see [`GcLink`]),
    /// when a new weakref is made: a basic ref that already exists is returned without any.
    ///
    /// # Panics
    /// With `TypeError` if `referent` is not an instance.
    #[track_caller]
    pub fn new_weakref_with(
        &mut self,
        referent: ObjId,
        callback: Option<Callback>,
        gc: &mut dyn GcLink,
    ) -> ObjId {
        self.make_weakref(referent, callback, gc)
    }
}
