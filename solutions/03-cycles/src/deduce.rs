//! Steps 1 to 3: which objects of a list are unreachable from outside it.
//!
//! The collector never looks at the program's roots (its names, its frames, the C code's
//! references). It looks only at the objects in one list, `containers`, and works from
//! reference counts:
//!
//! ```text
//!   update_refs        gc_refs(x) = refcount(x)                    every reference to x
//!   subtract_refs      gc_refs(y) -= 1 for each x -> y in the set   minus those from inside
//!   move_unreachable   gc_refs(x) > 0: something outside refers to x, so x is reachable,
//!                      and so is everything x reaches; the rest is unreachable
//! ```
//!
//! After `subtract_refs`, `gc_refs(x)` counts the references to `x` from *outside* the list: from
//! a name, a frame, an object in an older generation, anything. Those are exactly the roots of
//! the subgraph, found without being named. The catch is that an object with `gc_refs == 0` may
//! still be reachable, through another object of the list that has outside references: that is
//! what `move_unreachable`'s traversal settles.
//!
//! In this heap, "the objects being collected" (CPython's `PREV_MASK_COLLECTING` flag) are the
//! objects whose [`Heap::gc_list_of`] is the list passed in, and "tentatively unreachable"
//! (`NEXT_MASK_UNREACHABLE`) means being in the `unreachable` list. An object of another list
//! (an older generation, say) is never counted or moved: its references act as outside
//! references.

use pyheap::{GcList, Heap, ObjId};

// ANCHOR: update_refs
/// `update_refs(containers)`: the collector's scratch count starts as the reference count.
///
/// After: every object of `containers` has `gc_refs` ([`Heap::gc_refs`]) equal to its reference
/// count ([`Heap::refcount`]); every other object (in another list, untracked, an atom) keeps
/// the `gc_refs` it had; nothing else changed.
///
/// A tracked object always has a count of at least one (at zero it would have been freed at
/// once), so every `gc_refs` starts positive.
pub fn update_refs(heap: &mut Heap, containers: GcList) {
    // BEGIN SOLUTION: every object of `containers`, and no other, has gc_refs equal to its reference count
    let mut cursor = heap.gc_list_first(containers);
    while let Some(id) = cursor {
        let refcount = heap.refcount(id);
        debug_assert!(refcount > 0, "a tracked object with a count of 0");
        heap.set_gc_refs(id, refcount as isize);
        cursor = heap.gc_list_next(id);
    }
    // END SOLUTION
}
// ANCHOR_END: update_refs

// ANCHOR: subtract_refs
/// `subtract_refs(containers)`: `gc_refs` loses the references from inside the list.
///
/// Before: every object of `containers` has `gc_refs` equal to its reference count
/// ([`update_refs`]).
///
/// After: for every object `y` of `containers`, `gc_refs(y)` is its reference count minus the
/// references to it held by objects of `containers`, as their `tp_traverse`
/// ([`Heap::traverse`]) reports them (a reference held twice counts twice, a reference to
/// itself counts too): the references to `y` from *outside* the list, zero or more. Every other
/// object keeps its `gc_refs`; nothing else changed.
///
/// [`Heap::traverse`] lends you the heap while it visits, so its closure cannot change it.
pub fn subtract_refs(heap: &mut Heap, containers: GcList) {
    // BEGIN SOLUTION: for every object y of `containers`, gc_refs(y) loses one per reference to y held by an object of `containers`; no other gc_refs changes
    let mut referents: Vec<ObjId> = Vec::new();
    let mut cursor = heap.gc_list_first(containers);
    while let Some(id) = cursor {
        referents.clear();
        heap.traverse(id, |referent| referents.push(referent));
        for &referent in &referents {
            if heap.gc_list_of(referent) == Some(containers) {
                let refs = heap.gc_refs(referent);
                debug_assert!(refs > 0, "more references from inside than the count");
                heap.set_gc_refs(referent, refs - 1);
            }
        }
        cursor = heap.gc_list_next(id);
    }
    // END SOLUTION
}
// ANCHOR_END: subtract_refs

// ANCHOR: visit_reachable
/// `visit_reachable(op, young, unreachable)`: `move_unreachable` has found a reachable object
/// that refers to `op`, so `op` is reachable too, and must end up scanned as reachable.
///
/// After:
/// - if `op` was in `unreachable` (the scan had passed it with `gc_refs` 0): it is at the
///   **tail** of `young`, where the scan will meet it again, with `gc_refs` 1;
/// - if `op` was in `young` with `gc_refs` 0 (the scan has not reached it yet): it has
///   `gc_refs` 1, in its place;
/// - anything else (an object of `young` already known reachable, an object of another list,
///   an untracked object, an atom): unchanged.
pub fn visit_reachable(heap: &mut Heap, op: ObjId, young: GcList, unreachable: GcList) {
    // BEGIN SOLUTION: a reachable `op` that was in `unreachable` is at the tail of `young` with gc_refs 1; one in `young` with gc_refs 0 has gc_refs 1; anything else is unchanged
    match heap.gc_list_of(op) {
        Some(list) if list == unreachable => {
            heap.gc_list_move(op, young);
            heap.set_gc_refs(op, 1);
        }
        Some(list) if list == young && heap.gc_refs(op) == 0 => heap.set_gc_refs(op, 1),
        _ => {}
    }
    // END SOLUTION
}
// ANCHOR_END: visit_reachable

// ANCHOR: move_unreachable
/// `move_unreachable(young, unreachable)`: splits `young` into what is reachable from outside it
/// and what is not, in one scan and without recursion.
///
/// Before: the `gc_refs` of `young` count the references from outside it ([`subtract_refs`]);
/// `unreachable` is empty.
///
/// After: `young` holds exactly the objects that an object of `young` with positive `gc_refs`
/// reaches (itself included), through references between objects of `young`; `unreachable`
/// holds the rest. Both are in CPython's order: the order one pass over `young`, head to tail,
/// leaves them in, when every object the pass finds reachable has each of its referents given
/// to [`visit_reachable`] and every other object it meets goes to the tail of `unreachable`
/// (the order decides, later, which `__del__` runs first). No recursion and no stack: a chain
/// of 100,000 objects must not need 100,000 frames.
pub fn move_unreachable(heap: &mut Heap, young: GcList, unreachable: GcList) {
    // BEGIN SOLUTION: `young` keeps what a positive gc_refs reaches, `unreachable` gets the rest, both in the order of CPython's single pass, without recursion
    let mut referents: Vec<ObjId> = Vec::new();
    let mut cursor = heap.gc_list_first(young);
    while let Some(id) = cursor {
        if heap.gc_refs(id) > 0 {
            referents.clear();
            heap.traverse(id, |referent| referents.push(referent));
            for &referent in &referents {
                visit_reachable(heap, referent, young, unreachable);
            }
            cursor = heap.gc_list_next(id);
        } else {
            cursor = heap.gc_list_next(id);
            heap.gc_list_move(id, unreachable);
        }
    }
    // END SOLUTION
}
// ANCHOR_END: move_unreachable

// ANCHOR: deduce_unreachable
/// `deduce_unreachable(base, unreachable)`: steps 1 to 3 on `base`. Afterwards `base` holds
/// what is reachable from outside it and `unreachable` (which must be empty) the rest.
pub fn deduce_unreachable(heap: &mut Heap, base: GcList, unreachable: GcList) {
    update_refs(heap, base);
    subtract_refs(heap, base);
    move_unreachable(heap, base, unreachable);
}
// ANCHOR_END: deduce_unreachable
