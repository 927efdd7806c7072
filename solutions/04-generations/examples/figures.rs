//! The pictures of the generations in the lab 04 chapter (`book/src/04-generations/`), drawn
//! from a run of the reference scheduler, not by hand.
//!
//! The program below runs on a pyheap heap with CPython's free lists, every allocation through
//! the reference's hook, thresholds (4, 1, 0) so that every generation is collected within a
//! few lines:
//!
//! ```text
//!   keep = [];  a = [];  a.append(a)         K, a (a holds itself, and is named)
//!   g1 = []; g1.append(g1); del g1           garbage
//!   b = []; c = [] ...                       and so on, one letter per list (see PROGRAM)
//! ```
//!
//! A hook wrapped around the reference's takes a snapshot just before each collection starts
//! (inside the allocation that takes count0 past 4) and just after it ends: the objects of each
//! generation in list order, the counts, the long-lived counts, which objects the collection is
//! about to free, and the object being allocated. Some of those snapshots become SVG files.
//!
//! ```text
//!   cargo run -p generations-solution --example figures              writes the pictures
//!   cargo run -p generations-solution --example figures -- --check   compares, writes nothing
//! ```
//!
//! The example is declared with `test = true`, so `cargo test` runs the comparison too: a
//! change to the scheduler or to pyheap that changes a picture fails it until the pictures are
//! drawn again.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use generations::Gc;
use pyheap::{GcLink, GcList, Heap};

// The lab's `watch` example: the log it prints is kept in the book, next to the pictures. Its
// `main` is the example's own, unused here.
#[path = "../../../labs/04-generations/examples/watch.rs"]
#[allow(dead_code)]
mod watch;

/// The command that draws the pictures again.
const REDRAW: &str = "cargo run -p generations-solution --example figures";

fn figures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/04-generations")
}

/// One statement of the program.
#[derive(Clone, Copy)]
enum Stmt {
    /// `name = []`, bound (and, if `cycle`, holding itself).
    Live(&'static str, bool),
    /// `name = []; name.append(name); del name`: garbage at once.
    Garbage(&'static str),
    /// `del name`: a named list holding itself becomes garbage.
    Del(&'static str),
}

/// The program: each list gets a name; `g` names are garbage as soon as they are made.
const PROGRAM: [Stmt; 32] = [
    Stmt::Live("K", false),
    Stmt::Live("a", true),
    Stmt::Garbage("g1"),
    Stmt::Live("b", false),
    Stmt::Live("c", false),
    Stmt::Garbage("g2"),
    Stmt::Live("d", false),
    Stmt::Del("a"),
    Stmt::Live("e", false),
    Stmt::Garbage("g3"),
    Stmt::Live("f", true),
    Stmt::Live("h", false),
    Stmt::Garbage("g4"),
    Stmt::Live("i", false),
    Stmt::Live("j", false),
    Stmt::Del("f"),
    Stmt::Garbage("g5"),
    Stmt::Live("l", false),
    Stmt::Live("m", false),
    Stmt::Garbage("g6"),
    Stmt::Live("n", false),
    Stmt::Live("o", false),
    Stmt::Live("p", false),
    Stmt::Garbage("g7"),
    Stmt::Live("q", false),
    Stmt::Live("r", false),
    Stmt::Garbage("g8"),
    Stmt::Live("s", false),
    Stmt::Live("t", false),
    Stmt::Live("u", false),
    Stmt::Live("v", false),
    Stmt::Live("w", false),
];

/// What one picture shows.
#[derive(Clone, Debug)]
struct Snapshot {
    /// The generations 0, 1, 2, by name, in list order.
    generations: [Vec<String>; 3],
    counts: [usize; 3],
    long_lived: (usize, usize),
    /// The object being allocated, if the snapshot is taken inside an allocation.
    allocating: Option<String>,
}

/// One collection, seen from outside: before and after.
#[derive(Clone, Debug)]
struct Seen {
    generation: usize,
    before: Snapshot,
    after: Snapshot,
}

/// The reference's hook, taking snapshots around each collection.
struct Camera<'a> {
    gc: Gc,
    names: &'a BTreeMap<u64, &'static str>,
    seen: Vec<Seen>,
}

fn snapshot(
    heap: &Heap,
    gc: &Gc,
    names: &BTreeMap<u64, &'static str>,
    new: Option<u64>,
) -> Snapshot {
    let name = |serial: u64| {
        names
            .get(&serial)
            .map_or(format!("#{serial}"), |n| n.to_string())
    };
    let generations = [0, 1, 2].map(|g| {
        heap.gc_list_objects(GcList::generation(g))
            .into_iter()
            .map(|id| name(heap.serial(id)))
            .collect()
    });
    Snapshot {
        generations,
        counts: heap.gc_counts(),
        long_lived: (gc.long_lived_total, gc.long_lived_pending),
        allocating: new.map(name),
    }
}

impl GcLink for Camera<'_> {
    fn gc_link(&mut self, heap: &mut Heap) {
        if !self.gc.should_collect(heap) {
            self.gc.gc_link(heap);
            return;
        }
        let new = heap.allocated_count() - 1;
        let before = snapshot(heap, &self.gc, self.names, Some(new));
        let stats_before = self.gc.get_stats().map(|s| s.collections);
        self.gc.gc_link(heap);
        let stats_after = self.gc.get_stats().map(|s| s.collections);
        let generation = (0..3)
            .find(|&g| stats_after[g] != stats_before[g])
            .expect("a collection ran");
        let after = snapshot(heap, &self.gc, self.names, Some(new));
        self.seen.push(Seen {
            generation,
            before,
            after,
        });
    }
}

/// Runs the program and returns every collection it saw.
fn run() -> Vec<Seen> {
    let mut heap = Heap::with_free_lists();
    let mut names: BTreeMap<u64, &'static str> = BTreeMap::new();
    // The names are known before each allocation: the next object's serial is the count of
    // objects made so far (the program makes nothing else).
    let mut next = heap.allocated_count();
    for stmt in PROGRAM {
        if let Stmt::Live(name, _) | Stmt::Garbage(name) = stmt {
            names.insert(next, name);
            next += 1;
        }
    }
    let mut gc = Gc::new();
    gc.set_threshold(4, Some(1), Some(0));
    let mut camera = Camera {
        gc,
        names: &names,
        seen: Vec::new(),
    };
    // The serials were predicted in program order: check them as the program runs.
    for stmt in PROGRAM {
        match stmt {
            Stmt::Live(name, cycle) => {
                let id = heap.new_list_with(&mut camera);
                assert_eq!(names.get(&heap.serial(id)), Some(&name));
                if cycle {
                    heap.list_append(id, id);
                }
                heap.bind(name, id);
                heap.decref(id);
            }
            Stmt::Garbage(name) => {
                let id = heap.new_list_with(&mut camera);
                assert_eq!(names.get(&heap.serial(id)), Some(&name));
                heap.list_append(id, id);
                heap.decref(id);
            }
            Stmt::Del(name) => heap.del(name),
        }
    }
    camera.seen
}

// Drawing.

const WIDTH: usize = 840;
const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const INK: &str = "#1f2937";
const MUTED: &str = "#4b5563";
const LANE: &str = "#f3f4f6";
const LIVE_FILL: &str = "#dbeafe";
const LIVE_BORDER: &str = "#1d4ed8";
const GARBAGE_FILL: &str = "#fee2e2";
const GARBAGE_BORDER: &str = "#b91c1c";
const NEW_FILL: &str = "#dcfce7";
const NEW_BORDER: &str = "#15803d";

const BOX_W: usize = 40;
const BOX_H: usize = 30;
const LANE_H: usize = 50;
const LANE_X: usize = 200;

/// Wraps `text` to lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
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

/// One picture: a snapshot's three generations as lanes of boxes; `garbage` are drawn red.
fn draw(
    title: &str,
    caption: &str,
    shot: &Snapshot,
    garbage: &BTreeSet<String>,
    thresholds: [i32; 3],
) -> String {
    let after = garbage.is_empty();
    let caption_lines = wrap(caption, 100);
    let lanes_top = 86;
    let height = lanes_top + 3 * (LANE_H + 12) + 40 + caption_lines.len() * 19 + 16;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"{FONT}\" role=\"img\">\n<title>{title}</title>"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#ffffff\" stroke=\"#d1d5db\"/>",
        WIDTH - 1,
        height - 1
    );
    let _ = writeln!(
        svg,
        "<text x=\"20\" y=\"32\" font-size=\"17\" font-weight=\"bold\" fill=\"{INK}\">{title}</text>"
    );
    let [c0, c1, c2] = shot.counts;
    let (total, pending) = shot.long_lived;
    let _ = writeln!(
        svg,
        "<text x=\"20\" y=\"60\" font-size=\"14\" fill=\"{MUTED}\">gc.get_count() = ({c0}, {c1}, \
         {c2})   gc.get_threshold() = ({}, {}, {})   long_lived_total {total}, \
         long_lived_pending {pending}</text>",
        thresholds[0], thresholds[1], thresholds[2]
    );
    for (g, members) in shot.generations.iter().enumerate() {
        let y = lanes_top + g * (LANE_H + 12);
        let _ = writeln!(
            svg,
            "<rect x=\"20\" y=\"{y}\" width=\"{}\" height=\"{LANE_H}\" rx=\"6\" fill=\"{LANE}\" stroke=\"#d1d5db\"/>",
            WIDTH - 40
        );
        let _ = writeln!(
            svg,
            "<text x=\"32\" y=\"{}\" font-size=\"15\" font-weight=\"bold\" fill=\"{INK}\">generation {g}</text>",
            y + 22
        );
        let _ = writeln!(
            svg,
            "<text x=\"32\" y=\"{}\" font-size=\"12\" fill=\"{MUTED}\">count {}, threshold {}</text>",
            y + 40,
            shot.counts[g],
            thresholds[g]
        );
        if members.is_empty() {
            let _ = writeln!(
                svg,
                "<text x=\"{LANE_X}\" y=\"{}\" font-size=\"13\" fill=\"{MUTED}\">(empty)</text>",
                y + 30
            );
        }
        // Narrower boxes when a generation holds many objects.
        let step = (BOX_W + 6).min((WIDTH - 30 - LANE_X) / members.len().max(1));
        let box_w = step - 6;
        for (k, name) in members.iter().enumerate() {
            let x = LANE_X + k * step;
            let (fill, border) = if garbage.contains(name) {
                (GARBAGE_FILL, GARBAGE_BORDER)
            } else {
                (LIVE_FILL, LIVE_BORDER)
            };
            let _ = writeln!(
                svg,
                "<rect x=\"{x}\" y=\"{}\" width=\"{box_w}\" height=\"{BOX_H}\" rx=\"4\" fill=\"{fill}\" \
                 stroke=\"{border}\" stroke-width=\"1.5\"/>\n<text x=\"{}\" y=\"{}\" font-size=\"14\" \
                 font-family=\"{MONO}\" font-weight=\"bold\" fill=\"{INK}\" text-anchor=\"middle\">{name}</text>",
                y + (LANE_H - BOX_H) / 2,
                x + box_w / 2,
                y + LANE_H / 2 + 5
            );
        }
    }
    // The object being allocated, outside the generations, and the legend.
    let legend_y = lanes_top + 3 * (LANE_H + 12) + 8;
    let mut x = 20;
    if let Some(new) = &shot.allocating {
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{legend_y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"4\" fill=\"{NEW_FILL}\" \
             stroke=\"{NEW_BORDER}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n<text x=\"{}\" y=\"{}\" \
             font-size=\"14\" font-family=\"{MONO}\" font-weight=\"bold\" fill=\"{INK}\" \
             text-anchor=\"middle\">{new}</text>\n<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"{INK}\">\
             {}</text>",
            x + BOX_W / 2,
            legend_y + BOX_H / 2 + 5,
            x + BOX_W + 8,
            legend_y + BOX_H / 2 + 5,
            if after {
                "being allocated: tracked next, in generation 0"
            } else {
                "being allocated: counted, not tracked yet"
            }
        );
        x += 370;
    }
    for (fill, border, label) in [
        (LIVE_FILL, LIVE_BORDER, "reachable: survives"),
        (
            GARBAGE_FILL,
            GARBAGE_BORDER,
            "garbage: this collection frees it",
        ),
    ] {
        if label.starts_with("garbage") && garbage.is_empty() {
            continue;
        }
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"18\" height=\"14\" rx=\"3\" fill=\"{fill}\" stroke=\"{border}\"/>\n\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"{INK}\">{label}</text>",
            legend_y + 8,
            x + 24,
            legend_y + 20
        );
        x += 200;
    }
    for (k, line) in caption_lines.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"20\" y=\"{}\" font-size=\"13.5\" fill=\"{INK}\">{line}</text>",
            legend_y + 40 + 19 * k + 12
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The names that were in the generations collected before and are gone after.
fn freed(seen: &Seen) -> BTreeSet<String> {
    let after: BTreeSet<&String> = seen.after.generations.iter().flatten().collect();
    seen.before.generations[..=seen.generation]
        .iter()
        .flatten()
        .filter(|name| !after.contains(name))
        .cloned()
        .collect()
}

/// Every picture: (file, svg).
fn figures() -> Vec<(&'static str, String)> {
    let seen = run();
    let thresholds = [4, 1, 0];
    let first = &seen[0];
    let middle = seen
        .iter()
        .find(|s| s.generation == 1)
        .expect("a collection of generation 1");
    let full = seen
        .iter()
        .find(|s| s.generation == 2)
        .expect("a full collection");
    let list = |names: &BTreeSet<String>| names.iter().cloned().collect::<Vec<_>>().join(", ");
    let mut log = watch::program().join("\n");
    log.push('\n');
    vec![
        ("watch.log", log),
        (
            "generations-1-before.svg",
            draw(
                "Inside an allocation: count0 passes threshold 0",
                &format!(
                    "The program made K, a, g1 and b: count0 was 4. Making {} takes it to 5, \
                     above threshold 0: inside that allocation, before {} is tracked, \
                     generation 0 is collected. Generations 1 and 2 are not looked at.",
                    first.before.allocating.as_deref().unwrap_or("?"),
                    first.before.allocating.as_deref().unwrap_or("?")
                ),
                &first.before,
                &freed(first),
                thresholds,
            ),
        ),
        (
            "generations-2-after.svg",
            draw(
                "After the collection of generation 0",
                &format!(
                    "{} was garbage and is gone; the survivors moved, in order, to generation 1. \
                     count0 is 0 and count1 is 1: one collection of generation 0 since \
                     generation 1's last. The allocation now returns, and the new list is \
                     tracked: first in generation 0, not counted.",
                    list(&freed(first))
                ),
                &first.after,
                &BTreeSet::new(),
                thresholds,
            ),
        ),
        (
            "generations-3-middle.svg",
            draw(
                "Collecting generation 1: generation 0 is merged into it",
                &format!(
                    "count1 is {} now, above threshold 1: the oldest generation over its \
                     threshold is 1, so generations 0 and 1 are collected together. The garbage \
                     among them ({}) goes, even a, which became garbage after it was promoted; \
                     the survivors go to generation 2.",
                    middle.before.counts[1],
                    list(&freed(middle))
                ),
                &middle.before,
                &freed(middle),
                thresholds,
            ),
        ),
        (
            "generations-4-full.svg",
            draw(
                "A full collection: every generation, and the long-lived counts",
                &format!(
                    "count2 is above threshold 2, and long_lived_pending ({}, the objects \
                     promoted into generation 2) is at least a quarter of long_lived_total ({}: \
                     no full collection has left anything yet), so the full collection runs: \
                     every generation is merged into generation 2 and looked at.",
                    full.before.long_lived.1, full.before.long_lived.0
                ),
                &full.before,
                &freed(full),
                thresholds,
            ),
        ),
        (
            "generations-5-after-full.svg",
            draw(
                "After the full collection",
                &format!(
                    "The survivors stay in generation 2, and every count is 0. long_lived_total \
                     is {}, what the collection left, and long_lived_pending starts again from \
                     0: the next full collection waits until {} more objects have been promoted.",
                    full.after.long_lived.0,
                    full.after.long_lived.0 / 4
                ),
                &full.after,
                &BTreeSet::new(),
                thresholds,
            ),
        ),
    ]
}

/// The pictures whose committed file is missing or differs from what the reference draws now.
fn stale() -> Vec<&'static str> {
    let dir = figures_dir();
    figures()
        .into_iter()
        .filter(|(file, svg)| std::fs::read_to_string(dir.join(file)).ok().as_ref() != Some(svg))
        .map(|(file, _)| file)
        .collect()
}

fn main() {
    if std::env::args().skip(1).any(|arg| arg == "--check") {
        let stale = stale();
        if stale.is_empty() {
            println!("the pictures of the generations are up to date");
            return;
        }
        eprintln!(
            "these pictures differ from what the reference draws now: {}\nrun `{REDRAW}` to \
             draw them again",
            stale.join(", ")
        );
        std::process::exit(1);
    }
    let dir = figures_dir();
    for (file, svg) in figures() {
        let path = dir.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(svg.as_str()) {
            continue;
        }
        std::fs::write(&path, svg)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
        println!("wrote book/src/04-generations/{file}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_pictures_match_what_the_reference_draws() {
        let stale = stale();
        assert!(
            stale.is_empty(),
            "these pictures in book/src/04-generations differ from what the reference draws \
             now: {}\nrun `{REDRAW}` to draw them again",
            stale.join(", ")
        );
    }
}
