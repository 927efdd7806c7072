//! Workload C's graphs (`docs/workloads.md`), as plain data every collector builds from.
//!
//! Node k is the k-th object created; each node's out-edges are pushed in the order listed. A
//! collector builds the nodes in order, then the edges node by node, then lets go of every
//! handle except the roots: the order of the `append`s into one node is the order below, and
//! no collector sees anything else of the order.

use crate::XorShift64;

/// A graph of workload C: who refers to whom, and which nodes the program still holds.
pub struct Graph {
    /// `edges[k]`: node k's out-edges, in order.
    pub edges: Vec<Vec<u32>>,
    /// The nodes the program holds after building (all others are dropped).
    pub roots: Vec<u32>,
}

impl Graph {
    /// The graph `name` (`a_pairs`, `b_ring`, `c_live`, `d_random`) of size `n`.
    pub fn named(name: &str, n: usize) -> Option<Graph> {
        Some(match name {
            "a_pairs" => a_pairs(n),
            "b_ring" => b_ring(n),
            "c_live" => c_live(n),
            "d_random" => d_random(n),
            _ => return None,
        })
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// How many nodes the roots reach (themselves included): what a collection keeps.
    pub fn reachable(&self) -> usize {
        plain_traversal(&self.edges, &self.roots)
    }
}

/// a_pairs(n): for i in 0..n, x = node 2i, y = node 2i+1, x -> y, y -> x. All garbage.
pub fn a_pairs(n: usize) -> Graph {
    let mut edges = Vec::with_capacity(2 * n);
    for i in 0..n as u32 {
        edges.push(vec![2 * i + 1]);
        edges.push(vec![2 * i]);
    }
    Graph {
        edges,
        roots: Vec::new(),
    }
}

/// b_ring(n): node i -> node (i+1) % n. All garbage, one cycle.
pub fn b_ring(n: usize) -> Graph {
    let edges = (0..n).map(|i| vec![((i + 1) % n) as u32]).collect();
    Graph {
        edges,
        roots: Vec::new(),
    }
}

/// c_live(n): node 0 = root R; for i in 0..n create L_i, and when `i % 10 == 0` also a garbage
/// pair x -> y -> x. Edges R -> L_0..L_{n-1}, L_i -> L_{(i+1)%n}. Only R is held.
pub fn c_live(n: usize) -> Graph {
    let mut edges: Vec<Vec<u32>> = vec![Vec::with_capacity(n)];
    let mut live = Vec::with_capacity(n);
    for i in 0..n {
        live.push(edges.len() as u32);
        edges.push(Vec::new());
        if i % 10 == 0 {
            let x = edges.len() as u32;
            edges.push(vec![x + 1]);
            edges.push(vec![x]);
        }
    }
    edges[0].extend_from_slice(&live);
    for i in 0..n {
        edges[live[i] as usize].push(live[(i + 1) % n]);
    }
    Graph {
        edges,
        roots: vec![0],
    }
}

/// d_random(n): n nodes; seed 0x2545F4914F6CDD1D; for i in 0..n, three times: edge
/// i -> `(rng.next_u64() >> 32) % n`. Only node 0 is held.
pub fn d_random(n: usize) -> Graph {
    let mut rng = XorShift64(0x2545_F491_4F6C_DD1D);
    let edges = (0..n)
        .map(|_| {
            (0..3)
                .map(|_| ((rng.next_u64() >> 32) % n as u64) as u32)
                .collect()
        })
        .collect();
    Graph {
        edges,
        roots: vec![0],
    }
}

/// The plain traversal: every node reachable from `roots`, found with an explicit stack and a
/// `Vec<bool>` of marks, over one heap allocation per node (as every collector's objects are).
/// The least work any marking of the graph does. Returns how many nodes it reached.
pub fn plain_traversal(edges: &[Vec<u32>], roots: &[u32]) -> usize {
    let mut marked = vec![false; edges.len()];
    let mut stack: Vec<u32> = Vec::new();
    let mut reached = 0;
    for &root in roots {
        if !marked[root as usize] {
            marked[root as usize] = true;
            reached += 1;
            stack.push(root);
        }
    }
    while let Some(node) = stack.pop() {
        for &to in &edges[node as usize] {
            if !marked[to as usize] {
                marked[to as usize] = true;
                reached += 1;
                stack.push(to);
            }
        }
    }
    reached
}
