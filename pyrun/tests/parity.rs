//! Every parity script the course ships runs through the interpreter on the reference
//! solutions and prints what CPython 3.11.7 printed (its `.out`, recorded by `cargo xtask
//! parity`): pyheap's (reference counting), lab 03's (the collector), lab 04's (the scheduler,
//! the counts) and the capstone's own (`pyrun/parity`).

use std::fs;
use std::path::{Path, PathBuf};

use pyrun::{Limits, Outcome, Side, run_captured};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pyrun is inside the workspace")
        .to_path_buf()
}

/// The scripts of `folder` (relative to the root), sorted.
fn scripts(folder: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(root().join(folder))
        .unwrap_or_else(|e| panic!("cannot list {folder}: {e}"))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    found.sort();
    found
}

/// Runs every script of `folder` and fails with the first difference, naming every script
/// that differs.
#[track_caller]
fn check_folder(folder: &str, at_least: usize) {
    let scripts = scripts(folder);
    assert!(
        scripts.len() >= at_least,
        "{folder} holds {} scripts, fewer than the {at_least} expected",
        scripts.len()
    );
    let mut failures = Vec::new();
    for script in &scripts {
        let source = fs::read_to_string(script).expect("a readable script");
        let recorded = fs::read_to_string(script.with_extension("out"))
            .unwrap_or_else(|_| panic!("{} has no recorded output", script.display()));
        let name = script
            .strip_prefix(root())
            .unwrap_or(script)
            .display()
            .to_string();
        let run = run_captured(&source, &name, Side::Solutions, Limits::default());
        let clean_end = matches!(run.outcome, Outcome::Finished);
        if run.stdout != recorded || !clean_end {
            failures.push((name, recorded, run));
        }
    }
    if let Some((name, recorded, run)) = failures.first() {
        let names: Vec<&str> = failures.iter().map(|(n, ..)| n.as_str()).collect();
        eprintln!("scripts whose output differs from CPython 3.11.7's: {names:?}");
        eprintln!(
            "{name}: ended with {:?}; stderr:\n{}",
            run.outcome, run.stderr
        );
        pretty_assertions::assert_eq!(
            recorded.as_str(),
            run.stdout.as_str(),
            "{name}: left is CPython 3.11.7's output, right the interpreter's"
        );
        panic!("{name} did not end cleanly: {:?}", run.outcome);
    }
}

#[test]
fn pyheap_scripts_print_what_cpython_printed() {
    check_folder("pyheap/parity", 6);
}

#[test]
fn lab_03_scripts_print_what_cpython_printed() {
    check_folder("labs/03-cycles/parity", 16);
}

#[test]
fn lab_04_scripts_print_what_cpython_printed() {
    check_folder("labs/04-generations/parity", 7);
}

#[test]
fn capstone_scripts_print_what_cpython_printed() {
    check_folder("pyrun/parity", 20);
}

/// Labs 01 and 05 ship scripts that go beyond the subset (subclasses of builtin types,
/// `object()`, a dict comprehension): each either prints CPython's output or stops with the
/// line and the construct, never with a different output.
#[test]
fn lab_01_and_05_scripts_match_or_stop_on_the_construct_they_need() {
    let mut matched = 0;
    for folder in ["labs/01-refcount/parity", "labs/05-tricolor/parity"] {
        for script in scripts(folder) {
            let source = fs::read_to_string(&script).expect("a readable script");
            let recorded = fs::read_to_string(script.with_extension("out")).expect("recorded");
            let name = script.display().to_string();
            let run = run_captured(&source, &name, Side::Solutions, Limits::default());
            match run.outcome {
                Outcome::Finished => {
                    assert_eq!(run.stdout, recorded, "{name}");
                    matched += 1;
                }
                Outcome::NotRun(pyrun::CompileError::Unsupported(_))
                | Outcome::Stopped(pyrun::Stop::Unsupported(_)) => {
                    assert!(
                        recorded.starts_with(&run.stdout),
                        "{name}: what it printed before it stopped is not what CPython printed \
                         first:\n{}",
                        run.stdout
                    );
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    assert!(
        matched >= 2,
        "only {matched} of these scripts ran to the end"
    );
}
