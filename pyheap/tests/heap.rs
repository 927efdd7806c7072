//! pyheap's own tests: reference counts, deaths in CPython's order (finalizers, weakrefs),
//! tracking and the GC lists, traverse and clear. Where a test encodes CPython behaviour, the
//! comment names the CPython function, and the output of a real CPython 3.11.7 run where one
//! was made.

use pretty_assertions::assert_eq;
use pyheap::{Action, Callback, Event, Finalizer, GcLink, GcList, Heap, Kind, ObjId};

fn destroyed(heap: &Heap) -> Vec<u64> {
    heap.events()
        .iter()
        .filter_map(|e| match e {
            Event::Destroyed(s) => Some(*s),
            _ => None,
        })
        .collect()
}

fn log(text: &str) -> Action {
    Action::Log(text.to_string())
}

fn serials(heap: &Heap, ids: &[ObjId]) -> Vec<u64> {
    ids.iter().map(|&id| heap.serial(id)).collect()
}

// Reference counts.

#[test]
fn new_heap_holds_only_none_and_the_empty_tuple() {
    let heap = Heap::new();
    assert_eq!(heap.live_objects(), 2);
    assert_eq!(heap.kind(heap.none()), &Kind::None);
    assert_eq!(heap.gc_counts(), [0, 0, 0]);
    assert!(!heap.is_tracked(heap.none()));
    heap.assert_invariants();
}

#[test]
fn bind_and_del_move_the_count() {
    let mut heap = Heap::new();
    let list = heap.new_list();
    heap.bind("a", list);
    heap.bind("b", list);
    assert_eq!(heap.refcount(list), 3);
    heap.decref(list);
    heap.del("a");
    assert_eq!(heap.refcount(list), 1);
    heap.assert_invariants();
    heap.del("b");
    assert!(!heap.is_alive(list));
    heap.assert_invariants();
}

#[test]
fn append_setitem_setattr_take_references() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let item = heap.assign_int("i", 7);
    let list = heap.assign_new_list("l");
    let dict = heap.assign_new_dict("d");
    let obj = heap.assign_new_instance("o", c);
    heap.list_append(list, item);
    heap.dict_set(dict, item, item);
    heap.set_attr(obj, "x", item);
    // The name, the list, the dict's key and value, the attribute.
    assert_eq!(heap.refcount(item), 5);
    let other = heap.assign_int("j", 8);
    heap.list_set(list, 0, other);
    heap.set_attr(obj, "x", other);
    assert_eq!(heap.refcount(item), 3);
    heap.dict_del(dict, item);
    assert_eq!(heap.refcount(item), 1);
    heap.assert_invariants();
}

#[test]
fn a_call_holds_its_arguments() {
    let mut heap = Heap::new();
    let list = heap.assign_new_list("x");
    let seen = heap.call(&[list, list], |heap, args| {
        heap.del("x");
        heap.refcount(args[0])
    });
    assert_eq!(seen, 2);
    assert!(!heap.is_alive(list));
    assert_eq!(heap.getrefcount(heap.none()), 2);
}

#[test]
fn using_a_destroyed_object_panics_with_its_serial() {
    let mut heap = Heap::new();
    let list = heap.new_list();
    heap.decref(list);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| heap.refcount(list)))
        .expect_err("a stale handle must panic");
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("object #2 (a list) was already destroyed"),
        "{message}"
    );
}

#[test]
#[should_panic(expected = "deallocating None")]
fn none_is_never_destroyed() {
    let mut heap = Heap::new();
    let none = heap.none();
    heap.decref(none);
}

#[test]
fn empty_tuple_is_a_singleton_and_not_an_allocation() {
    // CPython 3.11.7: `tuple() is ()` is True and `gc.is_tracked(())` is False.
    let mut heap = Heap::new();
    let a = heap.new_tuple(&[]);
    let b = heap.new_tuple(&[]);
    assert_eq!(a, b);
    assert_eq!(heap.refcount(a), 3);
    assert!(!heap.is_tracked(a));
    assert_eq!(heap.gc_counts()[0], 0);
    heap.decref(a);
    heap.decref(b);
    heap.assert_invariants();
}

// Destruction.

#[test]
fn destruction_cascades_in_cpython_order() {
    // list_dealloc releases items from the last to the first; a dict releases key then value.
    let mut heap = Heap::new();
    let outer = heap.assign_new_list("l"); // #2
    let a = heap.new_int(1); // #3
    let inner = heap.new_list(); // #4
    let s = heap.new_str("s"); // #5
    heap.list_append(inner, s);
    heap.list_append(outer, a);
    heap.list_append(outer, inner);
    for id in [a, inner, s] {
        heap.decref(id);
    }
    heap.del("l");
    assert_eq!(destroyed(&heap), [2, 4, 5, 3]);
    assert_eq!(heap.live_objects(), 2);
    heap.assert_invariants();
}

#[test]
fn chain_of_a_million_lists_is_destroyed_without_overflow() {
    let mut heap = Heap::new();
    let mut last = heap.new_list();
    heap.bind("head", last);
    heap.decref(last);
    for _ in 0..1_000_000 {
        let next = heap.new_list();
        heap.list_append(last, next);
        heap.decref(next);
        last = next;
    }
    assert_eq!(heap.gc_list_len(GcList::GEN0), 1_000_001);
    heap.del("head");
    assert_eq!(heap.live_objects(), 2);
    assert_eq!(heap.gc_list_len(GcList::GEN0), 0);
    assert_eq!(heap.gc_counts()[0], 0);
}

#[test]
fn a_cycle_leaks() {
    // What lab 03 collects: reference counting alone never frees a cycle.
    let mut heap = Heap::new();
    let a = heap.assign_new_list("a");
    let b = heap.assign_new_list("b");
    heap.list_append(a, b);
    heap.list_append(b, a);
    heap.del("a");
    heap.del("b");
    assert!(heap.is_alive(a) && heap.is_alive(b));
    assert_eq!((heap.refcount(a), heap.refcount(b)), (1, 1));
    assert_eq!(heap.gc_list_objects(GcList::GEN0), [a, b]);
    heap.assert_invariants();
}

// Finalizers (PEP 442, subtype_dealloc).

#[test]
fn del_runs_once_at_refcount_death_before_weakrefs_and_release() {
    // CPython 3.11.7: `class E: __del__ prints`; `w = weakref.ref(e, cb)`; `del e` prints
    // "__del__ E" then "cb e True": tp_finalize, then PyObject_ClearWeakRefs.
    let mut heap = Heap::new();
    let e = heap.new_class("E", Some(Finalizer::new([log("__del__ E")])));
    let obj = heap.assign_new_instance("e", e); // #2
    let item = heap.new_int(1); // #3
    heap.set_attr(obj, "x", item);
    heap.decref(item);
    heap.assign_new_weakref("w", obj, Some(Callback::new([log("cb e")]))); // #4
    heap.take_events();
    heap.del("e");
    assert_eq!(
        heap.take_events(),
        [
            Event::Finalized(2),
            Event::Log("__del__ E".into()),
            Event::CallbackCalled(4),
            Event::Log("cb e".into()),
            Event::Destroyed(2),
            Event::Destroyed(3),
        ]
    );
    assert_eq!(heap.weakref_referent(heap.get("w")), None);
    heap.assert_invariants();
}

#[test]
fn resurrecting_del_keeps_the_object_alive_and_finalized() {
    // CPython 3.11.7: inside __del__, gc.is_finalized(self) is False and gc.is_tracked(self)
    // is True; after `saved.append(self)` the object lives, is_finalized is True, and its
    // weakref still returns it. `saved.clear()` then kills it without a second __del__; the
    // weakref's callback is called at that second death ("cb d").
    let mut heap = Heap::new();
    let d = heap.new_class(
        "D",
        Some(Finalizer::new([Action::AppendSelfTo("saved".into())])),
    );
    let saved = heap.assign_new_list("saved");
    let obj = heap.assign_new_instance("d", d);
    let serial = heap.serial(obj);
    let w = heap.assign_new_weakref("w", obj, Some(Callback::new([log("cb d")])));
    heap.take_events();
    heap.del("d");
    assert_eq!(
        heap.take_events(),
        [Event::Finalized(serial), Event::Resurrected(serial)]
    );
    assert!(heap.is_alive(obj));
    assert!(heap.is_finalized(obj));
    assert_eq!(heap.refcount(obj), 1);
    // Re-tracked before tp_finalize by subtype_dealloc: it is now at the tail of generation 0.
    assert_eq!(heap.gc_list_of(obj), Some(GcList::GEN0));
    assert_eq!(heap.gc_list_last(GcList::GEN0), Some(obj));
    assert_eq!(heap.weakref_referent(w), Some(obj));
    heap.assert_invariants();
    heap.list_pop(saved);
    heap.decref(obj);
    assert_eq!(
        heap.take_events(),
        [
            Event::CallbackCalled(heap.serial(w)),
            Event::Log("cb d".into()),
            Event::Destroyed(serial)
        ]
    );
    heap.assert_invariants();
}

#[test]
fn bind_self_resurrection_then_second_death_skips_del() {
    let mut heap = Heap::new();
    let c = heap.new_class(
        "C",
        Some(Finalizer::new([Action::BindSelf("again".into())])),
    );
    let obj = heap.assign_new_instance("x", c);
    let serial = heap.serial(obj);
    heap.del("x");
    assert_eq!(heap.get("again"), obj);
    heap.take_events();
    heap.del("again");
    assert_eq!(heap.take_events(), [Event::Destroyed(serial)]);
    heap.assert_invariants();
}

#[test]
fn a_raising_del_stops_its_body_and_the_object_dies() {
    // CPython prints "Exception ignored in: <function C.__del__ ...>" and goes on.
    let mut heap = Heap::new();
    let c = heap.new_class(
        "C",
        Some(Finalizer::new([
            Action::Unbind("nope".into()),
            log("not reached"),
        ])),
    );
    let obj = heap.assign_new_instance("x", c);
    heap.take_events();
    heap.del("x");
    assert_eq!(
        heap.take_events(),
        [
            Event::Finalized(2),
            Event::ExceptionIgnored(2, "NameError: name 'nope' is not defined".into()),
            Event::Destroyed(2)
        ]
    );
    assert!(!heap.is_alive(obj));
}

#[test]
fn tp_finalize_runs_del_every_time_and_leaves_the_flag_to_the_caller() {
    // A collector's finalize_garbage keeps a __del__ to one run: tp_finalize is only the slot.
    let mut heap = Heap::new();
    let c = heap.new_class("C", Some(Finalizer::new([log("del")])));
    let obj = heap.assign_new_instance("x", c);
    let plain = heap.new_class("P", None);
    let p = heap.assign_new_instance("p", plain);
    let l = heap.assign_new_list("l");
    heap.take_events();
    assert!(heap.has_finalizer(obj));
    assert!(
        !heap.has_finalizer(p),
        "a class without __del__ has no tp_finalize"
    );
    assert!(!heap.has_finalizer(l), "a list has no tp_finalize");
    heap.tp_finalize(obj);
    assert!(
        !heap.is_finalized(obj),
        "tp_finalize does not set the FINALIZED flag"
    );
    heap.tp_finalize(obj);
    heap.set_finalized(obj);
    heap.del("x");
    assert_eq!(
        heap.take_events(),
        [
            Event::Finalized(2),
            Event::Log("del".into()),
            Event::Finalized(2),
            Event::Log("del".into()),
            Event::Destroyed(2)
        ],
        "two calls run __del__ twice; the death, which finds the flag set, runs it no more"
    );
}

#[test]
#[should_panic(expected = "has no tp_finalize")]
fn tp_finalize_of_an_object_without_del_panics() {
    let mut heap = Heap::new();
    let l = heap.assign_new_list("l");
    heap.tp_finalize(l);
}

// Weak references.

#[test]
fn callbacks_run_newest_first_after_all_weakrefs_are_cleared() {
    // CPython 3.11.7: r1, r2, r3 = weakref.ref(o, cb) each; del o prints cb r3, cb r2, cb r1.
    // weakref___new__ inserts each after the basic ref; PyObject_ClearWeakRefs clears them all,
    // then calls the callbacks in list order.
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let obj = heap.assign_new_instance("o", c);
    let r1 = heap.assign_new_weakref("r1", obj, Some(Callback::new([log("cb r1")])));
    let r2 = heap.assign_new_weakref("r2", obj, Some(Callback::new([log("cb r2")])));
    let basic = heap.assign_new_weakref("b", obj, None);
    let r3 = heap.assign_new_weakref("r3", obj, Some(Callback::new([log("cb r3")])));
    assert_eq!(heap.weakrefs_to(obj), [basic, r3, r2, r1]);
    heap.take_events();
    heap.del("o");
    let logs: Vec<Event> = heap
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Log(_)))
        .collect();
    assert_eq!(
        logs,
        [
            Event::Log("cb r3".into()),
            Event::Log("cb r2".into()),
            Event::Log("cb r1".into())
        ]
    );
    for wr in [r1, r2, r3, basic] {
        assert_eq!(heap.weakref_referent(wr), None);
        assert!(heap.weakref_callback(wr).is_none());
    }
    heap.assert_invariants();
}

#[test]
fn a_weakref_without_callback_is_shared() {
    // CPython 3.11.7: `weakref.ref(o) is weakref.ref(o)` is True.
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let obj = heap.assign_new_instance("o", c);
    let a = heap.new_weakref(obj, None);
    let b = heap.new_weakref(obj, None);
    assert_eq!(a, b);
    assert_eq!(heap.refcount(a), 2);
    assert_eq!(heap.refcount(obj), 1);
    heap.decref(a);
    heap.decref(b);
    assert!(heap.weakrefs_to(obj).is_empty());
    heap.assert_invariants();
}

#[test]
fn callback_not_called_when_the_weakref_died_first() {
    // CPython 3.11.7: `r = weakref.ref(o, cb); del r; del o` prints nothing.
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let obj = heap.assign_new_instance("o", c);
    heap.assign_new_weakref("r", obj, Some(Callback::new([log("never")])));
    heap.del("r");
    assert!(heap.weakrefs_to(obj).is_empty());
    heap.take_events();
    heap.del("o");
    assert_eq!(heap.take_events(), [Event::Destroyed(2)]);
}

#[test]
fn a_callback_gets_the_weakref_and_can_keep_it() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let obj = heap.assign_new_instance("o", c);
    let wr = heap.new_weakref(obj, Some(Callback::new([Action::BindSelf("kept".into())])));
    heap.del("o");
    // Only the callback's binding keeps the weakref alive now: we still hold our reference.
    assert_eq!(heap.get("kept"), wr);
    assert_eq!(heap.refcount(wr), 2);
    heap.decref(wr);
    heap.assert_invariants();
}

#[test]
#[should_panic(expected = "cannot create weak reference to 'list' object")]
fn only_instances_can_be_weakly_referenced() {
    let mut heap = Heap::new();
    let list = heap.assign_new_list("l");
    heap.new_weakref(list, None);
}

#[test]
fn weakref_helpers_for_handle_weakrefs() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let obj = heap.assign_new_instance("o", c);
    let wr = heap.assign_new_weakref("w", obj, Some(Callback::new([log("cb")])));
    heap.clear_weakref(wr);
    assert_eq!(heap.weakref_referent(wr), None);
    assert!(heap.weakrefs_to(obj).is_empty());
    assert!(heap.weakref_callback(wr).is_some());
    heap.take_events();
    assert!(heap.call_weakref_callback(wr));
    assert_eq!(
        heap.take_events(),
        [Event::CallbackCalled(3), Event::Log("cb".into())]
    );
    assert!(heap.clear(wr));
    assert!(heap.weakref_callback(wr).is_none());
    heap.assert_invariants();
}

// Tracking.

#[test]
fn atoms_are_never_tracked() {
    let mut heap = Heap::new();
    let i = heap.assign_int("i", 1);
    let s = heap.assign_str("s", "x");
    for id in [i, s, heap.none()] {
        assert!(!heap.is_tracked(id));
        assert!(!heap.may_be_tracked(id));
    }
    assert_eq!(heap.gc_counts()[0], 0);
}

#[test]
fn containers_are_tracked_at_creation_in_generation_0_in_order() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let l = heap.assign_new_list("l");
    let o = heap.assign_new_instance("o", c);
    let one = heap.assign_int("one", 1);
    let t = heap.assign_new_tuple("t", &[one]);
    let d = heap.assign_new_dict("d");
    let w = heap.assign_new_weakref("w", o, None);
    assert_eq!(heap.gc_list_objects(GcList::GEN0), [l, o, t, w]);
    assert!(!heap.is_tracked(d));
    // count0 counts every GC allocation, tracked or not (_PyObject_GC_Link).
    assert_eq!(heap.gc_counts(), [5, 0, 0]);
    heap.assert_invariants();
}

#[test]
fn tuple_untracked_only_when_all_items_are_untracked() {
    // CPython 3.11.7: `t = tuple([1, 2])` is tracked; after gc.collect(0) it is not
    // (_PyTuple_MaybeUntrack in untrack_tuples). A tuple holding a list stays tracked.
    let mut heap = Heap::new();
    let one = heap.assign_int("one", 1);
    let t = heap.assign_new_tuple("t", &[one, one]);
    assert!(heap.is_tracked(t));
    assert!(heap.maybe_untrack_tuple(t));
    assert!(!heap.is_tracked(t));
    assert!(!heap.maybe_untrack_tuple(t));
    let l = heap.assign_new_list("l");
    let u = heap.assign_new_tuple("u", &[one, l]);
    assert!(!heap.maybe_untrack_tuple(u));
    assert!(heap.is_tracked(u));
    heap.assert_invariants();
}

#[test]
fn nested_tuples_can_take_two_passes() {
    // cpython-facts §5: untracking nested tuples "can take two collections": a pass that meets
    // the outer tuple before the inner one leaves the outer one tracked. (CPython 3.11.7 with
    // `inner = tuple([1, 2]); outer = tuple([inner])` untracks both in one gc.collect(0): the
    // list order there is inner first. This test walks them in the other order.)
    let mut heap = Heap::new();
    let one = heap.assign_int("one", 1);
    let inner = heap.assign_new_tuple("inner", &[one]);
    let outer = heap.assign_new_tuple("outer", &[inner]);
    let pass = |heap: &mut Heap| {
        for id in [outer, inner] {
            heap.maybe_untrack_tuple(id);
        }
    };
    pass(&mut heap);
    assert_eq!(
        (heap.is_tracked(inner), heap.is_tracked(outer)),
        (false, true)
    );
    pass(&mut heap);
    assert!(!heap.is_tracked(outer));
}

#[test]
fn dicts_untracked_until_a_container_is_inserted() {
    // CPython 3.11.7: d = {} False; d[1] = 2 False; d[2] = {} True; del d[2]; gc.collect(0)
    // True; gc.collect() False (MAINTAIN_TRACKING, _PyDict_MaybeUntrack in a full collection).
    // An untracked tuple inserted does not track the dict; a fresh tracked one does.
    let mut heap = Heap::new();
    let d = heap.assign_new_dict("d");
    let one = heap.assign_int("one", 1);
    let two = heap.assign_int("two", 2);
    heap.dict_set(d, one, two);
    assert!(!heap.is_tracked(d));
    let inner = heap.assign_new_dict("inner");
    heap.dict_set(d, two, inner);
    assert!(heap.is_tracked(d));
    heap.dict_del(d, two);
    assert!(heap.is_tracked(d));
    assert!(heap.maybe_untrack_dict(d));
    let t = heap.assign_new_tuple("t", &[one]);
    heap.maybe_untrack_tuple(t);
    heap.dict_set(d, two, t);
    assert!(!heap.is_tracked(d));
    let fresh = heap.assign_new_tuple("fresh", &[one]);
    heap.dict_set(d, one, fresh);
    assert!(heap.is_tracked(d));
    assert!(!heap.maybe_untrack_dict(d));
    heap.assert_invariants();
}

// Traverse and clear.

#[test]
fn traverse_order_is_cpythons() {
    // CPython 3.11.7: gc.get_referents([1, 2, 3]) == [3, 2, 1];
    // gc.get_referents({"a": 1, "b": 2}) == [1, 2]; gc.get_referents({1: "x", 2: "y"}) ==
    // ['x', 1, 'y', 2] (list_traverse, dict_traverse).
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let [a, b, x] = [heap.new_int(1), heap.new_int(2), heap.new_str("x")];
    let list = heap.assign_new_list("l");
    for id in [a, b, x] {
        heap.list_append(list, id);
    }
    assert_eq!(heap.referents(list), [x, b, a]);
    let t = heap.new_tuple(&[a, b]);
    assert_eq!(heap.referents(t), [b, a]);
    let strs = heap.assign_new_dict("strs");
    let k = heap.new_str("k");
    heap.dict_set(strs, k, a);
    assert_eq!(heap.referents(strs), [a]);
    let ints = heap.assign_new_dict("ints");
    heap.dict_set(ints, a, x);
    heap.dict_set(ints, b, k);
    assert_eq!(heap.referents(ints), [x, a, k, b]);
    let obj = heap.assign_new_instance("o", c);
    heap.set_attr(obj, "p", b);
    heap.set_attr(obj, "q", a);
    assert_eq!(heap.referents(obj), [b, a]);
    let wr = heap.assign_new_weakref("w", obj, Some(Callback::new([])));
    assert_eq!(heap.referents(wr), []);
    for id in [a, b, x, t, k] {
        heap.decref(id);
    }
    heap.assert_invariants();
}

#[test]
fn clear_per_type() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", None);
    let one = heap.assign_int("one", 1);
    let list = heap.assign_new_list("l");
    let item = heap.new_list();
    heap.list_append(list, one);
    heap.list_append(list, item);
    heap.decref(item);
    heap.take_events();
    assert!(heap.clear(list));
    assert_eq!(heap.len(list), 0);
    assert_eq!(destroyed(&heap), [heap.serial(list) + 1]);
    let t = heap.assign_new_tuple("t", &[one]);
    assert!(!heap.clear(t), "a tuple has no tp_clear");
    assert_eq!(heap.len(t), 1);
    let d = heap.assign_new_dict("d");
    heap.dict_set(d, one, one);
    assert!(heap.clear(d));
    assert_eq!(heap.referents(d), []);
    let obj = heap.assign_new_instance("o", c);
    heap.set_attr(obj, "x", one);
    assert!(heap.clear(obj));
    assert_eq!(heap.get_attr(obj, "x"), None);
    assert_eq!(heap.refcount(one), 2); // the name and the tuple
    assert!(!heap.clear(one));
    heap.assert_invariants();
}

#[test]
fn clearing_one_member_frees_a_cycle() {
    let mut heap = Heap::new();
    let a = heap.assign_new_list("a");
    let b = heap.assign_new_list("b");
    heap.list_append(a, b);
    heap.list_append(b, a);
    heap.del("a");
    heap.del("b");
    heap.incref(a); // as delete_garbage holds its object around tp_clear
    heap.clear(a);
    assert!(!heap.is_alive(b));
    heap.decref(a);
    assert_eq!(heap.live_objects(), 2);
    assert!(heap.gc_list_is_empty(GcList::GEN0));
}

// GC lists and counters.

#[test]
fn list_operations_keep_order() {
    let mut heap = Heap::new();
    let ids: Vec<ObjId> = (0..5)
        .map(|i| heap.assign_new_list(&format!("l{i}")))
        .collect();
    let young = heap.gc_list_new();
    heap.gc_list_move(ids[1], young);
    heap.gc_list_move(ids[3], young);
    assert_eq!(heap.gc_list_objects(GcList::GEN0), [ids[0], ids[2], ids[4]]);
    assert_eq!(heap.gc_list_next(ids[1]), Some(ids[3]));
    heap.gc_list_merge(GcList::GEN0, GcList::GEN1);
    heap.gc_list_merge(young, GcList::GEN1);
    assert_eq!(
        serials(&heap, &heap.gc_list_objects(GcList::GEN1)),
        serials(&heap, &[ids[0], ids[2], ids[4], ids[1], ids[3]])
    );
    assert_eq!(heap.gc_list_len(GcList::GEN1), 5);
    assert_eq!(heap.gc_list_first(GcList::GEN1), Some(ids[0]));
    heap.gc_list_release(young);
    heap.set_gc_refs(ids[0], -3);
    assert_eq!(heap.gc_refs(ids[0]), -3);
    heap.assert_invariants();
    assert!(
        heap.dump().contains("gen1: #2, #4, #6, #3, #5\n"),
        "{}",
        heap.dump()
    );
}

#[test]
fn allocation_counter_follows_cpython() {
    // _PyObject_GC_Link: count0 += 1 per GC allocation; PyObject_GC_Del: -1, clamped at 0.
    let mut heap = Heap::new();
    let l = heap.new_list();
    let d = heap.new_dict();
    heap.new_int(3);
    assert_eq!(heap.gc_counts()[0], 2);
    heap.gc_counts_mut()[0] = 0; // a collection resets it
    heap.gc_counts_mut()[1] = 1;
    heap.decref(l);
    heap.decref(d);
    assert_eq!(heap.gc_counts(), [0, 1, 0]);
}

#[test]
fn check_invariants_catches_a_decref_too_many() {
    let mut heap = Heap::new();
    let item = heap.new_list();
    let list = heap.assign_new_list("l");
    heap.list_append(list, item);
    heap.bind("x", item);
    heap.decref(item);
    heap.decref(item); // a decref too many: the list and the name hold 2, the count says 1
    let why = heap.check_invariants().expect_err("the count is too low");
    assert!(
        why.contains("has count 1, but 2 references to it are held"),
        "{why}"
    );
    heap.incref(item); // repaired, so that dropping the heap releases it cleanly
    heap.check_invariants().unwrap();
}

#[test]
fn dump_is_canonical() {
    let mut heap = Heap::new();
    let c = heap.new_class("C", Some(Finalizer::new([])));
    let l = heap.assign_new_list("l");
    heap.list_append(l, l);
    let o = heap.assign_new_instance("o", c);
    heap.assign_new_weakref("w", o, Some(Callback::new([])));
    heap.set_finalized(o);
    assert_eq!(
        heap.dump(),
        "#0 None (count 1)\n\
         #1 tuple () (count 1)\n\
         #2 list [#2] (count 2, gen0)\n\
         #3 C instance () (count 1, gen0, finalized, weakrefs #4)\n\
         #4 weakref -> #3 with callback (count 1, gen0)\n\
         names: l=#2 o=#3 w=#4\n\
         frames: none\n\
         gen0: #2, #3, #4\n\
         gen1:\n\
         gen2:\n\
         permanent:\n\
         counts: 3 0 0\n"
    );
}

// Free lists and the allocation hook (lab 04).

#[test]
fn heap_new_has_no_free_lists_and_counts_every_container() {
    let mut heap = Heap::new();
    assert_eq!(heap.free_lists(), None);
    for _ in 0..3 {
        let l = heap.new_list();
        heap.decref(l);
    }
    assert_eq!(heap.gc_counts(), [0, 0, 0]);
    let keep = heap.new_list();
    assert_eq!(heap.gc_counts(), [1, 0, 0]);
    heap.decref(keep);
    assert!(!heap.dump().contains("free lists"), "{}", heap.dump());
}

#[test]
fn free_lists_serve_lists_dicts_and_small_tuples_without_counting() {
    let mut heap = Heap::with_free_lists();
    let one = heap.new_int(1);
    let l = heap.new_list();
    let d = heap.new_dict();
    let t = heap.new_tuple(&[one]);
    assert_eq!(heap.gc_counts()[0], 3);
    for id in [l, d, t] {
        heap.decref(id);
    }
    // Three deaths, none counted: each went to its free list.
    assert_eq!(heap.gc_counts()[0], 3);
    let free = heap.free_lists().expect("free lists");
    assert_eq!((free.lists, free.dicts, free.tuples[0]), (1, 1, 1));
    assert!(
        heap.dump()
            .contains("free lists: list 1, dict 1, tuple(1) 1\n")
    );
    // Three allocations, none counted: each came from its free list.
    let l = heap.new_list();
    let d = heap.new_dict();
    let t = heap.new_tuple(&[one]);
    assert_eq!(heap.gc_counts()[0], 3);
    assert_eq!(heap.free_lists().expect("free lists").total(), 0);
    // A 2-tuple has a free list of its own, still empty.
    let two = heap.new_tuple(&[one, one]);
    assert_eq!(heap.gc_counts()[0], 4);
    for id in [l, d, t, two, one] {
        heap.decref(id);
    }
    heap.assert_invariants();
}

#[test]
fn a_free_list_holds_at_most_80_lists_and_the_rest_uncount() {
    let mut heap = Heap::with_free_lists();
    let lists: Vec<ObjId> = (0..100).map(|_| heap.new_list()).collect();
    assert_eq!(heap.gc_counts()[0], 100);
    for l in lists {
        heap.decref(l);
    }
    assert_eq!(heap.free_lists().expect("free lists").lists, 80);
    assert_eq!(heap.gc_counts()[0], 80);
}

#[test]
fn twenty_tuples_are_put_on_their_free_list_but_never_taken_from_it() {
    // CPython 3.11: maybe_freelist_pop takes sizes below PyTuple_MAXSAVESIZE (20),
    // maybe_freelist_push puts sizes up to 20.
    let mut heap = Heap::with_free_lists();
    let one = heap.new_int(1);
    let items = vec![one; 20];
    for _ in 0..5 {
        let t = heap.new_tuple(&items);
        heap.decref(t);
    }
    assert_eq!(heap.gc_counts()[0], 5);
    assert_eq!(heap.free_lists().expect("free lists").tuples[19], 5);
    let items = vec![one; 21];
    let t = heap.new_tuple(&items);
    heap.decref(t);
    assert_eq!(heap.gc_counts()[0], 5, "a 21-tuple has no free list");
    heap.decref(one);
}

#[test]
fn clear_free_lists_frees_what_they_hold_each_with_a_decrement() {
    let mut heap = Heap::with_free_lists();
    let lists: Vec<ObjId> = (0..5).map(|_| heap.new_list()).collect();
    for l in lists {
        heap.decref(l);
    }
    heap.gc_counts_mut()[0] = 3;
    heap.clear_free_lists();
    assert_eq!(
        heap.gc_counts()[0],
        0,
        "clamped at 0, as PyObject_GC_Del clamps"
    );
    assert_eq!(heap.free_lists().expect("free lists").total(), 0);
    let l = heap.new_list();
    assert_eq!(
        heap.gc_counts()[0],
        1,
        "the free list is empty: the next list counts"
    );
    heap.decref(l);
    let mut plain = Heap::new();
    plain.clear_free_lists();
    assert_eq!(plain.free_lists(), None);
}

/// A hook that records, at each call, `count0` and how many objects generation 0 holds.
#[derive(Default)]
struct Recorder {
    calls: Vec<(usize, usize)>,
}

impl GcLink for Recorder {
    fn gc_link(&mut self, heap: &mut Heap) {
        self.calls
            .push((heap.gc_counts()[0], heap.gc_list_len(GcList::GEN0)));
    }
}

#[test]
fn gc_link_runs_after_the_count_and_before_the_new_object_is_tracked() {
    let mut heap = Heap::new();
    let mut hook = Recorder::default();
    let c = heap.new_class("C", None);
    let l = heap.new_list_with(&mut hook);
    let o = heap.new_instance_with(c, &mut hook);
    let t = heap.new_tuple_with(&[l], &mut hook);
    let d = heap.new_dict_with(&mut hook);
    let w = heap.new_weakref_with(o, Some(Callback::new([])), &mut hook);
    // Each call sees its own allocation counted, and generation 0 without the new object.
    assert_eq!(hook.calls, [(1, 0), (2, 1), (3, 2), (4, 3), (5, 3)]);
    assert_eq!(heap.gc_list_objects(GcList::GEN0), [l, o, t, w]);
    assert_eq!(heap.weakrefs_to(o), [w]);
    let i = heap.new_int(7);
    let empty = heap.new_tuple_with(&[], &mut hook);
    assert_eq!(
        hook.calls.len(),
        5,
        "atoms and the empty tuple are not GC allocations"
    );
    for id in [w, d, t, o, l, i, empty] {
        heap.decref(id);
    }
    heap.assert_invariants();
}

#[test]
fn gc_link_is_not_called_when_a_free_list_serves_the_allocation() {
    let mut heap = Heap::with_free_lists();
    let mut hook = Recorder::default();
    let l = heap.new_list_with(&mut hook);
    heap.decref(l);
    let l = heap.new_list_with(&mut hook);
    assert_eq!(hook.calls, [(1, 0)]);
    heap.decref(l);
}
