//! Untracking: stop tracking containers that can never be part of a cycle.
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

use crate::skip;

// ANCHOR: untrack_tuples
/// `untrack_tuples(head)`: stops tracking the tuples of `head` that can never be part of a cycle,
/// as CPython does over the survivors of every collection.
///
/// Before: `head` is any list. After: every tuple that [`Heap::maybe_untrack_tuple`] untracks
/// when one pass over `head`, first to last, reaches it is untracked; everything else is still
/// in `head`, in its order. One pass, as in CPython: a tuple holding a tuple that comes *after*
/// it in the list is still tracked afterwards (its inner tuple was, when the pass met it).
///
/// Untracking an object unlinks it from `head`.
pub fn untrack_tuples(heap: &mut Heap, head: GcList) {
    // Given, not CPython: no tuple in `head`, nothing to do (see the `skip` module).
    if skip::no_tuple_in(heap, head) {
        return;
    }
    // TODO: every tuple of `head` that maybe_untrack_tuple would untrack when one pass, head to
    //       tail, reaches it is untracked; the rest stay, in order
    todo!()
}
// ANCHOR_END: untrack_tuples

// ANCHOR: untrack_dicts
/// `untrack_dicts(head)`: stops tracking the dicts of `head` that hold nothing that may be
/// tracked, as CPython does over the survivors of full collections only.
///
/// Before: `head` is any list. After: every dict of `head` that [`Heap::maybe_untrack_dict`]
/// untracks is untracked; everything else is still in `head`, in its order.
///
/// Untracking an object unlinks it from `head`.
pub fn untrack_dicts(heap: &mut Heap, head: GcList) {
    // Given, not CPython: no dict in `head`, nothing to do (see the `skip` module).
    if skip::no_dict_in(heap, head) {
        return;
    }
    // TODO: every dict of `head` that maybe_untrack_dict untracks is untracked; the rest stay, in
    //       order
    todo!()
}
// ANCHOR_END: untrack_dicts
