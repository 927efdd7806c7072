//! The maintainers' measurements for the lab 04 chapter (`book/src/04-generations/measured.md`),
//! on the reference scheduler, with CPython's free lists and thresholds (700, 10, 10):
//!
//! 1. the generational hypothesis on workload G: for each generation, how many objects its
//!    collections examined and how many of those they found to be garbage;
//! 2. the long-lived rule on grow_live at growing sizes: the objects examined by all the
//!    collections, with the rule and without it (the rule switched off by keeping
//!    `long_lived_total` at 0, so that every full collection the counts ask for runs), and the
//!    time in collections.
//!
//! `cargo run --release -p generations-solution --example long_lived`
//!
//! The examined counts are exact and the same on every machine; the times are not (compare
//! them within one run).

use std::time::{Duration, Instant};

use generations::Gc;
use pyheap::{GcLink, Heap, ObjId};

/// The reference's scheduler, optionally with the long-lived rule switched off, timing the
/// calls that may collect.
struct Scheduler {
    gc: Gc,
    rule: bool,
    spent: Duration,
}

impl GcLink for Scheduler {
    fn gc_link(&mut self, heap: &mut Heap) {
        if !self.rule {
            self.gc.long_lived_total = 0;
        }
        if heap.gc_counts()[0] > 700 {
            let start = Instant::now();
            self.gc.gc_link(heap);
            self.spent += start.elapsed();
        } else {
            self.gc.gc_link(heap);
        }
    }
}

fn grow_live(heap: &mut Heap, gc: &mut dyn GcLink, n: usize) {
    let root = heap.new_list_with(gc);
    for _ in 0..n {
        let item = heap.new_list_with(gc);
        heap.list_append(root, item);
        heap.decref(item);
    }
    heap.decref(root);
}

fn churn_cycles(heap: &mut Heap, gc: &mut dyn GcLink, n: usize) {
    let mut names: Option<(ObjId, ObjId)> = None;
    for _ in 0..n {
        let a = heap.new_list_with(gc);
        if let Some((old_a, _)) = names {
            heap.decref(old_a);
        }
        let b = heap.new_list_with(gc);
        heap.list_append(b, a);
        if let Some((_, old_b)) = names {
            heap.decref(old_b);
        }
        heap.list_append(a, b);
        names = Some((a, b));
    }
    if let Some((a, b)) = names {
        heap.decref(a);
        heap.decref(b);
    }
}

type Program = fn(&mut Heap, &mut dyn GcLink, usize);

fn run(program: Program, n: usize, rule: bool) -> Scheduler {
    let mut heap = Heap::with_free_lists();
    let mut scheduler = Scheduler {
        gc: Gc::new(),
        rule,
        spent: Duration::ZERO,
    };
    program(&mut heap, &mut scheduler, n);
    scheduler
}

fn main() {
    println!("1. workload G, 1,000,000 iterations: what each generation's collections examined");
    let programs: [(&str, Program); 2] = [("grow_live", grow_live), ("churn_cycles", churn_cycles)];
    for (name, program) in programs {
        let scheduler = run(program, 1_000_000, true);
        println!("  {name}");
        for (g, stats) in scheduler.gc.get_stats().iter().enumerate() {
            let share = if stats.examined == 0 {
                0.0
            } else {
                100.0 * stats.collected as f64 / stats.examined as f64
            };
            println!(
                "    generation {g}: {:>5} collections examined {:>9} objects, found {:>9} \
                 garbage ({share:.1}%)",
                stats.collections, stats.examined, stats.collected
            );
        }
    }
    println!();
    println!(
        "2. grow_live with and without the long-lived rule: objects examined, time in collections"
    );
    println!(
        "  {:>10} {:>14} {:>10} {:>10} {:>14} {:>10} {:>10}",
        "iterations", "with the rule", "full", "ms", "without", "full", "ms"
    );
    for n in [250_000, 500_000, 1_000_000, 2_000_000, 4_000_000] {
        let with = run(grow_live, n, true);
        let without = run(grow_live, n, false);
        let total = |s: &Scheduler| s.gc.get_stats().iter().map(|g| g.examined).sum::<usize>();
        let full = |s: &Scheduler| s.gc.get_stats()[2].collections;
        println!(
            "  {n:>10} {:>14} {:>10} {:>10.0} {:>14} {:>10} {:>10.0}",
            total(&with),
            full(&with),
            with.spent.as_secs_f64() * 1e3,
            total(&without),
            full(&without),
            without.spent.as_secs_f64() * 1e3,
        );
    }
}
