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
/// `update_refs(containers)`: sets every object's `gc_refs` to its reference count
/// ([`Heap::refcount`], written with [`Heap::set_gc_refs`]).
///
/// A tracked object always has a count of at least one (at zero it would have been freed at
/// once), so every `gc_refs` starts positive.
pub fn update_refs(heap: &mut Heap, containers: GcList) {
    // TODO: walk `containers` from first to last and set each object's gc_refs to its reference
    //       count
    todo!()
}
// ANCHOR_END: update_refs

// ANCHOR: subtract_refs
/// `subtract_refs(containers)`: for every object `x` in `containers` and every reference
/// `x -> y` its [`Heap::traverse`] visits, subtracts one from `gc_refs(y)` if `y` is in
/// `containers` too (`visit_decref`). References to anything else (atoms, untracked objects,
/// objects in other lists) are ignored.
///
/// Afterwards `gc_refs(y)` is the number of references to `y` from outside the list. It can
/// reach zero, never less.
pub fn subtract_refs(heap: &mut Heap, containers: GcList) {
    // TODO: traverse each object of `containers`; for each referent that is in `containers`,
    //       subtract one from its gc_refs
    todo!()
}
// ANCHOR_END: subtract_refs

// ANCHOR: visit_reachable
/// `visit_reachable(op, young)`: `move_unreachable` has found a reachable object that refers
/// to `op`, so `op` is reachable too. If `op` is in `young`:
///
/// - in `unreachable` (it had `gc_refs == 0` when the scan passed it): move it back to the
///   **tail** of `young` with `gc_refs = 1`, so the scan meets it again and traverses it;
/// - in `young` with `gc_refs == 0` (the scan has not reached it yet): set `gc_refs = 1`;
/// - anything else: nothing to do (it is already known reachable, or outside the collection).
pub fn visit_reachable(heap: &mut Heap, op: ObjId, young: GcList, unreachable: GcList) {
    // TODO: the three cases of the doc comment, decided by heap.gc_list_of(op) and heap.gc_refs(op)
    todo!()
}
// ANCHOR_END: visit_reachable

// ANCHOR: move_unreachable
/// `move_unreachable(young, unreachable)`: one pass over `young`, from first to last. An object
/// with `gc_refs > 0` is reachable: it stays, and each of its referents is passed to
/// [`visit_reachable`]. An object with `gc_refs == 0` is moved to the tail of `unreachable`
/// (tentatively: a later object may prove it reachable and move it back).
///
/// When the pass ends, `young` holds the reachable objects and `unreachable` the garbage, each
/// in the order the pass left them (CPython's order, which decides the order of `__del__`
/// calls later). Read the next object *after* traversing a reachable one: `visit_reachable`
/// may have appended objects to `young`.
pub fn move_unreachable(heap: &mut Heap, young: GcList, unreachable: GcList) {
    // TODO: scan `young` with gc_list_first/gc_list_next; traverse each object with gc_refs > 0
    //       through visit_reachable, move each with 0 to `unreachable`
    todo!()
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
