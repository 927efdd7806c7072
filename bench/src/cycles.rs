//! Workload C on lab 03's collector: one full collection (`gc.collect()`) of a graph of pyheap
//! lists, the graph built untimed.

use std::hint::black_box;
use std::time::Instant;

use pyheap::{Heap, ObjId};

use crate::graphs::Graph;
use crate::lab03_impl::Collector;
use crate::output::{Measured, Outcome};

/// Builds `graph` on a new heap: node k is the k-th list made, each edge an `append`; returns the
/// heap and the roots (every other handle is given up).
pub fn build(graph: &Graph) -> (Heap, Vec<ObjId>) {
    let mut heap = Heap::new();
    // No one reads the event log here (CPython keeps none).
    heap.set_event_log(false);
    let nodes: Vec<ObjId> = (0..graph.len()).map(|_| heap.new_list()).collect();
    for (node, out) in nodes.iter().zip(&graph.edges) {
        for &to in out {
            heap.list_append(*node, nodes[to as usize]);
        }
    }
    let roots: Vec<ObjId> = graph.roots.iter().map(|&r| nodes[r as usize]).collect();
    for (k, node) in nodes.into_iter().enumerate() {
        if !graph.roots.contains(&(k as u32)) {
            heap.decref(node);
        }
    }
    (heap, roots)
}

/// Times one full collection of `graph`, then checks what it found and that, once the roots are
/// dropped, a second collection leaves nothing behind.
pub fn collect(graph: &Graph) -> Outcome {
    let (mut heap, roots) = build(graph);
    // What reference counting could not free while the handles were dropped: the garbage left
    // for the collector (all of the graph's garbage, except in d_random, whose garbage is acyclic
    // and so already gone). None and the empty tuple belong to the heap itself.
    let garbage = heap.live_objects() - 2 - graph.reachable();
    let mut gc = Collector::new();
    let start = Instant::now();
    let found = black_box(gc.collect(black_box(&mut heap)));
    let elapsed = start.elapsed();
    if found != garbage {
        return Outcome::Absent(format!(
            "wrong: gc.collect() returned {found}, and the graph has {garbage} garbage objects"
        ));
    }
    for root in roots {
        heap.decref(root);
    }
    gc.collect(&mut heap);
    // None and the empty tuple belong to the heap itself.
    let left = heap.live_objects() - 2;
    if left != 0 {
        return Outcome::Absent(format!("wrong: {left} objects were left alive at the end"));
    }
    Outcome::Measured(Measured::ms(elapsed))
}
