//! JUnit XML (`cargo xtask grade --format junit`), the report format CI systems read, written with
//! `quick-junit` (cargo-nextest's JUnit model), which escapes the text and drops what XML cannot
//! hold.
//!
//! One `<testsuite>` per lab and one `<testcase>` per graded test, named after the test, with the
//! lab as its `classname`. A test that fails an assertion or reaches a `todo!()` is a
//! `<failure>`; one that crashes, times out, exits early, is missing or did not compile is an
//! `<error>`, the usual split between "the code is wrong" and "the test could not finish". Each
//! carries a one-line `message` (the reason), the grader's status word as its `type`, and the
//! detail, hint and book section as text. Points are kept as properties, since JUnit has no notion
//! of them. Graded files that were changed are listed in the suite's properties and
//! `<system-err>`; without `--pristine`, they are also a failing testcase, `graded files are the
//! originals`, so a CI run shows them in red.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::grade::{Grade, LabResult, TestResult};
use crate::run::sandbox::Outcome;

/// The XML text for these results.
pub fn render(grade: &Grade) -> String {
    let changes = grade.changes();
    let mut report = Report::new("gclabs");
    report.set_time(grade.elapsed);
    for lab in &grade.labs {
        let mut suite = TestSuite::new(format!("{} · {}", lab.lab.label(), lab.lab.meta.title));
        suite.set_time(lab.tests.iter().map(|t| t.run.duration).sum());
        suite.add_property(Property::new("points", lab.points().to_string()));
        suite.add_property(Property::new("max_points", lab.max_points().to_string()));
        suite.add_property(Property::new(
            "pristine",
            grade.integrity.pristine.to_string(),
        ));
        let mut lab_changes = Vec::new();
        for (_, c) in changes
            .iter()
            .filter(|(n, _)| *n == Some(lab.lab.meta.number) || n.is_none())
        {
            suite.add_property(Property::new(
                "changed_file",
                format!("{} ({})", c.path, c.kind.status()),
            ));
            lab_changes.push(format!("{} {}", c.path, c.kind.describe()));
        }
        for t in &lab.tests {
            suite.add_test_case(testcase(lab, t));
        }
        if !lab_changes.is_empty() && !grade.integrity.pristine {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!(
                    "{} graded file(s) changed; the results come from them",
                    lab_changes.len()
                ))
                .set_type("changed_files")
                .set_description(lab_changes.join("\n"));
            let mut case = TestCase::new("graded files are the originals", status);
            case.set_classname(classname(lab));
            suite.add_test_case(case);
        }
        if let Some(e) = &lab.build_error {
            suite.set_system_err(format!(
                "{} does not compile. The first error, at {}:\n{}",
                lab.lab.label(),
                e.summary,
                e.detail
            ));
        } else if !lab_changes.is_empty() {
            suite.set_system_err(format!(
                "Graded files that are not the course's originals:\n{}\n{}",
                lab_changes.join("\n"),
                if grade.integrity.pristine {
                    "They did not count: the tests ran with the originals (--pristine)."
                } else {
                    "The results come from these changed files."
                }
            ));
        }
        report.add_test_suite(suite);
    }
    to_xml(&report)
}

/// A JUnit document for a grade that could not run at all: one erroring testcase that says why.
pub fn error(message: &str) -> String {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_message("the grader could not grade this checkout")
        .set_type("grader_error")
        .set_description(message);
    let mut case = TestCase::new("grading", status);
    case.set_classname("gclabs");
    let mut suite = TestSuite::new("gclabs grader");
    suite.add_test_case(case);
    let mut report = Report::new("gclabs");
    report.add_test_suite(suite);
    to_xml(&report)
}

/// The XML text; writing into memory cannot fail, and the fallback keeps the document valid anyway.
fn to_xml(report: &Report) -> String {
    report.to_string().map(|mut s| {
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s
    })
    .unwrap_or_else(|e| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gclabs\" tests=\"0\" \
             failures=\"0\" errors=\"1\"><!-- {} --></testsuites>\n",
            e.to_string().replace("--", "- -")
        )
    })
}

fn classname(lab: &LabResult) -> String {
    format!("lab{:02}.{}", lab.lab.meta.number, lab.lab.package)
}

/// `Failure` for wrong code, `Error` for a test that could not finish, `None` for a pass.
fn kind(outcome: &Outcome) -> Option<NonSuccessKind> {
    match outcome {
        Outcome::Passed => None,
        Outcome::Failed { .. }
        | Outcome::NotStarted { .. }
        | Outcome::MemoryError { .. }
        | Outcome::Leak { .. }
        | Outcome::UndefinedBehaviour { .. } => Some(NonSuccessKind::Failure),
        _ => Some(NonSuccessKind::Error),
    }
}

fn testcase(lab: &LabResult, t: &TestResult) -> TestCase {
    let status = match kind(&t.run.outcome) {
        None => TestCaseStatus::success(),
        Some(kind) => {
            let detail = match (&t.run.outcome, &lab.build_error) {
                (Outcome::NotCompiled, Some(e)) => {
                    format!("The first error, at {}:\n{}", e.summary, e.detail)
                }
                _ => t.detail().to_string(),
            };
            let hint = t
                .hint(&lab.lab)
                .map(|h| format!("\n\nHint: {h}\nRead: {}", t.section().in_markdown()))
                .unwrap_or_default();
            let mut status = TestCaseStatus::non_success(kind);
            status
                .set_message(t.run.outcome.reason())
                .set_type(t.run.outcome.status())
                .set_description(format!("{detail}{hint}"));
            status
        }
    };
    let mut case = TestCase::new(t.meta.name.as_str(), status);
    case.set_classname(classname(lab)).set_time(t.run.duration);
    if !t.run.output.is_empty() && !t.passed() {
        case.set_system_out(t.run.output.as_str());
    }
    case
}

#[cfg(test)]
mod tests {
    use quick_xml::Reader;
    use quick_xml::events::Event;

    use super::*;
    use crate::report::sample::sample;

    /// Whether `xml` is well formed, read with quick-xml to its end: every element closed in
    /// order, every attribute quoted, every reference known.
    fn well_formed(xml: &str) -> Result<(), String> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut depth = 0i32;
        let mut roots = 0;
        loop {
            let event = reader.read_event().map_err(|e| e.to_string())?;
            if let Event::Start(e) | Event::Empty(e) = &event {
                for attribute in e.attributes() {
                    let attribute = attribute.map_err(|e| e.to_string())?;
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| e.to_string())?;
                }
            }
            match event {
                Event::Start(_) => {
                    if depth == 0 {
                        roots += 1;
                    }
                    depth += 1;
                }
                Event::Empty(_) if depth == 0 => roots += 1,
                Event::End(_) => depth -= 1,
                Event::Text(t) => {
                    t.decode().map_err(|e| e.to_string())?;
                }
                Event::GeneralRef(r) => {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    if !["lt", "gt", "amp", "quot", "apos"].contains(&name.as_ref())
                        && !name.starts_with('#')
                    {
                        return Err(format!("unknown reference &{name};"));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        match (depth, roots) {
            (0, 1) => Ok(()),
            _ => Err(format!("{roots} root elements, {depth} left open")),
        }
    }

    #[test]
    fn a_grade_built_by_hand_renders_each_kind_of_result() {
        let xml = render(&sample());
        well_formed(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
        assert!(xml.contains("<testcase name=\"passes\""), "{xml}");
        assert!(
            xml.contains(
                "<failure message=\"failed: the count of `a` (at labs/01-x/tests/t.rs:9:5)"
            ),
            "{xml}"
        );
        assert!(xml.contains("type=\"crashed\""), "{xml}");
        assert!(xml.contains("<error"), "a crash is an error: {xml}");
        assert!(
            xml.contains("Example &lt;&amp;&gt;"),
            "the title is escaped: {xml}"
        );
        assert!(
            xml.contains("graded files are the originals"),
            "a changed test is a failing testcase without --pristine: {xml}"
        );
        assert!(xml.contains("name=\"max_points\" value=\"10\""), "{xml}");
    }

    #[test]
    fn the_error_document_is_well_formed() {
        let xml = error("could not read labs/ <here> & \"there\" \u{1}");
        well_formed(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
        assert!(xml.contains("type=\"grader_error\""), "{xml}");
    }

    #[test]
    fn the_checker_rejects_broken_documents() {
        for bad in [
            "<a><b></a></b>",
            "<a x=1/>",
            "<a>&nope;</a>",
            "<a>",
            "<a></a><b></b>",
        ] {
            assert!(well_formed(bad).is_err(), "accepted {bad:?}");
        }
    }
}
