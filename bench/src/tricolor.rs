//! Workloads M and P on lab 05's collector: marking `c_live` with the program stopped (M), and
//! the longest step of incremental marking with a budget of 1,000 units while the program runs
//! (P); beside gc-arena and the plain traversals of the same graph.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::graphs::{Graph, plain_traversal};
use crate::lab05_impl::{Barrier, Heap, ObjId};
use crate::output::{Measured, Outcome};

/// A step's budget, in units of work.
pub const BUDGET: usize = 1000;

/// The CPU time this thread has used so far (`CLOCK_THREAD_CPUTIME_ID`).
///
/// A pause is timed on this clock as well as on the wall clock: on a shared machine the scheduler
/// takes the core away for a tick (4 ms here) whenever other programs want it, and the wall clock
/// counts that as part of whichever step was running. The thread's CPU time counts only the work
/// the step did.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call, and CLOCK_THREAD_CPUTIME_ID is
    // a clock every Linux since 2.6.12 has.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// One pause, on both clocks.
#[derive(Clone, Copy)]
struct Pause {
    cpu: Duration,
    wall: Duration,
}

impl Pause {
    /// Runs `work`, timing it on both clocks.
    fn time<T>(work: impl FnOnce() -> T) -> (T, Pause) {
        let (cpu, wall) = (thread_cpu_time(), Instant::now());
        let value = work();
        let pause = Pause {
            wall: wall.elapsed(),
            cpu: thread_cpu_time().saturating_sub(cpu),
        };
        (value, pause)
    }
}

/// The longest pause in CPU time, with its median and 99th percentile and the longest on the wall
/// clock beside it.
fn pauses_measured(pauses: &[Pause]) -> Measured {
    let mut cpu: Vec<Duration> = pauses.iter().map(|p| p.cpu).collect();
    cpu.sort();
    let wall = pauses.iter().map(|p| p.wall).max().unwrap_or_default();
    let at = |q: usize| cpu.get(cpu.len() * q / 100).copied().unwrap_or_default();
    Measured::ms(cpu.last().copied().unwrap_or_default())
        .with("99th percentile (ms)", at(99).as_secs_f64() * 1e3)
        .with("median step (ms)", at(50).as_secs_f64() * 1e3)
        .with("longest, wall clock (ms)", wall.as_secs_f64() * 1e3)
        .with("steps", pauses.len() as f64)
}

/// `graph` on a new heap with `barrier`; only its roots stay roots.
fn build(graph: &Graph, barrier: Barrier) -> Result<Heap, String> {
    let mut heap = Heap::new(barrier);
    let ids: Vec<ObjId> = (0..graph.len()).map(|_| heap.new_list("")).collect();
    for (id, out) in ids.iter().zip(&graph.edges) {
        for &to in out {
            heap.append(*id, ids[to as usize])
                .map_err(|e| e.to_string())?;
        }
    }
    // The new lists are the heap's roots, the first made at the bottom: keep node 0 (R) only.
    for _ in 1..graph.len() {
        heap.pop_root().map_err(|e| e.to_string())?;
    }
    Ok(heap)
}

/// M: `mark()` after `start_cycle()`, timed alone, on `c_live`.
pub fn mark(graph: &Graph) -> Outcome {
    let run = || -> Result<Measured, String> {
        let mut heap = build(graph, Barrier::None)?;
        heap.start_cycle().map_err(|e| e.to_string())?;
        let start = Instant::now();
        heap.mark();
        let elapsed = start.elapsed();
        let stats = heap.finish_cycle().map_err(|e| e.to_string())?;
        if stats.marked != graph.reachable() {
            return Err(format!(
                "wrong: {} marked, {} reachable",
                stats.marked,
                graph.reachable()
            ));
        }
        Ok(Measured::ms(elapsed))
    };
    run().map_or_else(Outcome::Absent, Outcome::Measured)
}

/// P: incremental marking in steps of [`BUDGET`] units under Dijkstra's barrier, the program
/// running between the steps as in the lab's `tricolor_pauses` (it keeps the 10 objects it made
/// last in its roots, drops the 10 before, and moves one item of R to R's end): the longest step.
pub fn pauses(graph: &Graph) -> Outcome {
    let run = || -> Result<Measured, String> {
        let mut heap = build(graph, Barrier::Dijkstra)?;
        let root = heap.roots()[0];
        heap.start_cycle().map_err(|e| e.to_string())?;
        let mut pauses: Vec<Pause> = Vec::new();
        let mut k = 0;
        while !heap.worklist().is_empty() {
            let (done, pause) = Pause::time(|| heap.step(BUDGET));
            done.map_err(|e| e.to_string())?;
            pauses.push(pause);
            if k > 0 {
                for _ in 0..10 {
                    heap.pop_root().map_err(|e| e.to_string())?;
                }
            }
            for _ in 0..10 {
                heap.new_object("");
            }
            if let Some(moved) = heap.item(root, k).map_err(|e| e.to_string())? {
                heap.push_root(moved).map_err(|e| e.to_string())?;
                heap.append(root, moved).map_err(|e| e.to_string())?;
                heap.set_item(root, k, None).map_err(|e| e.to_string())?;
                heap.pop_root().map_err(|e| e.to_string())?;
            }
            k += 1;
        }
        let ((), final_pause) = Pause::time(|| heap.final_pause());
        pauses.push(final_pause);
        heap.finish_cycle().map_err(|e| e.to_string())?;
        Ok(pauses_measured(&pauses))
    };
    run().map_or_else(Outcome::Absent, Outcome::Measured)
}

/// The graph as two flat arrays (offsets and targets), traversed with an explicit stack: the
/// floor of the lab's `tricolor_pauses`.
pub fn flat_traversal(graph: &Graph) -> Outcome {
    let mut offsets = Vec::with_capacity(graph.len() + 1);
    let mut targets = Vec::new();
    for out in &graph.edges {
        offsets.push(targets.len() as u32);
        targets.extend_from_slice(out);
    }
    offsets.push(targets.len() as u32);
    let start = Instant::now();
    let mut marked = vec![false; graph.len()];
    let mut stack: Vec<u32> = graph.roots.clone();
    let mut reached = 0usize;
    for &root in &graph.roots {
        marked[root as usize] = true;
        reached += 1;
    }
    while let Some(node) = stack.pop() {
        let (from, to) = (
            offsets[node as usize] as usize,
            offsets[node as usize + 1] as usize,
        );
        for &target in &targets[from..to] {
            if !marked[target as usize] {
                marked[target as usize] = true;
                reached += 1;
                stack.push(target);
            }
        }
    }
    let elapsed = start.elapsed();
    black_box(&marked);
    if reached != graph.reachable() {
        return Outcome::Absent("wrong: the traversal disagrees".to_string());
    }
    Outcome::Measured(Measured::ms(elapsed))
}

/// The plain traversal over one allocation per node (as in workload C).
pub fn plain(graph: &Graph) -> Outcome {
    let start = Instant::now();
    let reached = black_box(plain_traversal(black_box(&graph.edges), &graph.roots));
    let elapsed = start.elapsed();
    if reached != graph.reachable() {
        return Outcome::Absent("wrong: the traversal disagrees".to_string());
    }
    Outcome::Measured(Measured::ms(elapsed))
}

/// gc-arena: the marking of the graph alone (`finish_marking()` from sleep).
pub fn arena_mark(graph: &Graph) -> Outcome {
    let mut arena = crate::peers::arena::build(graph);
    let start = Instant::now();
    let marked = arena.finish_marking().is_some();
    let elapsed = start.elapsed();
    if !marked {
        return Outcome::Absent("wrong: gc-arena did not finish marking".to_string());
    }
    arena.finish_cycle();
    if arena.metrics().total_gc_count() != graph.reachable() {
        return Outcome::Absent("wrong: gc-arena kept another number of objects".to_string());
    }
    Outcome::Measured(Measured::ms(elapsed))
}

/// gc-arena's paced collection: the program allocates 10 nodes an iteration and lets go of them
/// at once, and `collect_debt()` runs after each iteration, doing as much work as the allocation
/// paid for, until one whole cycle (marking and sweeping the graph) is done: the longest call.
pub fn arena_pauses(graph: &Graph) -> Outcome {
    use gc_arena::arena::CollectionPhase;
    let mut arena = crate::peers::arena::build(graph);
    let mut pauses: Vec<Pause> = Vec::new();
    let mut started = false;
    for _ in 0..50_000_000usize {
        arena.mutate(|mc, _| {
            for _ in 0..10 {
                black_box(gc_arena::Gc::new(
                    mc,
                    gc_arena::RefLock::new(crate::peers::arena::Node(Vec::new())),
                ));
            }
        });
        let ((), pause) = Pause::time(|| arena.collect_debt());
        pauses.push(pause);
        match arena.collection_phase() {
            CollectionPhase::Sleeping if started => break,
            CollectionPhase::Sleeping => {}
            _ => started = true,
        }
    }
    if !started {
        return Outcome::Absent("gc-arena never started a cycle".to_string());
    }
    Outcome::Measured(
        pauses_measured(&pauses).noted("default pacing, collect_debt() after every 10 allocations"),
    )
}
