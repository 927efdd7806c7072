//! `cargo xtask figures`: draw the book's figures again from the reference solutions (for
//! maintainers).
//!
//! Each solution that has an example named `figures` (`solutions/NN-name/examples/figures.rs`, or
//! `figures/main.rs`) runs the reference on small programs and draws what it did into its
//! chapter's folder of `book/src`. This command runs every one of them: it writes the pictures
//! that changed, or with `--check` writes nothing and fails when a committed picture is not what
//! the reference draws now. The same check runs in `cargo test`: each `figures` example is
//! declared with `test = true`, and its test compares.

use std::path::Path;
use std::process::Command;

use crate::course::labs::discover;

/// Runs every solution's `figures` example (with `--check`, to compare). Returns the exit code.
pub fn run(root: &Path, check: bool) -> Result<i32, String> {
    let labs = discover(root)?;
    let mut drawn = 0;
    let mut stale = Vec::new();
    for lab in &labs {
        let examples = lab.solution_dir.join("examples");
        let has_figures =
            examples.join("figures.rs").is_file() || examples.join("figures/main.rs").is_file();
        let Some(package) = lab.solution_package.as_deref().filter(|_| has_figures) else {
            continue;
        };
        let mut cmd = Command::new(crate::run::cargo());
        cmd.current_dir(root).args([
            "run",
            "--quiet",
            "--package",
            package,
            "--example",
            "figures",
        ]);
        if check {
            cmd.args(["--", "--check"]);
        }
        let status = cmd
            .status()
            .map_err(|e| format!("could not run cargo for {package}'s figures: {e}"))?;
        drawn += 1;
        if !status.success() {
            stale.push(package.to_string());
        }
    }
    if drawn == 0 {
        return Err("no solution has a `figures` example".into());
    }
    if stale.is_empty() {
        if check {
            println!("the figures of {drawn} chapters are what the references draw");
        } else {
            println!("the figures of {drawn} chapters were drawn from the references");
        }
        Ok(0)
    } else if check {
        println!(
            "the figures of {} are out of date: run `cargo xtask figures` to draw them again",
            stale.join(", ")
        );
        Ok(1)
    } else {
        Err(format!(
            "drawing the figures of {} failed",
            stale.join(", ")
        ))
    }
}
