//! What the graded test files share: the study note's example, CPython's recorded outputs, and
//! helpers that show a heap's colours by name, so that a failure reads like the pictures in the
//! book.

#![allow(dead_code)]

use pretty_assertions::assert_eq;
use tricolor::{Barrier, Heap, ObjId, TricolorError};

/// The study note's example, `A -> B -> C <- D <- E`, built as a program would build it: each
/// object is made (which pushes it as a root), linked, and popped when the program no longer
/// holds it. The objects are made in the order A, B, C, E, D (as `seed_example.py` makes them),
/// and in the end the only root is A.
pub struct Seed {
    pub a: ObjId,
    pub b: ObjId,
    pub c: ObjId,
    pub d: ObjId,
    pub e: ObjId,
}

/// The study note's example on a new heap with `barrier`. With `cycle`, D also refers back to E
/// (`d.back = e`), as in `mark_from_roots.py`.
pub fn seed(barrier: Barrier, cycle: bool) -> Result<(Heap, Seed), TricolorError> {
    let mut heap = Heap::new(barrier);
    let a = heap.new_object("A"); //      a = Node("A")               roots [A]
    let b = heap.new_object("B"); //      a.next = Node("B")
    heap.set_field(a, "next", Some(b))?;
    heap.pop_root()?;
    let c = heap.new_object("C"); //      a.next.next = Node("C")
    heap.set_field(b, "next", Some(c))?;
    heap.pop_root()?;
    let e = heap.new_object("E"); //      e = Node("E")               roots [A, E]
    let d = heap.new_object("D"); //      e.next = Node("D")
    heap.set_field(e, "next", Some(d))?;
    heap.set_field(d, "next", Some(c))?; // e.next.next = a.next.next
    if cycle {
        heap.set_field(d, "back", Some(e))?; // e.next.back = e
    }
    heap.pop_root()?;
    heap.pop_root()?; //                  del e                        roots [A]
    Ok((heap, Seed { a, b, c, d, e }))
}

/// The lines CPython 3.11.7 printed for `parity/seed_example.py` (`cargo xtask parity`
/// re-records them).
pub const SEED_EXAMPLE_OUT: &str = include_str!("../../parity/seed_example.out");
/// The lines CPython 3.11.7 printed for `parity/mark_from_roots.py`.
pub const MARK_FROM_ROOTS_OUT: &str = include_str!("../../parity/mark_from_roots.out");

/// The lines of a recorded output that start with `prefix`.
pub fn recorded<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|line| line.starts_with(prefix))
        .collect()
}

/// `"A gray, B white"`: the colour of each object, by name, in the order given.
pub fn colors_of(heap: &Heap, ids: &[ObjId]) -> String {
    ids.iter()
        .map(|&id| format!("{} {}", heap.name(id), heap.color(id)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"A black, B black, C white"`: every live object's colour, in slot order.
pub fn colors(heap: &Heap) -> String {
    colors_of(heap, &heap.object_ids())
}

/// `"A B C"`, or `"empty"`: names, in the order given.
pub fn names(heap: &Heap, ids: &[ObjId]) -> String {
    if ids.is_empty() {
        return "empty".to_string();
    }
    ids.iter()
        .map(|&id| heap.name(id))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The worklist by name, bottom first (the next to scan is last), or `"empty"`.
pub fn worklist(heap: &Heap) -> String {
    names(heap, heap.worklist())
}

/// The expected colours, written `"A gray, B white"` as [`colors_of`] writes them.
#[track_caller]
pub fn assert_colors(heap: &Heap, ids: &[ObjId], expected: &str, after: &str) {
    assert_eq!(
        expected,
        colors_of(heap, ids),
        "after {after}, the colours are not what they should be (< expected, > yours)"
    );
}

/// The expected worklist, bottom first (the next to scan last), or `"empty"`.
#[track_caller]
pub fn assert_worklist(heap: &Heap, expected: &str, after: &str) {
    assert_eq!(
        expected,
        worklist(heap),
        "after {after}, the worklist (bottom first, the next to scan last) is not what it should \
         be (< expected, > yours)"
    );
}

/// Asserts which of `ids` were swept: `expected` lists the swept ones, `"empty"` none. (A swept
/// object keeps its name until a new object takes its slot: call this before allocating again.)
#[track_caller]
pub fn assert_swept(heap: &Heap, ids: &[ObjId], expected: &[ObjId], after: &str) {
    let swept: Vec<ObjId> = ids
        .iter()
        .copied()
        .filter(|&id| heap.is_swept(id))
        .collect();
    assert_eq!(
        names(heap, expected),
        names(heap, &swept),
        "after {after}, the swept objects are not the ones expected (< expected, > yours)"
    );
}

/// Every object a root reaches now, found without the collector: what must never be swept.
pub fn reachable(heap: &Heap) -> Vec<ObjId> {
    let mut seen: Vec<ObjId> = Vec::new();
    let mut stack: Vec<ObjId> = heap.roots().to_vec();
    while let Some(id) = stack.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        stack.extend(heap.referents(id));
    }
    seen
}
