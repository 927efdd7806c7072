//! `cargo xtask parity`: re-record the CPython outputs that tests and the book rely on.
//!
//! A parity script is a small Python program (`*.py` in one of [`FOLDERS`]) that prints plain,
//! deterministic lines for one scenario; its output, recorded from a real CPython, sits next to it
//! as `*.out` and is committed. Rust tests run the same scenario on the course's code and compare
//! their lines with the recorded ones (`include_str!`), so the tests need no Python; the book
//! shows the script and includes the recorded output, so no session it shows can drift.
//!
//! The first lines of a script may say how it is run, as comments:
//!
//! - `# python: 3.12` runs it under that CPython release line instead of 3.11 (found as
//!   `python3.12` on PATH, or in pyenv's versions); `# python: 2.7 3.11 3.13` runs it under each,
//!   in that order, and records what they print one after the other;
//! - `# mode: repl` records it as a session at the `>>>` prompt: each line is echoed after the
//!   prompt (`>>> `, or `... ` inside a block) and run as the interactive interpreter runs it, so
//!   an expression's value is printed, and a traceback is part of the output. A blank line closes
//!   a block, as it does at the prompt. The comment lines at the top are not part of the session.
//!
//! This command runs every script again and writes the outputs that changed; with `--check` it
//! writes nothing and fails on a difference. Scripts whose CPython is not installed here are
//! counted and named, and not checked.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where parity scripts live, relative to the root: `*` matches one folder name.
const FOLDERS: &[&str] = &[
    "pyheap/parity",
    "labs/*/parity",
    "pyrun/parity",
    "book/sessions/*",
];

/// The CPython release line a script runs under unless it says otherwise.
const DEFAULT_VERSION: &str = "3.11";

/// The interactive interpreter, for `# mode: repl`: runs the script named by its argument one
/// line at a time through `code.InteractiveConsole` (what the `>>>` prompt does: an expression's
/// value is printed by `sys.displayhook`), echoing each line after its prompt, in a namespace
/// called `__main__` as the prompt's is. Tracebacks go to stdout, where the prompt shows them.
const REPL: &str = r##"from __future__ import print_function
import code, io, sys
lines = io.open(sys.argv[1], encoding="utf-8").read().splitlines()
while lines and lines[0].startswith("#"):
    lines.pop(0)
while lines and not lines[0].strip():
    lines.pop(0)
sys.stderr = sys.stdout
console = code.InteractiveConsole({"__name__": "__main__", "__doc__": None}, "<stdin>")
more = False
for line in lines:
    sys.stdout.write((("... " if more else ">>> ") + line).rstrip() + "\n")
    sys.stdout.flush()
    more = console.push(line)
if more:
    sys.stdout.write("...\n")
    console.push("")
"##;

/// How one script is run: the first lines' `# python:` and `# mode:` comments.
#[derive(Debug, PartialEq, Eq)]
struct Header {
    /// The CPython release lines it runs under, in order: `3.11` unless the script says
    /// otherwise.
    versions: Vec<String>,
    /// Whether it is a session at the `>>>` prompt.
    repl: bool,
}

/// Reads the `# python: X.Y` and `# mode: repl` comments among the first comment lines of a
/// script.
fn header(script: &str) -> Result<Header, String> {
    let mut header = Header {
        versions: vec![DEFAULT_VERSION.to_string()],
        repl: false,
    };
    for line in script.lines().take_while(|l| l.starts_with('#')) {
        let comment = line.trim_start_matches('#').trim();
        if let Some(versions) = comment.strip_prefix("python:") {
            let versions: Vec<String> = versions.split_whitespace().map(str::to_string).collect();
            let valid = |v: &String| {
                v.split('.').count() == 2
                    && v.split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            };
            if versions.is_empty() || !versions.iter().all(valid) {
                return Err(format!(
                    "`{line}`: a script names its CPython as `# python: 3.12` (a release line), or \
                     several, as `# python: 3.11 3.12`"
                ));
            }
            header.versions = versions;
        } else if let Some(mode) = comment.strip_prefix("mode:") {
            match mode.trim() {
                "repl" => header.repl = true,
                "script" => header.repl = false,
                other => {
                    return Err(format!(
                        "`{line}`: the mode is `repl` (a session at the >>> prompt) or `script`, \
                         not `{other}`"
                    ));
                }
            }
        }
    }
    Ok(header)
}

/// Re-records (or, with `check`, compares) every parity script's output. Returns the exit code.
pub fn run(root: &Path, check: bool) -> Result<i32, String> {
    let scripts = scripts(root)?;
    // The interpreter of each release line the scripts ask for, found once.
    let mut pythons: BTreeMap<String, Option<(String, String)>> = BTreeMap::new();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut changed = Vec::new();
    let mut ran = 0;
    let mut versions_run = Vec::new();
    'scripts: for script in &scripts {
        let shown = relative(root, script);
        let text =
            fs::read_to_string(script).map_err(|e| format!("could not read {shown}: {e}"))?;
        let header = header(&text).map_err(|e| format!("{shown}: {e}"))?;
        // Every interpreter the script wants, or it is not run at all.
        let mut interpreters = Vec::new();
        for version in &header.versions {
            let python = pythons
                .entry(version.clone())
                .or_insert_with(|| find_python(version))
                .clone();
            match python {
                Some(python) => interpreters.push(python),
                None => {
                    missing.entry(version.clone()).or_default().push(shown);
                    continue 'scripts;
                }
            }
        }
        ran += 1;
        let recorded_path = script.with_extension("out");
        let mut fresh = String::new();
        for python in &interpreters {
            if !versions_run.contains(&python.1) {
                versions_run.push(python.1.clone());
            }
            fresh.push_str(&run_one(script, python, header.repl, root)?);
        }
        let recorded = fs::read_to_string(&recorded_path).ok();
        if recorded.as_deref() == Some(fresh.as_str()) {
            continue;
        }
        let out_shown = relative(root, &recorded_path);
        let by: Vec<&str> = interpreters.iter().map(|p| p.1.as_str()).collect();
        if check {
            println!(
                "{out_shown} differs from what {} prints now:",
                by.join(" then ")
            );
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
    for (version, shown) in &missing {
        println!(
            "python{version} is not installed here: {} script{} that want{} it {} not \
             re-recorded{} ({}). Install CPython {version} (python{version} on PATH, or in pyenv) \
             to record {}.",
            shown.len(),
            if shown.len() == 1 { "" } else { "s" },
            if shown.len() == 1 { "s" } else { "" },
            if shown.len() == 1 { "was" } else { "were" },
            if check {
                " and nothing was checked"
            } else {
                ""
            },
            shown.join(", "),
            if shown.len() == 1 { "it" } else { "them" },
        );
    }
    if ran == 0 {
        return Ok(0);
    }
    let with = versions_run.join(", ");
    let verb = if check { "checked" } else { "re-recorded" };
    if changed.is_empty() {
        println!("{ran} parity scripts {verb} with {with}: every recorded output is the same.");
        Ok(0)
    } else if check {
        println!(
            "{} of {ran} recorded outputs differ from {with}. If CPython is right, run `cargo \
             xtask parity` to re-record them, then see which Rust parity tests fail.",
            changed.len(),
        );
        Ok(1)
    } else {
        println!(
            "{ran} parity scripts re-recorded with {with}: {} changed. Run `cargo test` to see \
             whether the Rust side still agrees (the parity tests compare with these outputs).",
            changed.len()
        );
        Ok(0)
    }
}

/// Runs `script` under `python` (as a session at the prompt if `repl`), and returns what it
/// printed; an error if it failed, wrote to stderr, or printed something that is not UTF-8.
fn run_one(
    script: &Path,
    python: &(String, String),
    repl: bool,
    root: &Path,
) -> Result<String, String> {
    let shown = relative(root, script);
    let mut cmd = Command::new(&python.0);
    if repl {
        cmd.arg("-c").arg(REPL);
    }
    let output = cmd
        .arg(script)
        .current_dir(script.parent().unwrap_or(root))
        // The same small environment for every run: CPython copies the environment into
        // `os.environ` at start-up, so a longer one (cargo's variables under `cargo test`)
        // takes other blocks of pymalloc and moves the block numbers a session prints.
        // PATH too is fixed: it is part of that environment, and one folder more in a
        // learner's PATH (or in CI's) moved a recorded block number by one. Scripts that need
        // another interpreter run `sys.executable` or are run under it (`# python:`).
        .env_clear()
        .env("PATH", FIXED_PATH)
        .env("LANG", "C.UTF-8")
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .map_err(|e| format!("could not run {}: {e}", python.0))?;
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
    String::from_utf8(output.stdout).map_err(|_| {
        format!(
            "{shown} printed something that is not UTF-8 under {}",
            python.1
        )
    })
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

/// A CPython of the release line `version` (`3.11`): `python3.11` on PATH, `python3` if it is
/// that release, or the newest of pyenv's versions of it. Returns the command and its
/// `--version` line.
pub fn find_python(version: &str) -> Option<(String, String)> {
    let series = format!("Python {version}.");
    let mut candidates = vec![format!("python{version}")];
    if version == DEFAULT_VERSION {
        candidates.push("python3".to_string());
    }
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(versions) = pyenv.map(|p| p.join("versions"))
        && let Ok(entries) = fs::read_dir(&versions)
    {
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{version}.")))
            })
            .filter_map(|p| {
                // `python3.12`, or for Python 2 `python2.7`: every release names it so.
                let bin = p.join("bin").join(format!("python{version}"));
                bin.is_file().then_some(bin)
            })
            .collect();
        // Newest last: 3.12.10 after 3.12.9.
        found.sort_by_key(|p| {
            p.parent()
                .and_then(Path::parent)
                .and_then(Path::file_name)
                .map(|n| {
                    n.to_string_lossy()
                        .split('.')
                        .map(|part| part.parse::<u32>().unwrap_or(0))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        });
        candidates.extend(found.into_iter().rev().map(|p| p.display().to_string()));
    }
    candidates.into_iter().find_map(|name| {
        let output = Command::new(&name).arg("--version").output().ok()?;
        // Python 2 prints its version to stderr.
        let line = if output.stdout.is_empty() {
            String::from_utf8_lossy(&output.stderr).trim().to_string()
        } else {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        if !(output.status.success() && line.starts_with(&series)) {
            return None;
        }
        // The interpreter's own file, so that it runs under the fixed PATH of `FIXED_PATH`
        // (a pyenv shim needs pyenv on PATH to find it).
        let real = Command::new(&name)
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|p| Path::new(p).is_absolute())
            .unwrap_or(name);
        Some((real, line))
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

/// The PATH every recorded script runs with, whatever the shell's.
const FIXED_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

#[cfg(test)]
mod tests {
    use super::{Header, diff, header};

    #[test]
    fn the_first_comments_say_how_a_script_runs() {
        assert_eq!(
            header("import gc\n").unwrap(),
            Header {
                versions: vec!["3.11".into()],
                repl: false
            }
        );
        assert_eq!(
            header("# What it shows.\n# python: 3.12\n# mode: repl\nimport gc\n# python: 3.9\n")
                .unwrap(),
            Header {
                versions: vec!["3.12".into()],
                repl: true
            }
        );
        assert_eq!(
            header("# python: 2.7 3.13\n").unwrap().versions,
            ["2.7", "3.13"]
        );
        assert!(header("# python: three\n").is_err());
        assert!(header("# python:\n").is_err());
        assert!(header("# mode: notebook\n").is_err());
    }

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
