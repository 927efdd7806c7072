//! `cargo xtask limits`: the limits each graded test runs under, and how this machine enforces
//! them (who runs the tests, and the cap on processes).

use std::path::Path;

use crate::course::labs;
use crate::run::{identity, proclimit, sandbox};

/// `cargo xtask limits`: the limits each graded test runs under, per lab, and how this machine
/// enforces the cap on processes.
pub fn run(root: &Path) -> Result<i32, String> {
    let labs = labs::discover(root)?;
    println!("Every graded test runs alone, in its own process group, under these limits:");
    println!();
    println!("  time       wall clock; at the limit the test and all it started are killed");
    println!("  memory     address space (RLIMIT_AS); an allocation beyond it fails");
    println!(
        "  output     {} MiB (RLIMIT_FSIZE); the report keeps the head and the tail",
        sandbox::OUTPUT_LIMIT_BYTES >> 20
    );
    println!("  processes  processes and threads running at once; a fork beyond it fails");
    println!("  core dumps none");
    println!();
    for lab in &labs {
        let limits = lab.meta.limits;
        let special = lab
            .meta
            .tests
            .iter()
            .filter(|t| t.timeout_secs.is_some() || t.memory_mib.is_some() || t.processes.is_some())
            .count();
        println!(
            "  {} · {}: {} s, {} MiB, {} processes{}",
            lab.label(),
            lab.meta.title,
            limits.timeout_secs,
            limits.memory_mib,
            limits.processes,
            match special {
                0 => String::new(),
                1 => " (1 test sets its own)".into(),
                n => format!(" ({n} tests set their own)"),
            }
        );
    }
    println!();
    println!("The tests run {}.", identity::run_as().describe());
    println!(
        "The cap on processes is {}.",
        proclimit::mechanism().describe()
    );
    if let proclimit::Mechanism::None { .. } = proclimit::mechanism() {
        println!(
            "To enforce it, let the tests run as a user other than root (unset \
             GCLABS_TEST_USER), or grade where the grader may create cgroups (a pids controller \
             mounted read-write)."
        );
    }
    Ok(0)
}
