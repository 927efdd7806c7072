//! Workload G (`docs/workloads.md`): collection while the program allocates, on lab 04's
//! scheduler with thresholds (700, 10, 10) and CPython's free lists: the time spent in the
//! collector, and the longest collection.

use std::time::{Duration, Instant};

use pyheap::{GcLink, Heap, ObjId};

use crate::lab04_impl::Gc;
use crate::output::{Measured, Outcome};

/// Times the calls of the scheduler's hook that may collect: those made when count0 is above
/// threshold 0 (timing every allocation would cost more than the young collections).
struct Timed {
    gc: Gc,
    threshold0: usize,
    spent: Duration,
    longest: Duration,
}

impl GcLink for Timed {
    fn gc_link(&mut self, heap: &mut Heap) {
        if heap.gc_counts()[0] > self.threshold0 {
            let start = Instant::now();
            self.gc.gc_link(heap);
            let pause = start.elapsed();
            self.spent += pause;
            self.longest = self.longest.max(pause);
        } else {
            self.gc.gc_link(heap);
        }
    }
}

/// `root = []; for i in range(n): root.append([])`.
fn grow_live(heap: &mut Heap, gc: &mut dyn GcLink, n: usize) {
    let root = heap.new_list_with(gc);
    for _ in 0..n {
        let item = heap.new_list_with(gc);
        heap.list_append(root, item);
        heap.decref(item);
    }
    heap.decref(root);
}

/// `for i in range(n): a = []; b = [a]; a.append(b)`.
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

/// Runs the program `name` for `n` iterations on the scheduler.
pub fn run(name: &str, n: usize) -> Outcome {
    let program: fn(&mut Heap, &mut dyn GcLink, usize) = match name {
        "grow_live" => grow_live,
        "churn_cycles" => churn_cycles,
        other => return Outcome::Absent(format!("no program named {other}")),
    };
    let gc = Gc::new();
    let threshold0 = usize::try_from(gc.get_threshold()[0]).unwrap_or(0);
    let mut timed = Timed {
        gc,
        threshold0,
        spent: Duration::ZERO,
        longest: Duration::ZERO,
    };
    let mut heap = Heap::with_free_lists();
    // No one reads the event log here (CPython keeps none).
    heap.set_event_log(false);
    program(&mut heap, &mut timed, n);
    #[cfg(feature = "lab04")]
    if let Err(wrong) = same_as_the_reference(program, n, &timed.gc) {
        return Outcome::Absent(wrong);
    }
    let collections: Vec<String> = timed
        .gc
        .get_stats()
        .iter()
        .map(|s| s.collections.to_string())
        .collect();
    Outcome::Measured(
        Measured::ms(timed.spent)
            .with("longest pause (ms)", timed.longest.as_secs_f64() * 1e3)
            .noted(format!("collections {}", collections.join("/"))),
    )
}

/// The same program on the reference, untimed: a learner's scheduler must run the same
/// collections and find the same garbage, since both follow CPython's rules step for step. A
/// scheduler that collected less often, or a collection that found less, would spend less time
/// in the collector and win the table for the wrong reason; this says what differs instead.
#[cfg(feature = "lab04")]
fn same_as_the_reference(
    program: fn(&mut Heap, &mut dyn GcLink, usize),
    n: usize,
    yours: &Gc,
) -> Result<(), String> {
    let mut reference = sol04::Gc::new();
    let mut heap = Heap::with_free_lists();
    heap.set_event_log(false);
    program(&mut heap, &mut reference, n);
    let theirs = reference.get_stats();
    for (generation, (yours, theirs)) in yours.get_stats().iter().zip(&theirs).enumerate() {
        let mine = (yours.collections, yours.collected);
        let expected = (theirs.collections, theirs.collected);
        if mine != expected {
            return Err(format!(
                "wrong: your generation {generation} ran {} collections, which collected {} \
                 objects; on the same program the reference's ran {}, which collected {} \
                 (`cargo xtask grade --lab 4` shows where the two part)",
                mine.0, mine.1, expected.0, expected.1
            ));
        }
    }
    Ok(())
}
