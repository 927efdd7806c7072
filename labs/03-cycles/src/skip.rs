//! Phases with nothing to do: where this lab's collector departs from CPython, and why.
//!
//! CPython's `gc_collect_main` runs every step on every collection. `handle_weakrefs` walks the
//! garbage even when no weakref points into it, `finalize_garbage` even when no object has a
//! `__del__`, `handle_resurrected_objects` runs the whole of `deduce_unreachable` a second time
//! even when no finalizer ran, and `untrack_tuples` walks the survivors even when none is a tuple.
//! Each finds nothing to do, and costs one walk of its list.
//!
//! Here the first lines of those functions, given and not yours, look first, and return before
//! your code when there is nothing for it to do (and `gc_collect_main`, given too, calls
//! `handle_unreachable` only when something is unreachable). That lets you write `gc_collect_main` early, on
//! the heaps of the first whole collections (cycles of lists, dicts and instances, with no
//! weakrefs, no `__del__` and no tuple or dict among the survivors), and see them collected
//! before you write the later steps; each later step then unlocks the whole collections that
//! need it. The result is the same as CPython's: a skipped phase would have found nothing. A look
//! costs nothing when the heap holds no object of that kind at all (pyheap counts its tuples,
//! dicts, weakrefs and objects with a `__del__`: [`Heap::tuple_count`] and the others), and one
//! walk of the list otherwise: one walk more than CPython when the phase has work to do, and one
//! walk instead of its loop (for the resurrection check, instead of a whole second
//! `deduce_unreachable`) when it has none.
//!
//! The one place where "nothing to do" needs an argument is `handle_resurrected_objects`: it is
//! skipped when no object of the garbage has a `__del__`, because in this heap only a `__del__`
//! can make garbage reachable again. A weakref callback cannot: `handle_weakrefs` cleared every
//! weakref to the garbage before the first callback ran, and nothing live refers to garbage.

use pyheap::{GcList, Heap, Kind, ObjId};

/// Whether no object of `list` passes `test`: one walk, head to tail.
pub fn none_in(heap: &Heap, list: GcList, test: impl Fn(&Heap, ObjId) -> bool) -> bool {
    let mut cursor = heap.gc_list_first(list);
    while let Some(id) = cursor {
        if test(heap, id) {
            return false;
        }
        cursor = heap.gc_list_next(id);
    }
    true
}

/// Whether no object of `list` is a tuple: at once when the heap has none, else one walk.
pub fn no_tuple_in(heap: &Heap, list: GcList) -> bool {
    heap.tuple_count() == 0 || none_in(heap, list, is_tuple)
}

/// Whether no object of `list` is a dict: at once when the heap has none, else one walk.
pub fn no_dict_in(heap: &Heap, list: GcList) -> bool {
    heap.dict_count() == 0 || none_in(heap, list, is_dict)
}

/// Whether no object of `list` is a weakref or has one to it: at once when the heap has no
/// weakref at all, else one walk.
pub fn no_weakrefs_in(heap: &Heap, list: GcList) -> bool {
    heap.weakref_count() == 0 || none_in(heap, list, has_weakrefs)
}

/// Whether no object of `list` has a `tp_finalize`: at once when the heap has none, else one
/// walk.
pub fn no_finalizer_in(heap: &Heap, list: GcList) -> bool {
    heap.finalizer_count() == 0 || none_in(heap, list, has_finalizer)
}

/// A tuple: what `untrack_tuples` looks at.
pub fn is_tuple(heap: &Heap, id: ObjId) -> bool {
    matches!(heap.kind(id), Kind::Tuple(_))
}

/// A dict: what `untrack_dicts` looks at.
pub fn is_dict(heap: &Heap, id: ObjId) -> bool {
    matches!(heap.kind(id), Kind::Dict { .. })
}

/// A weakref, or an object some weakref points to: what `handle_weakrefs` looks at.
pub fn has_weakrefs(heap: &Heap, id: ObjId) -> bool {
    matches!(heap.kind(id), Kind::WeakRef { .. }) || !heap.weakrefs_to(id).is_empty()
}

/// An object whose type has a `tp_finalize` (a `__del__`), run or not: what `finalize_garbage`
/// and `handle_resurrected_objects` look at.
pub fn has_finalizer(heap: &Heap, id: ObjId) -> bool {
    heap.has_finalizer(id)
}
