//! `cargo xtask check`: the maintainers' contract, in the spirit of rustlings' `dev check`.
//!
//! 1. Lab metadata is well formed, every hint's book section exists and names its test (in
//!    `lab.toml`'s order), and no hint holds a line of the solution's code.
//! 2. The stubs are exactly what the solutions generate (so they differ only at TODO sites, and
//!    expose the same public API).
//! 3. The solution runs the lab's test files, all of them; metadata and test binaries name the same
//!    tests.
//! 4. Every solution passes every graded test.
//! 5. Every stub compiles and fails every graded test.
//! 6. Each test, in `lab.toml`'s order, needs at most two TODO sites beyond those the tests before
//!    it need, and no site unlocks more than about a tenth of the points (`steps.rs`, measured by
//!    running the tests on a variant of the solution whose sites can be switched off).
//! 7. The book's code includes resolve, and come from the labs, never from `solutions/`.
//! 8. `labs/checksums.txt` lists the graded files as they are (`cargo xtask checksums`).
//! 9. `cargo fmt --check` and `cargo clippy -- -D warnings` are clean.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::course::labs::{self, Lab};
use crate::course::{book, checksums, stubs};
use crate::grade::{self, Side, steps};
use crate::run::build;
use crate::run::cargo;
use crate::run::sandbox::Outcome;

/// What `cargo xtask check` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these labs' checks (all when empty); the course-wide checks run in any case.
    pub labs: Vec<u32>,
    /// Print each lab's staircase: the TODO sites each test needs beyond the tests before it.
    pub steps: bool,
}

/// Runs the whole contract and prints a checklist. Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let labs = labs::select(root, &options.labs)?;
    let mut failed = 0;
    let mut step = |name: &str, problems: Vec<String>| {
        if problems.is_empty() {
            println!("✓ {name}");
        } else {
            failed += 1;
            println!("✗ {name}");
            for p in problems {
                for (i, line) in p.lines().enumerate() {
                    println!("    {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
        }
    };
    for lab in &labs {
        let label = lab.label();
        step(
            &format!("{label}: metadata is well formed, hints point at book sections"),
            metadata(root, lab),
        );
        step(
            &format!("{label}: no hint holds a line of the solution's code"),
            hints_without_code(lab)?,
        );
        step(
            &format!("{label}: every graded test is named in its book section, in lab.toml order"),
            book::tests_named(root, lab),
        );
        step(
            &format!("{label}: stubs are generated from the solution"),
            stubs::differences(lab)?,
        );
        step(
            &format!("{label}: the solution runs every test file of the lab"),
            test_targets(lab)?,
        );
        step(
            &format!("{label}: metadata and test files list the same tests"),
            same_tests(root, lab),
        );
        step(
            &format!("{label}: the solution passes every graded test"),
            solution_passes(root, lab)?,
        );
        step(
            &format!("{label}: the stub fails every graded test"),
            stub_fails(root, lab)?,
        );
        let staircase = steps::analyse(root, lab);
        step(
            &format!(
                "{label}: each test needs at most {} new TODO sites, and no site unlocks more \
                 than {}% of the points",
                steps::MAX_NEW_SITES,
                steps::MAX_UNLOCK_PERCENT
            ),
            match &staircase {
                Ok(analysis) => steps::problems(lab, analysis),
                Err(e) => vec![e.clone()],
            },
        );
        if let (true, Ok(analysis)) = (options.steps, &staircase) {
            println!("  the TODO sites each test needs beyond the tests before it:");
            for line in steps::table(analysis).lines() {
                println!("  {line}");
            }
        }
    }
    step(
        "book: every included listing exists",
        book::check_includes(root)?,
    );
    step(
        "book: listings come from the labs, never from solutions/",
        book::includes_from_labs(root)?,
    );
    step(
        "labs/checksums.txt lists the graded files as they are",
        checksums::staleness(root).unwrap_or_else(|e| vec![e]),
    );
    step(
        "cargo fmt --check",
        command(root, &["fmt", "--all", "--check"]),
    );
    step(
        "cargo clippy --workspace --all-targets -- -D warnings",
        command(
            root,
            &[
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    println!();
    if failed == 0 {
        println!("The course contract holds.");
        Ok(0)
    } else {
        println!("{failed} check(s) failed.");
        Ok(1)
    }
}

fn metadata(root: &Path, lab: &Lab) -> Vec<String> {
    let mut problems = labs::lint(lab);
    if !book::section_exists(root, &lab.meta.chapter) {
        problems.push(format!(
            "chapter `{}` is not a page under book/src",
            lab.meta.chapter
        ));
    }
    for t in &lab.meta.tests {
        if !book::section_exists(root, &t.section) {
            problems.push(format!(
                "test `{}`: book section `{}` does not exist",
                t.name, t.section
            ));
        }
    }
    problems
}

/// The shortest line of code, without its white space, that counts as the solution's own: shorter
/// ones (`}`, `None`, `x += 1;`) are words a hint may use.
const CODE_LINE_MIN: usize = 20;

/// Hints are a ladder to the solution, never the solution: no hint may hold a line of the code
/// between the solution's `// BEGIN SOLUTION` and `// END SOLUTION` markers (white space aside).
fn hints_without_code(lab: &Lab) -> Result<Vec<String>, String> {
    let mut lines = BTreeSet::new();
    for path in crate::course::pristine::source_files(&lab.solution_dir.join("src"))? {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let mut inside = false;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with("// BEGIN SOLUTION") {
                inside = true;
            } else if trimmed == "// END SOLUTION" {
                inside = false;
            } else if inside && !trimmed.starts_with("//") {
                let code: String = trimmed.split_whitespace().collect();
                if code.len() >= CODE_LINE_MIN {
                    lines.insert(code);
                }
            }
        }
    }
    let mut problems = Vec::new();
    for test in &lab.meta.tests {
        for (i, hint) in test.hints.iter().enumerate() {
            let squeezed: String = hint.split_whitespace().collect();
            if let Some(line) = lines.iter().find(|l| squeezed.contains(l.as_str())) {
                problems.push(format!(
                    "`{}`, hint {}: holds the solution's line `{line}`; say the idea, where to \
                     look, or show it on other data instead",
                    test.name,
                    i + 1
                ));
            }
        }
    }
    Ok(problems)
}

/// The solution's Cargo.toml must declare one `[[test]]` per file in `labs/NN/tests/*.rs`.
fn test_targets(lab: &Lab) -> Result<Vec<String>, String> {
    let manifest = lab.solution_dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let value: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
    let declared: BTreeSet<String> = value
        .get("test")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("path").and_then(|p| p.as_str()))
        .filter_map(|p| {
            Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .collect();
    let tests_dir = lab.lab_dir.join("tests");
    let entries = fs::read_dir(&tests_dir)
        .map_err(|e| format!("cannot read {}: {e}", tests_dir.display()))?;
    let mut files = BTreeSet::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            files.insert(
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let mut problems = Vec::new();
    for f in files.difference(&declared) {
        problems.push(format!(
            "{} has no [[test]] for tests/{f}",
            manifest.display()
        ));
    }
    for f in declared.difference(&files) {
        problems.push(format!(
            "{} declares a [[test]] for {f}, which is not in the lab",
            manifest.display()
        ));
    }
    Ok(problems)
}

fn same_tests(root: &Path, lab: &Lab) -> Vec<String> {
    let Some(package) = &lab.solution_package else {
        return vec!["no solution crate".into()];
    };
    let sources = lab.source_dirs();
    let package = build::Package {
        name: package,
        sources: &sources,
    };
    let built = match build::build_tests(root, &package) {
        Ok(b) => b,
        Err(e) => {
            return vec![format!(
                "the solution does not compile: {}\n{}",
                e.summary, e.detail
            )];
        }
    };
    let in_binaries: BTreeSet<&str> = built.tests.keys().map(String::as_str).collect();
    let in_metadata: BTreeSet<&str> = lab.meta.tests.iter().map(|t| t.name.as_str()).collect();
    let mut problems = Vec::new();
    for t in in_binaries.difference(&in_metadata) {
        problems.push(format!(
            "test `{t}` is in the test files but not in lab.toml"
        ));
    }
    for t in in_metadata.difference(&in_binaries) {
        problems.push(format!("lab.toml lists `{t}`, which no test file defines"));
    }
    problems
}

fn solution_passes(root: &Path, lab: &Lab) -> Result<Vec<String>, String> {
    let _builds = crate::course::pristine::lock_builds(root)?;
    let results = grade::grade(
        root,
        std::slice::from_ref(lab),
        Side::Solutions,
        None,
        false,
        &mut |_| {},
    )?;
    let mut problems = Vec::new();
    for r in &results {
        if let Some(e) = &r.build_error {
            problems.push(format!("does not compile: {}", e.summary));
        }
        for t in r.tests.iter().filter(|t| t.run.outcome != Outcome::Passed) {
            problems.push(format!("`{}`: {}", t.meta.name, t.run.outcome.reason()));
        }
    }
    Ok(problems)
}

fn stub_fails(root: &Path, lab: &Lab) -> Result<Vec<String>, String> {
    let _builds = crate::course::pristine::lock_builds(root)?;
    let results = grade::grade(
        root,
        std::slice::from_ref(lab),
        Side::Labs,
        None,
        false,
        &mut |_| {},
    )?;
    let mut problems = Vec::new();
    for r in &results {
        if let Some(e) = &r.build_error {
            problems.push(format!("the stub does not compile: {}", e.summary));
            continue;
        }
        for t in &r.tests {
            match &t.run.outcome {
                Outcome::NotStarted { .. } | Outcome::Failed { .. } => {}
                Outcome::Passed => problems.push(format!("`{}` passes on the stub", t.meta.name)),
                other => problems.push(format!(
                    "`{}` fails on the stub, but not by a todo!() or a failed assertion: {}",
                    t.meta.name,
                    other.reason()
                )),
            }
        }
    }
    Ok(problems)
}

fn command(root: &Path, args: &[&str]) -> Vec<String> {
    match Command::new(cargo()).current_dir(root).args(args).output() {
        Ok(out) if out.status.success() => Vec::new(),
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            vec![build::tail(&text, 40)]
        }
        Err(e) => vec![format!("could not run cargo {}: {e}", args.join(" "))],
    }
}
