//! The pictures of the lab 01 chapter (`book/src/01-refcount/`), drawn from what the reference
//! does, not by hand.
//!
//! - `rc-lifetimes.svg`: the steps of the table in "The box and its two counts" run on the
//!   reference `Rc` and `Weak`, with a value that records its drop and an allocator that counts
//!   the heap blocks alive: after each step, the two counts as the API reads them, whether the
//!   value has been dropped, and whether the box is still allocated.
//! - `dealloc-stack.svg`: `del top` with `top = (a, b)`, `a = ('x',)`, `b = ('y', 'z')` on the
//!   reference heap, and the explicit stack of "Recursion, without the recursion" after each
//!   destruction. The stack is a replay of that loop; the replay must destroy the objects in the
//!   order the reference heap's hooks report, or the example fails.
//! - `trashcan.svg`: CPython 3.11's trashcan (`_PyTrash_begin`, `_PyTrash_end`,
//!   `_PyTrash_thread_destroy_chain`), which the reference has no need for, as a model: run at
//!   CPython's depth limit of 50 on a chain of 60 nodes, it must print the order that
//!   `book/sessions/01-refcount/trashcan_order.py` recorded from CPython 3.11, or the example
//!   fails; the picture runs the same model with the limit lowered to 3, so that it fits.
//!
//! ```text
//!   cargo run -p refcount-solution --example figures              writes the pictures
//!   cargo run -p refcount-solution --example figures -- --check   compares, writes nothing
//!   cargo xtask figures                                            every chapter's pictures
//! ```
//!
//! The example is declared with `test = true`, so `cargo test` runs the comparison too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::PathBuf;

use drawing::{Figures, LineStyle, Svg, TextStyle, and_list, palette};
use refcount::{Heap, HeapHooks, ObjId, Object, Rc, Weak};

/// The command that draws the pictures again.
const REDRAW: &str = "cargo run -p refcount-solution --example figures";

fn figures() -> Figures {
    Figures {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/01-refcount"),
        redraw: REDRAW,
        pictures: vec![
            ("rc-lifetimes.svg".into(), rc_lifetimes()),
            ("dealloc-stack.svg".into(), dealloc_stack()),
            ("trashcan.svg".into(), trashcan()),
        ],
    }
}

fn main() {
    figures().run();
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_pictures_match_what_the_reference_draws() {
        super::figures().assert_up_to_date();
    }
}

// A heap block counter: the allocator of this example counts the blocks each thread has alive,
// so that the picture can say when the box is freed.

thread_local! {
    static LIVE_BLOCKS: Cell<isize> = const { Cell::new(0) };
}

fn count_block(delta: isize) {
    // `try_with`: the counter may already be gone while a thread is being torn down.
    let _ = LIVE_BLOCKS.try_with(|live| live.set(live.get() + delta));
}

fn live_blocks() -> isize {
    LIVE_BLOCKS.with(Cell::get)
}

struct Counting;

// SAFETY: every method passes its arguments to the system allocator unchanged, which upholds
// `GlobalAlloc`'s contract; the counting around the calls allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_block(1);
        // SAFETY: the caller's obligations for `alloc` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_block(-1);
        // SAFETY: `ptr` was allocated by `alloc` above, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// Figure 1: how long the value and the box live.

/// The value the `Rc` holds: it records its drop.
struct Probe<'a> {
    dropped: &'a Cell<bool>,
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.dropped.set(true);
    }
}

/// What one row of the picture shows: the state after one step.
struct Row {
    code: &'static str,
    strong: usize,
    /// The weak count, readable with `Rc::weak_count` while some `Rc` exists.
    weak: Option<usize>,
    /// How many `Weak` pointers the program holds.
    weaks_held: usize,
    value_alive: bool,
    box_allocated: bool,
}

fn rc_lifetime_rows() -> Vec<Row> {
    let dropped = Cell::new(false);
    // Room for every row first: the rows' own block must not count as the box.
    let mut rows = Vec::with_capacity(7);
    let baseline = live_blocks();
    let mut a = Some(Rc::new(Probe { dropped: &dropped }));
    let mut b: Option<Rc<Probe>> = None;
    let mut w: Option<Weak<Probe>> = None;
    for step in 0..7 {
        let code = match step {
            0 => "let a = Rc::new(v)",
            1 => {
                b = a.clone();
                "let b = Rc::clone(&a)"
            }
            2 => {
                w = a.as_ref().map(Rc::downgrade);
                "let w = Rc::downgrade(&a)"
            }
            3 => {
                a = None;
                "drop(a)"
            }
            4 => {
                b = None;
                "drop(b)"
            }
            5 => {
                let upgraded = w.as_ref().and_then(Weak::upgrade);
                assert!(
                    upgraded.is_none(),
                    "w.upgrade() after the last Rc must be None"
                );
                "w.upgrade() is None"
            }
            _ => {
                w = None;
                "drop(w)"
            }
        };
        let some_rc = a.as_ref().or(b.as_ref());
        let strong = match (some_rc, &w) {
            (Some(rc), _) => Rc::strong_count(rc),
            (None, Some(weak)) => weak.strong_count(),
            (None, None) => 0,
        };
        rows.push(Row {
            code,
            strong,
            weak: some_rc.map(Rc::weak_count),
            weaks_held: usize::from(w.is_some()),
            value_alive: !dropped.get(),
            box_allocated: live_blocks() > baseline,
        });
    }
    rows
}

fn rc_lifetimes() -> String {
    let rows = rc_lifetime_rows();
    let dies = rows
        .iter()
        .position(|r| !r.value_alive)
        .expect("the value is dropped");
    let freed = rows
        .iter()
        .position(|r| !r.box_allocated)
        .expect("the box is freed");
    let mut svg = Svg::new(860.0, "How long the value and the box live");
    let head = TextStyle::new(13.0).bold().colour(palette::MUTED);
    let top = 64.0;
    let row_h = 38.0;
    let (strong_x, weak_x) = (318.0, 392.0);
    let (value_x, box_x, lane_w) = (450.0, 650.0, 180.0);
    svg.text(20.0, top, "after the step", head);
    svg.text(strong_x, top, "strong", head.centre());
    svg.text(weak_x, top, "weak", head.centre());
    svg.text(value_x + lane_w / 2.0, top, "the value (T)", head.centre());
    svg.text(
        box_x + lane_w / 2.0,
        top,
        "the box (RcBox<T>)",
        head.centre(),
    );
    let first = top + 12.0;
    for i in 1..rows.len() {
        let y = first + row_h * i as f64;
        svg.line(
            20.0,
            y,
            svg.width() - 20.0,
            y,
            LineStyle::new().colour("#e5e7eb").width(1.0),
        );
    }
    // The lanes: a bar while the value is alive, while the box is allocated.
    let bar = |svg: &mut Svg, x: f64, rows_alive: usize, swatch: palette::Swatch| {
        svg.rect(
            x,
            first + 6.0,
            lane_w,
            row_h * rows_alive as f64 - 12.0,
            swatch.fill,
            swatch.stroke,
            1.6,
        );
    };
    bar(&mut svg, value_x, dies, palette::ALIVE);
    bar(&mut svg, box_x, freed, palette::YOUNG);
    svg.text(
        value_x + lane_w / 2.0,
        first + 28.0,
        "alive",
        TextStyle::new(14.0)
            .bold()
            .centre()
            .colour(palette::ALIVE.stroke),
    );
    svg.text(
        box_x + lane_w / 2.0,
        first + 28.0,
        "allocated",
        TextStyle::new(14.0)
            .bold()
            .centre()
            .colour(palette::YOUNG.stroke),
    );
    for (i, row) in rows.iter().enumerate() {
        let y = first + row_h * i as f64;
        let base = y + row_h / 2.0 + 5.0;
        svg.text(20.0, base, row.code, TextStyle::new(14.0).mono());
        svg.text(
            strong_x,
            base,
            &row.strong.to_string(),
            TextStyle::new(15.0).bold().mono().centre(),
        );
        let weak = match row.weak {
            Some(weak) => {
                assert_eq!(
                    weak, row.weaks_held,
                    "the weak count is the number of Weaks"
                );
                weak.to_string()
            }
            None => format!("({})", row.weaks_held),
        };
        svg.text(
            weak_x,
            base,
            &weak,
            TextStyle::new(15.0).bold().mono().centre(),
        );
        if i == dies {
            svg.text(
                value_x + lane_w / 2.0,
                base,
                "dropped here",
                TextStyle::new(14.0)
                    .bold()
                    .centre()
                    .colour(palette::DEAD.stroke),
            );
        }
        if i == freed {
            svg.text(
                box_x + lane_w / 2.0,
                base,
                "freed here",
                TextStyle::new(14.0)
                    .bold()
                    .centre()
                    .colour(palette::DEAD.stroke),
            );
        }
    }
    svg.caption(&format!(
        "The steps run on the reference Rc and Weak, with a value that records its drop and an \
         allocator that counts the blocks alive. The value is dropped at {}, when strong reaches \
         0; the box stays allocated for the Weak, whose upgrade() now fails, and is freed at {}, \
         when weak reaches 0 too. Weak counts in brackets are the Weaks the program holds: with \
         no Rc left, Rc::weak_count has nothing to read it from.",
        rows[dies].code, rows[freed].code
    ));
    svg.finish()
}

// Figure 2: the explicit stack of dealloc_container.

/// Records the serial of every object destroyed, in order.
struct Deaths(std::rc::Rc<RefCell<Vec<u64>>>);

impl HeapHooks for Deaths {
    fn deallocated(&mut self, _id: ObjId, object: &Object) {
        self.0.borrow_mut().push(object.serial());
    }
}

/// The objects of `del top`, by name: what each holds, in the order its deallocator releases
/// it (a tuple's items last to first).
fn nested_tuples() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("top", vec!["b", "a"]),
        ("a", vec!["'x'"]),
        ("b", vec!["'z'", "'y'"]),
        ("'x'", vec![]),
        ("'y'", vec![]),
        ("'z'", vec![]),
    ]
}

/// The order in which the reference heap destroys the objects of `del top`.
fn reference_destruction_order() -> Vec<&'static str> {
    let deaths = std::rc::Rc::new(RefCell::new(Vec::new()));
    let mut heap = Heap::with_hooks(Deaths(deaths.clone()));
    let mut names: BTreeMap<u64, &'static str> = BTreeMap::new();
    let mut named = |heap: &mut Heap<Deaths>, id: ObjId, name: &'static str| {
        names.insert(heap.serial(id), name);
        id
    };
    let x = heap.new_str("x");
    let x = named(&mut heap, x, "'x'");
    let y = heap.new_str("y");
    let y = named(&mut heap, y, "'y'");
    let z = heap.new_str("z");
    let z = named(&mut heap, z, "'z'");
    let a = heap.new_tuple(&[x]);
    let a = named(&mut heap, a, "a");
    let b = heap.new_tuple(&[y, z]);
    let b = named(&mut heap, b, "b");
    let top = heap.new_tuple(&[a, b]);
    let top = named(&mut heap, top, "top");
    for id in [x, y, z, a, b] {
        heap.decref(id);
    }
    heap.bind("top", top);
    heap.decref(top);
    heap.unbind("top");
    deaths.borrow().iter().map(|serial| names[serial]).collect()
}

/// One entry of the stack: whose references, and those still to release.
type Entry = (&'static str, Vec<&'static str>);

/// The loop of "Recursion, without the recursion", replayed: after each destruction, the
/// object destroyed and the stack.
fn replay_dealloc(graph: &[(&'static str, Vec<&'static str>)]) -> Vec<(&'static str, Vec<Entry>)> {
    let holds: BTreeMap<&str, Vec<&'static str>> = graph.iter().cloned().collect();
    // Every object is held once, by its container; `top` by the name being deleted.
    let mut counts: BTreeMap<&str, usize> = graph.iter().map(|(name, _)| (*name, 1)).collect();
    let mut snapshots = Vec::new();
    let mut stack: Vec<Entry> = vec![("top", holds["top"].clone())];
    snapshots.push(("top", stack.clone()));
    while let Some((_, refs)) = stack.last_mut() {
        if refs.is_empty() {
            stack.pop();
            continue;
        }
        let next = refs.remove(0);
        let count = counts.get_mut(next).expect("a known object");
        *count -= 1;
        if *count == 0 {
            stack.push((next, holds[next].clone()));
            snapshots.push((next, stack.clone()));
        }
    }
    snapshots
}

fn dealloc_stack() -> String {
    let snapshots = replay_dealloc(&nested_tuples());
    let replayed: Vec<&str> = snapshots.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        replayed,
        reference_destruction_order(),
        "the replay of the explicit stack no longer destroys the objects in the reference heap's \
         order"
    );
    let mut svg = Svg::new(860.0, "del top: the explicit stack of dealloc_container");
    let head = TextStyle::new(13.0).bold().colour(palette::MUTED);
    svg.text(20.0, 64.0, "destroyed", head);
    svg.text(
        150.0,
        64.0,
        "the stack afterwards: one entry per object being destroyed, the top on the right",
        head,
    );
    let row_h = 52.0;
    for (i, (name, stack)) in snapshots.iter().enumerate() {
        let y = 78.0 + row_h * i as f64;
        svg.text(20.0, y + 30.0, name, TextStyle::new(16.0).bold().mono());
        let mut x = 150.0;
        for (j, (owner, refs)) in stack.iter().enumerate() {
            let top = j + 1 == stack.len();
            let refs_text = if refs.is_empty() {
                "nothing left".to_string()
            } else {
                refs.join(" ")
            };
            let label = format!("{owner}:");
            let style = TextStyle::new(14.0).mono();
            let w = 22.0 + style.width_of(&label) + 8.0 + style.width_of(&refs_text);
            let swatch = if refs.is_empty() {
                palette::EMPTY
            } else if top {
                palette::WAITING
            } else {
                palette::YOUNG
            };
            svg.rect_dashed(
                x,
                y + 10.0,
                w,
                32.0,
                swatch.fill,
                swatch.stroke,
                if top { 2.4 } else { 1.4 },
                refs.is_empty(),
            );
            svg.text(x + 11.0, y + 31.0, &label, style.bold());
            svg.text(
                x + 11.0 + style.width_of(&label) + 8.0,
                y + 31.0,
                &refs_text,
                style,
            );
            x += w + 14.0;
        }
    }
    let y = svg.bottom() + 20.0;
    let mut x = 20.0;
    x = svg.legend(
        x,
        y,
        palette::WAITING,
        "the top entry: its next reference is released next",
    );
    x = svg.legend(x, y, palette::YOUNG, "waiting below");
    svg.legend(x, y, palette::EMPTY, "empty: popped next");
    svg.caption(&format!(
        "Each entry holds the references its object still has to release, in release order (a \
         tuple's items last to first). The loop takes the top entry's next reference; when that \
         takes a count to zero, the object is destroyed and its references become a new entry \
         on top. The objects die in the order plain recursion gives, {}, and the stack replaces \
         the call stack: its depth is the number of objects being destroyed at once. The order \
         is the reference heap's, read from its hooks.",
        and_list(&replayed)
    ));
    svg.finish()
}

// Figure 3: CPython 3.11's trashcan, as a model.

/// The order CPython 3.11.7 printed for the chain of 60 nodes (recorded by `cargo xtask parity`).
const RECORDED_ORDER: &str = include_str!("../../../book/sessions/01-refcount/trashcan_order.out");

/// What the picture shows at one moment of the model.
struct TrashFrame {
    what: String,
    /// The deallocators running, outermost first (`chain` is `_PyTrash_thread_destroy_chain`).
    stack: Vec<String>,
    /// `tstate->trash_delete_later`, head first.
    deferred: Vec<String>,
    kind: Moment,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Moment {
    Runs,
    Deposited,
    Chain,
}

/// CPython 3.11's trashcan on a chain `n1 = [l1, n2], n2 = [l2, n3], ...`: every node and leaf
/// is a container whose deallocator uses the trashcan and reports its death first (its
/// `__del__`), then releases its items last to first.
struct Trashcan {
    limit: usize,
    nodes: usize,
    /// `tstate->trash_delete_nesting`.
    nesting: usize,
    /// `tstate->trash_delete_later`, the head last.
    later: Vec<String>,
    running: Vec<String>,
    order: Vec<String>,
    frames: Vec<TrashFrame>,
}

impl Trashcan {
    fn run(limit: usize, nodes: usize) -> Trashcan {
        let mut model = Trashcan {
            limit,
            nodes,
            nesting: 0,
            later: Vec::new(),
            running: Vec::new(),
            order: Vec::new(),
            frames: Vec::new(),
        };
        model.dealloc("n1".to_string());
        model
    }

    fn snapshot(&mut self, what: String, kind: Moment) {
        self.frames.push(TrashFrame {
            what,
            stack: self.running.clone(),
            deferred: self.later.iter().rev().cloned().collect(),
            kind,
        });
    }

    /// What `name` holds, in release order: a node releases the next node, then its leaf.
    fn items(&self, name: &str) -> Vec<String> {
        let k: usize = name[1..].parse().expect("n<k> or l<k>");
        if name.starts_with('l') {
            return Vec::new();
        }
        let mut items = Vec::new();
        if k < self.nodes {
            items.push(format!("n{}", k + 1));
        }
        items.push(format!("l{k}"));
        items
    }

    /// A deallocator with `Py_TRASHCAN_BEGIN` / `Py_TRASHCAN_END` around its body.
    fn dealloc(&mut self, name: String) {
        // _PyTrash_begin
        if self.nesting >= self.limit {
            self.later.push(name.clone());
            let what = format!(
                "{name}: {} deallocators deep already: deposited",
                self.nesting
            );
            self.snapshot(what, Moment::Deposited);
            return;
        }
        self.nesting += 1;
        self.running.push(name.clone());
        self.order.push(name.clone());
        let what = format!("{name}'s deallocator runs, depth {}", self.nesting);
        self.snapshot(what, Moment::Runs);
        for item in self.items(&name) {
            self.dealloc(item);
        }
        self.running.pop();
        // _PyTrash_end
        self.nesting -= 1;
        if !self.later.is_empty() && self.nesting == 0 {
            self.destroy_chain();
        }
    }

    /// `_PyTrash_thread_destroy_chain`: the deferred objects, last deposited first, at depth 1.
    fn destroy_chain(&mut self) {
        self.nesting += 1;
        self.running.push("chain".to_string());
        while let Some(name) = self.later.pop() {
            let what = format!("the chain takes {name}, the head of the list");
            self.snapshot(what, Moment::Chain);
            self.dealloc(name);
        }
        self.running.pop();
        self.nesting -= 1;
    }
}

fn trashcan() -> String {
    // The model against CPython: at its limit of 50, on the chain of the recorded script.
    let cpython = Trashcan::run(50, 60);
    let printed: String = cpython
        .order
        .chunks(15)
        .map(|line| format!("{}\n", line.join(" ")))
        .collect();
    assert_eq!(
        printed, RECORDED_ORDER,
        "the trashcan model no longer destroys the chain in the order CPython 3.11 printed \
         (book/sessions/01-refcount/trashcan_order.out)"
    );

    let limit = 3;
    let model = Trashcan::run(limit, 5);
    let mut svg = Svg::new(
        880.0,
        "CPython's trashcan, with the limit lowered from 50 to 3",
    );
    let head = TextStyle::new(13.0).bold().colour(palette::MUTED);
    let (stack_x, deferred_x) = (372.0, 690.0);
    svg.text(20.0, 64.0, "what happens", head);
    svg.text(stack_x, 64.0, "deallocators running, outermost first", head);
    svg.text(deferred_x, 64.0, "deferred, head first", head);
    let row_h = 36.0;
    let cell = TextStyle::new(14.0).bold().mono();
    for (i, frame) in model.frames.iter().enumerate() {
        let y = 76.0 + row_h * i as f64;
        let colour = match frame.kind {
            Moment::Runs => palette::INK,
            Moment::Deposited => palette::WAITING.stroke,
            Moment::Chain => palette::ACCENT,
        };
        svg.text(
            20.0,
            y + 23.0,
            &frame.what,
            TextStyle::new(13.0).colour(colour),
        );
        let mut x = stack_x;
        for name in &frame.stack {
            let chain = name == "chain";
            let w = if chain { 56.0 } else { 40.0 };
            let swatch = if chain {
                palette::EMPTY
            } else {
                palette::YOUNG
            };
            svg.rect(x, y + 6.0, w, 26.0, swatch.fill, swatch.stroke, 1.4);
            svg.text(x + w / 2.0, y + 24.0, name, cell.centre());
            x += w + 6.0;
        }
        let mut x = deferred_x;
        for name in &frame.deferred {
            svg.rect(
                x,
                y + 6.0,
                40.0,
                26.0,
                palette::WAITING.fill,
                palette::WAITING.stroke,
                1.4,
            );
            svg.text(x + 20.0, y + 24.0, name, cell.centre());
            x += 46.0;
        }
    }
    svg.caption(&format!(
        "n1 = [l1, n2], n2 = [l2, n3], ... n5 = [l5]: every node and leaf runs a deallocator \
         that uses the trashcan, and a list releases its items last to first, so a node releases \
         the next node, then its leaf. A deallocator that would start {limit} deep is not run: \
         its object is deposited on the deferred list. Once the outermost deallocator has returned, \
         \"chain\" (_PyTrash_thread_destroy_chain, which counts as one level) destroys the \
         deferred objects one at a time, last deposited first. Destroyed, in order: {}. \
         Plain recursion would destroy n1 to n5, then l5 to l1. The same model at CPython's limit \
         of 50 gives, on a chain of 60 nodes, the order CPython 3.11 prints for it.",
        model.order.join(" ")
    ));
    svg.finish()
}
