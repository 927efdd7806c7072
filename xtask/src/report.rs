//! What the grader prints: a report for people, or JSON lines for machines.

use std::io::IsTerminal;

use serde::Serialize;

use crate::grade::{LabResult, Options, Side, TestResult};
use crate::sandbox::Outcome;
use crate::text::{plural, sh_quote, wrap};

/// How many lines of a failing test's output the next step shows.
const DETAIL_LINES: usize = 40;
/// A lab with more tests than this is summed up in the report rather than listed test by test.
const SUM_UP_OVER: usize = 12;
/// How many failing tests a summed-up lab lists one by one.
const LISTED_AT_MOST: usize = 8;

/// ANSI styling, switched off when stdout is not a terminal or `NO_COLOR` is set.
struct Style {
    on: bool,
}

impl Style {
    fn new() -> Self {
        Style {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// The report for people: per lab, per test, the total, and the next step.
pub fn human(results: &[LabResult], options: &Options) {
    let s = Style::new();
    // "Your work" only in the learner's own checkout: an instructor grading a submission or
    // another checkout is told whose work it is.
    let what = match (options.side, &options.delivery.submission) {
        (Side::Solutions, _) => "the reference solutions in solutions/".to_string(),
        (Side::Labs, Some(dir)) => format!("the submission in {}", dir.display()),
        (Side::Labs, None) if !is_own_checkout(&options.root) => {
            format!("the work in {}/", options.root.join("labs").display())
        }
        (Side::Labs, None) => "your work in labs/".to_string(),
    };
    println!();
    println!("{}", s.bold(&format!("gclabs grader: {what}")));
    let width = results
        .iter()
        .flat_map(|r| r.tests.iter().map(|t| t.meta.name.len()))
        .max()
        .unwrap_or(20)
        .min(56);
    for lab in results {
        println!();
        let score = format!("{:>3} / {}", lab.points(), lab.max_points());
        let title = format!("{} · {}", lab.lab.label(), lab.lab.meta.title);
        println!(
            "{}  {}",
            s.bold(&format!("{title:<width$}", width = width + 11)),
            s.bold(&score)
        );
        if let Some(e) = &lab.build_error {
            println!("  {} {}", s.red("does not compile:"), e.summary);
            for line in e.detail.lines().take(DETAIL_LINES) {
                println!("    {line}");
            }
            println!(
                "  {}",
                s.dim(&format!(
                    "every test of this lab scores 0 until it compiles ({})",
                    plural(lab.tests.len(), "test")
                ))
            );
            continue;
        }
        // A lab not started at all is one line, not one line per test: the first run of a new
        // learner should fit on a screen. `--verbose` lists every test.
        let untouched = lab.tests.len() > 1
            && lab
                .tests
                .iter()
                .all(|t| matches!(t.run.outcome, Outcome::NotStarted { .. }));
        if untouched && !options.verbose {
            println!(
                "  {}",
                s.dim(&format!(
                    "· not started: all {} tests reach a todo!(); the first is `{}` (--verbose lists them)",
                    lab.tests.len(),
                    lab.tests[0].meta.name
                ))
            );
        }
        // A long lab is summed up, so that the whole report fits on a screen: one line for the
        // tests that pass, one for those not started, and the others one by one, at most
        // LISTED_AT_MOST of them. `--verbose` (or `cargo xtask list`) shows every test.
        let summed_up = !untouched && !options.verbose && lab.tests.len() > SUM_UP_OVER;
        let is_listed = |t: &&TestResult| {
            !summed_up || !matches!(t.run.outcome, Outcome::Passed | Outcome::NotStarted { .. })
        };
        let passing: Vec<&TestResult> = lab
            .tests
            .iter()
            .filter(|t| t.run.outcome == Outcome::Passed)
            .collect();
        let points: u32 = passing.iter().map(|t| t.points()).sum();
        let passing = passing.len();
        if summed_up && passing > 0 {
            let text = passing_line(passing, lab.tests.len(), points);
            println!("  {} {}", s.green("✓"), text);
        }
        let listed = lab.tests.iter().filter(is_listed).count();
        let cap = match summed_up {
            true => LISTED_AT_MOST,
            false => usize::MAX,
        };
        for t in lab
            .tests
            .iter()
            .filter(|_| !untouched || options.verbose)
            .filter(is_listed)
            .take(cap)
        {
            let (mark, reason) = match &t.run.outcome {
                Outcome::Passed => (s.green("✓"), String::new()),
                Outcome::NotStarted { .. } => (s.dim("·"), s.dim(&t.run.outcome.reason())),
                _ => (s.red("✗"), t.run.outcome.reason()),
            };
            let points = format!("{:>2}/{:<2}", t.points(), t.meta.points);
            let name = format!("{:<width$}", t.meta.name);
            println!(
                "{}",
                format!("  {mark} {points} {name}  {}", shorten(&reason, 90)).trim_end()
            );
            if options.verbose
                && !matches!(t.run.outcome, Outcome::Passed | Outcome::NotStarted { .. })
            {
                print_detail(t, "      ", &s);
            }
        }
        if summed_up && listed > cap {
            let more = listed - cap;
            let text = format!("… and {more} more that fail (--verbose lists them)");
            println!("  {} {text}", s.red("✗"));
        }
        let mut not_started = lab
            .tests
            .iter()
            .filter(|t| matches!(t.run.outcome, Outcome::NotStarted { .. }));
        if let (true, Some(first)) = (summed_up, not_started.next()) {
            let text = format!(
                "{} not started (they reach a todo!()); the first is `{}`",
                not_started.count() + 1,
                first.meta.name
            );
            println!("  {}", s.dim(&format!("· {text}")));
        }
        let measured_later = lab.measurement.is_none()
            && lab.build_error.is_none()
            && options.measure
            && options.test.is_none();
        if let (true, Some(spec)) = (measured_later, &lab.lab.meta.measure) {
            let text = format!(
                "once every test passes, the grade also measures {} (shown, never graded)",
                spec.title
            );
            println!("  {}", s.dim(&format!("· {text}")));
        }
        if let (Some(m), Some(spec)) = (&lab.measurement, &lab.lab.meta.measure) {
            println!();
            println!(
                "  {}",
                s.bold(&format!("Measured, not graded: {}", spec.title))
            );
            let text = match m {
                Ok(text) => text.clone(),
                Err(why) => why.clone(),
            };
            for line in text.lines() {
                println!("{}", format!("    {line}").trim_end());
            }
        }
    }
    let points: u32 = results.iter().map(LabResult::points).sum();
    let max: u32 = results.iter().map(LabResult::max_points).sum();
    let passed = results
        .iter()
        .flat_map(|r| &r.tests)
        .filter(|t| t.run.outcome == Outcome::Passed)
        .count();
    let total = results.iter().map(|r| r.tests.len()).sum::<usize>();
    let percent = (points * 100).checked_div(max).unwrap_or(100);
    println!();
    println!(
        "{}",
        s.bold(&format!(
            "Total: {points} / {max} points ({percent}%), {passed} of {total} tests pass"
        ))
    );
    next_step(results, options, &s);
}

/// Whether `root` is the checkout the command runs in (the learner's own), rather than one an
/// instructor grades with `--root`.
fn is_own_checkout(root: &std::path::Path) -> bool {
    root.canonicalize().ok() == crate::labs::home()
}

/// The options a suggested `cargo xtask` command must repeat to grade the same work the same
/// way: `--root` for another checkout, `--solutions`, `--pristine`, `--pristine-from`,
/// `--submission` (each with a leading space, paths quoted for the shell).
fn same_work(options: &Options) -> String {
    let mut flags = String::new();
    if !is_own_checkout(&options.root) {
        flags += &format!(" --root {}", sh_quote(&options.root.display().to_string()));
    }
    if options.side == Side::Solutions {
        flags += " --solutions";
    }
    let delivery = &options.delivery;
    if let Some(dir) = &delivery.submission {
        flags += &format!(" --submission {}", sh_quote(&dir.display().to_string()));
    } else if delivery.pristine {
        flags += " --pristine";
    }
    if let Some(dir) = &delivery.pristine_from {
        flags += &format!(" --pristine-from {}", sh_quote(&dir.display().to_string()));
    }
    flags
}

fn next_step(results: &[LabResult], options: &Options, s: &Style) {
    let first = results
        .iter()
        .flat_map(|r| r.tests.iter().map(move |t| (r, t)))
        .find(|(_, t)| t.run.outcome != Outcome::Passed);
    println!();
    let Some((lab, t)) = first else {
        match options.side {
            Side::Labs => {
                println!("Every selected test passes. Well done: on to the next lab's chapter.")
            }
            Side::Solutions => println!("The reference solutions pass every graded test."),
        }
        return;
    };
    if let Some(e) = &lab.build_error {
        println!(
            "{}",
            s.bold(&format!("Next step: make {} compile", lab.lab.label()))
        );
        println!("  The first error is at {}.", e.summary);
        println!(
            "  Fix it and run `cargo xtask grade{} --lab {}` again.",
            same_work(options),
            lab.lab.meta.number
        );
        return;
    }
    println!(
        "{}",
        s.bold(&format!(
            "Next step: {}, test `{}` ({})",
            lab.lab.label(),
            t.meta.name,
            plural(t.meta.points as usize, "point")
        ))
    );
    println!("  {}", t.run.outcome.reason());
    if !matches!(t.run.outcome, Outcome::NotStarted { .. } | Outcome::Missing) {
        print_detail(t, "  │ ", s);
    }
    if let Some(hint) = t.hint(&lab.lab) {
        for (i, line) in wrap(&hint, 92).iter().enumerate() {
            println!("  {}{line}", if i == 0 { "Hint: " } else { "      " });
        }
    }
    if t.meta.hints.len() > 1 {
        println!(
            "  {}",
            s.dim(&format!(
                "({}, one at a time: cargo xtask hint {} {})",
                plural(t.meta.hints.len() - 1, "more hint"),
                lab.lab.meta.number,
                t.meta.name
            ))
        );
    }
    let (page, anchor) = t
        .meta
        .section
        .split_once('#')
        .unwrap_or((&t.meta.section, ""));
    let html = page.trim_end_matches(".md");
    println!("  Read: book/src/{page}, section #{anchor}");
    println!(
        "        (or the built book: `cargo xtask book`, then open book/build/{html}.html#{anchor})"
    );
    println!(
        "  Run only this test: cargo xtask grade{} --lab {} --test {}",
        same_work(options),
        lab.lab.meta.number,
        t.meta.name
    );
}

fn print_detail(t: &TestResult, prefix: &str, s: &Style) {
    let text = match &t.run.outcome {
        Outcome::Failed { message, .. } if !message.trim().is_empty() => message.clone(),
        _ => t.run.output.clone(),
    };
    // pretty_assertions colours its diffs; keep the colours only where they can be seen.
    let text = if s.on { text } else { strip_ansi(&text) };
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(DETAIL_LINES) {
        println!("{prefix}{line}");
    }
    if lines.len() > DETAIL_LINES {
        println!("{prefix}[... {} more lines]", lines.len() - DETAIL_LINES);
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
}

/// One JSON object per line and per test: the machine-readable report.
#[derive(Serialize)]
struct JsonResult<'a> {
    kind: &'static str,
    lab: u32,
    lab_title: &'a str,
    test: &'a str,
    status: &'static str,
    points: u32,
    max_points: u32,
    reason: String,
    section: &'a str,
    hint: Option<String>,
    duration_ms: u128,
    output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    compile_error: Option<&'a str>,
}

/// A lab's measurement, as one JSON line after its tests.
#[derive(Serialize)]
struct JsonMeasurement<'a> {
    kind: &'static str,
    lab: u32,
    title: &'a str,
    ok: bool,
    output: String,
}

/// The machine-readable report, one JSON object per line: one per test (`"kind": "test"`), and
/// one per measurement (`"kind": "measurement"`) before its lab's tests. `formats` writes them to
/// stdout or `--output`.
pub fn json_lines(results: &[LabResult]) -> Vec<String> {
    let mut lines = Vec::new();
    for lab in results {
        if let (Some(m), Some(spec)) = (&lab.measurement, &lab.lab.meta.measure) {
            let (ok, text) = match m {
                Ok(t) => (true, t),
                Err(t) => (false, t),
            };
            let line = JsonMeasurement {
                kind: "measurement",
                lab: lab.lab.meta.number,
                title: &spec.title,
                ok,
                output: strip_ansi(text),
            };
            if let Ok(text) = serde_json::to_string(&line) {
                lines.push(text);
            }
        }
        for t in &lab.tests {
            let output = match &t.run.outcome {
                Outcome::Failed { message, .. } if t.run.output.is_empty() => message.clone(),
                _ => t.run.output.clone(),
            };
            let line = JsonResult {
                kind: "test",
                lab: lab.lab.meta.number,
                lab_title: &lab.lab.meta.title,
                test: &t.meta.name,
                status: t.run.outcome.status(),
                points: t.points(),
                max_points: t.meta.points,
                reason: strip_ansi(&t.run.outcome.reason()),
                section: &t.meta.section,
                hint: t.hint(&lab.lab),
                duration_ms: t.run.duration.as_millis(),
                output: strip_ansi(&output),
                compile_error: lab.build_error.as_ref().map(|e| e.detail.as_str()),
            };
            match serde_json::to_string(&line) {
                Ok(text) => lines.push(text),
                Err(e) => eprintln!("could not write the result of {} as JSON: {e}", t.meta.name),
            }
        }
    }
    lines
}

/// What a summed-up lab's tests that pass are worth: `3 of 51 tests pass (4 points)`.
fn passing_line(passing: usize, tests: usize, points: u32) -> String {
    if passing == tests {
        format!("all {tests} tests pass")
    } else {
        format!(
            "{passing} of {tests} tests pass ({})",
            plural(points as usize, "point")
        )
    }
}

/// Removes ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summed_up_lab_says_what_its_passing_tests_are_worth_in_good_english() {
        assert_eq!(passing_line(1, 51, 1), "1 of 51 tests pass (1 point)");
        assert_eq!(passing_line(3, 51, 4), "3 of 51 tests pass (4 points)");
        assert_eq!(passing_line(51, 51, 100), "all 51 tests pass");
    }
}
