//! The grader graded: it runs on a classroom of fixture labs (xtask/fixtures/classroom), one
//! behaviour each (passing, failing, not compiling, hanging, crashing in six ways, exiting early,
//! a deleted test), and every result must be reported as what it is, with the run completing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `cargo xtask grade --root <classroom> ARGS` with its own target folder (the outer
/// `cargo test` may hold the lock on the main one).
fn grade(args: &[&str]) -> Output {
    let root = workspace();
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("grade")
        .arg("--root")
        .arg(root.join("xtask/fixtures/classroom"))
        .args(args)
        .env("CARGO_TARGET_DIR", root.join("target/fixtures"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs")
}

/// The JSON results of grading the whole classroom once, by test name.
fn results() -> &'static BTreeMap<String, Value> {
    static RESULTS: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let out = grade(&["--json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "not every test passes, so the exit code is 1"
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
            })
            .filter(|v| v["kind"] == "test")
            .map(|v| (v["test"].as_str().unwrap().to_string(), v))
            .collect()
    })
}

fn status(test: &str) -> &'static str {
    results()
        .get(test)
        .unwrap_or_else(|| panic!("no result for `{test}`; results: {:?}", results().keys()))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn every_fixture_test_gets_exactly_one_result() {
    assert_eq!(results().len(), 16);
}

#[test]
fn a_child_process_left_running_is_killed_with_its_test() {
    assert_eq!(status("leaves_a_child_process_running"), "passed");
    let left = Command::new("pgrep")
        .args(["-f", "sleep 314.159"])
        .output()
        .expect("pgrep runs");
    assert!(
        left.stdout.is_empty(),
        "the test's child is still running: pid {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn passing_tests_pass_with_their_points() {
    assert_eq!(status("answer_is_right"), "passed");
    assert_eq!(results()["answer_is_right"]["points"], 3);
    assert_eq!(status("prints_and_passes"), "passed");
}

#[test]
fn todo_reads_as_not_started_with_its_place() {
    assert_eq!(status("todo_reads_as_not_started"), "not_started");
    let reason = results()["todo_reads_as_not_started"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("labs/02-failing/src/lib.rs:15"), "{reason}");
}

#[test]
fn failed_comparison_shows_the_diff() {
    assert_eq!(status("wrong_answer_shows_a_diff"), "failed");
    let output = results()["wrong_answer_shows_a_diff"]["output"]
        .as_str()
        .unwrap();
    assert!(output.contains("Diff < left / right >"), "{output}");
    assert!(
        output.contains("<    y: 0,") && output.contains(">    y: 4,"),
        "{output}"
    );
}

#[test]
fn a_lab_that_does_not_compile_scores_zero_and_names_the_error() {
    let r = &results()["half_of_four_is_two"];
    assert_eq!(r["status"], "not_compiled");
    assert_eq!(r["points"], 0);
    let error = r["compile_error"].as_str().unwrap();
    assert!(
        error.contains("labs/03-not-compiling/src/lib.rs:4"),
        "{error}"
    );
}

#[test]
fn other_labs_still_grade_after_one_fails_to_compile() {
    // Labs 4 to 6 come after the broken lab 3 and still ran.
    assert_eq!(status("the_next_test_still_runs"), "passed");
}

#[test]
fn an_endless_loop_times_out_and_the_next_test_runs() {
    assert_eq!(status("endless_loop_times_out"), "timed_out");
    assert!(
        results()["endless_loop_times_out"]["reason"]
            .as_str()
            .unwrap()
            .contains("2 s")
    );
}

#[test]
fn crashes_are_failures_named_for_what_happened() {
    assert_eq!(status("abort_is_a_crash"), "crashed");
    assert!(
        results()["abort_is_a_crash"]["reason"]
            .as_str()
            .unwrap()
            .contains("SIGABRT")
    );
    assert_eq!(status("segfault_is_a_crash"), "crashed");
    assert!(
        results()["segfault_is_a_crash"]["reason"]
            .as_str()
            .unwrap()
            .contains("SIGSEGV")
    );
    assert_eq!(status("double_panic_aborts"), "crashed");
    assert_eq!(status("stack_overflow_is_reported"), "stack_overflow");
    assert_eq!(status("unbounded_allocation_hits_the_cap"), "out_of_memory");
    assert_eq!(status("flood_of_output_is_stopped"), "output_limit");
}

#[test]
fn a_flood_of_output_is_cut_to_its_head_and_tail() {
    let output = results()["flood_of_output_is_stopped"]["output"]
        .as_str()
        .unwrap();
    assert!(output.len() < 64 << 10, "kept {} bytes", output.len());
    assert!(output.contains("bytes of output cut"));
}

#[test]
fn exit_zero_in_a_test_is_not_a_pass() {
    assert_eq!(status("exit_zero_is_not_a_pass"), "exited_early");
}

#[test]
fn a_test_missing_from_the_binary_is_reported() {
    assert_eq!(status("test_that_was_deleted"), "missing");
}

#[test]
fn the_report_shows_points_total_and_next_step() {
    let out = grade(&["--lab", "1", "--lab", "2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("Lab 01 · Passing"), "{text}");
    assert!(
        text.contains("Total: 4 / 8 points (50%), 2 of 4 tests pass"),
        "{text}"
    );
    assert!(
        text.contains("Next step: Lab 02, test `todo_reads_as_not_started` (2 points)"),
        "{text}"
    );
    assert!(text.contains("Hint: Replace the todo!()."), "{text}");
    assert!(
        text.contains("book/src/failing.md, section #todo"),
        "{text}"
    );
}

#[test]
fn all_passing_selection_exits_zero() {
    let out = grade(&["--lab", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn an_unknown_lab_number_is_a_clear_error() {
    let out = grade(&["--lab", "9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("there is no lab 9. The labs are: 1 (Passing)"),
        "{err}"
    );
}

#[test]
fn a_measurement_is_shown_after_the_tests_and_not_graded() {
    let out = grade(&["--lab", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Measured, not graded: the answer, measured"),
        "{text}"
    );
    assert!(text.contains("answer     42"), "{text}");
    assert!(text.contains("Total: 4 / 4 points"), "{text}");

    let json = grade(&["--lab", "1", "--json"]);
    let lines: Vec<Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let measurement = lines
        .iter()
        .find(|v| v["kind"] == "measurement")
        .expect("a measurement line");
    assert_eq!(measurement["ok"], true);
    assert!(
        measurement["output"]
            .as_str()
            .unwrap()
            .contains("answer     42")
    );

    let skipped = grade(&["--lab", "1", "--no-measure"]);
    assert!(
        !String::from_utf8(skipped.stdout)
            .unwrap()
            .contains("Measured")
    );
}

#[test]
fn hints_come_one_step_at_a_time() {
    let root = workspace();
    let hint = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(root.join("xtask/fixtures/classroom"))
            .arg("hint")
            .args(args)
            .env("CARGO_TARGET_DIR", root.join("target/fixtures"))
            .output()
            .expect("the xtask binary runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    hint(&["2", "--reset"]);
    let first = hint(&["2", "todo_reads_as_not_started"]);
    assert!(
        first.contains("Hint 1 of 2: Replace the todo!()."),
        "{first}"
    );
    assert!(!first.contains("Return 7."), "{first}");
    assert!(first.contains("again for hint 2 of 2"), "{first}");
    let second = hint(&["2", "todo_reads_as_not_started"]);
    assert!(second.contains("Hint 2 of 2: Return 7."), "{second}");
    assert!(second.contains("last hint"), "{second}");
    // Without a test name, the first test of the lab that does not pass.
    let next = hint(&["2"]);
    assert!(next.contains("test `todo_reads_as_not_started`"), "{next}");
    hint(&["2", "--reset"]);
}
