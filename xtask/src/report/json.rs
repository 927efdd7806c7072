//! JSON lines (`--format json`, `--json`): one object per line, for scripts and autograders.

use serde::Serialize;

use crate::grade::{Grade, MiriCheck};
use crate::run::sandbox::Outcome;
use crate::text::strip_ansi;

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
    /// For a test marked for Miri: `checked`, `unavailable` (not installed here), or why Miri
    /// could not check it.
    #[serde(skip_serializing_if = "Option::is_none")]
    miri: Option<String>,
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

/// The machine-readable report, one JSON object per line: one per measurement (`"kind":
/// "measurement"`) before its lab's tests, one per test (`"kind": "test"`), and one per changed
/// graded file (`"kind": "changed_file"`) at the end.
pub fn render(grade: &Grade) -> String {
    let mut lines = Vec::new();
    for lab in &grade.labs {
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
                Outcome::Failed { message, .. } if t.run.output.is_empty() => message,
                Outcome::UndefinedBehaviour { message, .. } => message,
                _ => &t.run.output,
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
                output: strip_ansi(output),
                compile_error: lab.build_error.as_ref().map(|e| e.detail.as_str()),
                miri: match &t.miri {
                    MiriCheck::NotAsked => None,
                    MiriCheck::Done => Some("checked".into()),
                    MiriCheck::Unavailable => Some("unavailable".into()),
                    MiriCheck::Unknown(why) => Some(why.clone()),
                },
            };
            match serde_json::to_string(&line) {
                Ok(text) => lines.push(text),
                Err(e) => eprintln!("could not write the result of {} as JSON: {e}", t.meta.name),
            }
        }
    }
    for (lab, change) in grade.changes() {
        let line = JsonChange {
            kind: "changed_file",
            lab,
            path: &change.path,
            change: change.kind.status(),
            pristine: grade.integrity.pristine,
        };
        if let Ok(text) = serde_json::to_string(&line) {
            lines.push(text);
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_grade_built_by_hand_is_one_json_object_per_line() {
        let text = super::render(&crate::report::sample::sample());
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert_eq!(lines[0]["status"], "passed");
        assert_eq!(lines[1]["status"], "failed");
        assert_eq!(lines[1]["hint"], "The idea behind fails.");
        assert!(
            lines[2]["hint"]
                .as_str()
                .unwrap()
                .starts_with("A crash is not")
        );
        assert_eq!(lines[3]["status"], "not_started");
        assert_eq!(lines[4]["kind"], "changed_file");
        assert_eq!(lines[4]["path"], "labs/01-x/tests/t.rs");
    }
}
