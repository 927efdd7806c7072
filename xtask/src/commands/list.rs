//! `cargo xtask list`: the labs, their graded tests and points, and what the last grade said.
//!
//! Every grade of the learner's labs (`cargo xtask grade`, `watch`, `hint`) saves each test's
//! result in `target/gclabs/last-grade.json`, with a fingerprint of the lab's sources at the time
//! (see [`Snapshot`]). `list` reads it back, so it costs no build, and says when there is nothing
//! to read or when the sources changed since: results older than the code are not passed off as
//! the code's.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::course::history::{LabRecord, Snapshot, load, now};
use crate::course::labs::{self, Lab, TestMeta};
use crate::report::style::Style;

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

/// The mark of a test, in its colour.
fn mark(style: &Style, known: Known) -> String {
    match known {
        Known::Passed => style.green(known.mark()),
        Known::Failed => style.red(known.mark()),
        Known::NotStarted | Known::NotGraded => style.dim(known.mark()),
    }
}

/// Runs `cargo xtask list`. Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let numbers: Vec<u32> = options.lab.into_iter().collect();
    let labs = labs::select(root, &numbers)?;
    let store = load(root);
    let style = Style::for_stdout();
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
        mark(&style, Known::Passed),
        mark(&style, Known::Failed),
        mark(&style, Known::NotStarted),
        mark(&style, Known::NotGraded)
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
            mark(style, k),
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
            let marks: String = tests.iter().map(|t| mark(style, known(t))).collect();
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
