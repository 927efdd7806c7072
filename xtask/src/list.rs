//! `cargo xtask list`: the labs, their graded tests and points, and what the last grade said.
//!
//! Every grade of the learner's labs (`cargo xtask grade`, `watch`, `hint`) saves each test's
//! result in `target/gclabs/last-grade.json`, with a fingerprint of the lab's sources at the time
//! (see [`Snapshot`]). `list` reads it back, so it costs no build, and says when there is nothing
//! to read or when the sources changed since: results older than the code are not passed off as
//! the code's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::grade::{self, LabResult};
use crate::labs::{Lab, TestMeta};
use crate::watch::Snapshot;

/// A lab with more graded tests than this is listed one line per book section, not per test, so
/// that it fits on a screen (`--verbose` lists every test).
const GROUP_OVER: usize = 16;

/// What to list.
pub struct Options {
    /// Only this lab (by number).
    pub lab: Option<u32>,
    /// One line per test, even for a lab with many.
    pub verbose: bool,
}

/// The state of each lab's sources when a grade started.
pub struct Sources(Vec<(u32, Snapshot)>);

impl Sources {
    /// Looks at the sources of every lab in `labs` now (before building them).
    pub fn take(labs: &[Lab]) -> Sources {
        Sources(
            labs.iter()
                .map(|l| (l.meta.number, Snapshot::take(l)))
                .collect(),
        )
    }
}

/// The saved results: `target/gclabs/last-grade.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Store {
    /// The format of this file, for a later version of the tool.
    version: u32,
    /// By lab number.
    labs: BTreeMap<u32, LabRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LabRecord {
    /// When this lab was graded last (seconds since the Unix epoch).
    graded_at: u64,
    /// The first compile error of the last grade, if the lab did not compile.
    build_error: Option<String>,
    /// By test name.
    tests: BTreeMap<String, TestRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TestRecord {
    /// As in `--json`: `passed`, `failed`, `not_started`, ...
    status: String,
    points: u32,
    max_points: u32,
    /// The one-line reason.
    reason: String,
    /// [`Snapshot::fingerprint`] of the lab's sources when the test was graded.
    sources: String,
    graded_at: u64,
}

const VERSION: u32 = 1;

fn store_path(root: &Path) -> PathBuf {
    root.join("target").join("gclabs").join("last-grade.json")
}

/// The saved results, or `None` when there are none (or they cannot be read).
fn load(root: &Path) -> Option<Store> {
    let text = fs::read_to_string(store_path(root)).ok()?;
    serde_json::from_str::<Store>(&text)
        .ok()
        .filter(|s| s.version == VERSION)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Saves the results of a grade of the learner's labs, merged into the earlier ones (a grade of
/// one lab, or of one test, keeps what was saved about the others). `sources` is the state of the
/// sources before the build. Written to a temporary file then renamed, so a reader never sees half
/// a file. A failure is a warning: the grade itself went fine.
pub fn record(root: &Path, results: &[LabResult], sources: &Sources) {
    if let Err(e) = try_record(root, results, sources) {
        eprintln!(
            "warning: could not save the results for `cargo xtask list` in {}: {e}",
            store_path(root).display()
        );
    }
}

fn try_record(root: &Path, results: &[LabResult], sources: &Sources) -> Result<(), String> {
    let mut store = load(root).unwrap_or_default();
    store.version = VERSION;
    let time = now();
    for result in results {
        let number = result.lab.meta.number;
        let fingerprint = sources
            .0
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, s)| s.fingerprint())
            .unwrap_or_default();
        let record = store.labs.entry(number).or_insert_with(|| LabRecord {
            graded_at: time,
            build_error: None,
            tests: BTreeMap::new(),
        });
        record.graded_at = time;
        record.build_error = result.build_error.as_ref().map(|e| e.summary.clone());
        // Forget tests the metadata no longer lists.
        record
            .tests
            .retain(|name, _| result.lab.meta.tests.iter().any(|t| t.name == *name));
        for t in &result.tests {
            record.tests.insert(
                t.meta.name.clone(),
                TestRecord {
                    status: t.run.outcome.status().to_string(),
                    points: t.points(),
                    max_points: t.meta.points,
                    reason: t.run.outcome.reason(),
                    sources: fingerprint.clone(),
                    graded_at: time,
                },
            );
        }
    }
    let path = store_path(root);
    let dir = path.parent().ok_or("no parent folder")?;
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&store).map_err(|e| e.to_string())?;
    let temporary = dir.join(format!("last-grade.json.{}.tmp", std::process::id()));
    fs::write(&temporary, text).map_err(|e| e.to_string())?;
    fs::rename(&temporary, &path).map_err(|e| {
        let _ = fs::remove_file(&temporary);
        e.to_string()
    })
}

/// For each lab of `labs`: whether its last grade, still up to date with its sources, passed
/// every graded test.
pub fn full_marks(root: &Path, labs: &[Lab]) -> Vec<bool> {
    let store = load(root);
    labs.iter()
        .map(|lab| {
            let fingerprint = Snapshot::take(lab).fingerprint();
            let record = store.as_ref().and_then(|s| s.labs.get(&lab.meta.number));
            record.is_some_and(|r| {
                lab.meta.tests.iter().all(|t| {
                    r.tests
                        .get(&t.name)
                        .is_some_and(|tr| tr.status == "passed" && tr.sources == fingerprint)
                })
            })
        })
        .collect()
}

/// What is known of one test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Passed,
    NotStarted,
    Failed,
    NotGraded,
}

impl Known {
    fn mark(self) -> &'static str {
        match self {
            Known::Passed => "✓",
            Known::NotStarted => "·",
            Known::Failed => "✗",
            Known::NotGraded => "?",
        }
    }
}

/// ANSI colours, only on a terminal and without `NO_COLOR`.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn mark(&self, known: Known) -> String {
        match known {
            Known::Passed => self.paint("32", known.mark()),
            Known::Failed => self.paint("31", known.mark()),
            Known::NotStarted | Known::NotGraded => self.paint("2", known.mark()),
        }
    }
}

/// Runs `cargo xtask list`. Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let numbers: Vec<u32> = options.lab.into_iter().collect();
    let labs = grade::select(root, &numbers)?;
    let store = load(root);
    let style = Style {
        on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // The whole listing is written at once, and a closed pipe (`cargo xtask list | head`) is
    // not an error worth a panic.
    let o = &mut String::new();
    let _ = writeln!(o);
    let _ = match &store {
        Some(_) => writeln!(
            o,
            "gclabs: the labs, their graded tests, and your last grade"
        ),
        None => writeln!(
            o,
            "gclabs: the labs and their graded tests (no grade saved yet: run `cargo xtask grade`)"
        ),
    };
    let (mut points, mut max) = (0, 0);
    for lab in &labs {
        let record = store.as_ref().and_then(|s| s.labs.get(&lab.meta.number));
        let (p, m) = show_lab(o, root, lab, record, options.verbose, &style);
        points += p;
        max += m;
    }
    let _ = writeln!(o);
    if labs.len() > 1 && store.is_some() {
        let _ = writeln!(o, "Total at the last grade: {points} / {max} points");
    }
    let _ = writeln!(
        o,
        "{} passes  {} fails  {} not started (reaches a todo!())  {} not graded",
        style.mark(Known::Passed),
        style.mark(Known::Failed),
        style.mark(Known::NotStarted),
        style.mark(Known::NotGraded)
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(o.as_bytes());
    let _ = stdout.flush();
    Ok(0)
}

/// Writes one lab to `o`; returns its points at the last grade and its points in all.
fn show_lab(
    o: &mut String,
    root: &Path,
    lab: &Lab,
    record: Option<&LabRecord>,
    verbose: bool,
    style: &Style,
) -> (u32, u32) {
    let fingerprint = Snapshot::take(lab).fingerprint();
    let known = |t: &TestMeta| -> Known {
        match record.and_then(|r| r.tests.get(&t.name)) {
            None => Known::NotGraded,
            Some(r) if r.status == "passed" => Known::Passed,
            Some(r) if r.status == "not_started" => Known::NotStarted,
            Some(_) => Known::Failed,
        }
    };
    let earned = |t: &TestMeta| -> u32 {
        record
            .and_then(|r| r.tests.get(&t.name))
            .map_or(0, |r| r.points.min(t.points))
    };
    let tests = &lab.meta.tests;
    let max: u32 = tests.iter().map(|t| t.points).sum();
    let points: u32 = tests.iter().map(earned).sum();
    let passed = tests.iter().filter(|t| known(t) == Known::Passed).count();
    let graded = record.is_some_and(|r| tests.iter().any(|t| r.tests.contains_key(&t.name)));
    let stale = record.is_some_and(|r| {
        tests
            .iter()
            .filter_map(|t| r.tests.get(&t.name))
            .any(|tr| tr.sources != fingerprint)
    });

    let _ = writeln!(o);
    let title = format!("{} · {}", lab.label(), lab.meta.title);
    let score = if graded {
        format!(
            "{points} / {max} points · {passed} of {} tests pass",
            tests.len()
        )
    } else {
        format!("{max} points · {} tests", tests.len())
    };
    let _ = writeln!(o, "{title:<44} {score}");
    let dir = lab.lab_dir.strip_prefix(root).unwrap_or(&lab.lab_dir);
    let _ = writeln!(
        o,
        "  {}",
        style.paint("2", &format!("{}/src", dir.display()))
    );

    if tests.len() > GROUP_OVER && !verbose {
        by_section(o, lab, &known, &earned, style);
    } else {
        by_test(o, lab, &known, &earned, style);
    }

    let n = lab.meta.number;
    match record.filter(|_| graded) {
        None => {
            let _ = writeln!(o, "  not graded yet: run `cargo xtask grade --lab {n}`");
        }
        Some(r) => {
            let ago = ago(now().saturating_sub(r.graded_at));
            if stale {
                let _ = writeln!(
                    o,
                    "  {}",
                    style.paint(
                        "33",
                        &format!(
                            "not graded since your last change (the marks are from {ago}); run \
                             `cargo xtask grade --lab {n}`"
                        )
                    )
                );
            } else {
                let mut line = format!("graded {ago}");
                if let Some(e) = &r.build_error {
                    line.push_str(&format!(" · does not compile: {e}"));
                } else if let Some(t) = tests.iter().find(|t| known(t) != Known::Passed) {
                    line.push_str(&format!(" · next: `{}` (cargo xtask hint {n})", t.name));
                } else {
                    line.push_str(" · every test passes");
                }
                let _ = writeln!(o, "  {line}");
            }
            if tests.iter().any(|t| known(t) == Known::NotGraded) && !stale {
                let _ = writeln!(
                    o,
                    "  {}",
                    style.paint(
                        "2",
                        &format!(
                            "(? = not in the last grade; `cargo xtask grade --lab {n}` grades \
                             them all)"
                        )
                    )
                );
            }
        }
    }
    (if graded { points } else { 0 }, max)
}

/// One line per test: mark, points, name, book section.
fn by_test(
    o: &mut String,
    lab: &Lab,
    known: &dyn Fn(&TestMeta) -> Known,
    earned: &dyn Fn(&TestMeta) -> u32,
    style: &Style,
) {
    let width = lab
        .meta
        .tests
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0);
    for t in &lab.meta.tests {
        let k = known(t);
        let points = if k == Known::NotGraded {
            format!(" -/{:<2}", t.points)
        } else {
            format!("{:>2}/{:<2}", earned(t), t.points)
        };
        let _ = writeln!(
            o,
            "  {} {points} {:<width$}  {}",
            style.mark(k),
            t.name,
            style.paint("2", &t.section)
        );
    }
}

/// A book section's anchor and its tests.
type Section<'a> = (&'a str, Vec<&'a TestMeta>);
/// A book page and its sections.
type Page<'a> = (&'a str, Vec<Section<'a>>);

/// One line per book section, grouped by page: a mark per test (in order), and the points.
fn by_section(
    o: &mut String,
    lab: &Lab,
    known: &dyn Fn(&TestMeta) -> Known,
    earned: &dyn Fn(&TestMeta) -> u32,
    style: &Style,
) {
    // Pages in the order their first test comes; in each page, sections likewise; in each
    // section, tests in the lab's order.
    let mut pages: Vec<Page> = Vec::new();
    for t in &lab.meta.tests {
        let (page, anchor) = t.section.split_once('#').unwrap_or((&t.section, ""));
        let at = match pages.iter().position(|(p, _)| *p == page) {
            Some(i) => i,
            None => {
                pages.push((page, Vec::new()));
                pages.len() - 1
            }
        };
        let sections = &mut pages[at].1;
        match sections.iter_mut().find(|(a, _)| *a == anchor) {
            Some((_, tests)) => tests.push(t),
            None => sections.push((anchor, vec![t])),
        }
    }
    let anchor_width = pages
        .iter()
        .flat_map(|(_, s)| s.iter().map(|(a, _)| a.len()))
        .max()
        .unwrap_or(0);
    let marks_width = pages
        .iter()
        .flat_map(|(_, s)| s.iter().map(|(_, t)| t.len()))
        .max()
        .unwrap_or(0);
    for (page, sections) in &pages {
        let _ = writeln!(o, "  {page}");
        for (anchor, tests) in sections {
            let marks: String = tests.iter().map(|t| style.mark(known(t))).collect();
            let pad = " ".repeat(marks_width - tests.len());
            let got = match tests.iter().all(|t| known(t) == Known::NotGraded) {
                true => "-".to_string(),
                false => tests.iter().map(|t| earned(t)).sum::<u32>().to_string(),
            };
            let all: u32 = tests.iter().map(|t| t.points).sum();
            let count = if tests.len() == 1 {
                "1 test ".to_string()
            } else {
                format!("{} tests", tests.len())
            };
            let _ = writeln!(
                o,
                "    {anchor:<anchor_width$}  {marks}{pad}  {count:>8}  {got:>2} / {all:<2} points"
            );
        }
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago".
fn ago(secs: u64) -> String {
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        86400..172800 => "1 day ago".into(),
        _ => format!("{} days ago", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(61), "1 min ago");
        assert_eq!(ago(7200), "2 h ago");
        assert_eq!(ago(90000), "1 day ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
    }
}
