//! Graded tests for lab 04, part (a): one collection, step by step (`update_counts`,
//! `merge_younger`, `Gc::move_survivors`, `clear_freelists`, `Gc::record_stats`), then the
//! whole `Gc::gc_collect_main` that calls them around lab 03's collector.
//!
//! Each test calls one step directly, on your scheduler and on the reference's (each with a heap
//! of its own), and checks what it left: the counts, the generations in order, the long-lived
//! counts, the free lists, the statistics. Objects are named as the scenario names them.
//! Allocations here use pyheap's plain constructors: no collection starts by itself.

mod common;

use common::{World, on_both, same, same_state};
use pyheap::GcList;

// ---------------------------------------------------------------------------------------------
// The counts
// ---------------------------------------------------------------------------------------------

/// Sets the counts to `before`, runs `update_counts(generation)` on both, and checks them.
#[track_caller]
fn counts_after(generation: usize, before: [usize; 3], expected: [usize; 3]) {
    let ((yours, yours_counts), (_, theirs_counts)) = on_both(false, |w| {
        *w.heap.gc_counts_mut() = before;
        w.gc.update_counts(&mut w.heap, generation);
        w.heap.gc_counts()
    });
    same(
        &format!("gc.get_count() after update_counts(heap, {generation}) from {before:?}"),
        theirs_counts,
        yours_counts,
    );
    assert_eq!(
        theirs_counts, expected,
        "the reference disagrees with this test"
    );
    drop(yours);
}

#[test]
fn collecting_generation_0_zeroes_count0_and_adds_one_to_count1() {
    counts_after(0, [5, 3, 7], [0, 4, 7]);
    counts_after(0, [0, 0, 0], [0, 1, 0]);
}

#[test]
fn collecting_generation_1_or_2_zeroes_every_count_it_covers() {
    counts_after(1, [5, 3, 7], [0, 0, 8]);
    counts_after(2, [5, 3, 7], [0, 0, 0]);
    counts_after(2, [0, 11, 0], [0, 0, 0]);
}

// ---------------------------------------------------------------------------------------------
// The merge
// ---------------------------------------------------------------------------------------------

/// Lists `a`, `b` in generation 0, `c`, `d` in generation 1, `e` in generation 2, all bound
/// to names (so nothing here is garbage).
fn three_generations(w: &mut World) {
    for name in ["e", "c", "d", "a", "b"] {
        w.list(name);
    }
    // e to generation 2, c and d to generation 1, by hand: the lists are moved, as a collection
    // would promote them.
    let e = w.heap.get("e");
    w.heap.gc_list_move(e, GcList::GEN2);
    for name in ["c", "d"] {
        let id = w.heap.get(name);
        w.heap.gc_list_move(id, GcList::GEN1);
    }
}

#[test]
fn merge_younger_puts_generation_0_behind_generation_1() {
    let ((yours, young), (theirs, their_young)) = on_both(false, |w| {
        three_generations(w);
        w.gc.merge_younger(&mut w.heap, 1)
    });
    same(
        "the list merge_younger(heap, 1) returns",
        their_young.name(),
        young.name(),
    );
    same(
        "the generations (0, 1, 2, permanent) after merge_younger(heap, 1)",
        theirs.generations(),
        yours.generations(),
    );
    assert_eq!(theirs.generations()[1], ["c", "d", "a", "b"]);
}

#[test]
fn merge_younger_for_a_full_collection_takes_0_then_1_and_for_0_moves_nothing() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        three_generations(w);
        w.gc.merge_younger(&mut w.heap, 0);
        w.gc.merge_younger(&mut w.heap, 2)
    });
    same(
        "the generations (0, 1, 2, permanent) after merge_younger(heap, 0) then \
         merge_younger(heap, 2)",
        theirs.generations(),
        yours.generations(),
    );
    assert_eq!(theirs.generations()[2], ["e", "a", "b", "c", "d"]);
}

// ---------------------------------------------------------------------------------------------
// The survivors
// ---------------------------------------------------------------------------------------------

#[test]
fn survivors_of_a_young_collection_go_to_the_end_of_the_next_generation() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        three_generations(w);
        w.gc.set_long_lived(100, 7);
        w.gc.move_survivors(&mut w.heap, 0, GcList::GEN0, GcList::GEN1);
    });
    same(
        "the generations (0, 1, 2, permanent) after move_survivors for a collection of \
         generation 0 (young = generation 0 [a, b], old = generation 1 [c, d])",
        theirs.generations(),
        yours.generations(),
    );
    same(
        "(long_lived_total, long_lived_pending), which a collection of generation 0 leaves \
         alone",
        theirs.gc.long_lived(),
        yours.gc.long_lived(),
    );
}

#[test]
fn promotion_into_generation_2_adds_to_long_lived_pending() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        three_generations(w);
        w.gc.set_long_lived(100, 7);
        w.gc.move_survivors(&mut w.heap, 1, GcList::GEN1, GcList::GEN2);
    });
    same(
        "the generations (0, 1, 2, permanent) after move_survivors for a collection of \
         generation 1 (young = generation 1 [c, d], old = generation 2 [e])",
        theirs.generations(),
        yours.generations(),
    );
    same(
        "(long_lived_total, long_lived_pending) after 2 objects were promoted into generation 2",
        theirs.gc.long_lived(),
        yours.gc.long_lived(),
    );
    assert_eq!(theirs.gc.long_lived(), (100, 9));
}

#[test]
fn a_full_collection_keeps_its_survivors_and_resets_the_long_lived_counts() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        // e = []; d = {1: 2} (tracked after an insertion of a list, then the list removed);
        // f = []: all in generation 2.
        w.list("e");
        let d = w.dict("d");
        let one = w.heap.new_int(1);
        let tmp = w.heap.new_list();
        w.heap.dict_set(d, one, tmp);
        let two = w.heap.new_int(2);
        w.heap.dict_set(d, one, two);
        for id in [one, tmp, two] {
            w.heap.decref(id);
        }
        w.list("f");
        w.heap.gc_list_merge(GcList::GEN0, GcList::GEN2);
        w.gc.set_long_lived(100, 7);
        w.gc.move_survivors(&mut w.heap, 2, GcList::GEN2, GcList::GEN2);
    });
    same(
        "the generations (0, 1, 2, permanent) after move_survivors for a full collection \
         (young = old = generation 2 [e, d, f], where d is a dict holding only ints)",
        theirs.generations(),
        yours.generations(),
    );
    same(
        "(long_lived_total, long_lived_pending) after a full collection left 2 objects tracked",
        theirs.gc.long_lived(),
        yours.gc.long_lived(),
    );
    assert_eq!(theirs.gc.long_lived(), (2, 0));
}

// ---------------------------------------------------------------------------------------------
// Free lists and statistics
// ---------------------------------------------------------------------------------------------

#[test]
fn only_a_full_collection_empties_the_free_lists() {
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        // Five lists made and freed: five on the list free list; count0 set to 3.
        let lists: Vec<_> = (0..5).map(|k| w.new_list(&format!("l{k}"))).collect();
        for l in lists {
            w.heap.decref(l);
        }
        w.heap.gc_counts_mut()[0] = 3;
        let mut seen = Vec::new();
        for generation in [0, 1, 2] {
            w.gc.clear_freelists(&mut w.heap, generation);
            let free = w.heap.free_lists().expect("a heap with free lists");
            seen.push((generation, free.lists, w.heap.gc_counts()[0]));
        }
        seen
    });
    same(
        "(generation, lists on the free list, count0) after clear_freelists(heap, generation)",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn stats_credit_only_the_generation_collected() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        w.gc.record_stats(1, 3, 0, 10);
        w.gc.record_stats(1, 2, 1, 7);
        w.gc.record_stats(2, 0, 2, 4);
    });
    same(
        "gc.get_stats() as (collections, collected, uncollectable, examined) for generations \
         0, 1, 2, after record_stats for collections of generation 1 (3 collected of 10 \
         examined, then 2 collected and 1 uncollectable of 7) and 2 (2 uncollectable of 4)",
        theirs.gc.get_stats(),
        yours.gc.get_stats(),
    );
}

// ---------------------------------------------------------------------------------------------
// The whole collection
// ---------------------------------------------------------------------------------------------

#[test]
fn gc_collect_main_collects_the_merged_generations_and_promotes_the_survivors() {
    let ((yours, found), (theirs, their_found)) = on_both(true, |w| {
        // old: a list in generation 2, and a cycle g2 there that is garbage.
        w.list("old");
        w.garbage("g2");
        w.heap.gc_list_merge(GcList::GEN0, GcList::GEN2);
        // middle: a live list m and a garbage cycle g1 in generation 1.
        w.list("m");
        w.garbage("g1");
        w.heap.gc_list_merge(GcList::GEN0, GcList::GEN1);
        // young: a, b live, g0 garbage.
        w.list("a");
        w.garbage("g0");
        w.list("b");
        *w.heap.gc_counts_mut() = [3, 4, 2];
        w.gc.set_long_lived(8, 1);
        let middle = w.gc.gc_collect_main(&mut w.heap, 1);
        let full = w.gc.gc_collect_main(&mut w.heap, 2);
        [middle, full]
    });
    same(
        "what gc_collect_main returned (collected, uncollectable) for collect(1), then \
         collect(2)",
        their_found,
        found,
    );
    same_state(
        "after gc_collect_main(heap, 1) then gc_collect_main(heap, 2)",
        &yours,
        &theirs,
    );
}
