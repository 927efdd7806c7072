//! `cargo xtask run script.py [--solutions] [--compare]`: runs a Python script on your labs 03
//! and 04 (or on the reference solutions), with the course's interpreter, `pyrun`.
//!
//! The interpreter is built here, on demand, as `cargo xtask grade` builds the labs: it is not a
//! dependency of the course tool or of any lab, so its parser (a crate that takes about a minute
//! to build the first time) is never on the path of grading. It is built with one side only
//! (`--features labs` or `--features solutions`), so that `--solutions` works while your own
//! lab does not compile yet.
//!
//! `--compare` runs the script with CPython 3.11 too and compares what the two print on
//! standard output, line by line, and how they exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::commands::parity::{diff, find_python};
use crate::run::build::{Package, build_binary};

/// What `cargo xtask run` was asked.
pub struct Options {
    /// The script.
    pub script: PathBuf,
    /// Run on the reference solutions instead of your labs.
    pub solutions: bool,
    /// Also run CPython 3.11 and compare.
    pub compare: bool,
    /// The step limit (statements and loop iterations), if raised or lowered.
    pub max_steps: Option<u64>,
    /// The heap limit (objects alive at once), if raised or lowered.
    pub max_objects: Option<u64>,
}

/// Builds the interpreter, runs the script, and returns the exit status.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let script = &options.script;
    if !script.is_file() {
        return Err(format!("{} is not a file", script.display()));
    }
    let (feature, whose) = if options.solutions {
        ("solutions", "the reference solutions")
    } else {
        ("labs", "your labs 03 and 04")
    };
    let sources: Vec<PathBuf> = [
        "pyrun",
        "pyheap",
        "labs/03-cycles",
        "labs/04-generations",
        "solutions/03-cycles",
        "solutions/04-generations",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    let package = Package {
        name: "pyrun",
        sources: &sources,
    };
    eprintln!("Building the interpreter on {whose} (the first build takes about a minute)...");
    let exe = build_binary(root, &package, "pyrun", feature).map_err(|e| {
        let advice = if options.solutions {
            String::new()
        } else {
            "\n`cargo xtask run` needs your labs 03 and 04 to compile; `--solutions` runs the \
             script on the reference solutions meanwhile."
                .to_string()
        };
        format!(
            "the interpreter did not build: {}\n{}{advice}",
            e.summary, e.detail
        )
    })?;
    let mut command = Command::new(&exe);
    command.arg(script);
    if options.solutions {
        command.arg("--solutions");
    }
    if let Some(n) = options.max_steps {
        command.arg("--max-steps").arg(n.to_string());
    }
    if let Some(n) = options.max_objects {
        command.arg("--max-objects").arg(n.to_string());
    }
    if !options.compare {
        // The closing line names the collector that ran, and what it did.
        command.arg("--summary");
        let status = command
            .status()
            .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
        return Ok(status.code().unwrap_or(2));
    }
    let ours = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", exe.display()))?;
    let Some((python, version)) = find_python("3.11") else {
        return Err(
            "--compare needs CPython 3.11 (python3.11, or a python3 that is 3.11) on PATH, and \
             none was found"
                .to_string(),
        );
    };
    let theirs = Command::new(&python)
        .arg(script)
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {python}: {e}"))?;
    let ours_out = String::from_utf8_lossy(&ours.stdout);
    let theirs_out = String::from_utf8_lossy(&theirs.stdout);
    // The interpreter's own messages (a construct outside the subset, an unfinished lab).
    let ours_err = String::from_utf8_lossy(&ours.stderr);
    for line in ours_err
        .lines()
        .filter(|l| l.starts_with("pyrun:") || l.starts_with("  "))
    {
        eprintln!("{line}");
    }
    let (our_code, their_code) = (ours.status.code(), theirs.status.code());
    let shown = script.display();
    if ours_out == theirs_out && our_code == their_code {
        println!(
            "{shown}: the same output as {version} ({} lines), with {whose}.",
            ours_out.lines().count()
        );
        return Ok(0);
    }
    if ours_out != theirs_out {
        println!("{shown}: the output differs from {version}'s (- {version}, + {whose}):");
        print!("{}", diff(&theirs_out, &ours_out));
    }
    if our_code != their_code {
        let code = |c: Option<i32>| c.map_or("a signal".to_string(), |c| c.to_string());
        println!(
            "{shown}: {version} exited with {}, the interpreter with {}.",
            code(their_code),
            code(our_code)
        );
        let theirs_err = String::from_utf8_lossy(&theirs.stderr);
        if !theirs_err.is_empty() {
            println!("{version}'s stderr:\n{}", theirs_err.trim_end());
        }
    }
    Ok(1)
}
