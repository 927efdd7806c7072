//! Graded tests for lab 04, part (b): `gc.callbacks` (`Gc::invoke_gc_callback`,
//! `Gc::collect_with_callback`) and `gc.collect(generation)` (`Gc::collect`).
//!
//! Each scenario runs on your scheduler and on the reference's, each with a heap of its own; a
//! callback here is data (see `CallbackAction`): `Record` logs the call, what the info dict
//! held and `gc.get_count()`; `Collect(g)` logs what `gc.collect(g)` returned inside it.
//! Allocations use pyheap's plain constructors: no collection starts by itself.

mod common;

use common::{Act, Logged, World, on_both, same, same_state};
use pyheap::GcList;

/// `first` and `second`, two callbacks that record each call.
fn two_recorders(w: &mut World) {
    w.gc.add_callback("first", &[Act::Record]);
    w.gc.add_callback("second", &[Act::Record]);
}

#[test]
fn callbacks_are_called_in_order_with_one_info_dict_released_afterwards() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        two_recorders(w);
        w.gc.invoke(&mut w.heap, true, 1, 0);
        w.gc.invoke(&mut w.heap, false, 1, 5);
    });
    same(
        "the callback log after invoke_gc_callback(\"start\", 1, 0, 0) then (\"stop\", 1, 5, 0), \
         with callbacks `first` and `second`",
        theirs.gc.log(),
        yours.gc.log(),
    );
    let log = yours.gc.log();
    let infos: Vec<u64> = log
        .iter()
        .map(|event| match event {
            Logged::Called { info, .. } => *info,
            other => panic!("only calls were expected, got {other:?}"),
        })
        .collect();
    assert!(
        infos[0] == infos[1] && infos[2] == infos[3],
        "both callbacks of one phase must get the same info dict; yours gave the dicts \
         #{} and #{} at \"start\", #{} and #{} at \"stop\"",
        infos[0],
        infos[1],
        infos[2],
        infos[3]
    );
    assert_eq!(
        yours.heap.live_objects(),
        2,
        "once the callbacks ran, the info dict must be released: only None and () should be \
         left; your heap:\n{}",
        yours.named_dump()
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn no_callbacks_means_no_info_dict() {
    let ((yours, made), (theirs, their_made)) = on_both(false, |w| {
        let before = w.heap.allocated_count();
        w.gc.invoke(&mut w.heap, true, 0, 0);
        w.gc.invoke(&mut w.heap, false, 0, 3);
        w.heap.allocated_count() - before
    });
    same(
        "how many objects invoke_gc_callback made, twice, with gc.callbacks empty (CPython builds \
         the info dict only when the list is not empty)",
        their_made,
        made,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn collect_with_callback_calls_start_then_stop_with_what_the_collection_found() {
    let ((yours, found), (theirs, their_found)) = on_both(true, |w| {
        two_recorders(w);
        w.list("keep");
        w.garbage("g1");
        w.garbage("g2");
        w.gc.collect_with_callback(&mut w.heap, 0)
    });
    same(
        "what collect_with_callback(heap, 0) returned (garbage: g1 and g2)",
        their_found,
        found,
    );
    same_state("after collect_with_callback(heap, 0)", &yours, &theirs);
}

#[test]
fn gc_collect_returns_what_it_found_and_sets_collecting_only_while_it_runs() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        w.gc.add_callback("first", &[Act::Record]);
        w.list("keep");
        w.garbage("g1");
        let young = w.gc.collect(&mut w.heap, 0);
        let middle = w.gc.collect(&mut w.heap, 1);
        w.garbage("g2");
        let full = w.gc.collect(&mut w.heap, 2);
        (young, middle, full, w.gc.is_collecting())
    });
    same(
        "what gc.collect(0), gc.collect(1), gc.collect(2) returned, and gc.is_collecting() \
         afterwards",
        their_seen,
        seen,
    );
    same_state("after the three collections", &yours, &theirs);
}

#[test]
fn gc_collect_refuses_generations_outside_0_to_2_in_cpythons_words() {
    let ((yours, results), (theirs, their_results)) = on_both(false, |w| {
        w.gc.add_callback("first", &[Act::Record]);
        w.garbage("g");
        [3, -1, 7, i32::MIN].map(|g| w.gc.collect(&mut w.heap, g))
    });
    same(
        "what gc.collect(3), gc.collect(-1), gc.collect(7), gc.collect(-2147483648) returned",
        their_results.clone(),
        results,
    );
    assert!(
        their_results
            .iter()
            .all(|r| r.as_ref().err().map(String::as_str) == Some("ValueError: invalid generation"))
    );
    same_state(
        "after the refused collections (nothing should have happened)",
        &yours,
        &theirs,
    );
}

#[test]
fn gc_collect_inside_a_callback_returns_0_without_collecting() {
    let ((yours, found), (theirs, their_found)) = on_both(false, |w| {
        w.gc.add_callback("first", &[Act::Record, Act::Collect(2)]);
        w.garbage("g");
        w.gc.collect(&mut w.heap, 0)
    });
    same(
        "what gc.collect(0) returned, its callback calling gc.collect(2) at \"start\" and \
         \"stop\"",
        their_found,
        found,
    );
    same_state("after gc.collect(0)", &yours, &theirs);
}

#[test]
fn gc_collect_runs_when_automatic_collection_is_disabled() {
    let ((yours, found), (theirs, their_found)) = on_both(false, |w| {
        w.gc.disable();
        w.garbage("g");
        let found = w.gc.collect(&mut w.heap, 0);
        (found, w.gc.isenabled())
    });
    same(
        "what gc.collect(0) returned after gc.disable(), and gc.isenabled()",
        their_found,
        found,
    );
    same_state("after gc.collect(0)", &yours, &theirs);
    assert_eq!(
        yours.heap.gc_list_len(GcList::GEN1),
        0,
        "the garbage should be gone"
    );
}
