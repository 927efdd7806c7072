//! Gradescope's results.json (`cargo xtask grade --format gradescope`).
//!
//! The format is Gradescope's autograder specification
//! (<https://gradescope-autograders.readthedocs.io/en/latest/specs/>): a top-level `score`,
//! `output` and `tests`, each test with `name`, `score`, `max_score`, `status` (`passed` or
//! `failed`), `output` and `visibility`. Every graded test is one entry, visible to the learner,
//! with the reason it failed, its output (cut), its first hint and its book section: the same
//! next step the report for people gives. The top-level output sums up each lab, shows a compile
//! error in full, and lists graded files that were changed.

use serde::Serialize;

use crate::grade::{Grade, LabResult, TestResult};
use crate::text::strip_ansi;

/// Lines of a failing test's output kept in its entry.
const OUTPUT_LINES: usize = 60;
/// Characters of a failing test's output kept in its entry.
const OUTPUT_CHARS: usize = 6000;

#[derive(Serialize)]
struct Results {
    score: u32,
    execution_time: u64,
    output: String,
    stdout_visibility: &'static str,
    tests: Vec<Test>,
}

#[derive(Serialize)]
struct Test {
    name: String,
    number: String,
    score: u32,
    max_score: u32,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

/// The results.json text for these results.
pub fn render(grade: &Grade) -> String {
    let mut tests = Vec::new();
    for lab in &grade.labs {
        for (i, t) in lab.tests.iter().enumerate() {
            tests.push(Test {
                name: format!("{} · {}", lab.lab.label(), t.meta.name),
                number: format!("{}.{}", lab.lab.meta.number, i + 1),
                score: t.points(),
                max_score: t.meta.points,
                status: if t.passed() { "passed" } else { "failed" },
                output: test_output(lab, t),
                visibility: "visible",
            });
        }
    }
    let doc = Results {
        score: grade.points(),
        execution_time: grade.elapsed.as_secs(),
        output: summary(grade),
        stdout_visibility: "hidden",
        tests,
    };
    to_json(&doc)
}

/// A results.json for a submission that could not be graded at all: score 0 and why.
pub fn error(message: &str) -> String {
    to_json(&Results {
        score: 0,
        execution_time: 0,
        output: format!(
            "This submission could not be graded, so it scores 0.\n\n{message}\n\n\
             If that does not explain it, ask your instructor: the autograder's own output \
             (visible to them) has the details."
        ),
        stdout_visibility: "hidden",
        tests: Vec::new(),
    })
}

fn to_json(doc: &Results) -> String {
    // Serializing plain strings and numbers cannot fail; the fallback keeps the file valid anyway.
    serde_json::to_string_pretty(doc)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .unwrap_or_else(|e| format!("{{\"score\": 0, \"output\": \"{e}\"}}\n"))
}

fn summary(grade: &Grade) -> String {
    let mut out = String::new();
    for lab in &grade.labs {
        let passed = lab.tests.iter().filter(|t| t.passed()).count();
        out.push_str(&format!(
            "{} · {}: {} / {} points, {} of {} tests pass\n",
            lab.lab.label(),
            lab.lab.meta.title,
            lab.points(),
            lab.max_points(),
            passed,
            lab.tests.len()
        ));
    }
    out.push_str(&format!(
        "Total: {} / {} points\n",
        grade.points(),
        grade.max_points()
    ));
    if grade.integrity.pristine {
        out.push_str("Graded with the course's original tests.\n");
    }
    for lab in &grade.labs {
        for note in lab.miri_notes() {
            out.push_str(&format!("{}: {note}\n", lab.lab.label()));
        }
    }
    for lab in &grade.labs {
        if let Some(e) = &lab.build_error {
            out.push_str(&format!(
                "\n{} does not compile, so its tests score 0. The first error, at {}:\n\n{}\n",
                lab.lab.label(),
                e.summary,
                cut(&strip_ansi(&e.detail))
            ));
        }
    }
    if let Some(text) = grade.changes_text() {
        out.push('\n');
        out.push_str(&text);
    }
    for lab in &grade.labs {
        if let (Some(m), Some(spec)) = (&lab.measurement, &lab.lab.meta.measure) {
            let text = match m {
                Ok(t) | Err(t) => t,
            };
            out.push_str(&format!(
                "\n{}, measured, not graded: {}\n{}\n",
                lab.lab.label(),
                spec.title,
                strip_ansi(text)
            ));
        }
    }
    out
}

fn test_output(lab: &LabResult, t: &TestResult) -> String {
    if t.passed() {
        return format!("passed ({} ms)", t.run.duration.as_millis());
    }
    let mut out = strip_ansi(&t.run.outcome.reason());
    out.push('\n');
    if let Some(e) = &lab.build_error {
        out.push_str(&format!(
            "The lab does not compile: the first error is at {} (the full error is in the \
             output above the tests).\n",
            e.summary
        ));
        return out;
    }
    let detail = cut(&strip_ansi(t.detail()));
    if !detail.trim().is_empty() {
        out.push('\n');
        out.push_str(&detail);
        out.push('\n');
    }
    if let Some(hint) = t.hint(&lab.lab) {
        out.push_str(&format!("\nHint: {hint}\n"));
    }
    out.push_str(&format!("Read: {}\n", t.section().in_markdown()));
    out.push_str(&format!(
        "Try it yourself: cargo xtask grade --lab {} --test {}\n",
        lab.lab.meta.number, t.meta.name
    ));
    out
}

/// The first OUTPUT_LINES lines and OUTPUT_CHARS characters of `text`, saying what was cut.
fn cut(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines
        .iter()
        .take(OUTPUT_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    if out.chars().count() > OUTPUT_CHARS {
        out = out.chars().take(OUTPUT_CHARS).collect();
        out.push_str("\n[... cut ...]");
    } else if lines.len() > OUTPUT_LINES {
        out.push_str(&format!(
            "\n[... {} more lines]",
            lines.len() - OUTPUT_LINES
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_document_is_valid_and_scores_zero() {
        let text = error("the submission has no src/lib.rs for labs/01-refcount \"quoted\"");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["score"], 0);
        assert!(v["output"].as_str().unwrap().contains("\"quoted\""));
        assert_eq!(v["tests"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn a_grade_built_by_hand_scores_what_passes_and_explains_each_failure() {
        let text = render(&crate::report::sample::sample());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["score"], 2);
        let tests = v["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 4);
        assert_eq!(tests[0]["status"], "passed");
        let failed = tests[1]["output"].as_str().unwrap();
        assert!(failed.contains("expected (reference): 2"), "{failed}");
        assert!(failed.contains("Hint: The idea behind fails."), "{failed}");
        assert!(
            failed.contains("Read: book/src/01-x/page.md, section #the-task"),
            "{failed}"
        );
        let crashed = tests[2]["output"].as_str().unwrap();
        assert!(
            crashed.contains("Hint: A crash is not a wrong answer"),
            "{crashed}"
        );
        assert!(
            v["output"]
                .as_str()
                .unwrap()
                .contains("labs/01-x/tests/t.rs")
        );
    }

    #[test]
    fn long_output_is_cut_and_says_so() {
        let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let c = cut(&long);
        assert!(c.contains("line 59"));
        assert!(!c.contains("line 60\n"));
        assert!(c.ends_with("[... 140 more lines]"), "{c}");
    }
}
