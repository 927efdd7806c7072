//! The pictures of the worked example in the lab 03 chapter (`book/src/03-cycles/algorithm.md`),
//! drawn from what the reference collector does, not by hand.
//!
//! The example builds one small heap with pyheap, the heap this Python program leaves behind:
//!
//! ```text
//!   c = []            # C
//!   a = []            # A
//!   b = [a, c]        # B refers to A and C
//!   a.append(b)       # A refers to B
//!   d = []            # D
//!   e = [d]           # E refers to D
//!   d.append(e)       # D refers to E
//!   f = []            # F
//!   e.append(f)       # E refers to F
//!   g = []            # G
//!   g.append(g)       # G refers to itself
//!   del b, c, d, e, f, g
//! ```
//!
//! and runs the reference's steps on generation 0 one at a time: `update_refs`, `subtract_refs`,
//! then `move_unreachable`, replayed here one scanned object at a time with the reference's own
//! `visit_reachable` so that every intermediate state can be drawn (the replay's end state is
//! checked against the reference's `move_unreachable`), and last the whole `gc_collect_main`.
//! Each state becomes one SVG file: the objects at fixed positions, the references between them
//! as read from the heap (`Heap::referents`), each object's `gc_refs` after the step, its colour
//! the list it is in, the lists in their order, a legend and a caption.
//!
//! The pictures are `book/src/03-cycles/step-*.svg`; `main.rs` writes and checks them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use cycles::{Collector, move_unreachable, subtract_refs, update_refs, visit_reachable};
use pyheap::{Event, GcList, Heap, ObjId};

// The heap of the worked example.

/// The objects of the worked example, by letter, in the order the program makes them.
const LETTERS: [char; 7] = ['C', 'A', 'B', 'D', 'E', 'F', 'G'];

/// The heap after the program of the module docs, and the letter of each object.
struct Worked {
    heap: Heap,
    letters: BTreeMap<ObjId, char>,
}

impl Worked {
    fn build() -> Worked {
        let mut heap = Heap::new();
        let c = heap.assign_new_list("c"); // c = []
        let a = heap.assign_new_list("a"); // a = []
        let b = heap.new_list(); // b = [a, c]
        heap.list_append(b, a);
        heap.list_append(b, c);
        heap.bind("b", b);
        heap.decref(b);
        heap.list_append(a, b); // a.append(b)
        let d = heap.assign_new_list("d"); // d = []
        let e = heap.new_list(); // e = [d]
        heap.list_append(e, d);
        heap.bind("e", e);
        heap.decref(e);
        heap.list_append(d, e); // d.append(e)
        let f = heap.assign_new_list("f"); // f = []
        heap.list_append(e, f); // e.append(f)
        let g = heap.assign_new_list("g"); // g = []
        heap.list_append(g, g); // g.append(g)
        for name in ["b", "c", "d", "e", "f", "g"] {
            heap.del(name);
        }
        let letters = [
            (c, 'C'),
            (a, 'A'),
            (b, 'B'),
            (d, 'D'),
            (e, 'E'),
            (f, 'F'),
            (g, 'G'),
        ]
        .into_iter()
        .collect();
        Worked { heap, letters }
    }

    fn letter(&self, id: ObjId) -> char {
        self.letters[&id]
    }

    fn id(&self, letter: char) -> ObjId {
        *self
            .letters
            .iter()
            .find(|&(_, &l)| l == letter)
            .map(|(id, _)| id)
            .expect("a letter of the worked example")
    }

    /// The letters of the worked example's objects in `list`, in list order.
    fn list(&self, list: GcList) -> Vec<char> {
        self.heap
            .gc_list_objects(list)
            .into_iter()
            .filter_map(|id| self.letters.get(&id).copied())
            .collect()
    }
}

// What one picture shows.

/// Where an object is, which decides its colour.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    /// In the generation being collected, not scanned by `move_unreachable` (yet).
    Young,
    /// Scanned by `move_unreachable` with `gc_refs > 0`: reachable, for good.
    Reachable,
    /// On the `unreachable` list: garbage unless a later object proves otherwise.
    Unreachable,
    /// A survivor of the collection, now in the next generation.
    Survivor,
    /// Destroyed.
    Freed,
}

/// One object in a picture.
#[derive(Clone, Debug)]
struct Node {
    letter: char,
    place: Place,
    refcount: usize,
    /// `None` before `update_refs` has run.
    gc_refs: Option<isize>,
}

/// One picture.
struct Frame {
    file: &'static str,
    title: String,
    caption: String,
    nodes: Vec<Node>,
    /// References between the example's objects, `(from, to)`, read from the heap.
    edges: Vec<(char, char)>,
    /// The names and what they are bound to.
    names: Vec<(String, char)>,
    /// Edges to draw highlighted: the ones the step just followed.
    highlight: BTreeSet<(char, char)>,
    /// Whether to mark each reference from inside the generation with "−1" (`subtract_refs`).
    minus_one: bool,
    /// The object(s) the step was about, drawn with a thick border.
    focus: BTreeSet<char>,
    /// The lists, in order: (label, letters).
    lists: Vec<(String, Vec<char>)>,
    /// Whether `move_unreachable` is under way (young objects are then "not scanned yet").
    scanning: bool,
}

/// A snapshot of the example's objects: their counts, and the place `place_of` gives them.
fn nodes(worked: &Worked, gc_refs: bool, place_of: impl Fn(char, ObjId) -> Place) -> Vec<Node> {
    LETTERS
        .iter()
        .map(|&letter| {
            let id = worked.id(letter);
            if !worked.heap.is_alive(id) {
                return Node {
                    letter,
                    place: Place::Freed,
                    refcount: 0,
                    gc_refs: None,
                };
            }
            Node {
                letter,
                place: place_of(letter, id),
                refcount: worked.heap.refcount(id),
                gc_refs: gc_refs.then(|| worked.heap.gc_refs(id)),
            }
        })
        .collect()
}

fn edges(worked: &Worked) -> Vec<(char, char)> {
    let mut found = Vec::new();
    for &letter in &LETTERS {
        let id = worked.id(letter);
        if !worked.heap.is_alive(id) {
            continue;
        }
        for referent in worked.heap.referents(id) {
            if let Some(&to) = worked.letters.get(&referent) {
                found.push((letter, to));
            }
        }
    }
    found
}

fn names(worked: &Worked) -> Vec<(String, char)> {
    worked
        .heap
        .names()
        .filter_map(|(name, id)| worked.letters.get(&id).map(|&l| (name.to_string(), l)))
        .collect()
}

/// "A", "A and B", "A, B and C".
fn and_list(letters: &[char]) -> String {
    match letters {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(char::to_string).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

/// What `visit_reachable` did to one referent, seen from outside.
enum Visit {
    SetToOne(char),
    MovedBack(char),
    Nothing(char),
}

/// One scan of `move_unreachable`'s loop: the object, and what happened.
struct Scan {
    letter: char,
    gc_refs: isize,
    visits: Vec<Visit>,
    /// Whether the scan met this object before (it was moved back to the end of young).
    again: bool,
}

/// Every picture, in order.
fn frames() -> Vec<Frame> {
    let young = GcList::GEN0;
    let mut frames = Vec::new();
    let mut worked = Worked::build();
    let everything: Vec<char> = worked.list(young);
    assert_eq!(
        everything, LETTERS,
        "the worked example's objects should be tracked in the order the program makes them"
    );
    let young_label = "young (generation 0)".to_string();

    // Step 0: the heap as the program leaves it.
    frames.push(Frame {
        file: "step-0-graph.svg",
        title: "Before the collection: the heap the program left".into(),
        caption: "Each box is a list with its reference count. Only the name a is left; \
                  every other object is held by other objects only. Generation 0 holds all \
                  seven, in the order the program made them."
            .into(),
        nodes: nodes(&worked, false, |_, _| Place::Young),
        edges: edges(&worked),
        names: names(&worked),
        highlight: BTreeSet::new(),
        minus_one: false,
        focus: BTreeSet::new(),
        lists: vec![(young_label.clone(), worked.list(young))],
        scanning: false,
    });

    // Step 1: update_refs.
    update_refs(&mut worked.heap, young);
    frames.push(Frame {
        file: "step-1-update-refs.svg",
        title: "Step 1: update_refs".into(),
        caption: "gc_refs starts as a copy of the reference count, for every object in the \
                  generation being collected."
            .into(),
        nodes: nodes(&worked, true, |_, _| Place::Young),
        edges: edges(&worked),
        names: names(&worked),
        highlight: BTreeSet::new(),
        minus_one: false,
        focus: BTreeSet::new(),
        lists: vec![(young_label.clone(), worked.list(young))],
        scanning: false,
    });

    // Step 2: subtract_refs.
    subtract_refs(&mut worked.heap, young);
    let positive: Vec<char> = LETTERS
        .iter()
        .copied()
        .filter(|&l| worked.heap.gc_refs(worked.id(l)) > 0)
        .collect();
    frames.push(Frame {
        file: "step-2-subtract-refs.svg",
        title: "Step 2: subtract_refs".into(),
        caption: format!(
            "Every reference from one object of the generation to another takes one off its \
             target's gc_refs. What is left counts references from outside: only {} still has \
             one, from the name a.",
            and_list(&positive)
        ),
        nodes: nodes(&worked, true, |_, _| Place::Young),
        edges: edges(&worked),
        names: names(&worked),
        highlight: BTreeSet::new(),
        minus_one: true,
        focus: BTreeSet::new(),
        lists: vec![(young_label.clone(), worked.list(young))],
        scanning: false,
    });

    // Step 3: move_unreachable, one scanned object at a time. The loop is the reference's
    // (solutions/03-cycles/src/deduce.rs), with a snapshot after each object.
    let unreachable = worked.heap.gc_list_new();
    let mut reachable: BTreeSet<char> = BTreeSet::new();
    let mut met: BTreeSet<char> = BTreeSet::new();
    let mut pending: Vec<Scan> = Vec::new();
    let mut sub = 'a';
    let mut cursor = worked.heap.gc_list_first(young);
    while let Some(id) = cursor {
        let letter = worked.letter(id);
        let gc_refs = worked.heap.gc_refs(id);
        let mut visits = Vec::new();
        if gc_refs > 0 {
            for referent in worked.heap.referents(id) {
                let to = worked.letter(referent);
                let before = (
                    worked.heap.gc_list_of(referent),
                    worked.heap.gc_refs(referent),
                );
                visit_reachable(&mut worked.heap, referent, young, unreachable);
                let after = (
                    worked.heap.gc_list_of(referent),
                    worked.heap.gc_refs(referent),
                );
                visits.push(if before.0 == Some(unreachable) && after.0 == Some(young) {
                    Visit::MovedBack(to)
                } else if before != after {
                    Visit::SetToOne(to)
                } else {
                    Visit::Nothing(to)
                });
            }
            reachable.insert(letter);
            cursor = worked.heap.gc_list_next(id);
        } else {
            cursor = worked.heap.gc_list_next(id);
            worked.heap.gc_list_move(id, unreachable);
        }
        let next_is_zero = cursor.is_some_and(|next| worked.heap.gc_refs(next) == 0);
        pending.push(Scan {
            letter,
            gc_refs,
            visits,
            again: !met.insert(letter),
        });
        // Scans that move objects to `unreachable` one after another share a picture.
        if gc_refs == 0 && next_is_zero {
            continue;
        }
        let scans = std::mem::take(&mut pending);
        let caption = scan_caption(&scans, cursor.map(|next| worked.letter(next)));
        let highlight = scans
            .iter()
            .flat_map(|s| s.visits.iter().map(move |v| (s.letter, visit_target(v))))
            .collect();
        let focus = scans.iter().map(|s| s.letter).collect();
        let scanned = and_list(&scans.iter().map(|s| s.letter).collect::<Vec<_>>());
        let again = if scans.iter().all(|s| s.again) {
            " again"
        } else {
            ""
        };
        frames.push(Frame {
            file: match sub {
                'a' => "step-3a-move-unreachable.svg",
                'b' => "step-3b-move-unreachable.svg",
                'c' => "step-3c-move-unreachable.svg",
                'd' => "step-3d-move-unreachable.svg",
                'e' => "step-3e-move-unreachable.svg",
                _ => panic!("the worked example has five pictures of move_unreachable"),
            },
            title: format!("Step 3{sub}: move_unreachable scans {scanned}{again}"),
            caption,
            nodes: nodes(&worked, true, |l, id| {
                if worked.heap.gc_list_of(id) == Some(unreachable) {
                    Place::Unreachable
                } else if reachable.contains(&l) {
                    Place::Reachable
                } else {
                    Place::Young
                }
            }),
            edges: edges(&worked),
            names: names(&worked),
            highlight,
            minus_one: false,
            focus,
            lists: vec![
                (young_label.clone(), worked.list(young)),
                ("unreachable".to_string(), worked.list(unreachable)),
            ],
            scanning: true,
        });
        sub = char::from(sub as u8 + 1);
    }
    assert_eq!(
        sub, 'f',
        "the worked example has five pictures of move_unreachable"
    );

    // The replay must end where the reference's own move_unreachable does.
    let mut check = Worked::build();
    let check_unreachable = check.heap.gc_list_new();
    update_refs(&mut check.heap, young);
    subtract_refs(&mut check.heap, young);
    move_unreachable(&mut check.heap, young, check_unreachable);
    assert_eq!(
        (worked.list(young), worked.list(unreachable)),
        (check.list(young), check.list(check_unreachable)),
        "the replay of move_unreachable in this example no longer matches the reference's"
    );
    for &letter in &LETTERS {
        assert_eq!(
            worked.heap.gc_refs(worked.id(letter)),
            check.heap.gc_refs(check.id(letter)),
            "gc_refs of {letter} after the replay differs from the reference's move_unreachable"
        );
    }

    // Step 4: the whole collection, gc.collect(0), on a fresh copy of the heap.
    let mut whole = Worked::build();
    let serials: BTreeMap<u64, char> = LETTERS
        .iter()
        .map(|&l| (whole.heap.serial(whole.id(l)), l))
        .collect();
    whole.heap.take_events();
    let found = Collector::new().gc_collect_main(&mut whole.heap, 0);
    let freed: Vec<char> = whole
        .heap
        .events()
        .iter()
        .filter_map(|event| match event {
            Event::Destroyed(serial) => serials.get(serial).copied(),
            _ => None,
        })
        .collect();
    let survivors = whole.list(GcList::GEN1);
    frames.push(Frame {
        file: "step-4-delete-garbage.svg",
        title: "After the collection: delete_garbage, and gc.collect(0) returns its count".into(),
        caption: format!(
            "delete_garbage calls tp_clear on the unreachable objects, first to last; each \
             clear lets reference counting free what the cycle alone kept alive. Freed, in \
             order: {}. gc_collect_main returns {}, and {} move on to generation 1.",
            and_list(&freed),
            found.collected + found.uncollectable,
            and_list(&survivors)
        ),
        nodes: nodes(&whole, false, |_, _| Place::Survivor),
        edges: edges(&whole),
        names: names(&whole),
        highlight: BTreeSet::new(),
        minus_one: false,
        focus: BTreeSet::new(),
        lists: vec![
            ("generation 1".to_string(), survivors),
            ("freed, in order".to_string(), freed),
        ],
        scanning: false,
    });
    frames
}

fn visit_target(visit: &Visit) -> char {
    match visit {
        Visit::SetToOne(l) | Visit::MovedBack(l) | Visit::Nothing(l) => *l,
    }
}

/// The caption of a picture of `move_unreachable`: what the scans found and did.
fn scan_caption(scans: &[Scan], next: Option<char>) -> String {
    let mut text = String::new();
    if scans.iter().all(|s| s.gc_refs == 0) {
        let letters: Vec<char> = scans.iter().map(|s| s.letter).collect();
        let (verb, each) = if letters.len() == 1 {
            ("has", "it moves")
        } else {
            ("each have", "each moves")
        };
        write!(
            text,
            "{} {verb} gc_refs 0: nothing scanned so far reaches {}, so {each} to the end of \
             the unreachable list, for now.",
            and_list(&letters),
            if letters.len() == 1 { "it" } else { "them" }
        )
        .expect("writing to a String");
    } else {
        for scan in scans {
            let again = if scan.again { " again" } else { "" };
            write!(
                text,
                "The scan reaches {}{again} with gc_refs {}: it is reachable, and its references \
                 are followed.",
                scan.letter, scan.gc_refs
            )
            .expect("writing to a String");
            for visit in &scan.visits {
                let sentence = match visit {
                    Visit::SetToOne(to) => format!(
                        " {to} is in young with gc_refs 0, not scanned yet: its gc_refs becomes 1."
                    ),
                    Visit::MovedBack(to) => format!(
                        " {to} is on the unreachable list: it moves back to the end of young, \
                         with gc_refs 1."
                    ),
                    Visit::Nothing(to) => {
                        format!(" {to} is already known reachable: nothing to do.")
                    }
                };
                text.push_str(&sentence);
            }
            if scan.visits.is_empty() {
                text.push_str(" It refers to nothing.");
            }
        }
    }
    match next {
        Some(next) => write!(text, " Next: {next}.").expect("writing to a String"),
        None => text.push_str(" The scan is at the end of young: what is unreachable is garbage."),
    }
    text
}

// Drawing.

const WIDTH: f64 = 840.0;
const NODE_W: f64 = 132.0;
const NODE_H: f64 = 58.0;
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, \
                    sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const INK: &str = "#1f2937";
const MUTED: &str = "#6b7280";
const EDGE: &str = "#4b5563";
const ACCENT: &str = "#c2410c";
const NAMES_FILL: &str = "#f3f4f6";

/// The fixed position of each object (top-left corner of its box).
fn position(letter: char) -> (f64, f64) {
    match letter {
        'A' => (150.0, 66.0),
        'B' => (350.0, 66.0),
        'C' => (550.0, 66.0),
        'D' => (150.0, 186.0),
        'E' => (350.0, 186.0),
        'F' => (550.0, 186.0),
        'G' => (700.0, 186.0),
        _ => panic!("no position for {letter}"),
    }
}

/// Fill, border and text colour of each place, and its legend entry.
fn style(place: Place) -> (&'static str, &'static str, &'static str, &'static str) {
    match place {
        Place::Young => ("#dbeafe", "#2563eb", INK, "young, not scanned yet"),
        Place::Reachable => ("#dcfce7", "#15803d", INK, "reachable (scanned)"),
        Place::Unreachable => ("#fee2e2", "#b91c1c", INK, "tentatively unreachable"),
        Place::Survivor => ("#dcfce7", "#15803d", INK, "survivor, in generation 1"),
        Place::Freed => ("#ffffff", "#9ca3af", "#9ca3af", "freed"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Splits `text` into lines of at most `max` characters, at spaces.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where the segment from `from` in direction `dir` leaves the box at `(x, y)`.
fn exit_point(from: (f64, f64), dir: (f64, f64), (x, y): (f64, f64)) -> (f64, f64) {
    let along = |p: f64, d: f64, lo: f64, hi: f64| {
        if d > 0.0 {
            (hi - p) / d
        } else if d < 0.0 {
            (lo - p) / d
        } else {
            f64::INFINITY
        }
    };
    let t = along(from.0, dir.0, x, x + NODE_W).min(along(from.1, dir.1, y, y + NODE_H));
    (from.0 + t * dir.0, from.1 + t * dir.1)
}

fn render(frame: &Frame) -> String {
    let graph_bottom = 300.0;
    let lists_top = graph_bottom + 14.0;
    let row_h = 30.0;
    let legend_top = lists_top + row_h * frame.lists.len() as f64 + 12.0;
    let caption_lines = wrap(&frame.caption, 118);
    let caption_top = legend_top + 40.0;
    let height = caption_top + 18.0 * caption_lines.len() as f64 + 14.0;

    let mut svg = String::new();
    let w = |svg: &mut String, text: String| svg.push_str(&text);
    w(
        &mut svg,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"{FONT}\" role=\"img\">\n"
        ),
    );
    w(
        &mut svg,
        format!("<title>{}</title>\n", escape(&frame.title)),
    );
    w(
        &mut svg,
        format!(
            "<defs>\n\
             <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{EDGE}\"/></marker>\n\
             <marker id=\"arrow-hot\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" \
             markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{ACCENT}\"/></marker>\n\
             </defs>\n"
        ),
    );
    // A white card, so that the picture reads the same in the book's dark themes.
    w(
        &mut svg,
        format!(
            "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#ffffff\" \
             stroke=\"#d1d5db\"/>\n",
            WIDTH - 1.0,
            height - 1.0
        ),
    );
    w(
        &mut svg,
        format!(
            "<text x=\"20\" y=\"32\" font-size=\"17\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n",
            escape(&frame.title)
        ),
    );

    // The names.
    let names_x = 20.0;
    let names_w = 90.0;
    let (_, a_y) = position('A');
    let names_y = a_y;
    let names_h = 30.0 + 26.0 * frame.names.len().max(1) as f64;
    w(
        &mut svg,
        format!(
            "<rect x=\"{names_x}\" y=\"{names_y}\" width=\"{names_w}\" height=\"{names_h}\" rx=\"6\" \
             fill=\"{NAMES_FILL}\" stroke=\"{MUTED}\"/>\n\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"{MUTED}\" text-anchor=\"middle\">names</text>\n",
            names_x + names_w / 2.0,
            names_y + 19.0
        ),
    );
    for (i, (name, target)) in frame.names.iter().enumerate() {
        let y = names_y + 29.0 + 26.0 * i as f64;
        let (tx, ty) = position(*target);
        w(
            &mut svg,
            format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"15\" font-family=\"{MONO}\" fill=\"{INK}\">{}</text>\n\
                 <path d=\"M{},{} L{},{}\" stroke=\"{EDGE}\" stroke-width=\"1.6\" fill=\"none\" \
                 marker-end=\"url(#arrow)\"/>\n",
                names_x + 14.0,
                y + 5.0,
                escape(name),
                names_x + names_w - 14.0,
                y,
                tx,
                ty + NODE_H / 2.0
            ),
        );
    }

    // The references.
    let alive: BTreeSet<char> = frame
        .nodes
        .iter()
        .filter(|n| n.place != Place::Freed)
        .map(|n| n.letter)
        .collect();
    let edge_set: BTreeSet<(char, char)> = frame.edges.iter().copied().collect();
    for &(from, to) in &frame.edges {
        let hot = frame.highlight.contains(&(from, to));
        let (stroke, marker, width) = if hot {
            (ACCENT, "arrow-hot", 2.6)
        } else {
            (EDGE, "arrow", 1.6)
        };
        let (fx, fy) = position(from);
        let label_at = if from == to {
            // A loop under the box, out of its bottom edge and back in.
            let bottom = fy + NODE_H;
            let (x0, x1) = (fx + 38.0, fx + 82.0);
            w(
                &mut svg,
                format!(
                    "<path d=\"M{x0},{bottom} C{},{} {},{} {x1},{bottom}\" stroke=\"{stroke}\" \
                     stroke-width=\"{width}\" fill=\"none\" marker-end=\"url(#{marker})\"/>\n",
                    x0 - 14.0,
                    bottom + 56.0,
                    x1 + 14.0,
                    bottom + 56.0
                ),
            );
            (fx + NODE_W / 2.0, bottom + 60.0)
        } else {
            let (tx, ty) = position(to);
            let c0 = (fx + NODE_W / 2.0, fy + NODE_H / 2.0);
            let c1 = (tx + NODE_W / 2.0, ty + NODE_H / 2.0);
            let len = ((c1.0 - c0.0).powi(2) + (c1.1 - c0.1).powi(2)).sqrt();
            let dir = ((c1.0 - c0.0) / len, (c1.1 - c0.1) / len);
            // Two references in opposite directions are drawn side by side.
            let offset = if edge_set.contains(&(to, from)) {
                8.0
            } else {
                0.0
            };
            let normal = (-dir.1, dir.0);
            let p0 = (c0.0 + normal.0 * offset, c0.1 + normal.1 * offset);
            let p1 = (c1.0 + normal.0 * offset, c1.1 + normal.1 * offset);
            let start = exit_point(p0, dir, (fx, fy));
            let end = exit_point(p1, (-dir.0, -dir.1), (tx, ty));
            w(
                &mut svg,
                format!(
                    "<path d=\"M{:.1},{:.1} L{:.1},{:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\" \
                     fill=\"none\" marker-end=\"url(#{marker})\"/>\n",
                    start.0, start.1, end.0, end.1
                ),
            );
            let side = if offset > 0.0 { 14.0 } else { -11.0 };
            (
                (start.0 + end.0) / 2.0 + normal.0 * side,
                (start.1 + end.1) / 2.0 + normal.1 * side + 4.0,
            )
        };
        if frame.minus_one && alive.contains(&to) {
            w(
                &mut svg,
                format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\" \
                     fill=\"{ACCENT}\" text-anchor=\"middle\">\u{2212}1</text>\n",
                    label_at.0, label_at.1
                ),
            );
        }
    }

    // The objects.
    for node in &frame.nodes {
        let (x, y) = position(node.letter);
        let (fill, border, text, _) = style(node.place);
        let focused = frame.focus.contains(&node.letter);
        let dash = if node.place == Place::Freed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        w(
            &mut svg,
            format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"8\" \
                 fill=\"{fill}\" stroke=\"{border}\" stroke-width=\"{}\"{dash}/>\n",
                if focused { 3.5 } else { 1.6 }
            ),
        );
        w(
            &mut svg,
            format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"17\" font-weight=\"bold\" fill=\"{text}\">{}</text>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{MUTED}\">list</text>\n",
                x + 12.0,
                y + 24.0,
                node.letter,
                x + 30.0,
                y + 23.0
            ),
        );
        let (main, small) = match (node.place, node.gc_refs) {
            (Place::Freed, _) => ("freed".to_string(), String::new()),
            (_, None) => (format!("refcount {}", node.refcount), String::new()),
            (_, Some(refs)) => (
                format!("gc_refs {refs}"),
                format!("refcount {}", node.refcount),
            ),
        };
        w(
            &mut svg,
            format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-family=\"{MONO}\" font-weight=\"bold\" \
                 fill=\"{text}\">{}</text>\n",
                x + 12.0,
                y + 46.0,
                escape(&main)
            ),
        );
        if !small.is_empty() {
            w(
                &mut svg,
                format!(
                    "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{MUTED}\" text-anchor=\"end\">{}</text>\n",
                    x + NODE_W - 8.0,
                    y + 23.0,
                    escape(&small)
                ),
            );
        }
    }

    // The lists, in order.
    let places: BTreeMap<char, Place> = frame.nodes.iter().map(|n| (n.letter, n.place)).collect();
    for (row, (label, letters)) in frame.lists.iter().enumerate() {
        let y = lists_top + row_h * row as f64;
        w(
            &mut svg,
            format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"{MUTED}\" text-anchor=\"end\">{}</text>\n",
                190.0,
                y + 16.0,
                escape(label)
            ),
        );
        if letters.is_empty() {
            w(
                &mut svg,
                format!(
                    "<text x=\"202\" y=\"{}\" font-size=\"13\" fill=\"{MUTED}\">(empty)</text>\n",
                    y + 16.0
                ),
            );
        }
        for (i, letter) in letters.iter().enumerate() {
            let x = 202.0 + 34.0 * i as f64;
            let (fill, border, text, _) = style(places[letter]);
            let focused = frame.focus.contains(letter);
            w(
                &mut svg,
                format!(
                    "<rect x=\"{x}\" y=\"{}\" width=\"28\" height=\"22\" rx=\"4\" fill=\"{fill}\" \
                     stroke=\"{border}\" stroke-width=\"{}\"/>\n\
                     <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"{text}\" \
                     text-anchor=\"middle\">{letter}</text>\n",
                    y + 2.0,
                    if focused { 2.5 } else { 1.2 },
                    x + 14.0,
                    y + 18.0
                ),
            );
            if i + 1 < letters.len() {
                w(
                    &mut svg,
                    format!(
                        "<path d=\"M{},{} L{},{}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>\n",
                        x + 28.0,
                        y + 13.0,
                        x + 34.0,
                        y + 13.0
                    ),
                );
            }
        }
    }

    // The legend: the places this picture uses, and the two kinds of arrow.
    let mut used: Vec<Place> = Vec::new();
    for node in &frame.nodes {
        if !used.contains(&node.place) {
            used.push(node.place);
        }
    }
    used.sort_by_key(|p| *p as u8);
    let mut x = 20.0;
    for place in used {
        let (fill, border, _, label) = style(place);
        let label = if place == Place::Young && !frame.scanning {
            "in young (generation 0)"
        } else {
            label
        };
        let dash = if place == Place::Freed {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        w(
            &mut svg,
            format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"18\" height=\"14\" rx=\"3\" fill=\"{fill}\" \
                 stroke=\"{border}\" stroke-width=\"1.4\"{dash}/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">{}</text>\n",
                legend_top,
                x + 24.0,
                legend_top + 12.0,
                label
            ),
        );
        x += 24.0 + 6.2 * label.len() as f64 + 16.0;
    }
    let arrow_label =
        (!frame.highlight.is_empty()).then_some(("arrow-hot", ACCENT, "followed in this step"));
    w(
        &mut svg,
        format!(
            "<path d=\"M{x},{} L{},{}\" stroke=\"{EDGE}\" stroke-width=\"1.6\" marker-end=\"url(#arrow)\"/>\n\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">reference</text>\n",
            legend_top + 7.0,
            x + 30.0,
            legend_top + 7.0,
            x + 36.0,
            legend_top + 12.0
        ),
    );
    x += 36.0 + 6.2 * "reference".len() as f64 + 16.0;
    if let Some((marker, colour, label)) = arrow_label {
        w(
            &mut svg,
            format!(
                "<path d=\"M{x},{} L{},{}\" stroke=\"{colour}\" stroke-width=\"2.6\" \
                 marker-end=\"url(#{marker})\"/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">{label}</text>\n",
                legend_top + 7.0,
                x + 30.0,
                legend_top + 7.0,
                x + 36.0,
                legend_top + 12.0
            ),
        );
    }

    // The caption.
    for (i, line) in caption_lines.iter().enumerate() {
        w(
            &mut svg,
            format!(
                "<text x=\"20\" y=\"{}\" font-size=\"13.5\" fill=\"{INK}\">{}</text>\n",
                caption_top + 18.0 * i as f64 + 4.0,
                escape(line)
            ),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Every picture of the worked example: its file name and its SVG text.
pub fn pictures() -> Vec<(String, String)> {
    frames()
        .iter()
        .map(|frame| (frame.file.to_string(), render(frame)))
        .collect()
}
