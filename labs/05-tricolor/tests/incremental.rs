//! Graded tests for lab 05, part (b): incremental marking, with nothing running between the
//! steps yet (the program's stores come in part (c), with the barriers).
//!
//! `start_cycle` (the initial pause), `step(budget)` and `scan_piece` (marking in steps of
//! bounded work, a large object in pieces), `final_pause`, and `finish_cycle` (the final pause,
//! then the sweep). Steps of one unit on the study note's example retrace, line for line, the
//! walk by hand that `parity/mark_from_roots.py` printed in CPython 3.11.7. As in part (a), the
//! heaps have no write barrier: nothing stores between the steps yet.

mod common;

use common::{
    MARK_FROM_ROOTS_OUT, assert_colors, assert_swept, assert_worklist, names, recorded, seed,
};
use pretty_assertions::assert_eq;
use testkit::XorShift64;
use tricolor::{Barrier, Color, CycleStats, Heap, ObjId, Phase, TricolorError};

// ---------------------------------------------------------------------------------------------
// start_cycle and step
// ---------------------------------------------------------------------------------------------

#[test]
fn start_cycle_shades_the_roots_and_scans_nothing() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    let all = [s.a, s.b, s.c, s.d, s.e];
    heap.start_cycle()?;
    assert_eq!(
        (heap.phase(), heap.cycles()),
        (Phase::Marking, 1),
        "after start_cycle(), (the phase, how many cycles were started)"
    );
    assert_colors(
        &heap,
        &all,
        "A gray, B white, C white, D white, E white",
        "start_cycle() with the roots [A] (the initial pause shades the roots; the steps do the \
         scanning)",
    );
    assert_worklist(&heap, "A", "start_cycle()");
    assert_eq!(
        heap.stats(),
        &CycleStats {
            cycle: 1,
            largest_gray: 1,
            ..CycleStats::default()
        },
        "the statistics of the cycle just started (< expected, > yours)"
    );
    assert_eq!(
        heap.start_cycle(),
        Err(TricolorError::CycleInProgress),
        "start_cycle() while cycle 1 is marking must refuse (< expected, > yours)"
    );
    assert_eq!(
        heap.collect().map(|stats| stats.cycle),
        Err(TricolorError::CycleInProgress),
        "collect() while cycle 1 is marking must refuse too (< expected, > yours)"
    );
    assert_eq!(
        heap.cycles(),
        1,
        "a refused start_cycle() or collect() must not count a cycle"
    );
    assert_worklist(&heap, "A", "a refused start_cycle()");
    Ok(())
}

#[test]
fn steps_of_one_unit_scan_one_object_each_as_the_walk_by_hand_does() -> Result<(), TricolorError> {
    // mark_from_roots.py: A -> B -> C <- D <- E, D -> E, the roots [A].
    let (mut heap, _) = seed(Barrier::None, true)?;
    heap.start_cycle()?;
    let mut seen = vec![format!("roots shaded: {}", common::worklist(&heap))];
    let mut works = Vec::new();
    while !heap.worklist().is_empty() {
        let gray: Vec<ObjId> = heap.worklist().to_vec();
        works.push(heap.step(1)?);
        let Some(&scanned) = gray.iter().find(|&&id| heap.color(id) == Color::Black) else {
            panic!(
                "step(1) with the worklist {} turned none of them black: a step of one unit \
                 scans one object with one slot or none",
                names(&heap, &gray)
            )
        };
        let refs: Vec<ObjId> = (0..heap.slot_count(scanned))
            .filter_map(|slot| heap.slot(scanned, slot))
            .collect();
        let refs = if refs.is_empty() {
            "nothing".to_string()
        } else {
            names(&heap, &refs)
        };
        seen.push(format!(
            "scan {} -> {refs} | worklist: {}",
            heap.name(scanned),
            common::worklist(&heap)
        ));
        assert!(
            works.len() <= 10,
            "step(1) was called 10 times and the worklist is still {}",
            common::worklist(&heap)
        );
    }
    let mut cpython = recorded(MARK_FROM_ROOTS_OUT, "roots shaded:");
    cpython.extend(recorded(MARK_FROM_ROOTS_OUT, "scan "));
    assert_eq!(
        cpython, seen,
        "one object scanned per step(1): the steps must retrace the walk by hand of \
         mark_from_roots.py (< CPython 3.11.7, > your steps)"
    );
    assert_eq!(
        works,
        [1, 1, 1],
        "what each step(1) returned: the units of work done (A and B have one slot each, C none, \
         which costs one unit)"
    );
    assert_eq!(
        (heap.stats().steps, heap.stats().largest_step),
        (3, 1),
        "stats() after three steps of one unit (steps, largest_step)"
    );
    Ok(())
}

#[test]
fn step_stops_when_its_budget_is_spent() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let r = heap.new_object("R"); // roots [R]; R = Node(a=X, b=Y, c=Z), X = Node(next=X1)
    let mut children = Vec::new();
    for (field, name) in [("a", "X"), ("b", "Y"), ("c", "Z")] {
        let child = heap.new_object(name);
        heap.set_field(r, field, Some(child))?;
        heap.pop_root()?;
        children.push(child);
    }
    let [x, y, z] = children[..] else {
        unreachable!()
    };
    let x1 = heap.new_object("X1");
    heap.set_field(x, "next", Some(x1))?;
    heap.pop_root()?;
    let all = [r, x, y, z, x1];
    heap.start_cycle()?;

    let done = heap.step(4)?;
    assert_eq!(
        done, 4,
        "step(4) returns the units of work it did: 3 for R (three slots), then 1 for X (one slot)"
    );
    assert_colors(
        &heap,
        &all,
        "R black, X black, Y gray, Z gray, X1 gray",
        "step(4)",
    );
    assert_worklist(
        &heap,
        "Z Y X1",
        "step(4): R's slots shaded Z, Y, X (the last slot first), X was on top and scanned, \
         shading X1",
    );

    let done = heap.step(100)?;
    assert_eq!(
        done, 3,
        "step(100) with X1, Y and Z left, none with a slot: one unit each"
    );
    assert_worklist(&heap, "empty", "step(100)");
    let done = heap.step(5)?;
    assert_eq!(done, 0, "step(5) with nothing gray left does no work");
    assert_eq!(
        heap.phase(),
        Phase::Marking,
        "an empty worklist does not end the cycle: the final pause does"
    );
    assert_eq!(
        (
            heap.stats().steps,
            heap.stats().largest_step,
            heap.stats().marked
        ),
        (3, 4, 5),
        "stats() after step(4), step(100), step(5) (steps, largest_step, marked)"
    );
    Ok(())
}

#[test]
fn step_without_a_cycle_or_with_a_zero_budget_is_an_error() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    assert_eq!(
        heap.step(10),
        Err(TricolorError::NoCycle),
        "step(10) before any cycle has started (< expected, > yours)"
    );
    heap.start_cycle()?;
    assert_eq!(
        heap.step(0),
        Err(TricolorError::ZeroBudget),
        "step(0) (< expected, > yours)"
    );
    assert_colors(&heap, &[s.a, s.b], "A gray, B white", "a refused step(0)");
    assert_eq!(
        heap.stats().steps,
        0,
        "a refused step must not be counted as a step"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// scan_piece
// ---------------------------------------------------------------------------------------------

#[test]
fn a_list_of_1000000_items_is_scanned_in_pieces_across_steps() -> Result<(), TricolorError> {
    const ITEMS: usize = 1_000_000;
    const LEAVES: usize = 1000;
    const BUDGET: usize = 1000;
    let mut heap = Heap::new(Barrier::None);
    let list = heap.new_list("L"); // roots [L]; L = [leaf0, leaf1, ..., leaf999, leaf0, ...]
    let leaves: Vec<ObjId> = (0..LEAVES)
        .map(|i| {
            let leaf = heap.new_object(&format!("leaf{i}"));
            heap.pop_root().map(|_| leaf)
        })
        .collect::<Result<_, _>>()?;
    for i in 0..ITEMS {
        heap.append(list, leaves[i % LEAVES])?;
    }
    heap.start_cycle()?;

    let first = heap.step(BUDGET)?;
    assert_eq!(first, BUDGET, "the first step({BUDGET}) on L");
    assert_eq!(
        heap.color(list),
        Color::Gray,
        "after the first step({BUDGET}), L, scanned in part, must still be gray"
    );
    assert_eq!(
        heap.unscanned(list),
        ITEMS - BUDGET,
        "after the first step({BUDGET}), the items of L left to scan (its last {BUDGET} were \
         scanned)"
    );
    assert_eq!(
        heap.worklist().len(),
        1 + LEAVES,
        "after the first step({BUDGET}): L back on the worklist, then the {LEAVES} leaves its \
         last {BUDGET} items shaded"
    );
    assert_eq!(
        heap.worklist()[0],
        list,
        "L must go back on the worklist before the leaves it shades, so that they are scanned \
         first (the worklist's bottom is {}, not L)",
        heap.name(heap.worklist()[0])
    );

    let mut works = vec![first];
    while !heap.worklist().is_empty() {
        works.push(heap.step(BUDGET)?);
        assert!(
            works.len() <= 2 * ITEMS / BUDGET,
            "{} steps of {BUDGET} units and marking is not finished",
            works.len()
        );
        if heap.color(list) == Color::Black {
            break;
        }
        assert_eq!(
            heap.color(list),
            Color::Gray,
            "L must stay gray until its last piece is scanned"
        );
    }
    let over: Vec<usize> = works.iter().copied().filter(|&w| w > BUDGET).collect();
    assert!(
        over.is_empty(),
        "no step may do more than its budget of {BUDGET} units; these did {over:?}"
    );
    assert_eq!(
        works.len(),
        ITEMS / BUDGET + 1,
        "steps of {BUDGET} units to mark L: one per piece of {BUDGET} items ({}), and one for \
         the {LEAVES} leaves",
        ITEMS / BUDGET
    );
    assert_eq!(
        (
            heap.stats().marked,
            heap.stats().largest_step,
            heap.stats().largest_gray
        ),
        (1 + LEAVES, BUDGET, 1 + LEAVES),
        "stats() once L is black (marked, largest_step, largest_gray)"
    );
    Ok(())
}

#[test]
fn an_object_with_more_slots_than_the_budget_is_split_too() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let o = heap.new_object("O"); // roots [O]; O = Node(f0=T0, ..., f9=T9)
    for i in 0..10 {
        let t = heap.new_object(&format!("T{i}"));
        heap.set_field(o, &format!("f{i}"), Some(t))?;
        heap.pop_root()?;
    }
    heap.start_cycle()?;
    let mut seen = Vec::new();
    while !heap.worklist().is_empty() && seen.len() < 20 {
        let done = heap.step(3)?;
        let o_state = match heap.color(o) {
            Color::Gray => format!("O gray, {} left", heap.unscanned(o)),
            color => format!("O {color}"),
        };
        seen.push(format!(
            "step(3) = {done}: {o_state}; worklist {}",
            common::worklist(&heap)
        ));
    }
    let expected = [
        "step(3) = 3: O gray, 7 left; worklist O T9 T8 T7",
        "step(3) = 3: O gray, 7 left; worklist O",
        "step(3) = 3: O gray, 4 left; worklist O T6 T5 T4",
        "step(3) = 3: O gray, 4 left; worklist O",
        "step(3) = 3: O gray, 1 left; worklist O T3 T2 T1",
        "step(3) = 3: O gray, 1 left; worklist O",
        "step(3) = 2: O black; worklist empty",
    ];
    assert_eq!(
        expected.to_vec(),
        seen,
        "steps of 3 units on O, which has 10 fields: its slots are scanned in pieces, the last \
         first, and each piece's targets before the next piece (< expected, > yours)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// final_pause
// ---------------------------------------------------------------------------------------------

#[test]
fn final_pause_scans_whatever_the_steps_left() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    let all = [s.a, s.b, s.c, s.d, s.e];
    heap.start_cycle()?;
    heap.step(1)?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C white, D white, E white",
        "start_cycle(), step(1)",
    );
    heap.final_pause();
    assert_worklist(&heap, "empty", "start_cycle(), step(1), final_pause()");
    assert_colors(
        &heap,
        &all,
        "A black, B black, C black, D white, E white",
        "start_cycle(), step(1), final_pause() (the final pause scans what is gray, however \
         much)",
    );
    assert_eq!(
        (heap.phase(), heap.stats().marked, heap.stats().steps),
        (Phase::Marking, 3, 1),
        "after final_pause(), (the phase, stats().marked, stats().steps): the pause finishes \
         marking, and is not a step; the cycle ends after the sweep, in finish_cycle()"
    );
    Ok(())
}

#[test]
fn finish_cycle_sweeps_and_ends_the_cycle() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    let all = [s.a, s.b, s.c, s.d, s.e];
    heap.start_cycle()?;
    heap.step(1)?;
    let stats = heap.finish_cycle()?;
    assert_eq!(
        stats,
        CycleStats {
            cycle: 1,
            marked: 3,
            swept: 2,
            largest_gray: 1,
            steps: 1,
            largest_step: 1,
            final_pause: 2,
        },
        "start_cycle(), step(1), finish_cycle(): the step scanned A, the final pause B and C, \
         the sweep freed D and E (< expected, > yours)"
    );
    assert_swept(&heap, &all, &[s.d, s.e], "finish_cycle()");
    assert_colors(
        &heap,
        &[s.a, s.b, s.c],
        "A white, B white, C white",
        "finish_cycle()",
    );
    assert_eq!(
        heap.phase(),
        Phase::Idle,
        "after finish_cycle(), the cycle is over"
    );

    heap.start_cycle()?;
    while !heap.worklist().is_empty() {
        heap.step(1)?;
    }
    let stats = heap.finish_cycle()?;
    assert_eq!(
        (
            stats.cycle,
            stats.marked,
            stats.steps,
            stats.final_pause,
            stats.swept
        ),
        (2, 3, 3, 0, 0),
        "a second cycle whose steps scan everything: the final pause has nothing left to scan \
         (cycle, marked, steps, final_pause, swept)"
    );
    assert_eq!(
        heap.finish_cycle(),
        Err(TricolorError::NoCycle),
        "finish_cycle() with no cycle marking (< expected, > yours)"
    );
    Ok(())
}

#[test]
fn an_incremental_cycle_frees_what_stop_the_world_frees() -> Result<(), TricolorError> {
    /// A random graph of `n` objects (a third of them lists), the first `roots` of them roots.
    fn build(seed: u64, n: usize, roots: usize) -> Result<(Heap, Vec<ObjId>), TricolorError> {
        let mut rng = XorShift64::new(seed);
        let mut heap = Heap::new(Barrier::None);
        let ids: Vec<ObjId> = (0..n)
            .map(|i| {
                if i.is_multiple_of(3) {
                    heap.new_list(&format!("o{i}"))
                } else {
                    heap.new_object(&format!("o{i}"))
                }
            })
            .collect();
        for &id in &ids {
            for f in 0..rng.below(4) {
                let target = (rng.below(10) > 0).then(|| ids[rng.below(n)]);
                if heap.len(id).is_ok() {
                    match target {
                        Some(t) => heap.append(id, t)?,
                        None => continue,
                    }
                } else {
                    heap.set_field(id, &format!("f{f}"), target)?;
                }
            }
        }
        for _ in roots..n {
            heap.pop_root()?;
        }
        Ok((heap, ids))
    }

    for seed in 1..=20u64 {
        for budget in [1, 2, 7, 100] {
            let (mut stopped, ids) = build(seed, 60, 3)?;
            let stats_stopped = stopped.collect()?;
            let (mut stepped, _) = build(seed, 60, 3)?;
            stepped.start_cycle()?;
            while !stepped.worklist().is_empty() {
                stepped.step(budget)?;
            }
            let stats_stepped = stepped.finish_cycle()?;
            let swept = |heap: &Heap| -> String {
                let swept: Vec<ObjId> = ids
                    .iter()
                    .copied()
                    .filter(|&id| heap.is_swept(id))
                    .collect();
                names(heap, &swept)
            };
            assert_eq!(
                swept(&stopped),
                swept(&stepped),
                "graph {seed}: what collect() sweeps (<) and what steps of {budget} units and \
                 finish_cycle() sweep (>) must be the same objects"
            );
            assert_eq!(
                (stats_stopped.marked, stats_stopped.swept),
                (stats_stepped.marked, stats_stepped.swept),
                "graph {seed}, budget {budget}: (marked, swept), stopped (<) and in steps (>)"
            );
            assert_eq!(
                stats_stepped.final_pause, 0,
                "graph {seed}, budget {budget}: the steps scanned everything, so the final pause \
                 had nothing left to scan"
            );
        }
    }
    Ok(())
}
