//! Graded tests for lab 03: whole collections, through `Collector::collect` and
//! `Collector::collect_generation` (`gc.collect()` and `gc.collect(generation)`).
//!
//! Each test is a small Python program, written once as a closure over a heap, a collector and
//! the names of its objects, and run twice: with your collector, then with the reference's on a
//! twin heap. The test asserts the exact numbers the scenario makes obvious (what `gc.collect()`
//! returns, which objects are freed, exactly once), then that both runs agree: what the scenario
//! saw, the final heaps (objects, counts, generations in order) and what happened (finalizers,
//! callbacks, frees, in order). Your heap must also keep every invariant. Failures name objects
//! by the names the scenario gave them.
//!
//! The two tests on very large graphs run your collector only, and check the numbers.
//!
//! The tests are in the order of the book: collections that find nothing, then garbage, then
//! young collections; then untracking, weak references and finalizers through whole collections.

mod support;

use std::fmt::Debug;

use pyheap::{Action, Callback, Event, GcList, Heap, Kind, ObjId};
use support::{Names, assert_keeps_invariants, class_with_del, dict_set_str, log, words};
use testkit::{assert_expected, assert_same};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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

/// One run of a scenario: the heap it left behind, what it returned, and the names it gave.
struct Run<T> {
    heap: Heap,
    out: T,
    names: Names,
}

/// Runs `scenario` with your collector on a new heap, then with the reference's on another.
fn on_both<T>(scenario: impl Fn(&mut Heap, &mut dyn Gc, &mut Names) -> T) -> (Run<T>, Run<T>) {
    let run = |gc: &mut dyn Gc| {
        let mut heap = Heap::new();
        let mut names = Names::new();
        let out = scenario(&mut heap, gc, &mut names);
        Run { heap, out, names }
    };
    let yours = run(&mut cycles::Collector::new());
    let theirs = run(&mut reference::Collector::new());
    (yours, theirs)
}

/// Both runs must agree: what the scenario saw, the heaps at the end and what happened. Your
/// heap must keep every invariant.
#[track_caller]
fn assert_same_as_reference<T: PartialEq + Debug>(theirs: &Run<T>, yours: &Run<T>) {
    let names = &yours.names;
    assert_same(
        "what the scenario saw (the values it returned)",
        &theirs.out,
        &yours.out,
    );
    assert_same(
        "the heap at the end: every object (its count, its list), the names, the GC lists in \
         order, the allocation counts",
        &names.dump_lines(&theirs.heap),
        &names.dump_lines(&yours.heap),
    );
    assert_same(
        "what happened, in order: finalizers, callbacks, frees",
        &names.events(theirs.heap.events()),
        &names.events(yours.heap.events()),
    );
    assert_keeps_invariants(names, &yours.heap, "the scenario");
}

/// Fails unless each of `objects` was freed exactly once in `run`.
#[track_caller]
fn assert_freed_once<T>(run: &Run<T>, objects: &[&str]) {
    for name in objects {
        assert_expected(
            &format!("how many times {name} was freed"),
            &1,
            &run.names.times_freed(run.heap.events(), name),
        );
    }
}

/// Fails if anything was freed in `run`.
#[track_caller]
fn assert_nothing_freed<T>(run: &Run<T>) {
    let freed: Vec<String> = run
        .names
        .events(run.heap.events())
        .into_iter()
        .filter(|e| e.ends_with(" freed"))
        .collect();
    assert_expected("what was freed: nothing", &Vec::<String>::new(), &freed);
}

/// The names of generation `g`, head to tail.
fn generation(names: &Names, heap: &Heap, g: usize) -> Vec<String> {
    names.list(heap, GcList::generation(g))
}

/// `a = []; b = [a]; a.append(b); del a, b`: a 2-cycle of lists, garbage, called `a` and `b`
/// (with a suffix, if given).
fn garbage_pair(heap: &mut Heap, names: &mut Names, suffix: &str) {
    let a = heap.new_list();
    let b = heap.new_list();
    heap.list_append(b, a);
    heap.list_append(a, b);
    names.add(heap, a, &format!("a{suffix}"));
    names.add(heap, b, &format!("b{suffix}"));
    heap.decref(a);
    heap.decref(b);
}

/// Deletes each name.
fn del_all(heap: &mut Heap, names: &[&str]) {
    for name in names {
        heap.del(name);
    }
}

// ---------------------------------------------------------------------------------------------
// Collections that find nothing (start_collection)
// ---------------------------------------------------------------------------------------------

#[test]
fn cycle_reachable_from_a_name_is_not_collected() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // a = []; b = [a]; a.append(b); del b
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(b, a);
        heap.list_append(a, b);
        names.remember_bound(heap);
        heap.del("b");
        let found = gc.collect(heap);
        (
            found,
            [heap.refcount(a), heap.refcount(b)],
            generation(names, heap, 2),
        )
    });
    let (found, counts, gen2) = &yours.out;
    assert_expected(
        "what gc.collect() returned: the name a reaches the whole cycle",
        &0,
        found,
    );
    assert_expected(
        "the counts of [a, b]: untouched (a has the name and b's item, b has a's item)",
        &[2, 1],
        counts,
    );
    assert_expected(
        "generation 2 after gc.collect(): both survive there (a full collection keeps its \
         survivors in generation 2), in their order",
        &words(&["a", "b"]),
        gen2,
    );
    assert_nothing_freed(&yours);
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Garbage (handle_unreachable)
// ---------------------------------------------------------------------------------------------

#[test]
fn self_referencing_list_is_collected_and_counted_once() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // a = []; a.append(a); del a
        let a = heap.assign_new_list("a");
        heap.list_append(a, a);
        names.remember_bound(heap);
        heap.del("a");
        let survived_del = heap.is_alive(a);
        let first = gc.collect(heap);
        let second = gc.collect(heap);
        (survived_del, first, second)
    });
    let (survived_del, first, second) = yours.out;
    assert!(
        survived_del,
        "setup: reference counting alone cannot free a"
    );
    assert_expected(
        "what gc.collect() returned: one unreachable container, the list a",
        &1,
        &first,
    );
    assert_freed_once(&yours, &["a"]);
    assert_expected(
        "how many objects are left: only None and ()",
        &2,
        &yours.heap.live_objects(),
    );
    assert_expected(
        "what a second gc.collect() returned: nothing is left to find",
        &0,
        &second,
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn cycle_holding_live_objects_frees_only_the_cycle() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        names.add(heap, t, "(x, 'label')");
        del_all(heap, &["a", "b"]);
        let count_before = heap.refcount(x);
        let found = gc.collect(heap);
        (count_before, found, heap.refcount(x), heap.gc_list_of(x))
    });
    let (count_before, found, count_after, x_list) = yours.out;
    assert_expected(
        "setup: the count of x (the name x, a's item, the tuple's item)",
        &3,
        &count_before,
    );
    assert_expected(
        "what gc.collect() returned: a, b and the tuple are unreachable containers; the int and \
         the str are not containers",
        &3,
        &found,
    );
    assert_freed_once(&yours, &["a", "b", "(x, 'label')"]);
    assert_expected(
        "the count of x afterwards: x lives on, with the name's reference alone",
        &1,
        &count_after,
    );
    assert_expected(
        "the list x is in: it survived a full collection",
        &Some(GcList::GEN2),
        &x_list,
    );
    assert_expected(
        "how many objects are left: None, () and x (the int and the str went with the cycle)",
        &3,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn garbage_hanging_off_a_cycle_is_freed_and_counted_only_if_tracked() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        names.add(heap, t, "(1, 2)");
        let tracked = [a, b, tail, t, d].map(|id| heap.is_tracked(id));
        del_all(heap, &["a", "b", "tail", "d"]);
        (tracked, gc.collect(heap))
    });
    let (tracked, found) = yours.out;
    assert_expected(
        "setup: whether a, b, tail, (1, 2) and d are tracked (a dict of atoms is not)",
        &[true, true, true, true, false],
        &tracked,
    );
    assert_expected(
        "what gc.collect() returned: a, b, tail and the tuple are tracked and unreachable; the \
         dict d is freed too, but it was never tracked, so it is not counted",
        &4,
        &found,
    );
    assert_freed_once(&yours, &["a", "b", "tail", "(1, 2)", "d"]);
    assert_expected(
        "how many objects are left: only None and () (the ints and the str key went too)",
        &2,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn nested_containers_in_a_cycle_are_collected_together() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        names.add(heap, meta, "n.meta");
        del_all(heap, &["n", "d", "l", "t"]);
        gc.collect(heap)
    });
    assert_expected(
        "what gc.collect() returned: the instance n, the dict d, the list l and the tuple t; \
         n.meta is an untracked dict",
        &4,
        &yours.out,
    );
    assert_freed_once(&yours, &["n", "d", "l", "t", "n.meta"]);
    assert_expected(
        "how many objects are left: only None and ()",
        &2,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn rings_of_every_size_up_to_1000_are_collected() {
    let mut heap = Heap::new();
    let mut gc = cycles::Collector::new();
    let node = heap.new_class("Node", None);
    for n in 1..=1000usize {
        // A ring of n objects: lists, instances or dicts, depending on n.
        let kind = ["lists", "instances", "dicts"][n % 3];
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
        assert_expected(
            &format!("what gc.collect() returned for a ring of {n} {kind}"),
            &n,
            &found,
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
        assert!(
            destroyed == serials,
            "after the collection of a ring of {n} {kind}: each object of the ring must be \
             freed exactly once; {} of {n} frees happened, {} distinct objects",
            destroyed.len(),
            {
                let mut distinct = destroyed.clone();
                distinct.dedup();
                distinct.len()
            }
        );
        assert_expected(
            &format!("how many objects are left after the ring of {n} {kind}: only None and ()"),
            &2,
            &heap.live_objects(),
        );
    }
    assert_keeps_invariants(&Names::new(), &heap, "the rings");
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
    assert_expected(
        &format!("what gc.collect() returned for a garbage ring of {N} lists"),
        &N,
        &gc.collect(&mut heap),
    );
    assert_expected(
        "how many objects are left after the ring: only None and ()",
        &2,
        &heap.live_objects(),
    );
    assert_expected(
        "how many objects were freed: each list of the ring, once",
        &(N as u64),
        &heap.destroyed_count(),
    );

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
    assert_expected(
        &format!("what gc.collect() returned for a chain of {N} lists held by the name head"),
        &0,
        &gc.collect(&mut heap),
    );
    let gen2: Vec<u64> = heap
        .gc_list_objects(GcList::GEN2)
        .into_iter()
        .map(|id| heap.serial(id))
        .collect();
    if let Some(at) = (0..N).find(|&i| gen2.get(i) != chain.get(i)) {
        panic!(
            "generation 2 after the chain's collection must hold the chain in chain order, head \
             first (each node moved back behind the one that reached it), but its node {at} is \
             not the chain's node {at} ({} objects in generation 2, {N} in the chain)",
            gen2.len()
        );
    }
    heap.del("head");
    assert_expected(
        "how many objects are left after del head: only None and ()",
        &2,
        &heap.live_objects(),
    );
    assert_keeps_invariants(&Names::new(), &heap, "the ring and the chain");
}

#[test]
fn saveall_keeps_garbage_in_gc_garbage_instead_of_freeing_it() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // gc.set_debug(gc.DEBUG_SAVEALL)
        gc.set_debug(heap, cycles::DEBUG_SAVEALL);
        garbage_pair(heap, names, "");
        let first = gc.collect(heap);
        let garbage = gc
            .garbage()
            .expect("set_debug(DEBUG_SAVEALL) makes gc.garbage");
        names.add(heap, garbage, "gc.garbage");
        let saved: Vec<String> = match heap.kind(garbage) {
            Kind::List(items) => names.all(heap, items),
            _ => Vec::new(),
        };
        let destroyed_after_first = heap.destroyed_count();
        let second = gc.collect(heap);
        // gc.set_debug(0); del gc.garbage[:]   (the collector lets go of gc.garbage)
        gc.set_debug(heap, 0);
        gc.release(heap);
        let third = gc.collect(heap);
        (first, saved, destroyed_after_first, second, third)
    });
    let (first, saved, destroyed_after_first, second, third) = yours.out.clone();
    assert_expected(
        "what the first gc.collect() returned: the two lists are found and counted",
        &2,
        &first,
    );
    assert_expected(
        "gc.garbage after it: the two lists, in the order they were found",
        &words(&["a", "b"]),
        &saved,
    );
    assert_expected(
        "how many objects were freed by it: none",
        &0,
        &destroyed_after_first,
    );
    assert_expected(
        "what a second gc.collect() returned: gc.garbage keeps them reachable",
        &0,
        &second,
    );
    assert_expected(
        "what gc.collect() returned once gc.garbage is gone: the cycle is garbage again",
        &2,
        &third,
    );
    assert_freed_once(&yours, &["a", "b"]);
    assert_expected(
        "how many objects are left: only None and ()",
        &2,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Young collections (promote_survivors)
// ---------------------------------------------------------------------------------------------

#[test]
fn young_collection_leaves_older_generations_alone_and_promotes_survivors() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        let mut seen = Vec::new();
        let mut record = |heap: &Heap, names: &Names, found: usize| {
            seen.push((found, [0, 1, 2].map(|g| generation(names, heap, g))));
        };
        // a, b: a 2-cycle that survives a full collection (named), then becomes garbage
        let a = heap.assign_new_list("a");
        let b = heap.assign_new_list("b");
        heap.list_append(a, b);
        heap.list_append(b, a);
        names.remember_bound(heap);
        let found = gc.collect(heap);
        record(heap, names, found);
        del_all(heap, &["a", "b"]);
        // c, d: the same, promoted to generation 1 by collect(0)
        let c = heap.assign_new_list("c");
        let d = heap.assign_new_list("d");
        heap.list_append(c, d);
        heap.list_append(d, c);
        names.remember_bound(heap);
        let found = gc.collect_generation(heap, 0).unwrap();
        record(heap, names, found);
        del_all(heap, &["c", "d"]);
        // e lives; a new 2-cycle is garbage in generation 0
        heap.assign_new_list("e");
        names.remember_bound(heap);
        garbage_pair(heap, names, "'");
        for g in [0, 1, 2] {
            let found = gc.collect_generation(heap, g).unwrap();
            record(heap, names, found);
        }
        seen
    });
    let generations = |found: usize, lists: [&[&str]; 3]| (found, lists.map(words));
    assert_expected(
        "(what each collection returned, [generation 0, 1, 2] after it), for gc.collect(), then \
         gc.collect(0) with c and d new, then gc.collect(0), (1), (2) with e and a garbage pair \
         a', b' new. collect(0) looks at generation 0 only: it finds a', b' and moves e to \
         generation 1, after c and d, which are garbage but not looked at; collect(1) finds c \
         and d and moves e on to generation 2; collect(2) finds a and b at last",
        &vec![
            generations(0, [&[], &[], &["a", "b"]]),
            generations(0, [&[], &["c", "d"], &["a", "b"]]),
            generations(2, [&[], &["c", "d", "e"], &["a", "b"]]),
            generations(2, [&[], &[], &["a", "b", "e"]]),
            generations(2, [&[], &[], &["e"]]),
        ],
        &yours.out,
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn older_generations_act_as_roots_for_a_young_collection() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        del_all(heap, &["a", "b"]);
        seen.push((gc.collect_generation(heap, 0).unwrap(), heap.gc_list_of(a)));
        // del old: old dies (reference counting); a and b are garbage in generation 1
        heap.del("old");
        seen.push((gc.collect_generation(heap, 0).unwrap(), heap.gc_list_of(a)));
        let found = gc.collect_generation(heap, 1).unwrap();
        seen.push((found, None));
        seen
    });
    assert_expected(
        "(what each collection returned, the list a is in after it): gc.collect() with old new; \
         gc.collect(0) with a, b new and referred to by old, in generation 2, a reference from \
         outside generation 0 (a survives, promoted); gc.collect(0) after del old (a and b are \
         garbage now, but in generation 1, which collect(0) does not see); gc.collect(1)",
        &vec![
            (0, Some(GcList::GEN2)),
            (0, Some(GcList::GEN1)),
            (0, Some(GcList::GEN1)),
            (2, None),
        ],
        &yours.out,
    );
    assert_expected(
        "how many objects are left: only None and ()",
        &2,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn collections_reset_and_bump_the_generation_counts() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        let mut seen = Vec::new();
        // Three live lists and a garbage self-referencing one: four allocations.
        for name in ["a", "b", "c"] {
            heap.assign_new_list(name);
        }
        let g = heap.new_list();
        heap.list_append(g, g);
        names.remember_bound(heap);
        names.add(heap, g, "g");
        heap.decref(g);
        seen.push(heap.gc_counts());
        let mut step = |heap: &mut Heap, gc: &mut dyn Gc, g: usize, new_lists: &[&str]| {
            assert!(
                gc.collect_generation(heap, g).is_ok(),
                "gc.collect({g}) refused a valid generation"
            );
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
    assert_expected(
        "gc.get_count() after each step: four lists allocated; collect(0) (count0 = 0: the \
         freed g cannot take it below; count1 + 1); two allocations; collect(0); none; \
         collect(1) (count0 = count1 = 0, count2 + 1); one allocation; collect(0); none; \
         collect(2) (all three reset); none",
        &vec![
            [4, 0, 0],
            [0, 1, 0],
            [2, 1, 0],
            [0, 2, 0],
            [0, 2, 0],
            [0, 0, 1],
            [1, 0, 1],
            [0, 1, 1],
            [0, 1, 1],
            [0, 0, 0],
            [0, 0, 0],
        ],
        &yours.out,
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn stats_credit_each_collection_to_its_generation() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        let mut found = Vec::new();
        let mut stats = Vec::new();
        // (garbage 2-cycles made before, generation collected)
        for (round, (pairs, g)) in [(1, 0), (2, 1), (3, 2), (0, 2), (0, 0)]
            .into_iter()
            .enumerate()
        {
            for pair in 0..pairs {
                garbage_pair(heap, names, &format!("{round}.{pair}"));
            }
            found.push(gc.collect_generation(heap, g));
            stats.push(gc.stats());
        }
        (found, stats)
    });
    let (found, stats) = &yours.out;
    assert_expected(
        "what collect(0), collect(1), collect(2), collect(2), collect(0) returned, with 1, 2, 3, \
         0, 0 garbage pairs made before each",
        &vec![Ok(2), Ok(4), Ok(6), Ok(0), Ok(0)],
        found,
    );
    assert_expected(
        "gc.get_stats() after the first collect(0): (collections, collected, uncollectable) for \
         generations 0, 1 and 2",
        &[(1, 2, 0), (0, 0, 0), (0, 0, 0)],
        &stats[0],
    );
    assert_expected(
        "gc.get_stats() at the end: each collection is credited to the generation asked for, \
         only",
        &Some([(2, 2, 0), (1, 4, 0), (2, 6, 0)]),
        &stats.last().copied(),
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn long_lived_counts_follow_middle_and_full_collections() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        let mut seen = Vec::new();
        for name in ["a", "b", "c", "d", "e"] {
            heap.assign_new_list(name);
        }
        names.remember_bound(heap);
        gc.collect_generation(heap, 0).unwrap();
        seen.push(gc.long_lived());
        gc.collect_generation(heap, 1).unwrap();
        seen.push(gc.long_lived());
        for name in ["f", "g", "h"] {
            heap.assign_new_list(name);
        }
        names.remember_bound(heap);
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
    assert_expected(
        "(long_lived_total, long_lived_pending) after: collect(0) (changes neither); collect(1) \
         (promotes the five survivors to generation 2: pending 5); three more lists, collect(0) \
         and collect(1) (three more promoted); a full collection (total = its 8 survivors, \
         pending back to 0); two lists deleted and a full collection (6 survivors)",
        &vec![(0, 0), (0, 5), (0, 8), (8, 0), (6, 0)],
        &yours.out,
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Untracking, through whole collections
// ---------------------------------------------------------------------------------------------

#[test]
fn tuples_are_untracked_by_every_collection() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        names.add(heap, inner, "outer[0]");
        names.add(heap, l, "tl[0]");
        for id in [one, a, inner, two, three, l] {
            heap.decref(id);
        }
        let ids = [t, inner, outer, inner2, outer2, tl];
        let mut seen = vec![ids.map(|id| heap.gc_list_of(id))];
        for g in [0, 1] {
            assert_expected(
                &format!("what gc.collect({g}) returned"),
                &Ok(0),
                &gc.collect_generation(heap, g),
            );
            seen.push(ids.map(|id| heap.gc_list_of(id)));
        }
        seen
    });
    let (gen0, gen1, gen2) = (Some(GcList::GEN0), Some(GcList::GEN1), Some(GcList::GEN2));
    assert_expected(
        "the list of each of t, outer[0], outer, inner2, outer2, tl (None: untracked), at the \
         start (tuples are tracked at creation), after collect(0) and after collect(1). \
         collect(0) untracks (1, 'a'), and both inner2 and outer2 (inner2 has a name, so it \
         keeps its place before outer2). The unnamed outer[0] has gc_refs 0: the scan moves it \
         to unreachable, then outer moves it back, behind outer, so the untracking pass meets \
         outer first, while outer[0] is still tracked. ([],) holds a list. The survivors are \
         promoted. collect(1) sees generation 1 too: outer now holds nothing tracked",
        &vec![
            [gen0, gen0, gen0, gen0, gen0, gen0],
            [None, None, gen1, None, None, gen1],
            [None, None, None, None, None, gen2],
        ],
        &yours.out,
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn dicts_are_untracked_only_by_full_collections() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.add(heap, t, "dt['t']");
        for id in [one, two, t] {
            heap.decref(id);
        }
        let dl = heap.assign_new_dict("dl");
        let l = heap.new_list();
        dict_set_str(heap, dl, "l", l);
        names.add(heap, l, "dl['l']");
        heap.decref(l);
        names.remember_bound(heap);
        let ids = [d, dt, dl];
        let mut seen = vec![ids.map(|id| heap.gc_list_of(id))];
        for g in [0, 1, 2] {
            assert_expected(
                &format!("what gc.collect({g}) returned"),
                &Ok(0),
                &gc.collect_generation(heap, g),
            );
            seen.push(ids.map(|id| heap.gc_list_of(id)));
        }
        seen
    });
    let generation = |g| Some(GcList::generation(g));
    assert_expected(
        "the list of each of d, dt, dl (None: untracked) at the start and after collect(0), \
         collect(1), collect(2). collect(0) and collect(1) never untrack a dict: they promote \
         them. collect(2) untracks d (empty) and dt (its tuple was untracked by the same pass \
         over the survivors: tuples first, then dicts); dl holds a list",
        &vec![
            [generation(0), generation(0), generation(0)],
            [generation(1), generation(1), generation(1)],
            [generation(2), generation(2), generation(2)],
            [None, None, generation(2)],
        ],
        &yours.out,
    );
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn live_objects_holding_a_cycle_keep_it_alive() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        names.add(heap, items, "holder.items");
        del_all(heap, &["c", "d"]);
        let counts = |heap: &Heap| [holder, items, c, d].map(|id| heap.refcount(id));
        let before = counts(heap);
        let found = [gc.collect(heap), gc.collect(heap)];
        let tracked = heap.is_tracked(items);
        (before, found, counts(heap), tracked)
    });
    let (before, found, after, tracked) = yours.out;
    assert_expected(
        "what two gc.collect() returned: the name holder reaches the cycle, through the dict \
         holder.items",
        &[0, 0],
        &found,
    );
    assert_expected(
        "the counts of holder, holder.items, c, d afterwards: no count changed",
        &before,
        &after,
    );
    assert!(
        tracked,
        "holder.items was untracked: a dict that holds a list stays tracked"
    );
    assert_nothing_freed(&yours);
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Weak references, through whole collections
// ---------------------------------------------------------------------------------------------

#[test]
fn weakref_collected_with_its_referent_never_calls_back() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // o = C(); o.me = o; o.w = weakref.ref(o, cb); del o
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let w = heap.new_weakref(o, Some(Callback::new([log("callback")])));
        heap.set_attr(o, "w", w);
        heap.decref(w);
        names.remember_bound(heap);
        names.add(heap, w, "o.w");
        heap.del("o");
        gc.collect(heap)
    });
    assert_expected(
        "what gc.collect() returned: o and its weakref o.w, which is garbage too (and tracked)",
        &2,
        &yours.out,
    );
    let called: Vec<&Event> = yours
        .heap
        .events()
        .iter()
        .filter(|e| matches!(e, Event::CallbackCalled(_)))
        .collect();
    assert!(
        called.is_empty(),
        "a weakref that dies with its referent never calls back, but yours called: {:?}",
        yours
            .names
            .events(&called.into_iter().cloned().collect::<Vec<_>>())
    );
    assert_freed_once(&yours, &["o", "o.w"]);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_callback_runs_when_its_referent_is_collected() {
    let (yours, theirs) = on_both(|heap, gc, names| {
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
        names.remember_bound(heap);
        del_all(heap, &["o", "l"]);
        let found = gc.collect(heap);
        (
            found,
            heap.weakref_referent(w).is_none(),
            heap.weakref_referent(b).is_none(),
            heap.refcount(w),
        )
    });
    let (found, w_cleared, b_cleared, w_count) = yours.out;
    assert_expected(
        "what gc.collect() returned: o and l; the weakrefs are reachable (names) and survive",
        &2,
        &found,
    );
    assert_expected(
        "(w() is None, b() is None) afterwards",
        &(true, true),
        &(w_cleared, b_cleared),
    );
    assert_expected(
        "the count of w afterwards: back to its name's reference",
        &1,
        &w_count,
    );
    assert_expected(
        "the first two things that happened: the callback of the reachable weakref runs, before \
         anything is freed",
        &words(&["callback of w", "print: callback"]),
        &yours
            .names
            .events(&yours.heap.events()[..2.min(yours.heap.events().len())]),
    );
    assert_freed_once(&yours, &["o", "l"]);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_freed_by_its_own_callback_is_counted() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // o = C(); o.me = o
        // w = weakref.ref(o, cb)     where cb does `global w; del w`
        // del o
        let class = heap.new_class("C", None);
        let o = heap.assign_new_instance("o", class);
        heap.set_attr(o, "me", o);
        let cb = Callback::new([Action::Unbind("w".into())]);
        heap.assign_new_weakref("w", o, Some(cb));
        names.remember_bound(heap);
        heap.del("o");
        gc.collect(heap)
    });
    assert_expected(
        "what gc.collect() returned: o, and w, which its own callback freed: the collection \
         counts it",
        &2,
        &yours.out,
    );
    assert_expected(
        "the first thing that happened",
        &Some("callback of w".to_string()),
        &yours.names.events(yours.heap.events()).first().cloned(),
    );
    assert_freed_once(&yours, &["o", "w"]);
    assert_expected(
        "how many objects are left: only None and ()",
        &2,
        &yours.heap.live_objects(),
    );
    assert_same_as_reference(&theirs, &yours);
}

// ---------------------------------------------------------------------------------------------
// Finalizers and resurrection, through whole collections
// ---------------------------------------------------------------------------------------------

#[test]
fn finalizers_in_a_cycle_run_once_before_anything_is_freed() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // class F: def __del__(self): print("F.__del__")
        // f1 = F(); f2 = F(); f1.other = f2; f2.other = f1; del f1, f2
        let class = class_with_del(heap, "F", vec![log("F.__del__")]);
        let f1 = heap.assign_new_instance("f1", class);
        let f2 = heap.assign_new_instance("f2", class);
        heap.set_attr(f1, "other", f2);
        heap.set_attr(f2, "other", f1);
        names.remember_bound(heap);
        del_all(heap, &["f1", "f2"]);
        gc.collect(heap)
    });
    assert_expected("what gc.collect() returned", &2, &yours.out);
    let events = yours.names.events(yours.heap.events());
    assert_expected(
        "the first four things that happened: every finalizer runs, in list order, before \
         anything of the cycle is torn down",
        &words(&[
            "__del__ of f1",
            "print: F.__del__",
            "__del__ of f2",
            "print: F.__del__",
        ]),
        &events[..4.min(events.len())].to_vec(),
    );
    for name in ["f1", "f2"] {
        assert_expected(
            &format!("how many times the __del__ of {name} ran"),
            &1,
            &yours.names.times_finalized(yours.heap.events(), name),
        );
    }
    assert_freed_once(&yours, &["f1", "f2"]);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn resurrected_objects_survive_and_are_not_counted() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // class P: def __del__(self): global saved; saved = self
        // p = P(); x = [p]; p.x = x          p <-> x
        // y = []; z = [y]; y.append(z)       y <-> z
        // del p, x, y, z
        let class = class_with_del(heap, "P", vec![Action::BindSelf("saved".into())]);
        let p = heap.assign_new_instance("p", class);
        let x = heap.assign_new_list("x");
        heap.list_append(x, p);
        heap.set_attr(p, "x", x);
        names.remember_bound(heap);
        garbage_pair(heap, names, "");
        del_all(heap, &["p", "x"]);
        let first = gc.collect(heap);
        let after_first = (
            heap.lookup("saved").map(|id| names.of(heap, id)),
            heap.is_alive(x),
            heap.is_finalized(p),
            heap.refcount(p),
            heap.gc_list_of(p),
            heap.gc_list_of(x),
        );
        // del saved
        heap.del("saved");
        let second = gc.collect(heap);
        (first, after_first, second)
    });
    let (first, after_first, second) = yours.out.clone();
    assert_expected(
        "what the first gc.collect() returned: the pair a, b is collected; p and x were brought \
         back by p's __del__, and are not counted",
        &2,
        &first,
    );
    assert_expected(
        "after the first collection: (saved, x alive, gc.is_finalized(p), the count of p, the \
         lists of p and x). saved is p, x lives, p is finalized, p's count is x's item plus the \
         name, and both are in generation 2",
        &(
            Some("p".to_string()),
            true,
            true,
            2,
            Some(GcList::GEN2),
            Some(GcList::GEN2),
        ),
        &after_first,
    );
    assert_expected(
        "what gc.collect() returned after del saved: p and x are garbage again",
        &2,
        &second,
    );
    assert_expected(
        "how many times the __del__ of p ran: once, though p was garbage twice",
        &1,
        &yours.names.times_finalized(yours.heap.events(), "p"),
    );
    assert_freed_once(&yours, &["a", "b", "p", "x"]);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn del_runs_once_across_two_collections_of_the_same_object() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // class K: def __del__(self): kept.append(self)
        // kept = []
        // k1 = K(); k2 = K(); k1.other = k2; k2.other = k1; del k1, k2
        let class = class_with_del(heap, "K", vec![Action::AppendSelfTo("kept".into())]);
        let kept = heap.assign_new_list("kept");
        let k1 = heap.assign_new_instance("k1", class);
        let k2 = heap.assign_new_instance("k2", class);
        heap.set_attr(k1, "other", k2);
        heap.set_attr(k2, "other", k1);
        names.remember_bound(heap);
        del_all(heap, &["k1", "k2"]);
        let first = gc.collect(heap);
        let kept_items: Vec<String> = match heap.kind(kept) {
            Kind::List(items) => names.all(heap, items),
            _ => Vec::new(),
        };
        let finalized = [heap.is_finalized(k1), heap.is_finalized(k2)];
        // del kept: k1 and k2 are a garbage cycle again
        heap.del("kept");
        let second = gc.collect(heap);
        (first, kept_items, finalized, second)
    });
    let (first, kept_items, finalized, second) = yours.out.clone();
    assert_expected(
        "what the first gc.collect() returned: both __del__ run, each appends its object to \
         kept, so both are reachable again",
        &0,
        &first,
    );
    assert_expected(
        "kept after it: k1 and k2, in the order they were finalized (both finalizers run before \
         the collector looks for resurrected objects)",
        &words(&["k1", "k2"]),
        &kept_items,
    );
    assert_expected(
        "[gc.is_finalized(k1), gc.is_finalized(k2)]",
        &[true, true],
        &finalized,
    );
    assert_expected(
        "what the second gc.collect() returned, after del kept",
        &2,
        &second,
    );
    for name in ["k1", "k2"] {
        assert_expected(
            &format!(
                "how many times the __del__ of {name} ran: at most once per object, whatever \
                 happens later"
            ),
            &1,
            &yours.names.times_finalized(yours.heap.events(), name),
        );
    }
    assert_freed_once(&yours, &["k1", "k2", "kept"]);
    assert_same_as_reference(&theirs, &yours);
}

#[test]
fn weakref_callbacks_run_before_finalizers() {
    let (yours, theirs) = on_both(|heap, gc, names| {
        // class F: def __del__(self): print("del")
        // f = F(); f.me = f; w = weakref.ref(f, cb)  where cb prints "cb"; del f
        let class = class_with_del(heap, "F", vec![log("del")]);
        let f = heap.assign_new_instance("f", class);
        heap.set_attr(f, "me", f);
        heap.assign_new_weakref("w", f, Some(Callback::new([log("cb")])));
        names.remember_bound(heap);
        heap.del("f");
        gc.collect(heap)
    });
    assert_expected(
        "what gc.collect() returned: f; w has a name",
        &1,
        &yours.out,
    );
    assert_expected(
        "what happened: weakrefs are handled before finalizers run, and finalizers before \
         anything is freed",
        &words(&[
            "callback of w",
            "print: cb",
            "__del__ of f",
            "print: del",
            "f freed",
        ]),
        &yours.names.events(yours.heap.events()),
    );
    assert_same_as_reference(&theirs, &yours);
}
