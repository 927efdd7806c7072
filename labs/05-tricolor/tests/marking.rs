//! Graded tests for lab 05, part (a): marking from the roots and sweeping, with the program
//! stopped.
//!
//! The first tests call one function of yours on a heap prepared by hand (colours painted with
//! `Heap::paint` where the state would otherwise need functions you have not written yet), so a
//! bug in one function costs that function's tests. Then whole collections (your `collect`: your
//! `mark_roots`, `mark` and `sweep` in a row) on the study note's example, checked against what
//! CPython 3.11.7 printed for the same objects (`parity/*.out`), on cycles, on a chain of a
//! million objects, and for the statistics.
//!
//! The heaps here are built with no write barrier (`Barrier::None`): with the program stopped
//! during marking, a barrier has nothing to do.

mod common;

use common::{
    MARK_FROM_ROOTS_OUT, SEED_EXAMPLE_OUT, assert_colors, assert_swept, assert_worklist, names,
    recorded, seed,
};
use pretty_assertions::assert_eq;
use tricolor::{Barrier, Color, CycleStats, Heap, ObjId, TricolorError};

// ---------------------------------------------------------------------------------------------
// shade, mark_roots, scan_object, mark
// ---------------------------------------------------------------------------------------------

#[test]
fn shade_turns_a_white_object_gray_and_pushes_it_once() {
    let mut heap = Heap::new(Barrier::None);
    let a = heap.new_object("A");
    let b = heap.new_object("B");
    let c = heap.new_object("C");
    heap.paint(c, Color::Black);
    let all = [a, b, c];

    heap.shade(a);
    assert_colors(&heap, &all, "A gray, B white, C black", "shade(A)");
    assert_worklist(&heap, "A", "shade(A)");

    heap.shade(a);
    assert_worklist(
        &heap,
        "A",
        "shade(A) a second time (A was gray: it is on the worklist already)",
    );

    heap.shade(b);
    assert_colors(&heap, &all, "A gray, B gray, C black", "shade(B)");
    assert_worklist(
        &heap,
        "A B",
        "shade(B) (the next to scan is the last one shaded)",
    );

    heap.shade(c);
    assert_colors(
        &heap,
        &all,
        "A gray, B gray, C black",
        "shade(C) (C was black: scanned already, it stays black)",
    );
    assert_worklist(&heap, "A B", "shade(C)");
    assert_eq!(
        heap.stats().largest_gray,
        2,
        "stats().largest_gray: A and B were gray at the same time, so the largest gray set had 2 \
         objects"
    );
}

#[test]
fn mark_roots_shades_each_root_once_bottom_first() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let a = heap.new_object("A"); // roots [A]
    let b = heap.new_object("B"); // roots [A, B]
    let d = heap.new_object("D"); // roots [A, B, D]
    heap.set_field(b, "next", Some(d))?; // B -> D
    heap.pop_root()?; // roots [A, B]
    heap.push_root(a)?; // roots [A, B, A]
    let c = heap.new_object("C"); // roots [A, B, A, C]

    heap.mark_roots();
    assert_worklist(
        &heap,
        "A B C",
        "mark_roots() with the roots [A, B, A, C] (A is shaded once)",
    );
    assert_colors(
        &heap,
        &[a, b, c, d],
        "A gray, B gray, C gray, D white",
        "mark_roots() (D is no root: mark_roots shades the roots and scans nothing, so what B \
         refers to stays white)",
    );
    Ok(())
}

#[test]
fn scan_object_shades_what_it_refers_to_last_slot_first_and_turns_black()
-> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let x = heap.new_object("X");
    let a = heap.new_object("A");
    let b = heap.new_object("B");
    let k = heap.new_object("K");
    // X's slots: f1 -> A, f2 -> None, f3 -> B, f4 -> A, f5 -> K.
    heap.set_field(x, "f1", Some(a))?;
    heap.set_field(x, "f2", None)?;
    heap.set_field(x, "f3", Some(b))?;
    heap.set_field(x, "f4", Some(a))?;
    heap.set_field(x, "f5", Some(k))?;
    // L = [C, None, A]
    let l = heap.new_list("L");
    let c = heap.new_object("C");
    heap.append(l, c)?;
    heap.pop_root()?;
    heap.append(l, a)?;
    heap.set_item(l, 1, Some(a))?;
    heap.set_item(l, 1, None)?;
    let y = heap.new_object("Y");
    // As if marking had reached X, L and Y and taken them off the worklist, and scanned K.
    heap.paint(x, Color::Gray);
    heap.paint(l, Color::Gray);
    heap.paint(y, Color::Gray);
    heap.paint(k, Color::Black);

    heap.scan_object(x);
    assert_colors(
        &heap,
        &[x, a, b, k],
        "X black, A gray, B gray, K black",
        "scan_object(X), X = Node(f1=A, f2=None, f3=B, f4=A, f5=K) with K black",
    );
    assert_worklist(
        &heap,
        "A B",
        "scan_object(X): its slots are scanned from the last to the first, f5 (K, black: left \
         alone), f4 (A: shaded), f3 (B: shaded), f2 (None), f1 (A again: gray already)",
    );

    heap.scan_object(l);
    assert_colors(
        &heap,
        &[l, c],
        "L black, C gray",
        "scan_object(L), L = [C, None, A]",
    );
    assert_worklist(
        &heap,
        "A B C",
        "scan_object(L): its items from the last to the first: A (gray already), None, C",
    );

    heap.scan_object(y);
    assert_colors(
        &heap,
        &[y],
        "Y black",
        "scan_object(Y), an object with no fields",
    );
    assert_worklist(&heap, "A B C", "scan_object(Y)");
    assert_eq!(
        heap.stats().marked,
        3,
        "stats().marked counts the objects scanned black: X, L and Y"
    );
    Ok(())
}

#[test]
fn mark_blackens_what_the_roots_reach() -> Result<(), TricolorError> {
    // mark_from_roots.py: A -> B -> C <- D <- E, and D -> E, with the roots [A].
    let (mut heap, s) = seed(Barrier::None, true)?;
    assert_eq!(
        recorded(MARK_FROM_ROOTS_OUT, "objects:"),
        [format!("objects: {}", names(&heap, &heap.object_ids()))],
        "the example's objects, in the order they were made (< CPython, > this heap)"
    );
    heap.mark_roots();
    heap.mark();
    assert_worklist(&heap, "empty", "mark_roots(), mark()");
    let with = |color: Color| -> Vec<ObjId> {
        heap.object_ids()
            .into_iter()
            .filter(|&id| heap.color(id) == color)
            .collect()
    };
    let seen = [
        format!("black: {}", names(&heap, &with(Color::Black))),
        format!("white: {}", names(&heap, &with(Color::White))),
    ];
    let mut cpython = recorded(MARK_FROM_ROOTS_OUT, "black:");
    cpython.extend(recorded(MARK_FROM_ROOTS_OUT, "white:"));
    assert_eq!(
        cpython, seen,
        "after mark_roots() and mark(), the colours differ from CPython's walk of the same \
         objects by hand, in mark_from_roots.py (< CPython 3.11.7, > yours)"
    );
    assert_colors(
        &heap,
        &[s.a, s.b, s.c, s.d, s.e],
        "A black, B black, C black, D white, E white",
        "mark_roots(), mark()",
    );
    assert_eq!(
        heap.stats().marked,
        3,
        "stats().marked: A, B and C were scanned"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// sweep
// ---------------------------------------------------------------------------------------------

#[test]
fn sweep_frees_the_white_objects_and_whitens_the_black_ones() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let a = heap.new_object("A"); // roots [A]
    let c = heap.new_object("C");
    heap.set_field(a, "next", Some(c))?; // A -> C
    heap.pop_root()?;
    let b = heap.new_object("B");
    heap.set_field(b, "next", Some(c))?; // B -> C
    heap.pop_root()?;
    let d = heap.new_object("D");
    heap.pop_root()?; // roots [A]; B and D are garbage
    // The colours marking from the roots leaves.
    heap.paint(a, Color::Black);
    heap.paint(c, Color::Black);

    heap.sweep();
    assert_swept(
        &heap,
        &[a, b, c, d],
        &[b, d],
        "sweep() with A and C black, B and D white",
    );
    assert_colors(
        &heap,
        &[a, c],
        "A white, C white",
        "sweep() (the survivors are white again, ready for the next cycle)",
    );
    assert_eq!(heap.stats().swept, 2, "stats().swept: B and D were freed");
    assert_eq!(
        heap.live_objects(),
        2,
        "live objects after the sweep: A and C"
    );
    assert_eq!(
        heap.field(a, "next")?,
        Some(c),
        "A still refers to C: the sweep frees only what is white"
    );
    assert_eq!(
        heap.pyheap().refcount(c),
        2,
        "C's reference count: the heap's own reference and A's; B's went when B was freed"
    );
    Ok(())
}

#[test]
fn seed_example_sweeps_d_and_e_and_keeps_c() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    let all = [s.a, s.b, s.c, s.e, s.d];

    let stats = heap.collect()?;
    // CPython frees E, then D, by reference counting, at `del e`; here the sweep frees them.
    let out: Vec<&str> = SEED_EXAMPLE_OUT.lines().collect();
    let from = out
        .iter()
        .position(|l| *l == "del e")
        .expect("a `del e` line")
        + 1;
    let to = out
        .iter()
        .position(|l| *l == "del a")
        .expect("a `del a` line");
    let cpython: Vec<&str> = out[from..to]
        .iter()
        .filter_map(|line| line.strip_prefix("freed "))
        .collect();
    let swept: Vec<String> = all
        .iter()
        .filter(|&&id| heap.is_swept(id))
        .map(|&id| heap.name(id))
        .collect();
    assert_eq!(
        cpython, swept,
        "with the roots [A], the objects freed: CPython frees them by reference counting, your \
         collector by tracing; it must be the same objects (< CPython 3.11.7, > yours)"
    );
    let alive: Vec<ObjId> = all.into_iter().filter(|&id| heap.is_live(id)).collect();
    assert_eq!(
        recorded(SEED_EXAMPLE_OUT, "alive:"),
        [format!("alive: {}", names(&heap, &alive))],
        "the objects still alive (< CPython 3.11.7, > yours)"
    );
    assert_eq!(
        heap.field(s.b, "next")?,
        Some(s.c),
        "B still refers to C: D referred to C too, but D was garbage, so that reference was no \
         reason to keep C; B's is"
    );
    assert_eq!(
        (stats.marked, stats.swept),
        (3, 2),
        "collect()'s statistics (marked, swept): A, B and C marked, E and D swept"
    );

    heap.pop_root()?; // del a
    let stats = heap.collect()?;
    assert_swept(&heap, &all, &all, "`del a` and another collect()");
    assert_eq!(
        (stats.marked, stats.swept),
        (0, 3),
        "the second collect()'s statistics (marked, swept): no root, nothing marked; A, B and C \
         swept (CPython printed `freed A`, `freed B`, `freed C` at `del a`)"
    );
    Ok(())
}

#[test]
fn cycles_no_root_reaches_are_swept_without_special_help() -> Result<(), TricolorError> {
    // mark_from_roots.py: D <-> E is a cycle, which reference counting cannot free.
    let (mut heap, s) = seed(Barrier::None, true)?;
    let stats = heap.collect()?;
    let swept: Vec<String> = [s.a, s.b, s.c, s.e, s.d]
        .iter()
        .filter(|&&id| heap.is_swept(id))
        .map(|&id| format!("freed {}", heap.name(id)))
        .chain([format!("gc.collect(): {}", stats.swept)])
        .collect();
    let mut cpython = recorded(MARK_FROM_ROOTS_OUT, "freed ");
    cpython.extend(recorded(MARK_FROM_ROOTS_OUT, "gc.collect():"));
    assert_eq!(
        cpython, swept,
        "the cycle D <-> E: what is freed, and how many (< CPython 3.11.7's gc.collect(), > \
         your sweep, in slot order)"
    );

    let mut heap = Heap::new(Barrier::None);
    let x = heap.new_object("X"); // X.me = X
    heap.set_field(x, "me", Some(x))?;
    heap.pop_root()?;
    let p = heap.new_object("P"); // P <-> Q
    let q = heap.new_object("Q");
    heap.set_field(p, "other", Some(q))?;
    heap.set_field(q, "other", Some(p))?;
    heap.pop_root()?;
    heap.pop_root()?;
    let ring: Vec<ObjId> = (0..100)
        .map(|i| heap.new_list(&format!("ring{i}")))
        .collect();
    for i in 0..100 {
        heap.append(ring[i], ring[(i + 1) % 100])?;
    }
    for _ in 0..100 {
        heap.pop_root()?;
    }
    let r = heap.new_object("R"); // roots [R]; R -> S <-> T
    let t = heap.new_object("T");
    let s_ = heap.new_object("S");
    heap.set_field(r, "s", Some(s_))?;
    heap.set_field(s_, "t", Some(t))?;
    heap.set_field(t, "s", Some(s_))?;
    heap.pop_root()?;
    heap.pop_root()?;

    let stats = heap.collect()?;
    let mut garbage = vec![x, p, q];
    garbage.extend(&ring);
    let mut all = garbage.clone();
    all.extend([r, s_, t]);
    assert_swept(
        &heap,
        &all,
        &garbage,
        "collect() with X -> X, P <-> Q, a ring of 100, and the roots [R], R -> S <-> T",
    );
    assert_eq!(
        stats.swept, 103,
        "stats().swept: X, P, Q and the 100 of the ring"
    );
    heap.pop_root()?;
    heap.collect()?;
    assert_swept(&heap, &[r, s_, t], &[r, s_, t], "popping R and collect()");
    Ok(())
}

#[test]
fn a_chain_of_1000000_objects_marks_on_an_8_mib_stack() {
    const N: usize = 1_000_000;
    // Graded tests run on a 2 MiB thread; this one gets 8 MiB, a main thread's usual size. A
    // recursive mark needs a frame per link of the chain: a million of them do not fit.
    let run = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(
            || -> Result<(CycleStats, CycleStats, usize), TricolorError> {
                let mut heap = Heap::new(Barrier::None);
                let first = heap.new_list("first"); // roots [first]
                let mut last = first;
                for _ in 1..N {
                    let next = heap.new_list(""); // roots [first, next]
                    heap.append(last, next)?; // last -> next
                    heap.pop_root()?; // roots [first]
                    last = next;
                }
                let kept = heap.collect()?;
                heap.pop_root()?;
                let freed = heap.collect()?;
                Ok((kept, freed, heap.live_objects()))
            },
        )
        .expect("a thread with an 8 MiB stack");
    let (kept, freed, left) = run
        .join()
        .unwrap_or_else(|_| panic!("marking a chain of {N} lists panicked (see above)"))
        .expect("building and collecting the chain");
    assert_eq!(
        (kept.marked, kept.swept),
        (N, 0),
        "collect() with the chain's first list as the only root (marked, swept): every list of \
         the chain is reachable"
    );
    assert_eq!(
        kept.largest_gray, 1,
        "stats().largest_gray for a chain: each scan shades one list, the next"
    );
    assert_eq!(
        (freed.marked, freed.swept, left),
        (0, N, 0),
        "after popping the root, collect() (marked, swept) and the live objects left"
    );
}

#[test]
fn statistics_count_marked_swept_and_the_largest_gray_set() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let r = heap.new_list("R"); // roots [R]; R = [A, B, C]
    for (name, children) in [("A", &["A1", "A2"][..]), ("B", &["B1"][..]), ("C", &[][..])] {
        let parent = heap.new_object(name);
        heap.append(r, parent)?;
        for (i, child) in children.iter().enumerate() {
            let child = heap.new_object(child);
            heap.set_field(parent, &format!("f{i}"), Some(child))?;
            heap.pop_root()?;
        }
        heap.pop_root()?;
    }
    let g1 = heap.new_object("G1"); // G1 -> G2, garbage
    let g2 = heap.new_object("G2");
    heap.set_field(g1, "next", Some(g2))?;
    heap.pop_root()?;
    heap.pop_root()?;

    let first = heap.collect()?;
    assert_eq!(
        first,
        CycleStats {
            cycle: 1,
            marked: 7,
            swept: 2,
            largest_gray: 4,
            ..CycleStats::default()
        },
        "collect() of R = [A, B, C], A -> A1, A2, B -> B1, and G1 -> G2 unreachable: marked R, A, \
         A1, A2, B, B1 and C; swept G1 and G2; the most gray at once was 4 (C, B, A2, A1 after \
         scanning R then A) (< expected, > yours)"
    );
    let second = heap.collect()?;
    assert_eq!(
        second,
        CycleStats {
            cycle: 2,
            marked: 7,
            swept: 0,
            largest_gray: 4,
            ..CycleStats::default()
        },
        "a second collect() starts its statistics afresh (< expected, > yours)"
    );
    Ok(())
}
