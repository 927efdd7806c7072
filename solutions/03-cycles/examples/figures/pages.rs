//! The pictures of the weak references and finalizers pages of the lab 03 chapter
//! (`book/src/03-cycles/weakrefs.md`, `finalizers.md`), drawn from runs of the reference
//! collector on pyheap, the scenarios of the CPython sessions those pages show.
//!
//! - `weakref-cases.svg`: the three cases of the weak references session, each heap as it is
//!   when `gc.collect()` starts, the garbage as the reference's `deduce_unreachable` finds it,
//!   and what the whole collection then did: callbacks called, the count returned.
//! - `resurrection.svg`: the resurrection session (two `Phoenix` objects in a cycle whose
//!   `__del__` appends them to `saved`, and a self-referencing list), replayed one step of
//!   `handle_unreachable` at a time with the reference's functions; the replay must end with the
//!   count and the events of the reference's own `gc.collect()`, or the example fails.

use std::collections::{BTreeMap, BTreeSet};

use cycles::{
    Collector, deduce_unreachable, delete_garbage, finalize_garbage, handle_resurrected_objects,
    handle_weakrefs,
};
use drawing::{LineStyle, Svg, TextStyle, and_list, palette};
use pyheap::{Action, Callback, Event, Finalizer, GcList, Heap, Kind, ObjId};

/// Every picture of the two pages: its file name and its SVG text.
pub fn pictures() -> Vec<(String, String)> {
    vec![
        ("weakref-cases.svg".to_string(), weakref_cases()),
        ("resurrection.svg".to_string(), resurrection()),
    ]
}

// Drawing a small heap.

/// Where an object is drawn, and what it is called.
struct Placed {
    id: ObjId,
    label: &'static str,
    x: f64,
}

/// How an object is coloured in a panel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shade {
    Reachable,
    Garbage,
    Resurrected,
    Freed,
}

impl Shade {
    fn swatch(self) -> palette::Swatch {
        match self {
            Shade::Reachable => palette::ALIVE,
            Shade::Garbage => palette::DEAD,
            Shade::Resurrected => palette::WAITING,
            Shade::Freed => palette::EMPTY,
        }
    }
}

const BOX_W: f64 = 104.0;
const BOX_H: f64 = 44.0;

/// Draws the objects of `placed` in a row at `y`, the names that refer to them in a box on the
/// left, their references (solid) and their weak references (dashed); `shade` colours each.
/// Objects that are dead are drawn as freed, with no references.
fn draw_heap(
    svg: &mut Svg,
    heap: &Heap,
    y: f64,
    placed: &[Placed],
    shade: &dyn Fn(ObjId) -> Shade,
    notes: &BTreeMap<ObjId, String>,
) {
    let x_of: BTreeMap<ObjId, f64> = placed.iter().map(|p| (p.id, p.x)).collect();
    // The names.
    let names: Vec<(String, ObjId)> = heap
        .names()
        .filter(|(_, id)| x_of.contains_key(id))
        .map(|(name, id)| (name.to_string(), id))
        .collect();
    let names_h = 26.0 + 22.0 * names.len().max(1) as f64;
    svg.rect(
        20.0,
        y,
        96.0,
        names_h.max(BOX_H),
        palette::PANEL,
        palette::MUTED,
        1.2,
    );
    svg.text(
        68.0,
        y + 17.0,
        "names",
        TextStyle::new(12.5).centre().colour(palette::MUTED),
    );
    for (i, (name, id)) in names.iter().enumerate() {
        let ny = y + 36.0 + 22.0 * i as f64;
        svg.text(30.0, ny, name, TextStyle::new(13.0).mono());
        let tx = x_of[id];
        svg.path(
            &format!(
                "M96,{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                ny - 4.0,
                tx - 30.0,
                ny - 4.0,
                tx - 30.0,
                y + BOX_H / 2.0,
                tx,
                y + BOX_H / 2.0
            ),
            LineStyle::new().arrow(),
        );
    }
    // The references, as arcs above (left to right) or below (right to left) the row.
    for p in placed {
        if !heap.is_alive(p.id) {
            continue;
        }
        let mut targets: Vec<(ObjId, bool)> = heap
            .referents(p.id)
            .into_iter()
            .filter(|t| x_of.contains_key(t))
            .map(|t| (t, false))
            .collect();
        if let Some(referent) = weak_referent(heap, p.id).filter(|t| x_of.contains_key(t)) {
            targets.push((referent, true));
        }
        for (target, weak) in targets {
            let (x0, x1) = (p.x + BOX_W / 2.0, x_of[&target] + BOX_W / 2.0);
            let style = if weak {
                LineStyle::new().arrow().dashed().colour(palette::ACCENT)
            } else {
                LineStyle::new().arrow()
            };
            if target == p.id {
                svg.path(
                    &format!(
                        "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                        p.x + 30.0,
                        y + BOX_H,
                        p.x + 16.0,
                        y + BOX_H + 34.0,
                        p.x + 88.0,
                        y + BOX_H + 34.0,
                        p.x + 74.0,
                        y + BOX_H
                    ),
                    style,
                );
            } else if x1 > x0 {
                let lift = 18.0 + (x1 - x0) * 0.08;
                svg.path(
                    &format!(
                        "M{:.1},{y:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{y:.1}",
                        x0 + 10.0,
                        x0 + 10.0,
                        y - lift,
                        x1 - 10.0,
                        y - lift,
                        x1 - 10.0
                    ),
                    style,
                );
            } else {
                let bottom = y + BOX_H;
                let drop = 18.0 + (x0 - x1) * 0.08;
                svg.path(
                    &format!(
                        "M{:.1},{bottom:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{bottom:.1}",
                        x0 - 10.0,
                        x0 - 10.0,
                        bottom + drop,
                        x1 + 10.0,
                        bottom + drop,
                        x1 + 10.0
                    ),
                    style,
                );
            }
        }
    }
    // The arcs below the row reach about this far.
    svg.reserve(y + BOX_H + 34.0);
    // The objects.
    for p in placed {
        let s = if heap.is_alive(p.id) {
            shade(p.id)
        } else {
            Shade::Freed
        };
        let swatch = s.swatch();
        svg.rect_dashed(
            p.x,
            y,
            BOX_W,
            BOX_H,
            swatch.fill,
            swatch.stroke,
            1.8,
            s == Shade::Freed,
        );
        let text = if s == Shade::Freed {
            palette::MUTED
        } else {
            palette::INK
        };
        svg.text(
            p.x + BOX_W / 2.0,
            y + 19.0,
            p.label,
            TextStyle::new(14.0).bold().centre().colour(text),
        );
        let note = if s == Shade::Freed {
            "freed".to_string()
        } else {
            notes.get(&p.id).cloned().unwrap_or_default()
        };
        if !note.is_empty() {
            svg.text(
                p.x + BOX_W / 2.0,
                y + 36.0,
                &note,
                TextStyle::new(12.0).centre().colour(palette::MUTED),
            );
        }
    }
}

fn is_weakref(heap: &Heap, id: ObjId) -> bool {
    matches!(heap.kind(id), Kind::WeakRef { .. })
}

/// What a weakref refers to, if `id` is a weakref that is not cleared.
fn weak_referent(heap: &Heap, id: ObjId) -> Option<ObjId> {
    if is_weakref(heap, id) {
        heap.weakref_referent(id)
    } else {
        None
    }
}

/// The objects `deduce_unreachable` finds unreachable in generation 0 of `heap` (which it
/// changes: call it on a copy of the scenario).
fn unreachable_set(mut heap: Heap) -> BTreeSet<u64> {
    let unreachable = heap.gc_list_new();
    deduce_unreachable(&mut heap, GcList::GEN0, unreachable);
    heap.gc_list_objects(unreachable)
        .into_iter()
        .map(|id| heap.serial(id))
        .collect()
}

// The weak references page.

fn log(text: &str) -> Action {
    Action::Log(text.to_string())
}

/// One case of the session: the heap just before `gc.collect()`, and the objects to draw.
struct Case {
    title: &'static str,
    heap: Heap,
    placed: Vec<Placed>,
}

/// `x = Node(); y = Node(); x.other, y.other = y, x` on `heap`, the two deleted afterwards by
/// the caller; returns them.
fn pair(heap: &mut Heap, x: &str, y: &str) -> (ObjId, ObjId) {
    let node = heap.new_class("Node", None);
    let a = heap.assign_new_instance(x, node);
    let b = heap.assign_new_instance(y, node);
    heap.set_attr(a, "other", b);
    heap.set_attr(b, "other", a);
    (a, b)
}

fn weakref_case(n: usize) -> Case {
    let mut heap = Heap::new();
    match n {
        1 => {
            let (a, b) = pair(&mut heap, "a", "b");
            let w = heap.assign_new_weakref(
                "watcher",
                a,
                Some(Callback::new([log("callback, ref() is None")])),
            );
            heap.del("a");
            heap.del("b");
            Case {
                title: "1. watcher = weakref.ref(a, report): a reachable weakref to garbage",
                placed: vec![
                    Placed {
                        id: w,
                        label: "watcher",
                        x: 170.0,
                    },
                    Placed {
                        id: a,
                        label: "a",
                        x: 330.0,
                    },
                    Placed {
                        id: b,
                        label: "b",
                        x: 490.0,
                    },
                ],
                heap,
            }
        }
        2 => {
            let (c, d) = pair(&mut heap, "c", "d");
            let spy = heap.new_weakref(d, Some(Callback::new([log("callback")])));
            heap.set_attr(c, "spy", spy);
            heap.decref(spy);
            heap.del("c");
            heap.del("d");
            Case {
                title: "2. c.spy = weakref.ref(d, report): the weakref is garbage too",
                placed: vec![
                    Placed {
                        id: spy,
                        label: "c.spy",
                        x: 170.0,
                    },
                    Placed {
                        id: c,
                        label: "c",
                        x: 330.0,
                    },
                    Placed {
                        id: d,
                        label: "d",
                        x: 490.0,
                    },
                ],
                heap,
            }
        }
        _ => {
            let (e, f) = pair(&mut heap, "e", "f");
            let cb = Callback::new([log("callback forgets wr"), Action::Unbind("wr".into())]);
            let wr = heap.assign_new_weakref("wr", e, Some(cb));
            heap.del("e");
            heap.del("f");
            Case {
                title: "3. wr = weakref.ref(e, forget), and forget deletes wr",
                placed: vec![
                    Placed {
                        id: wr,
                        label: "wr",
                        x: 170.0,
                    },
                    Placed {
                        id: e,
                        label: "e",
                        x: 330.0,
                    },
                    Placed {
                        id: f,
                        label: "f",
                        x: 490.0,
                    },
                ],
                heap,
            }
        }
    }
}

fn weakref_cases() -> String {
    let mut svg = Svg::new(880.0, "Weak references in a collection: the three cases");
    let mut y = 64.0;
    let mut returned = Vec::new();
    for n in 1..=3 {
        let found = unreachable_set(weakref_case(n).heap);
        let Case {
            title,
            mut heap,
            placed,
        } = weakref_case(n);
        svg.text(20.0, y, title, TextStyle::new(14.0).bold());
        let top = y + 40.0;
        let serials: BTreeMap<ObjId, u64> =
            placed.iter().map(|p| (p.id, heap.serial(p.id))).collect();
        let shade = |id: ObjId| {
            if found.contains(&serials[&id]) {
                Shade::Garbage
            } else {
                Shade::Reachable
            }
        };
        let notes: BTreeMap<ObjId, String> = placed
            .iter()
            .filter(|p| is_weakref(&heap, p.id))
            .map(|p| (p.id, "a weakref".to_string()))
            .collect();
        draw_heap(&mut svg, &heap, top, &placed, &shade, &notes);
        // The whole collection, and what it did.
        heap.take_events();
        let count = Collector::new().collect(&mut heap);
        returned.push(count);
        let events = heap.take_events();
        let called = events.iter().any(|e| matches!(e, Event::CallbackCalled(_)));
        let died_by_callback: Vec<&str> = placed
            .iter()
            .filter(|p| !found.contains(&serials[&p.id]))
            .filter(|p| events.contains(&Event::Destroyed(serials[&p.id])))
            .map(|p| p.label)
            .collect();
        let mut outcome = vec![if called {
            "the callback is called, the weakref already cleared".to_string()
        } else {
            "no callback is called".to_string()
        }];
        if !died_by_callback.is_empty() {
            outcome.push(format!(
                "{} dies when its callback returns, and is counted",
                and_list(&died_by_callback)
            ));
        }
        outcome.push(format!("gc.collect() returns {count}"));
        let mut ty = top + 4.0;
        for line in outcome {
            ty = svg.paragraph(640.0, ty + 10.0, &line, 30, 17.0, TextStyle::new(13.0));
        }
        y = svg.bottom() + 40.0;
    }
    let y = svg.bottom() + 14.0;
    let mut x = 20.0;
    x = svg.legend(
        x,
        y,
        palette::DEAD,
        "garbage: what deduce_unreachable found",
    );
    x = svg.legend(x, y, palette::ALIVE, "reachable");
    svg.line(
        x,
        y + 7.0,
        x + 30.0,
        y + 7.0,
        LineStyle::new().arrow().dashed().colour(palette::ACCENT),
    );
    svg.text(x + 36.0, y + 12.0, "weak reference", TextStyle::new(12.5));
    svg.caption(&format!(
        "The three heaps of the session, built on pyheap, as they are when gc.collect() starts. \
         The colours are the garbage the reference's deduce_unreachable finds; the text on the \
         right is what the reference's whole collection did, and it returned {} as CPython 3.11 \
         did. A weakref's callback runs only when the weakref itself is reachable, and every \
         weakref to the garbage is cleared before the first callback runs.",
        and_list(&returned)
    ));
    svg.finish()
}

// The finalizers page: resurrection, one step at a time.

/// The resurrection session's heap just before `gc.collect()`, and the objects to draw.
fn phoenix_heap() -> (Heap, Vec<Placed>) {
    let mut heap = Heap::new();
    let saved = heap.assign_new_list("saved");
    let phoenix = heap.new_class(
        "Phoenix",
        Some(Finalizer::new([Action::AppendSelfTo("saved".into())])),
    );
    let a = heap.assign_new_instance("a", phoenix);
    let b = heap.assign_new_instance("b", phoenix);
    heap.set_attr(a, "other", b);
    heap.set_attr(b, "other", a);
    let junk = heap.assign_new_list("junk");
    heap.list_append(junk, junk);
    for name in ["a", "b", "junk"] {
        heap.del(name);
    }
    let placed = vec![
        Placed {
            id: saved,
            label: "saved",
            x: 170.0,
        },
        Placed {
            id: a,
            label: "a",
            x: 340.0,
        },
        Placed {
            id: b,
            label: "b",
            x: 500.0,
        },
        Placed {
            id: junk,
            label: "junk",
            x: 680.0,
        },
    ];
    (heap, placed)
}

fn resurrection() -> String {
    // What the reference's whole collection does, for the replay to agree with.
    let (mut whole, _) = phoenix_heap();
    whole.take_events();
    let whole_count = Collector::new().collect(&mut whole);
    let whole_events = whole.take_events();

    let (mut heap, placed) = phoenix_heap();
    heap.take_events();
    let serial: BTreeMap<ObjId, u64> = placed.iter().map(|p| (p.id, heap.serial(p.id))).collect();
    let young = GcList::GEN2;
    // gc.collect(): generations 0 and 1 merged into 2, as start_collection does.
    heap.gc_list_merge(GcList::GEN0, young);
    heap.gc_list_merge(GcList::GEN1, young);
    let unreachable = heap.gc_list_new();
    deduce_unreachable(&mut heap, young, unreachable);

    let mut svg = Svg::new(
        880.0,
        "Resurrection: a collection whose finalizers bring garbage back",
    );
    let mut y = 64.0;
    let mut frame = |svg: &mut Svg, heap: &Heap, title: &str, lists: &[(GcList, Shade)]| {
        svg.text(20.0, y, title, TextStyle::new(14.0).bold());
        let top = y + 44.0;
        let shade = |id: ObjId| {
            let list = heap.gc_list_of(id);
            lists
                .iter()
                .find(|(l, _)| Some(*l) == list)
                .map_or(Shade::Reachable, |(_, s)| *s)
        };
        let notes: BTreeMap<ObjId, String> = placed
            .iter()
            .filter(|p| heap.is_alive(p.id) && heap.is_finalized(p.id))
            .map(|p| (p.id, "finalized".to_string()))
            .collect();
        draw_heap(svg, heap, top, &placed, &shade, &notes);
        y = svg.bottom() + 40.0;
    };
    frame(
        &mut svg,
        &heap,
        "1. deduce_unreachable: a, b and junk are garbage",
        &[(unreachable, Shade::Garbage)],
    );
    let weakrefs_freed = handle_weakrefs(&mut heap, unreachable, young);
    finalize_garbage(&mut heap, unreachable);
    frame(
        &mut svg,
        &heap,
        "2. finalize_garbage: each __del__ runs once, and appends its object to saved",
        &[(unreachable, Shade::Garbage)],
    );
    let still = heap.gc_list_new();
    handle_resurrected_objects(&mut heap, unreachable, still, young);
    let resurrected: BTreeSet<ObjId> = placed
        .iter()
        .filter(|p| heap.is_finalized(p.id) && heap.gc_list_of(p.id) == Some(young))
        .map(|p| p.id)
        .collect();
    let count = weakrefs_freed + heap.gc_list_len(still);
    let mut resurrected_shade = |svg: &mut Svg, heap: &Heap, title: &str| {
        svg.text(20.0, y, title, TextStyle::new(14.0).bold());
        let top = y + 44.0;
        let shade = |id: ObjId| {
            if heap.gc_list_of(id) == Some(still) {
                Shade::Garbage
            } else if resurrected.contains(&id) {
                Shade::Resurrected
            } else {
                Shade::Reachable
            }
        };
        let notes: BTreeMap<ObjId, String> = placed
            .iter()
            .filter(|p| heap.is_alive(p.id) && heap.is_finalized(p.id))
            .map(|p| (p.id, "finalized".to_string()))
            .collect();
        draw_heap(svg, heap, top, &placed, &shade, &notes);
        y = svg.bottom() + 40.0;
    };
    resurrected_shade(
        &mut svg,
        &heap,
        "3. handle_resurrected_objects: saved reaches a and b again; only junk is still garbage",
    );
    delete_garbage(&mut heap, still, young, None);
    heap.gc_list_release(still);
    heap.gc_list_release(unreachable);
    resurrected_shade(
        &mut svg,
        &heap,
        &format!("4. delete_garbage: junk is cleared and freed; gc.collect() returns {count}"),
    );
    let events = heap.take_events();
    assert_eq!(
        (count, events),
        (whole_count, whole_events.clone()),
        "the replay of handle_unreachable no longer does what the reference's gc.collect() does"
    );
    let finalized: Vec<&str> = placed
        .iter()
        .filter(|p| {
            whole_events
                .iter()
                .any(|e| *e == Event::Finalized(serial[&p.id]))
        })
        .map(|p| p.label)
        .collect();
    let y = svg.bottom() + 14.0;
    let mut x = 20.0;
    x = svg.legend(x, y, palette::DEAD, "garbage");
    x = svg.legend(x, y, palette::WAITING, "resurrected: alive, finalized");
    svg.legend(x, y, palette::ALIVE, "reachable");
    svg.caption(&format!(
        "The session's heap on pyheap, and handle_unreachable's steps run one at a time with the \
         reference's functions (the replay ends exactly as the reference's gc.collect() does). \
         The finalizers of {} run before anything is torn down; each stores its object in saved, \
         so the second look finds them reachable from outside the garbage, with everything they \
         reach. They survive, finalized, and are not counted: gc.collect() returns {count}, for \
         junk alone.",
        and_list(&finalized)
    ));
    svg.finish()
}
