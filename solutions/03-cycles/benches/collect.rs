//! Workload C of `docs/workloads.md` on the reference collector: the time of one full
//! collection (`gc.collect()`), the graph built untimed.
//!
//! Each node is a pyheap list (a tracked container holding a growable list of references), and
//! each edge is an `append`, in the order the workload lists them. After the timed collection,
//! the roots are dropped, the heap is collected again, and every object is checked to be gone:
//! a benchmark of a collector that frees too little or too much would be meaningless.
//!
//! - `two_cycles/1M_objects`: the workload, 1,000,000 objects in 500,000 2-cycles
//!   (`a = []; b = [a]; a.append(b)`), all garbage;
//! - `a_pairs`, `b_ring`, `c_live`, `d_random` at n = 1,000,000, as `docs/workloads.md` defines
//!   them;
//! - two baselines on the same 1,000,000 objects, run in the same process: `traverse_only`
//!   visits every tracked object's references once (the least any tracing pass must do), and
//!   `refcount_free` frees the same objects by reference counting alone (500,000 *acyclic* pairs,
//!   `b = [a]`, then `del`): what the memory would cost to give back without a collector.
//!
//! Run: `cargo bench -p cycles-solution --bench collect`. Quote ratios from one run, never
//! absolute times: the machines are shared. CPython 3.11's time for the same graph:
//! `python3.11 solutions/03-cycles/benches/two_cycles.py`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use cycles::Collector;
use pyheap::{GcList, Heap, ObjId};

/// Workload C's n.
const N: usize = 1_000_000;

/// xorshift64, as docs/workloads.md defines it.
struct XorShift64(u64);

impl XorShift64 {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A built graph: the heap, and the references the program still holds (the roots).
struct Graph {
    heap: Heap,
    roots: Vec<ObjId>,
}

impl Graph {
    /// `count` new lists, each a new reference the caller must give up or keep as a root.
    fn nodes(heap: &mut Heap, count: usize) -> Vec<ObjId> {
        (0..count).map(|_| heap.new_list()).collect()
    }

    /// Gives up every reference in `nodes` except those in `keep`.
    fn finish(mut heap: Heap, nodes: Vec<ObjId>, keep: &[usize]) -> Graph {
        let roots = keep.iter().map(|&i| nodes[i]).collect();
        for (i, node) in nodes.into_iter().enumerate() {
            if !keep.contains(&i) {
                heap.decref(node);
            }
        }
        Graph { heap, roots }
    }
}

/// `objects` objects in 2-cycles: for each pair, `a = []; b = [a]; a.append(b)`.
fn two_cycles(objects: usize) -> Graph {
    let mut heap = Heap::new();
    let nodes = Graph::nodes(&mut heap, objects);
    for pair in nodes.chunks_exact(2) {
        heap.list_append(pair[1], pair[0]);
        heap.list_append(pair[0], pair[1]);
    }
    Graph::finish(heap, nodes, &[])
}

/// a_pairs(n): for i in 0..n, x = node 2i, y = node 2i+1, x -> y, y -> x. All garbage.
fn a_pairs(n: usize) -> Graph {
    let mut heap = Heap::new();
    let nodes = Graph::nodes(&mut heap, 2 * n);
    for pair in nodes.chunks_exact(2) {
        heap.list_append(pair[0], pair[1]);
        heap.list_append(pair[1], pair[0]);
    }
    Graph::finish(heap, nodes, &[])
}

/// b_ring(n): node i -> node (i+1) % n. All garbage, one cycle.
fn b_ring(n: usize) -> Graph {
    let mut heap = Heap::new();
    let nodes = Graph::nodes(&mut heap, n);
    for i in 0..n {
        heap.list_append(nodes[i], nodes[(i + 1) % n]);
    }
    Graph::finish(heap, nodes, &[])
}

/// c_live(n): root R; L_0..L_{n-1}, with a garbage pair x <-> y made after every tenth L_i;
/// R -> each L_i, L_i -> L_{(i+1)%n}. Only R is held.
fn c_live(n: usize) -> Graph {
    let mut heap = Heap::new();
    let root = heap.new_list();
    let mut live = Vec::with_capacity(n);
    let mut garbage = Vec::new();
    for i in 0..n {
        live.push(heap.new_list());
        if i % 10 == 0 {
            let (x, y) = (heap.new_list(), heap.new_list());
            heap.list_append(x, y);
            heap.list_append(y, x);
            garbage.extend([x, y]);
        }
    }
    for &l in &live {
        heap.list_append(root, l);
    }
    for i in 0..n {
        heap.list_append(live[i], live[(i + 1) % n]);
    }
    for node in live.into_iter().chain(garbage) {
        heap.decref(node);
    }
    Graph {
        heap,
        roots: vec![root],
    }
}

/// d_random(n): n nodes; for i in 0..n, three edges i -> (rng.next() >> 32) % n, seed
/// 0x2545F4914F6CDD1D. Only node 0 is held.
fn d_random(n: usize) -> Graph {
    let mut heap = Heap::new();
    let nodes = Graph::nodes(&mut heap, n);
    let mut rng = XorShift64(0x2545_F491_4F6C_DD1D);
    for &node in &nodes {
        for _ in 0..3 {
            let to = ((rng.next() >> 32) % n as u64) as usize;
            heap.list_append(node, nodes[to]);
        }
    }
    Graph::finish(heap, nodes, &[0])
}

/// Builds a graph, times one full collection, then drops the roots, collects again and checks
/// that every object the graph made is gone. Returns the collection's time.
fn time_collection(build: fn() -> Graph) -> Duration {
    let Graph { mut heap, roots } = build();
    let mut gc = Collector::new();
    let start = Instant::now();
    black_box(gc.collect(black_box(&mut heap)));
    let elapsed = start.elapsed();
    for root in roots {
        heap.decref(root);
    }
    gc.collect(&mut heap);
    // None and the empty tuple are the heap's own.
    assert_eq!(heap.live_objects(), 2, "the collector left objects behind");
    elapsed
}

/// Baseline: visit every tracked object's references once, the least work a pass over the
/// whole graph can do.
fn time_traverse_only() -> Duration {
    let Graph { heap, .. } = two_cycles(N);
    let start = Instant::now();
    let mut visited = 0usize;
    let mut cursor = heap.gc_list_first(GcList::GEN0);
    while let Some(id) = cursor {
        heap.traverse(id, |referent| visited += referent.index() & 1);
        cursor = heap.gc_list_next(id);
    }
    black_box(visited);
    start.elapsed()
}

/// Baseline: free the same number of objects by reference counting alone (acyclic pairs,
/// `b = [a]`, each pair held by one reference to `b` that is then given up).
fn time_refcount_free() -> Duration {
    let mut heap = Heap::new();
    let mut holders = Vec::with_capacity(N / 2);
    for _ in 0..N / 2 {
        let a = heap.new_list();
        let b = heap.new_list();
        heap.list_append(b, a);
        heap.decref(a);
        holders.push(b);
    }
    let start = Instant::now();
    for b in holders {
        heap.decref(b);
    }
    let elapsed = start.elapsed();
    assert_eq!(
        heap.live_objects(),
        2,
        "reference counting left objects behind"
    );
    elapsed
}

/// Runs `one` once per iteration criterion asks for, summing the measured times.
fn per_iteration(iters: u64, one: impl Fn() -> Duration) -> Duration {
    (0..iters).map(|_| one()).sum()
}

fn collect(c: &mut Criterion) {
    let mut group = c.benchmark_group("collect");
    group.sample_size(10);
    group.bench_function("two_cycles/1M_objects", |b| {
        b.iter_custom(|iters| per_iteration(iters, || time_collection(|| two_cycles(N))))
    });
    group.bench_function("baseline/traverse_only/1M_objects", |b| {
        b.iter_custom(|iters| per_iteration(iters, time_traverse_only))
    });
    group.bench_function("baseline/refcount_free/1M_objects", |b| {
        b.iter_custom(|iters| per_iteration(iters, time_refcount_free))
    });
    group.bench_function("a_pairs/1M", |b| {
        b.iter_custom(|iters| per_iteration(iters, || time_collection(|| a_pairs(N))))
    });
    group.bench_function("b_ring/1M", |b| {
        b.iter_custom(|iters| per_iteration(iters, || time_collection(|| b_ring(N))))
    });
    group.bench_function("c_live/1M", |b| {
        b.iter_custom(|iters| per_iteration(iters, || time_collection(|| c_live(N))))
    });
    group.bench_function("d_random/1M", |b| {
        b.iter_custom(|iters| per_iteration(iters, || time_collection(|| d_random(N))))
    });
    group.finish();
}

criterion_group!(benches, collect);
criterion_main!(benches);
