//! What generations save, measured: workload G of `docs/workloads.md` (grow_live and
//! churn_cycles), run with your scheduler, with the reference's, with a scheduler that collects
//! everything every time, and in CPython when `python3` is there.
//!
//! `cargo run --release -p generations --example scheduler_work [iterations]` (the grader runs
//! it after the tests, and shows it as "Measured, not graded"). The default is 200,000
//! iterations, a fifth of the workload's 1,000,000, so that collecting everything every time
//! finishes in seconds: on grow_live it examines 28 million objects at 200,000 iterations and
//! 713 million at 1,000,000 (about 90 s). Pass `1000000` for the whole workload.
//!
//! - **grow_live**: `root.append([])`: every list survives.
//! - **churn_cycles**: `a = []; b = [a]; a.append(b)`: two lists per iteration, garbage at once.
//!
//! Each program runs on a new heap with CPython's free lists, every allocation going through
//! the scheduler's hook, thresholds (700, 10, 10). For each scheduler the table shows how many
//! collections of each generation ran, how many objects they examined (the length of the
//! generation collected once the younger ones were merged into it: what a collection's time is
//! proportional to), the time spent in collections and the whole run's time.
//!
//! "collect everything" starts a collection at the same moments (count0 above 700) but always
//! collects generation 2: a collector without generations. Its examined count grows with the
//! square of the program's size on grow_live.
//!
//! CPython's row runs the same loop in `python3` and measures the time between each collection's
//! `"start"` and `"stop"` callbacks (`gc.callbacks`), so it includes the callbacks' own small
//! cost; CPython cannot say how many objects it examined. Compare ratios measured in the same
//! run, never absolute times from another day: the machine is shared and noisy.

use std::panic::{self, AssertUnwindSafe};
use std::process::Command;
use std::time::{Duration, Instant};

use pyheap::{GcLink, Heap};

/// The iterations of each program, unless given on the command line (see the module docs).
const ITERATIONS: usize = 200_000;

/// What one run measured.
struct Run {
    /// Collections of generations 0, 1 and 2.
    collections: [usize; 3],
    /// Objects examined, in all.
    examined: Option<usize>,
    /// Time spent in collections.
    in_collections: Duration,
    /// The whole run.
    whole: Duration,
}

/// Times the calls of an inner hook that may collect: those made when count0 is above
/// threshold 0, the only ones that can start a collection (timing every allocation would cost
/// more than some collections).
struct Timed<'a> {
    inner: &'a mut dyn GcLink,
    threshold0: i64,
    spent: Duration,
}

impl GcLink for Timed<'_> {
    fn gc_link(&mut self, heap: &mut Heap) {
        if heap.gc_counts()[0] as i64 > self.threshold0 {
            let start = Instant::now();
            self.inner.gc_link(heap);
            self.spent += start.elapsed();
        } else {
            self.inner.gc_link(heap);
        }
    }
}

/// A collector without generations: when count0 is above 700, a full collection (the
/// reference's), every time.
struct CollectEverything {
    gc: reference::Gc,
}

impl GcLink for CollectEverything {
    fn gc_link(&mut self, heap: &mut Heap) {
        if heap.gc_counts()[0] > 700 && !self.gc.is_collecting() {
            self.gc
                .collect(heap, 2)
                .expect("generation 2 is a generation");
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
    let mut names: Option<(pyheap::ObjId, pyheap::ObjId)> = None;
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

/// Runs `program` with `hook`, timing the collections; `stats` reads the collections and the
/// objects examined afterwards.
fn measure<G: GcLink>(
    program: Program,
    n: usize,
    mut hook: G,
    threshold0: i64,
    stats: impl Fn(&G) -> ([usize; 3], usize),
) -> Run {
    let mut heap = Heap::with_free_lists();
    let start = Instant::now();
    let spent = {
        let mut timed = Timed {
            inner: &mut hook,
            threshold0,
            spent: Duration::ZERO,
        };
        program(&mut heap, &mut timed, n);
        timed.spent
    };
    let whole = start.elapsed();
    let (collections, examined) = stats(&hook);
    Run {
        collections,
        examined: Some(examined),
        in_collections: spent,
        whole,
    }
}

/// Your scheduler's run, or why there is none.
fn yours(program: Program, n: usize) -> Result<Run, String> {
    let run = panic::catch_unwind(AssertUnwindSafe(|| {
        let gc = generations::Gc::new();
        let threshold0 = i64::from(gc.get_threshold()[0]);
        measure(program, n, gc, threshold0, |gc| {
            let stats = gc.get_stats();
            (
                stats.map(|s| s.collections),
                stats.iter().map(|s| s.examined).sum(),
            )
        })
    }));
    run.map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        if message.contains("not yet implemented") {
            "not started (a todo!() is left)".to_string()
        } else {
            format!("panicked: {message}")
        }
    })
}

fn reference_run(program: Program, n: usize) -> Run {
    let gc = reference::Gc::new();
    let threshold0 = i64::from(gc.get_threshold()[0]);
    measure(program, n, gc, threshold0, |gc| {
        let stats = gc.get_stats();
        (
            stats.map(|s| s.collections),
            stats.iter().map(|s| s.examined).sum(),
        )
    })
}

fn everything_run(program: Program, n: usize) -> Run {
    let hook = CollectEverything {
        gc: reference::Gc::new(),
    };
    measure(program, n, hook, 700, |hook| {
        let stats = hook.gc.get_stats();
        (
            stats.map(|s| s.collections),
            stats.iter().map(|s| s.examined).sum(),
        )
    })
}

/// CPython's script: both programs, each after a full collection, timed by callbacks.
const CPYTHON: &str = r#"
import gc, sys, time
n = int(sys.argv[1])
def run(name):
    gc.collect()
    counts = [0, 0, 0]
    spent = [0.0, 0.0]
    def cb(phase, info):
        if phase == "start":
            spent[1] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - spent[1]
            counts[info["generation"]] += 1
    gc.callbacks.append(cb)
    start = time.perf_counter()
    if name == "grow_live":
        root = []
        for i in range(n):
            root.append([])
        del root
    else:
        for i in range(n):
            a = []
            b = [a]
            a.append(b)
        del a, b
    whole = time.perf_counter() - start
    gc.callbacks.remove(cb)
    print(name, counts[0], counts[1], counts[2], spent[0], whole)
print(sys.version.split()[0])
run("grow_live")
run("churn_cycles")
"#;

/// Runs CPython, if `python3` is there: its version, and a run per program name.
fn cpython(n: usize) -> Result<(String, Vec<(String, Run)>), String> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(CPYTHON)
        .arg(n.to_string())
        .output()
        .map_err(|e| format!("python3 could not be run ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("?").to_string();
    let mut runs = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, c0, c1, c2, spent, whole] = fields[..] else {
            return Err(format!("unexpected line from python3: {line}"));
        };
        let number = |s: &str| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        let seconds = |s: &str| {
            s.parse::<f64>()
                .map(Duration::from_secs_f64)
                .map_err(|e| format!("{s}: {e}"))
        };
        runs.push((
            name.to_string(),
            Run {
                collections: [number(c0)?, number(c1)?, number(c2)?],
                examined: None,
                in_collections: seconds(spent)?,
                whole: seconds(whole)?,
            },
        ));
    }
    Ok((version, runs))
}

fn row(label: &str, run: &Result<Run, String>) {
    match run {
        Ok(run) => println!(
            "    {label:<22} {:>16} {:>14} {:>11.1} ms {:>10.1} ms",
            format!(
                "{}/{}/{}",
                run.collections[0], run.collections[1], run.collections[2]
            ),
            run.examined.map_or("-".to_string(), |e| e.to_string()),
            run.in_collections.as_secs_f64() * 1e3,
            run.whole.as_secs_f64() * 1e3,
        ),
        Err(why) => println!("    {label:<22} {why}"),
    }
}

fn main() {
    // A todo!() in your crate is reported in the table, not as a panic message on stderr.
    panic::set_hook(Box::new(|_| {}));
    let n = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(ITERATIONS);
    if cfg!(debug_assertions) {
        println!("(a debug build: times are not meaningful; use --release)");
    }
    println!(
        "workload G (docs/workloads.md), {n} iterations, thresholds (700, 10, 10), free lists:"
    );
    println!(
        "    {:<22} {:>16} {:>14} {:>14} {:>13}",
        "", "collections 0/1/2", "examined", "in collections", "whole run"
    );
    let python = cpython(n);
    let programs: [(&str, Program); 2] = [("grow_live", grow_live), ("churn_cycles", churn_cycles)];
    for (name, program) in programs {
        println!("  {name}");
        row("yours", &yours(program, n));
        row("reference", &Ok(reference_run(program, n)));
        row("collect everything", &Ok(everything_run(program, n)));
        match &python {
            Ok((version, runs)) => {
                let run = runs
                    .iter()
                    .find(|(program, _)| program == name)
                    .map(|(_, run)| run)
                    .ok_or_else(|| "no result".to_string());
                match run {
                    Ok(run) => row(
                        &format!("CPython {version}"),
                        &Ok(Run {
                            collections: run.collections,
                            examined: None,
                            in_collections: run.in_collections,
                            whole: run.whole,
                        }),
                    ),
                    Err(why) => row("CPython", &Err(why)),
                }
            }
            Err(why) => row("CPython", &Err(why.clone())),
        }
    }
}
