//! `gclabs-bench plan`: the cases, as JSON. `gclabs-bench run CASE IMPLEMENTATION [--n N]`: one
//! measurement, printed as one JSON object. `cargo xtask bench` runs both; see the crate docs.

use gclabs_bench::graphs::Graph;
use gclabs_bench::output::Outcome;
use gclabs_bench::plan::OURS;
use gclabs_bench::{alloc_trace, cpython, cycles, generations, peers, plan, refcount, tricolor};

/// The size of workloads C, G, M and P unless `--n` says otherwise.
const N: usize = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(N);
    match args.first().map(String::as_str) {
        Some("plan") => println!("{}", plan::plan()),
        Some("run") if args.len() >= 3 => {
            println!("{}", run(&args[1], &args[2], n).to_json());
        }
        _ => {
            eprintln!(
                "usage: gclabs-bench plan | gclabs-bench run CASE IMPLEMENTATION [--n N] \
                 (cargo xtask bench runs it)"
            );
            std::process::exit(2);
        }
    }
}

/// Runs one implementation of one case.
fn run(case: &str, implementation: &str, n: usize) -> Outcome {
    let Some((workload, name)) = case.split_once('.') else {
        return Outcome::Absent(format!("no case named {case}"));
    };
    let graph = || Graph::named(name, n).expect("a graph of workload C");
    match (workload, implementation) {
        ("R", _) => refcount::run(name, implementation),
        ("A", OURS) => alloc_trace::replay(&mut alloc_trace::Pymalloc(
            gclabs_bench::lab02_impl::pymalloc::PyMalloc::new(),
        )),
        ("A", "glibc") => alloc_trace::replay(&mut alloc_trace::Glibc),
        ("A", "mimalloc") => alloc_trace::replay(&mut alloc_trace::Mimalloc),
        ("A", "CPython obmalloc") => match cpython::Obmalloc::load() {
            Ok(obmalloc) => {
                let version = obmalloc.version.clone();
                match alloc_trace::replay(&mut alloc_trace::Cpython(obmalloc)) {
                    Outcome::Measured(m) => {
                        Outcome::Measured(m.noted(format!("CPython {version}")))
                    }
                    absent => absent,
                }
            }
            Err(why) => Outcome::Absent(why),
        },
        ("C", OURS) => cycles::collect(&graph()),
        ("C", "CPython") => cpython::collect(name, n),
        ("C", peer) => peers::run(peer, graph()),
        ("G", OURS) => generations::run(name, n),
        ("G", "CPython") => cpython::generations(name, n),
        ("M", OURS) => tricolor::mark(&graph()),
        ("M", "gc-arena") => tricolor::arena_mark(&graph()),
        ("M", "plain traversal") => tricolor::plain(&graph()),
        ("M", "flat traversal") => tricolor::flat_traversal(&graph()),
        ("P", OURS) => tricolor::pauses(&graph()),
        ("P", "gc-arena") => tricolor::arena_pauses(&graph()),
        _ => Outcome::Absent(format!("no {implementation} in {case}")),
    }
}
