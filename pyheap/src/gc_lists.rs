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
//! Knowing its list is what could make a merge cost one step per object: every object moved
//! would need its label changed. So an object's header holds a *tag*, and the heap maps each tag
//! to a list. A list has tags of its own; [`Heap::gc_list_merge`] hands all of `from`'s tags to
//! `to` (a few entries of the map, however long the list) and splices the two chains, as
//! CPython's `gc_list_merge` does in constant time. A list that becomes empty gives back the
//! tags it collected, so the map stays as small as the number of merges since.
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

use crate::heap::Heap;
use crate::object::{FINALIZED, Head, NIL, ObjId};

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

/// The head of one list.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListHead {
    /// The slot of the first object, or [`NIL`].
    pub(crate) first: u32,
    /// The slot of the last object, or [`NIL`].
    pub(crate) last: u32,
    pub(crate) len: usize,
    /// False for a collector's list that was given back (its number may be reused).
    pub(crate) in_use: bool,
    /// The tag an object linked into this list gets.
    pub(crate) tag: u32,
    /// Every tag that stands for this list: its own, and those of the lists merged into it
    /// since it was last empty.
    pub(crate) tags: Vec<u32>,
}

/// `Some(x)` unless `x` is [`NIL`].
#[inline]
fn link(x: u32) -> Option<u32> {
    (x != NIL).then_some(x)
}

impl Heap {
    /// `_PyObject_GC_IS_TRACKED(id)`: whether the object is in a GC list.
    #[inline]
    #[track_caller]
    pub fn is_tracked(&self, id: ObjId) -> bool {
        self.header(id).tag != NIL
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
        self.link_tail(id.index, GcList::GEN0);
    }

    /// `PyObject_GC_UnTrack(id)`: unlinks the object from its list, if it is in one (doing
    /// nothing otherwise, as CPython does).
    #[inline]
    #[track_caller]
    pub fn untrack(&mut self, id: ObjId) {
        if self.is_tracked(id) {
            self.unlink(id.index);
        }
    }

    /// The list `id` is in, or `None` if it is untracked.
    #[inline]
    #[track_caller]
    pub fn gc_list_of(&self, id: ObjId) -> Option<GcList> {
        link(self.header(id).tag).map(|tag| self.tags[tag as usize])
    }

    /// The collector's scratch count (`gc_get_refs`). The heap never reads it.
    #[inline]
    #[track_caller]
    pub fn gc_refs(&self, id: ObjId) -> isize {
        self.header(id).gc_refs as isize
    }

    /// Sets the collector's scratch count (`gc_reset_refs`, `gc_decref`, ...).
    #[inline]
    #[track_caller]
    pub fn set_gc_refs(&mut self, id: ObjId, refs: isize) {
        self.header_mut(id).gc_refs = refs as i64;
    }

    /// `gc.is_finalized(id)`: whether its `__del__` has run (and so never runs again).
    #[track_caller]
    #[inline]
    pub fn is_finalized(&self, id: ObjId) -> bool {
        self.header(id).flags & FINALIZED != 0
    }

    /// `_PyGC_SET_FINALIZED(id)`: records that its finalizer ran, or is about to, so that it never
    /// runs again. [`tp_finalize`](Heap::tp_finalize) does not set it: a collector's
    /// `finalize_garbage` sets it right before calling it, as CPython's does.
    #[track_caller]
    pub fn set_finalized(&mut self, id: ObjId) {
        self.header_mut(id).flags |= FINALIZED;
    }

    /// A new empty list for a collector (`PyGC_Head unreachable; gc_list_init(&unreachable)`).
    /// Give it back with [`gc_list_release`](Heap::gc_list_release) once it is empty.
    pub fn gc_list_new(&mut self) -> GcList {
        let reuse = self.lists[GcList::BUILT_IN..]
            .iter()
            .position(|head| !head.in_use);
        match reuse {
            Some(offset) => {
                let list = GcList((GcList::BUILT_IN + offset) as u32);
                self.lists[list.0 as usize].in_use = true;
                list
            }
            None => self.gc_list_new_head(),
        }
    }

    /// Makes the head of one more list, with a tag of its own.
    pub(crate) fn gc_list_new_head(&mut self) -> GcList {
        let list = GcList(self.lists.len() as u32);
        let tag = self.new_tag(list);
        self.lists.push(ListHead {
            first: NIL,
            last: NIL,
            len: 0,
            in_use: true,
            tag,
            tags: vec![tag],
        });
        list
    }

    /// A tag that stands for `list`.
    fn new_tag(&mut self, list: GcList) -> u32 {
        match self.free_tags.pop() {
            Some(tag) => {
                self.tags[tag as usize] = list;
                tag
            }
            None => {
                self.tags.push(list);
                (self.tags.len() - 1) as u32
            }
        }
    }

    /// `list` has just become empty: no object holds any of its tags now, so all but its own go
    /// back for reuse.
    fn list_emptied(&mut self, list: GcList) {
        let head = &mut self.lists[list.0 as usize];
        if head.tags.len() > 1 {
            let own = head.tag;
            self.free_tags
                .extend(head.tags.iter().copied().filter(|&tag| tag != own));
            head.tags.clear();
            head.tags.push(own);
        }
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
    #[inline]
    pub fn gc_list_len(&self, list: GcList) -> usize {
        self.head(list).len
    }

    /// `gc_list_is_empty(list)`.
    #[inline]
    pub fn gc_list_is_empty(&self, list: GcList) -> bool {
        self.gc_list_len(list) == 0
    }

    /// The object at the head of the list (`GC_NEXT(list)`), if any.
    #[inline]
    pub fn gc_list_first(&self, list: GcList) -> Option<ObjId> {
        link(self.head(list).first).map(|index| self.id_at(index))
    }

    /// The object at the tail of the list (`GC_PREV(list)`), if any.
    #[inline]
    pub fn gc_list_last(&self, list: GcList) -> Option<ObjId> {
        link(self.head(list).last).map(|index| self.id_at(index))
    }

    /// The object after `id` in its list (`GC_NEXT(gc)`), or `None` at the tail.
    ///
    /// # Panics
    /// If `id` is not tracked.
    #[inline]
    #[track_caller]
    pub fn gc_list_next(&self, id: ObjId) -> Option<ObjId> {
        let head = self.header(id);
        if head.tag == NIL {
            self.not_in_a_list(id)
        }
        link(head.next).map(|index| self.id_at(index))
    }

    /// Panics: `id` is not in a GC list.
    #[cold]
    #[track_caller]
    fn not_in_a_list(&self, id: ObjId) -> ! {
        panic!("{} is not in a GC list", self.describe(id))
    }

    /// The objects of `list`, head to tail (a snapshot: the list may change afterwards).
    pub fn gc_list_objects(&self, list: GcList) -> Vec<ObjId> {
        let mut found = Vec::with_capacity(self.gc_list_len(list));
        let mut cursor = link(self.head(list).first);
        while let Some(index) = cursor {
            found.push(self.id_at(index));
            cursor = link(self.heads[index as usize].next);
        }
        found
    }

    /// `gc_list_move(id, to)`: unlinks `id` from its list and links it at the tail of `to`.
    ///
    /// # Panics
    /// If `id` is not tracked (CPython moves only tracked objects; use [`track`](Heap::track)).
    #[track_caller]
    #[inline(always)]
    pub fn gc_list_move(&mut self, id: ObjId, to: GcList) {
        if !self.is_tracked(id) {
            panic!("gc_list_move: {} is not tracked", self.describe(id))
        }
        self.head(to);
        self.unlink(id.index);
        self.link_tail(id.index, to);
    }

    /// `gc_list_merge(from, to)`: appends all of `from` to the tail of `to`, in order, leaving
    /// `from` empty. Merging a list into itself does nothing. Constant time: the chain is spliced
    /// and `from`'s tags now stand for `to` (see the module docs).
    pub fn gc_list_merge(&mut self, from: GcList, to: GcList) {
        self.head(to);
        if from == to {
            return;
        }
        let (first, last, len) = {
            let head = self.head(from);
            (head.first, head.last, head.len)
        };
        if len == 0 {
            return;
        }
        // `from`'s tags, and with them every object of `from`, now stand for `to`; `from` gets a
        // new tag of its own for what is linked into it next.
        let moved = std::mem::take(&mut self.lists[from.0 as usize].tags);
        for &tag in &moved {
            self.tags[tag as usize] = to;
        }
        self.lists[to.0 as usize].tags.extend_from_slice(&moved);
        let fresh = self.new_tag(from);
        let from_head = &mut self.lists[from.0 as usize];
        from_head.tag = fresh;
        from_head.tags.push(fresh);
        from_head.first = NIL;
        from_head.last = NIL;
        from_head.len = 0;
        // Splice the chain after `to`'s tail: the links inside it do not change.
        let to_last = self.lists[to.0 as usize].last;
        self.heads[first as usize].prev = to_last;
        match link(to_last) {
            Some(index) => self.heads[index as usize].next = first,
            None => self.lists[to.0 as usize].first = first,
        }
        let to_head = &mut self.lists[to.0 as usize];
        to_head.last = last;
        to_head.len += len;
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
    #[inline]
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

    /// The header of the live object in slot `index` (a link always names one).
    pub(crate) fn head_at(&self, index: u32) -> &Head {
        &self.heads[index as usize]
    }

    /// The handle of the live object in slot `index`.
    #[inline]
    pub(crate) fn id_at(&self, index: u32) -> ObjId {
        ObjId {
            index,
            generation: self.heads[index as usize].generation,
        }
    }

    /// Links the untracked object in slot `index` at the tail of `list`. The callers checked
    /// the handle and the list.
    #[inline]
    fn link_tail(&mut self, index: u32, list: GcList) {
        let list_head = &mut self.lists[list.0 as usize];
        let (last, tag) = (list_head.last, list_head.tag);
        list_head.last = index;
        list_head.len += 1;
        if last == NIL {
            list_head.first = index;
        } else {
            self.heads[last as usize].next = index;
        }
        let head = &mut self.heads[index as usize];
        debug_assert_eq!(head.tag, NIL, "link_tail of a tracked object");
        head.tag = tag;
        head.prev = last;
        head.next = NIL;
    }

    /// Unlinks the tracked object in slot `index` from its list. The callers checked the handle.
    #[inline(always)]
    pub(crate) fn unlink(&mut self, index: u32) {
        let head = &mut self.heads[index as usize];
        debug_assert_ne!(head.tag, NIL, "unlink of an untracked object");
        let (tag, prev, next) = (head.tag, head.prev, head.next);
        head.tag = NIL;
        head.prev = NIL;
        head.next = NIL;
        let list = self.tags[tag as usize];
        if prev != NIL {
            self.heads[prev as usize].next = next;
        }
        if next != NIL {
            self.heads[next as usize].prev = prev;
        }
        let list_head = &mut self.lists[list.0 as usize];
        if prev == NIL {
            list_head.first = next;
        }
        if next == NIL {
            list_head.last = prev;
        }
        list_head.len -= 1;
        if list_head.len == 0 {
            self.list_emptied(list);
        }
    }
}
