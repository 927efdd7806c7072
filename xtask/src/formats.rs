//! Where and in which format `cargo xtask grade` delivers its results: the report for people,
//! JSON lines, Gradescope's results.json or JUnit XML, on stdout or in a file; and the graded
//! files that changed, in each of them.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::grade::{LabResult, Options};
use crate::pristine::{Change, Integrity, Request};
use crate::{gradescope, junit, report};

/// The output formats of `cargo xtask grade --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// The report for people: per lab, per test, the total and the next step.
    #[default]
    Human,
    /// One JSON object per line: one per test, per measurement and per changed graded file.
    Json,
    /// Gradescope's results.json: score, output, and one entry per graded test.
    Gradescope,
    /// JUnit XML for CI: one testsuite per lab, one testcase per graded test.
    Junit,
}

/// The instructor's side of a grade: format, destination, and which files to grade with.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// The output format.
    pub format: Format,
    /// Write the results to this file instead of stdout (machine formats only).
    pub output: Option<PathBuf>,
    /// Grade with the course's original graded files.
    pub pristine: bool,
    /// A clean copy of the course to take the originals from.
    pub pristine_from: Option<PathBuf>,
    /// Grade the lab sources found in this folder, in a pristine copy of the course.
    pub submission: Option<PathBuf>,
}

impl Delivery {
    /// What the pristine module needs, for the labs selected by `--lab`.
    pub fn request(&self, labs: &[u32]) -> Request {
        Request {
            pristine: self.pristine,
            pristine_from: self.pristine_from.clone(),
            submission: self.submission.clone(),
            labs: labs.to_vec(),
        }
    }

    /// Checks the combination of options before anything is built.
    pub fn validate(&self) -> Result<(), String> {
        if self.format == Format::Human
            && let Some(path) = &self.output
        {
            return Err(format!(
                "--output {} needs a machine-readable format (--format json, gradescope or \
                 junit); the report for people goes to the terminal (redirect it with `> FILE` \
                 to keep it).",
                path.display()
            ));
        }
        if let Some(dir) = &self.submission
            && !dir.is_dir()
        {
            return Err(format!(
                "the submission folder {} does not exist or is not a folder.",
                dir.display()
            ));
        }
        Ok(())
    }

    /// Checks that `--output` can be written, before a grade that may take minutes. When it
    /// cannot, there is nowhere to put even the document that says why.
    pub fn check_output(&self) -> Result<(), String> {
        match (&self.output, self.format) {
            // `validate` says that the report for people is not written to a file.
            (_, Format::Human) | (None, _) => Ok(()),
            (Some(path), _) => writable(path),
        }
    }
}

/// Checks that the results can be written to `path`, before a grade that may take minutes: the
/// file is opened for appending (so an existing one is left as it is) and removed again if it did
/// not exist. Its folder is created, as writing the results would.
fn writable(path: &Path) -> Result<(), String> {
    let fail = |why: String| {
        format!(
            "cannot write the results to {}: {why}. Nothing was graded: give --output a file in \
             a folder you can write to.",
            path.display()
        )
    };
    if path.is_dir() {
        return Err(fail(format!(
            "it is a folder (name a file in it, such as {})",
            path.join("results.json").display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Delivers the results in the chosen format.
pub fn deliver(
    results: &[LabResult],
    options: &Options,
    integrity: &Integrity,
    elapsed: Duration,
) -> Result<(), String> {
    let delivery = &options.delivery;
    let text = match delivery.format {
        Format::Human => {
            report::human(results, options);
            print_changes(results, integrity);
            return Ok(());
        }
        Format::Json => {
            let mut lines = report::json_lines(results);
            lines.extend(json_changes(results, integrity));
            lines.iter().map(|l| format!("{l}\n")).collect()
        }
        Format::Gradescope => gradescope::render(results, integrity, elapsed),
        Format::Junit => junit::render(results, integrity, elapsed),
    };
    write_out(delivery.output.as_deref(), &text)
}

/// When grading failed before there were results: Gradescope and JUnit still get a valid document
/// that says why (a results.json with score 0, a JUnit error), so that an autograder always has
/// something to show. The error itself is printed by the caller.
pub fn failed(delivery: &Delivery, message: &str) {
    let text = match delivery.format {
        Format::Gradescope => gradescope::error(message),
        Format::Junit => junit::error(message),
        Format::Human | Format::Json => return,
    };
    // The caller prints `message`; a second line only if this write failed for another reason.
    if let Err(e) = write_out(delivery.output.as_deref(), &text)
        && !message.contains(&e)
    {
        eprintln!("error: {e}");
    }
}

/// Writes `text` to `path` (creating its folder), or to stdout.
fn write_out(path: Option<&Path>, text: &str) -> Result<(), String> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the results to stdout: {e}"))
        }
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            // Written aside and renamed into place, so that a reader never finds half a file.
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let partial = path.with_file_name(format!(".{name}.partial"));
            std::fs::write(&partial, text)
                .and_then(|()| std::fs::rename(&partial, path))
                .map_err(|e| format!("cannot write the results to {}: {e}", path.display()))
        }
    }
}

/// The changes that concern the graded labs: `(lab number or None for course files, change)`.
pub fn relevant_changes<'a>(
    results: &[LabResult],
    integrity: &'a Integrity,
) -> Vec<(Option<u32>, &'a Change)> {
    let mut out: Vec<(Option<u32>, &Change)> = integrity
        .changes
        .get("")
        .into_iter()
        .flatten()
        .map(|c| (None, c))
        .collect();
    for lab in results {
        for c in integrity.changes_in(&lab.lab.lab_dir) {
            out.push((Some(lab.lab.meta.number), c));
        }
    }
    out
}

/// The graded labs that no checksum list knows.
pub fn unchecked_labs(results: &[LabResult], integrity: &Integrity) -> Vec<String> {
    results
        .iter()
        .filter(|r| {
            let name = r.lab.lab_dir.file_name().unwrap_or_default();
            integrity
                .unchecked
                .iter()
                .any(|u| std::ffi::OsStr::new(u) == name)
        })
        .map(|r| r.lab.label())
        .collect()
}

/// One paragraph, for people, on the graded files that changed and what that did to the grade.
pub fn changes_text(results: &[LabResult], integrity: &Integrity) -> Option<String> {
    let changes = relevant_changes(results, integrity);
    if changes.is_empty() {
        return None;
    }
    let width = changes.iter().map(|(_, c)| c.path.len()).max().unwrap_or(0);
    let mut text = format!(
        "{} graded {} not the course's original:\n",
        changes.len(),
        if changes.len() == 1 {
            "file is"
        } else {
            "files are"
        }
    );
    for (lab, c) in &changes {
        let label = lab.map_or("course".to_string(), |n| format!("Lab {n:02}"));
        text.push_str(&format!(
            "  {label}  {:<width$}  {}\n",
            c.path,
            c.kind.describe()
        ));
    }
    let prose = if integrity.pristine {
        "These changes did not count: the tests ran with the course's original files \
         (--pristine)."
            .to_string()
    } else {
        let paths: Vec<&str> = changes
            .iter()
            .filter(|(_, c)| c.kind != crate::pristine::ChangeKind::Added)
            .map(|(_, c)| c.path.as_str())
            .collect();
        let mut prose = "The results above come from these changed files. `cargo xtask grade \
                         --pristine` grades with the originals, without touching your files."
            .to_string();
        if !paths.is_empty() {
            prose.push_str(" To put the originals back:\n");
            prose.push_str(&format!("  git checkout -- {}", paths.join(" ")));
        }
        prose
    };
    for paragraph in prose.split('\n') {
        if paragraph.starts_with("  ") {
            text.push_str(paragraph);
            text.push('\n');
            continue;
        }
        for line in crate::text::wrap(paragraph, 92) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    Some(text)
}

fn print_changes(results: &[LabResult], integrity: &Integrity) {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if let Some(text) = changes_text(results, integrity) {
        println!();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            if color {
                println!("\x1b[1;31m{first}\x1b[0m");
            } else {
                println!("{first}");
            }
        }
        for line in lines {
            println!("{line}");
        }
    }
    let unchecked = unchecked_labs(results, integrity);
    if !unchecked.is_empty() {
        println!();
        println!(
            "Not checked for changed tests: {} (no {} knows {}).",
            unchecked.join(", "),
            crate::checksums::LIST,
            if unchecked.len() == 1 { "it" } else { "them" }
        );
    }
}

/// A changed graded file, as one JSON line.
#[derive(Serialize)]
struct JsonChange<'a> {
    kind: &'static str,
    lab: Option<u32>,
    path: &'a str,
    change: &'static str,
    pristine: bool,
}

fn json_changes(results: &[LabResult], integrity: &Integrity) -> Vec<String> {
    relevant_changes(results, integrity)
        .into_iter()
        .filter_map(|(lab, c)| {
            serde_json::to_string(&JsonChange {
                kind: "changed_file",
                lab,
                path: &c.path,
                change: c.kind.status(),
                pristine: integrity.pristine,
            })
            .ok()
        })
        .collect()
}
