//! The GC header of each container and the lists the collector keeps them in.
//!
//! In CPython every GC object is preceded by a `PyGC_Head`, two words that link it into a
//! doubly linked list (3.11, `Include/internal/pycore_gc.h`):
//!
//! ```text
//!            PyGC_Head                        the object
//!   ┌────────────────────────────────┬────────────────────────────┐
//!   │ _gc_next  (0 = untracked)      │ ob_refcnt  ob_type  ...    │
//!   │ _gc_prev  | FINALIZED | COLL.  │                            │
//!   └────────────────────────────────┴────────────────────────────┘
//!   during a collection _gc_prev holds gc_refs (shifted left by 2) instead of a pointer
//!
//!   generation 0 ──▶ [A] ◀──▶ [B] ◀──▶ [C] ──▶ back to the head     (a circular list)
//!   generation 1 ──▶ (empty)
//!   generation 2 ──▶ [D] ◀──▶ [E]
//!   permanent    ──▶ (gc.freeze() moves everything here)
//! ```
//!
//! "Tracked" means "in some list". A new list, tuple, instance or weakref is tracked at creation:
//! it goes to the **tail** of generation 0, so each list is in the order its objects were added,
//! and that order is observable: CPython calls finalizers in list order (cpython-facts §8), and
//! `move_unreachable` depends on it.
//!
//! Ours is the same list, linked by slot index instead of by pointer: each live object's
//! `GcHead` holds the slots of its neighbours and which [`GcList`] it is in. There are four
//! lists from the start ([`GcList::GEN0`], [`GEN1`](GcList::GEN1), [`GEN2`](GcList::GEN2),
//! [`PERMANENT`](GcList::PERMANENT)) and a collector makes its own local ones
//! (`unreachable`, `finalizers`, ...) with [`Heap::gc_list_new`], as `gc_collect_main` declares
//! `PyGC_Head unreachable;` on its stack. Departures from CPython, both for clarity:
//!
//! - `gc_refs` and the FINALIZED flag are fields of their own ([`Heap::gc_refs`],
//!   [`Heap::is_finalized`]) rather than bits packed into `_gc_prev`, so the links stay valid
//!   during a collection;
//! - CPython marks the objects being collected with `PREV_MASK_COLLECTING` and the unreachable
//!   ones with `NEXT_MASK_UNREACHABLE`; here [`Heap::gc_list_of`] says which list an object is in,
//!   which answers both questions.
//!
//! Moving an object between lists and merging two lists keep the order (`gc_list_move` appends
//! to the tail; `gc_list_merge` appends a whole list to the tail of another). A scan that moves
//! objects while it walks uses [`Heap::gc_list_first`] and [`Heap::gc_list_next`], which read the
//! links at the moment they are called, exactly as CPython's `gc = GC_NEXT(gc)` loops do.
//!
//! # Allocation counts (for lab 04)
//!
//! `gc.get_count()` is `(count0, count1, count2)`: [`Heap::gc_counts`]. The heap maintains
//! `count0` as CPython does (`_PyObject_GC_Link` and `PyObject_GC_Del`): plus one for every
//! allocation of a GC object, tracked or not; minus one for every deallocation of one, never
//! going below zero; neither for an object that a free list serves or takes back (a heap made
//! with [`Heap::with_free_lists`]; see [`crate::allocation`]). `count1` and `count2` are the
//! collector's to maintain, through [`Heap::gc_counts_mut`]. The heap never starts a collection
//! itself: the `_with` constructors call the collector's [`GcLink`](crate::GcLink) hook, which
//! may.

use crate::heap::{Entry, Heap};
use crate::object::ObjId;

/// One of the heap's GC lists: a generation, the permanent generation, or a list a collector
/// made with [`Heap::gc_list_new`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct GcList(pub(crate) u32);

impl GcList {
    /// Generation 0, the youngest: where objects are tracked.
    pub const GEN0: GcList = GcList(0);
    /// Generation 1.
    pub const GEN1: GcList = GcList(1);
    /// Generation 2, the oldest.
    pub const GEN2: GcList = GcList(2);
    /// The permanent generation (`gc.freeze()`), never collected.
    pub const PERMANENT: GcList = GcList(3);
    /// How many lists every heap has from the start.
    pub const BUILT_IN: usize = 4;

    /// Generation `g` (0, 1 or 2), as `GEN_HEAD(gcstate, g)`.
    ///
    /// # Panics
    /// If `g` is above 2.
    pub fn generation(g: usize) -> GcList {
        assert!(g < 3, "there are three generations, 0 to 2; got {g}");
        GcList(g as u32)
    }

    /// `"gen0"`, `"gen1"`, `"gen2"`, `"permanent"`, or `"list4"` for a collector's list.
    pub fn name(self) -> String {
        match self.0 {
            0..=2 => format!("gen{}", self.0),
            3 => "permanent".to_string(),
            n => format!("list{n}"),
        }
    }
}

/// The GC header of one object (`PyGC_Head` plus its flag bits).
#[derive(Clone, Debug, Default)]
pub(crate) struct GcHead {
    /// The list this object is in: `Some` exactly when it is tracked.
    pub(crate) list: Option<GcList>,
    /// The slot of the previous object in the list (`None` at the head).
    pub(crate) prev: Option<u32>,
    /// The slot of the next object in the list (`None` at the tail).
    pub(crate) next: Option<u32>,
    /// The collector's scratch count.
    pub(crate) gc_refs: isize,
    /// `_PyGC_PREV_MASK_FINALIZED`: `tp_finalize` has run (`gc.is_finalized`).
    pub(crate) finalized: bool,
}

/// The head of one list.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListHead {
    pub(crate) first: Option<u32>,
    pub(crate) last: Option<u32>,
    pub(crate) len: usize,
    /// False for a collector's list that was given back (its number may be reused).
    pub(crate) in_use: bool,
}

impl Heap {
    /// `_PyObject_GC_IS_TRACKED(id)`: whether the object is in a GC list.
    #[track_caller]
    pub fn is_tracked(&self, id: ObjId) -> bool {
        self.object(id).gc.list.is_some()
    }

    /// `_PyObject_GC_TRACK(id)`: links a GC object at the tail of generation 0.
    ///
    /// # Panics
    /// If the object is not a GC type, or is already tracked (CPython asserts "object already
    /// tracked by the garbage collector").
    #[track_caller]
    pub fn track(&mut self, id: ObjId) {
        if !self.kind(id).is_gc() {
            panic!(
                "{} is not a GC type: it can never be tracked",
                self.describe(id)
            )
        }
        if self.is_tracked(id) {
            panic!(
                "{} is already tracked by the garbage collector",
                self.describe(id)
            )
        }
        self.link_tail(id, GcList::GEN0);
    }

    /// `PyObject_GC_UnTrack(id)`: unlinks the object from its list, if it is in one (doing
    /// nothing otherwise, as CPython does).
    #[track_caller]
    pub fn untrack(&mut self, id: ObjId) {
        if self.is_tracked(id) {
            self.unlink(id);
        }
    }

    /// The list `id` is in, or `None` if it is untracked.
    #[track_caller]
    pub fn gc_list_of(&self, id: ObjId) -> Option<GcList> {
        self.object(id).gc.list
    }

    /// The collector's scratch count (`gc_get_refs`). The heap never reads it.
    #[track_caller]
    pub fn gc_refs(&self, id: ObjId) -> isize {
        self.object(id).gc.gc_refs
    }

    /// Sets the collector's scratch count (`gc_reset_refs`, `gc_decref`, ...).
    #[track_caller]
    pub fn set_gc_refs(&mut self, id: ObjId, refs: isize) {
        self.object_mut(id).gc.gc_refs = refs;
    }

    /// `gc.is_finalized(id)`: whether its `__del__` has run (and so never runs again).
    #[track_caller]
    pub fn is_finalized(&self, id: ObjId) -> bool {
        self.object(id).gc.finalized
    }

    /// `_PyGC_SET_FINALIZED(id)`: records that its finalizer ran, or is about to, so that it never
    /// runs again. [`tp_finalize`](Heap::tp_finalize) does not set it: a collector's
    /// `finalize_garbage` sets it right before calling it, as CPython's does.
    #[track_caller]
    pub fn set_finalized(&mut self, id: ObjId) {
        self.object_mut(id).gc.finalized = true;
    }

    /// A new empty list for a collector (`PyGC_Head unreachable; gc_list_init(&unreachable)`).
    /// Give it back with [`gc_list_release`](Heap::gc_list_release) once it is empty.
    pub fn gc_list_new(&mut self) -> GcList {
        let reuse = self.lists[GcList::BUILT_IN..]
            .iter()
            .position(|head| !head.in_use);
        let number = match reuse {
            Some(offset) => GcList::BUILT_IN + offset,
            None => {
                self.lists.push(ListHead::default());
                self.lists.len() - 1
            }
        };
        self.lists[number] = ListHead {
            in_use: true,
            ..ListHead::default()
        };
        GcList(number as u32)
    }

    /// Gives back a list made by [`gc_list_new`](Heap::gc_list_new).
    ///
    /// # Panics
    /// If the list is not empty (its objects would be lost to every generation), or is one of
    /// the four built-in lists.
    pub fn gc_list_release(&mut self, list: GcList) {
        assert!(
            list.0 as usize >= GcList::BUILT_IN,
            "{} is built in: it cannot be released",
            list.name()
        );
        let head = self.head(list);
        assert!(
            head.len == 0,
            "{} still holds {} objects: move them to a generation before releasing it",
            list.name(),
            head.len
        );
        self.lists[list.0 as usize].in_use = false;
    }

    /// `gc_list_size(list)`: how many objects it holds (kept up to date, so this is O(1)).
    pub fn gc_list_len(&self, list: GcList) -> usize {
        self.head(list).len
    }

    /// `gc_list_is_empty(list)`.
    pub fn gc_list_is_empty(&self, list: GcList) -> bool {
        self.gc_list_len(list) == 0
    }

    /// The object at the head of the list (`GC_NEXT(list)`), if any.
    pub fn gc_list_first(&self, list: GcList) -> Option<ObjId> {
        self.head(list).first.map(|index| self.id_at(index))
    }

    /// The object at the tail of the list (`GC_PREV(list)`), if any.
    pub fn gc_list_last(&self, list: GcList) -> Option<ObjId> {
        self.head(list).last.map(|index| self.id_at(index))
    }

    /// The object after `id` in its list (`GC_NEXT(gc)`), or `None` at the tail.
    ///
    /// # Panics
    /// If `id` is not tracked.
    #[track_caller]
    pub fn gc_list_next(&self, id: ObjId) -> Option<ObjId> {
        let gc = &self.object(id).gc;
        assert!(
            gc.list.is_some(),
            "{} is not in a GC list",
            self.describe(id)
        );
        gc.next.map(|index| self.id_at(index))
    }

    /// The objects of `list`, head to tail (a snapshot: the list may change afterwards).
    pub fn gc_list_objects(&self, list: GcList) -> Vec<ObjId> {
        let mut found = Vec::with_capacity(self.gc_list_len(list));
        let mut cursor = self.head(list).first;
        while let Some(index) = cursor {
            found.push(self.id_at(index));
            cursor = self.object_at(index).gc.next;
        }
        found
    }

    /// `gc_list_move(id, to)`: unlinks `id` from its list and links it at the tail of `to`.
    ///
    /// # Panics
    /// If `id` is not tracked (CPython moves only tracked objects; use [`track`](Heap::track)).
    #[track_caller]
    pub fn gc_list_move(&mut self, id: ObjId, to: GcList) {
        assert!(
            self.is_tracked(id),
            "gc_list_move: {} is not tracked",
            self.describe(id)
        );
        self.head(to);
        self.unlink(id);
        self.link_tail(id, to);
    }

    /// `gc_list_merge(from, to)`: appends all of `from` to the tail of `to`, in order, leaving
    /// `from` empty. Merging a list into itself does nothing.
    pub fn gc_list_merge(&mut self, from: GcList, to: GcList) {
        self.head(to);
        if from == to {
            return;
        }
        let ListHead {
            first, last, len, ..
        } = self.head(from).clone();
        let (Some(first), Some(last)) = (first, last) else {
            return;
        };
        // Relabel every object of `from`, then splice the whole chain after `to`'s tail: the
        // links inside the chain do not change.
        let mut cursor = Some(first);
        while let Some(index) = cursor {
            let gc = &mut self.object_at_mut(index).gc;
            gc.list = Some(to);
            cursor = gc.next;
        }
        let to_last = self.head(to).last;
        self.object_at_mut(first).gc.prev = to_last;
        match to_last {
            Some(index) => self.object_at_mut(index).gc.next = Some(first),
            None => self.lists[to.0 as usize].first = Some(first),
        }
        let to_head = &mut self.lists[to.0 as usize];
        to_head.last = Some(last);
        to_head.len += len;
        let from_head = &mut self.lists[from.0 as usize];
        from_head.first = None;
        from_head.last = None;
        from_head.len = 0;
    }

    /// `gc.get_count()`: `[count0, count1, count2]`. The heap keeps `count0` (see the module
    /// docs); the other two are the collector's.
    pub fn gc_counts(&self) -> [usize; 3] {
        self.gc_counts
    }

    /// The counts, to change: a collection resets `count0` and bumps the next generation's.
    pub fn gc_counts_mut(&mut self) -> &mut [usize; 3] {
        &mut self.gc_counts
    }

    // The list machinery.

    /// The head of `list`.
    ///
    /// # Panics
    /// If `list` was released or never made.
    #[track_caller]
    pub(crate) fn head(&self, list: GcList) -> &ListHead {
        match self.lists.get(list.0 as usize) {
            Some(head) if head.in_use => head,
            _ => panic!(
                "{} is not a list of this heap (was it released?)",
                list.name()
            ),
        }
    }

    /// The live object in slot `index` (a link always names one).
    pub(crate) fn object_at(&self, index: u32) -> &crate::Object {
        match &self.slots[index as usize].entry {
            Entry::Live(object) => object,
            Entry::Free { .. } => unreachable!("a GC list links slot {index}, which is free"),
        }
    }

    /// The handle of the live object in slot `index`.
    pub(crate) fn id_at(&self, index: u32) -> ObjId {
        ObjId {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// Links the untracked object `id` at the tail of `list`.
    fn link_tail(&mut self, id: ObjId, list: GcList) {
        let last = self.head(list).last;
        {
            let gc = &mut self.object_mut(id).gc;
            debug_assert!(gc.list.is_none(), "link_tail of a tracked object");
            gc.list = Some(list);
            gc.prev = last;
            gc.next = None;
        }
        match last {
            Some(index) => self.object_at_mut(index).gc.next = Some(id.index),
            None => self.lists[list.0 as usize].first = Some(id.index),
        }
        let head = &mut self.lists[list.0 as usize];
        head.last = Some(id.index);
        head.len += 1;
    }

    /// Unlinks the tracked object `id` from its list.
    fn unlink(&mut self, id: ObjId) {
        let gc = &mut self.object_mut(id).gc;
        let list = gc.list.take().expect("unlink of an untracked object");
        let (prev, next) = (gc.prev.take(), gc.next.take());
        match prev {
            Some(index) => self.object_at_mut(index).gc.next = next,
            None => self.lists[list.0 as usize].first = next,
        }
        match next {
            Some(index) => self.object_at_mut(index).gc.prev = prev,
            None => self.lists[list.0 as usize].last = prev,
        }
        self.lists[list.0 as usize].len -= 1;
    }

    /// The live object in slot `index`, mutably.
    fn object_at_mut(&mut self, index: u32) -> &mut crate::Object {
        match &mut self.slots[index as usize].entry {
            Entry::Live(object) => object,
            Entry::Free { .. } => unreachable!("a GC list links slot {index}, which is free"),
        }
    }
}
