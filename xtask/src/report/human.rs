//! The report for people (`--format human`, the default): per lab, per test, the total, the next
//! step, and the graded files that changed.

use std::fmt::Write as _;

use crate::grade::{Grade, NextStep, Side, TestResult};
use crate::report::context::Context;
use crate::report::style::Style;
use crate::run::sandbox::Outcome;
use crate::text::strip_ansi;
use crate::text::{plural, wrap};

/// A line of the report: `say!(out, "...", args)`, or `say!(out)` for an empty one.
macro_rules! say {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// How many lines of a failing test's output the next step shows.
const DETAIL_LINES: usize = 40;
/// A lab with more tests than this is summed up in the report rather than listed test by test.
const SUM_UP_OVER: usize = 12;
/// How many failing tests a summed-up lab lists one by one.
const LISTED_AT_MOST: usize = 8;

/// The report for people: per lab, per test, the total, the next step, and the changed files.
pub fn render(grade: &Grade, ctx: &Context) -> String {
    let s = Style { on: ctx.color };
    let mut out = String::new();
    let results = &grade.labs;
    say!(out);
    say!(out, "{}", s.bold(&format!("gclabs grader: {}", ctx.whose)));
    let width = results
        .iter()
        .flat_map(|r| r.tests.iter().map(|t| t.meta.name.len()))
        .max()
        .unwrap_or(20)
        .min(56);
    for lab in results {
        say!(out);
        let score = format!("{:>3} / {}", lab.points(), lab.max_points());
        let title = format!("{} · {}", lab.lab.label(), lab.lab.meta.title);
        say!(
            out,
            "{}  {}",
            s.bold(&format!("{title:<width$}", width = width + 11)),
            s.bold(&score)
        );
        if let Some(e) = &lab.build_error {
            say!(out, "  {} {}", s.red("does not compile:"), e.summary);
            for line in e.detail.lines().take(DETAIL_LINES) {
                say!(out, "    {line}");
            }
            say!(
                out,
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
        if untouched && !ctx.verbose {
            say!(
                out,
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
        let summed_up = !untouched && !ctx.verbose && lab.tests.len() > SUM_UP_OVER;
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
            say!(out, "  {} {}", s.green("✓"), text);
        }
        let listed = lab.tests.iter().filter(is_listed).count();
        let cap = match summed_up {
            true => LISTED_AT_MOST,
            false => usize::MAX,
        };
        for t in lab
            .tests
            .iter()
            .filter(|_| !untouched || ctx.verbose)
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
            say!(
                out,
                "{}",
                format!("  {mark} {points} {name}  {}", shorten(&reason, 90)).trim_end()
            );
            if ctx.verbose && !matches!(t.run.outcome, Outcome::Passed | Outcome::NotStarted { .. })
            {
                detail(&mut out, t, "      ", &s);
            }
        }
        if summed_up && listed > cap {
            let more = listed - cap;
            let text = format!("… and {more} more that fail (--verbose lists them)");
            say!(out, "  {} {text}", s.red("✗"));
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
            say!(out, "  {}", s.dim(&format!("· {text}")));
        }
        for note in lab.miri_notes() {
            say!(out, "  {}", s.dim(&format!("· {note}")));
        }
        let measured_later = lab.measurement.is_none() && lab.build_error.is_none() && ctx.measured;
        if let (true, Some(spec)) = (measured_later, &lab.lab.meta.measure) {
            let text = format!(
                "once every test passes, the grade also measures {} (shown, never graded)",
                spec.title
            );
            say!(out, "  {}", s.dim(&format!("· {text}")));
        }
        if let (Some(m), Some(spec)) = (&lab.measurement, &lab.lab.meta.measure) {
            say!(out);
            say!(
                out,
                "  {}",
                s.bold(&format!("Measured, not graded: {}", spec.title))
            );
            let text = match m {
                Ok(text) => text.clone(),
                Err(why) => why.clone(),
            };
            for line in text.lines() {
                say!(out, "{}", format!("    {line}").trim_end());
            }
        }
    }
    let (points, max) = (grade.points(), grade.max_points());
    let passed = results
        .iter()
        .flat_map(|r| &r.tests)
        .filter(|t| t.passed())
        .count();
    let total = results.iter().map(|r| r.tests.len()).sum::<usize>();
    let percent = (points * 100).checked_div(max).unwrap_or(100);
    say!(out);
    say!(
        out,
        "{}",
        s.bold(&format!(
            "Total: {points} / {max} points ({percent}%), {passed} of {total} tests pass"
        ))
    );
    next_step(&mut out, grade, ctx, &s);
    changes(&mut out, grade, &s);
    out
}

fn next_step(out: &mut String, grade: &Grade, ctx: &Context, s: &Style) {
    say!(out);
    let (lab, t) = match grade.next_step() {
        NextStep::Done => {
            match grade.side {
                Side::Labs => say!(
                    out,
                    "Every selected test passes. Well done: on to the next lab's chapter."
                ),
                Side::Solutions => say!(out, "The reference solutions pass every graded test."),
            }
            return;
        }
        NextStep::Compile { lab, error } => {
            say!(
                out,
                "{}",
                s.bold(&format!("Next step: make {} compile", lab.lab.label()))
            );
            say!(out, "  The first error is at {}.", error.summary);
            say!(
                out,
                "  Fix it and run `cargo xtask grade{} --lab {}` again.",
                ctx.same_work,
                lab.lab.meta.number
            );
            return;
        }
        NextStep::Test { lab, test } => (lab, test),
    };
    say!(
        out,
        "{}",
        s.bold(&format!(
            "Next step: {}, test `{}` ({})",
            lab.lab.label(),
            t.meta.name,
            plural(t.meta.points as usize, "point")
        ))
    );
    say!(out, "  {}", t.run.outcome.reason());
    detail(out, t, "  │ ", s);
    if let Some(hint) = t.hint(&lab.lab) {
        for (i, line) in wrap(&hint, 92).iter().enumerate() {
            say!(out, "  {}{line}", if i == 0 { "Hint: " } else { "      " });
        }
    }
    if t.meta.hints.len() > 1 {
        say!(
            out,
            "  {}",
            s.dim(&format!(
                "({}, one at a time: cargo xtask hint {} {})",
                plural(t.meta.hints.len() - 1, "more hint"),
                lab.lab.meta.number,
                t.meta.name
            ))
        );
    }
    let section = t.section();
    say!(out, "  Read: {}", section.in_markdown());
    say!(
        out,
        "        (or the built book: `cargo xtask book`, then open {})",
        section.in_built_book()
    );
    say!(
        out,
        "  Run only this test: cargo xtask grade{} --lab {} --test {}",
        ctx.same_work,
        lab.lab.meta.number,
        t.meta.name
    );
}

/// The failure's detail (a diff, the output), at most DETAIL_LINES lines.
fn detail(out: &mut String, t: &TestResult, prefix: &str, s: &Style) {
    let text = t.detail();
    // pretty_assertions colours its diffs; keep the colours only where they can be seen.
    let text = if s.on {
        text.to_string()
    } else {
        strip_ansi(text)
    };
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(DETAIL_LINES) {
        say!(out, "{prefix}{line}");
    }
    if lines.len() > DETAIL_LINES {
        say!(
            out,
            "{prefix}[... {} more lines]",
            lines.len() - DETAIL_LINES
        );
    }
}

/// The graded files that changed, and the labs nothing could check.
fn changes(out: &mut String, grade: &Grade, s: &Style) {
    if let Some(text) = grade.changes_text() {
        say!(out);
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            say!(out, "{}", s.paint("1;31", first));
        }
        for line in lines {
            say!(out, "{line}");
        }
    }
    let unchecked = grade.unchecked_labs();
    if !unchecked.is_empty() {
        say!(out);
        say!(
            out,
            "Not checked for changed tests: {} (no {} knows {}).",
            unchecked.join(", "),
            crate::course::checksums::LIST,
            if unchecked.len() == 1 { "it" } else { "them" }
        );
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{cut}…")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            whose: "your work in labs/".into(),
            same_work: " --pristine".into(),
            verbose: false,
            color: false,
            measured: true,
        }
    }

    #[test]
    fn a_grade_built_by_hand_reads_as_a_report() {
        let text = render(&crate::report::sample::sample(), &context());
        assert!(text.contains("gclabs grader: your work in labs/"), "{text}");
        assert!(text.contains("Lab 01 · Example <&>"), "{text}");
        assert!(
            text.contains("Total: 2 / 10 points (20%), 1 of 4 tests pass"),
            "{text}"
        );
        // The next step is the first failing test, with its diff, hint and section.
        assert!(
            text.contains("Next step: Lab 01, test `fails` (3 points)"),
            "{text}"
        );
        assert!(text.contains("  │   expected (reference): 2"), "{text}");
        assert!(text.contains("Hint: The idea behind fails."), "{text}");
        assert!(
            text.contains("Read: book/src/01-x/page.md, section #the-task"),
            "{text}"
        );
        assert!(
            text.contains("Run only this test: cargo xtask grade --pristine --lab 1 --test fails"),
            "{text}"
        );
        assert!(
            text.contains("1 graded file is not the course's original"),
            "{text}"
        );
        assert!(
            !text.contains('\x1b'),
            "no colour when the context says so: {text}"
        );
    }

    #[test]
    fn a_summed_up_lab_says_what_its_passing_tests_are_worth_in_good_english() {
        assert_eq!(passing_line(1, 51, 1), "1 of 51 tests pass (1 point)");
        assert_eq!(passing_line(3, 51, 4), "3 of 51 tests pass (4 points)");
        assert_eq!(passing_line(51, 51, 100), "all 51 tests pass");
    }
}
