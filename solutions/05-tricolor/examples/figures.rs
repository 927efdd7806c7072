//! The pictures of the lab 05 chapter (`book/src/05-tricolor/*.svg`), drawn from what the
//! reference collector does, not by hand.
//!
//! Two runs, each drawn one state at a time:
//!
//! - `mark-*.svg`: the study note's example, `A -> B -> C <- D <- E` with the roots `[A]`, marked
//!   in steps of one unit (`start_cycle`, then `step(1)` until nothing is gray), then
//!   `finish_cycle`, which sweeps D and E;
//! - `bug-*.svg`: the interleaving that hides a white object behind a black one, with no
//!   barrier (A black, B gray, C white; `c = b.next; a.x = c; b.next = None; del c`), the sweep
//!   that frees C while A still refers to it, and the same interleaving under Dijkstra's barrier
//!   (`barrier-dijkstra.svg`) and Yuasa's (`barrier-yuasa.svg`).
//!
//! Each state becomes one SVG file: the objects at fixed positions, in their colours (the colour
//! is also written under each name), the references between them as read from the heap (field
//! names on the arrows), the roots, the worklist, the moment, and a caption.
//!
//! ```text
//!   cargo run -p tricolor-solution --example figures              writes book/src/05-tricolor/*.svg
//!   cargo run -p tricolor-solution --example figures -- --check   compares, writes nothing
//! ```
//!
//! The example is declared with `test = true`, so `cargo test` runs the comparison too, as the
//! test at the end of this file: a change to the collector that changes a picture fails it until
//! the pictures are drawn again.

use std::fmt::Write as _;
use std::path::PathBuf;

use pyheap::Kind;
use tricolor::{Barrier, Color, Heap, ObjId, TricolorError};

/// The command that draws the pictures again.
const REDRAW: &str = "cargo run -p tricolor-solution --example figures";

/// Where the pictures go: the chapter's folder.
fn figures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/05-tricolor")
}

// What one picture shows.

/// How an object is drawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Look {
    Colored(Color),
    /// Freed by the sweep.
    Freed,
}

/// One object in a picture.
struct Node {
    name: &'static str,
    look: Look,
    x: f64,
    y: f64,
}

/// How a reference is drawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EdgeStyle {
    Plain,
    /// The reference the last operation wrote.
    Hot,
    /// A reference to a freed object.
    Dangling,
}

/// One reference in a picture.
struct Edge {
    from: &'static str,
    to: &'static str,
    label: String,
    style: EdgeStyle,
}

/// One picture.
struct Frame {
    file: &'static str,
    title: String,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    roots: Vec<&'static str>,
    worklist: Vec<&'static str>,
    moment: String,
    caption: String,
}

/// The objects of a run, by name, with where to draw each.
struct Cast {
    objects: Vec<(&'static str, ObjId, f64, f64)>,
}

impl Cast {
    fn name(&self, id: ObjId) -> &'static str {
        self.objects
            .iter()
            .find(|(_, o, _, _)| *o == id)
            .map(|(name, ..)| *name)
            .unwrap_or("?")
    }

    /// The heap as it is now, drawn: `hot` is the reference to highlight, `from -> to`.
    fn frame(
        &self,
        heap: &Heap,
        file: &'static str,
        title: &str,
        hot: Option<(&str, &str)>,
        caption: &str,
    ) -> Frame {
        let nodes = self
            .objects
            .iter()
            .map(|&(name, id, x, y)| Node {
                name,
                look: if heap.is_live(id) {
                    Look::Colored(heap.color(id))
                } else {
                    Look::Freed
                },
                x,
                y,
            })
            .collect();
        let mut edges = Vec::new();
        for &(name, id, ..) in &self.objects {
            if !heap.pyheap().is_alive(id) {
                continue;
            }
            let slots: Vec<(String, ObjId)> = match heap.pyheap().kind(id) {
                Kind::Instance { attrs, .. } => attrs.clone(),
                Kind::List(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, &item)| (format!("[{i}]"), item))
                    .collect(),
                _ => Vec::new(),
            };
            for (label, target) in slots {
                if target == heap.pyheap().none() {
                    continue;
                }
                let to = self.name(target);
                let style = if !heap.is_live(target) {
                    EdgeStyle::Dangling
                } else if hot == Some((name, to)) {
                    EdgeStyle::Hot
                } else {
                    EdgeStyle::Plain
                };
                edges.push(Edge {
                    from: name,
                    to,
                    label,
                    style,
                });
            }
        }
        Frame {
            file,
            title: title.to_string(),
            nodes,
            edges,
            roots: heap.roots().iter().map(|&id| self.name(id)).collect(),
            worklist: heap.worklist().iter().map(|&id| self.name(id)).collect(),
            moment: heap.moment(),
            caption: caption.to_string(),
        }
    }
}

// The runs.

/// The study note's example, marked in steps of one unit, then swept.
fn marking() -> Result<Vec<Frame>, TricolorError> {
    let mut heap = Heap::new(Barrier::None);
    let a = heap.new_object("A");
    let b = heap.new_object("B");
    heap.set_field(a, "next", Some(b))?;
    heap.pop_root()?;
    let c = heap.new_object("C");
    heap.set_field(b, "next", Some(c))?;
    heap.pop_root()?;
    let e = heap.new_object("E");
    let d = heap.new_object("D");
    heap.set_field(e, "next", Some(d))?;
    heap.set_field(d, "next", Some(c))?;
    heap.pop_root()?;
    heap.pop_root()?;
    let y = 150.0;
    let cast = Cast {
        objects: vec![
            ("A", a, 160.0, y),
            ("B", b, 310.0, y),
            ("C", c, 460.0, y),
            ("D", d, 610.0, y),
            ("E", e, 760.0, y),
        ],
    };
    let mut frames = vec![cast.frame(
        &heap,
        "mark-0-heap.svg",
        "The heap: A -> B -> C <- D <- E, the roots [A]",
        None,
        "Every object is white: no cycle has started. The program holds only A (its one root); D \
         refers to C, but nothing the program holds leads to D or E.",
    )];
    heap.start_cycle()?;
    frames.push(cast.frame(
        &heap,
        "mark-1-roots.svg",
        "start_cycle(): the roots are shaded",
        None,
        "The initial pause shades every root: A turns gray and goes on the worklist. Nothing is \
         scanned yet; that is the steps' work.",
    ));
    let captions = [
        (
            "mark-2-scan-a.svg",
            "step(1) scans A",
            "A is taken off the worklist and scanned: its one reference, to B, is shaded (B \
             turns gray and goes on the worklist), and A turns black. A black object is never \
             looked at again this cycle.",
        ),
        (
            "mark-3-scan-b.svg",
            "step(1) scans B",
            "B is scanned: C, which it refers to, is shaded, and B turns black. The gray objects \
             are always the frontier between what is known reachable (black) and what is not \
             known yet (white).",
        ),
        (
            "mark-4-scan-c.svg",
            "step(1) scans C: nothing is gray",
            "C refers to nothing, so scanning it shades nothing. The worklist is empty: every \
             object reachable from the roots is black. D and E are still white, although D \
             points to C: a reference from garbage keeps nothing alive.",
        ),
    ];
    for (file, title, caption) in captions {
        heap.step(1)?;
        frames.push(cast.frame(&heap, file, title, None, caption));
    }
    heap.finish_cycle()?;
    frames.push(cast.frame(
        &heap,
        "mark-5-sweep.svg",
        "finish_cycle(): the sweep frees what stayed white",
        None,
        "The sweep frees every white object, D and E, and turns the black ones white again for \
         the next cycle. CPython frees the same two objects, by reference counting, the moment \
         the program drops E (seed_example.py).",
    ));
    Ok(frames)
}

/// The interleaving, on a new heap with `barrier`, up to `start_cycle(); step(1)`.
fn interleaving(barrier: Barrier) -> Result<(Heap, Cast, [ObjId; 4]), TricolorError> {
    let mut heap = Heap::new(barrier);
    let a = heap.new_object("A");
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
    let y = 170.0;
    let cast = Cast {
        objects: vec![
            ("A", a, 170.0, y),
            ("B", b, 330.0, y),
            ("C", c, 490.0, y),
            ("P", p, 650.0, y),
        ],
    };
    Ok((heap, cast, [a, b, c, p]))
}

/// The interleaving with no barrier, then with each barrier.
fn bug() -> Result<Vec<Frame>, TricolorError> {
    let (mut heap, cast, [a, b, c, _]) = interleaving(Barrier::None)?;
    let mut frames = vec![cast.frame(
        &heap,
        "bug-0-before.svg",
        "Before: A black, B gray, C white",
        None,
        "start_cycle() and step(1): A is scanned (black), B is shaded (gray), C and P are not \
         reached yet (white). The only path to C goes through gray B, so a later step will find \
         it.",
    )];
    heap.push_root(c)?;
    heap.set_field(a, "x", Some(c))?;
    frames.push(cast.frame(
        &heap,
        "bug-1-store.svg",
        "c = b.next; a.x = c: black A now points to white C",
        Some(("A", "C")),
        "The program loads C into a local variable (a root: no barrier) and stores it into A. \
         No step will scan A again, so the new reference will never be looked at. C is still \
         safe, for now: gray B still leads to it.",
    ));
    heap.set_field(b, "next", None)?;
    heap.pop_root()?;
    frames.push(cast.frame(
        &heap,
        "bug-2-delete.svg",
        "b.next = None; del c: C is hidden behind black A",
        None,
        "The program deletes B's reference and drops its local variable. C is reachable (root \
         A, then A.x), but only through a black object: no gray object leads to it, and no step \
         will ever shade it.",
    ));
    heap.finish_cycle()?;
    frames.push(cast.frame(
        &heap,
        "bug-3-swept.svg",
        "finish_cycle(): C is swept while A still refers to it",
        None,
        "Marking ends with C and P white, and the sweep frees them. A.x dangles: the program \
         will read a freed object. Here pyheap keeps the emptied C alive (A's reference counts), \
         so the test can watch the bug safely.",
    ));

    let (mut heap, cast, [a, _, c, _]) = interleaving(Barrier::Dijkstra)?;
    heap.push_root(c)?;
    heap.set_field(a, "x", Some(c))?;
    frames.push(cast.frame(
        &heap,
        "barrier-dijkstra.svg",
        "Dijkstra's barrier: a.x = c shades C",
        Some(("A", "C")),
        "With Dijkstra's insertion barrier, the store itself shades what it writes: C is gray \
         and on the worklist before b.next = None can hide it. No black object ever points to \
         a white one.",
    ));

    let (mut heap, cast, [a, b, c, _]) = interleaving(Barrier::Yuasa)?;
    heap.push_root(c)?;
    heap.set_field(a, "x", Some(c))?;
    heap.set_field(b, "next", None)?;
    frames.push(cast.frame(
        &heap,
        "barrier-yuasa.svg",
        "Yuasa's barrier: b.next = None shades C",
        None,
        "With Yuasa's deletion barrier, a.x = c did nothing (black A pointed to white C for a \
         moment, which is allowed), and deleting B's reference shades the old target: C is \
         gray. Whatever was reachable when the cycle started stays reachable from gray.",
    ));
    Ok(frames)
}

// Drawing.

const WIDTH: f64 = 840.0;
const BOX_W: f64 = 96.0;
const BOX_H: f64 = 58.0;
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, \
                    sans-serif";
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const INK: &str = "#1f2937";
const MUTED: &str = "#4b5563";
const HOT: &str = "#c2410c";
const DANGER: &str = "#b91c1c";

/// (fill, stroke, text) for an object.
fn paint(look: Look) -> (&'static str, &'static str, &'static str) {
    match look {
        Look::Colored(Color::White) => ("#ffffff", "#374151", INK),
        Look::Colored(Color::Gray) => ("#9ca3af", "#374151", INK),
        Look::Colored(Color::Black) => ("#111827", "#111827", "#ffffff"),
        Look::Freed => ("#fef2f2", DANGER, DANGER),
    }
}

fn look_word(look: Look) -> String {
    match look {
        Look::Colored(color) => color.to_string(),
        Look::Freed => "freed".to_string(),
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

fn render(frame: &Frame) -> String {
    let caption = wrap(&frame.caption, 100);
    let caption_top = 292.0;
    let height = caption_top + 20.0 * caption.len() as f64 + 16.0;
    let mut svg = String::new();
    let w = |svg: &mut String, text: String| svg.push_str(&text);
    w(
        &mut svg,
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"{FONT}\" role=\"img\">\n\
             <title>{}</title>\n<defs>\n",
            escape(&frame.title)
        ),
    );
    for (id, color) in [("arrow", MUTED), ("arrow-hot", HOT), ("arrow-bad", DANGER)] {
        w(
            &mut svg,
            format!(
                "<marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
                 markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 \
                 L0,10 z\" fill=\"{color}\"/></marker>\n"
            ),
        );
    }
    w(
        &mut svg,
        format!(
            "</defs>\n<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" \
             fill=\"#ffffff\" stroke=\"#d1d5db\"/>\n\
             <text x=\"20\" y=\"32\" font-size=\"17\" font-weight=\"bold\" fill=\"{INK}\">{}</text>\n\
             <text x=\"20\" y=\"54\" font-size=\"13\" fill=\"{MUTED}\">{}</text>\n",
            WIDTH - 1.0,
            height - 1.0,
            escape(&frame.title),
            escape(&frame.moment)
        ),
    );
    let center = |name: &str| -> (f64, f64) {
        frame
            .nodes
            .iter()
            .find(|n| n.name == name)
            .map(|n| (n.x, n.y))
            .expect("an object of the frame")
    };

    // The roots: a stack, bottom first, each entry with an arrow to its object.
    let roots_x = 20.0;
    let roots_top = 78.0;
    w(
        &mut svg,
        format!(
            "<text x=\"{roots_x}\" y=\"{}\" font-size=\"13\" fill=\"{MUTED}\">roots</text>\n",
            roots_top
        ),
    );
    for (i, name) in frame.roots.iter().enumerate() {
        let y = roots_top + 12.0 + 30.0 * i as f64;
        w(
            &mut svg,
            format!(
                "<rect x=\"{roots_x}\" y=\"{y}\" width=\"56\" height=\"24\" rx=\"4\" \
                 fill=\"#f3f4f6\" stroke=\"{MUTED}\"/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"14\" font-family=\"{MONO}\" fill=\"{INK}\" \
                 text-anchor=\"middle\">{name}</text>\n",
                roots_x + 28.0,
                y + 17.0
            ),
        );
        let (tx, ty) = center(name);
        let (sx, sy) = (roots_x + 56.0, y + 12.0);
        let (ex, ey) = (tx - BOX_W / 2.0, ty);
        let path = if tx < 250.0 {
            format!("M{sx},{sy} L{ex},{ey}")
        } else {
            // Under the row of objects, then up into the object's bottom.
            let bottom = ty + BOX_H / 2.0;
            format!(
                "M{sx},{sy} C{},{} {},{} {tx},{bottom}",
                sx + 40.0,
                bottom + 70.0,
                tx - 20.0,
                bottom + 70.0
            )
        };
        w(
            &mut svg,
            format!(
                "<path d=\"{path}\" stroke=\"{MUTED}\" stroke-width=\"1.6\" fill=\"none\" \
                 marker-end=\"url(#arrow)\"/>\n"
            ),
        );
    }

    // The references.
    for edge in &frame.edges {
        let (fx, fy) = center(edge.from);
        let (tx, ty) = center(edge.to);
        let (color, marker, width, dash) = match edge.style {
            EdgeStyle::Plain => (MUTED, "arrow", 1.6, ""),
            EdgeStyle::Hot => (HOT, "arrow-hot", 2.6, ""),
            EdgeStyle::Dangling => (DANGER, "arrow-bad", 2.2, " stroke-dasharray=\"6 4\""),
        };
        let neighbours = (tx - fx).abs() < 170.0;
        let (path, lx, ly) = if neighbours {
            let dir = if tx > fx { 1.0 } else { -1.0 };
            let (sx, ex) = (fx + dir * BOX_W / 2.0, tx - dir * BOX_W / 2.0);
            (format!("M{sx},{fy} L{ex},{ty}"), (sx + ex) / 2.0, fy - 8.0)
        } else {
            // An arc above the row.
            let top = fy - BOX_H / 2.0;
            let lift = 70.0;
            (
                format!(
                    "M{fx},{top} C{fx},{} {tx},{} {tx},{top}",
                    top - lift,
                    top - lift
                ),
                (fx + tx) / 2.0,
                top - lift * 0.75 - 6.0,
            )
        };
        w(
            &mut svg,
            format!(
                "<path d=\"{path}\" stroke=\"{color}\" stroke-width=\"{width}\" fill=\"none\"{dash} \
                 marker-end=\"url(#{marker})\"/>\n\
                 <text x=\"{lx}\" y=\"{ly}\" font-size=\"12\" font-family=\"{MONO}\" \
                 fill=\"{color}\" text-anchor=\"middle\">{}</text>\n",
                escape(&edge.label)
            ),
        );
    }

    // The objects.
    for node in &frame.nodes {
        let (fill, stroke, text) = paint(node.look);
        let dash = if node.look == Look::Freed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        w(
            &mut svg,
            format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"8\" \
                 fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.8\"{dash}/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\" fill=\"{text}\" \
                 text-anchor=\"middle\">{}</text>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{text}\" \
                 text-anchor=\"middle\">{}</text>\n",
                node.x - BOX_W / 2.0,
                node.y - BOX_H / 2.0,
                node.x,
                node.y - 2.0,
                node.name,
                node.x,
                node.y + 17.0,
                look_word(node.look)
            ),
        );
    }

    // The worklist, bottom first, and the legend.
    let list_y = 262.0;
    let worklist = if frame.worklist.is_empty() {
        "empty".to_string()
    } else {
        format!(
            "{}   (next: {})",
            frame.worklist.join(" "),
            frame.worklist[frame.worklist.len() - 1]
        )
    };
    w(
        &mut svg,
        format!(
            "<text x=\"20\" y=\"{list_y}\" font-size=\"13\" fill=\"{MUTED}\">worklist, bottom \
             first:</text>\n\
             <text x=\"176\" y=\"{list_y}\" font-size=\"14\" font-family=\"{MONO}\" \
             fill=\"{INK}\">{}</text>\n",
            escape(&worklist)
        ),
    );
    let legend = [
        (Look::Colored(Color::White), "white: not reached"),
        (Look::Colored(Color::Gray), "gray: to scan"),
        (Look::Colored(Color::Black), "black: scanned"),
    ];
    for (i, (look, label)) in legend.iter().enumerate() {
        let (fill, stroke, _) = paint(*look);
        let x = 420.0 + 140.0 * i as f64;
        w(
            &mut svg,
            format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{fill}\" \
                 stroke=\"{stroke}\"/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">{label}</text>\n",
                list_y - 12.0,
                x + 19.0,
                list_y - 1.0
            ),
        );
    }

    for (i, line) in caption.iter().enumerate() {
        w(
            &mut svg,
            format!(
                "<text x=\"20\" y=\"{}\" font-size=\"13.5\" fill=\"{INK}\">{}</text>\n",
                caption_top + 20.0 * i as f64 + 4.0,
                escape(line)
            ),
        );
    }
    svg.push_str("</svg>\n");
    let _ = write!(svg, "");
    svg
}

/// Every picture: its file name and its SVG text.
fn figures() -> Vec<(&'static str, String)> {
    let mut frames = marking().expect("the marking run");
    frames.extend(bug().expect("the interleaving"));
    frames
        .iter()
        .map(|frame| (frame.file, render(frame)))
        .collect()
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
    let check = std::env::args().skip(1).any(|arg| arg == "--check");
    if check {
        let stale = stale();
        if stale.is_empty() {
            println!("the chapter's pictures are up to date");
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
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() == Some(svg.as_str()) {
            continue;
        }
        std::fs::write(&path, svg)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
        println!("wrote book/src/05-tricolor/{file}");
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
            "these pictures in book/src/05-tricolor differ from what the reference draws now: \
             {}\nrun `{REDRAW}` to draw them again",
            stale.join(", ")
        );
    }
}
