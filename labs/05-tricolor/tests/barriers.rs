//! Graded tests for lab 05, part (c): the program runs between the steps.
//!
//! First the bug, with no barrier: the interleaving that hides a white object behind a black one,
//! and the sweep that frees it while the program still refers to it (safely: pyheap keeps the
//! emptied object, and the heap refuses to use it). Then the invariants that name it
//! (`check_worklist`, `check_no_dangling`, `check_strong`, through `check_invariants`), then
//! Dijkstra's insertion barrier and the colour of new objects, then Yuasa's deletion barrier,
//! the weak invariant (`check_weak`), and the floating garbage each barrier leaves.
//!
//! The interleaving, in the book's pictures:
//!
//! ```text
//!   roots [A];  A.next -> B,  B.next -> C,  C.payload -> P
//!   start_cycle(); step(1)        A black, B gray, C and P white
//!   c = b.next                    push_root(C)          (a root: no barrier)
//!   a.x = c                       set_field(A, "x", C)  (black A now points to white C)
//!   b.next = None                 set_field(B, "next", None)
//!   del c                         pop_root()
//!   finish_cycle()
//! ```

mod common;

use common::{assert_colors, assert_swept, assert_worklist, reachable, seed};
use pretty_assertions::assert_eq;
use tricolor::{Barrier, Color, Heap, ObjId, TricolorError, Violation};

/// The objects of the interleaving.
struct Hide {
    a: ObjId,
    b: ObjId,
    c: ObjId,
    p: ObjId,
}

/// The heap of the interleaving, `start_cycle()` and `step(1)` done: A black, B gray, C and P
/// white, the roots [A].
fn before_the_interleaving(barrier: Barrier) -> Result<(Heap, Hide), TricolorError> {
    let mut heap = Heap::new(barrier);
    let a = heap.new_object("A"); // roots [A]
    let b = heap.new_object("B");
    heap.set_field(a, "next", Some(b))?;
    heap.pop_root()?;
    let c = heap.new_object("C");
    heap.set_field(b, "next", Some(c))?;
    heap.pop_root()?;
    let p = heap.new_object("P");
    heap.set_field(c, "payload", Some(p))?;
    heap.pop_root()?;
    heap.start_cycle()?;
    heap.step(1)?;
    let hide = Hide { a, b, c, p };
    assert_colors(
        &heap,
        &[a, b, c, p],
        "A black, B gray, C white, P white",
        "start_cycle() and step(1) on the roots [A], A -> B -> C -> P (the state the \
         interleaving starts from)",
    );
    Ok((heap, hide))
}

/// The program's four operations of the interleaving, each followed by `after(heap, what)`.
fn interleave(
    heap: &mut Heap,
    h: &Hide,
    mut after: impl FnMut(&Heap, &str),
) -> Result<(), TricolorError> {
    heap.push_root(h.c)?;
    after(heap, "c = b.next (push_root(C))");
    heap.set_field(h.a, "x", Some(h.c))?;
    after(heap, "a.x = c");
    heap.set_field(h.b, "next", None)?;
    after(heap, "b.next = None");
    heap.pop_root()?;
    after(heap, "del c (pop_root())");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The bug, with no barrier
// ---------------------------------------------------------------------------------------------

#[test]
fn without_a_barrier_a_reachable_object_is_swept() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::None)?;
    interleave(&mut heap, &h, |_, _| {})?;
    assert_colors(
        &heap,
        &[h.a, h.b, h.c, h.p],
        "A black, B gray, C white, P white",
        "the interleaving with no barrier (nothing shaded C: black A points to it, and no gray \
         object leads to it any more)",
    );
    heap.finish_cycle()?;
    assert!(
        reachable(&heap).contains(&h.c),
        "C must still be reachable from the root A (A.x refers to it)"
    );
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p],
        &[h.c, h.p],
        "the interleaving with no barrier, then finish_cycle() (C stayed white, so the sweep \
         freed it, and P, which only C referred to)",
    );
    assert_eq!(
        heap.field(h.a, "x")?,
        Some(h.c),
        "A.x still refers to C: the program's reference dangles"
    );
    assert!(
        heap.is_dangling(h.c),
        "C was swept while A.x refers to it: pyheap must still hold the emptied object (no \
         memory is used after it is freed)"
    );
    assert_eq!(
        heap.pyheap().refcount(h.c),
        1,
        "C's reference count after the sweep: only A.x's (the heap gave up its own)"
    );
    assert_eq!(
        heap.slot_count(h.c),
        0,
        "the sweep emptied C (its payload field is gone): what a program reading A.x.payload \
         would find"
    );
    assert_eq!(
        heap.push_root(h.c),
        Err(TricolorError::Swept { name: "C".into() }),
        "using C after the sweep must be refused (< expected, > yours)"
    );
    Ok(())
}

#[test]
fn check_worklist_finds_a_gray_object_off_the_worklist_or_another_colour_on_it()
-> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::None, false)?;
    assert_eq!(
        heap.check_worklist(),
        Ok(()),
        "before any cycle, every object white and the worklist empty"
    );
    heap.paint(s.b, Color::Black);
    assert_eq!(
        heap.check_worklist(),
        Err(Violation::NotWhiteBetweenCycles {
            name: "B".into(),
            color: Color::Black
        }),
        "B painted black between cycles (< expected, > yours)"
    );
    heap.paint(s.b, Color::White);
    heap.start_cycle()?;
    assert_eq!(
        heap.check_worklist(),
        Ok(()),
        "after start_cycle(): A gray and on the worklist"
    );
    heap.paint(s.c, Color::Gray);
    assert_eq!(
        heap.check_worklist(),
        Err(Violation::GrayOffWorklist { gray: "C".into() }),
        "C painted gray without being put on the worklist (< expected, > yours)"
    );
    heap.paint(s.c, Color::White);
    heap.paint(s.a, Color::Black);
    assert_eq!(
        heap.check_worklist(),
        Err(Violation::NotGrayOnWorklist {
            name: "A".into(),
            color: Color::Black
        }),
        "A painted black while it is on the worklist (< expected, > yours)"
    );
    heap.paint(s.a, Color::White);
    assert_eq!(
        heap.check_worklist(),
        Err(Violation::NotGrayOnWorklist {
            name: "A".into(),
            color: Color::White
        }),
        "A painted white while it is on the worklist (< expected, > yours)"
    );
    heap.shade(s.a);
    assert_eq!(
        heap.check_worklist(),
        Err(Violation::TwiceOnWorklist { name: "A".into() }),
        "A painted white on the worklist, then shaded: it is on the worklist twice (< expected, \
         > yours)"
    );
    Ok(())
}

#[test]
fn check_no_dangling_finds_a_reference_to_a_swept_object() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::None)?;
    interleave(&mut heap, &h, |heap, what| {
        assert_eq!(
            heap.check_no_dangling(),
            Ok(()),
            "after {what}, nothing has been swept yet"
        );
    })?;
    heap.finish_cycle()?;
    assert_eq!(
        heap.check_no_dangling(),
        Err(Violation::RefersToSwept {
            holder: "A".into(),
            swept: "C".into()
        }),
        "after the interleaving and finish_cycle() with no barrier, A.x refers to the swept C \
         (< expected, > yours)"
    );

    // The same, but the program keeps C in a root instead of in A.x.
    let (mut heap, h) = before_the_interleaving(Barrier::None)?;
    heap.push_root(h.c)?; // c = b.next: roots [A, C]
    heap.set_field(h.b, "next", None)?; // b.next = None
    heap.finish_cycle()?;
    assert_eq!(
        heap.check_no_dangling(),
        Err(Violation::RootHoldsSwept {
            root: 1,
            swept: "C".into()
        }),
        "c = b.next; b.next = None; finish_cycle() with no barrier: root 1 holds the swept C \
         (< expected, > yours)"
    );
    Ok(())
}

#[test]
fn check_invariants_names_black_a_pointing_to_white_c_and_the_step() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::None)?;
    assert_eq!(
        heap.check_invariants().map_err(|e| e.to_string()),
        Ok(()),
        "after start_cycle() and step(1), every invariant holds"
    );
    let mut found = Vec::new();
    interleave(&mut heap, &h, |heap, what| {
        found.push(format!(
            "{what}: {}",
            match heap.check_invariants() {
                Ok(()) => "ok".to_string(),
                Err(e) => e.to_string(),
            }
        ));
    })?;
    let strong = "black A points to white C (the strong tricolor invariant: no black object \
                  points to a white one)";
    let expected = [
        "c = b.next (push_root(C)): ok".to_string(),
        format!("a.x = c: cycle 1, after step 1, then 2 mutator operations: {strong}"),
        format!("b.next = None: cycle 1, after step 1, then 3 mutator operations: {strong}"),
        format!("del c (pop_root()): cycle 1, after step 1, then 4 mutator operations: {strong}"),
    ];
    assert_eq!(
        expected.to_vec(),
        found,
        "check_invariants() after each operation of the interleaving, with no barrier \
         (< expected, > yours)"
    );
    heap.finish_cycle()?;
    assert_eq!(
        heap.check_invariants().map_err(|e| e.to_string()),
        Err(
            "after cycle 1: A refers to C, which the sweep freed: a reachable object was swept"
                .to_string()
        ),
        "check_invariants() after finish_cycle() (< expected, > yours)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Dijkstra's insertion barrier
// ---------------------------------------------------------------------------------------------

#[test]
fn dijkstra_shades_the_new_target_of_a_store() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::Dijkstra);
    let a = heap.new_object("A"); // roots [A]; A -> B, B -> C and Q, C -> P
    let mut made = Vec::new();
    for (holder, field, name) in [(a, "next", "B"), (a, "", "C"), (a, "", "P"), (a, "", "Q")] {
        let id = heap.new_object(name);
        if !field.is_empty() {
            heap.set_field(holder, field, Some(id))?;
        }
        made.push(id);
    }
    let [b, c, p, q] = made[..] else {
        unreachable!()
    };
    heap.set_field(b, "next", Some(c))?;
    heap.set_field(b, "q", Some(q))?;
    heap.set_field(c, "p", Some(p))?;
    for _ in 0..4 {
        heap.pop_root()?;
    }
    let all = [a, b, c, p, q];
    heap.start_cycle()?;
    heap.step(1)?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C white, P white, Q white",
        "start_cycle(), step(1), with the roots [A], A -> B, B -> C and Q, C -> P",
    );
    heap.push_root(c)?; // c = b.next
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C white, P white, Q white",
        "c = b.next (pushing a root has no barrier)",
    );
    heap.set_field(a, "x", Some(c))?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C gray, P white, Q white",
        "a.x = c (a store into black A: C is shaded)",
    );
    assert_worklist(&heap, "B C", "a.x = c");
    heap.push_root(q)?; // q = b.q
    heap.set_field(c, "other", Some(q))?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C gray, P white, Q gray",
        "q = b.q; c.other = q (a store into gray C: the barrier shades Q all the same)",
    );
    heap.set_field(c, "p", None)?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C gray, P white, Q gray",
        "c.p = None (the reference to P is deleted, and Dijkstra's barrier shades only what is \
         written)",
    );
    assert_worklist(&heap, "B C Q", "c.other = q; c.p = None");
    heap.set_field(a, "x", Some(c))?;
    assert_worklist(
        &heap,
        "B C Q",
        "a.x = c again (C is gray: shading it changes nothing)",
    );
    Ok(())
}

#[test]
fn dijkstra_barrier_does_nothing_between_cycles() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::Dijkstra, false)?;
    heap.set_field(s.a, "x", Some(s.c))?;
    heap.collect()?;
    let f = heap.new_object("F");
    heap.set_field(s.a, "y", Some(f))?;
    heap.set_field(s.b, "next", None)?;
    assert_colors(
        &heap,
        &[s.a, s.b, s.c, f],
        "A white, B white, C white, F white",
        "stores before and after a collect(), with no cycle marking",
    );
    assert_worklist(&heap, "empty", "stores between cycles");
    Ok(())
}

#[test]
fn dijkstra_keeps_the_hidden_object_alive() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Dijkstra)?;
    interleave(&mut heap, &h, |heap, what| {
        assert_eq!(
            heap.check_invariants().map_err(|e| e.to_string()),
            Ok(()),
            "after {what}, with Dijkstra's barrier every invariant holds"
        );
    })?;
    let stats = heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p],
        &[],
        "the interleaving with Dijkstra's barrier, then finish_cycle()",
    );
    assert_eq!(
        heap.check_invariants().map_err(|e| e.to_string()),
        Ok(()),
        "after finish_cycle(), nothing dangles"
    );
    assert_eq!(
        (stats.marked, stats.swept),
        (4, 0),
        "finish_cycle()'s statistics (marked, swept): A, B, C and P marked"
    );
    Ok(())
}

#[test]
fn dijkstra_shades_what_is_appended_or_stored_into_a_list() -> Result<(), TricolorError> {
    let mut heap = Heap::new(Barrier::Dijkstra);
    let h = heap.new_object("H"); // roots [H]; H.w = W, H.v = V
    let w = heap.new_object("W");
    heap.set_field(h, "w", Some(w))?;
    let v = heap.new_object("V");
    heap.set_field(h, "v", Some(v))?;
    heap.pop_root()?;
    heap.pop_root()?;
    let l = heap.new_list("L"); // roots [H, L]; L = [X]
    let x = heap.new_object("X");
    heap.append(l, x)?;
    heap.pop_root()?;
    heap.start_cycle()?; // worklist [H, L]
    heap.step(1)?; // L scanned: X gray
    heap.step(1)?; // X scanned
    let all = [h, w, v, l, x];
    assert_colors(
        &heap,
        &all,
        "H gray, W white, V white, L black, X black",
        "start_cycle() and two steps of one unit, with the roots [H, L], H -> W and V, L = [X]",
    );
    heap.push_root(w)?; // t = h.w
    heap.append(l, w)?;
    assert_colors(
        &heap,
        &[l, w],
        "L black, W gray",
        "t = h.w; l.append(t): a store into black L",
    );
    heap.push_root(v)?; // u = h.v
    heap.set_item(l, 0, Some(v))?;
    assert_colors(
        &heap,
        &[l, x, v],
        "L black, X black, V gray",
        "u = h.v; l[0] = u (X is overwritten; V is shaded)",
    );
    assert_worklist(&heap, "H W V", "l.append(t); l[0] = u");
    heap.pop_item(l)?;
    assert_worklist(&heap, "H W V", "l.pop() (deleting shades nothing)");
    Ok(())
}

#[test]
fn dijkstra_sweeps_an_object_unlinked_before_it_was_reached() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Dijkstra)?;
    heap.set_field(h.b, "next", None)?; // b.next = None: C and P are garbage now
    assert_colors(
        &heap,
        &[h.c, h.p],
        "C white, P white",
        "b.next = None (Dijkstra's barrier shades what is written, not what is deleted)",
    );
    let stats = heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p],
        &[h.c, h.p],
        "b.next = None during marking, then finish_cycle(): C and P became garbage before \
         marking reached them, and are swept in this very cycle",
    );
    assert_eq!(stats.swept, 2, "finish_cycle()'s stats().swept");
    Ok(())
}

#[test]
fn dijkstra_allocates_white_and_the_final_pause_finds_new_objects_through_the_roots()
-> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::Dijkstra, false)?;
    heap.start_cycle()?;
    while !heap.worklist().is_empty() {
        heap.step(10)?;
    }
    let n = heap.new_object("N"); // roots [A, N]
    let m = heap.new_object("M"); // roots [A, N, M]
    let k = heap.new_object("K"); // roots [A, N, M, K]
    assert_colors(
        &heap,
        &[n, m, k],
        "N white, M white, K white",
        "three objects allocated while marking, under Dijkstra's barrier",
    );
    heap.set_field(s.a, "k", Some(k))?; // a.k = k: a store into black A
    assert_colors(&heap, &[k], "K gray", "a.k = k");
    heap.pop_root()?; // del k: K is still reachable through A
    heap.pop_root()?; // del m: M is garbage
    let stats = heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[s.a, n, m, k],
        &[m],
        "finish_cycle() (N, held only by a root, was found when the final pause shaded the \
         roots again; M, dropped, was garbage; K was shaded by the store)",
    );
    assert_eq!(
        stats.final_pause, 2,
        "stats().final_pause: the final pause scanned K (gray since the store) and N (a root)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Yuasa's deletion barrier
// ---------------------------------------------------------------------------------------------

#[test]
fn yuasa_shades_the_old_target_of_an_overwrite_or_a_deletion() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Yuasa)?;
    let all = [h.a, h.b, h.c, h.p];
    heap.push_root(h.c)?; // c = b.next: roots [A, C]
    heap.set_field(h.a, "x", Some(h.c))?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C white, P white",
        "c = b.next; a.x = c (Yuasa's barrier shades what is deleted, and a.x held nothing)",
    );
    heap.set_field(h.b, "next", None)?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C gray, P white",
        "b.next = None (the reference to C is deleted: C is shaded)",
    );
    heap.set_field(h.c, "payload", None)?;
    assert_colors(
        &heap,
        &all,
        "A black, B gray, C gray, P gray",
        "c.payload = None (P is shaded)",
    );
    assert_worklist(&heap, "B C P", "b.next = None; c.payload = None");

    let l = heap.new_list("L"); // black: a new object's colour under Yuasa's barrier
    let x = heap.new_object("X");
    let y = heap.new_object("Y");
    heap.append(l, x)?;
    heap.append(l, y)?;
    let z = heap.new_object("Z");
    for id in [x, y, z] {
        heap.paint(id, Color::White);
    }
    heap.set_item(l, 0, Some(z))?;
    assert_colors(
        &heap,
        &[x, y, z],
        "X gray, Y white, Z white",
        "X, Y and Z painted white; l = [x, y]; l[0] = z (X is overwritten: shaded)",
    );
    heap.pop_item(l)?;
    assert_colors(
        &heap,
        &[x, y, z],
        "X gray, Y gray, Z white",
        "l.pop() (Y is deleted: shaded)",
    );
    heap.append(l, y)?;
    assert_worklist(
        &heap,
        "B C P X Y",
        "l.append(y) (appending deletes nothing: nothing more is shaded)",
    );
    heap.finish_cycle()?;
    heap.set_field(h.a, "x", None)?;
    heap.set_item(l, 0, None)?;
    assert_worklist(
        &heap,
        "empty",
        "stores between cycles (the barrier does nothing then)",
    );
    Ok(())
}

#[test]
fn yuasa_keeps_the_hidden_object_alive() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Yuasa)?;
    interleave(&mut heap, &h, |_, _| {})?;
    let stats = heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p],
        &[],
        "the interleaving with Yuasa's barrier, then finish_cycle()",
    );
    assert_eq!(
        heap.check_no_dangling(),
        Ok(()),
        "after finish_cycle(), nothing dangles"
    );
    assert_eq!(
        (stats.marked, stats.swept),
        (4, 0),
        "finish_cycle()'s statistics (marked, swept)"
    );
    Ok(())
}

#[test]
fn yuasa_allocates_black_so_a_new_object_survives_its_first_cycle() -> Result<(), TricolorError> {
    let (mut heap, s) = seed(Barrier::Yuasa, false)?;
    heap.start_cycle()?;
    heap.step(1)?; // A black, B gray
    let n = heap.new_object("N"); // roots [A, N]
    assert_colors(
        &heap,
        &[n],
        "N black",
        "n = Node() while marking, under Yuasa's barrier",
    );
    heap.set_field(s.a, "n", Some(n))?; // a.n = n: deletes nothing, so shades nothing
    heap.pop_root()?; // del n: N is reachable through A only
    let m = heap.new_object("M");
    heap.pop_root()?; // del m: M is garbage at once
    let first = heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[s.a, n, m],
        &[],
        "finish_cycle() (N, stored into black A, was never shaded by the barrier: it lives \
         because it was allocated black; so does M, although nothing refers to it)",
    );
    assert_eq!(
        first.final_pause, 2,
        "stats().final_pause: B and C were left for the final pause (new objects are not \
         scanned: they hold nothing when they are made)"
    );
    assert_colors(&heap, &[n, m], "N white, M white", "finish_cycle()");
    let second = heap.collect()?;
    assert_swept(
        &heap,
        &[s.a, n, m],
        &[m],
        "the next collect() (M, floating garbage of the first cycle)",
    );
    assert_eq!(second.swept, 1, "the next collect()'s stats().swept");
    Ok(())
}

#[test]
fn check_weak_accepts_a_white_object_a_gray_one_still_reaches() -> Result<(), TricolorError> {
    // No barrier, so that the heap can be driven into each state by the program itself.
    let (mut heap, h) = before_the_interleaving(Barrier::None)?;
    heap.push_root(h.c)?;
    heap.set_field(h.a, "x", Some(h.c))?; // black A -> white C, and gray B -> white C
    assert!(
        heap.check_strong().is_err(),
        "after a.x = c, black A points to white C: check_strong() must say so"
    );
    assert_eq!(
        heap.check_weak(),
        Ok(()),
        "after a.x = c, gray B still reaches C through white objects (here, directly): the \
         weak invariant holds"
    );
    let q = heap.new_object("Q"); // white: a new object's colour with no barrier
    heap.set_field(h.c, "q", Some(q))?;
    heap.set_field(h.a, "y", Some(q))?; // black A -> white Q, reached from B through white C
    assert_eq!(
        heap.check_weak(),
        Ok(()),
        "after c.q = q; a.y = q: gray B reaches Q through white C"
    );
    heap.set_field(h.b, "next", None)?; // the only gray path to C and Q is gone
    assert_eq!(
        heap.check_weak(),
        Err(Violation::WhiteHiddenBehindBlack {
            black: "A".into(),
            white: "Q".into()
        }),
        "after b.next = None, black A points to white C and to white Q, and no gray object \
         reaches either: the first of A's referents, in scanning order (its last slot, y, \
         first), is Q (< expected, > yours)"
    );
    Ok(())
}

#[test]
fn check_invariants_under_yuasa_holds_where_the_strong_invariant_does_not()
-> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Yuasa)?;
    let mut strong = Vec::new();
    interleave(&mut heap, &h, |heap, what| {
        assert_eq!(
            heap.check_invariants().map_err(|e| e.to_string()),
            Ok(()),
            "after {what}, with Yuasa's barrier every invariant holds (the weak form)"
        );
        strong.push(format!("{what}: {:?}", heap.check_strong().is_ok()));
    })?;
    assert_eq!(
        [
            "c = b.next (push_root(C)): true",
            "a.x = c: false",
            "b.next = None: true",
            "del c (pop_root()): true",
        ]
        .to_vec(),
        strong,
        "whether the strong invariant holds after each operation under Yuasa's barrier: a.x = c \
         makes black A point to white C, which Yuasa's barrier allows (< expected, > yours)"
    );
    heap.step(1)?; // C, shaded by b.next = None, is scanned: P gray
    heap.step(1)?; // P is scanned: black
    heap.paint(h.p, Color::White);
    assert_eq!(
        heap.check_invariants().map_err(|e| e.to_string()),
        Err(
            "cycle 1, after step 3: black C points to white P, and no gray object reaches P \
             through white objects (the weak tricolor invariant): nothing will mark P"
                .to_string()
        ),
        "two more steps of one unit (C, then P, scanned), then P painted white: black C points \
         to it and only B is gray (< expected, > yours)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Floating garbage
// ---------------------------------------------------------------------------------------------

#[test]
fn floating_garbage_is_what_was_marked_and_dropped_during_the_cycle() -> Result<(), TricolorError> {
    let (mut heap, h) = before_the_interleaving(Barrier::Yuasa)?;
    heap.set_field(h.b, "next", None)?; // C (and P) become garbage: Yuasa's barrier shades C
    let t = heap.new_object("T"); // black, then dropped
    heap.pop_root()?;
    heap.final_pause();
    assert_eq!(
        common::names(&heap, &heap.floating_garbage()),
        "C P T",
        "the floating garbage after b.next = None and a new T dropped at once, under Yuasa's \
         barrier, once the final pause is done: marked, and unreachable (in slot order)"
    );
    heap.finish_cycle()?;
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p, t],
        &[],
        "finish_cycle(): floating garbage survives its cycle",
    );
    assert_eq!(
        common::names(&heap, &heap.floating_garbage()),
        "empty",
        "between cycles nothing is black, so nothing floats"
    );
    heap.collect()?;
    assert_swept(
        &heap,
        &[h.a, h.b, h.c, h.p, t],
        &[h.c, h.p, t],
        "the next collect() sweeps the floating garbage of the cycle before",
    );
    Ok(())
}

#[test]
fn dijkstra_leaves_less_floating_garbage_than_yuasa_on_the_same_program()
-> Result<(), TricolorError> {
    let mut floating = Vec::new();
    for barrier in [Barrier::Dijkstra, Barrier::Yuasa] {
        let (mut heap, h) = before_the_interleaving(barrier)?;
        heap.set_field(h.b, "next", None)?;
        heap.new_object("T");
        heap.pop_root()?;
        let r = heap.new_object("R"); // kept in a root: not garbage
        heap.final_pause();
        floating.push(format!(
            "{barrier}: {}",
            common::names(&heap, &heap.floating_garbage())
        ));
        let stats = heap.finish_cycle()?;
        assert!(
            heap.is_live(r),
            "{barrier}: R, held by a root, must survive"
        );
        floating.push(format!("{barrier}: swept {}", stats.swept));
    }
    assert_eq!(
        [
            "Dijkstra's insertion barrier: empty",
            "Dijkstra's insertion barrier: swept 3",
            "Yuasa's deletion barrier: C P T",
            "Yuasa's deletion barrier: swept 0",
        ]
        .to_vec(),
        floating,
        "b.next = None and a new T dropped during marking: the floating garbage each barrier \
         leaves, and what its sweep frees (< expected, > yours)"
    );
    Ok(())
}
