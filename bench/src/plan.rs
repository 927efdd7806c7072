//! The cases `cargo xtask bench` runs: for each, its lab, what is measured and in which unit, the
//! implementations that take part (the lab's own first), and the targets of issue 17.

use serde_json::{Value, json};

/// One implementation in a case: its name (what `run` is given), and the binary that runs it.
struct Part {
    name: &'static str,
    binary: &'static str,
}

const MAIN: &str = "gclabs-bench";

const fn part(name: &'static str) -> Part {
    Part { name, binary: MAIN }
}

/// A target: the lab's implementation against one of the others, or against a number.
enum Target {
    /// `ours / peer` at most this.
    Ratio(&'static str, f64, &'static str),
    /// An extra number of ours at most this.
    Extra(&'static str, f64, &'static str),
    /// The value of ours at most this.
    Value(f64, &'static str),
}

struct Case {
    id: &'static str,
    lab: u32,
    title: &'static str,
    unit: &'static str,
    parts: Vec<Part>,
    targets: Vec<Target>,
}

/// The name of the lab's own implementation in every case.
pub const OURS: &str = "ours";

fn cases() -> Vec<Case> {
    let graph_parts = || {
        vec![
            part(OURS),
            part("CPython"),
            part("gc-arena"),
            part("bacon_rajan_cc"),
            part("rust-gc"),
            part("dumpster"),
            part("plain traversal"),
        ]
    };
    let rust_peers = |cpython: f64| {
        vec![
            Target::Ratio("CPython", cpython, "at least 2.5x faster than CPython"),
            Target::Ratio("gc-arena", 1.0, "ahead of gc-arena"),
            Target::Ratio("bacon_rajan_cc", 1.0, "ahead of bacon_rajan_cc"),
            Target::Ratio("rust-gc", 1.0, "ahead of rust-gc"),
            Target::Ratio("dumpster", 1.0, "ahead of dumpster"),
        ]
    };
    vec![
        Case {
            id: "R.clone_drop",
            lab: 1,
            title: "Rc clone + drop",
            unit: "ns/op",
            parts: vec![
                part(OURS),
                part("std Rc"),
                part("std Arc"),
                part("std Arc, 2 threads"),
            ],
            targets: vec![Target::Ratio("std Rc", 1.05, "within 1.05x of std's Rc")],
        },
        Case {
            id: "R.new_drop",
            lab: 1,
            title: "Rc::new(42u64) + drop (glibc's malloc)",
            unit: "ns/op",
            parts: vec![part(OURS), part("std Rc"), part("std Arc")],
            targets: vec![Target::Ratio("std Rc", 1.05, "within 1.05x of std's Rc")],
        },
        Case {
            id: "A.trace",
            lab: 2,
            title: "allocation trace, steady churn (10,000,000 operations)",
            unit: "ns/op",
            parts: vec![
                part(OURS),
                part("CPython obmalloc"),
                part("glibc"),
                part("mimalloc"),
            ],
            targets: vec![
                Target::Ratio("CPython obmalloc", 1.0, "faster than CPython's pymalloc"),
                Target::Ratio("glibc", 1.0, "faster than glibc"),
                Target::Ratio("mimalloc", 1.3, "within 1.3x of mimalloc"),
                Target::Extra(
                    "resident left after freeing all (MiB)",
                    1.0,
                    "at most one empty arena kept (<= 1 MiB resident above the baseline)",
                ),
            ],
        },
        Case {
            id: "A.global_rc",
            lab: 2,
            title: "#[global_allocator]: Rc::new(42u64) + drop",
            unit: "ns/op",
            parts: vec![
                Part {
                    name: OURS,
                    binary: "gclabs-bench-global-pymalloc",
                },
                Part {
                    name: "glibc",
                    binary: "gclabs-bench-global-system",
                },
                Part {
                    name: "mimalloc",
                    binary: "gclabs-bench-global-mimalloc",
                },
            ],
            targets: vec![Target::Ratio("glibc", 1.0, "faster than glibc")],
        },
        Case {
            id: "A.global_rc_2threads",
            lab: 2,
            title: "#[global_allocator]: Rc::new(42u64) + drop on 2 threads at once (per thread)",
            unit: "ns/op",
            parts: vec![
                Part {
                    name: OURS,
                    binary: "gclabs-bench-global-pymalloc",
                },
                Part {
                    name: "glibc",
                    binary: "gclabs-bench-global-system",
                },
                Part {
                    name: "mimalloc",
                    binary: "gclabs-bench-global-mimalloc",
                },
            ],
            targets: vec![Target::Ratio("glibc", 1.0, "faster than glibc")],
        },
        Case {
            id: "A.global_trace",
            lab: 2,
            title: "#[global_allocator]: the allocation trace through std::alloc",
            unit: "ns/op",
            parts: vec![
                Part {
                    name: OURS,
                    binary: "gclabs-bench-global-pymalloc",
                },
                Part {
                    name: "glibc",
                    binary: "gclabs-bench-global-system",
                },
                Part {
                    name: "mimalloc",
                    binary: "gclabs-bench-global-mimalloc",
                },
            ],
            targets: vec![Target::Ratio("glibc", 1.0, "faster than glibc")],
        },
        Case {
            id: "C.a_pairs",
            lab: 3,
            title: "a_pairs(n): one full collection, all garbage",
            unit: "ms",
            parts: graph_parts(),
            targets: rust_peers(0.4),
        },
        Case {
            id: "C.b_ring",
            lab: 3,
            title: "b_ring(n): one full collection, all garbage",
            unit: "ms",
            parts: graph_parts(),
            targets: rust_peers(0.4),
        },
        Case {
            id: "C.c_live",
            lab: 3,
            title: "c_live(n): one full collection, a live ring and garbage pairs",
            unit: "ms",
            parts: graph_parts(),
            targets: rust_peers(0.4),
        },
        Case {
            id: "C.d_random",
            lab: 3,
            title: "d_random(n): one full collection, three random edges a node",
            unit: "ms",
            parts: graph_parts(),
            targets: vec![Target::Ratio(
                "plain traversal",
                2.0,
                "within 2x of the plain traversal",
            )],
        },
        Case {
            id: "G.grow_live",
            lab: 4,
            title: "grow_live, n iterations, thresholds (700, 10, 10): time in the collector",
            unit: "ms",
            parts: vec![part(OURS), part("CPython")],
            targets: vec![Target::Ratio(
                "CPython",
                1.0 / 3.0,
                "under a third of CPython's time",
            )],
        },
        Case {
            id: "G.churn_cycles",
            lab: 4,
            title: "churn_cycles, n iterations, thresholds (700, 10, 10): time in the collector",
            unit: "ms",
            parts: vec![part(OURS), part("CPython")],
            targets: vec![Target::Ratio(
                "CPython",
                1.0 / 3.0,
                "under a third of CPython's time",
            )],
        },
        Case {
            id: "M.c_live",
            lab: 5,
            title: "mark c_live(n) with the program stopped",
            unit: "ms",
            parts: vec![
                part(OURS),
                part("gc-arena"),
                part("plain traversal"),
                part("flat traversal"),
            ],
            targets: vec![Target::Ratio(
                "plain traversal",
                2.0,
                "within 2x of the plain traversal",
            )],
        },
        Case {
            id: "P.c_live",
            lab: 5,
            title: "longest pause of incremental marking of c_live(n), budget 1,000, in the thread's CPU time",
            unit: "ms",
            parts: vec![part(OURS), part("gc-arena")],
            targets: vec![Target::Value(0.1, "under 0.1 ms")],
        },
    ]
}

/// The plan as JSON: one object per case.
pub fn plan() -> Value {
    let cases: Vec<Value> = cases()
        .into_iter()
        .map(|case| {
            let parts: Vec<Value> = case
                .parts
                .iter()
                .map(|p| json!({ "name": p.name, "binary": p.binary }))
                .collect();
            let targets: Vec<Value> = case
                .targets
                .iter()
                .map(|t| match t {
                    Target::Ratio(peer, at_most, text) => {
                        json!({ "kind": "ratio", "peer": peer, "at_most": at_most, "text": text })
                    }
                    Target::Extra(name, at_most, text) => {
                        json!({ "kind": "extra", "name": name, "at_most": at_most, "text": text })
                    }
                    Target::Value(at_most, text) => {
                        json!({ "kind": "value", "at_most": at_most, "text": text })
                    }
                })
                .collect();
            json!({
                "id": case.id,
                "lab": case.lab,
                "side": crate::side(case.lab),
                "title": case.title,
                "unit": case.unit,
                "implementations": parts,
                "targets": targets,
            })
        })
        .collect();
    json!(cases)
}
