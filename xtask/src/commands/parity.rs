//! `cargo xtask parity`: re-record the CPython parity outputs.
//!
//! A parity script is a small Python program (`*.py` in one of [`FOLDERS`]) that prints plain,
//! deterministic lines for one scenario; its output, recorded from a real CPython 3.11, sits next
//! to it as `*.out` and is committed. Rust tests run the same scenario on the course's code and
//! compare their lines with the recorded ones (`include_str!`), so the tests need no Python.
//!
//! This command runs every script again under CPython 3.11 and writes the outputs that changed;
//! with `--check` it writes nothing and fails on a difference. With no CPython 3.11 here it says
//! so and checks nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where parity scripts live, relative to the root: `*` matches one folder name.
const FOLDERS: &[&str] = &["pyheap/parity", "labs/*/parity", "pyrun/parity"];

/// The CPython release line the recorded outputs come from.
const SERIES: &str = "Python 3.11.";

/// Re-records (or, with `check`, compares) every parity script's output. Returns the exit code.
pub fn run(root: &Path, check: bool) -> Result<i32, String> {
    let scripts = scripts(root)?;
    let Some(python) = find_python() else {
        println!(
            "python3.11 is not installed here: the recorded outputs were not re-recorded{} ({} \
             scripts). Install CPython 3.11 (python3.11 on PATH) to record them.",
            if check {
                " and nothing was checked"
            } else {
                ""
            },
            scripts.len()
        );
        return Ok(0);
    };
    let mut changed = Vec::new();
    for script in &scripts {
        let recorded_path = script.with_extension("out");
        let output = Command::new(&python.0)
            .arg(script)
            .current_dir(script.parent().unwrap_or(root))
            .env("PYTHONHASHSEED", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .map_err(|e| format!("could not run {}: {e}", python.0))?;
        let shown = relative(root, script);
        if !output.status.success() {
            return Err(format!(
                "{shown} failed under {} ({}):\n{}",
                python.1,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        if !output.stderr.is_empty() {
            return Err(format!(
                "{shown} wrote to stderr under {}; a parity script must print only to stdout:\n{}",
                python.1,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let fresh = String::from_utf8(output.stdout)
            .map_err(|_| format!("{shown} printed something that is not UTF-8"))?;
        let recorded = fs::read_to_string(&recorded_path).ok();
        if recorded.as_deref() == Some(fresh.as_str()) {
            continue;
        }
        let out_shown = relative(root, &recorded_path);
        if check {
            println!("{out_shown} differs from what {} prints now:", python.1);
            print!("{}", diff(recorded.as_deref().unwrap_or(""), &fresh));
        } else {
            fs::write(&recorded_path, &fresh)
                .map_err(|e| format!("could not write {out_shown}: {e}"))?;
            println!(
                "{} {out_shown}",
                if recorded.is_some() {
                    "changed:"
                } else {
                    "new:    "
                }
            );
        }
        changed.push(out_shown);
    }
    let verb = if check { "checked" } else { "re-recorded" };
    if changed.is_empty() {
        println!(
            "{} parity scripts {verb} with {}: every recorded output is the same.",
            scripts.len(),
            python.1
        );
        Ok(0)
    } else if check {
        println!(
            "{} of {} recorded outputs differ from {}. If CPython is right, run `cargo xtask \
             parity` to re-record them, then see which Rust parity tests fail.",
            changed.len(),
            scripts.len(),
            python.1
        );
        Ok(1)
    } else {
        println!(
            "{} parity scripts re-recorded with {}: {} changed. Run `cargo test` to see whether \
             the Rust side still agrees (the parity tests compare with these outputs).",
            scripts.len(),
            python.1,
            changed.len()
        );
        Ok(0)
    }
}

/// Every `*.py` under [`FOLDERS`], sorted.
fn scripts(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for pattern in FOLDERS {
        for folder in expand(root, pattern)? {
            let entries = fs::read_dir(&folder)
                .map_err(|e| format!("could not list {}: {e}", folder.display()))?;
            for entry in entries {
                let path = entry
                    .map_err(|e| format!("could not list {}: {e}", folder.display()))?
                    .path();
                if path.extension().is_some_and(|ext| ext == "py") && path.is_file() {
                    found.push(path);
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The folders `pattern` names under `root` (a `*` component matches any one folder); those
/// that do not exist are left out.
fn expand(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let mut folders = vec![root.to_path_buf()];
    for part in pattern.split('/') {
        let mut next = Vec::new();
        for folder in folders {
            if part == "*" {
                let Ok(entries) = fs::read_dir(&folder) else {
                    continue;
                };
                let mut subfolders: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect();
                subfolders.sort();
                next.extend(subfolders);
            } else {
                let path = folder.join(part);
                if path.is_dir() {
                    next.push(path);
                }
            }
        }
        folders = next;
    }
    Ok(folders)
}

/// A CPython 3.11 interpreter: `python3.11` on PATH, else `python3` if it is 3.11. Returns the
/// command and its `--version` line.
pub fn find_python() -> Option<(String, String)> {
    ["python3.11", "python3"].into_iter().find_map(|name| {
        let output = Command::new(name).arg("--version").output().ok()?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && version.starts_with(SERIES))
            .then(|| (name.to_string(), version))
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A line diff of `old` and `new` (longest common subsequence): `-` lines only in the recorded
/// output, `+` lines only in the fresh one, two spaces for lines in both.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("    {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("  - {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("  + {}\n", b[j]));
            j += 1;
        }
    }
    if old.ends_with('\n') != new.ends_with('\n') {
        out.push_str("  (the two differ in the final newline)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn diff_marks_removed_and_added_lines() {
        assert_eq!(
            diff("a\nb\nc\n", "a\nc\nd\n"),
            "    a\n  - b\n    c\n  + d\n"
        );
        assert_eq!(
            diff("a\nx\nc\n", "a\ny\nc\n"),
            "    a\n  - x\n  + y\n    c\n"
        );
    }
}
