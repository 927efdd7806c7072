//! `cargo xtask mutants`: how many wrong solutions the graded tests catch, measured with
//! cargo-mutants.
//!
//! cargo-mutants changes the reference solution one small way at a time (a `+` for a `-`, a
//! function body replaced by a default value, a condition negated) and runs the lab's graded tests
//! on each *mutant*. A mutant the tests fail is caught; one they pass is missed: a wrong solution
//! that would score full marks. Only the code a learner writes is mutated (the lines between the
//! solution's `// BEGIN SOLUTION` and `// END SOLUTION` markers, given to cargo-mutants as a diff
//! that adds them), and only the lab's graded test files run.
//!
//! The graded tests compare the learner's crate with the reference, compiled a second time from
//! the same files (`solutions/NN-name/reference`): mutated there too, the reference would agree
//! with every mutant. So the run happens in a copy of the course (`<target>/gclabs-mutants/`)
//! where the reference package has its own, untouched copy of the sources.
//!
//! A missed mutant is either a gap in the tests (then a test is added or made stronger) or
//! *equivalent*: it behaves exactly like the solution, so no test can tell them apart. Equivalent
//! mutants are listed with the reason in `solutions/NN-name/equivalent-mutants.txt`, one per line
//! (`<mutant, as cargo-mutants names it, line and column left out>  # <why it changes nothing>`),
//! and do not count. The
//! score is caught / (caught + missed), timeouts counting as caught (the tests noticed); mutants
//! that do not compile are not counted. The target is [`TARGET_PERCENT`].

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::course::labs::{self, Lab};
use crate::course::pristine;

/// The share of viable mutants the graded tests must catch.
pub const TARGET_PERCENT: f64 = 95.0;

/// What to run.
pub struct Options {
    /// Only these labs (all when empty).
    pub labs: Vec<u32>,
    /// Only list the mutants, run nothing.
    pub list: bool,
    /// Parallel jobs for cargo-mutants (each builds a copy of the course).
    pub jobs: usize,
}

/// One lab's score.
struct Score {
    caught: usize,
    missed: Vec<String>,
    equivalent: Vec<String>,
    unviable: usize,
}

/// Runs `cargo xtask mutants`. Returns 0 when every lab reaches the target, 1 otherwise.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let installed = Command::new(crate::run::cargo())
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Err(
            "cargo-mutants is not installed. Install it once with\n  cargo install cargo-mutants \
             --locked\n(it compiles from source: a few minutes), then run `cargo xtask mutants` \
             again."
                .into(),
        );
    }
    let labs = labs::select(root, &options.labs)?;
    let base = pristine::target_dir(root).join("gclabs-mutants");
    let mut below = 0;
    let mut summary = String::new();
    for lab in &labs {
        let Some(package) = &lab.solution_package else {
            println!("{}: no reference solution, nothing to mutate", lab.label());
            continue;
        };
        let dir_name = lab
            .lab_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let copy = base.join("course");
        let _lock = prepare(root, lab, &dir_name, &copy)?;
        let diff = base.join(format!("{dir_name}.diff"));
        fs::write(&diff, regions_as_diff(lab, &dir_name)?)
            .map_err(|e| format!("cannot write {}: {e}", diff.display()))?;
        let output = base.join(&dir_name);
        let mut cmd = Command::new(crate::run::cargo());
        cmd.current_dir(&copy)
            .env_remove("CARGO_TARGET_DIR")
            .args(["mutants", "--package", package, "--in-diff"])
            .arg(&diff)
            .arg("--output")
            .arg(&output)
            .args(["--no-shuffle", "--cap-lints", "true", "--colors", "never"])
            .args(["--jobs", &options.jobs.to_string()]);
        if options.list {
            cmd.arg("--list");
        }
        cmd.arg("--");
        for file in test_targets(lab)? {
            cmd.args(["--test", &file]);
        }
        println!(
            "{}: mutating the code between the solution's markers, running its graded tests on \
             each mutant (this takes a while) ...",
            lab.label()
        );
        let status = cmd
            .status()
            .map_err(|e| format!("could not run cargo mutants: {e}"))?;
        if options.list {
            continue;
        }
        // cargo-mutants exits 2 when it missed mutants, 3 on timeouts: the score decides here.
        if !matches!(status.code(), Some(0..=3)) {
            return Err(format!(
                "cargo mutants failed on {} ({status}); its log is in {}",
                lab.label(),
                output.join("mutants.out").display()
            ));
        }
        let score = score(lab, &output.join("mutants.out"))?;
        let viable = score.caught + score.missed.len();
        let percent = if viable == 0 {
            100.0
        } else {
            score.caught as f64 * 100.0 / viable as f64
        };
        if percent < TARGET_PERCENT {
            below += 1;
        }
        let _ = writeln!(
            summary,
            "{} · {}: {} of {viable} viable mutants caught ({percent:.1}%; {} equivalent, {} did \
             not compile)",
            lab.label(),
            lab.meta.title,
            score.caught,
            score.equivalent.len(),
            score.unviable
        );
        for missed in &score.missed {
            let _ = writeln!(summary, "    missed: {missed}");
        }
    }
    if options.list {
        return Ok(0);
    }
    println!();
    print!("{summary}");
    if below == 0 {
        println!(
            "Every lab's graded tests catch at least {TARGET_PERCENT}% of the viable mutants."
        );
        Ok(0)
    } else {
        println!(
            "{below} lab(s) below {TARGET_PERCENT}%: each missed mutant needs a test that fails \
             on it, or a line in the lab's equivalent-mutants.txt saying why it changes nothing."
        );
        Ok(1)
    }
}

/// Makes `copy` the course with lab `lab`'s reference package reading an untouched copy of the
/// solution's sources. Returns the lock on the copy.
fn prepare(root: &Path, lab: &Lab, dir_name: &str, copy: &Path) -> Result<fs::File, String> {
    let reference = format!("solutions/{dir_name}/reference/");
    let manifest = lab.solution_dir.join("reference/Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let text = text.replace("\"../src/lib.rs\"", "\"src/lib.rs\"");
    let mut files = vec![(format!("{reference}Cargo.toml"), text.into_bytes())];
    let src = lab.solution_dir.join("src");
    for path in pristine::source_files(&src)? {
        let rel = path.strip_prefix(&src).unwrap_or(&path);
        let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        files.push((format!("{reference}src/{}", rel.display()), bytes));
    }
    pristine::mirror(root, copy, &reference, files)
}

/// The lines between the solution's markers, as a diff that adds them: what cargo-mutants may
/// mutate (`--in-diff`).
fn regions_as_diff(lab: &Lab, dir_name: &str) -> Result<String, String> {
    let src = lab.solution_dir.join("src");
    let mut files = pristine::source_files(&src)?;
    files.sort();
    let mut diff = String::new();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let rel = format!(
            "solutions/{dir_name}/src/{}",
            path.strip_prefix(&src).unwrap_or(path).display()
        );
        let mut hunks = String::new();
        let mut region: Option<(usize, Vec<&str>)> = None;
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let trimmed = line.trim();
            if trimmed.starts_with("// BEGIN SOLUTION") {
                region = Some((number + 1, Vec::new()));
            } else if trimmed == "// END SOLUTION" {
                if let Some((first, lines)) = region.take()
                    && !lines.is_empty()
                {
                    let _ = writeln!(hunks, "@@ -{},0 +{first},{} @@", first - 1, lines.len());
                    for l in lines {
                        let _ = writeln!(hunks, "+{l}");
                    }
                }
            } else if let Some((_, lines)) = region.as_mut() {
                lines.push(line);
            }
        }
        if !hunks.is_empty() {
            let _ = writeln!(diff, "--- a/{rel}\n+++ b/{rel}");
            diff.push_str(&hunks);
        }
    }
    Ok(diff)
}

/// The lab's graded test files, as test target names (`tests/rc.rs` is `rc`).
fn test_targets(lab: &Lab) -> Result<Vec<String>, String> {
    let dir = lab.lab_dir.join("tests");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

#[derive(Deserialize)]
struct Outcomes {
    outcomes: Vec<Outcome>,
}

#[derive(Deserialize)]
struct Outcome {
    scenario: serde_json::Value,
    summary: String,
}

/// The lab's score from cargo-mutants' `outcomes.json`, the equivalent mutants set aside.
fn score(lab: &Lab, out: &Path) -> Result<Score, String> {
    let path = out.join("outcomes.json");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let outcomes: Outcomes = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not readable: {e}", path.display()))?;
    let equivalent = equivalents(&lab.solution_dir.join("equivalent-mutants.txt"))?;
    let mut score = Score {
        caught: 0,
        missed: Vec::new(),
        equivalent: Vec::new(),
        unviable: 0,
    };
    for outcome in outcomes.outcomes {
        // The baseline (the tests on the unmutated tree) is a scenario too.
        let Some(mutant) = outcome.scenario.get("Mutant") else {
            continue;
        };
        let name = mutant_name(mutant);
        match outcome.summary.as_str() {
            "CaughtMutant" | "Timeout" => score.caught += 1,
            "MissedMutant" if equivalent.contains(&without_place(&name)) => {
                score.equivalent.push(name)
            }
            "MissedMutant" => score.missed.push(name),
            _ => score.unviable += 1,
        }
    }
    Ok(score)
}

/// `solutions/NN/src/rc.rs:42:9: replace + with - in Rc::clone`, as cargo-mutants prints it.
fn mutant_name(mutant: &serde_json::Value) -> String {
    match mutant["name"].as_str() {
        Some(name) => name.to_string(),
        None => format!(
            "{}: {} with {}",
            mutant["file"].as_str().unwrap_or("?"),
            mutant["genre"].as_str().unwrap_or("?"),
            mutant["replacement"].as_str().unwrap_or("?")
        ),
    }
}

/// A mutant's name without its line and column (`solutions/NN/src/rc.rs: replace + with - in
/// Rc::clone`), so that the list of equivalent mutants survives edits elsewhere in the file.
fn without_place(name: &str) -> String {
    let Some((file, rest)) = name.split_once(": ") else {
        return name.to_string();
    };
    let mut parts: Vec<&str> = file.split(':').collect();
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        parts.pop();
    }
    format!("{}: {rest}", parts.join(":"))
}

/// The equivalent mutants of a lab: the text before each line's `#`, without line and column.
fn equivalents(path: &PathBuf) -> Result<Vec<String>, String> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(|l| without_place(l.split('#').next().unwrap_or("").trim()))
            .filter(|l| !l.is_empty())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutants_place_is_left_out_of_its_name() {
        assert_eq!(
            without_place(
                "solutions/02-pools/src/trace/replay.rs:141:42: replace + with - in place"
            ),
            "solutions/02-pools/src/trace/replay.rs: replace + with - in place"
        );
        assert_eq!(without_place("no place here"), "no place here");
    }

    #[test]
    fn the_regions_become_hunks_that_add_their_lines() {
        let dir = std::env::temp_dir().join(format!("gclabs-mutants-test-{}", std::process::id()));
        let src = dir.join("solutions/01-x/src");
        fs::create_dir_all(&src).unwrap();
        fs::write(
            src.join("lib.rs"),
            "pub fn f() -> u32 {\n    // BEGIN SOLUTION: one.\n    let a = 1;\n    a\n    \
             // END SOLUTION\n}\n",
        )
        .unwrap();
        let lab = Lab {
            lab_dir: dir.join("labs/01-x"),
            solution_dir: dir.join("solutions/01-x"),
            package: "x".into(),
            solution_package: Some("x-solution".into()),
            meta: toml::from_str("number = 1\ntitle = \"x\"\nchapter = \"x.md\"\n").unwrap(),
        };
        let diff = regions_as_diff(&lab, "01-x").unwrap();
        assert_eq!(
            diff,
            "--- a/solutions/01-x/src/lib.rs\n+++ b/solutions/01-x/src/lib.rs\n@@ -2,0 +3,2 @@\n+    \
             let a = 1;\n+    a\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
