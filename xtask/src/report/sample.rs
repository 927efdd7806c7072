//! A grade built by hand, for the formats' unit tests: each format is tested on results no run
//! produced.

use std::time::Duration;

use crate::course::labs::{Lab, LabMeta, TestMeta};
use crate::course::pristine::{Change, ChangeKind, Integrity};
use crate::grade::{Grade, LabResult, MiriCheck, Side, TestResult};
use crate::run::sandbox::{Outcome, Run};

fn test(name: &str, points: u32, outcome: Outcome, output: &str) -> TestResult {
    TestResult {
        meta: TestMeta {
            name: name.into(),
            points,
            section: "01-x/page.md#the-task".into(),
            hints: vec![format!("The idea behind {name}."), "Where to look.".into()],
            timeout_secs: None,
            memory_mib: None,
            processes: None,
            miri: false,
            miri_timeout_secs: None,
        },
        run: Run {
            outcome,
            output: output.into(),
            duration: Duration::from_millis(12),
        },
        miri: MiriCheck::NotAsked,
    }
}

/// A grade built by hand: lab 01 with a passing test, a failed assertion, a crash and a test
/// not started; one changed test file.
pub fn sample() -> Grade {
    let lab = Lab {
        lab_dir: "labs/01-x".into(),
        solution_dir: "solutions/01-x".into(),
        package: "x".into(),
        solution_package: Some("x-solution".into()),
        meta: LabMeta {
            number: 1,
            title: "Example <&>".into(),
            chapter: "01-x/index.md".into(),
            limits: Default::default(),
            tests: Vec::new(),
            measure: None,
        },
    };
    let tests = vec![
        test("passes", 2, Outcome::Passed, ""),
        test(
            "fails",
            3,
            Outcome::Failed {
                message: "the count of `a`\n  expected (reference): 2\n  yours               : 3"
                    .into(),
                at: Some("labs/01-x/tests/t.rs:9:5".into()),
            },
            "some output",
        ),
        test(
            "crashes",
            1,
            Outcome::Crashed {
                signal: libc::SIGSEGV,
            },
            "partial output",
        ),
        test(
            "not_started",
            4,
            Outcome::NotStarted {
                at: Some("labs/01-x/src/lib.rs:7".into()),
            },
            "",
        ),
    ];
    let mut integrity = Integrity::default();
    integrity.changes.insert(
        "01-x".into(),
        vec![Change {
            path: "labs/01-x/tests/t.rs".into(),
            kind: ChangeKind::Differs,
        }],
    );
    Grade {
        labs: vec![LabResult {
            lab,
            build_error: None,
            tests,
            measurement: None,
        }],
        integrity,
        side: Side::Labs,
        elapsed: Duration::from_secs(3),
    }
}
