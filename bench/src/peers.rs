//! Workload C on the Rust collectors people use, and the plain traversal: the same graphs, each
//! node one collected object holding a growable list of references, one full collection timed.
//!
//! - **bacon_rajan_cc**: reference counting with cycle collection by trial deletion (Bacon and
//!   Rajan, 2001), the same family as CPython's collector: `collect_cycles()`.
//! - **rust-gc** (`gc`): a mark and sweep collector whose roots are found by counting the
//!   handles held outside the heap: `force_collect()`.
//! - **dumpster** (`unsync`): reference counting plus a cycle search over the handles dropped
//!   since the last collection: `collect()` (its automatic collections are turned off while the
//!   graph is built, so the timed call does all the work).
//! - **gc-arena**: an incremental mark and sweep collector with explicit roots:
//!   `finish_cycle()`, a whole cycle at once.
//!
//! bacon_rajan_cc, rust-gc and dumpster recurse along the graph, and a ring of 1,000,000 nodes
//! overflows an 8 MiB stack; they run here on a thread with a stack of 4 GiB (reserved, not
//! touched unless used), and the table says so. gc-arena and the plain traversal use worklists.

use std::cell::RefCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::graphs::{Graph, plain_traversal};
use crate::output::{Measured, Outcome};

/// The stack the recursive collectors run on.
const BIG_STACK: usize = 4 << 30;

/// Nodes dropped so far, by every peer's `Drop`.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on a thread with a stack of [`BIG_STACK`] bytes.
fn on_big_stack(f: impl FnOnce() -> Outcome + Send + 'static) -> Outcome {
    let spawned = std::thread::Builder::new().stack_size(BIG_STACK).spawn(f);
    match spawned.map(|thread| thread.join()) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Outcome::Absent("panicked".to_string()),
        Err(e) => Outcome::Absent(format!("no thread with a 4 GiB stack here ({e})")),
    }
}

/// Checks, after the roots were dropped and a second collection ran, that every node was
/// dropped exactly once; returns the measurement, noted.
fn checked(graph: &Graph, dropped_at_start: usize, elapsed: Duration, note: &str) -> Outcome {
    let dropped = DROPPED.load(Ordering::Relaxed) - dropped_at_start;
    if dropped != graph.len() {
        return Outcome::Absent(format!(
            "wrong: {dropped} of {} nodes were dropped at the end",
            graph.len()
        ));
    }
    let measured = Measured::ms(elapsed);
    Outcome::Measured(if note.is_empty() {
        measured
    } else {
        measured.noted(note)
    })
}

mod bacon {
    use super::*;
    use bacon_rajan_cc::{Cc, Trace, Tracer, collect_cycles};

    pub struct Node {
        pub edges: RefCell<Vec<Cc<Node>>>,
    }

    impl Trace for Node {
        fn trace(&self, tracer: &mut Tracer) {
            self.edges.trace(tracer);
        }
    }

    impl Drop for Node {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn run(graph: &Graph) -> Outcome {
        let start_count = DROPPED.load(Ordering::Relaxed);
        let nodes: Vec<Cc<Node>> = (0..graph.len())
            .map(|_| {
                Cc::new(Node {
                    edges: RefCell::new(Vec::new()),
                })
            })
            .collect();
        for (node, out) in nodes.iter().zip(&graph.edges) {
            let mut edges = node.edges.borrow_mut();
            for &to in out {
                edges.push(nodes[to as usize].clone());
            }
        }
        let roots: Vec<Cc<Node>> = graph
            .roots
            .iter()
            .map(|&r| nodes[r as usize].clone())
            .collect();
        drop(nodes);
        let start = Instant::now();
        collect_cycles();
        let elapsed = start.elapsed();
        drop(roots);
        collect_cycles();
        checked(graph, start_count, elapsed, "on a 4 GiB stack: it recurses")
    }
}

// rust-gc's derive (an old `synstructure`) writes its impls inside a constant, which rustc now warns about.
#[allow(non_local_definitions)]
mod rustgc {
    use super::*;
    use gc::{Finalize, Gc, GcCell, Trace, force_collect};

    #[derive(Trace)]
    pub struct Node {
        pub edges: GcCell<Vec<Gc<Node>>>,
    }

    /// rust-gc's derive writes the `Drop` itself; the collector calls `finalize` on each object
    /// it frees, once, just before.
    impl Finalize for Node {
        fn finalize(&self) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn run(graph: &Graph) -> Outcome {
        let start_count = DROPPED.load(Ordering::Relaxed);
        let nodes: Vec<Gc<Node>> = (0..graph.len())
            .map(|_| {
                Gc::new(Node {
                    edges: GcCell::new(Vec::new()),
                })
            })
            .collect();
        for (node, out) in nodes.iter().zip(&graph.edges) {
            let mut edges = node.edges.borrow_mut();
            for &to in out {
                edges.push(nodes[to as usize].clone());
            }
        }
        let roots: Vec<Gc<Node>> = graph
            .roots
            .iter()
            .map(|&r| nodes[r as usize].clone())
            .collect();
        drop(nodes);
        let start = Instant::now();
        force_collect();
        let elapsed = start.elapsed();
        drop(roots);
        force_collect();
        checked(graph, start_count, elapsed, "on a 4 GiB stack: it recurses")
    }
}

mod dumpster_peer {
    use super::*;
    use dumpster::Trace;
    use dumpster::unsync::{CollectInfo, Gc, collect, set_collect_condition};

    #[derive(Trace)]
    pub struct Node {
        pub edges: RefCell<Vec<Gc<Node>>>,
    }

    impl Drop for Node {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn never(_: &CollectInfo) -> bool {
        false
    }

    pub fn run(graph: &Graph) -> Outcome {
        set_collect_condition(never);
        let start_count = DROPPED.load(Ordering::Relaxed);
        let nodes: Vec<Gc<Node>> = (0..graph.len())
            .map(|_| {
                Gc::new(Node {
                    edges: RefCell::new(Vec::new()),
                })
            })
            .collect();
        for (node, out) in nodes.iter().zip(&graph.edges) {
            let mut edges = node.edges.borrow_mut();
            for &to in out {
                edges.push(nodes[to as usize].clone());
            }
        }
        let roots: Vec<Gc<Node>> = graph
            .roots
            .iter()
            .map(|&r| nodes[r as usize].clone())
            .collect();
        drop(nodes);
        let start = Instant::now();
        collect();
        let elapsed = start.elapsed();
        drop(roots);
        collect();
        checked(graph, start_count, elapsed, "on a 4 GiB stack: it recurses")
    }
}

pub(crate) mod arena {
    use super::*;
    use gc_arena::{Arena, Collect, Gc, RefLock, Rootable};

    /// A node: a growable list of references.
    #[derive(Collect)]
    #[collect(no_drop)]
    pub struct Node<'gc>(pub Vec<NodePtr<'gc>>);

    /// A pointer to a node, behind gc-arena's lock (its write barrier).
    pub type NodePtr<'gc> = Gc<'gc, RefLock<Node<'gc>>>;

    /// The arena's root: the nodes the program holds.
    pub type Roots<'gc> = Vec<NodePtr<'gc>>;

    /// A new arena holding `graph`, built in one mutation (no collection runs inside one), with
    /// only the graph's roots held.
    pub fn build(graph: &Graph) -> Arena<Rootable![Roots<'_>]> {
        let mut arena = Arena::<Rootable![Roots<'_>]>::new(|_| Vec::new());
        arena.mutate_root(|mc, root| {
            let nodes: Vec<NodePtr> = (0..graph.len())
                .map(|_| Gc::new(mc, RefLock::new(Node(Vec::new()))))
                .collect();
            for (node, out) in nodes.iter().zip(&graph.edges) {
                let mut node = node.borrow_mut(mc);
                for &to in out {
                    node.0.push(nodes[to as usize]);
                }
            }
            root.extend(graph.roots.iter().map(|&r| nodes[r as usize]));
        });
        arena
    }

    pub fn run(graph: &Graph) -> Outcome {
        let mut arena = build(graph);
        let allocated = arena.metrics().total_gc_count();
        let start = Instant::now();
        arena.finish_cycle();
        let elapsed = start.elapsed();
        let kept = arena.metrics().total_gc_count();
        let expected = graph.reachable();
        if allocated != graph.len() || kept != expected {
            return Outcome::Absent(format!(
                "wrong: {kept} objects kept of {allocated}, and {expected} are reachable"
            ));
        }
        arena.mutate_root(|_, root| root.clear());
        arena.finish_cycle();
        let left = arena.metrics().total_gc_count();
        if left != 0 {
            return Outcome::Absent(format!("wrong: {left} objects left at the end"));
        }
        black_box(&arena);
        Outcome::Measured(Measured::ms(elapsed))
    }
}

/// The plain traversal of the graph from its roots (see [`plain_traversal`]).
fn plain(graph: &Graph) -> Outcome {
    if graph.roots.is_empty() {
        return Outcome::Absent("no roots: nothing to traverse".to_string());
    }
    let start = Instant::now();
    let reached = black_box(plain_traversal(black_box(&graph.edges), &graph.roots));
    let elapsed = start.elapsed();
    if reached != graph.reachable() {
        return Outcome::Absent("wrong: the traversal disagrees with itself".to_string());
    }
    Outcome::Measured(Measured::ms(elapsed))
}

/// Runs the peer `name` on `graph`.
pub fn run(name: &str, graph: Graph) -> Outcome {
    match name {
        "bacon_rajan_cc" => on_big_stack(move || bacon::run(&graph)),
        "rust-gc" => on_big_stack(move || rustgc::run(&graph)),
        "dumpster" => on_big_stack(move || dumpster_peer::run(&graph)),
        "gc-arena" => arena::run(&graph),
        "plain traversal" => plain(&graph),
        other => Outcome::Absent(format!("no peer named {other}")),
    }
}
