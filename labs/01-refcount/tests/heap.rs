//! Graded tests for lab 01, part (b): the object heap (`src/heap/`).
//!
//! Each test builds its own heap, acts like a small Python program, and checks exact counts.
//! Destruction is witnessed through the heap's hooks: the [`Witness`] below logs the serial number
//! of every object destroyed, so a test can prove that each one was destroyed exactly once (never
//! twice, never zero times), in CPython's order, even after the heap itself is gone.
//!
//! The last test runs seeded random programs on your heap and on the reference solution side by
//! side, comparing their dumps after every step.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc as StdRc;

use pretty_assertions::assert_eq;
use refcount::{Heap, HeapHooks, Kind, ObjId};
use testkit::{XorShift64, catch, check_programs};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Hooks that log the serial of every object allocated and destroyed. Clones share the log, so
/// the test keeps one clone and can read it after the heap is dropped.
#[derive(Clone, Default)]
struct Witness {
    log: StdRc<RefCell<Log>>,
}

#[derive(Default)]
struct Log {
    allocated: Vec<u64>,
    destroyed: Vec<u64>,
}

impl Witness {
    /// Serials of the objects destroyed so far, in the order they were destroyed.
    fn destroyed(&self) -> Vec<u64> {
        self.log.borrow().destroyed.clone()
    }

    /// How many times the object with this serial was destroyed (0 or 1 in a correct heap).
    fn times_destroyed(&self, serial: u64) -> usize {
        self.log
            .borrow()
            .destroyed
            .iter()
            .filter(|&&s| s == serial)
            .count()
    }

    /// Serials of the objects destroyed since the last call, sorted.
    fn take_destroyed_sorted(&self) -> Vec<u64> {
        let mut taken = std::mem::take(&mut self.log.borrow_mut().destroyed);
        taken.sort_unstable();
        taken
    }

    /// How many objects were allocated.
    fn allocated(&self) -> usize {
        self.log.borrow().allocated.len()
    }
}

impl refcount::HeapHooks for Witness {
    fn allocated(&mut self, _id: refcount::ObjId, object: &refcount::Object) {
        self.log.borrow_mut().allocated.push(object.serial());
    }

    fn deallocated(&mut self, _id: refcount::ObjId, object: &refcount::Object) {
        self.log.borrow_mut().destroyed.push(object.serial());
    }
}

impl reference::HeapHooks for Witness {
    fn allocated(&mut self, _id: reference::ObjId, object: &reference::Object) {
        self.log.borrow_mut().allocated.push(object.serial());
    }

    fn deallocated(&mut self, _id: reference::ObjId, object: &reference::Object) {
        self.log.borrow_mut().destroyed.push(object.serial());
    }
}

/// A heap whose destructions are witnessed, and the witness.
fn witnessed_heap() -> (Heap<Witness>, Witness) {
    let witness = Witness::default();
    (Heap::with_hooks(witness.clone()), witness)
}

/// `name = <a new object>` as the interpreter runs it: `make` returns a new reference (the value
/// on the evaluation stack), the name takes a reference of its own (`STORE_NAME`), and the new
/// reference is given up. Returns the object as a borrowed reference, kept alive by the name.
fn store<H: HeapHooks>(
    heap: &mut Heap<H>,
    name: &str,
    make: impl FnOnce(&mut Heap<H>) -> ObjId,
) -> ObjId {
    let new = make(heap);
    heap.bind(name, new);
    heap.decref(new);
    new
}

/// Fails the test with the broken invariant, in words.
#[track_caller]
fn assert_invariants<H: HeapHooks>(heap: &Heap<H>) {
    if let Err(why) = heap.check_invariants() {
        panic!("check_invariants: {why}\nthe heap:\n{}", heap.dump());
    }
}

// ---------------------------------------------------------------------------------------------
// Objects, incref and decref
// ---------------------------------------------------------------------------------------------

#[test]
fn new_object_has_count_one() {
    let (mut heap, witness) = witnessed_heap();
    let seven = heap.new_int(7);
    assert_eq!(
        heap.refcount(seven),
        1,
        "a constructor returns a new reference: count 1, owned by the caller"
    );
    assert_eq!(heap.live_objects(), 1);
    heap.decref(seven);
    assert!(
        !heap.is_alive(seven),
        "giving up the only reference must destroy the object"
    );
    assert_eq!(
        witness.destroyed(),
        vec![0],
        "the int (serial 0) is destroyed once"
    );
    assert_eq!(heap.live_objects(), 0);
    assert_invariants(&heap);
}

#[test]
fn incref_and_decref_move_the_count_by_one() {
    let (mut heap, witness) = witnessed_heap();
    let list = heap.new_list();
    heap.incref(list);
    assert_eq!(heap.refcount(list), 2);
    heap.incref(list);
    assert_eq!(heap.refcount(list), 3);
    heap.decref(list);
    assert_eq!(heap.refcount(list), 2);
    heap.decref(list);
    assert_eq!(heap.refcount(list), 1);
    assert!(
        witness.destroyed().is_empty(),
        "nothing may be destroyed while a reference is left"
    );
    assert_invariants(&heap);
    heap.decref(list);
    assert_eq!(witness.destroyed(), vec![0]);
    assert_invariants(&heap);
}

#[test]
fn using_a_destroyed_object_panics() {
    let (mut heap, witness) = witnessed_heap();
    let list = heap.new_list();
    heap.decref(list);
    assert_eq!(witness.destroyed(), vec![0]);

    let why = catch(|| heap.decref(list)).expect_err("a decref too many must panic");
    assert!(
        why.contains("already destroyed") && why.contains("#0"),
        "the panic should name the destroyed object, got: {why}"
    );
    let why = catch(|| heap.incref(list)).expect_err("an incref of a dead object must panic");
    assert!(why.contains("already destroyed"), "got: {why}");

    // The slot is reused, but the old handle still does not reach the new object.
    let other = heap.new_int(1);
    assert_ne!(other, list);
    assert!(catch(|| heap.refcount(list)).is_err());
    heap.decref(other);
    assert_eq!(
        witness.destroyed(),
        vec![0, 1],
        "each object destroyed exactly once"
    );
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

#[test]
fn binding_a_name_adds_a_reference() {
    let (mut heap, witness) = witnessed_heap();
    let list = heap.new_list();
    heap.bind("x", list);
    assert_eq!(
        heap.refcount(list),
        2,
        "x = obj: the name takes a reference"
    );
    heap.bind("y", list);
    assert_eq!(heap.refcount(list), 3, "y = obj: so does a second name");
    assert_eq!(heap.lookup("x"), Some(list));
    assert_eq!(heap.lookup("y"), Some(list));
    heap.decref(list);
    assert_eq!(heap.refcount(list), 2, "the names keep it alive");
    assert!(witness.destroyed().is_empty());
    assert_invariants(&heap);
}

#[test]
fn rebinding_a_name_releases_the_old_object() {
    let (mut heap, witness) = witnessed_heap();
    let one = store(&mut heap, "x", |h| h.new_int(1));
    let two = heap.new_int(2);
    heap.bind("x", two);
    assert_eq!(
        witness.destroyed(),
        vec![0],
        "x = 2: the name gives up its reference to 1, which destroys it"
    );
    assert!(!heap.is_alive(one));
    assert_eq!(heap.refcount(two), 2, "the name and our own reference");
    assert_eq!(heap.lookup("x"), Some(two));
    heap.decref(two);
    assert_invariants(&heap);
}

#[test]
fn rebinding_a_name_to_itself_keeps_the_object() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "x", |h| h.new_list());
    assert_eq!(heap.refcount(list), 1);
    let same = heap.lookup("x").expect("x is bound");
    heap.bind("x", same);
    assert!(
        heap.is_alive(list),
        "x = x must not destroy the object: take the new reference before giving up the old one"
    );
    assert_eq!(heap.refcount(list), 1);
    assert!(witness.destroyed().is_empty());
    assert_invariants(&heap);
}

#[test]
fn del_of_last_name_destroys_the_object() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "x", |h| h.new_list());
    heap.bind("y", list);
    assert_eq!(heap.refcount(list), 2);
    heap.unbind("x");
    assert_eq!(heap.lookup("x"), None, "del x removes the name");
    assert_eq!(heap.refcount(list), 1, "y still holds it");
    assert!(witness.destroyed().is_empty());
    heap.unbind("y");
    assert_eq!(
        witness.destroyed(),
        vec![0],
        "del y gives up the last reference"
    );
    assert_eq!(heap.live_objects(), 0);
    let why = catch(|| heap.unbind("y")).expect_err("del of an unbound name must panic");
    assert!(why.contains("NameError"), "got: {why}");
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

#[test]
fn passing_an_argument_adds_a_reference_for_the_call() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "x", |h| h.new_list());
    let result = heap.call(&[list, list], |heap, args| {
        assert_eq!(args, &[list, list][..]);
        assert_eq!(
            heap.refcount(list),
            3,
            "f(x, x): the frame holds one reference per argument"
        );
        assert_eq!(
            heap.roots(),
            vec![list, list, list],
            "the roots are the name x and the frame's two arguments (record the frame)"
        );
        assert_invariants(heap);
        heap.call(&[list], |heap, _| {
            assert_eq!(heap.refcount(list), 4, "a nested call adds its own");
        });
        assert_eq!(
            heap.refcount(list),
            3,
            "the nested call gave its reference back"
        );
        42
    });
    assert_eq!(result, 42, "call returns what the body returned");
    assert_eq!(heap.refcount(list), 1, "the call gave its references back");
    assert!(witness.destroyed().is_empty());
    assert_invariants(&heap);
}

#[test]
fn argument_outlives_del_inside_the_call() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "x", |h| h.new_list());
    heap.call(&[list], |heap, args| {
        // def f(arg): global x; del x
        heap.unbind("x");
        assert!(
            heap.is_alive(args[0]),
            "the argument keeps the object alive"
        );
        assert_eq!(heap.refcount(args[0]), 1);
        assert!(witness.destroyed().is_empty());
    });
    assert_eq!(
        witness.destroyed(),
        vec![0],
        "the object is destroyed when the call returns"
    );
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// sys.getrefcount
// ---------------------------------------------------------------------------------------------

#[test]
fn getrefcount_counts_its_own_argument() {
    let (mut heap, _witness) = witnessed_heap();
    let item = store(&mut heap, "x", |h| h.new_str("hi"));
    assert_eq!(
        heap.getrefcount(item),
        2,
        "sys.getrefcount(x) is one more than the count: the call holds its argument"
    );
    assert_eq!(heap.refcount(item), 1, "and gives it back");
    let list = store(&mut heap, "l", |h| h.new_list());
    heap.list_append(list, item);
    assert_eq!(heap.getrefcount(item), 3);
    assert_eq!(heap.getrefcount(list), 2);
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------

#[test]
fn inserting_into_a_list_adds_a_reference() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "l", |h| h.new_list());
    let item = heap.new_int(7);
    heap.list_append(list, item);
    assert_eq!(
        heap.refcount(item),
        2,
        "the list takes a reference of its own"
    );
    heap.list_append(list, item);
    assert_eq!(heap.refcount(item), 3, "one reference per occurrence");
    assert_eq!(heap.kind(list), &Kind::List(vec![item, item]));
    assert_eq!(
        heap.refcount(list),
        1,
        "appending does not change the list's own count"
    );
    heap.decref(item);
    assert_eq!(heap.refcount(item), 2, "the list keeps the item alive");
    assert!(witness.destroyed().is_empty());
    assert_invariants(&heap);
}

#[test]
fn replacing_a_list_item_moves_the_references() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "l", |h| h.new_list());
    let (a, b) = (heap.new_str("a"), heap.new_str("b"));
    heap.list_append(list, a);
    heap.list_append(list, b);
    let (serial_a, serial_b) = (heap.serial(a), heap.serial(b));
    heap.decref(a);
    heap.decref(b);

    let c = store(&mut heap, "c", |h| h.new_str("c"));
    heap.list_set(list, 0, c);
    assert_eq!(
        heap.refcount(c),
        2,
        "l[0] = c: the list takes a reference to c"
    );
    assert_eq!(
        witness.destroyed(),
        vec![serial_a],
        "and gives up its only reference to 'a'"
    );
    assert_eq!(heap.kind(list), &Kind::List(vec![c, b]));

    let same = heap.list_get(list, 1);
    heap.list_set(list, 1, same);
    assert!(heap.is_alive(b), "l[1] = l[1] must not destroy the item");
    assert_eq!(heap.refcount(b), 1);
    assert_eq!(witness.times_destroyed(serial_b), 0);

    let why = catch(|| heap.list_set(list, 2, c)).expect_err("an index past the end must panic");
    assert!(why.contains("IndexError"), "got: {why}");
    assert_invariants(&heap);
}

#[test]
fn popping_from_a_list_hands_the_reference_to_the_caller() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "l", |h| h.new_list());
    let item = heap.new_int(5);
    let serial = heap.serial(item);
    heap.list_append(list, item);
    heap.decref(item);
    assert_eq!(heap.refcount(item), 1, "only the list holds it");

    let popped = heap.list_pop(list);
    assert_eq!(popped, item);
    assert_eq!(
        heap.refcount(item),
        1,
        "the list's reference moved to the caller: the count does not change"
    );
    assert_eq!(heap.len(list), 0);
    heap.decref(popped);
    assert_eq!(
        witness.destroyed(),
        vec![serial],
        "the caller gave up the last reference"
    );
    let why = catch(|| heap.list_pop(list)).expect_err("pop from an empty list must panic");
    assert!(why.contains("IndexError"), "got: {why}");
    assert_invariants(&heap);
}

#[test]
fn dict_entries_hold_their_keys_and_values() {
    let (mut heap, witness) = witnessed_heap();
    let dict = store(&mut heap, "d", |h| h.new_dict());
    let key = store(&mut heap, "k", |h| h.new_str("x"));
    let value = heap.new_int(1);
    heap.dict_set(dict, key, value);
    assert_eq!(heap.refcount(key), 2, "d[k] = v: the dict holds the key");
    assert_eq!(heap.refcount(value), 2, "and the value");
    let serial_value = heap.serial(value);
    heap.decref(value);

    // d['x'] = 2 with another str object equal to the key: the entry keeps its key object.
    let equal_key = heap.new_str("x");
    let two = heap.new_int(2);
    heap.dict_set(dict, equal_key, two);
    assert_eq!(
        heap.refcount(equal_key),
        1,
        "an equal key is not stored again"
    );
    assert_eq!(heap.refcount(key), 2, "the entry keeps its first key");
    assert_eq!(heap.refcount(two), 2, "the dict holds the new value");
    assert_eq!(
        witness.destroyed(),
        vec![serial_value],
        "and gave up the old one"
    );
    assert_eq!(heap.kind(dict), &Kind::Dict(vec![(key, two)]));
    assert_eq!(heap.dict_get(dict, equal_key), Some(two));

    heap.dict_del(dict, equal_key);
    assert_eq!(heap.refcount(key), 1, "del d['x'] gives up the key");
    assert_eq!(heap.refcount(two), 1, "and the value");
    assert_eq!(heap.len(dict), 0);
    let why = catch(|| heap.dict_del(dict, key)).expect_err("deleting a missing key must panic");
    assert!(why.contains("KeyError"), "got: {why}");
    heap.decref(equal_key);
    heap.decref(two);

    // Entries stay in insertion order, also when one is deleted.
    let keys: Vec<ObjId> = (0..3).map(|i| heap.new_int(i)).collect();
    for &k in &keys {
        heap.dict_set(dict, k, k);
    }
    heap.dict_del(dict, keys[0]);
    assert_eq!(
        heap.kind(dict),
        &Kind::Dict(vec![(keys[1], keys[1]), (keys[2], keys[2])]),
        "del d[0] keeps the other entries in order"
    );
    for k in keys {
        heap.decref(k);
    }

    let list = store(&mut heap, "l", |h| h.new_list());
    let why = catch(|| heap.dict_set(dict, list, key)).expect_err("a list key must panic");
    assert!(why.contains("unhashable"), "got: {why}");
    assert_eq!(heap.refcount(list), 1);
    assert_invariants(&heap);
}

#[test]
fn instance_attributes_hold_references() {
    let (mut heap, witness) = witnessed_heap();
    let point = store(&mut heap, "p", |h| h.new_instance("Point"));
    let x = heap.new_int(3);
    heap.set_attr(point, "x", x);
    assert_eq!(heap.refcount(x), 2, "p.x = 3: the instance holds the value");
    let serial_x = heap.serial(x);
    heap.decref(x);
    let y = store(&mut heap, "y", |h| h.new_int(4));
    heap.set_attr(point, "x", y);
    assert_eq!(
        witness.destroyed(),
        vec![serial_x],
        "p.x = y gives up the old value"
    );
    assert_eq!(heap.refcount(y), 2);
    assert_eq!(heap.get_attr(point, "x"), Some(y));
    heap.set_attr(point, "x", y);
    assert_eq!(heap.refcount(y), 2, "p.x = p.x changes nothing");
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Destruction at zero
// ---------------------------------------------------------------------------------------------

#[test]
fn destroying_a_container_releases_its_items() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "l", |h| h.new_list()); // serial 0
    let a = heap.new_str("a"); // 1
    let b = heap.new_str("b"); // 2
    for item in [a, b, a] {
        heap.list_append(list, item);
    }
    heap.decref(a);
    heap.decref(b);
    assert_eq!(heap.refcount(a), 2);
    heap.unbind("l");
    // The list goes first, then its items from the last to the first: a (still held once), b
    // (destroyed), a (destroyed).
    assert_eq!(witness.destroyed(), vec![0, 2, 1]);
    assert_eq!(heap.live_objects(), 0);
    assert_invariants(&heap);
}

#[test]
fn destruction_cascades_through_nested_containers() {
    let (mut heap, witness) = witnessed_heap();
    // d = {'k': [(1, 2), Point(x=[])]}
    let dict = store(&mut heap, "d", |h| h.new_dict());
    let key = heap.new_str("k");
    let list = heap.new_list();
    heap.dict_set(dict, key, list);
    let (one, two) = (heap.new_int(1), heap.new_int(2));
    let tuple = heap.new_tuple(&[one, two]);
    heap.list_append(list, tuple);
    let point = heap.new_instance("Point");
    heap.list_append(list, point);
    let inner = heap.new_list();
    heap.set_attr(point, "x", inner);
    for id in [key, list, one, two, tuple, point, inner] {
        heap.decref(id);
    }
    assert_eq!(heap.live_objects(), 8);
    assert!(
        witness.destroyed().is_empty(),
        "everything is reachable from d"
    );
    assert_invariants(&heap);

    heap.unbind("d");
    assert_eq!(
        heap.live_objects(),
        0,
        "del d destroys everything it reached"
    );
    for serial in 0..8 {
        assert_eq!(
            witness.times_destroyed(serial),
            1,
            "object #{serial} must be destroyed exactly once"
        );
    }
    assert_invariants(&heap);
}

#[test]
fn nested_objects_are_destroyed_in_cpython_order() {
    let (mut heap, witness) = witnessed_heap();
    // top = [a, b] with a = ['x'] and b = ['y', 'z']; serials in creation order.
    let top = store(&mut heap, "top", |h| h.new_list()); // 0
    let a = heap.new_list(); // 1
    let x = heap.new_str("x"); // 2
    let b = heap.new_list(); // 3
    let y = heap.new_str("y"); // 4
    let z = heap.new_str("z"); // 5
    heap.list_append(a, x);
    heap.list_append(b, y);
    heap.list_append(b, z);
    heap.list_append(top, a);
    heap.list_append(top, b);
    for id in [a, x, b, y, z] {
        heap.decref(id);
    }
    heap.unbind("top");
    // What recursive tp_dealloc would do: destroy top, then release its items last first; b
    // reaches 0 and is destroyed, releasing z then y, before top goes on to release a.
    assert_eq!(witness.destroyed(), vec![0, 3, 5, 4, 1, 2]);
    assert_invariants(&heap);
}

#[test]
fn every_object_destroyed_exactly_once() {
    let (mut heap, witness) = witnessed_heap();
    let mut rng = XorShift64::new(0x5eed);
    // Forty containers, each holding random earlier objects (so objects are shared, several
    // times over), bound to names and dropped from them in a random order.
    let mut made: Vec<ObjId> = Vec::new();
    for i in 0..40 {
        let atom = heap.new_int(i);
        let container = match i % 4 {
            0 => heap.new_list(),
            1 => heap.new_dict(),
            2 => heap.new_instance("Node"),
            _ => {
                let picks: Vec<ObjId> = (0..3).map(|_| made[rng.below(made.len())]).collect();
                heap.new_tuple(&picks)
            }
        };
        for n in 0..3 {
            let target = if made.is_empty() {
                atom
            } else {
                made[rng.below(made.len())]
            };
            match heap.kind(container) {
                Kind::List(_) => heap.list_append(container, target),
                Kind::Dict(_) => {
                    let key = heap.new_int(n);
                    heap.dict_set(container, key, target);
                    heap.decref(key);
                }
                Kind::Instance { .. } => heap.set_attr(container, &format!("f{n}"), target),
                _ => {}
            }
        }
        heap.bind(&format!("v{i}"), container);
        heap.decref(container);
        heap.decref(atom);
        made.push(container);
    }
    assert_invariants(&heap);
    let mut order: Vec<usize> = (0..40).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    for i in order {
        heap.unbind(&format!("v{i}"));
        assert_invariants(&heap);
    }
    assert_eq!(
        heap.live_objects(),
        0,
        "no cycles were made: everything goes"
    );
    let allocated = witness.allocated() as u64;
    for serial in 0..allocated {
        assert_eq!(
            witness.times_destroyed(serial),
            1,
            "object #{serial} must be destroyed exactly once"
        );
    }
    assert_eq!(heap.destroyed_count(), allocated);
}

// ---------------------------------------------------------------------------------------------
// The trashcan: destruction without recursion
// ---------------------------------------------------------------------------------------------

/// A million under a native test (where a recursive destructor overflows the stack long before);
/// far fewer under Miri, which is slow.
const CHAIN: usize = if cfg!(miri) { 1_000 } else { 1_000_000 };

#[test]
fn chain_of_a_million_lists_is_destroyed_without_overflow() {
    let (mut heap, witness) = witnessed_heap();
    // l = []; then a million times: l = [l]
    store(&mut heap, "l", |h| h.new_list());
    for _ in 0..CHAIN {
        let inner = heap.lookup("l").expect("l is bound");
        let outer = heap.new_list();
        heap.list_append(outer, inner);
        store(&mut heap, "l", |_| outer);
    }
    assert_eq!(heap.live_objects(), CHAIN + 1);
    assert!(witness.destroyed().is_empty());
    heap.unbind("l");
    assert_eq!(heap.live_objects(), 0);
    let destroyed = witness.destroyed();
    assert_eq!(destroyed.len(), CHAIN + 1);
    assert!(
        destroyed.iter().rev().copied().eq(0..=CHAIN as u64),
        "the outermost list goes first, then each inner one in turn"
    );
    assert_invariants(&heap);
}

#[test]
fn deep_chain_of_mixed_containers_is_destroyed_without_overflow() {
    let (mut heap, witness) = witnessed_heap();
    let depth = CHAIN / 10;
    let key = store(&mut heap, "key", |h| h.new_str("next"));
    let mut inner = heap.new_list();
    for level in 0..depth {
        // list -> tuple -> dict -> instance -> list -> ...: every container kind nests.
        let outer = match level % 4 {
            0 => heap.new_tuple(&[inner]),
            1 => {
                let dict = heap.new_dict();
                heap.dict_set(dict, key, inner);
                dict
            }
            2 => {
                let node = heap.new_instance("Node");
                heap.set_attr(node, "next", inner);
                node
            }
            _ => {
                let list = heap.new_list();
                heap.list_append(list, inner);
                list
            }
        };
        heap.decref(inner);
        inner = outer;
    }
    assert_eq!(heap.live_objects(), depth + 2);
    heap.decref(inner);
    assert_eq!(
        heap.live_objects(),
        1,
        "only the key, bound to a name, is left"
    );
    assert_eq!(witness.destroyed().len(), depth + 1);
    assert_eq!(heap.refcount(key), 1, "every dict gave its key back");
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Names at shutdown, and the cycles that leak
// ---------------------------------------------------------------------------------------------

#[test]
fn names_live_until_the_heap_is_dropped() {
    let (mut heap, witness) = witnessed_heap();
    let config = store(&mut heap, "config", |h| h.new_dict()); // 0
    let key = heap.new_str("debug"); // 1
    let value = heap.new_int(1); // 2
    heap.dict_set(config, key, value);
    heap.decref(key);
    heap.decref(value);
    store(&mut heap, "answer", |h| h.new_int(42)); // 3
    heap.bind("flag", value);
    assert!(
        witness.destroyed().is_empty(),
        "globals live as long as the interpreter: nothing is destroyed while the heap exists"
    );
    drop(heap);
    // The names are deleted in name order: answer, config (destroying the dict and its key; the
    // value is still held by flag), flag.
    assert_eq!(witness.destroyed(), vec![3, 0, 1, 2]);
}

#[test]
fn self_referencing_list_leaks() {
    let (mut heap, witness) = witnessed_heap();
    // l = []; l.append(l); del l
    let list = store(&mut heap, "l", |h| h.new_list());
    heap.list_append(list, list);
    assert_eq!(heap.refcount(list), 2, "the name and the list itself");
    heap.unbind("l");
    assert!(
        heap.is_alive(list),
        "the list still holds a reference to itself: its count never reaches zero"
    );
    assert_eq!(heap.refcount(list), 1);
    assert_eq!(heap.live_objects(), 1, "unreachable, yet alive: a leak");
    assert_invariants(&heap);
    drop(heap);
    assert!(
        witness.destroyed().is_empty(),
        "not even dropping the heap destroys it: that takes a cycle collector (lab 03)"
    );
}

#[test]
fn two_list_cycle_leaks() {
    let (mut heap, witness) = witnessed_heap();
    // a = []; b = [a]; a.append(b); del a, b
    let a = store(&mut heap, "a", |h| h.new_list());
    let b = store(&mut heap, "b", |h| h.new_list());
    heap.list_append(b, a);
    heap.list_append(a, b);
    let survivor = store(&mut heap, "s", |h| h.new_int(0));
    heap.unbind("a");
    heap.unbind("b");
    assert!(
        heap.is_alive(a) && heap.is_alive(b),
        "each keeps the other alive"
    );
    assert_eq!((heap.refcount(a), heap.refcount(b)), (1, 1));
    assert_invariants(&heap);
    let serial = heap.serial(survivor);
    drop(heap);
    assert_eq!(
        witness.destroyed(),
        vec![serial],
        "dropping the heap destroys what the names held, but never the cycle"
    );
}

#[test]
fn clear_releases_what_a_container_holds() {
    let (mut heap, witness) = witnessed_heap();
    let list = store(&mut heap, "l", |h| h.new_list()); // 0
    let kept = store(&mut heap, "kept", |h| h.new_str("kept")); // 1
    let only = heap.new_str("only"); // 2
    heap.list_append(list, kept);
    heap.list_append(list, only);
    heap.decref(only);
    let dict = store(&mut heap, "d", |h| h.new_dict()); // 3
    heap.dict_set(dict, kept, list);

    heap.clear(list);
    assert_eq!(
        heap.kind(list),
        &Kind::List(vec![]),
        "tp_clear empties the list"
    );
    assert_eq!(witness.destroyed(), vec![2], "and gives up its references");
    assert_eq!(heap.refcount(kept), 2, "an item held elsewhere lives on");
    heap.clear(dict);
    assert_eq!(heap.len(dict), 0);
    assert_eq!(heap.refcount(kept), 1);
    assert_eq!(heap.refcount(list), 1);
    let atom = heap.lookup("kept").expect("bound");
    heap.clear(atom);
    assert_eq!(heap.refcount(atom), 1, "clearing an atom does nothing");
    assert_invariants(&heap);
}

#[test]
fn clear_breaks_a_cycle() {
    let (mut heap, witness) = witnessed_heap();
    // a = []; b = [a]; a.append(b); del a, b: then do what a cycle collector does.
    let a = store(&mut heap, "a", |h| h.new_list());
    let b = store(&mut heap, "b", |h| h.new_list());
    heap.list_append(b, a);
    heap.list_append(a, b);
    heap.unbind("a");
    heap.unbind("b");
    assert!(witness.destroyed().is_empty());
    heap.clear(a);
    assert_eq!(
        witness.destroyed(),
        vec![1, 0],
        "clearing one member of the cycle lets counts reach zero: b goes, then a"
    );
    assert_eq!(heap.live_objects(), 0);
    assert_invariants(&heap);
}

// ---------------------------------------------------------------------------------------------
// Random programs, checked against the reference
// ---------------------------------------------------------------------------------------------

/// The names a random program uses, each meant for one type so that most statements apply
/// (`l.append(x)` needs `l` to be a list), though `x = y` and `del x` mix them up now and then.
/// Few names, so that objects are often rebound and shared.
const LISTS: [&str; 2] = ["l", "m"];
const DICTS: [&str; 2] = ["d", "e"];
const OBJECTS: [&str; 1] = ["o"];
const ATOMS: [&str; 3] = ["i", "j", "s"];
const TUPLES: [&str; 1] = ["t"];
const CONTAINERS: [&str; 6] = ["l", "m", "d", "e", "o", "t"];
const ALL: [&str; 9] = ["l", "m", "d", "e", "o", "i", "j", "s", "t"];

/// One statement of a random program. Statements that would raise in Python (an unbound name, a
/// list method on a dict, an unhashable key, ...) are skipped, the same way on both heaps.
#[derive(Clone)]
enum Op {
    Int(&'static str, i64),
    Str(&'static str, &'static str),
    List(&'static str),
    Dict(&'static str),
    Tuple(&'static str, Vec<&'static str>),
    Instance(&'static str),
    Assign(&'static str, &'static str),
    Del(&'static str),
    Append(&'static str, &'static str),
    SetItem(&'static str, usize, &'static str),
    Pop(&'static str, Option<&'static str>),
    DictSet(&'static str, &'static str, &'static str),
    DictDel(&'static str, &'static str),
    SetAttr(&'static str, &'static str, &'static str),
    Clear(&'static str),
    GetRefcount(&'static str),
    /// Calls a function with these arguments, whose body runs these statements.
    Call(Vec<&'static str>, Vec<Op>),
}

/// Shows a statement as the Python it stands for.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Int(n, v) => write!(f, "{n} = {v}"),
            Op::Str(n, v) => write!(f, "{n} = '{v}'"),
            Op::List(n) => write!(f, "{n} = []"),
            Op::Dict(n) => write!(f, "{n} = {{}}"),
            Op::Tuple(n, items) => match items.as_slice() {
                [one] => write!(f, "{n} = ({one},)"),
                items => write!(f, "{n} = ({})", items.join(", ")),
            },
            Op::Instance(n) => write!(f, "{n} = Node()"),
            Op::Assign(dst, src) => write!(f, "{dst} = {src}"),
            Op::Del(n) => write!(f, "del {n}"),
            Op::Append(l, item) => write!(f, "{l}.append({item})"),
            Op::SetItem(l, i, item) => write!(f, "{l}[{i} % len({l})] = {item}"),
            Op::Pop(l, Some(into)) => write!(f, "{into} = {l}.pop()"),
            Op::Pop(l, None) => write!(f, "{l}.pop()"),
            Op::DictSet(d, k, v) => write!(f, "{d}[{k}] = {v}"),
            Op::DictDel(d, k) => write!(f, "del {d}[{k}]"),
            Op::SetAttr(o, attr, v) => write!(f, "{o}.{attr} = {v}"),
            Op::Clear(n) => write!(f, "clear({n})  # tp_clear"),
            Op::GetRefcount(n) => write!(f, "sys.getrefcount({n})"),
            Op::Call(args, body) => {
                write!(f, "f({}) running: ", args.join(", "))?;
                let body: Vec<String> = body.iter().map(|op| format!("{op:?}")).collect();
                write!(
                    f,
                    "{}",
                    if body.is_empty() {
                        "pass".to_string()
                    } else {
                        body.join("; ")
                    }
                )
            }
        }
    }
}

fn pick(rng: &mut XorShift64, names: &[&'static str]) -> &'static str {
    names[rng.below(names.len())]
}

/// A random statement; calls nest at most two deep.
fn random_op(rng: &mut XorShift64, depth: usize) -> Op {
    let any = |rng: &mut XorShift64| pick(rng, &ALL);
    match rng.below(100) {
        0..7 => Op::Int(pick(rng, &ATOMS), rng.below(2) as i64),
        7..10 => Op::Str(pick(rng, &ATOMS), ["x", "y"][rng.below(2)]),
        10..17 => Op::List(pick(rng, &LISTS)),
        17..20 => Op::Dict(pick(rng, &DICTS)),
        20..23 => {
            let items = (0..rng.below(3)).map(|_| any(rng)).collect();
            Op::Tuple(pick(rng, &TUPLES), items)
        }
        23..26 => Op::Instance(pick(rng, &OBJECTS)),
        26..32 if rng.chance(75) => {
            let names = [&LISTS[..], &DICTS, &OBJECTS, &ATOMS, &TUPLES][rng.below(5)];
            Op::Assign(pick(rng, names), pick(rng, names))
        }
        26..32 => Op::Assign(any(rng), any(rng)),
        32..38 => Op::Del(any(rng)),
        38..50 => Op::Append(pick(rng, &LISTS), any(rng)),
        50..54 => Op::SetItem(pick(rng, &LISTS), rng.below(4), any(rng)),
        54..58 => Op::Pop(pick(rng, &LISTS), rng.chance(30).then(|| any(rng))),
        58..70 => Op::DictSet(pick(rng, &DICTS), pick(rng, &ATOMS), any(rng)),
        70..76 => Op::DictDel(pick(rng, &DICTS), pick(rng, &ATOMS)),
        76..81 => Op::SetAttr(pick(rng, &OBJECTS), ["x", "y"][rng.below(2)], any(rng)),
        81..84 => Op::Clear(pick(rng, &CONTAINERS)),
        84..88 => Op::GetRefcount(any(rng)),
        _ if depth < 2 => {
            let args = (0..rng.below(3)).map(|_| any(rng)).collect();
            let body = (0..1 + rng.below(4))
                .map(|_| random_op(rng, depth + 1))
                .collect();
            Op::Call(args, body)
        }
        _ => Op::GetRefcount(any(rng)),
    }
}

/// What one heap looked like after one statement.
struct Step {
    /// The statement, as Python.
    what: String,
    /// Its result, the dump, and the serials destroyed during the statement (sorted: the order
    /// is checked by `nested_objects_are_destroyed_in_cpython_order`).
    state: String,
    /// `check_invariants` after the statement.
    invariants: Result<(), String>,
}

/// Runs random programs on one crate's heap. Instantiated twice, for your crate and for the
/// reference, which have the same API but different types.
macro_rules! interpreter {
    ($module:ident, $krate:ident) => {
        mod $module {
            use super::{Op, Step, Witness};
            use $krate::{Heap, Kind, ObjId};

            /// Runs `program` on a new heap, then drops the heap, logging a step after each
            /// statement (and after each call's entry), and a last one for the drop.
            pub fn run(program: &[Op], log: &mut Vec<Step>) {
                let witness = Witness::default();
                let mut heap = Heap::with_hooks(witness.clone());
                for op in program {
                    exec(&mut heap, op, &witness, log, "");
                }
                drop(heap);
                log.push(Step {
                    what: "(the heap is dropped)".to_string(),
                    state: format!("destroyed: {:?}\n", witness.take_destroyed_sorted()),
                    invariants: Ok(()),
                });
            }

            fn record(
                heap: &Heap<Witness>,
                what: String,
                result: String,
                witness: &Witness,
                log: &mut Vec<Step>,
            ) {
                log.push(Step {
                    what,
                    state: format!(
                        "{result}\n{}destroyed: {:?}\n",
                        heap.dump(),
                        witness.take_destroyed_sorted()
                    ),
                    invariants: heap.check_invariants(),
                });
            }

            fn is_list(heap: &Heap<Witness>, id: ObjId) -> bool {
                matches!(heap.kind(id), Kind::List(_))
            }

            fn is_atom(heap: &Heap<Witness>, id: ObjId) -> bool {
                !heap.kind(id).is_container()
            }

            /// `name = <new object>`: bind, then give up the constructor's new reference.
            fn store(heap: &mut Heap<Witness>, name: &str, new: ObjId) -> String {
                heap.bind(name, new);
                heap.decref(new);
                String::new()
            }

            fn exec(
                heap: &mut Heap<Witness>,
                op: &Op,
                witness: &Witness,
                log: &mut Vec<Step>,
                indent: &str,
            ) {
                let skipped = || "skipped".to_string();
                let result = match op {
                    Op::Int(n, v) => {
                        let new = heap.new_int(*v);
                        store(heap, n, new)
                    }
                    Op::Str(n, v) => {
                        let new = heap.new_str(v);
                        store(heap, n, new)
                    }
                    Op::List(n) => {
                        let new = heap.new_list();
                        store(heap, n, new)
                    }
                    Op::Dict(n) => {
                        let new = heap.new_dict();
                        store(heap, n, new)
                    }
                    Op::Instance(n) => {
                        let new = heap.new_instance("Node");
                        store(heap, n, new)
                    }
                    Op::Tuple(n, items) => {
                        match items
                            .iter()
                            .map(|i| heap.lookup(i))
                            .collect::<Option<Vec<_>>>()
                        {
                            Some(items) => {
                                let new = heap.new_tuple(&items);
                                store(heap, n, new)
                            }
                            None => skipped(),
                        }
                    }
                    Op::Assign(dst, src) => match heap.lookup(src) {
                        Some(id) => {
                            heap.bind(dst, id);
                            String::new()
                        }
                        None => skipped(),
                    },
                    Op::Del(n) => match heap.lookup(n) {
                        Some(_) => {
                            heap.unbind(n);
                            String::new()
                        }
                        None => skipped(),
                    },
                    Op::Append(l, item) => match (heap.lookup(l), heap.lookup(item)) {
                        (Some(l), Some(item)) if is_list(heap, l) => {
                            heap.list_append(l, item);
                            String::new()
                        }
                        _ => skipped(),
                    },
                    Op::SetItem(l, i, item) => match (heap.lookup(l), heap.lookup(item)) {
                        (Some(l), Some(item)) if is_list(heap, l) && heap.len(l) > 0 => {
                            let index = i % heap.len(l);
                            heap.list_set(l, index, item);
                            String::new()
                        }
                        _ => skipped(),
                    },
                    Op::Pop(l, into) => match heap.lookup(l) {
                        Some(l) if is_list(heap, l) && heap.len(l) > 0 => {
                            let popped = heap.list_pop(l);
                            if let Some(into) = into {
                                heap.bind(into, popped);
                            }
                            heap.decref(popped);
                            String::new()
                        }
                        _ => skipped(),
                    },
                    Op::DictSet(d, k, v) => {
                        match (heap.lookup(d), heap.lookup(k), heap.lookup(v)) {
                            (Some(d), Some(k), Some(v))
                                if matches!(heap.kind(d), Kind::Dict(_)) && is_atom(heap, k) =>
                            {
                                heap.dict_set(d, k, v);
                                String::new()
                            }
                            _ => skipped(),
                        }
                    }
                    Op::DictDel(d, k) => match (heap.lookup(d), heap.lookup(k)) {
                        (Some(d), Some(k))
                            if matches!(heap.kind(d), Kind::Dict(_))
                                && is_atom(heap, k)
                                && heap.dict_get(d, k).is_some() =>
                        {
                            heap.dict_del(d, k);
                            String::new()
                        }
                        _ => skipped(),
                    },
                    Op::SetAttr(o, attr, v) => match (heap.lookup(o), heap.lookup(v)) {
                        (Some(o), Some(v)) if matches!(heap.kind(o), Kind::Instance { .. }) => {
                            heap.set_attr(o, attr, v);
                            String::new()
                        }
                        _ => skipped(),
                    },
                    Op::Clear(n) => match heap.lookup(n) {
                        Some(id) => {
                            heap.clear(id);
                            String::new()
                        }
                        None => skipped(),
                    },
                    Op::GetRefcount(n) => match heap.lookup(n) {
                        Some(id) => format!("-> {}", heap.getrefcount(id)),
                        None => skipped(),
                    },
                    Op::Call(args, body) => {
                        match args
                            .iter()
                            .map(|a| heap.lookup(a))
                            .collect::<Option<Vec<_>>>()
                        {
                            Some(args) => {
                                let inner = format!("{indent}    ");
                                heap.call(&args, |heap, _| {
                                    let what = format!("{indent}(entering) {op:?}");
                                    record(heap, what, String::new(), witness, log);
                                    for op in body {
                                        exec(heap, op, witness, log, &inner);
                                    }
                                });
                                "returned".to_string()
                            }
                            None => skipped(),
                        }
                    }
                };
                record(heap, format!("{indent}{op:?}"), result, witness, log);
            }
        }
    };
}

interpreter!(on_yours, refcount);
interpreter!(on_reference, reference);

/// Runs `program` on the reference and on your heap, and compares them step by step.
fn compare_with_reference(program: &[Op]) -> Result<(), String> {
    let mut expected = Vec::new();
    on_reference::run(program, &mut expected);
    let mut actual = Vec::new();
    let outcome = catch(|| on_yours::run(program, &mut actual));
    for (step, want) in expected.iter().enumerate() {
        let Some(got) = actual.get(step) else {
            return Err(match &outcome {
                Err(panic) => format!("step {step}, `{}`: your heap {panic}", want.what),
                Ok(()) => format!("your heap stopped before step {step}, `{}`", want.what),
            });
        };
        if got.state != want.state {
            return Err(format!(
                "after step {step}, `{}`, your heap differs from the reference's \
                 (< reference, > yours):\n{}",
                want.what,
                pretty_assertions::StrComparison::new(&want.state, &got.state)
            ));
        }
        if let Err(why) = &got.invariants {
            return Err(format!(
                "after step {step}, `{}`, check_invariants fails: {why}\n{}",
                want.what, got.state
            ));
        }
    }
    outcome
}

#[test]
fn random_programs_match_the_reference() {
    let (seeds, length) = if cfg!(miri) { (2, 30) } else { (12, 250) };
    check_programs(
        "random heap programs",
        0..seeds,
        |rng| (0..length).map(|_| random_op(rng, 0)).collect(),
        compare_with_reference,
    );
}
