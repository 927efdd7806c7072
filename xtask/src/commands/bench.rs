//! `cargo xtask bench`: the labs' workloads (`docs/workloads.md`) on the learner's crates or the
//! references, beside the allocators and collectors people use, in one run.
//!
//! The measuring is done by the `bench` package (`gclabs-bench`), built here in release mode: it
//! says which cases there are (`gclabs-bench plan`) and measures one implementation of one case
//! per process (`gclabs-bench run CASE IMPLEMENTATION`), printing one JSON object. This command
//! builds it (with `--features labNN` for the learner's crate of lab NN, so that a lab that does
//! not compile stops only its own measurements), runs every implementation of a case in turn,
//! round after round (a busy minute of the shared machine then falls on all of them), and prints
//! one table per case: the median and the spread over the rounds, each implementation's time over
//! the lab's own, and the targets of issue 17, met or missed. The machine's load is shown before
//! and after each case, since only ratios taken in the same run mean anything.
//!
//! `bench` is a workspace member that is not a default member and that no lab depends on, so a
//! learner's `cargo xtask grade` never compiles the peers (mimalloc, gc-arena, ...).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::course::labs::{self, Lab};

/// What to measure.
pub struct Options {
    /// Only these labs (all when empty).
    pub labs: Vec<u32>,
    /// The references instead of the learner's crates.
    pub solutions: bool,
    /// Rounds per implementation.
    pub rounds: usize,
    /// The size of workloads C, G, M and P (1,000,000 unless given).
    pub n: Option<usize>,
    /// Only the cases whose id contains this (`C.`, `d_random`, ...).
    pub case: Option<String>,
    /// Where to write the results as JSON.
    pub json: Option<PathBuf>,
    /// Also write each lab's tables to `book/src/NN-name/bench.txt`, which its performance page
    /// includes.
    pub book: bool,
    /// Measure nothing: show the tables of the results saved in this file by `--json`.
    pub from: Option<PathBuf>,
}

/// The package and its measuring binary.
const PACKAGE: &str = "gclabs-bench";

/// Runs the benchmarks. Returns 0, or 1 when a build failed.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    if options.rounds == 0 {
        return Err("--rounds takes a number of rounds, 1 or more".into());
    }
    if options.n == Some(0) {
        return Err("--n takes a size, 1 or more".into());
    }
    if !root.join("bench/Cargo.toml").is_file() {
        return Err(format!(
            "{} has no bench/ package: `cargo xtask bench` needs the course's bench/ folder",
            root.display()
        ));
    }
    let labs = labs::select(root, &options.labs)?;
    if let Some(saved) = &options.from {
        return show_saved(root, &labs, saved, options.book);
    }
    let command = command_line(options);
    let mut results = Vec::new();
    let mut failed = false;
    println!("{command}");
    println!(
        "Each case runs every implementation once per round, in turn, {} round{}, each in a \
         process of its own. Ratios are the lab's own time over each other's: below 1, ours is \
         faster. Compare only ratios of one run: the machine is shared.",
        options.rounds,
        if options.rounds == 1 { "" } else { "s" }
    );
    for lab in &labs {
        let number = lab.meta.number;
        let feature = (!options.solutions).then(|| format!("lab{number:02}"));
        let binaries = match build(root, feature.as_deref()) {
            Ok(binaries) => binaries,
            Err(why) => {
                println!("\nLab {number:02}: the benchmarks did not build.\n{why}");
                failed = true;
                continue;
            }
        };
        let plan = plan(&binaries)?;
        let mut lab_text = String::new();
        for case in plan
            .iter()
            .filter(|c| c["lab"].as_u64() == Some(u64::from(number)))
        {
            let id = case["id"].as_str().unwrap_or("");
            if options
                .case
                .as_deref()
                .is_some_and(|only| !id.contains(only))
            {
                continue;
            }
            let result = measure(case, &binaries, options);
            let table = render(&result);
            print!("\n{table}");
            lab_text.push_str(&table);
            lab_text.push('\n');
            results.push(result);
        }
        if options.book && !lab_text.is_empty() {
            write_book(root, lab, &command, &lab_text)?;
        }
    }
    if let Some(path) = &options.json {
        let document = json!({
            "command": command,
            "machine": machine(),
            "cases": results,
        });
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("\nThe results are in {}.", path.display());
    }
    Ok(i32::from(failed))
}

/// The command as typed, for the tables and the book.
fn command_line(options: &Options) -> String {
    let mut line = String::from("cargo xtask bench");
    for lab in &options.labs {
        let _ = write!(line, " --lab {lab}");
    }
    if options.solutions {
        line.push_str(" --solutions");
    }
    if options.rounds != DEFAULT_ROUNDS {
        let _ = write!(line, " --rounds {}", options.rounds);
    }
    if let Some(n) = options.n {
        let _ = write!(line, " --n {n}");
    }
    if let Some(case) = &options.case {
        let _ = write!(line, " --case {case}");
    }
    line
}

/// Rounds unless `--rounds` says otherwise.
pub const DEFAULT_ROUNDS: usize = 3;

/// Builds the bench package in release mode, with `feature` if given; returns the folder of its
/// binaries.
fn build(root: &Path, feature: Option<&str>) -> Result<PathBuf, String> {
    let mut cargo = Command::new(crate::run::cargo());
    cargo
        .current_dir(root)
        .envs(crate::course::pristine::build_target_dir(root).map(|dir| ("CARGO_TARGET_DIR", dir)))
        .args(["build", "--release", "--package", PACKAGE, "--bins"])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(feature) = feature {
        cargo.args(["--features", feature]);
    }
    eprintln!(
        "Building the benchmarks{} in release mode (the first time takes a few minutes)...",
        feature.map_or(String::new(), |f| format!(" ({f})"))
    );
    let mut child = cargo
        .spawn()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    let stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stderr {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    });
    let mut folder = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(executable) = message["executable"].as_str()
                && message["target"]["name"].as_str() == Some(PACKAGE)
            {
                folder = Path::new(executable).parent().map(Path::to_path_buf);
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo: {e}"))?;
    let stderr = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        let first_error = stderr
            .split("\n\n")
            .find(|block| block.trim_start().starts_with("error"))
            .unwrap_or(&stderr);
        return Err(first_error.trim().to_string());
    }
    folder.ok_or_else(|| "cargo built no gclabs-bench binary".to_string())
}

/// The cases, as the bench binary lists them.
fn plan(binaries: &Path) -> Result<Vec<Value>, String> {
    let output = Command::new(binaries.join(PACKAGE))
        .arg("plan")
        .output()
        .map_err(|e| format!("could not run {PACKAGE}: {e}"))?;
    let plan: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{PACKAGE} plan printed no plan: {e}"))?;
    plan.as_array()
        .cloned()
        .ok_or_else(|| format!("{PACKAGE} plan printed no list"))
}

/// The machine's load average over the last minute (`/proc/loadavg`).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

/// The machine, as far as the results need it.
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    json!({ "cpu": cpu, "cores": cores, "rustc": rustc })
}

/// Runs every implementation of `case`, round after round; returns the case with its results.
fn measure(case: &Value, binaries: &Path, options: &Options) -> Value {
    let id = case["id"].as_str().unwrap_or("");
    let lab = case["lab"].as_u64().unwrap_or(0);
    let parts = case["implementations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    eprintln!("Measuring {id}...");
    let load_before = load();
    let mut runs: Vec<Vec<Value>> = vec![Vec::new(); parts.len()];
    for _ in 0..options.rounds {
        for (part, found) in parts.iter().zip(runs.iter_mut()) {
            // An implementation that cannot take part says so once.
            if found.last().is_some_and(|run| run.get("absent").is_some()) {
                continue;
            }
            let binary = part["binary"].as_str().unwrap_or(PACKAGE);
            let name = part["name"].as_str().unwrap_or("");
            found.push(run_one(binaries, binary, id, name, options.n, lab));
        }
    }
    let rows: Vec<Value> = parts
        .iter()
        .zip(runs)
        .map(|(part, runs)| summarise(part, &runs))
        .collect();
    let mut result = case.clone();
    result["load_before"] = json!(load_before);
    result["load_after"] = json!(load());
    result["n"] = json!(options.n.unwrap_or(1_000_000));
    result["rounds"] = json!(options.rounds);
    result["targets"] = json!(judge(case, &rows));
    result["rows"] = json!(rows);
    result
}

/// One measurement in a process of its own.
fn run_one(
    binaries: &Path,
    binary: &str,
    id: &str,
    name: &str,
    n: Option<usize>,
    lab: u64,
) -> Value {
    let mut command = Command::new(binaries.join(binary));
    // A panic's message, not a backtrace: the table shows one line of why.
    command.env("RUST_BACKTRACE", "0");
    if binary == PACKAGE {
        command.args(["run", id, name]);
        if let Some(n) = n {
            command.args(["--n", &n.to_string()]);
        }
    } else {
        // The global-allocator binaries take the case's name alone.
        command.arg(
            id.split_once('.')
                .map_or(id, |(_, case)| case)
                .trim_start_matches("global_"),
        );
    }
    match command.stdin(Stdio::null()).output() {
        Ok(output) if output.status.success() => serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| json!({ "absent": "printed no result" })),
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if let Some(why) = why_it_panicked(&stderr, lab) {
                return json!({ "absent": why });
            }
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.starts_with("note:"))
                .unwrap_or("")
                .trim()
                .to_string();
            let how = match output.status.code() {
                Some(code) => format!("exited with {code}"),
                None => "was killed by a signal (a crash, or a stack overflow)".to_string(),
            };
            json!({ "absent": format!("failed: it {how}{}", if last.is_empty() { String::new() } else { format!(": {last}") }) })
        }
        Err(e) => json!({ "absent": format!("could not run {binary}: {e}") }),
    }
}

/// One line saying why a measurement panicked, read from its standard error, or `None` if it did
/// not panic. A learner's unfinished lab reaches a `todo!()`: that is said as what it is, with
/// where, and the grader named as the place to find the next task.
fn why_it_panicked(stderr: &str, lab: u64) -> Option<String> {
    use crate::run::sandbox::{Outcome, find_panic};
    let place = |at: Option<String>| at.map_or(String::new(), |at| format!(" at {at}"));
    match find_panic(stderr)? {
        Outcome::NotStarted { at } => Some(format!(
            "not finished: it reached a todo!(){}; `cargo xtask grade --lab {lab}` names the \
             next task",
            place(at)
        )),
        Outcome::Failed { message, at } => {
            let first = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Some(format!(
                "panicked{}: {}; `cargo xtask grade --lab {lab}` runs the tests that check it",
                place(at),
                first.trim()
            ))
        }
        _ => None,
    }
}

/// The median of some numbers (the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// One implementation's row: its values, median, spread, and the medians of its extra numbers.
fn summarise(part: &Value, runs: &[Value]) -> Value {
    let name = part["name"].as_str().unwrap_or("");
    if let Some(absent) = runs.iter().find_map(|r| r.get("absent")) {
        return json!({ "name": name, "absent": absent });
    }
    // In round order: the ratios are taken round by round.
    let values: Vec<f64> = runs.iter().filter_map(|r| r["value"].as_f64()).collect();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let med = median(&mut values.clone());
    let mut extra = serde_json::Map::new();
    if let Some(first) = runs.first().and_then(|r| r["extra"].as_object()) {
        for key in first.keys() {
            let mut numbers: Vec<f64> = runs
                .iter()
                .filter_map(|r| r["extra"][key].as_f64())
                .collect();
            extra.insert(key.clone(), json!(median(&mut numbers)));
        }
    }
    let note = runs.iter().find_map(|r| r["note"].as_str()).unwrap_or("");
    json!({
        "name": name,
        "values": values,
        "median": med,
        "min": min,
        "max": max,
        "extra": extra,
        "note": note,
    })
}

/// The lab's own time over `row`'s: the median of the ratios of each round, whose
/// implementations ran one after the other (a busy moment of the machine falls on both), or of
/// the medians when the rounds do not pair up.
fn ratio(ours: &Value, row: &Value) -> Option<f64> {
    let numbers = |r: &Value| -> Vec<f64> {
        r["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (mine, theirs) = (numbers(ours), numbers(row));
    if !mine.is_empty() && mine.len() == theirs.len() && theirs.iter().all(|&t| t > 0.0) {
        let mut ratios: Vec<f64> = mine.iter().zip(&theirs).map(|(m, t)| m / t).collect();
        return Some(median(&mut ratios));
    }
    match (ours["median"].as_f64(), row["median"].as_f64()) {
        (Some(m), Some(t)) if t > 0.0 => Some(m / t),
        _ => None,
    }
}

/// The targets of the case, each met or not, with the number it was judged on.
fn judge(case: &Value, rows: &[Value]) -> Vec<Value> {
    let ours = rows.first();
    let ours_median = ours.and_then(|r| r["median"].as_f64());
    let ratio_to = |name: &str| {
        let row = rows.iter().find(|r| r["name"].as_str() == Some(name))?;
        ratio(ours?, row)
    };
    case["targets"]
        .as_array()
        .map(|targets| {
            targets
                .iter()
                .map(|target| {
                    let at_most = target["at_most"].as_f64().unwrap_or(f64::NAN);
                    let judged = match target["kind"].as_str() {
                        Some("ratio") => ratio_to(target["peer"].as_str().unwrap_or("")),
                        Some("extra") => ours.and_then(|r| {
                            r["extra"][target["name"].as_str().unwrap_or("")].as_f64()
                        }),
                        _ => ours_median,
                    };
                    json!({
                        "text": target["text"],
                        "kind": target["kind"],
                        "peer": target["peer"],
                        "name": target["name"],
                        "at_most": at_most,
                        "judged": judged,
                        "met": judged.map(|j| j <= at_most),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A number with about three significant digits.
fn number(value: f64) -> String {
    if !value.is_finite() {
        "-".to_string()
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The table of one case.
fn render(result: &Value) -> String {
    let mut out = String::new();
    let unit = result["unit"].as_str().unwrap_or("");
    let n = result["n"].as_u64().unwrap_or(0);
    let title = result["title"]
        .as_str()
        .unwrap_or("")
        .replace("(n)", &format!("({})", thousands(n)))
        .replace("n iterations", &format!("{} iterations", thousands(n)));
    let _ = writeln!(
        out,
        "{} {title}\n  {unit}, median of {} round{} (load average {} before, {} after); ours ÷ \
         this: the median of the rounds' ratios",
        result["id"].as_str().unwrap_or(""),
        result["rounds"],
        if result["rounds"].as_u64() == Some(1) {
            ""
        } else {
            "s"
        },
        result["load_before"].as_str().unwrap_or("?"),
        result["load_after"].as_str().unwrap_or("?"),
    );
    let rows = result["rows"].as_array().cloned().unwrap_or_default();
    let ours = rows.first().filter(|r| r.get("absent").is_none()).cloned();
    let side = result["side"].as_str().unwrap_or("reference");
    let extras: Vec<String> = rows
        .iter()
        .filter_map(|r| r["extra"].as_object())
        .flat_map(|e| e.keys().cloned())
        .fold(Vec::new(), |mut seen, key| {
            if !seen.contains(&key) {
                seen.push(key);
            }
            seen
        });
    let mut header = format!(
        "  {:<22} {:>9} {:>17} {:>9}",
        "", "median", "spread", "ours ÷"
    );
    for extra in &extras {
        let _ = write!(header, "  {extra}");
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for row in &rows {
        let name = row["name"].as_str().unwrap_or("");
        let label = if name == "ours" {
            format!("{side} (lab {:02})", result["lab"].as_u64().unwrap_or(0))
        } else {
            name.to_string()
        };
        if let Some(absent) = row["absent"].as_str() {
            let _ = writeln!(out, "  {label:<22} {absent}");
            continue;
        }
        let median = row["median"].as_f64().unwrap_or(f64::NAN);
        let spread = format!(
            "{}–{}",
            number(row["min"].as_f64().unwrap_or(f64::NAN)),
            number(row["max"].as_f64().unwrap_or(f64::NAN))
        );
        let ratio = ours
            .as_ref()
            .and_then(|o| ratio(o, row))
            .map_or("-".to_string(), |r| format!("{r:.2}×"));
        let mut line = format!(
            "  {label:<22} {:>9} {spread:>17} {ratio:>9}",
            number(median)
        );
        for extra in &extras {
            let value = row["extra"][extra.as_str()].as_f64();
            let _ = write!(
                line,
                "  {:>width$}",
                value.map_or("-".to_string(), number),
                width = extra.chars().count()
            );
        }
        if let Some(note) = row["note"].as_str().filter(|n| !n.is_empty()) {
            let _ = write!(line, "  ({note})");
        }
        let _ = writeln!(out, "{line}");
    }
    for target in result["targets"].as_array().cloned().unwrap_or_default() {
        let text = target["text"].as_str().unwrap_or("");
        let at_most = target["at_most"].as_f64().unwrap_or(f64::NAN);
        let verdict = match (target["met"].as_bool(), target["judged"].as_f64()) {
            (Some(true), Some(j)) => format!("met ({})", shown(&target, j)),
            (Some(false), Some(j)) => format!(
                "MISSED ({}; {:.2}× the target's bound)",
                shown(&target, j),
                j / at_most
            ),
            _ => "not judged (a part is missing)".to_string(),
        };
        let _ = writeln!(out, "  target: {text}: {verdict}");
    }
    out
}

/// How a judged number reads: a ratio with ×, a value in its unit.
fn shown(target: &Value, judged: f64) -> String {
    match target["kind"].as_str() {
        Some("ratio") => format!("{judged:.2}×"),
        _ => number(judged),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Shows the tables of a run saved with `--json` (and writes them to the book with `--book`).
fn show_saved(root: &Path, labs: &[Lab], saved: &Path, book: bool) -> Result<i32, String> {
    let text = std::fs::read_to_string(saved)
        .map_err(|e| format!("cannot read {}: {e}", saved.display()))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} holds no saved run: {e}", saved.display()))?;
    let command = document["command"].as_str().unwrap_or("cargo xtask bench");
    let cases = document["cases"].as_array().cloned().unwrap_or_default();
    println!("{command}");
    for lab in labs {
        let number = u64::from(lab.meta.number);
        let mut lab_text = String::new();
        for case in cases.iter().filter(|c| c["lab"].as_u64() == Some(number)) {
            // The targets are judged again, in case the judging changed since the run.
            let mut case = case.clone();
            let rows = case["rows"].as_array().cloned().unwrap_or_default();
            case["targets"] = json!(judge(&case, &rows));
            let table = render(&case);
            print!("\n{table}");
            lab_text.push_str(&table);
            lab_text.push('\n');
        }
        if book && !lab_text.is_empty() {
            write_book(root, lab, command, &lab_text)?;
        }
    }
    Ok(0)
}

/// Writes a lab's tables where its performance page includes them.
fn write_book(root: &Path, lab: &Lab, command: &str, tables: &str) -> Result<(), String> {
    let chapter = lab.lab_dir.file_name().unwrap_or_default();
    let path = root.join("book/src").join(chapter).join("bench.txt");
    let text = format!("$ {command}\n{tables}");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("Wrote {}.", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::why_it_panicked;

    #[test]
    fn an_unfinished_lab_is_named_as_such_with_its_todo() {
        let stderr = "\nthread 'main' (28216) panicked at labs/03-cycles/src/collector.rs:294:9:\n\
                      not yet implemented\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            why_it_panicked(stderr, 3).as_deref(),
            Some(
                "not finished: it reached a todo!() at labs/03-cycles/src/collector.rs:294; \
                 `cargo xtask grade --lab 3` names the next task"
            )
        );
    }

    #[test]
    fn another_panic_gives_its_first_line_and_place() {
        let stderr = "thread 'main' panicked at labs/03-cycles/src/deduce.rs:40:5:\n\
                      list 3 is not in a GC list\nsecond line\n";
        assert_eq!(
            why_it_panicked(stderr, 3).as_deref(),
            Some(
                "panicked at labs/03-cycles/src/deduce.rs:40:5: list 3 is not in a GC list; \
                 `cargo xtask grade --lab 3` runs the tests that check it"
            )
        );
    }

    #[test]
    fn an_exit_without_a_panic_is_left_to_the_caller() {
        assert_eq!(
            why_it_panicked("error: the trace's checksum differs\n", 2),
            None
        );
    }
}
