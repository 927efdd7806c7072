//! JUnit XML (`cargo xtask grade --format junit`), the report format CI systems read.
//!
//! One `<testsuite>` per lab and one `<testcase>` per graded test, named after the test, with the
//! lab as its `classname`. A test that fails an assertion or reaches a `todo!()` is a
//! `<failure>`; one that crashes, times out, exits early, is missing or did not compile is an
//! `<error>`, the usual split between "the code is wrong" and "the test could not finish". Each
//! carries a one-line `message` (the reason) and the output as text. Points are kept as
//! properties, since JUnit has no notion of them. Graded files that were changed are listed in
//! the suite's properties and `<system-err>`; without `--pristine`, they are also a failing
//! testcase, `graded files are the originals`, so a CI run shows them in red.

use std::fmt::Write as _;
use std::time::Duration;

use crate::formats;
use crate::grade::{LabResult, TestResult};
use crate::pristine::Integrity;
use crate::report::strip_ansi;
use crate::sandbox::Outcome;

/// The XML text for these results.
pub fn render(results: &[LabResult], integrity: &Integrity, elapsed: Duration) -> String {
    let changes = formats::relevant_changes(results, integrity);
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for lab in results {
        let mut cases = String::new();
        let (mut lab_failures, mut lab_errors) = (0, 0);
        let mut time = 0.0;
        for t in &lab.tests {
            time += t.run.duration.as_secs_f64();
            match kind(&t.run.outcome) {
                Some("failure") => lab_failures += 1,
                Some(_) => lab_errors += 1,
                None => {}
            }
            cases.push_str(&testcase(lab, t));
        }
        let lab_changes: Vec<_> = changes
            .iter()
            .filter(|(n, _)| *n == Some(lab.lab.meta.number) || n.is_none())
            .collect();
        let mut extra_cases = 0;
        if !lab_changes.is_empty() && !integrity.pristine {
            let list: Vec<String> = lab_changes
                .iter()
                .map(|(_, c)| format!("{} {}", c.path, c.kind.describe()))
                .collect();
            let _ = write!(
                cases,
                "    <testcase name=\"graded files are the originals\" classname=\"{}\" time=\"0\">\n      \
                 <failure message=\"{}\" type=\"changed_files\">{}</failure>\n    </testcase>\n",
                escape(&classname(lab)),
                escape(&format!(
                    "{} graded file(s) changed; the results come from them",
                    lab_changes.len()
                )),
                escape(&list.join("\n"))
            );
            lab_failures += 1;
            extra_cases = 1;
        }
        let count = lab.tests.len() + extra_cases;
        tests += count;
        failures += lab_failures;
        errors += lab_errors;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{count}\" failures=\"{lab_failures}\" \
             errors=\"{lab_errors}\" skipped=\"0\" time=\"{time:.3}\">",
            escape(&format!("{} · {}", lab.lab.label(), lab.lab.meta.title))
        );
        suites.push_str("    <properties>\n");
        let _ = writeln!(
            suites,
            "      <property name=\"points\" value=\"{}\"/>",
            lab.points()
        );
        let _ = writeln!(
            suites,
            "      <property name=\"max_points\" value=\"{}\"/>",
            lab.max_points()
        );
        let _ = writeln!(
            suites,
            "      <property name=\"pristine\" value=\"{}\"/>",
            integrity.pristine
        );
        for (_, c) in &lab_changes {
            let _ = writeln!(
                suites,
                "      <property name=\"changed_file\" value=\"{} ({})\"/>",
                escape(&c.path),
                c.kind.status()
            );
        }
        suites.push_str("    </properties>\n");
        suites.push_str(&cases);
        if let Some(e) = &lab.build_error {
            let _ = writeln!(
                suites,
                "    <system-err>{}</system-err>",
                escape(&format!(
                    "{} does not compile. The first error, at {}:\n{}",
                    lab.lab.label(),
                    e.summary,
                    strip_ansi(&e.detail)
                ))
            );
        } else if !lab_changes.is_empty() {
            let list: Vec<String> = lab_changes
                .iter()
                .map(|(_, c)| format!("{} {}", c.path, c.kind.describe()))
                .collect();
            let _ = writeln!(
                suites,
                "    <system-err>{}</system-err>",
                escape(&format!(
                    "Graded files that are not the course's originals:\n{}\n{}",
                    list.join("\n"),
                    if integrity.pristine {
                        "They did not count: the tests ran with the originals (--pristine)."
                    } else {
                        "The results come from these changed files."
                    }
                ))
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"gclabs\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" \
         time=\"{:.3}\">\n{suites}</testsuites>\n",
        elapsed.as_secs_f64()
    )
}

/// A JUnit document for a grade that could not run at all: one erroring testcase that says why.
pub fn error(message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"gclabs\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"0\">\n  \
         <testsuite name=\"gclabs grader\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" \
         time=\"0\">\n    <testcase name=\"grading\" classname=\"gclabs\" time=\"0\">\n      \
         <error message=\"the grader could not grade this checkout\" type=\"grader_error\">{}\
         </error>\n    </testcase>\n  </testsuite>\n</testsuites>\n",
        escape(message)
    )
}

fn classname(lab: &LabResult) -> String {
    format!("lab{:02}.{}", lab.lab.meta.number, lab.lab.package)
}

/// `failure` for wrong code, `error` for a test that could not finish, `None` for a pass.
fn kind(outcome: &Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::Passed => None,
        Outcome::Failed { .. } | Outcome::NotStarted { .. } => Some("failure"),
        _ => Some("error"),
    }
}

fn testcase(lab: &LabResult, t: &TestResult) -> String {
    let head = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        escape(&t.meta.name),
        escape(&classname(lab)),
        t.run.duration.as_secs_f64()
    );
    let Some(element) = kind(&t.run.outcome) else {
        return format!("{head}/>\n");
    };
    let body = match (&t.run.outcome, &lab.build_error) {
        (Outcome::NotCompiled, Some(e)) => {
            format!("The first error, at {}:\n{}", e.summary, e.detail)
        }
        (Outcome::Failed { message, .. }, _) if !message.trim().is_empty() => {
            format!("{message}\n\n{}", t.run.output)
        }
        _ => t.run.output.clone(),
    };
    let hint = t
        .hint(&lab.lab)
        .map(|h| format!("\n\nHint: {h}\nRead: book/src/{}", t.meta.section))
        .unwrap_or_default();
    format!(
        "{head}>\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>\n",
        escape(&strip_ansi(&t.run.outcome.reason())),
        t.run.outcome.status(),
        escape(&format!("{}{hint}", strip_ansi(&body)))
    )
}

/// Escapes text for XML content and attribute values; characters XML 1.0 cannot hold (control
/// characters other than tab, newline and carriage return) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "wellformed.rs"]
mod wellformed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_the_document_well_formed() {
        let nasty = "a < b && c > \"d\" 'e' \x1b[31mred\x1b[0m \x00 \u{7} ]]> <!-- -->";
        let doc = format!(
            "<?xml version=\"1.0\"?>\n<a x=\"{}\">{}</a>\n",
            escape(nasty),
            escape(nasty)
        );
        wellformed::check(&doc).unwrap();
        assert!(escape("\x00").contains('\u{FFFD}'));
    }

    #[test]
    fn the_error_document_is_well_formed() {
        wellformed::check(&error("could not read labs/ <here> & \"there\"")).unwrap();
    }

    #[test]
    fn the_checker_rejects_broken_documents() {
        for bad in [
            "<a><b></a></b>",
            "<a x=1/>",
            "<a>&nope;</a>",
            "<a>x < y</a>",
            "<a>\u{1}</a>",
            "<a></a><b></b>",
            "<a>",
        ] {
            assert!(wellformed::check(bad).is_err(), "accepted {bad:?}");
        }
    }
}
