//! `cargo xtask miri`: run a lab's graded tests under Miri, the interpreter that detects undefined
//! behaviour (a use after free, a double free, an aliasing violation, a leak) that a normal run
//! may not show.
//!
//! Miri needs a nightly toolchain with the `miri` component; stable Rust is all the course needs
//! otherwise, so this check is an extra, and says plainly when it cannot run.

use std::path::Path;

use crate::course::labs::Lab;
use crate::grade::Side;
use crate::run::miri::{INSTALL, available, nightly_cargo};

/// Runs the graded tests of `labs` on `side` under Miri. Returns the exit code.
pub fn run(root: &Path, labs: &[Lab], side: Side, test_files: &[String]) -> Result<i32, String> {
    if !available() {
        return Err(format!(
            "Miri is not installed here, so nothing was checked. It needs a nightly toolchain with \
             the miri component:\n  {INSTALL}\nThe graded tests do not need it; it is an extra \
             check for code with `unsafe`."
        ));
    }
    for lab in labs {
        let package = match side {
            Side::Labs => lab.package.clone(),
            Side::Solutions => lab
                .solution_package
                .clone()
                .ok_or_else(|| format!("{} has no reference solution", lab.label()))?,
        };
        println!(
            "Running the graded tests of {} ({package}) under Miri ...",
            lab.label()
        );
        let mut cmd = nightly_cargo();
        cmd.current_dir(root)
            .args(["miri", "test", "--package", &package]);
        if test_files.is_empty() {
            // Every test file (`[[test]]`), and only those: `--tests` would also run the
            // examples marked `test = true` (a lab's `figures`, which reads and writes files,
            // and which Miri's isolation refuses).
            cmd.args(["--test", "*"]);
        }
        for file in test_files {
            cmd.args(["--test", file]);
        }
        let status = cmd
            .status()
            .map_err(|e| format!("could not run cargo +nightly miri: {e}"))?;
        if !status.success() {
            println!(
                "Some tests of {} failed under Miri (see above). A todo!() or a failed assertion \
                 fails here as in `cargo xtask grade`; undefined behaviour is reported as \
                 `error: Undefined Behavior: ...`, with the operation and the line.",
                lab.label()
            );
            return Ok(1);
        }
    }
    println!("Miri found no undefined behaviour in the graded tests.");
    Ok(0)
}
