//! Graded tests for lab 04, part (c): thresholds (`Gc::set_threshold`), the long-lived rule
//! (`Gc::full_collection_due`), which generation an automatic collection takes
//! (`Gc::collect_generations`), and the automatic collection inside an allocation
//! (`Gc::maybe_collect`, which the heap's hook calls).
//!
//! Each scenario runs on your scheduler and on the reference's, each with a heap of its own.
//! The tests of `maybe_collect` allocate through the hook (`heap.new_list_with(&mut gc)`), as a
//! program does: any allocation may start a collection.

mod common;

use common::{Act, Logged, World, on_both, same, same_state};

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

#[test]
fn set_threshold_sets_threshold_0_and_the_others_only_when_given() {
    let ((_, seen), (_, their_seen)) = on_both(false, |w| {
        let mut seen = vec![w.gc.get_threshold()];
        w.gc.set_threshold(500, None, None);
        seen.push(w.gc.get_threshold());
        w.gc.set_threshold(100, Some(4), None);
        seen.push(w.gc.get_threshold());
        w.gc.set_threshold(50, Some(3), Some(2));
        seen.push(w.gc.get_threshold());
        seen
    });
    same(
        "gc.get_threshold() at the start, after gc.set_threshold(500), \
         gc.set_threshold(100, 4) and gc.set_threshold(50, 3, 2)",
        their_seen,
        seen,
    );
}

#[test]
fn set_threshold_accepts_zero_and_negative_thresholds() {
    let ((_, seen), (_, their_seen)) = on_both(false, |w| {
        w.gc.set_threshold(-5, None, None);
        let negative = w.gc.get_threshold();
        w.gc.set_threshold(0, Some(-1), Some(i32::MIN));
        (negative, w.gc.get_threshold())
    });
    same(
        "gc.get_threshold() after gc.set_threshold(-5), then after \
         gc.set_threshold(0, -1, -2147483648) (CPython 3.11 keeps any C int)",
        their_seen,
        seen,
    );
}

// ---------------------------------------------------------------------------------------------
// The long-lived rule
// ---------------------------------------------------------------------------------------------

#[test]
fn long_lived_rule_compares_pending_with_a_quarter_of_total_rounded_down() {
    let cases = [
        (0, 0),
        (10, 1),
        (10, 2),
        (11, 2),
        (12, 2),
        (12, 3),
        (401, 99),
        (401, 100),
        (3, 0),
        (4, 0),
    ];
    let ((_, seen), (_, their_seen)) = on_both(false, |w| {
        cases
            .iter()
            .map(|&(total, pending)| {
                w.gc.set_long_lived(total, pending);
                w.gc.full_collection_due()
            })
            .collect::<Vec<bool>>()
    });
    for ((case, theirs), yours) in cases.iter().zip(&their_seen).zip(&seen) {
        same(
            &format!(
                "full_collection_due() with long_lived_total {} and long_lived_pending {}",
                case.0, case.1
            ),
            theirs,
            yours,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Which generation
// ---------------------------------------------------------------------------------------------

/// Sets thresholds (10, 2, 2), the counts, the long-lived counts, and runs
/// `collect_generations` with a recording callback. Returns what it returned.
fn collect_generations_with(
    w: &mut World,
    counts: [usize; 3],
    total: usize,
    pending: usize,
) -> usize {
    w.gc.set_threshold(10, Some(2), Some(2));
    w.gc.add_callback("first", &[Act::Record]);
    w.list("keep");
    w.garbage("g");
    *w.heap.gc_counts_mut() = counts;
    w.gc.set_long_lived(total, pending);
    w.gc.collect_generations(&mut w.heap)
}

/// The generations the callbacks saw collected, in order.
fn collected_generations(w: &World) -> Vec<usize> {
    w.gc.log()
        .iter()
        .filter_map(|event| match event {
            Logged::Called {
                phase: "start",
                generation,
                ..
            } => Some(*generation),
            _ => None,
        })
        .collect()
}

#[test]
fn collect_generations_collects_the_oldest_generation_over_its_threshold() {
    for counts in [[11, 0, 0], [11, 3, 0], [11, 3, 3], [3, 3, 0], [0, 0, 3]] {
        let ((yours, found), (theirs, their_found)) =
            on_both(true, |w| collect_generations_with(w, counts, 0, 0));
        same(
            &format!(
                "the generations collected by collect_generations() with thresholds (10, 2, 2) \
                 and counts {counts:?}"
            ),
            collected_generations(&theirs),
            collected_generations(&yours),
        );
        same(
            &format!("what collect_generations() returned with counts {counts:?}"),
            their_found,
            found,
        );
        same_state(
            &format!("after collect_generations() with counts {counts:?}"),
            &yours,
            &theirs,
        );
    }
}

#[test]
fn collect_generations_does_nothing_when_no_count_is_over_its_threshold() {
    let ((yours, found), (theirs, their_found)) =
        on_both(true, |w| collect_generations_with(w, [10, 2, 2], 0, 0));
    same(
        "what collect_generations() returned with thresholds (10, 2, 2) and counts (10, 2, 2): \
         a count must be above its threshold, not equal to it",
        their_found,
        found,
    );
    same_state("after collect_generations()", &yours, &theirs);
}

#[test]
fn long_lived_rule_suppresses_a_full_collection_and_a_younger_generation_is_collected() {
    for (counts, pending) in [([11, 3, 3], 99), ([11, 0, 3], 99), ([3, 0, 3], 0)] {
        let ((yours, _), (theirs, _)) =
            on_both(true, |w| collect_generations_with(w, counts, 400, pending));
        same(
            &format!(
                "the generations collected by collect_generations() with thresholds (10, 2, 2), \
                 counts {counts:?}, long_lived_total 400 and long_lived_pending {pending}"
            ),
            collected_generations(&theirs),
            collected_generations(&yours),
        );
        same_state(
            &format!("after collect_generations() with counts {counts:?}"),
            &yours,
            &theirs,
        );
    }
}

#[test]
fn long_lived_rule_lets_a_full_collection_run_once_a_quarter_is_pending() {
    let ((yours, _), (theirs, _)) =
        on_both(true, |w| collect_generations_with(w, [11, 3, 3], 400, 100));
    same(
        "the generations collected by collect_generations() with thresholds (10, 2, 2), counts \
         (11, 3, 3), long_lived_total 400 and long_lived_pending 100",
        collected_generations(&theirs),
        collected_generations(&yours),
    );
    same_state("after collect_generations()", &yours, &theirs);
}

// ---------------------------------------------------------------------------------------------
// Inside the allocation
// ---------------------------------------------------------------------------------------------

/// `should_collect` with count0 `count0`, threshold 0 `t0`, enabled or not.
fn should_collect_with(w: &mut World, count0: usize, t0: i32, enabled: bool) -> bool {
    w.heap.gc_counts_mut()[0] = count0;
    w.gc.set_threshold(t0, None, None);
    if enabled {
        w.gc.enable();
    } else {
        w.gc.disable();
    }
    w.gc.should_collect(&w.heap)
}

#[test]
fn should_collect_needs_count0_above_threshold_0_with_automatic_collection_on() {
    let cases = [
        (11, 10, true),
        (10, 10, true),
        (3, 10, true),
        (701, 700, true),
        (11, 10, false),
        (5000, 700, false),
    ];
    let ((_, seen), (_, their_seen)) = on_both(false, |w| {
        cases
            .iter()
            .map(|&(count0, t0, enabled)| should_collect_with(w, count0, t0, enabled))
            .collect::<Vec<bool>>()
    });
    for ((&(count0, t0, enabled), theirs), yours) in cases.iter().zip(&their_seen).zip(&seen) {
        same(
            &format!(
                "should_collect() with count0 {count0}, threshold 0 {t0}, gc.isenabled() \
                 {enabled}"
            ),
            theirs,
            yours,
        );
    }
}

#[test]
fn should_collect_never_with_threshold_0_at_0_and_always_with_a_negative_one() {
    let cases = [(1, 0), (100_000, 0), (0, -5), (1, -5), (0, -1), (0, 1)];
    let ((_, seen), (_, their_seen)) = on_both(false, |w| {
        cases
            .iter()
            .map(|&(count0, t0)| should_collect_with(w, count0, t0, true))
            .collect::<Vec<bool>>()
    });
    for ((&(count0, t0), theirs), yours) in cases.iter().zip(&their_seen).zip(&seen) {
        same(
            &format!("should_collect() with count0 {count0} and threshold 0 {t0}"),
            theirs,
            yours,
        );
    }
}

/// `keep = []`, then `keep.append(C())` `n` times, with the hook, thresholds `t`, and a
/// recording callback. Returns `keep`'s items' names in each generation at the end.
fn keep_instances(w: &mut World, t: (i32, i32, i32), n: usize) {
    w.gc.set_threshold(t.0, Some(t.1), Some(t.2));
    w.gc.add_callback("first", &[Act::Record]);
    w.hooked = true;
    let keep = w.list("keep");
    for k in 0..n {
        w.kept_instance(keep, &format!("o{k}"));
    }
}

#[test]
fn an_allocation_that_takes_count0_past_threshold_0_collects_inside_it() {
    let ((yours, _), (theirs, _)) = on_both(true, |w| keep_instances(w, (10, 10, 10), 10));
    same_state(
        "after keep = [] and 10 x keep.append(C()) with thresholds (10, 10, 10): the 11th \
         container made should have collected generation 0",
        &yours,
        &theirs,
    );
    assert_eq!(
        yours.generations()[0],
        ["o9"],
        "o9 was being made when generation 0 was collected, so it was not part of that \
         collection: it is tracked afterwards, alone in generation 0"
    );
}

#[test]
fn collections_come_every_threshold0_plus_1_allocations_while_nothing_dies() {
    let ((yours, _), (theirs, _)) = on_both(true, |w| keep_instances(w, (20, 3, 2), 400));
    same(
        "the generations collected, in order, while keep.append(C()) ran 400 times with \
         thresholds (20, 3, 2)",
        collected_generations(&theirs),
        collected_generations(&yours),
    );
    same_state("at the end", &yours, &theirs);
}

#[test]
fn allocations_made_during_a_collection_start_no_other_collection() {
    let ((yours, _), (theirs, _)) = on_both(false, |w| {
        // A callback that makes 50 lists, on a heap without free lists: each counts.
        w.gc.add_callback("maker", &[Act::Record, Act::MakeLists(50)]);
        keep_instances(w, (5, 10, 10), 12);
    });
    same(
        "the generations collected, in order (a callback makes 50 lists at each \"start\" and \
         \"stop\"; thresholds (5, 10, 10))",
        collected_generations(&theirs),
        collected_generations(&yours),
    );
    same_state("at the end", &yours, &theirs);
    assert!(
        !yours.gc.is_collecting(),
        "no collection is running at the end, but `collecting` is still set"
    );
}

#[test]
fn lists_made_and_dropped_come_from_the_free_list_and_start_no_collection() {
    // With CPython's free lists, a list that dies at once is handed out again by the next `[]`,
    // and neither is counted: 100 lists made and dropped count 1, and start no collection.
    let ((yours, seen), (theirs, their_seen)) = on_both(true, |w| {
        w.gc.set_threshold(5, None, None);
        w.gc.add_callback("first", &[Act::Record]);
        w.hooked = true;
        let mut seen = Vec::new();
        for k in 0..100 {
            let l = w.new_list(&format!("t{k}"));
            w.heap.decref(l);
        }
        seen.push((w.heap.gc_counts(), collected_generations(w).len()));
        let keep = w.list("keep");
        for k in 0..12 {
            let l = w.new_list(&format!("k{k}"));
            w.heap.list_append(keep, l);
            w.heap.decref(l);
        }
        seen.push((w.heap.gc_counts(), collected_generations(w).len()));
        seen
    });
    same(
        "(gc.get_count(), collections so far) after 100 lists made and dropped, then after \
         keep = [] and 12 lists kept, thresholds (5, 10, 10)",
        their_seen,
        seen,
    );
    same_state("at the end", &yours, &theirs);
}
