//! Graded tests for lab 03, part (a): each step of the collector on its own.
//!
//! Each test builds a small heap the way a Python program would, prepares the GC lists the step
//! works on (with `gc_list_new` and `gc_list_move`, or by running the *reference's* earlier
//! steps), then calls only the step under test from your crate. A bug in one step therefore costs
//! that step's tests, not every test after it.
//!
//! Where a step leaves a heap behind, the same preparation runs on a twin heap through the
//! reference's step, and the two heaps must agree: their dumps (every object, its count, the GC
//! lists in order) and their event logs (finalizers, callbacks, deaths, in order). The small
//! numbers the tests also assert are explained where they appear.
//!
//! The tests follow the order `gc_collect_main` runs the steps in: `update_refs`,
//! `subtract_refs`, `move_unreachable` (with `visit_reachable`), `untrack_tuples` and
//! `untrack_dicts`, `handle_weakrefs`, `finalize_garbage`, `handle_resurrected_objects`,
//! `delete_garbage`.

use pretty_assertions::assert_eq;
use pyheap::{Action, Callback, ClassId, Event, Finalizer, GcList, Heap, Kind, ObjId};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The serials of the objects of `list`, head to tail.
fn serials(heap: &Heap, list: GcList) -> Vec<u64> {
    serials_of(heap, &heap.gc_list_objects(list))
}

/// The serials of `ids`.
fn serials_of(heap: &Heap, ids: &[ObjId]) -> Vec<u64> {
    ids.iter().map(|&id| heap.serial(id)).collect()
}

/// `(serial, gc_refs)` of each of `ids`.
fn refs_of(heap: &Heap, ids: &[ObjId]) -> Vec<(u64, isize)> {
    ids.iter()
        .map(|&id| (heap.serial(id), heap.gc_refs(id)))
        .collect()
}

/// Moves `ids`, in this order, to the tail of `list`.
fn move_to(heap: &mut Heap, list: GcList, ids: &[ObjId]) {
    for &id in ids {
        heap.gc_list_move(id, list);
    }
}

/// Sets the `gc_refs` of every live object (atoms and untracked objects included) to `refs`, so
/// a test can see which objects a step wrote to.
fn mark_every_object(heap: &mut Heap, refs: isize) {
    let ids: Vec<ObjId> = heap.objects().map(|(id, _)| id).collect();
    for id in ids {
        heap.set_gc_refs(id, refs);
    }
}

/// `(serial, gc_refs)` of every live object not in `except`.
fn refs_of_others(heap: &Heap, except: &[ObjId]) -> Vec<(u64, isize)> {
    heap.objects()
        .filter(|(id, _)| !except.contains(id))
        .map(|(id, object)| (object.serial(), heap.gc_refs(id)))
        .collect()
}

/// How many times `event` was logged.
fn times(heap: &Heap, event: &Event) -> usize {
    heap.events().iter().filter(|e| *e == event).count()
}

/// Runs `prepare` on two new heaps: one for your step, one for the reference's.
fn twins<S>(prepare: impl Fn(&mut Heap) -> S) -> ((Heap, S), (Heap, S)) {
    let mut yours = Heap::new();
    let yours_setup = prepare(&mut yours);
    let mut reference = Heap::new();
    let reference_setup = prepare(&mut reference);
    ((yours, yours_setup), (reference, reference_setup))
}

/// Your heap must be the reference's: same objects, counts, lists in the same order, and the
/// same events; and it must keep every invariant.
#[track_caller]
fn assert_same_as_reference(reference: &Heap, yours: &Heap, after: &str) {
    assert_eq!(
        reference.dump(),
        yours.dump(),
        "after {after}, your heap differs from the reference's (< reference, > yours)"
    );
    assert_eq!(
        reference.events(),
        yours.events(),
        "after {after}, your events differ from the reference's (< reference, > yours)"
    );
    yours.assert_invariants();
}

/// `class name: def __del__(self): <actions>`.
fn class_with_del(heap: &mut Heap, name: &str, actions: Vec<Action>) -> ClassId {
    heap.new_class(name, Some(Finalizer::new(actions)))
}

/// `print(text)`, as an action.
fn log(text: &str) -> Action {
    Action::Log(text.to_string())
}

/// `dict[key] = value` with a new str key.
fn dict_set_str(heap: &mut Heap, dict: ObjId, key: &str, value: ObjId) {
    let key = heap.new_str(key);
    heap.dict_set(dict, key, value);
    heap.decref(key);
}

/// Runs the reference's steps 1 to 3 on generation 0, leaving the garbage in a new list, which
/// it returns: the state `handle_weakrefs` and the steps after it start from.
fn reference_unreachable(heap: &mut Heap) -> GcList {
    let unreachable = heap.gc_list_new();
    reference::deduce_unreachable(heap, GcList::GEN0, unreachable);
    unreachable
}

// ---------------------------------------------------------------------------------------------
// Step 1: update_refs
// ---------------------------------------------------------------------------------------------

#[test]
fn update_refs_copies_each_count_into_gc_refs_of_its_list_only() {
    let mut heap = Heap::new();
    let node = heap.new_class("Node", None);
    let mine = heap.gc_list_new();
    // a = []; a2 = a
    let a = heap.assign_new_list("a");
    heap.assign("a2", "a");
    // b = []; a.append(b); a.append(b)
    let b = heap.assign_new_list("b");
    heap.list_append(a, b);
    heap.list_append(a, b);
    // t = (a, b)
    let t = heap.assign_new_tuple("t", &[a, b]);
    // n = Node(); n.me = n
    let n = heap.assign_new_instance("n", node);
    heap.set_attr(n, "me", n);
    // outside = [a]: a list left in generation 0, outside the list being worked on
    let outside = heap.assign_new_list("outside");
    heap.list_append(outside, a);
    move_to(&mut heap, mine, &[t, a, n, b]);
    mark_every_object(&mut heap, -7);
    let before = heap.dump();
    let others_before = refs_of_others(&heap, &[t, a, n, b]);

    cycles::update_refs(&mut heap, mine);

    let s = |id| heap.serial(id);
    assert_eq!(
        refs_of(&heap, &[t, a, n, b]),
        [
            (s(t), 1), // the name t
            (s(a), 4), // the names a and a2, t's item, outside's item
            (s(n), 2), // the name n and its own attribute
            (s(b), 4), // the name b, two items of a, t's item
        ],
        "update_refs sets gc_refs to the reference count, for every object of the list"
    );
    assert_eq!(
        refs_of_others(&heap, &[t, a, n, b]),
        others_before,
        "update_refs must write only the gc_refs of the objects in the list it is given \
         (`outside` is in generation 0, not in that list)"
    );
    assert_eq!(
        heap.dump(),
        before,
        "update_refs changes no count and moves nothing"
    );
    heap.assert_invariants();
}

// ---------------------------------------------------------------------------------------------
// Step 2: subtract_refs
// ---------------------------------------------------------------------------------------------

#[test]
fn subtract_refs_subtracts_only_references_from_inside_the_list() {
    let mut heap = Heap::new();
    let node = heap.new_class("Node", None);
    let mine = heap.gc_list_new();
    // a = []; b = []; a.append(b); b.append(a)
    let a = heap.assign_new_list("a");
    let b = heap.assign_new_list("b");
    heap.list_append(a, b);
    heap.list_append(b, a);
    // o = []; c = []; o.append(c); a.append(c)        (o goes to generation 1 below)
    let o = heap.assign_new_list("o");
    let c = heap.assign_new_list("c");
    heap.list_append(o, c);
    heap.list_append(a, c);
    // u = (c,), then untracked by hand (C code may call PyObject_GC_UnTrack on anything)
    let u = heap.assign_new_tuple("u", &[c]);
    heap.untrack(u);
    // seven = 7; a.append(seven)
    let seven = heap.assign_int("seven", 7);
    heap.list_append(a, seven);
    // e = Node(); e.me = e; e.out = o
    let e = heap.assign_new_instance("e", node);
    heap.set_attr(e, "me", e);
    heap.set_attr(e, "out", o);
    // d = {}; d['e'] = e; d[1] = a      (an int key: the dict's traversal visits keys too)
    let d = heap.assign_new_dict("d");
    dict_set_str(&mut heap, d, "e", e);
    let one = heap.new_int(1);
    heap.dict_set(d, one, a);
    heap.decref(one);
    // f = [e, e]
    let f = heap.assign_new_list("f");
    heap.list_append(f, e);
    heap.list_append(f, e);
    // t = (a, b)
    let t = heap.assign_new_tuple("t", &[a, b]);
    heap.del("b");
    heap.del("c");
    heap.del("e");
    heap.gc_list_move(o, GcList::GEN1);
    let members = [a, b, c, e, d, f, t];
    move_to(&mut heap, mine, &members);
    mark_every_object(&mut heap, -7);
    let others_before = refs_of_others(&heap, &members);
    reference::update_refs(&mut heap, mine);
    let s = |id| heap.serial(id);
    assert_eq!(
        refs_of(&heap, &members),
        [
            (s(a), 4),
            (s(b), 2),
            (s(c), 3),
            (s(e), 4),
            (s(d), 1),
            (s(f), 1),
            (s(t), 1)
        ],
        "the test's setup: gc_refs after the reference's update_refs"
    );
    let before = heap.dump();

    cycles::subtract_refs(&mut heap, mine);

    let s = |id| heap.serial(id);
    assert_eq!(
        refs_of(&heap, &members),
        [
            (s(a), 1), // the name a is outside; b, t and d's value are inside
            (s(b), 0), // a and t are inside
            (s(c), 2), // o is in generation 1 and u is untracked: both outside; a is inside
            (s(e), 0), // its own attribute, d's value and f's two items: all inside
            (s(d), 1), // the name d
            (s(f), 1), // the name f
            (s(t), 1), // the name t
        ],
        "after subtract_refs, gc_refs counts the references from outside the list"
    );
    assert_eq!(
        refs_of_others(&heap, &members),
        others_before,
        "subtract_refs must leave alone the gc_refs of objects outside the list (o in \
         generation 1, the untracked u, the int, the dict's keys)"
    );
    assert_eq!(
        heap.dump(),
        before,
        "subtract_refs changes no count and moves nothing"
    );
    heap.assert_invariants();
}

#[test]
fn subtract_refs_counts_a_self_reference_as_inside() {
    let mut heap = Heap::new();
    let node = heap.new_class("Node", None);
    // l = []; l.append(l); l.append(l)
    let l = heap.assign_new_list("l");
    heap.list_append(l, l);
    heap.list_append(l, l);
    // s = []; s.append(s); del s
    let s_list = heap.assign_new_list("s");
    heap.list_append(s_list, s_list);
    heap.del("s");
    // i = Node(); i.me = i; i.again = i
    let i = heap.assign_new_instance("i", node);
    heap.set_attr(i, "me", i);
    heap.set_attr(i, "again", i);
    reference::update_refs(&mut heap, GcList::GEN0);

    cycles::subtract_refs(&mut heap, GcList::GEN0);

    let s = |id| heap.serial(id);
    assert_eq!(
        refs_of(&heap, &[l, s_list, i]),
        [
            (s(l), 1),      // count 3: the name, and two references to itself
            (s(s_list), 0), // count 1: its reference to itself, nothing from outside
            (s(i), 1),      // count 3: the name, and two attributes holding itself
        ],
        "a reference an object holds to itself comes from inside the list"
    );
    heap.assert_invariants();
}

// ---------------------------------------------------------------------------------------------
// Step 3: move_unreachable and visit_reachable
// ---------------------------------------------------------------------------------------------

#[test]
fn move_unreachable_separates_garbage_from_what_outside_references_reach() {
    // g1 = []; root = []; g2 = []; x = []
    // g1.append(g2); g2.append(g1); root.append(x); del g1, g2, x
    let prepare = |heap: &mut Heap| {
        let g1 = heap.assign_new_list("g1");
        let root = heap.assign_new_list("root");
        let g2 = heap.assign_new_list("g2");
        let x = heap.assign_new_list("x");
        heap.list_append(g1, g2);
        heap.list_append(g2, g1);
        heap.list_append(root, x);
        for name in ["g1", "g2", "x"] {
            heap.del(name);
        }
        let unreachable = heap.gc_list_new();
        reference::update_refs(heap, GcList::GEN0);
        reference::subtract_refs(heap, GcList::GEN0);
        ([g1, root, g2, x], unreachable)
    };
    let ((mut heap, ([g1, root, g2, x], unreachable)), (mut theirs, (_, their_unreachable))) =
        twins(prepare);

    cycles::move_unreachable(&mut heap, GcList::GEN0, unreachable);
    reference::move_unreachable(&mut theirs, GcList::GEN0, their_unreachable);

    // The scan meets g1 (0: moved), root (1: traversed, marks x), g2 (0: moved), x (1).
    assert_eq!(
        serials(&heap, GcList::GEN0),
        serials_of(&heap, &[root, x]),
        "young keeps root (a name refers to it) and x (root reaches it)"
    );
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[g1, g2]),
        "the cycle nothing outside refers to is unreachable, in scan order"
    );
    assert_same_as_reference(&theirs, &heap, "move_unreachable");
}

#[test]
fn move_unreachable_moves_an_object_back_when_a_later_object_reaches_it() {
    // A chain a -> b -> c -> d made from its end, so the list holds it backwards, with a
    // garbage cycle g1 <-> g2 interleaved: generation 0 is [d, g1, c, g2, b, a] and only a has a
    // name.
    let prepare = |heap: &mut Heap| {
        let d = heap.assign_new_list("d");
        let g1 = heap.assign_new_list("g1");
        let c = heap.assign_new_list("c");
        heap.list_append(c, d);
        let g2 = heap.assign_new_list("g2");
        heap.list_append(g1, g2);
        heap.list_append(g2, g1);
        let b = heap.assign_new_list("b");
        heap.list_append(b, c);
        let a = heap.assign_new_list("a");
        heap.list_append(a, b);
        for name in ["b", "c", "d", "g1", "g2"] {
            heap.del(name);
        }
        let unreachable = heap.gc_list_new();
        reference::update_refs(heap, GcList::GEN0);
        reference::subtract_refs(heap, GcList::GEN0);
        ([a, b, c, d, g1, g2], unreachable)
    };
    let ((mut heap, ([a, b, c, d, g1, g2], unreachable)), (mut theirs, (_, their_unreachable))) =
        twins(prepare);
    assert_eq!(
        serials(&heap, GcList::GEN0),
        serials_of(&heap, &[d, g1, c, g2, b, a]),
        "the test's setup"
    );

    cycles::move_unreachable(&mut heap, GcList::GEN0, unreachable);
    reference::move_unreachable(&mut theirs, GcList::GEN0, their_unreachable);

    // d, g1, c, g2 and b all have gc_refs 0 when the scan meets them, so all go to unreachable.
    // Then a (gc_refs 1) moves b back to the tail of young, the scan goes on to b, which moves c
    // back, and so on: young ends as the chain in order, and only g1, g2 stay unreachable.
    assert_eq!(
        serials(&heap, GcList::GEN0),
        serials_of(&heap, &[a, b, c, d]),
        "young: the chain, each object moved back to the tail by the one before it"
    );
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[g1, g2]),
        "unreachable: only the garbage cycle, in the order the scan met it"
    );
    assert_same_as_reference(&theirs, &heap, "move_unreachable");
}

#[test]
fn visit_reachable_moves_a_tentatively_unreachable_object_back_to_the_tail_of_young() {
    let mut heap = Heap::new();
    let young = heap.gc_list_new();
    let unreachable = heap.gc_list_new();
    let [p, q, u1, u2] = ["p", "q", "u1", "u2"].map(|name| heap.assign_new_list(name));
    move_to(&mut heap, young, &[p, q]);
    move_to(&mut heap, unreachable, &[u1, u2]);
    for (id, refs) in [(p, 1), (q, 0), (u1, 0), (u2, 0)] {
        heap.set_gc_refs(id, refs);
    }

    cycles::visit_reachable(&mut heap, u2, young, unreachable);

    assert_eq!(
        serials(&heap, young),
        serials_of(&heap, &[p, q, u2]),
        "an object found reachable while in unreachable goes back to the tail of young"
    );
    assert_eq!(serials(&heap, unreachable), serials_of(&heap, &[u1]));
    assert_eq!(
        heap.gc_refs(u2),
        1,
        "and its gc_refs becomes 1, so the scan traverses it when it gets there"
    );

    cycles::visit_reachable(&mut heap, u1, young, unreachable);

    assert_eq!(serials(&heap, young), serials_of(&heap, &[p, q, u2, u1]));
    assert!(heap.gc_list_is_empty(unreachable));
    assert_eq!(heap.gc_refs(u1), 1);
    heap.assert_invariants();
}

#[test]
fn visit_reachable_marks_a_zero_in_young_and_leaves_everything_else_alone() {
    let mut heap = Heap::new();
    let young = heap.gc_list_new();
    let unreachable = heap.gc_list_new();
    let [p, q, r, o] = ["p", "q", "r", "o"].map(|name| heap.assign_new_list(name));
    move_to(&mut heap, young, &[p, q, r]);
    heap.gc_list_move(o, GcList::GEN1);
    let seven = heap.assign_int("seven", 7);
    let d = heap.assign_new_dict("d"); // an untracked dict
    for (id, refs) in [(p, 3), (q, 0), (r, 1), (o, 0), (seven, -7), (d, 0)] {
        heap.set_gc_refs(id, refs);
    }
    let order = serials(&heap, young);

    // q: in young with gc_refs 0 (the scan has not reached it yet): marked reachable.
    cycles::visit_reachable(&mut heap, q, young, unreachable);
    assert_eq!(heap.gc_refs(q), 1, "a 0 in young becomes 1");
    // Visiting it again, or visiting objects already known reachable, changes nothing.
    cycles::visit_reachable(&mut heap, q, young, unreachable);
    cycles::visit_reachable(&mut heap, p, young, unreachable);
    cycles::visit_reachable(&mut heap, r, young, unreachable);
    // Objects outside the collection: another generation, an atom, an untracked dict.
    cycles::visit_reachable(&mut heap, o, young, unreachable);
    cycles::visit_reachable(&mut heap, seven, young, unreachable);
    cycles::visit_reachable(&mut heap, d, young, unreachable);

    let s = |id| heap.serial(id);
    assert_eq!(
        refs_of(&heap, &[p, q, r, o, seven, d]),
        [
            (s(p), 3),
            (s(q), 1),
            (s(r), 1),
            (s(o), 0),
            (s(seven), -7),
            (s(d), 0)
        ],
        "only a 0 in young changes (to 1, once); a positive gc_refs is left as it is, and \
         objects outside young are not touched"
    );
    assert_eq!(
        serials(&heap, young),
        order,
        "marking moves nothing within young"
    );
    assert_eq!(heap.gc_list_of(o), Some(GcList::GEN1));
    assert!(!heap.is_tracked(d), "visit_reachable never tracks anything");
    assert!(heap.gc_list_is_empty(unreachable));
    heap.assert_invariants();
}

// ---------------------------------------------------------------------------------------------
// Step 4: untrack_tuples and untrack_dicts
// ---------------------------------------------------------------------------------------------

#[test]
fn untrack_tuples_untracks_the_tuples_that_can_hold_no_cycle() {
    let prepare = |heap: &mut Heap| {
        let survivors = heap.gc_list_new();
        let one = heap.new_int(1);
        let text = heap.new_str("a");
        // atoms = (1, 'a')
        let atoms = heap.assign_new_tuple("atoms", &[one, text]);
        // l = []; with_list = (l,)
        let l = heap.assign_new_list("l");
        let with_list = heap.assign_new_tuple("with_list", &[l]);
        // with_empty = ((), 1): the empty tuple is never tracked
        let empty = heap.new_tuple(&[]);
        let with_empty = heap.assign_new_tuple("with_empty", &[empty, one]);
        heap.decref(empty);
        // with_dict = ({},): an untracked dict may be tracked later, by one insertion
        let inner = heap.new_dict();
        let with_dict = heap.assign_new_tuple("with_dict", &[inner]);
        heap.decref(inner);
        // d = {}; d['x'] = []; del d['x']: a tracked dict holding nothing (not a tuple)
        let d = heap.assign_new_dict("d");
        let x = heap.new_list();
        dict_set_str(heap, d, "x", x);
        heap.decref(x);
        let key = heap.new_str("x");
        heap.dict_del(d, key);
        heap.decref(key);
        // elsewhere = (1, 'a') in generation 1: not in the list being worked on
        let elsewhere = heap.assign_new_tuple("elsewhere", &[one, text]);
        heap.gc_list_move(elsewhere, GcList::GEN1);
        heap.decref(one);
        heap.decref(text);
        move_to(
            heap,
            survivors,
            &[atoms, l, with_list, with_empty, with_dict, d],
        );
        (
            survivors,
            [atoms, l, with_list, with_empty, with_dict, d, elsewhere],
        )
    };
    let ((mut heap, (survivors, ids)), (mut theirs, (their_survivors, _))) = twins(prepare);
    let [atoms, l, with_list, with_empty, with_dict, d, elsewhere] = ids;

    cycles::untrack_tuples(&mut heap, survivors);
    reference::untrack_tuples(&mut theirs, their_survivors);

    assert!(!heap.is_tracked(atoms), "(1, 'a') holds atoms only");
    assert!(!heap.is_tracked(with_empty), "((), 1): () is never tracked");
    assert!(heap.is_tracked(with_list), "([],) holds a list");
    assert!(
        heap.is_tracked(with_dict),
        "({{}},) holds a dict, which may be tracked at its next insertion"
    );
    assert!(
        heap.is_tracked(d),
        "untrack_tuples leaves dicts alone (untrack_dicts is another pass)"
    );
    assert_eq!(
        heap.gc_list_of(elsewhere),
        Some(GcList::GEN1),
        "a tuple outside the list is not looked at"
    );
    assert_eq!(
        serials(&heap, survivors),
        serials_of(&heap, &[l, with_list, with_dict, d]),
        "the others stay in the list, in order"
    );
    assert_same_as_reference(&theirs, &heap, "untrack_tuples");
}

#[test]
fn nested_tuples_need_one_pass_or_two_depending_on_list_order() {
    // inner = (1,); outer = (inner, 2), twice: once with inner first in the list (the order
    // they were made in), once with outer first.
    let prepare = |heap: &mut Heap| {
        let first = heap.gc_list_new();
        let second = heap.gc_list_new();
        let one = heap.new_int(1);
        let two = heap.new_int(2);
        let make = |heap: &mut Heap, name: &str| {
            let inner = heap.new_tuple(&[one]);
            let outer = heap.assign_new_tuple(name, &[inner, two]);
            heap.decref(inner);
            (inner, outer)
        };
        let (inner1, outer1) = make(heap, "outer1");
        let (inner2, outer2) = make(heap, "outer2");
        heap.decref(one);
        heap.decref(two);
        move_to(heap, first, &[inner1, outer1]);
        move_to(heap, second, &[outer2, inner2]);
        ([first, second], [inner1, outer1, inner2, outer2])
    };
    let ((mut heap, ([first, second], ids)), (mut theirs, ([their_first, their_second], _))) =
        twins(prepare);
    let [inner1, outer1, inner2, outer2] = ids;

    cycles::untrack_tuples(&mut heap, first);
    reference::untrack_tuples(&mut theirs, their_first);
    assert!(
        !heap.is_tracked(inner1) && !heap.is_tracked(outer1),
        "inner first: one pass untracks inner, then outer, which now holds nothing tracked"
    );
    assert_same_as_reference(&theirs, &heap, "untrack_tuples on [inner, outer]");

    cycles::untrack_tuples(&mut heap, second);
    reference::untrack_tuples(&mut theirs, their_second);
    assert!(
        !heap.is_tracked(inner2),
        "outer first: the first pass untracks inner"
    );
    assert!(
        heap.is_tracked(outer2),
        "outer first: when the pass met outer, inner was still tracked, so outer stays"
    );
    assert_same_as_reference(&theirs, &heap, "untrack_tuples on [outer, inner]");

    cycles::untrack_tuples(&mut heap, second);
    reference::untrack_tuples(&mut theirs, their_second);
    assert!(!heap.is_tracked(outer2), "the second pass untracks outer");
    assert!(heap.gc_list_is_empty(second));
    assert_same_as_reference(&theirs, &heap, "a second untrack_tuples");
}

#[test]
fn untrack_dicts_untracks_the_dicts_that_hold_nothing_trackable() {
    let prepare = |heap: &mut Heap| {
        let survivors = heap.gc_list_new();
        // atoms = {}; atoms['x'] = []; del atoms['x']; atoms['n'] = 1
        let atoms = heap.assign_new_dict("atoms");
        let x = heap.new_list();
        dict_set_str(heap, atoms, "x", x);
        heap.decref(x);
        let key = heap.new_str("x");
        heap.dict_del(atoms, key);
        heap.decref(key);
        let one = heap.new_int(1);
        dict_set_str(heap, atoms, "n", one);
        // with_list = {'l': []}
        let with_list = heap.assign_new_dict("with_list");
        let l = heap.new_list();
        dict_set_str(heap, with_list, "l", l);
        heap.decref(l);
        // t = (1, 1); with_tuple = {'t': t}, then t untracked (as a collection would)
        let t = heap.new_tuple(&[one, one]);
        let with_tuple = heap.assign_new_dict("with_tuple");
        dict_set_str(heap, with_tuple, "t", t);
        heap.maybe_untrack_tuple(t);
        heap.decref(t);
        // with_dict = {'d': {}}: an untracked dict may be tracked later
        let with_dict = heap.assign_new_dict("with_dict");
        let inner = heap.new_dict();
        dict_set_str(heap, with_dict, "d", inner);
        heap.decref(inner);
        // general = {}; general[1] = []; del general[1]: an int-keyed table, now empty
        let general = heap.assign_new_dict("general");
        let y = heap.new_list();
        heap.dict_set(general, one, y);
        heap.decref(y);
        heap.dict_del(general, one);
        // tup = (1, 1): a tuple of atoms, but untrack_dicts leaves tuples alone
        let tup = heap.assign_new_tuple("tup", &[one, one]);
        heap.decref(one);
        move_to(
            heap,
            survivors,
            &[atoms, with_list, tup, with_tuple, with_dict, general],
        );
        (
            survivors,
            [atoms, with_list, tup, with_tuple, with_dict, general],
        )
    };
    let ((mut heap, (survivors, ids)), (mut theirs, (their_survivors, _))) = twins(prepare);
    let [atoms, with_list, tup, with_tuple, with_dict, general] = ids;

    cycles::untrack_dicts(&mut heap, survivors);
    reference::untrack_dicts(&mut theirs, their_survivors);

    assert!(!heap.is_tracked(atoms), "{{'n': 1}} holds atoms only");
    assert!(
        !heap.is_tracked(with_tuple),
        "{{'t': (1, 1)}}: the tuple was untracked, so it cannot be in a cycle"
    );
    assert!(!heap.is_tracked(general), "an empty dict");
    assert!(heap.is_tracked(with_list), "{{'l': []}} holds a list");
    assert!(
        heap.is_tracked(with_dict),
        "{{'d': {{}}}} holds a dict, which may be tracked later"
    );
    assert!(heap.is_tracked(tup), "untrack_dicts leaves tuples alone");
    assert_eq!(
        serials(&heap, survivors),
        serials_of(&heap, &[with_list, tup, with_dict]),
        "the others stay in the list, in order"
    );
    assert_same_as_reference(&theirs, &heap, "untrack_dicts");
}

// ---------------------------------------------------------------------------------------------
// Step 5: handle_weakrefs
// ---------------------------------------------------------------------------------------------

#[test]
fn handle_weakrefs_clears_weakrefs_to_garbage_without_calling_anything() {
    // class C: pass
    // o = C(); o.me = o; w = weakref.ref(o)       o is garbage once its name goes
    // r = C(); wr = weakref.ref(r)                r lives
    // del o
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let w = heap.assign_new_weakref("w", o, None);
        let r = heap.assign_new_instance("r", class);
        let wr = heap.assign_new_weakref("wr", r, None);
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [o, w, r, wr])
    };
    let ((mut heap, (unreachable, old, [o, w, r, wr])), (mut theirs, (tu, told, _))) =
        twins(prepare);
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[o]),
        "setup"
    );

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_eq!(
        freed, 0,
        "no weakref had a callback, so none died after one"
    );
    assert_eq!(freed, their_freed);
    assert_eq!(
        heap.weakref_referent(w),
        None,
        "w() must return None: its referent is garbage"
    );
    assert!(heap.weakrefs_to(o).is_empty());
    assert_eq!(
        heap.weakref_referent(wr),
        Some(r),
        "a weakref to a live object is left alone"
    );
    assert!(heap.events().is_empty(), "nothing is called, nothing dies");
    assert!(
        heap.gc_list_is_empty(old),
        "a weakref without a callback is not moved"
    );
    assert_same_as_reference(&theirs, &heap, "handle_weakrefs");
}

#[test]
fn handle_weakrefs_calls_back_a_reachable_weakref_and_moves_it_to_old() {
    // o = C(); o.me = o
    // w1 = weakref.ref(o, cb1); w2 = weakref.ref(o, cb2); w0 = weakref.ref(o)
    // del o
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let w1 = heap.assign_new_weakref("w1", o, Some(Callback::new([log("cb1")])));
        let w2 = heap.assign_new_weakref("w2", o, Some(Callback::new([log("cb2")])));
        let w0 = heap.assign_new_weakref("w0", o, None);
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [o, w0, w1, w2])
    };
    let ((mut heap, (unreachable, old, [o, w0, w1, w2])), (mut theirs, (tu, told, _))) =
        twins(prepare);

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    let s = |id| heap.serial(id);
    // o's weaklist is [w0, w2, w1]: the basic ref first, then the newest callback first.
    assert_eq!(
        heap.events(),
        [
            Event::CallbackCalled(s(w2)),
            Event::Log("cb2".into()),
            Event::CallbackCalled(s(w1)),
            Event::Log("cb1".into()),
        ],
        "the callbacks of the reachable weakrefs run, in weaklist order"
    );
    assert_eq!(freed, 0, "both weakrefs still have their names");
    assert_eq!(freed, their_freed);
    assert_eq!(
        serials(&heap, old),
        serials_of(&heap, &[w2, w1]),
        "a weakref whose callback ran, and which lives, moves to old"
    );
    for wr in [w0, w1, w2] {
        assert_eq!(heap.weakref_referent(wr), None);
        assert_eq!(
            heap.refcount(wr),
            1,
            "the reference taken to keep a weakref alive during its callback is given back"
        );
    }
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[o]),
        "the garbage stays where it is"
    );
    assert_same_as_reference(&theirs, &heap, "handle_weakrefs");
}

#[test]
fn handle_weakrefs_never_calls_back_an_unreachable_weakref() {
    // o = C(); o.me = o; o.w = weakref.ref(o, cb)      the weakref is garbage too
    // p = C(); q = C(); q.me = q; q.w = weakref.ref(p, cbp)
    //     a garbage weakref to a live object (bpo-38006)
    // del o, q
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let w = heap.new_weakref(o, Some(Callback::new([log("cb")])));
        heap.set_attr(o, "w", w);
        heap.decref(w);
        let p = heap.assign_new_instance("p", class);
        let q = heap.assign_new_instance("q", class);
        heap.set_attr(q, "me", q);
        let wp = heap.new_weakref(p, Some(Callback::new([log("cbp")])));
        heap.set_attr(q, "w", wp);
        heap.decref(wp);
        heap.del("o");
        heap.del("q");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [o, w, p, q, wp])
    };
    let ((mut heap, (unreachable, old, ids)), (mut theirs, (tu, told, _))) = twins(prepare);
    let [o, w, p, q, wp] = ids;
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[o, w, q, wp]),
        "setup"
    );

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert!(
        heap.events().is_empty(),
        "a weakref that is garbage itself never has its callback called"
    );
    assert_eq!(freed, 0);
    assert_eq!(freed, their_freed);
    assert_eq!(
        heap.weakref_referent(w),
        None,
        "the weakref to garbage is cleared"
    );
    assert_eq!(
        heap.weakref_referent(wp),
        None,
        "a weakref that is garbage is cleared even if its referent lives, so its callback can \
         never run later"
    );
    assert!(heap.weakrefs_to(p).is_empty());
    assert!(heap.gc_list_is_empty(old));
    assert_eq!(
        serials(&heap, unreachable),
        serials_of(&heap, &[o, w, q, wp]),
        "the garbage stays where it is"
    );
    assert_same_as_reference(&theirs, &heap, "handle_weakrefs");
}

#[test]
fn handle_weakrefs_counts_a_weakref_freed_by_its_callback() {
    // o = C(); o.me = o
    // w = weakref.ref(o, cb)   where cb does `global w; del w`: it frees its own weakref
    // k = weakref.ref(o, keep) where keep prints "kept"
    // del o
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let unbind = Callback::new([Action::Unbind("w".into())]);
        let w = heap.assign_new_weakref("w", o, Some(unbind));
        let k = heap.assign_new_weakref("k", o, Some(Callback::new([log("kept")])));
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [w, k])
    };
    let ((mut heap, (unreachable, old, [w, k])), (mut theirs, (tu, told, _))) = twins(prepare);
    let (sw, sk) = (heap.serial(w), heap.serial(k));

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_eq!(
        freed, 1,
        "w died when its callback returned: it was reachable, so not counted yet, and is now"
    );
    assert_eq!(freed, their_freed);
    assert!(!heap.is_alive(w));
    assert_eq!(
        heap.events(),
        [
            Event::CallbackCalled(sk),
            Event::Log("kept".into()),
            Event::CallbackCalled(sw),
            Event::Destroyed(sw),
        ]
    );
    assert_eq!(
        serials(&heap, old),
        [sk],
        "only the weakref that survived moves to old"
    );
    assert_same_as_reference(&theirs, &heap, "handle_weakrefs");
}

#[test]
fn handle_weakrefs_clears_and_holds_every_weakref_before_the_first_callback() {
    // o1 = C(); o1.me = o1; o2 = C(); o2.me = o2
    // w1 = weakref.ref(o1, cb1)   where cb1 does `global w2; del w2`
    // w2 = weakref.ref(o2, cb2)   where cb2 prints "cb2"
    // del o1, o2
    //
    // If the callbacks ran as the weakrefs are found, cb1 would free w2 before o2 is looked at,
    // and cb2 would never run. Found and held first, w2 survives cb1 and its callback runs.
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o1 = heap.assign_new_instance("o1", class);
        heap.set_attr(o1, "me", o1);
        let o2 = heap.assign_new_instance("o2", class);
        heap.set_attr(o2, "me", o2);
        let w1 =
            heap.assign_new_weakref("w1", o1, Some(Callback::new([Action::Unbind("w2".into())])));
        let w2 = heap.assign_new_weakref("w2", o2, Some(Callback::new([log("cb2")])));
        heap.del("o1");
        heap.del("o2");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [w1, w2])
    };
    let ((mut heap, (unreachable, old, [w1, w2])), (mut theirs, (tu, told, _))) = twins(prepare);
    let (s1, s2) = (heap.serial(w1), heap.serial(w2));

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_eq!(
        heap.events(),
        [
            Event::CallbackCalled(s1),
            Event::CallbackCalled(s2),
            Event::Log("cb2".into()),
            Event::Destroyed(s2),
        ],
        "every weakref to garbage is cleared and held before any callback runs: cb1 deletes \
         the name w2, but the collector's own reference keeps w2 alive until its callback ran"
    );
    assert_eq!(freed, 1, "w2 died after its callback");
    assert_eq!(freed, their_freed);
    assert_eq!(serials(&heap, old), [s1]);
    assert_same_as_reference(&theirs, &heap, "handle_weakrefs");
}

// ---------------------------------------------------------------------------------------------
// Step 6: finalize_garbage
// ---------------------------------------------------------------------------------------------

#[test]
fn finalize_garbage_calls_each_del_once_in_list_order() {
    // class A: __del__ prints "A"; class B: __del__ prints "B"; class N: no __del__
    // A ring b -> l -> a -> n -> done -> b2 -> b, all garbage, where `done` is an A that was
    // already finalized. The test puts them in its own list in that order.
    let prepare = |heap: &mut Heap| {
        let class_a = class_with_del(heap, "A", vec![log("A")]);
        let class_b = class_with_del(heap, "B", vec![log("B")]);
        let class_n = heap.new_class("N", None);
        let b = heap.assign_new_instance("b", class_b);
        let l = heap.assign_new_list("l");
        let a = heap.assign_new_instance("a", class_a);
        let n = heap.assign_new_instance("n", class_n);
        let done = heap.assign_new_instance("done", class_a);
        heap.set_finalized(done);
        let b2 = heap.assign_new_instance("b2", class_b);
        heap.set_attr(b, "next", l);
        heap.list_append(l, a);
        heap.set_attr(a, "next", n);
        heap.set_attr(n, "next", done);
        heap.set_attr(done, "next", b2);
        heap.set_attr(b2, "next", b);
        for name in ["b", "l", "a", "n", "done", "b2"] {
            heap.del(name);
        }
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[b, l, a, n, done, b2]);
        (garbage, [b, l, a, n, done, b2])
    };
    let ((mut heap, (garbage, ids)), (mut theirs, (their_garbage, _))) = twins(prepare);
    let [b, l, a, n, done, b2] = ids;
    let order = serials(&heap, garbage);

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);

    let s = |id| heap.serial(id);
    assert_eq!(
        heap.events(),
        [
            Event::Finalized(s(b)),
            Event::Log("B".into()),
            Event::Finalized(s(a)),
            Event::Log("A".into()),
            Event::Finalized(s(b2)),
            Event::Log("B".into()),
        ],
        "each pending __del__ runs once, in list order; `done` was finalized already"
    );
    for id in [b, a, done, b2] {
        assert!(heap.is_finalized(id), "gc.is_finalized is true afterwards");
    }
    assert!(!heap.is_finalized(n) && !heap.is_finalized(l));
    assert_eq!(
        serials(&heap, garbage),
        order,
        "the list is the same list afterwards, in the same order"
    );
    assert_same_as_reference(&theirs, &heap, "finalize_garbage");

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);
    assert_eq!(
        heap.events().len(),
        6,
        "a second pass finds every finalizer already run and calls nothing"
    );
    assert_same_as_reference(&theirs, &heap, "a second finalize_garbage");
}

#[test]
fn finalize_garbage_keeps_going_when_a_del_frees_another_member() {
    // class K: def __del__(self): global victim; del victim
    // class V: def __del__(self): print("V")
    // k = K(); k.me = k; victim = V(); z = V(); z.me = z; del k, z
    // The test's list is [k, victim, z]: k's __del__ frees victim, which leaves the list.
    let prepare = |heap: &mut Heap| {
        let class_k = class_with_del(heap, "K", vec![Action::Unbind("victim".into())]);
        let class_v = class_with_del(heap, "V", vec![log("V")]);
        let k = heap.assign_new_instance("k", class_k);
        heap.set_attr(k, "me", k);
        let victim = heap.assign_new_instance("victim", class_v);
        let z = heap.assign_new_instance("z", class_v);
        heap.set_attr(z, "me", z);
        heap.del("k");
        heap.del("z");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[k, victim, z]);
        (garbage, [k, victim, z])
    };
    let ((mut heap, (garbage, [k, victim, z])), (mut theirs, (their_garbage, _))) = twins(prepare);
    let (sk, sv, sz) = (heap.serial(k), heap.serial(victim), heap.serial(z));

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);

    assert_eq!(
        heap.events(),
        [
            Event::Finalized(sk),
            // k's __del__ deletes the name victim: victim dies by reference counting, and its
            // own __del__ runs then, once.
            Event::Finalized(sv),
            Event::Log("V".into()),
            Event::Destroyed(sv),
            Event::Finalized(sz),
            Event::Log("V".into()),
        ],
        "the loop must go on after a __del__ freed an object of the list, and never touch it"
    );
    assert!(!heap.is_alive(victim));
    assert_eq!(times(&heap, &Event::Finalized(sv)), 1);
    assert_eq!(serials(&heap, garbage), [sk, sz]);
    assert_same_as_reference(&theirs, &heap, "finalize_garbage");
}

// ---------------------------------------------------------------------------------------------
// Step 7: handle_resurrected_objects
// ---------------------------------------------------------------------------------------------

#[test]
fn handle_resurrected_objects_keeps_what_a_del_brought_back_and_what_it_reaches() {
    // class P: def __del__(self): global saved; saved = self
    // p = P(); x = [p]; p.x = x              p <-> x
    // y = []; z = [y]; y.append(z); x.append(y)   y <-> z, reached from x
    // g = []; h = [g]; g.append(h)           g <-> h, reached from nothing
    // del p, x, y, z, g, h
    let prepare = |heap: &mut Heap| {
        let class_p = class_with_del(heap, "P", vec![Action::BindSelf("saved".into())]);
        let p = heap.assign_new_instance("p", class_p);
        let x = heap.assign_new_list("x");
        heap.list_append(x, p);
        heap.set_attr(p, "x", x);
        let y = heap.assign_new_list("y");
        let z = heap.assign_new_list("z");
        heap.list_append(z, y);
        heap.list_append(y, z);
        heap.list_append(x, y);
        let g = heap.assign_new_list("g");
        let h = heap.assign_new_list("h");
        heap.list_append(h, g);
        heap.list_append(g, h);
        for name in ["p", "x", "y", "z", "g", "h"] {
            heap.del(name);
        }
        let unreachable = reference_unreachable(heap);
        reference::finalize_garbage(heap, unreachable);
        let still = heap.gc_list_new();
        let old = heap.gc_list_new();
        ((unreachable, still, old), [p, x, y, z, g, h])
    };
    let ((mut heap, ((unreachable, still, old), ids)), (mut theirs, ((tu, ts, told), _))) =
        twins(prepare);
    let [p, x, y, z, g, h] = ids;
    assert_eq!(heap.lookup("saved"), Some(p), "setup: p's __del__ ran");
    assert_eq!(heap.gc_list_len(unreachable), 6, "setup");

    cycles::handle_resurrected_objects(&mut heap, unreachable, still, old);
    reference::handle_resurrected_objects(&mut theirs, tu, ts, told);

    let mut survivors = serials(&heap, old);
    survivors.sort_unstable();
    assert_eq!(
        survivors,
        serials_of(&heap, &[p, x, y, z]),
        "p is reachable again (the name saved), and so is all it reaches: they move to old"
    );
    assert_eq!(
        serials(&heap, still),
        serials_of(&heap, &[g, h]),
        "what nothing resurrected is still unreachable"
    );
    assert!(heap.gc_list_is_empty(unreachable));
    assert_same_as_reference(&theirs, &heap, "handle_resurrected_objects");
}

// ---------------------------------------------------------------------------------------------
// Step 8: delete_garbage
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_garbage_clears_each_object_so_reference_counting_frees_the_cycle() {
    // class C: pass
    // a = []; b = {}; c = C(); a.append(b); a.append(5); b['c'] = c; b['z'] = 7; c.a = a
    // del a, b, c
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_dict("b");
        let c = heap.assign_new_instance("c", class);
        heap.list_append(a, b);
        let five = heap.new_int(5);
        heap.list_append(a, five);
        heap.decref(five);
        dict_set_str(heap, b, "c", c);
        let seven = heap.new_int(7);
        dict_set_str(heap, b, "z", seven);
        heap.decref(seven);
        heap.set_attr(c, "a", a);
        for name in ["a", "b", "c"] {
            heap.del(name);
        }
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, [a, b, c])
    };
    let ((mut heap, (unreachable, old, [a, b, c])), (mut theirs, (tu, told, _))) = twins(prepare);
    let serials_before = serials_of(&heap, &[a, b, c]);
    let live_before = heap.live_objects();

    cycles::delete_garbage(&mut heap, unreachable, old, None);
    reference::delete_garbage(&mut theirs, tu, told, None);

    for (id, serial) in [a, b, c].into_iter().zip(serials_before.iter().copied()) {
        assert!(!heap.is_alive(id), "object #{serial} of the cycle is freed");
        assert_eq!(
            times(&heap, &Event::Destroyed(serial)),
            1,
            "object #{serial} is freed exactly once"
        );
    }
    assert_eq!(
        heap.live_objects(),
        live_before - 7,
        "the three containers go, and with them the ints 5 and 7 and the dict's keys 'c' and \
         'z' (an attribute name is not an object here)"
    );
    assert_eq!(
        heap.events().last(),
        Some(&Event::Destroyed(serials_before[0])),
        "a dies last, when delete_garbage gives up the reference it held around a's tp_clear: \
         after everything a's clear released (b, its keys and values, c)"
    );
    assert!(heap.gc_list_is_empty(unreachable));
    assert!(
        heap.gc_list_is_empty(old),
        "nothing survived to be moved to old"
    );
    assert_same_as_reference(&theirs, &heap, "delete_garbage");
}

#[test]
fn delete_garbage_frees_a_cycle_through_a_tuple_which_has_no_tp_clear() {
    // l = []; t = (l,); l.append(t); del l, t
    // The test's list is [t, l]: t cannot be cleared, survives, moves to old; clearing l then
    // frees t, which frees l.
    let prepare = |heap: &mut Heap| {
        let l = heap.assign_new_list("l");
        let t = heap.assign_new_tuple("t", &[l]);
        heap.list_append(l, t);
        heap.del("l");
        heap.del("t");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[t, l]);
        let old = heap.gc_list_new();
        (garbage, old, [t, l])
    };
    let ((mut heap, (garbage, old, [t, l])), (mut theirs, (tg, told, _))) = twins(prepare);
    let (st, sl) = (heap.serial(t), heap.serial(l));

    cycles::delete_garbage(&mut heap, garbage, old, None);
    reference::delete_garbage(&mut theirs, tg, told, None);

    assert!(!heap.is_alive(t) && !heap.is_alive(l));
    assert_eq!(
        heap.events(),
        [Event::Destroyed(st), Event::Destroyed(sl)],
        "clearing l drops the tuple (freed, dropping l) and then your own reference frees l"
    );
    assert!(heap.gc_list_is_empty(garbage));
    assert!(
        heap.gc_list_is_empty(old),
        "the tuple waited in old and died there"
    );
    assert_same_as_reference(&theirs, &heap, "delete_garbage");
}

#[test]
fn delete_garbage_moves_what_survives_its_clear_to_old() {
    // l = []; keep = (l,); l.append(keep); m = []; m.append(m); m.append(l)
    // The list is [keep, m, l]; the name keep refers to the tuple, so whatever
    // delete_garbage does, keep and l survive (as objects a finalizer made reachable would).
    let prepare = |heap: &mut Heap| {
        let l = heap.assign_new_list("l");
        let keep = heap.assign_new_tuple("keep", &[l]);
        heap.list_append(l, keep);
        let m = heap.assign_new_list("m");
        heap.list_append(m, m);
        heap.list_append(m, l);
        heap.del("l");
        heap.del("m");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[keep, m, l]);
        let old = heap.gc_list_new();
        (garbage, old, [keep, m, l])
    };
    let ((mut heap, (garbage, old, [keep, m, l])), (mut theirs, (tg, told, _))) = twins(prepare);
    let sm = heap.serial(m);

    cycles::delete_garbage(&mut heap, garbage, old, None);
    reference::delete_garbage(&mut theirs, tg, told, None);

    assert!(
        !heap.is_alive(m),
        "m held itself only: cleared, it is freed"
    );
    assert_eq!(heap.events(), [Event::Destroyed(sm)]);
    assert_eq!(
        serials(&heap, old),
        serials_of(&heap, &[keep, l]),
        "keep (no tp_clear) and l (cleared, but keep still refers to it) move to old, in order"
    );
    assert_eq!(heap.len(l), 0, "l was cleared");
    assert_eq!(heap.refcount(keep), 1, "the name keep");
    assert_eq!(heap.refcount(l), 1, "keep's item");
    assert!(heap.gc_list_is_empty(garbage));
    assert_same_as_reference(&theirs, &heap, "delete_garbage");
}

#[test]
fn delete_garbage_with_saveall_appends_to_garbage_and_frees_nothing() {
    // a = []; b = []; c = []; a.append(b); b.append(c); c.append(a); del a, b, c
    // gc.garbage is a list of the test's own.
    let prepare = |heap: &mut Heap| {
        let [a, b, c] = ["a", "b", "c"].map(|name| heap.assign_new_list(name));
        heap.list_append(a, b);
        heap.list_append(b, c);
        heap.list_append(c, a);
        for name in ["a", "b", "c"] {
            heap.del(name);
        }
        let garbage_list = heap.assign_new_list("garbage");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (unreachable, old, garbage_list, [a, b, c])
    };
    let (
        (mut heap, (unreachable, old, garbage_list, [a, b, c])),
        (mut theirs, (tu, told, tgarbage, _)),
    ) = twins(prepare);
    let order = serials(&heap, unreachable);

    cycles::delete_garbage(&mut heap, unreachable, old, Some(garbage_list));
    reference::delete_garbage(&mut theirs, tu, told, Some(tgarbage));

    assert!(heap.events().is_empty(), "nothing is cleared, nothing dies");
    let Kind::List(saved) = heap.kind(garbage_list).clone() else {
        unreachable!("gc.garbage is a list")
    };
    assert_eq!(
        serials_of(&heap, &saved),
        order,
        "each object is appended to gc.garbage, in list order"
    );
    for id in [a, b, c] {
        assert_eq!(
            heap.refcount(id),
            2,
            "one reference from the cycle, one from gc.garbage"
        );
    }
    assert_eq!(
        serials(&heap, old),
        order,
        "they are alive, so they move to old"
    );
    assert_same_as_reference(&theirs, &heap, "delete_garbage with DEBUG_SAVEALL");
}
