//! Graded tests for lab 03, part (b): whole collections, through `Collector::collect` and
//! `Collector::collect_generation` (`gc.collect()` and `gc.collect(generation)`).
//!
//! Each test is a small Python program, written once as a closure over a heap and a collector,
//! and run twice: with your collector, then with the reference's on a twin heap. The test asserts
//! the exact numbers the scenario makes obvious (what `gc.collect()` returns, which objects are
//! freed, exactly once), then that both runs agree: what the scenario returned, the final
//! dumps (objects, counts, generations in order) and the event logs (finalizers, callbacks,
//! deaths, in order). Your heap must also keep every invariant.
//!
//! The two tests on very large graphs run your collector only, and check the numbers.

use std::fmt::Debug;

use pretty_assertions::assert_eq;
use pyheap::{Action, Callback, ClassId, Event, Finalizer, GcList, Heap, Kind, ObjId};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Whether the heap destroyed nothing at all (no `Destroyed` event).
fn nothing_was_freed(heap: &Heap) -> bool {
    !heap
        .events()
        .iter()
        .any(|e| matches!(e, Event::Destroyed(_)))
}

/// What the scenarios use of a collector: `gc.collect`, `gc.set_debug`, `gc.garbage`,
/// `gc.get_stats()` and the two long-lived counts. Implemented for yours and the reference's.
trait Gc {
    fn collect(&mut self, heap: &mut Heap) -> usize;
    /// `Err(generation)` for an invalid generation.
    fn collect_generation(&mut self, heap: &mut Heap, generation: usize) -> Result<usize, usize>;
    fn set_debug(&mut self, heap: &mut Heap, flags: u32);
    fn garbage(&self) -> Option<ObjId>;
    /// `(collections, collected, uncollectable)` for each generation.
    fn stats(&self) -> [(usize, usize, usize); 3];
    /// `(long_lived_total, long_lived_pending)`.
    fn long_lived(&self) -> (usize, usize);
    fn release(&mut self, heap: &mut Heap);
}

macro_rules! gc_for {
    ($krate:ident) => {
        impl Gc for $krate::Collector {
            fn collect(&mut self, heap: &mut Heap) -> usize {
                $krate::Collector::collect(self, heap)
            }

            fn collect_generation(
                &mut self,
                heap: &mut Heap,
                generation: usize,
            ) -> Result<usize, usize> {
                $krate::Collector::collect_generation(self, heap, generation)
                    .map_err(|$krate::InvalidGeneration(g)| g)
            }

            fn set_debug(&mut self, heap: &mut Heap, flags: u32) {
                $krate::Collector::set_debug(self, heap, flags)
            }

            fn garbage(&self) -> Option<ObjId> {
                $krate::Collector::garbage(self)
            }

            fn stats(&self) -> [(usize, usize, usize); 3] {
                $krate::Collector::stats(self)
                    .map(|s| (s.collections, s.collected, s.uncollectable))
            }

            fn long_lived(&self) -> (usize, usize) {
                (self.long_lived_total, self.long_lived_pending)
            }

            fn release(&mut self, heap: &mut Heap) {
                $krate::Collector::release(self, heap)
            }
        }
    };
}

gc_for!(cycles);
gc_for!(reference);

/// One run of a scenario: the heap it left behind and what it returned.
struct Run<T> {
    heap: Heap,
    out: T,
}

/// Runs `scenario` with your collector on a new heap, then with the reference's on another.
fn on_both<T>(scenario: impl Fn(&mut Heap, &mut dyn Gc) -> T) -> (Run<T>, Run<T>) {
    let mut heap = Heap::new();
    let out = scenario(&mut heap, &mut cycles::Collector::new());
    let yours = Run { heap, out };
    let mut heap = Heap::new();
    let out = scenario(&mut heap, &mut reference::Collector::new());
    (yours, Run { heap, out })
}

/// Both runs must agree: what the scenario returned, the dumps and the events. Your heap must
/// keep every invariant.
#[track_caller]
fn assert_same_as_reference<T: PartialEq + Debug>(theirs: &Run<T>, yours: &Run<T>) {
    assert_eq!(
        theirs.out, yours.out,
        "what the scenario saw differs from the reference's run (< reference, > yours)"
    );
    assert_eq!(
        theirs.heap.dump(),
        yours.heap.dump(),
        "your heap differs from the reference's at the end (< reference, > yours)"
    );
    assert_eq!(
        theirs.heap.events(),
        yours.heap.events(),
        "your events differ from the reference's (< reference, > yours)"
    );
    yours.heap.assert_invariants();
}

/// How many times the object with this serial was destroyed (exactly 1 for garbage).
fn times_destroyed(heap: &Heap, serial: u64) -> usize {
    heap.events()
        .iter()
        .filter(|e| **e == Event::Destroyed(serial))
        .count()
}

/// How many times the `__del__` of the object with this serial ran.
fn times_finalized(heap: &Heap, serial: u64) -> usize {
    heap.events()
        .iter()
        .filter(|e| **e == Event::Finalized(serial))
        .count()
}

/// The serials of generation `g`, head to tail.
fn generation(heap: &Heap, g: usize) -> Vec<u64> {
    heap.gc_list_objects(GcList::generation(g))
        .into_iter()
        .map(|id| heap.serial(id))
        .collect()
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

/// `a = []; b = [a]; a.append(b); del a, b`: a 2-cycle of lists, garbage. Returns the serials.
fn garbage_pair(heap: &mut Heap) -> [u64; 2] {
    let a = heap.new_list();
    let b = heap.new_list();
    heap.list_append(b, a);
    heap.list_append(a, b);
    let serials = [heap.serial(a), heap.serial(b)];
    heap.decref(a);
    heap.decref(b);
    serials
}

/// Deletes each name.
fn del_all(heap: &mut Heap, names: &[&str]) {
    for name in names {
        heap.del(name);
    }
}

// ---------------------------------------------------------------------------------------------
// Cycles
// ---------------------------------------------------------------------------------------------

#[test]
fn self_referencing_list_is_collected_and_counted_once() {
    let (yours, theirs) = on_both(|heap, gc| {
        // a = []; a.append(a); del a
        let a = heap.assign_new_list("a");
        heap.list_append(a, a);
        let serial = heap.serial(a);
        heap.del("a");
        let survived_del = heap.is_alive(a);
        let first = gc.collect(heap);
        let second = gc.collect(heap);
        (serial, survived_del, first, second)
    });
    let (serial, survived_del, first, second) = yours.out;
    assert!(
        survived_del,
        "setup: reference counting alone cannot free it"
    );
    assert_eq!(
        first, 1,
        "gc.collect() finds one unreachable container: the list"
    );
    assert_eq!(
        times_destroyed(&yours.heap, serial),
        1,
        "the list is freed, once"
    );
    assert_eq!(yours.heap.live_objects(), 2, "only None and () are left");
    assert_eq!(second, 0, "a second collection finds nothing left");
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn two_cycle_of_lists_is_collected() {
    let (yours, theirs) = on_both(|heap, gc| {
        // a = []; b = [a]; a.append(b); del a, b
        let serials = garbage_pair(heap);
        (serials, gc.collect(heap))
    });
    let (serials, found) = yours.out;
    assert_eq!(found, 2, "both lists are unreachable");
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(yours.heap.live_objects(), 2);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn rings_of_every_size_up_to_1000_are_collected() {
    let mut heap = Heap::new();
    let mut gc = cycles::Collector::new();
    let node = heap.new_class("Node", None);
    for n in 1..=1000usize {
        // A ring of n objects: lists, instances or dicts, depending on n.
        let ring: Vec<ObjId> = (0..n)
            .map(|_| match n % 3 {
                0 => heap.new_list(),
                1 => heap.new_instance(node),
                _ => heap.new_dict(),
            })
            .collect();
        for (i, &from) in ring.iter().enumerate() {
            let to = ring[(i + 1) % n];
            match n % 3 {
                0 => heap.list_append(from, to),
                1 => heap.set_attr(from, "next", to),
                _ => dict_set_str(&mut heap, from, "next", to),
            }
        }
        let serials: Vec<u64> = ring.iter().map(|&id| heap.serial(id)).collect();
        for id in ring {
            heap.decref(id);
        }
        heap.take_events();
        let found = gc.collect(&mut heap);
        assert_eq!(
            found, n,
            "a ring of {n} objects is {n} unreachable containers"
        );
        let mut destroyed: Vec<u64> = heap
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Destroyed(serial) => Some(serial),
                _ => None,
            })
            .collect();
        destroyed.sort_unstable();
        destroyed.retain(|serial| serials.binary_search(serial).is_ok());
        assert_eq!(
            destroyed, serials,
            "each object of the ring of {n} is freed exactly once"
        );
        assert_eq!(
            heap.live_objects(),
            2,
            "after the ring of {n}, only None and () are left"
        );
    }
    heap.assert_invariants();
}

#[test]
fn collecting_100000_objects_needs_no_recursion() {
    const N: usize = 100_000;
    let mut heap = Heap::new();
    let mut gc = cycles::Collector::new();

    // A ring of N lists, garbage.
    let ring: Vec<ObjId> = (0..N).map(|_| heap.new_list()).collect();
    for i in 0..N {
        heap.list_append(ring[i], ring[(i + 1) % N]);
    }
    for id in ring {
        heap.decref(id);
    }
    assert_eq!(gc.collect(&mut heap), N, "the ring of {N} lists is garbage");
    assert_eq!(heap.live_objects(), 2, "all of it is freed");
    assert_eq!(heap.destroyed_count(), N as u64, "each list once");

    // A chain of N lists reached from a name, made from its end: `node = [node]`, N times.
    // Generation 0 holds it backwards, so every node but the head is moved to unreachable, then
    // moved back by the node before it: N moves back, one after the other.
    let mut node = heap.new_list();
    let mut chain = vec![heap.serial(node)];
    for _ in 1..N {
        let next = heap.new_list();
        heap.list_append(next, node);
        heap.decref(node);
        node = next;
        chain.push(heap.serial(node));
    }
    heap.bind("head", node);
    heap.decref(node);
    chain.reverse();
    assert_eq!(gc.collect(&mut heap), 0, "the whole chain is reachable");
    assert_eq!(
        generation(&heap, 2),
        chain,
        "the survivors are in generation 2, in chain order: each moved back behind the one \
         that reached it"
    );
    heap.del("head");
    assert_eq!(heap.live_objects(), 2);
    heap.assert_invariants();
}

#[test]
fn cycle_reachable_from_a_name_is_not_collected() {
    let (yours, theirs) = on_both(|heap, gc| {
        // a = []; b = [a]; a.append(b); del b
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.del("b");
        let found = gc.collect(heap);
        (
            found,
            [heap.refcount(a), heap.refcount(b)],
            generation(heap, 2),
        )
    });
    let (found, counts, gen2) = &yours.out;
    assert_eq!(*found, 0, "the name a reaches the whole cycle");
    assert_eq!(
        *counts,
        [2, 1],
        "counts are untouched: a has the name and b's item, b has a's item"
    );
    assert_eq!(
        gen2.len(),
        2,
        "both survive in generation 2 (a full collection keeps its survivors there)"
    );
    assert!(nothing_was_freed(&yours.heap), "nothing is freed");
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn cycle_holding_live_objects_frees_only_the_cycle() {
    let (yours, theirs) = on_both(|heap, gc| {
        // x = []
        // a = []; b = [a]; a.append(b)
        // a.append(x); b.append(7); b.append((x, 'label'))
        // del a, b
        let x = heap.assign_new_list("x");
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.list_append(a, x);
        let seven = heap.new_int(7);
        heap.list_append(b, seven);
        heap.decref(seven);
        let label = heap.new_str("label");
        let t = heap.new_tuple(&[x, label]);
        heap.decref(label);
        heap.list_append(b, t);
        heap.decref(t);
        let serials = [a, b, t].map(|id| heap.serial(id));
        del_all(heap, &["a", "b"]);
        let count_before = heap.refcount(x);
        let found = gc.collect(heap);
        (
            serials,
            count_before,
            found,
            heap.refcount(x),
            heap.gc_list_of(x),
        )
    });
    let (serials, count_before, found, count_after, x_list) = yours.out;
    assert_eq!(
        count_before, 3,
        "setup: the name x, a's item, the tuple's item"
    );
    assert_eq!(
        found, 3,
        "a, b and the tuple are unreachable containers; the int and the str are not containers"
    );
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(
        count_after, 1,
        "x lives on, and its count is back to the name's reference alone"
    );
    assert_eq!(x_list, Some(GcList::GEN2), "x survived a full collection");
    assert_eq!(
        yours.heap.live_objects(),
        3,
        "None, () and x are left: the int and the str went with the cycle"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn live_objects_holding_a_cycle_keep_it_alive() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class Holder: pass
        // holder = Holder(); c = []; d = [c]; c.append(d); holder.items = {'c': c}; del c, d
        let class = heap.new_class("Holder", None);
        let holder = heap.assign_new_instance("holder", class);
        let c = heap.assign_new_list("c");
        let d = heap.assign_new_list("d");
        heap.list_append(d, c);
        heap.list_append(c, d);
        let items = heap.new_dict();
        dict_set_str(heap, items, "c", c);
        heap.set_attr(holder, "items", items);
        heap.decref(items);
        del_all(heap, &["c", "d"]);
        let counts = |heap: &Heap| [holder, items, c, d].map(|id| heap.refcount(id));
        let before = counts(heap);
        let found = [gc.collect(heap), gc.collect(heap)];
        (before, found, counts(heap))
    });
    let (before, found, after) = yours.out;
    assert_eq!(found, [0, 0], "the name holder reaches the cycle");
    assert_eq!(after, before, "no count changed");
    assert!(nothing_was_freed(&yours.heap), "nothing is freed");
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn garbage_hanging_off_a_cycle_is_freed_and_counted_only_if_tracked() {
    let (yours, theirs) = on_both(|heap, gc| {
        // a = []; b = [a]; a.append(b)
        // tail = []; a.append(tail)
        // tail.append((1, 2))              a tuple, tracked since its creation
        // d = {}; d['k'] = 3; tail.append(d)   a dict of atoms: never tracked
        // del a, b, tail, d
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(b, a);
        heap.list_append(a, b);
        let tail = heap.assign_new_list("tail");
        heap.list_append(a, tail);
        let (one, two) = (heap.new_int(1), heap.new_int(2));
        let t = heap.new_tuple(&[one, two]);
        heap.decref(one);
        heap.decref(two);
        heap.list_append(tail, t);
        heap.decref(t);
        let d = heap.assign_new_dict("d");
        let three = heap.new_int(3);
        dict_set_str(heap, d, "k", three);
        heap.decref(three);
        heap.list_append(tail, d);
        let tracked = [a, b, tail, t].map(|id| heap.is_tracked(id));
        let d_tracked = heap.is_tracked(d);
        let serials = [a, b, tail, t, d].map(|id| heap.serial(id));
        del_all(heap, &["a", "b", "tail", "d"]);
        (tracked, d_tracked, serials, gc.collect(heap))
    });
    let (tracked, d_tracked, serials, found) = yours.out;
    assert_eq!(tracked, [true; 4], "setup");
    assert!(!d_tracked, "setup: a dict of atoms is not tracked");
    assert_eq!(
        found, 4,
        "a, b, tail and the tuple are tracked and unreachable; the dict is freed too, but it \
         was never tracked, so it is not counted"
    );
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(
        yours.heap.live_objects(),
        2,
        "the ints and the str key went too"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn nested_containers_in_a_cycle_are_collected_together() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class Node: pass
        // n = Node(); d = {}; l = []; t = (l, 1)
        // n.attrs = d; d['l'] = l; l.append(t); l.append(n)
        // n.meta = {1: 'x'}                  an untracked dict
        // del n, d, l, t
        let node = heap.new_class("Node", None);
        let n = heap.assign_new_instance("n", node);
        let d = heap.assign_new_dict("d");
        let l = heap.assign_new_list("l");
        let one = heap.new_int(1);
        let t = heap.assign_new_tuple("t", &[l, one]);
        heap.set_attr(n, "attrs", d);
        dict_set_str(heap, d, "l", l);
        heap.list_append(l, t);
        heap.list_append(l, n);
        let meta = heap.new_dict();
        let x = heap.new_str("x");
        heap.dict_set(meta, one, x);
        heap.decref(x);
        heap.decref(one);
        heap.set_attr(n, "meta", meta);
        heap.decref(meta);
        let serials = [n, d, l, t, meta].map(|id| heap.serial(id));
        del_all(heap, &["n", "d", "l", "t"]);
        (serials, gc.collect(heap))
    });
    let (serials, found) = yours.out;
    assert_eq!(
        found, 4,
        "the instance, the dict, the list and the tuple; n.meta is an untracked dict"
    );
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(yours.heap.live_objects(), 2);
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Finalizers and resurrection
// ---------------------------------------------------------------------------------------------

#[test]
fn finalizers_in_a_cycle_run_once_before_anything_is_freed() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class F: def __del__(self): print("F.__del__")
        // f1 = F(); f2 = F(); f1.other = f2; f2.other = f1; del f1, f2
        let class = class_with_del(heap, "F", vec![log("F.__del__")]);
        let f1 = heap.assign_new_instance("f1", class);
        let f2 = heap.assign_new_instance("f2", class);
        heap.set_attr(f1, "other", f2);
        heap.set_attr(f2, "other", f1);
        let serials = [heap.serial(f1), heap.serial(f2)];
        del_all(heap, &["f1", "f2"]);
        (serials, gc.collect(heap))
    });
    let ([s1, s2], found) = yours.out;
    assert_eq!(found, 2);
    let events = yours.heap.events();
    assert_eq!(
        events[..4],
        [
            Event::Finalized(s1),
            Event::Log("F.__del__".into()),
            Event::Finalized(s2),
            Event::Log("F.__del__".into()),
        ],
        "every finalizer runs, in list order, before anything of the cycle is torn down"
    );
    for serial in [s1, s2] {
        assert_eq!(times_finalized(&yours.heap, serial), 1);
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn resurrected_objects_survive_and_are_not_counted() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class P: def __del__(self): global saved; saved = self
        // p = P(); x = [p]; p.x = x          p <-> x
        // y = []; z = [y]; y.append(z)       y <-> z
        // del p, x, y, z
        let class = class_with_del(heap, "P", vec![Action::BindSelf("saved".into())]);
        let p = heap.assign_new_instance("p", class);
        let x = heap.assign_new_list("x");
        heap.list_append(x, p);
        heap.set_attr(p, "x", x);
        let serials = [p, x].map(|id| heap.serial(id));
        let yz = garbage_pair(heap);
        del_all(heap, &["p", "x"]);
        let first = gc.collect(heap);
        let after_first = (
            heap.lookup("saved") == Some(p),
            heap.is_alive(x),
            heap.is_finalized(p),
            heap.refcount(p),
            heap.gc_list_of(p),
            heap.gc_list_of(x),
        );
        // del saved
        heap.del("saved");
        let second = gc.collect(heap);
        (serials, yz, first, after_first, second)
    });
    let ([sp, sx], yz, first, after_first, second) = yours.out;
    assert_eq!(
        first, 2,
        "y and z are collected; p and x were brought back by p's __del__, and are not counted"
    );
    assert_eq!(
        after_first,
        (true, true, true, 2, Some(GcList::GEN2), Some(GcList::GEN2)),
        "after the first collection: saved is p, x lives, p is finalized, p's count is x's item \
         plus the name, and both are in generation 2"
    );
    for serial in yz {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(
        second, 2,
        "once saved is deleted, p and x are garbage again, and collected"
    );
    assert_eq!(
        times_finalized(&yours.heap, sp),
        1,
        "p's __del__ does not run a second time"
    );
    for serial in [sp, sx] {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn del_runs_once_across_two_collections_of_the_same_object() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class K: def __del__(self): kept.append(self)
        // kept = []
        // k1 = K(); k2 = K(); k1.other = k2; k2.other = k1; del k1, k2
        let class = class_with_del(heap, "K", vec![Action::AppendSelfTo("kept".into())]);
        let kept = heap.assign_new_list("kept");
        let k1 = heap.assign_new_instance("k1", class);
        let k2 = heap.assign_new_instance("k2", class);
        heap.set_attr(k1, "other", k2);
        heap.set_attr(k2, "other", k1);
        let serials = [heap.serial(k1), heap.serial(k2)];
        del_all(heap, &["k1", "k2"]);
        let first = gc.collect(heap);
        let kept_items = match heap.kind(kept) {
            Kind::List(items) => items.iter().map(|&id| heap.serial(id)).collect(),
            _ => Vec::new(),
        };
        let finalized = [heap.is_finalized(k1), heap.is_finalized(k2)];
        // del kept: k1 and k2 are a garbage cycle again
        heap.del("kept");
        let second = gc.collect(heap);
        (serials, first, kept_items, finalized, second)
    });
    let (serials, first, kept_items, finalized, second) = yours.out.clone();
    assert_eq!(
        first, 0,
        "both __del__ run, each appends its object to kept: both are reachable again"
    );
    assert_eq!(
        kept_items, serials,
        "kept holds k1 and k2, in the order they were finalized"
    );
    assert_eq!(finalized, [true, true], "gc.is_finalized is true for both");
    assert_eq!(second, 2, "the second collection frees them");
    for serial in serials {
        assert_eq!(
            times_finalized(&yours.heap, serial),
            1,
            "a __del__ runs at most once per object, whatever happens later"
        );
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Weak references
// ---------------------------------------------------------------------------------------------

#[test]
fn weakref_callback_runs_when_its_referent_is_collected() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class C: pass
        // o = C(); l = [o]; o.l = l
        // w = weakref.ref(o, cb)     where cb prints "callback"
        // b = weakref.ref(o)
        // del o, l
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        let l = heap.assign_new_list("l");
        heap.list_append(l, o);
        heap.set_attr(o, "l", l);
        let w = heap.assign_new_weakref("w", o, Some(Callback::new([log("callback")])));
        let b = heap.assign_new_weakref("b", o, None);
        let serials = [o, l, w].map(|id| heap.serial(id));
        del_all(heap, &["o", "l"]);
        let found = gc.collect(heap);
        (
            serials,
            found,
            heap.weakref_referent(w).is_none(),
            heap.weakref_referent(b).is_none(),
            heap.refcount(w),
        )
    });
    let ([so, sl, sw], found, w_cleared, b_cleared, w_count) = yours.out;
    assert_eq!(
        found, 2,
        "o and l; the weakrefs are reachable (names) and survive"
    );
    assert!(w_cleared && b_cleared, "w() and b() return None");
    assert_eq!(w_count, 1, "w is back to its name's reference");
    assert_eq!(
        yours.heap.events()[..2],
        [Event::CallbackCalled(sw), Event::Log("callback".into())],
        "the callback of the reachable weakref runs, before anything is freed"
    );
    for serial in [so, sl] {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_collected_with_its_referent_never_calls_back() {
    let (yours, theirs) = on_both(|heap, gc| {
        // o = C(); o.me = o; o.w = weakref.ref(o, cb); del o
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let w = heap.new_weakref(o, Some(Callback::new([log("callback")])));
        heap.set_attr(o, "w", w);
        heap.decref(w);
        let serials = [heap.serial(o), heap.serial(w)];
        heap.del("o");
        (serials, gc.collect(heap))
    });
    let (serials, found) = yours.out;
    assert_eq!(
        found, 2,
        "o and its weakref, which is garbage too (and tracked)"
    );
    assert!(
        !yours
            .heap
            .events()
            .iter()
            .any(|e| matches!(e, Event::CallbackCalled(_))),
        "a weakref that dies with its referent never calls back"
    );
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_freed_by_its_own_callback_is_counted() {
    let (yours, theirs) = on_both(|heap, gc| {
        // o = C(); o.me = o
        // w = weakref.ref(o, cb)     where cb does `global w; del w`
        // del o
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let cb = Callback::new([Action::Unbind("w".into())]);
        let w = heap.assign_new_weakref("w", o, Some(cb));
        let serials = [heap.serial(o), heap.serial(w)];
        heap.del("o");
        (serials, gc.collect(heap))
    });
    let ([so, sw], found) = yours.out;
    assert_eq!(
        found, 2,
        "o, and w, which its callback freed: the collection counts it"
    );
    assert_eq!(yours.heap.events()[0], Event::CallbackCalled(sw));
    for serial in [so, sw] {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(yours.heap.live_objects(), 2);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_callbacks_run_before_finalizers() {
    let (yours, theirs) = on_both(|heap, gc| {
        // class F: def __del__(self): print("del")
        // f = F(); f.me = f; w = weakref.ref(f, cb)  where cb prints "cb"; del f
        let class = class_with_del(heap, "F", vec![log("del")]);
        let f = heap.assign_new_instance("f", class);
        heap.set_attr(f, "me", f);
        let w = heap.assign_new_weakref("w", f, Some(Callback::new([log("cb")])));
        let serials = [heap.serial(f), heap.serial(w)];
        heap.del("f");
        (serials, gc.collect(heap))
    });
    let ([sf, sw], found) = yours.out;
    assert_eq!(found, 1, "f; w has a name");
    assert_eq!(
        yours.heap.events(),
        [
            Event::CallbackCalled(sw),
            Event::Log("cb".into()),
            Event::Finalized(sf),
            Event::Log("del".into()),
            Event::Destroyed(sf),
        ],
        "weakrefs are handled before finalizers run, and finalizers before anything is freed"
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Untracking
// ---------------------------------------------------------------------------------------------

#[test]
fn tuples_are_untracked_by_every_collection() {
    let (yours, theirs) = on_both(|heap, gc| {
        // t = (1, 'a')
        // outer = ((1,), 2)            the inner tuple has no name
        // inner2 = (2,); outer2 = (inner2, 3)
        // tl = ([],)
        let one = heap.new_int(1);
        let a = heap.new_str("a");
        let t = heap.assign_new_tuple("t", &[one, a]);
        let inner = heap.new_tuple(&[one]);
        let two = heap.new_int(2);
        let outer = heap.assign_new_tuple("outer", &[inner, two]);
        let inner2 = heap.assign_new_tuple("inner2", &[two]);
        let three = heap.new_int(3);
        let outer2 = heap.assign_new_tuple("outer2", &[inner2, three]);
        let l = heap.new_list();
        let tl = heap.assign_new_tuple("tl", &[l]);
        for id in [one, a, inner, two, three, l] {
            heap.decref(id);
        }
        let ids = [t, inner, outer, inner2, outer2, tl];
        let mut seen = vec![ids.map(|id| heap.gc_list_of(id))];
        for g in [0, 1] {
            assert_eq!(gc.collect_generation(heap, g), Ok(0));
            seen.push(ids.map(|id| heap.gc_list_of(id)));
        }
        seen
    });
    let (gen0, gen1, gen2) = (Some(GcList::GEN0), Some(GcList::GEN1), Some(GcList::GEN2));
    assert_eq!(
        yours.out,
        [
            // t, inner, outer, inner2, outer2, tl: tuples are tracked at creation
            [gen0, gen0, gen0, gen0, gen0, gen0],
            // collect(0) untracks (1, 'a'), and both of inner2 and outer2 (inner2 has a name,
            // so it keeps its place before outer2). The unnamed inner tuple has gc_refs 0: the
            // scan moves it to unreachable, then outer moves it back, *behind* outer. The
            // untracking pass meets outer first, while inner is still tracked. ([],) holds a
            // list. The survivors are promoted.
            [None, None, gen1, None, None, gen1],
            // collect(1) looks at generation 1 too: outer now holds nothing tracked
            [None, None, None, None, None, gen2],
        ],
        "where each tuple is (None: untracked) at the start and after collect(0), collect(1)"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn dicts_are_untracked_only_by_full_collections() {
    let (yours, theirs) = on_both(|heap, gc| {
        // d = {}; d['x'] = []; del d['x']      tracked, now holds nothing
        // dt = {'t': (1, 2)}                    tracked: the tuple was tracked at insertion
        // dl = {'l': []}
        let d = heap.assign_new_dict("d");
        let x = heap.new_list();
        dict_set_str(heap, d, "x", x);
        heap.decref(x);
        let key = heap.new_str("x");
        heap.dict_del(d, key);
        heap.decref(key);
        let dt = heap.assign_new_dict("dt");
        let (one, two) = (heap.new_int(1), heap.new_int(2));
        let t = heap.new_tuple(&[one, two]);
        dict_set_str(heap, dt, "t", t);
        for id in [one, two, t] {
            heap.decref(id);
        }
        let dl = heap.assign_new_dict("dl");
        let l = heap.new_list();
        dict_set_str(heap, dl, "l", l);
        heap.decref(l);
        let ids = [d, dt, dl];
        let mut seen = vec![ids.map(|id| heap.gc_list_of(id))];
        for g in [0, 1, 2] {
            assert_eq!(gc.collect_generation(heap, g), Ok(0));
            seen.push(ids.map(|id| heap.gc_list_of(id)));
        }
        seen
    });
    let generation = |g| Some(GcList::generation(g));
    assert_eq!(
        yours.out,
        [
            [generation(0), generation(0), generation(0)],
            // collect(0) and collect(1) never untrack a dict: they are promoted
            [generation(1), generation(1), generation(1)],
            [generation(2), generation(2), generation(2)],
            // collect(2) untracks d (empty) and dt (its tuple was untracked by the same pass
            // over the survivors: tuples first, then dicts); dl holds a list
            [None, None, generation(2)],
        ],
        "where d, dt and dl are before and after collect(0), collect(1), collect(2)"
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// The gc module around the collection
// ---------------------------------------------------------------------------------------------

#[test]
fn saveall_keeps_garbage_in_gc_garbage_instead_of_freeing_it() {
    let (yours, theirs) = on_both(|heap, gc| {
        // gc.set_debug(gc.DEBUG_SAVEALL)
        gc.set_debug(heap, cycles::DEBUG_SAVEALL);
        let serials = garbage_pair(heap);
        let first = gc.collect(heap);
        let garbage = gc
            .garbage()
            .expect("set_debug(DEBUG_SAVEALL) makes gc.garbage");
        let saved: Vec<u64> = match heap.kind(garbage) {
            Kind::List(items) => items.iter().map(|&id| heap.serial(id)).collect(),
            _ => Vec::new(),
        };
        let destroyed_after_first = heap.destroyed_count();
        let second = gc.collect(heap);
        // gc.set_debug(0); del gc.garbage[:]   (the collector lets go of gc.garbage)
        gc.set_debug(heap, 0);
        gc.release(heap);
        let third = gc.collect(heap);
        (serials, first, saved, destroyed_after_first, second, third)
    });
    let (serials, first, saved, destroyed_after_first, second, third) = yours.out.clone();
    assert_eq!(first, 2, "the two lists are found and counted");
    assert_eq!(
        saved, serials,
        "gc.garbage holds them, in the order they were found"
    );
    assert_eq!(destroyed_after_first, 0, "and nothing is freed");
    assert_eq!(
        second, 0,
        "a second collection finds nothing: gc.garbage keeps them reachable"
    );
    assert_eq!(
        third, 2,
        "once gc.garbage is gone, the cycle is garbage again, and freed"
    );
    for serial in serials {
        assert_eq!(times_destroyed(&yours.heap, serial), 1);
    }
    assert_eq!(yours.heap.live_objects(), 2);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn collections_reset_and_bump_the_generation_counts() {
    let (yours, theirs) = on_both(|heap, gc| {
        let mut seen = Vec::new();
        // Three live lists and a garbage self-referencing one: four allocations.
        for name in ["a", "b", "c"] {
            heap.assign_new_list(name);
        }
        let g = heap.new_list();
        heap.list_append(g, g);
        heap.decref(g);
        seen.push(heap.gc_counts());
        let mut step = |heap: &mut Heap, gc: &mut dyn Gc, g: usize, new_lists: &[&str]| {
            assert!(gc.collect_generation(heap, g).is_ok());
            seen.push(heap.gc_counts());
            for name in new_lists {
                heap.assign_new_list(name);
            }
            seen.push(heap.gc_counts());
        };
        step(heap, gc, 0, &["d", "e"]);
        step(heap, gc, 0, &[]);
        step(heap, gc, 1, &["f"]);
        step(heap, gc, 0, &[]);
        step(heap, gc, 2, &[]);
        seen
    });
    assert_eq!(
        yours.out,
        [
            [4, 0, 0], // four lists allocated
            [0, 1, 0], // collect(0): count0 = 0 (the freed list cannot take it below), count1 + 1
            [2, 1, 0], // two allocations
            [0, 2, 0], // collect(0)
            [0, 2, 0],
            [0, 0, 1], // collect(1): count0 = count1 = 0, count2 + 1
            [1, 0, 1], // one allocation
            [0, 1, 1], // collect(0)
            [0, 1, 1],
            [0, 0, 0], // collect(2): all three reset
            [0, 0, 0],
        ],
        "gc.get_count() after each step"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn stats_credit_each_collection_to_its_generation() {
    let (yours, theirs) = on_both(|heap, gc| {
        let mut found = Vec::new();
        let mut stats = Vec::new();
        // (garbage 2-cycles made before, generation collected)
        for (pairs, g) in [(1, 0), (2, 1), (3, 2), (0, 2), (0, 0)] {
            for _ in 0..pairs {
                garbage_pair(heap);
            }
            found.push(gc.collect_generation(heap, g));
            stats.push(gc.stats());
        }
        (found, stats)
    });
    let (found, stats) = &yours.out;
    assert_eq!(*found, [Ok(2), Ok(4), Ok(6), Ok(0), Ok(0)]);
    assert_eq!(
        stats.last().copied(),
        Some([(2, 2, 0), (1, 4, 0), (2, 6, 0)]),
        "gc.get_stats(): (collections, collected, uncollectable) for generations 0, 1 and 2; \
         each collection is credited to the generation asked for only"
    );
    assert_eq!(
        stats[0],
        [(1, 2, 0), (0, 0, 0), (0, 0, 0)],
        "after the first collect(0)"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn long_lived_counts_follow_middle_and_full_collections() {
    let (yours, theirs) = on_both(|heap, gc| {
        let mut seen = Vec::new();
        for name in ["a", "b", "c", "d", "e"] {
            heap.assign_new_list(name);
        }
        gc.collect_generation(heap, 0).unwrap();
        seen.push(gc.long_lived());
        gc.collect_generation(heap, 1).unwrap();
        seen.push(gc.long_lived());
        for name in ["f", "g", "h"] {
            heap.assign_new_list(name);
        }
        gc.collect_generation(heap, 0).unwrap();
        gc.collect_generation(heap, 1).unwrap();
        seen.push(gc.long_lived());
        gc.collect(heap);
        seen.push(gc.long_lived());
        del_all(heap, &["a", "b"]);
        gc.collect(heap);
        seen.push(gc.long_lived());
        seen
    });
    assert_eq!(
        yours.out,
        [
            (0, 0), // collect(0) changes neither
            (0, 5), // collect(1) promotes the five survivors to generation 2: pending 5
            (0, 8), // three more promoted
            (8, 0), // a full collection: total = its 8 survivors, pending back to 0
            (6, 0), // two lists deleted: 6 survivors
        ],
        "(long_lived_total, long_lived_pending) after each step"
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Generations
// ---------------------------------------------------------------------------------------------

#[test]
fn young_collection_leaves_older_generations_alone_and_promotes_survivors() {
    let (yours, theirs) = on_both(|heap, gc| {
        let mut seen = Vec::new();
        let mut record = |heap: &Heap, found: usize| {
            seen.push((found, [0, 1, 2].map(|g| generation(heap, g))));
        };
        // a, b: a 2-cycle that survives a full collection (named), then becomes garbage
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(a, b);
        heap.list_append(b, a);
        let found = gc.collect(heap);
        record(heap, found);
        del_all(heap, &["a", "b"]);
        // c, d: the same, promoted to generation 1 by collect(0)
        let c = heap.assign_new_list("c");
        let d = heap.assign_new_list("d");
        heap.list_append(c, d);
        heap.list_append(d, c);
        let found = gc.collect_generation(heap, 0).unwrap();
        record(heap, found);
        del_all(heap, &["c", "d"]);
        // e lives; a new 2-cycle is garbage in generation 0
        let e = heap.assign_new_list("e");
        let serials = [a, b, c, d, e].map(|id| heap.serial(id));
        garbage_pair(heap);
        for g in [0, 1, 2] {
            let found = gc.collect_generation(heap, g).unwrap();
            record(heap, found);
        }
        (serials, seen)
    });
    let ([a, b, c, d, e], seen) = &yours.out;
    let (a, b, c, d, e) = (*a, *b, *c, *d, *e);
    assert_eq!(
        *seen,
        [
            (0, [vec![], vec![], vec![a, b]]),
            (0, [vec![], vec![c, d], vec![a, b]]),
            // collect(0): only generation 0 is looked at: the new cycle is found, e moves to
            // generation 1, after c and d, which are garbage but not looked at
            (2, [vec![], vec![c, d, e], vec![a, b]]),
            // collect(1): c and d are found; e moves on to generation 2
            (2, [vec![], vec![], vec![a, b, e]]),
            // collect(2): a and b are found at last
            (2, [vec![], vec![], vec![e]]),
        ],
        "(found, [generation 0, 1, 2]) after each collection"
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn older_generations_act_as_roots_for_a_young_collection() {
    let (yours, theirs) = on_both(|heap, gc| {
        let mut seen = Vec::new();
        // old = []; gc.collect()        old is in generation 2
        let old = heap.assign_new_list("old");
        seen.push((gc.collect(heap), heap.gc_list_of(old)));
        // a = []; b = [a]; a.append(b); old.append(a); del a, b
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(b, a);
        heap.list_append(a, b);
        heap.list_append(old, a);
        del_all(heap, &["a", "b"]);
        seen.push((gc.collect_generation(heap, 0).unwrap(), heap.gc_list_of(a)));
        // del old: old dies (reference counting); a and b are garbage in generation 1
        heap.del("old");
        seen.push((gc.collect_generation(heap, 0).unwrap(), heap.gc_list_of(a)));
        let found = gc.collect_generation(heap, 1).unwrap();
        seen.push((found, None));
        seen
    });
    assert_eq!(
        yours.out,
        [
            (0, Some(GcList::GEN2)),
            // old, in generation 2, refers to a: a reference from outside generation 0
            (0, Some(GcList::GEN1)),
            // a and b are garbage now, but in generation 1: collect(0) does not see them
            (0, Some(GcList::GEN1)),
            (2, None),
        ],
        "(found, where a is) after each collection"
    );
    assert_eq!(yours.heap.live_objects(), 2);
    assert_same_as_reference(&theirs, &yours);
}
