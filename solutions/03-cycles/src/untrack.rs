//! Step 4: stop tracking containers that can never be part of a cycle.
//!
//! Every tracked object costs the collector time in every collection that includes it. A tuple
//! that holds only ints and strings can never be part of a cycle (a tuple is immutable, so it
//! will never hold anything else), and a dict whose keys and values are all atoms cannot either
//! until something is inserted into it, at which point it is tracked again
//! (`MAINTAIN_TRACKING`, in pyheap's `dict_set`). So CPython untracks them during collections:
//!
//! - tuples in **every** collection, over the objects that survived it (`untrack_tuples`);
//! - dicts only in **full** collections (`untrack_dicts`), because a dict can be retracked by
//!   one insertion and untracking it over and over in young collections would cost more than it
//!   saves (CPython issue #14775).
//!
//! The rules for one object are pyheap's ([`Heap::maybe_untrack_tuple`],
//! [`Heap::maybe_untrack_dict`]); these passes apply them to a whole list.

use pyheap::{GcList, Heap};

// ANCHOR: untrack_tuples
/// `untrack_tuples(head)`: [`Heap::maybe_untrack_tuple`] on every object of `head`, first to
/// last. Untracking removes the object from the list, so read the next object first.
///
/// One pass can untrack a tuple of tuples only if the inner tuples come before it in the list.
pub fn untrack_tuples(heap: &mut Heap, head: GcList) {
    // BEGIN SOLUTION: walk `head`, reading each object's successor before calling heap.maybe_untrack_tuple on it
    let mut cursor = heap.gc_list_first(head);
    while let Some(id) = cursor {
        cursor = heap.gc_list_next(id);
        heap.maybe_untrack_tuple(id);
    }
    // END SOLUTION
}
// ANCHOR_END: untrack_tuples

// ANCHOR: untrack_dicts
/// `untrack_dicts(head)`: [`Heap::maybe_untrack_dict`] on every object of `head`, first to last.
pub fn untrack_dicts(heap: &mut Heap, head: GcList) {
    // BEGIN SOLUTION: walk `head`, reading each object's successor before calling heap.maybe_untrack_dict on it
    let mut cursor = heap.gc_list_first(head);
    while let Some(id) = cursor {
        cursor = heap.gc_list_next(id);
        heap.maybe_untrack_dict(id);
    }
    // END SOLUTION
}
// ANCHOR_END: untrack_dicts
