//! Graded tests for lab 04, part (d): the rest of the `gc` module: `gc.get_objects()`
//! (`Gc::get_objects`), `gc.freeze()` and `gc.unfreeze()` (`Gc::freeze`, `Gc::unfreeze`).
//!
//! Each scenario runs on your scheduler and on the reference's, each with a heap of its own,
//! allocating through the hook (any allocation may start a collection).

mod common;

use common::{Act, World, on_both, same, same_state};
use pyheap::GcList;

/// `a`, `b` in generation 2, `c` in generation 1, `d`, `e` in generation 0 (all lists bound to
/// names); thresholds (1000, 10, 10), so nothing here collects by itself.
fn spread(w: &mut World) {
    w.hooked = true;
    w.gc.set_threshold(1000, None, None);
    for name in ["a", "b"] {
        w.list(name);
    }
    w.heap.gc_list_merge(GcList::GEN0, GcList::GEN2);
    w.list("c");
    w.heap.gc_list_merge(GcList::GEN0, GcList::GEN1);
    for name in ["d", "e"] {
        w.list(name);
    }
}

/// `gc.get_objects(generation)` on `w`, as the names of the listed objects, or the error; the
/// result list is released afterwards.
fn get_objects(w: &mut World, generation: Option<isize>) -> Result<Vec<String>, String> {
    let result = w.gc.get_objects(&mut w.heap, generation)?;
    let names = w.items(result);
    w.heap.decref(result);
    Ok(names)
}

#[test]
fn get_objects_lists_one_generation_in_order() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        [1, 2, 0].map(|g| get_objects(w, Some(g)))
    });
    same(
        "gc.get_objects(1), gc.get_objects(2), gc.get_objects(0)",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn get_objects_of_every_generation_leaves_out_its_own_list() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        [None, Some(-1)].map(|g| get_objects(w, g))
    });
    same(
        "gc.get_objects() and gc.get_objects(-1): every tracked object, generation 0 first, \
         never the result list itself",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn get_objects_refuses_what_cpython_refuses_in_its_words() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        [-2, 3, 5, isize::MIN].map(|g| get_objects(w, Some(g)))
    });
    same(
        "gc.get_objects(-2), gc.get_objects(3), gc.get_objects(5), gc.get_objects(-2**63)",
        their_seen,
        seen,
    );
    same_state(
        "at the end (the result list of each refused call is made, then released)",
        &yours,
        &theirs,
    );
}

#[test]
fn get_objects_can_start_a_collection_before_it_lists_anything() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        w.gc.add_callback("first", &[Act::Record]);
        // count0 is 5 now: a threshold of 4 makes get_objects' own list start a collection.
        w.gc.set_threshold(4, None, None);
        get_objects(w, Some(1))
    });
    same(
        "gc.get_objects(1) when making its result list takes count0 past threshold 0",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn freeze_moves_every_generation_to_the_permanent_one_and_zeroes_the_counts() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        *w.heap.gc_counts_mut() = [5, 3, 2];
        w.gc.set_long_lived(2, 1);
        w.gc.freeze(&mut w.heap);
        (w.gc.get_freeze_count(&w.heap), w.heap.gc_counts())
    });
    same(
        "(gc.get_freeze_count(), gc.get_count()) after gc.freeze()",
        their_seen,
        seen,
    );
    same_state("after gc.freeze()", &yours, &theirs);
}

#[test]
fn frozen_garbage_is_never_collected() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        let g = w.garbage("g");
        w.gc.freeze(&mut w.heap);
        let found = [0, 1, 2].map(|generation| w.gc.collect(&mut w.heap, generation));
        (found, w.is_alive(g))
    });
    same(
        "(gc.collect(0), gc.collect(1), gc.collect(2)) after gc.freeze(), and whether the \
         frozen garbage g is alive",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn unfreeze_puts_the_permanent_generation_at_the_end_of_generation_2() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        spread(w);
        w.garbage("g");
        w.gc.freeze(&mut w.heap);
        w.list("f");
        w.heap.gc_list_merge(GcList::GEN0, GcList::GEN2);
        w.gc.unfreeze(&mut w.heap);
        let generations = w.generations();
        let young = w.gc.collect(&mut w.heap, 1);
        let full = w.gc.collect(&mut w.heap, 2);
        (generations, w.gc.get_freeze_count(&w.heap), young, full)
    });
    same(
        "(the generations after gc.unfreeze(), gc.get_freeze_count(), gc.collect(1), \
         gc.collect(2))",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}
