//! Graded tests for lab 03: each step of the collector on its own.
//!
//! Each test builds a small heap the way a Python program would, prepares the GC lists the step
//! works on (with `gc_list_new` and `gc_list_move`, or by running the *reference's* earlier
//! steps), then calls only the step under test from your crate. A bug in one step therefore costs
//! that step's tests, not every test after it.
//!
//! Where a step leaves a heap behind, the same preparation runs on a twin heap through the
//! reference's step, and the two heaps must agree: their dumps (every object, its count, the GC
//! lists in order) and what happened (finalizers, callbacks, frees, in order). The numbers the
//! tests also assert are explained where they appear. Failures name objects by the names the
//! scenario gave them (`a`, `b`, `victim`), and say which side is the reference's and which is
//! yours.
//!
//! The tests follow the book: `update_refs`, `subtract_refs`, `visit_reachable`,
//! `move_unreachable`, `delete_garbage`; then the steps of `gc_collect_main` itself
//! (`start_collection`, `promote_survivors`); then `untrack_tuples` and `untrack_dicts`, the two
//! passes of `handle_weakrefs`, `finalize_garbage` and `handle_resurrected_objects`.

mod support;

use pyheap::{Action, Callback, GcList, Heap, Kind, ObjId};
use support::{
    Names, assert_keeps_invariants, assert_same_heap, class_with_del, dict_set_str, log, words,
};
use testkit::{assert_expected, assert_same};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// `(name, gc_refs)` of each of `ids`.
fn refs_of(names: &Names, heap: &Heap, ids: &[ObjId]) -> Vec<(String, isize)> {
    ids.iter()
        .map(|&id| (names.of(heap, id), heap.gc_refs(id)))
        .collect()
}

/// `(name, gc_refs)` of every live object not in `except`.
fn refs_of_others(names: &Names, heap: &Heap, except: &[ObjId]) -> Vec<(String, isize)> {
    heap.objects()
        .filter(|(id, _)| !except.contains(id))
        .map(|(id, _)| (names.of(heap, id), heap.gc_refs(id)))
        .collect()
}

/// Expected `(name, gc_refs)` pairs, written in the test.
fn refs(pairs: &[(&str, isize)]) -> Vec<(String, isize)> {
    pairs
        .iter()
        .map(|&(name, refs)| (name.to_string(), refs))
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

/// Runs `prepare` on two new heaps: one for your step, one for the reference's.
fn twins<S>(prepare: impl Fn(&mut Heap) -> S) -> ((Heap, S), (Heap, S)) {
    let mut yours = Heap::new();
    let yours_setup = prepare(&mut yours);
    let mut reference = Heap::new();
    let reference_setup = prepare(&mut reference);
    ((yours, yours_setup), (reference, reference_setup))
}

/// Runs the reference's steps 1 to 3 on generation 0, leaving the garbage in a new list, which
/// it returns: the state `handle_weakrefs` and the steps after it start from.
fn reference_unreachable(heap: &mut Heap) -> GcList {
    let unreachable = heap.gc_list_new();
    reference::deduce_unreachable(heap, GcList::GEN0, unreachable);
    unreachable
}

/// The generation lists, by name, head to tail.
fn generations(names: &Names, heap: &Heap) -> [Vec<String>; 3] {
    [0, 1, 2].map(|g| names.list(heap, GcList::generation(g)))
}

// ---------------------------------------------------------------------------------------------
// update_refs
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
    let names = Names::bound(&heap);
    let before = names.dump_lines(&heap);
    let others_before = refs_of_others(&names, &heap, &[t, a, n, b]);

    cycles::update_refs(&mut heap, mine);

    assert_expected(
        "(object, gc_refs) of the list's objects after update_refs: each one's reference count \
         (t: the name t; a: the names a and a2, t's item, outside's item; n: the name n and its \
         own attribute; b: the name b, two items of a, t's item)",
        &refs(&[("t", 1), ("a", 4), ("n", 2), ("b", 4)]),
        &refs_of(&names, &heap, &[t, a, n, b]),
    );
    assert_expected(
        "(object, gc_refs) of every object that is not in the list (the test set them all to -7): \
         update_refs writes only the gc_refs of the list it is given (`outside` is in generation \
         0, not in that list)",
        &others_before,
        &refs_of_others(&names, &heap, &[t, a, n, b]),
    );
    assert_expected(
        "the heap after update_refs: it changes no count and moves nothing",
        &before,
        &names.dump_lines(&heap),
    );
    assert_keeps_invariants(&names, &heap, "update_refs");
}

// ---------------------------------------------------------------------------------------------
// subtract_refs
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
    let names = Names::bound(&heap);
    heap.del("b");
    heap.del("c");
    heap.del("e");
    heap.gc_list_move(o, GcList::GEN1);
    let members = [a, b, c, e, d, f, t];
    move_to(&mut heap, mine, &members);
    mark_every_object(&mut heap, -7);
    let others_before = refs_of_others(&names, &heap, &members);
    reference::update_refs(&mut heap, mine);
    assert_expected(
        "the test's setup: gc_refs after the reference's update_refs",
        &refs(&[
            ("a", 4),
            ("b", 2),
            ("c", 3),
            ("e", 4),
            ("d", 1),
            ("f", 1),
            ("t", 1),
        ]),
        &refs_of(&names, &heap, &members),
    );
    let before = names.dump_lines(&heap);

    cycles::subtract_refs(&mut heap, mine);

    assert_expected(
        "(object, gc_refs) after subtract_refs: the references from outside the list. a: the \
         name a (b, t and d's value are inside); b: none (a and t are inside); c: o, in \
         generation 1, and u, untracked, both outside (a is inside); e: none (its own \
         attribute, d's value, f's two items: all inside); d, f, t: their names",
        &refs(&[
            ("a", 1),
            ("b", 0),
            ("c", 2),
            ("e", 0),
            ("d", 1),
            ("f", 1),
            ("t", 1),
        ]),
        &refs_of(&names, &heap, &members),
    );
    assert_expected(
        "(object, gc_refs) of the objects outside the list (o in generation 1, the untracked u, \
         the int, the dict's keys): subtract_refs leaves them alone",
        &others_before,
        &refs_of_others(&names, &heap, &members),
    );
    assert_expected(
        "the heap after subtract_refs: it changes no count and moves nothing",
        &before,
        &names.dump_lines(&heap),
    );
    assert_keeps_invariants(&names, &heap, "subtract_refs");
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
    // i = Node(); i.me = i; i.again = i
    let i = heap.assign_new_instance("i", node);
    heap.set_attr(i, "me", i);
    heap.set_attr(i, "again", i);
    let names = Names::bound(&heap);
    heap.del("s");
    reference::update_refs(&mut heap, GcList::GEN0);

    cycles::subtract_refs(&mut heap, GcList::GEN0);

    assert_expected(
        "(object, gc_refs) after subtract_refs: a reference an object holds to itself comes \
         from inside the list. l: count 3, the name and two references to itself; s: count 1, \
         its reference to itself, nothing from outside; i: count 3, the name and two \
         attributes holding itself",
        &refs(&[("l", 1), ("s", 0), ("i", 1)]),
        &refs_of(&names, &heap, &[l, s_list, i]),
    );
    assert_keeps_invariants(&names, &heap, "subtract_refs");
}

// ---------------------------------------------------------------------------------------------
// visit_reachable and move_unreachable
// ---------------------------------------------------------------------------------------------

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
    let names = Names::bound(&heap);

    cycles::visit_reachable(&mut heap, u2, young, unreachable);

    assert_expected(
        "young after visit_reachable(u2): an object found reachable while in unreachable goes \
         back to the tail of young, where the scan will meet it again",
        &words(&["p", "q", "u2"]),
        &names.list(&heap, young),
    );
    assert_expected(
        "unreachable after visit_reachable(u2)",
        &words(&["u1"]),
        &names.list(&heap, unreachable),
    );
    assert_expected(
        "gc_refs of u2 after visit_reachable(u2): 1, so that the scan traverses it when it gets \
         there",
        &1,
        &heap.gc_refs(u2),
    );

    cycles::visit_reachable(&mut heap, u1, young, unreachable);

    assert_expected(
        "young after visit_reachable(u1), too",
        &words(&["p", "q", "u2", "u1"]),
        &names.list(&heap, young),
    );
    assert_expected(
        "unreachable after visit_reachable(u1)",
        &Vec::<String>::new(),
        &names.list(&heap, unreachable),
    );
    assert_expected("gc_refs of u1", &1, &heap.gc_refs(u1));
    assert_keeps_invariants(&names, &heap, "visit_reachable");
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
    let names = Names::bound(&heap);

    // q: in young with gc_refs 0 (the scan has not reached it yet): marked reachable.
    cycles::visit_reachable(&mut heap, q, young, unreachable);
    assert_expected(
        "gc_refs of q, in young with gc_refs 0, after visit_reachable(q): a 0 in young becomes 1",
        &1,
        &heap.gc_refs(q),
    );
    // Visiting it again, or visiting objects already known reachable, changes nothing.
    cycles::visit_reachable(&mut heap, q, young, unreachable);
    cycles::visit_reachable(&mut heap, p, young, unreachable);
    cycles::visit_reachable(&mut heap, r, young, unreachable);
    // Objects outside the collection: another generation, an atom, an untracked dict.
    cycles::visit_reachable(&mut heap, o, young, unreachable);
    cycles::visit_reachable(&mut heap, seven, young, unreachable);
    cycles::visit_reachable(&mut heap, d, young, unreachable);

    assert_expected(
        "(object, gc_refs) after visiting q again, p (3), r (1), o (generation 1), seven (an \
         int) and d (an untracked dict): only a 0 in young changes (to 1, once); a positive \
         gc_refs stays as it is, and objects outside young are not touched",
        &refs(&[
            ("p", 3),
            ("q", 1),
            ("r", 1),
            ("o", 0),
            ("seven", -7),
            ("d", 0),
        ]),
        &refs_of(&names, &heap, &[p, q, r, o, seven, d]),
    );
    assert_expected(
        "young afterwards: marking moves nothing within young",
        &words(&["p", "q", "r"]),
        &names.list(&heap, young),
    );
    assert_expected(
        "the list o is in afterwards: another generation's object stays there",
        &Some(GcList::GEN1),
        &heap.gc_list_of(o),
    );
    assert!(
        !heap.is_tracked(d),
        "visit_reachable tracked the untracked dict d: it must never track anything"
    );
    assert_expected(
        "unreachable afterwards",
        &Vec::<String>::new(),
        &names.list(&heap, unreachable),
    );
    assert_keeps_invariants(&names, &heap, "visit_reachable");
}

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
        let names = Names::bound(heap);
        for name in ["g1", "g2", "x"] {
            heap.del(name);
        }
        let unreachable = heap.gc_list_new();
        reference::update_refs(heap, GcList::GEN0);
        reference::subtract_refs(heap, GcList::GEN0);
        (names, unreachable)
    };
    let ((mut heap, (names, unreachable)), (mut theirs, (_, their_unreachable))) = twins(prepare);

    cycles::move_unreachable(&mut heap, GcList::GEN0, unreachable);
    reference::move_unreachable(&mut theirs, GcList::GEN0, their_unreachable);

    // The scan meets g1 (0: moved), root (1: traversed, marks x), g2 (0: moved), x (1).
    assert_expected(
        "young (generation 0) after move_unreachable: root (a name refers to it) and x (root \
         reaches it)",
        &words(&["root", "x"]),
        &names.list(&heap, GcList::GEN0),
    );
    assert_expected(
        "unreachable after move_unreachable: the cycle nothing outside refers to, in scan order",
        &words(&["g1", "g2"]),
        &names.list(&heap, unreachable),
    );
    assert_same_heap(&names, &theirs, &heap, "move_unreachable");
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
        let names = Names::bound(heap);
        for name in ["b", "c", "d", "g1", "g2"] {
            heap.del(name);
        }
        let unreachable = heap.gc_list_new();
        reference::update_refs(heap, GcList::GEN0);
        reference::subtract_refs(heap, GcList::GEN0);
        (names, unreachable)
    };
    let ((mut heap, (names, unreachable)), (mut theirs, (_, their_unreachable))) = twins(prepare);
    assert_expected(
        "the test's setup: generation 0",
        &words(&["d", "g1", "c", "g2", "b", "a"]),
        &names.list(&heap, GcList::GEN0),
    );

    cycles::move_unreachable(&mut heap, GcList::GEN0, unreachable);
    reference::move_unreachable(&mut theirs, GcList::GEN0, their_unreachable);

    // d, g1, c, g2 and b all have gc_refs 0 when the scan meets them, so all go to unreachable.
    // Then a (gc_refs 1) moves b back to the tail of young, the scan goes on to b, which moves c
    // back, and so on: young ends as the chain in order, and only g1, g2 stay unreachable.
    assert_expected(
        "young after move_unreachable: the chain, each object moved back to the tail by the one \
         before it, and met again by the scan",
        &words(&["a", "b", "c", "d"]),
        &names.list(&heap, GcList::GEN0),
    );
    assert_expected(
        "unreachable after move_unreachable: only the garbage cycle, in the order the scan met it",
        &words(&["g1", "g2"]),
        &names.list(&heap, unreachable),
    );
    assert_same_heap(&names, &theirs, &heap, "move_unreachable");
}

// ---------------------------------------------------------------------------------------------
// delete_garbage
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
        let names = Names::bound(heap).with(heap, &[(five, "5"), (seven, "7")]);
        for name in ["a", "b", "c"] {
            heap.del(name);
        }
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old, [a, b, c])
    };
    let ((mut heap, (names, unreachable, old, [a, b, c])), (mut theirs, (_, tu, told, _))) =
        twins(prepare);
    let live_before = heap.live_objects();
    let garbage = names.list(&heap, unreachable);

    cycles::delete_garbage(&mut heap, unreachable, old, None);
    reference::delete_garbage(&mut theirs, tu, told, None);

    for (id, name) in [(a, "a"), (b, "b"), (c, "c")] {
        assert!(
            !heap.is_alive(id),
            "{name} is still alive after delete_garbage: every object of the cycle must be freed"
        );
        assert_expected(
            &format!("how many times {name} was freed"),
            &1,
            &names
                .events(heap.events())
                .iter()
                .filter(|e| **e == format!("{name} freed"))
                .count(),
        );
    }
    assert_expected(
        "how many objects are left: the three containers go, and with them the ints 5 and 7 and \
         the dict's keys 'c' and 'z' (an attribute name is not an object here)",
        &(live_before - 7),
        &heap.live_objects(),
    );
    assert_expected(
        "the last thing that happened: a dies last, when delete_garbage gives up the reference \
         it held around a's tp_clear, after everything a's clear released (b, its keys and \
         values, c)",
        &Some(format!("{} freed", garbage[0])),
        &names.events(heap.events()).last().cloned(),
    );
    assert!(
        heap.gc_list_is_empty(unreachable),
        "the list handed to delete_garbage must be empty afterwards"
    );
    assert_expected(
        "old afterwards: nothing survived to be moved there",
        &Vec::<String>::new(),
        &names.list(&heap, old),
    );
    assert_same_heap(&names, &theirs, &heap, "delete_garbage");
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
        let names = Names::bound(heap);
        heap.del("l");
        heap.del("t");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[t, l]);
        let old = heap.gc_list_new();
        (names, garbage, old, [t, l])
    };
    let ((mut heap, (names, garbage, old, [t, l])), (mut theirs, (_, tg, told, _))) =
        twins(prepare);

    cycles::delete_garbage(&mut heap, garbage, old, None);
    reference::delete_garbage(&mut theirs, tg, told, None);

    assert!(
        !heap.is_alive(t) && !heap.is_alive(l),
        "the cycle through the tuple t and the list l must be freed"
    );
    assert_expected(
        "what happened: t cannot be cleared and moves to old; clearing l drops the tuple (freed, \
         dropping l) and then your own reference frees l",
        &words(&["t freed", "l freed"]),
        &names.events(heap.events()),
    );
    assert!(
        heap.gc_list_is_empty(garbage),
        "the list handed to delete_garbage must be empty afterwards"
    );
    assert_expected(
        "old afterwards: the tuple waited there, and died there",
        &Vec::<String>::new(),
        &names.list(&heap, old),
    );
    assert_same_heap(&names, &theirs, &heap, "delete_garbage");
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
        let names = Names::bound(heap);
        heap.del("l");
        heap.del("m");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[keep, m, l]);
        let old = heap.gc_list_new();
        (names, garbage, old, [keep, m, l])
    };
    let ((mut heap, (names, garbage, old, [keep, m, l])), (mut theirs, (_, tg, told, _))) =
        twins(prepare);

    cycles::delete_garbage(&mut heap, garbage, old, None);
    reference::delete_garbage(&mut theirs, tg, told, None);

    assert!(
        !heap.is_alive(m),
        "m is still alive: it held itself only, so once cleared it is freed"
    );
    assert_expected(
        "what happened: only m was freed",
        &words(&["m freed"]),
        &names.events(heap.events()),
    );
    assert_expected(
        "old afterwards: keep (no tp_clear) and l (cleared, but keep still refers to it), in the \
         order met",
        &words(&["keep", "l"]),
        &names.list(&heap, old),
    );
    assert_expected("len(l): l was cleared", &0, &heap.len(l));
    assert_expected("the count of keep: the name keep", &1, &heap.refcount(keep));
    assert_expected("the count of l: keep's item", &1, &heap.refcount(l));
    assert!(
        heap.gc_list_is_empty(garbage),
        "the list handed to delete_garbage must be empty afterwards"
    );
    assert_same_heap(&names, &theirs, &heap, "delete_garbage");
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
        let garbage_list = heap.assign_new_list("garbage");
        let names = Names::bound(heap);
        for name in ["a", "b", "c"] {
            heap.del(name);
        }
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old, garbage_list, [a, b, c])
    };
    let (
        (mut heap, (names, unreachable, old, garbage_list, [a, b, c])),
        (mut theirs, (_, tu, told, tgarbage, _)),
    ) = twins(prepare);
    let order = names.list(&heap, unreachable);

    cycles::delete_garbage(&mut heap, unreachable, old, Some(garbage_list));
    reference::delete_garbage(&mut theirs, tu, told, Some(tgarbage));

    assert_expected(
        "what happened: with DEBUG_SAVEALL nothing is cleared and nothing dies",
        &Vec::<String>::new(),
        &names.events(heap.events()),
    );
    let Kind::List(saved) = heap.kind(garbage_list).clone() else {
        unreachable!("gc.garbage is a list")
    };
    assert_expected(
        "gc.garbage afterwards: each object appended, in list order",
        &order,
        &names.all(&heap, &saved),
    );
    for id in [a, b, c] {
        assert_expected(
            &format!(
                "the count of {}: one reference from the cycle, one from gc.garbage",
                names.of(&heap, id)
            ),
            &2,
            &heap.refcount(id),
        );
    }
    assert_expected(
        "old afterwards: they are alive, so they move there",
        &order,
        &names.list(&heap, old),
    );
    assert_same_heap(&names, &theirs, &heap, "delete_garbage with DEBUG_SAVEALL");
}

// ---------------------------------------------------------------------------------------------
// gc_collect_main's own steps: start_collection, promote_survivors
// ---------------------------------------------------------------------------------------------

/// Three lists in each generation: `a0`, `b0`, `c0` in generation 0, `a1`.. in 1, `a2`.. in 2;
/// and the counts set to `(5, 3, 2)`.
fn three_generations(heap: &mut Heap) -> Names {
    for g in [2, 1, 0] {
        for letter in ["a", "b", "c"] {
            let id = heap.assign_new_list(&format!("{letter}{g}"));
            heap.gc_list_move(id, GcList::generation(g));
        }
    }
    *heap.gc_counts_mut() = [5, 3, 2];
    Names::bound(heap)
}

#[test]
fn start_collection_resets_the_counts_and_merges_the_younger_generations() {
    let list = GcList::generation;
    let (zero, one, two) = (["a0", "b0", "c0"], ["a1", "b1", "c1"], ["a2", "b2", "c2"]);
    // (generation collected, counts afterwards, generations afterwards, old)
    type Case<'a> = (usize, [usize; 3], [Vec<&'a str>; 3], GcList);
    let cases: [Case; 3] = [
        (
            0,
            [0, 4, 2],
            [zero.to_vec(), one.to_vec(), two.to_vec()],
            list(1),
        ),
        (
            1,
            [0, 0, 3],
            [vec![], [one, zero].concat(), two.to_vec()],
            list(2),
        ),
        (
            2,
            [0, 0, 0],
            [vec![], vec![], [two, zero, one].concat()],
            list(2),
        ),
    ];
    for (generation, counts, lists, old) in cases {
        let mut heap = Heap::new();
        let names = three_generations(&mut heap);
        let mut collector = cycles::Collector::new();

        let (young, yours_old) = collector.start_collection(&mut heap, generation);

        assert_expected(
            &format!(
                "gc.get_count() after start_collection({generation}), from (5, 3, 2): the counts \
                 of generations 0 to {generation} are 0, and the next generation's is one higher"
            ),
            &counts,
            &heap.gc_counts(),
        );
        assert_expected(
            &format!("young, the list start_collection({generation}) returns first"),
            &list(generation),
            &young,
        );
        assert_expected(
            &format!(
                "old, the list start_collection({generation}) returns second: where the \
                 survivors go (generation 2 itself for a full collection)"
            ),
            &old,
            &yours_old,
        );
        assert_expected(
            &format!(
                "[generation 0, 1, 2] after start_collection({generation}): the younger \
                 generations are merged into generation {generation}, after its own objects, \
                 generation 0 first; the older ones are untouched"
            ),
            &lists.map(|g| words(&g)),
            &generations(&names, &heap),
        );
        assert_keeps_invariants(&names, &heap, "start_collection");
    }
}

#[test]
fn promote_survivors_appends_young_to_the_next_generation_and_counts_long_lived() {
    for generation in [0, 1] {
        let mut heap = Heap::new();
        let names = three_generations(&mut heap);
        let mut collector = cycles::Collector::new();
        collector.long_lived_pending = 7;
        collector.long_lived_total = 20;
        let (young, old) = (
            GcList::generation(generation),
            GcList::generation(generation + 1),
        );
        let mut expected = generations(&names, &heap);
        let moved = std::mem::take(&mut expected[generation]);
        expected[generation + 1].extend(moved);

        collector.promote_survivors(&mut heap, generation, young, old);

        assert_expected(
            &format!(
                "[generation 0, 1, 2] after promote_survivors({generation}): generation \
                 {generation}'s objects are appended to generation {}, in their order",
                generation + 1
            ),
            &expected,
            &generations(&names, &heap),
        );
        assert_expected(
            &format!(
                "(long_lived_pending, long_lived_total), from (7, 20), after \
                 promote_survivors({generation}): {}",
                if generation == 1 {
                    "the 3 objects promoted into generation 2 are pending"
                } else {
                    "a collection of generation 0 promotes nothing into generation 2"
                }
            ),
            &(if generation == 1 { 10 } else { 7 }, 20),
            &(collector.long_lived_pending, collector.long_lived_total),
        );
        assert_keeps_invariants(&names, &heap, "promote_survivors");
    }
}

// ---------------------------------------------------------------------------------------------
// untrack_tuples and untrack_dicts
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
        (Names::bound(heap), survivors)
    };
    let ((mut heap, (names, survivors)), (mut theirs, (_, their_survivors))) = twins(prepare);
    let tracked = |heap: &Heap, name: &str| heap.is_tracked(heap.get(name));

    cycles::untrack_tuples(&mut heap, survivors);
    reference::untrack_tuples(&mut theirs, their_survivors);

    assert!(
        !tracked(&heap, "atoms"),
        "atoms = (1, 'a') is still tracked: it holds atoms only"
    );
    assert!(
        !tracked(&heap, "with_empty"),
        "with_empty = ((), 1) is still tracked: () is never tracked"
    );
    assert!(
        tracked(&heap, "with_list"),
        "with_list = ([],) was untracked: it holds a list"
    );
    assert!(
        tracked(&heap, "with_dict"),
        "with_dict = ({{}},) was untracked: it holds a dict, which may be tracked at its next \
         insertion"
    );
    assert!(
        tracked(&heap, "d"),
        "the dict d was untracked: untrack_tuples leaves dicts alone (untrack_dicts is another \
         pass)"
    );
    assert_expected(
        "the list elsewhere is in: a tuple outside the list is not looked at",
        &Some(GcList::GEN1),
        &heap.gc_list_of(heap.get("elsewhere")),
    );
    assert_expected(
        "the list afterwards: the others stay, in order",
        &words(&["l", "with_list", "with_dict", "d"]),
        &names.list(&heap, survivors),
    );
    assert_same_heap(&names, &theirs, &heap, "untrack_tuples");
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
        let names = Names::bound(heap).with(heap, &[(inner1, "inner1"), (inner2, "inner2")]);
        (names, [first, second], [inner1, outer1, inner2, outer2])
    };
    let (
        (mut heap, (names, [first, second], ids)),
        (mut theirs, (_, [their_first, their_second], _)),
    ) = twins(prepare);
    let [inner1, outer1, inner2, outer2] = ids;

    cycles::untrack_tuples(&mut heap, first);
    reference::untrack_tuples(&mut theirs, their_first);
    assert_expected(
        "(inner1 tracked, outer1 tracked) after one pass over [inner1, outer1]: inner first, so \
         one pass untracks inner1, then outer1, which now holds nothing tracked",
        &(false, false),
        &(heap.is_tracked(inner1), heap.is_tracked(outer1)),
    );
    assert_same_heap(&names, &theirs, &heap, "untrack_tuples on [inner1, outer1]");

    cycles::untrack_tuples(&mut heap, second);
    reference::untrack_tuples(&mut theirs, their_second);
    assert_expected(
        "(inner2 tracked, outer2 tracked) after one pass over [outer2, inner2]: when the pass \
         met outer2, inner2 was still tracked, so outer2 stays; then inner2 goes. One pass, not \
         a loop until nothing changes",
        &(false, true),
        &(heap.is_tracked(inner2), heap.is_tracked(outer2)),
    );
    assert_same_heap(&names, &theirs, &heap, "untrack_tuples on [outer2, inner2]");

    cycles::untrack_tuples(&mut heap, second);
    reference::untrack_tuples(&mut theirs, their_second);
    assert!(
        !heap.is_tracked(outer2),
        "outer2 is still tracked after a second pass over [outer2]: its only tuple is untracked \
         now"
    );
    assert_same_heap(&names, &theirs, &heap, "a second untrack_tuples");
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
        (Names::bound(heap), survivors)
    };
    let ((mut heap, (names, survivors)), (mut theirs, (_, their_survivors))) = twins(prepare);
    let tracked = |heap: &Heap, name: &str| heap.is_tracked(heap.get(name));

    cycles::untrack_dicts(&mut heap, survivors);
    reference::untrack_dicts(&mut theirs, their_survivors);

    assert!(
        !tracked(&heap, "atoms"),
        "atoms = {{'n': 1}} is still tracked: it holds atoms only"
    );
    assert!(
        !tracked(&heap, "with_tuple"),
        "with_tuple = {{'t': (1, 1)}} is still tracked: its tuple was untracked, so it cannot \
         be in a cycle"
    );
    assert!(
        !tracked(&heap, "general"),
        "general, an empty dict, is still tracked"
    );
    assert!(
        tracked(&heap, "with_list"),
        "with_list = {{'l': []}} was untracked: it holds a list"
    );
    assert!(
        tracked(&heap, "with_dict"),
        "with_dict = {{'d': {{}}}} was untracked: it holds a dict, which may be tracked later"
    );
    assert!(
        tracked(&heap, "tup"),
        "the tuple tup was untracked: untrack_dicts leaves tuples alone"
    );
    assert_expected(
        "the list afterwards: the others stay, in order",
        &words(&["with_list", "tup", "with_dict"]),
        &names.list(&heap, survivors),
    );
    assert_same_heap(&names, &theirs, &heap, "untrack_dicts");
}

// ---------------------------------------------------------------------------------------------
// handle_weakrefs: clear_weakrefs_to_garbage, then call_weakref_callbacks
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
        heap.assign_new_weakref("w", o, None);
        let r = heap.assign_new_instance("r", class);
        heap.assign_new_weakref("wr", r, None);
        let names = Names::bound(heap);
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old, o)
    };
    let ((mut heap, (names, unreachable, old, o)), (mut theirs, (_, tu, told, _))) = twins(prepare);
    assert_expected(
        "the test's setup: unreachable",
        &words(&["o"]),
        &names.list(&heap, unreachable),
    );

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_expected(
        "what handle_weakrefs returned: no weakref had a callback, so none died after one",
        &0,
        &freed,
    );
    assert_same("what handle_weakrefs returned", &their_freed, &freed);
    let referent = |heap: &Heap, name: &str| {
        heap.weakref_referent(heap.get(name))
            .map(|id| names.of(heap, id))
    };
    assert_expected(
        "w(): None, since its referent o is garbage",
        &None,
        &referent(&heap, "w"),
    );
    assert_expected(
        "the weakrefs to o",
        &Vec::<String>::new(),
        &names.all(&heap, heap.weakrefs_to(o)),
    );
    assert_expected(
        "wr(): a weakref to a live object is left alone",
        &Some("r".to_string()),
        &referent(&heap, "wr"),
    );
    assert_expected(
        "what happened: nothing is called, nothing dies",
        &Vec::<String>::new(),
        &names.events(heap.events()),
    );
    assert_expected(
        "old afterwards: a weakref without a callback is not moved",
        &Vec::<String>::new(),
        &names.list(&heap, old),
    );
    assert_same_heap(&names, &theirs, &heap, "handle_weakrefs");
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
        let names = Names::bound(heap).with(heap, &[(w, "o.w"), (wp, "q.w")]);
        heap.del("o");
        heap.del("q");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old, [w, p, wp])
    };
    let ((mut heap, (names, unreachable, old, [w, p, wp])), (mut theirs, (_, tu, told, _))) =
        twins(prepare);
    let garbage = words(&["o", "o.w", "q", "q.w"]);
    assert_expected(
        "the test's setup: unreachable",
        &garbage,
        &names.list(&heap, unreachable),
    );

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_expected(
        "what happened: a weakref that is garbage itself never has its callback called",
        &Vec::<String>::new(),
        &names.events(heap.events()),
    );
    assert_expected(
        "what handle_weakrefs returned: no callback ran, so no weakref died after one",
        &0,
        &freed,
    );
    assert_same("what handle_weakrefs returned", &their_freed, &freed);
    assert_expected(
        "o.w(): the weakref to garbage is cleared",
        &None,
        &heap.weakref_referent(w).map(|id| names.of(&heap, id)),
    );
    assert_expected(
        "q.w(): a weakref that is garbage is cleared even if its referent p lives, so that its \
         callback can never run later",
        &None,
        &heap.weakref_referent(wp).map(|id| names.of(&heap, id)),
    );
    assert_expected(
        "the weakrefs to p",
        &Vec::<String>::new(),
        &names.all(&heap, heap.weakrefs_to(p)),
    );
    assert_expected(
        "old afterwards",
        &Vec::<String>::new(),
        &names.list(&heap, old),
    );
    assert_expected(
        "unreachable afterwards: the garbage stays where it is",
        &garbage,
        &names.list(&heap, unreachable),
    );
    assert_same_heap(&names, &theirs, &heap, "handle_weakrefs");
}

#[test]
fn clear_weakrefs_to_garbage_sets_aside_each_reachable_weakref_with_a_callback() {
    // o = C(); o.me = o
    // w1 = weakref.ref(o, cb1); w2 = weakref.ref(o, cb2); w0 = weakref.ref(o)
    // g = C(); g.me = g; g.w = weakref.ref(o, cbg)        garbage holding a weakref to o
    // del o, g
    let prepare = |heap: &mut Heap| {
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        heap.assign_new_weakref("w1", o, Some(Callback::new([log("cb1")])));
        heap.assign_new_weakref("w2", o, Some(Callback::new([log("cb2")])));
        heap.assign_new_weakref("w0", o, None);
        let g = heap.assign_new_instance("g", class);
        heap.set_attr(g, "me", g);
        let gw = heap.new_weakref(o, Some(Callback::new([log("cbg")])));
        heap.set_attr(g, "w", gw);
        heap.decref(gw);
        let names = Names::bound(heap).with(heap, &[(gw, "g.w")]);
        heap.del("o");
        heap.del("g");
        let unreachable = reference_unreachable(heap);
        let wrcb_to_call = heap.gc_list_new();
        (names, unreachable, wrcb_to_call)
    };
    let ((mut heap, (names, unreachable, wrcb)), (mut theirs, (_, tu, twrcb))) = twins(prepare);
    let garbage = names.list(&heap, unreachable);
    let counts = |heap: &Heap| {
        ["w0", "w1", "w2"].map(|name| (name.to_string(), heap.refcount(heap.get(name))))
    };

    cycles::clear_weakrefs_to_garbage(&mut heap, unreachable, wrcb);
    reference::clear_weakrefs_to_garbage(&mut theirs, tu, twrcb);

    assert_expected(
        "what happened: the first pass calls no callback",
        &Vec::<String>::new(),
        &names.events(heap.events()),
    );
    // o's weaklist is [w0, g.w, w2, w1]: the basic ref first, then the newest callback first.
    assert_expected(
        "wrcb_to_call afterwards: the weakrefs to garbage that have a callback and are not \
         garbage themselves, in the order they were cleared (o's weaklist: w0, g.w, w2, w1; w0 \
         has no callback, g.w is garbage)",
        &words(&["w2", "w1"]),
        &names.list(&heap, wrcb),
    );
    assert_expected(
        "(weakref, count) afterwards: one more for each weakref set aside, so that no callback \
         can free it before its turn (the names w1 and w2, plus yours); w0 keeps its name's",
        &[("w0", 1), ("w1", 2), ("w2", 2)].map(|(name, count)| (name.to_string(), count)),
        &counts(&heap),
    );
    for name in ["w0", "w1", "w2"] {
        assert_expected(
            &format!("{name}(): every weakref to garbage is cleared"),
            &None,
            &heap.weakref_referent(heap.get(name)),
        );
    }
    assert_expected(
        "unreachable afterwards: the garbage stays where it is",
        &garbage,
        &names.list(&heap, unreachable),
    );
    assert_same_heap(&names, &theirs, &heap, "clear_weakrefs_to_garbage");
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
        heap.assign_new_weakref("w1", o, Some(Callback::new([log("cb1")])));
        heap.assign_new_weakref("w2", o, Some(Callback::new([log("cb2")])));
        heap.assign_new_weakref("w0", o, None);
        let names = Names::bound(heap);
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old)
    };
    let ((mut heap, (names, unreachable, old)), (mut theirs, (_, tu, told))) = twins(prepare);

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    // o's weaklist is [w0, w2, w1]: the basic ref first, then the newest callback first.
    assert_expected(
        "what happened: the callbacks of the reachable weakrefs run, in weaklist order (w0, w2, \
         w1: w0 has none)",
        &words(&[
            "callback of w2",
            "print: cb2",
            "callback of w1",
            "print: cb1",
        ]),
        &names.events(heap.events()),
    );
    assert_expected(
        "what handle_weakrefs returned: both weakrefs still have their names, so none died",
        &0,
        &freed,
    );
    assert_same("what handle_weakrefs returned", &their_freed, &freed);
    assert_expected(
        "old afterwards: a weakref whose callback ran, and which lives, moves there",
        &words(&["w2", "w1"]),
        &names.list(&heap, old),
    );
    for name in ["w0", "w1", "w2"] {
        let wr = heap.get(name);
        assert_expected(&format!("{name}()"), &None, &heap.weakref_referent(wr));
        assert_expected(
            &format!(
                "the count of {name}: its name's only; the reference taken to keep it alive \
                 during its callback was given back"
            ),
            &1,
            &heap.refcount(wr),
        );
    }
    assert_expected(
        "unreachable afterwards: the garbage stays where it is",
        &words(&["o"]),
        &names.list(&heap, unreachable),
    );
    assert_same_heap(&names, &theirs, &heap, "handle_weakrefs");
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
        heap.assign_new_weakref("k", o, Some(Callback::new([log("kept")])));
        let names = Names::bound(heap);
        heap.del("o");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old, w)
    };
    let ((mut heap, (names, unreachable, old, w)), (mut theirs, (_, tu, told, _))) = twins(prepare);

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_expected(
        "what handle_weakrefs returned: w died when its callback returned; it was reachable, so \
         the collection had not counted it yet, and counts it now",
        &1,
        &freed,
    );
    assert_same("what handle_weakrefs returned", &their_freed, &freed);
    assert!(
        !heap.is_alive(w),
        "w is still alive after its callback deleted its only name"
    );
    assert_expected(
        "what happened",
        &words(&["callback of k", "print: kept", "callback of w", "w freed"]),
        &names.events(heap.events()),
    );
    assert_expected(
        "old afterwards: only the weakref that survived",
        &words(&["k"]),
        &names.list(&heap, old),
    );
    assert_same_heap(&names, &theirs, &heap, "handle_weakrefs");
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
        heap.assign_new_weakref("w1", o1, Some(Callback::new([Action::Unbind("w2".into())])));
        heap.assign_new_weakref("w2", o2, Some(Callback::new([log("cb2")])));
        let names = Names::bound(heap);
        heap.del("o1");
        heap.del("o2");
        let unreachable = reference_unreachable(heap);
        let old = heap.gc_list_new();
        (names, unreachable, old)
    };
    let ((mut heap, (names, unreachable, old)), (mut theirs, (_, tu, told))) = twins(prepare);

    let freed = cycles::handle_weakrefs(&mut heap, unreachable, old);
    let their_freed = reference::handle_weakrefs(&mut theirs, tu, told);

    assert_expected(
        "what happened: every weakref to garbage is cleared and held before any callback runs; \
         cb1 deletes the name w2, but the collector's own reference keeps w2 alive until its \
         callback ran",
        &words(&["callback of w1", "callback of w2", "print: cb2", "w2 freed"]),
        &names.events(heap.events()),
    );
    assert_expected(
        "what handle_weakrefs returned: w2 died after its callback",
        &1,
        &freed,
    );
    assert_same("what handle_weakrefs returned", &their_freed, &freed);
    assert_expected("old afterwards", &words(&["w1"]), &names.list(&heap, old));
    assert_same_heap(&names, &theirs, &heap, "handle_weakrefs");
}

// ---------------------------------------------------------------------------------------------
// finalize_garbage
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
        let names = Names::bound(heap);
        for name in ["b", "l", "a", "n", "done", "b2"] {
            heap.del(name);
        }
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[b, l, a, n, done, b2]);
        (names, garbage, [b, l, a, n, done, b2])
    };
    let ((mut heap, (names, garbage, ids)), (mut theirs, (_, their_garbage, _))) = twins(prepare);
    let order = names.list(&heap, garbage);

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);

    assert_expected(
        "what happened: each pending __del__ runs once, in list order (b, l, a, n, done, b2); l \
         and n have no __del__, and done's already ran (gc.is_finalized(done) was True)",
        &words(&[
            "__del__ of b",
            "print: B",
            "__del__ of a",
            "print: A",
            "__del__ of b2",
            "print: B",
        ]),
        &names.events(heap.events()),
    );
    assert_expected(
        "(object, gc.is_finalized) afterwards: true for every object whose __del__ ran, and for \
         done; false for l and n, which have none",
        &[
            ("b", true),
            ("l", false),
            ("a", true),
            ("n", false),
            ("done", true),
            ("b2", true),
        ]
        .map(|(name, finalized)| (name.to_string(), finalized)),
        &ids.map(|id| (names.of(&heap, id), heap.is_finalized(id))),
    );
    assert_expected(
        "the list afterwards: the same objects, in the same order",
        &order,
        &names.list(&heap, garbage),
    );
    assert_same_heap(&names, &theirs, &heap, "finalize_garbage");

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);
    assert_expected(
        "how many things had happened after a second finalize_garbage on the same list: every \
         finalizer already ran, so it calls nothing",
        &6,
        &heap.events().len(),
    );
    assert_same_heap(&names, &theirs, &heap, "a second finalize_garbage");
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
        let names = Names::bound(heap);
        heap.del("k");
        heap.del("z");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[k, victim, z]);
        (names, garbage, victim)
    };
    let ((mut heap, (names, garbage, victim)), (mut theirs, (_, their_garbage, _))) =
        twins(prepare);

    cycles::finalize_garbage(&mut heap, garbage);
    reference::finalize_garbage(&mut theirs, their_garbage);

    assert_expected(
        "what happened: k's __del__ deletes the name victim, which dies by reference counting \
         (its own __del__ runs then, once); the loop must go on with z, and never touch victim \
         again",
        &words(&[
            "__del__ of k",
            "__del__ of victim",
            "print: V",
            "victim freed",
            "__del__ of z",
            "print: V",
        ]),
        &names.events(heap.events()),
    );
    assert!(!heap.is_alive(victim), "victim is still alive");
    assert_expected(
        "the list afterwards: victim left it when it died",
        &words(&["k", "z"]),
        &names.list(&heap, garbage),
    );
    assert_same_heap(&names, &theirs, &heap, "finalize_garbage");
}

#[test]
fn finalize_garbage_holds_a_reference_while_a_del_runs() {
    // class A:
    //     def __del__(self): print("A.__del__ starts"); del self.partner; print("A.__del__ ends")
    // class B:
    //     def __del__(self): print("B.__del__")
    // a = A(); b = B(); a.partner = b; b.partner = a; del a, b
    // The list is [a, b]. `del self.partner` breaks the cycle from inside: b dies at once, by
    // reference counting, and with it b's reference to a. CPython 3.11 prints "A.__del__
    // starts", "B.__del__", "A.__del__ ends", and a dies after its __del__ has returned.
    let prepare = |heap: &mut Heap| {
        let class_a = class_with_del(
            heap,
            "A",
            vec![
                log("A.__del__ starts"),
                Action::DelSelfAttr("partner".into()),
                log("A.__del__ ends"),
            ],
        );
        let class_b = class_with_del(heap, "B", vec![log("B.__del__")]);
        let a = heap.assign_new_instance("a", class_a);
        let b = heap.assign_new_instance("b", class_b);
        heap.set_attr(a, "partner", b);
        heap.set_attr(b, "partner", a);
        let names = Names::bound(heap);
        heap.del("a");
        heap.del("b");
        let garbage = heap.gc_list_new();
        move_to(heap, garbage, &[a, b]);
        (names, garbage, [a, b])
    };
    let ((mut heap, (names, garbage, [a, b])), (mut theirs, (_, their_garbage, _))) =
        twins(prepare);

    // pyheap names a dead object by its serial: say `a` and `b`, as the scenario does.
    let (serial_a, serial_b) = (heap.serial(a), heap.serial(b));
    if let Err(why) = testkit::catch(|| cycles::finalize_garbage(&mut heap, garbage)) {
        let why = match why.split_once(": ") {
            Some((place, words)) if place.starts_with("panicked at") => words,
            _ => &why,
        };
        panic!(
            "{}",
            why.replace(&format!("object #{serial_a} "), "a ")
                .replace(&format!("object #{serial_b} "), "b ")
        );
    }
    reference::finalize_garbage(&mut theirs, their_garbage);

    assert_expected(
        "what happened: a's __del__ breaks the cycle, so b dies inside it (b's own __del__ runs \
         then) and drops the last reference to a that the garbage held; a must still be alive \
         for the rest of its __del__, and die when the call is over",
        &words(&[
            "__del__ of a",
            "print: A.__del__ starts",
            "__del__ of b",
            "print: B.__del__",
            "b freed",
            "print: A.__del__ ends",
            "a freed",
        ]),
        &names.events(heap.events()),
    );
    assert!(
        !heap.is_alive(a) && !heap.is_alive(b),
        "a or b is still alive"
    );
    assert_expected(
        "the list afterwards: both left it when they died",
        &words(&[]),
        &names.list(&heap, garbage),
    );
    assert_same_heap(&names, &theirs, &heap, "finalize_garbage");
}

// ---------------------------------------------------------------------------------------------
// handle_resurrected_objects
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
        let names = Names::bound(heap);
        for name in ["p", "x", "y", "z", "g", "h"] {
            heap.del(name);
        }
        let unreachable = reference_unreachable(heap);
        reference::finalize_garbage(heap, unreachable);
        let still = heap.gc_list_new();
        let old = heap.gc_list_new();
        (names, [unreachable, still, old], p)
    };
    let ((mut heap, (names, [unreachable, still, old], p)), (mut theirs, (_, [tu, ts, told], _))) =
        twins(prepare);
    assert_expected(
        "the test's setup: saved, bound by p's __del__",
        &Some("p".to_string()),
        &heap.lookup("saved").map(|id| names.of(&heap, id)),
    );
    assert_expected(
        "the test's setup: unreachable",
        &6,
        &heap.gc_list_len(unreachable),
    );

    cycles::handle_resurrected_objects(&mut heap, unreachable, still, old);
    reference::handle_resurrected_objects(&mut theirs, tu, ts, told);

    let mut survivors = names.list(&heap, old);
    survivors.sort_unstable();
    assert_expected(
        "old afterwards, sorted: p is reachable again (the name saved), and so is all it \
         reaches, x, y and z",
        &words(&["p", "x", "y", "z"]),
        &survivors,
    );
    assert_expected(
        "still_unreachable afterwards: what nothing resurrected",
        &words(&["g", "h"]),
        &names.list(&heap, still),
    );
    assert!(
        heap.gc_list_is_empty(unreachable),
        "unreachable must be empty afterwards"
    );
    assert!(heap.is_alive(p));
    assert_same_heap(&names, &theirs, &heap, "handle_resurrected_objects");
}
