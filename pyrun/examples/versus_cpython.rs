//! How long the interpreter takes on each shipped parity script, next to CPython 3.11 on the
//! same script, measured in the same run, rounds interleaved (the machine is shared: only the
//! ratios of one run mean something).
//!
//! ```text
//! cargo run -p pyrun --example versus_cpython             # a debug build, as `cargo xtask run` uses
//! cargo run --release -p pyrun --example versus_cpython   # optimised
//! ```
//!
//! Both sides are timed without their start-up: the interpreter in this process, from parsing to
//! shutdown (`pyrun::run_captured`); CPython by `runpy.run_path` inside a `python3.11` process,
//! timed by `time.perf_counter()` around it. The output is thrown away on both sides. Prints the
//! five slowest scripts for the interpreter, the median of five rounds each.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use pyrun::{Limits, Side, run_captured};

const ROUNDS: usize = 5;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pyrun is in the workspace")
        .to_path_buf();
    let python = ["python3.11", "python3"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("Python 3.11."))
    });
    let mut scripts: Vec<PathBuf> = Vec::new();
    for folder in [
        "pyheap/parity",
        "labs/03-cycles/parity",
        "labs/04-generations/parity",
        "pyrun/parity",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .expect("a parity folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            .collect();
        found.sort();
        scripts.extend(found);
    }
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut rows = Vec::new();
    for script in &scripts {
        let source = std::fs::read_to_string(script).expect("a script");
        let name = script
            .strip_prefix(&root)
            .unwrap_or(script)
            .display()
            .to_string();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let run = run_captured(&source, &name, Side::Solutions, Limits::default());
            ours.push(start.elapsed().as_secs_f64() * 1e3);
            assert!(run.outcome.status() == 0, "{name}: {:?}", run.outcome);
            if let Some(python) = python {
                theirs.push(cpython_ms(python, script));
            }
        }
        rows.push((median(&mut ours), median(&mut theirs), name));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "{} scripts, median of {ROUNDS} interleaved rounds, interpreter built in {profile}:",
        scripts.len()
    );
    println!(
        "{:>12} {:>12} {:>7}  script",
        "pyrun ms", "CPython ms", "ratio"
    );
    for (ours, theirs, name) in rows.iter().take(5) {
        if theirs.is_nan() {
            println!("{ours:>12.1} {:>12} {:>7}  {name}", "-", "-");
        } else {
            println!("{ours:>12.1} {theirs:>12.1} {:>7.1}  {name}", ours / theirs);
        }
    }
    if python.is_none() {
        println!("(no CPython 3.11 on PATH: its column is empty)");
    }
}

/// CPython's time for `script`, start-up excluded, in milliseconds.
fn cpython_ms(python: &str, script: &Path) -> f64 {
    let program = "import runpy, sys, time, io\n\
                   out = sys.stdout\n\
                   sys.stdout = io.StringIO()\n\
                   start = time.perf_counter()\n\
                   runpy.run_path(sys.argv[1], run_name='__main__')\n\
                   elapsed = time.perf_counter() - start\n\
                   sys.stdout = out\n\
                   print(elapsed * 1000)";
    let output = Command::new(python)
        .arg("-c")
        .arg(program)
        .arg(script)
        .current_dir(script.parent().unwrap_or(Path::new(".")))
        .output()
        .expect("python runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
