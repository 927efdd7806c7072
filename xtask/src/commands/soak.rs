//! `cargo xtask soak`: each lab's seeded random programs, with fresh seeds, for as long as asked.
//!
//! A graded random-program test (a test named `random_…`, which runs programs through
//! `testkit::check_programs`) tries a fixed list of seeds, so that a grade is the same every time.
//! A soak keeps going where the grade stops: every random test of the selected labs runs its own
//! seeds and then fresh ones (`GCLABS_SOAK_SECONDS`), sharing the time asked for, each in its own
//! process under the grader's limits. A failure prints the seed, the shortest failing program and
//! the command that replays it.

use std::path::Path;
use std::time::Duration;

use crate::course::labs::{self, Limits};
use crate::course::pristine;
use crate::grade::Side;
use crate::run::build;
use crate::run::sandbox::{self, Outcome};

/// What to soak.
pub struct Options {
    /// Only these labs (all when empty).
    pub labs: Vec<u32>,
    /// The whole time, in minutes, shared by every random test.
    pub minutes: f64,
    /// Labs or solutions.
    pub side: Side,
}

/// The prefix that marks a graded test as a random-program test.
pub const RANDOM_PREFIX: &str = "random_";

/// Runs the soak. Returns 0 when every program passed, 1 when one failed.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    if !(options.minutes.is_finite() && options.minutes > 0.0) {
        return Err("--minutes takes a positive number of minutes, such as 1 or 0.5".into());
    }
    let labs = labs::select(root, &options.labs)?;
    let tests: Vec<(usize, String)> = labs
        .iter()
        .enumerate()
        .flat_map(|(i, lab)| {
            lab.meta
                .tests
                .iter()
                .filter(|t| t.name.starts_with(RANDOM_PREFIX))
                .map(move |t| (i, t.name.clone()))
        })
        .collect();
    if tests.is_empty() {
        return Err(format!(
            "the selected labs have no random-program test (a graded test named `{RANDOM_PREFIX}…`)"
        ));
    }
    let share = options.minutes * 60.0 / tests.len() as f64;
    println!(
        "Soaking {} random-program test{} for {:.1} minutes, {share:.0} s each, with fresh seeds.",
        tests.len(),
        if tests.len() == 1 { "" } else { "s" },
        options.minutes
    );
    let _builds = pristine::lock_builds(root)?;
    let mut failed = 0;
    let mut built = Vec::new();
    for lab in &labs {
        let (package, dir) = match options.side {
            Side::Labs => (lab.package.clone(), lab.lab_dir.clone()),
            Side::Solutions => (
                lab.solution_package
                    .clone()
                    .ok_or_else(|| format!("{} has no reference solution", lab.label()))?,
                lab.solution_dir.clone(),
            ),
        };
        let sources = lab.source_dirs();
        let target = build::Package {
            name: &package,
            sources: &sources,
        };
        built.push((
            build::build_tests(root, &target)
                .map_err(|e| format!("{} does not compile: {}", lab.label(), e.summary))?,
            dir,
        ));
    }
    for (i, name) in &tests {
        let lab = &labs[*i];
        let (binaries, dir) = &built[*i];
        let Some(exe) = binaries.tests.get(name) else {
            return Err(format!(
                "{}'s test binary has no test `{name}`",
                lab.label()
            ));
        };
        let meta = lab.meta.tests.iter().find(|t| t.name == *name);
        let own = meta.map_or(lab.meta.limits, |t| t.limits(&lab.meta.limits));
        // The test's own seeds and the shrinking of a failure come on top of the soak.
        let limits = Limits {
            timeout_secs: own.timeout_secs + share.ceil() as u64 + 60,
            ..own
        };
        let seconds = format!("{share:.1}");
        let started = std::time::Instant::now();
        let run = sandbox::run_test_with(
            exe,
            name,
            limits,
            dir,
            &[("GCLABS_SOAK_SECONDS", seconds.as_str())],
        );
        let took = started.elapsed();
        println!();
        println!("{} · {name}", lab.label());
        match &run.outcome {
            Outcome::Passed => {
                // libtest prints `test NAME ... ` before what the test prints: look inside lines.
                let ran = run
                    .output
                    .lines()
                    .find_map(|l| l.find("soak: ").map(|at| &l[at + "soak: ".len()..]))
                    .unwrap_or("passed");
                println!("  ✓ {ran} ({})", seconds_text(took));
            }
            outcome => {
                failed += 1;
                println!("  ✗ {}", outcome.reason());
                let detail = match outcome {
                    Outcome::Failed { message, .. } => message.as_str(),
                    _ => run.output.as_str(),
                };
                for line in detail.lines().take(40) {
                    println!("    {line}");
                }
                if let Some(seed) = seed_in(detail) {
                    let solutions = match options.side {
                        Side::Solutions => " --solutions",
                        Side::Labs => "",
                    };
                    println!(
                        "  Replay: GCLABS_SEED={seed} cargo xtask grade{solutions} --lab {} --test {name}",
                        lab.meta.number
                    );
                }
            }
        }
    }
    println!();
    if failed == 0 {
        println!("Every program passed.");
        Ok(0)
    } else {
        println!("{failed} random-program test(s) found a failing program.");
        Ok(1)
    }
}

/// The seed a failure names: `seed 0x1f…;`.
fn seed_in(text: &str) -> Option<String> {
    let at = text.find("seed 0x")?;
    let seed: String = text[at + "seed ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == 'x')
        .collect();
    Some(seed)
}

fn seconds_text(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::seed_in;

    #[test]
    fn the_seed_of_a_failure_is_found() {
        let message = "graphs: a random program failed.\nseed 0x2a; shortest failing program";
        assert_eq!(seed_in(message).as_deref(), Some("0x2a"));
        assert_eq!(seed_in("no seed here"), None);
    }
}
