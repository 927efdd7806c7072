//! The grader graded: it runs on a classroom of fixture labs (xtask/fixtures/classroom), one
//! behaviour each (passing, failing, not compiling, hanging, crashing in six ways, exiting early,
//! a child process left running, a spawn loop against the process cap, a renamed test, an edited
//! test, a deleted and an added test file), and every result must be reported as what it is, with
//! the run completing. Then the instructor's side: the changed graded files are named,
//! `--pristine` grades the originals, and the Gradescope, JUnit and JSON outputs are valid.

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

/// The target folder for the fixtures' builds: inside this build's own target folder (so that
/// two `cargo test` runs with different `CARGO_TARGET_DIR`s never share it), and never the one
/// the outer `cargo test` holds the lock on.
fn fixture_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures")
}

/// `cargo xtask --root <classroom> ARGS`.
fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(workspace().join("xtask/fixtures/classroom"))
        .args(args)
        .env("CARGO_TARGET_DIR", fixture_target())
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs")
}

/// Runs `cargo xtask grade --root <classroom> ARGS`.
fn grade(args: &[&str]) -> Output {
    let mut all = vec!["grade"];
    all.extend_from_slice(args);
    xtask(&all)
}

/// Parses JSON lines.
fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every JSON line of grading the whole classroom once.
fn all_lines() -> &'static Vec<Value> {
    static LINES: OnceLock<Vec<Value>> = OnceLock::new();
    LINES.get_or_init(|| {
        let out = grade(&["--json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "not every test passes, so the exit code is 1"
        );
        json_lines(&out.stdout)
    })
}

/// The JSON results of grading the whole classroom once, by test name.
fn results() -> &'static BTreeMap<String, Value> {
    static RESULTS: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        all_lines()
            .iter()
            .filter(|v| v["kind"] == "test")
            .map(|v| (v["test"].as_str().unwrap().to_string(), v.clone()))
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
    assert_eq!(results().len(), 22);
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

/// The processes whose parent is `parent` and whose command line contains `needle`.
fn children_of(parent: u32, needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let (Ok(stat), Ok(cmdline)) = (
            std::fs::read_to_string(entry.path().join("stat")),
            std::fs::read(entry.path().join("cmdline")),
        ) else {
            continue;
        };
        // Fields after the command name, which is in parentheses: state, then the parent's pid.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ppid = after_name
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok());
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains(needle) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn interrupting_the_grader_kills_the_running_test() {
    // Ctrl-C reaches the grader only: a test runs in a process group of its own. The grader must
    // take the test down with it, or an endless loop would spin on after the grader is gone.
    let mut grader = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(workspace().join("xtask/fixtures/classroom"))
        .args(["grade", "--lab", "4", "--test", "endless_loop_times_out"])
        .env("CARGO_TARGET_DIR", fixture_target())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the xtask binary runs");
    let started = std::time::Instant::now();
    let test = loop {
        // `--exact`: the test binary's own arguments (a child between fork and exec still shows
        // the grader's, which name the test too).
        if let Some(&pid) = children_of(grader.id(), "--exact\0endless_loop_times_out").first() {
            break pid;
        }
        assert!(
            grader.try_wait().unwrap().is_none(),
            "the grader ended before the test started"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "the test never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let grader_pid = i32::try_from(grader.id()).unwrap();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(grader_pid, libc::SIGINT) };
    let status = grader.wait().unwrap();
    assert!(!status.success(), "an interrupted grade does not succeed");
    // Dead means gone, or a zombie waiting for a parent to reap it (in a container, pid 1 may
    // never do that).
    let running = || {
        std::fs::read_to_string(format!("/proc/{test}/stat")).is_ok_and(|stat| {
            let state = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
    };
    let killed_by = std::time::Instant::now();
    while running() && killed_by.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        !running(),
        "the test (pid {test}) is still running after the grader was interrupted"
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

/// Whether Miri is installed here (nightly with the miri component).
fn miri_here() -> bool {
    Command::new("cargo")
        .args(["+nightly", "miri", "--version"])
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn undefined_behaviour_that_passes_a_normal_run_fails_under_miri_where_it_is_installed() {
    let after = &results()["reads_the_value_after_freeing_it"];
    let before = &results()["reads_the_value_before_freeing_it"];
    if miri_here() {
        assert_eq!(after["status"], "undefined_behaviour", "{after}");
        let reason = after["reason"].as_str().unwrap();
        assert!(reason.contains("used after it was freed"), "{reason}");
        assert!(
            after["output"].as_str().unwrap().contains("lib.rs:12"),
            "{after}"
        );
        assert_eq!(after["miri"], "checked");
        assert_eq!(before["status"], "passed", "{before}");
        assert_eq!(before["miri"], "checked");
    } else {
        // Both pass a normal run; the report says Miri did not check them.
        assert_eq!(after["status"], "passed", "{after}");
        assert_eq!(after["miri"], "unavailable");
        let out = grade(&["--lab", "8"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            text.contains("2 tests passed without their Miri check"),
            "{text}"
        );
    }
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
            .env("CARGO_TARGET_DIR", fixture_target())
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

// The instructor's side: tamper evidence, --pristine, the process cap, the output formats.

/// Reads `xml` to its end with quick-xml, which stops at a tag closed out of order or text it
/// cannot decode. (The JUnit writer's own tests check more: quoting, references, one root.)
fn well_formed(xml: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            quick_xml::events::Event::Eof => return Ok(()),
            quick_xml::events::Event::Text(t) => {
                t.decode().map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
}

fn classroom(rel: &str) -> PathBuf {
    workspace().join("xtask/fixtures/classroom").join(rel)
}

fn originals() -> String {
    workspace()
        .join("xtask/fixtures/originals")
        .display()
        .to_string()
}

/// A file in a folder of this test binary's own, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grader-scratch");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&path);
    path
}

fn changed_files(lines: &[Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|v| v["kind"] == "changed_file")
        .map(|v| {
            (
                v["path"].as_str().unwrap().to_string(),
                v["change"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn graded_files_the_learner_changed_are_named() {
    assert_eq!(
        changed_files(all_lines()),
        [
            ("labs/06-exiting/tests/graded.rs".into(), "differs".into()),
            ("labs/07-edited/tests/deleted.rs".into(), "missing".into()),
            ("labs/07-edited/tests/graded.rs".into(), "differs".into()),
            ("labs/07-edited/tests/mine.rs".into(), "added".into()),
        ]
    );
    assert!(
        all_lines()
            .iter()
            .filter(|v| v["kind"] == "changed_file")
            .all(|v| v["pristine"] == false)
    );
    // Without --pristine the edited test is what runs: the wrong answer passes, and the test of
    // the deleted file is missing.
    assert_eq!(status("double_is_right"), "passed");
    assert_eq!(status("triple_is_right"), "passed");
    assert_eq!(status("a_test_in_a_deleted_file"), "missing");
}

#[test]
fn the_report_says_plainly_which_graded_files_changed() {
    let out = grade(&["--lab", "7"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("3 graded files are not the course's original:"),
        "{text}"
    );
    assert!(
        text.contains("labs/07-edited/tests/graded.rs   differs from the course's original"),
        "{text}"
    );
    assert!(
        text.contains("labs/07-edited/tests/deleted.rs  is missing"),
        "{text}"
    );
    assert!(
        text.contains("labs/07-edited/tests/mine.rs     was added"),
        "{text}"
    );
    assert!(text.contains("grade --pristine"), "{text}");
}

#[test]
fn pristine_grades_the_original_tests_and_leaves_the_learners_files_alone() {
    let edited = classroom("labs/07-edited/tests/graded.rs");
    let before = std::fs::read(&edited).unwrap();
    let out = grade(&[
        "--lab",
        "7",
        "--pristine",
        "--pristine-from",
        &originals(),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    let status = |name: &str| {
        lines
            .iter()
            .find(|v| v["test"] == name)
            .unwrap_or_else(|| panic!("no {name} in {lines:?}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The original expects 6 from `double(3)`; the learner's code returns 7.
    assert_eq!(status("double_is_right"), "failed");
    assert_eq!(status("triple_is_right"), "passed");
    assert_eq!(status("a_test_in_a_deleted_file"), "passed");
    assert_eq!(changed_files(&lines).len(), 3);
    assert!(
        lines
            .iter()
            .filter(|v| v["kind"] == "changed_file")
            .all(|v| v["pristine"] == true)
    );
    assert_eq!(
        std::fs::read(&edited).unwrap(),
        before,
        "the learner's file is untouched"
    );
    assert!(!classroom("labs/07-edited/tests/deleted.rs").exists());
    assert!(classroom("labs/07-edited/tests/mine.rs").exists());
}

#[test]
fn pristine_without_the_originals_is_a_clear_error() {
    // The grader also looks for originals in git history, and this course's history holds the
    // fixture's (xtask/fixtures/originals is committed): git is pointed at an empty repository,
    // as for a course whose history never had them. Without git, there is no history anyway.
    let empty_history = scratch("empty-history.git");
    let _ = Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&empty_history)
        .output();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(classroom(""))
        .args(["grade", "--lab", "7", "--pristine"])
        .env("CARGO_TARGET_DIR", fixture_target())
        .env("NO_COLOR", "1")
        .env("GIT_DIR", &empty_history)
        .output()
        .expect("the xtask binary runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot grade with the original tests: the original of labs/07-edited/tests/"),
        "{err}"
    );
    assert!(err.contains("--pristine-from DIR"), "{err}");
}

#[test]
fn pristine_finds_the_originals_in_git_history() {
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=gclabs",
                "-c",
                "user.email=gclabs@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output();
        match out {
            Ok(out) if out.status.success() => true,
            Ok(out) => panic!("git {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
            Err(_) => false,
        }
    };
    // A learner's clone of a one-lab course: committed as shipped, then the test edited.
    let repo = scratch("git-course");
    let lab = repo.join("labs/01-passing");
    std::fs::create_dir_all(lab.join("src")).unwrap();
    std::fs::create_dir_all(lab.join("tests")).unwrap();
    for rel in ["Cargo.toml", "src/lib.rs", "lab.toml", "tests/graded.rs"] {
        std::fs::copy(classroom(&format!("labs/01-passing/{rel}")), lab.join(rel)).unwrap();
    }
    std::fs::write(
        repo.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"labs/*\"]\n\n[workspace.package]\n\
         edition = \"2024\"\npublish = false\n",
    )
    .unwrap();
    std::fs::write(
        lab.join("src/lib.rs"),
        "pub fn answer() -> u32 {\n    41\n}\n",
    )
    .unwrap();
    let root = repo.display().to_string();
    let listed = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--root", &root, "checksums"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    if !git(&repo, &["init", "-q"]) {
        eprintln!("git is not installed: the originals cannot come from git history here");
        return;
    }
    assert!(git(&repo, &["add", "-A"]));
    assert!(git(&repo, &["commit", "-q", "-m", "the course as shipped"]));
    std::fs::write(
        lab.join("tests/graded.rs"),
        "#[test]\nfn answer_is_right() {}\n\n#[test]\nfn prints_and_passes() {}\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["--root", &root, "grade", "--json", "--no-measure"])
            .args(extra)
            .env("CARGO_TARGET_DIR", fixture_target())
            .output()
            .unwrap();
        let lines = json_lines(&out.stdout);
        let answer = lines
            .iter()
            .find(|v| v["test"] == "answer_is_right")
            .unwrap_or_else(|| panic!("{lines:?} {}", String::from_utf8_lossy(&out.stderr)))
            ["status"]
            .clone();
        (answer, changed_files(&lines))
    };
    let (edited, changes) = run(&[]);
    assert_eq!(edited, "passed", "the edited test passes the wrong answer");
    assert_eq!(
        changes,
        [("labs/01-passing/tests/graded.rs".into(), "differs".into())]
    );
    let (original, _) = run(&["--pristine"]);
    assert_eq!(original, "failed", "the original from git catches 41");
}

#[test]
fn the_classroom_checksum_list_differs_exactly_where_the_learner_changed_it() {
    let out = xtask(&["checksums", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut stale: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  labs/"))
        .filter_map(|l| l.split(':').next())
        .map(|l| format!("labs/{l}"))
        .collect();
    stale.sort();
    assert_eq!(
        stale,
        [
            "labs/06-exiting/tests/graded.rs",
            "labs/07-edited/tests/deleted.rs",
            "labs/07-edited/tests/graded.rs",
            "labs/07-edited/tests/mine.rs",
        ],
        "{text}"
    );
    // And the listed ids are those of the originals.
    let list = std::fs::read_to_string(classroom("labs/checksums.txt")).unwrap();
    for rel in [
        "labs/06-exiting/tests/graded.rs",
        "labs/07-edited/tests/deleted.rs",
        "labs/07-edited/tests/graded.rs",
    ] {
        let original = workspace().join("xtask/fixtures/originals").join(rel);
        let id = git_blob_id(&std::fs::read(original).unwrap());
        assert!(
            list.contains(&format!("{id}  {rel}")),
            "{rel}: {id}\n{list}"
        );
    }
}

/// `sha1("blob <len>\0" + content)`, by `git hash-object` when git is here.
fn git_blob_id(content: &[u8]) -> String {
    let path = scratch(&format!("blob-{}", content.len()));
    std::fs::write(&path, content).unwrap();
    let out = Command::new("git").arg("hash-object").arg(&path).output();
    match out {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap().trim().into(),
        _ => panic!("this test needs git to compute blob ids independently"),
    }
}

#[test]
fn a_spawn_loop_stops_at_the_process_cap() {
    let limits = String::from_utf8(xtask(&["limits"]).stdout).unwrap();
    assert!(
        limits.contains("Lab 04 · Hanging: 2 s, 2048 MiB, 64 processes (1 test sets its own)"),
        "{limits}"
    );
    let r = &results()["spawning_many_processes_hits_the_cap"];
    if limits.contains("NOT enforced") {
        // Root without a pids cgroup: the 200 short sleeps run and end; nothing stops them.
        eprintln!("the process cap is not enforced here:\n{limits}");
        assert_eq!(r["status"], "passed");
    } else {
        assert_eq!(r["status"], "process_limit", "{r}");
        assert!(r["reason"].as_str().unwrap().contains("cap of 32"), "{r}");
        assert!(
            r["output"]
                .as_str()
                .unwrap()
                .contains("Resource temporarily unavailable"),
            "{r}"
        );
    }
}

#[test]
fn gradescope_results_are_valid_and_score_what_passed() {
    let path = scratch("results.json");
    let out = grade(&[
        "--lab",
        "1",
        "--lab",
        "2",
        "--lab",
        "3",
        "--lab",
        "7",
        "--no-measure",
        "--format",
        "gradescope",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "--output keeps stdout empty");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Lab 01: 4 of 4; lab 02: 0 of 4; lab 03 does not compile: 0 of 5; lab 07: 3 of 5.
    assert_eq!(doc["score"], 7);
    let tests = doc["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 8);
    for t in tests {
        for key in [
            "name",
            "score",
            "max_score",
            "status",
            "output",
            "visibility",
        ] {
            assert!(!t[key].is_null(), "{key} missing in {t}");
        }
        let passed = t["status"] == "passed";
        assert!(passed || t["status"] == "failed", "{t}");
        assert_eq!(t["score"] == t["max_score"], passed, "{t}");
    }
    let named = |n: &str| tests.iter().find(|t| t["name"] == n).unwrap();
    assert_eq!(named("Lab 01 · answer_is_right")["max_score"], 3);
    let diff = named("Lab 02 · wrong_answer_shows_a_diff")["output"]
        .as_str()
        .unwrap();
    assert!(diff.contains(">    y: 4,"), "{diff}");
    assert!(diff.contains("Hint: Average both coordinates."), "{diff}");
    let output = doc["output"].as_str().unwrap();
    assert!(output.contains("Lab 03 does not compile"), "{output}");
    assert!(output.contains("cannot divide `u32` by `&str`"), "{output}");
    assert!(
        output.contains("labs/07-edited/tests/graded.rs   differs"),
        "{output}"
    );
}

#[test]
fn a_grade_that_cannot_run_still_writes_a_gradescope_result() {
    let path = scratch("error-results.json");
    let out = grade(&[
        "--lab",
        "9",
        "--format",
        "gradescope",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["score"], 0);
    assert!(
        doc["output"]
            .as_str()
            .unwrap()
            .contains("there is no lab 9"),
        "{doc}"
    );
}

#[test]
fn junit_output_is_well_formed_xml_with_one_case_per_test() {
    let out = grade(&[
        "--lab", "2", "--lab", "3", "--lab", "5", "--lab", "7", "--format", "junit",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{}", &xml[..xml.len().min(4000)]));
    assert_eq!(xml.matches("<testsuite ").count(), 4);
    // 2 + 1 + 6 + 3 graded tests, and lab 07's "graded files are the originals".
    assert_eq!(xml.matches("<testcase ").count(), 13);
    assert!(
        xml.contains("<testsuites name=\"gclabs\" tests=\"13\""),
        "{xml}"
    );
    assert!(xml.contains("type=\"not_started\""));
    assert!(xml.contains("<error message=\"not run: the lab does not compile\""));
    assert!(xml.contains("type=\"crashed\""));
    assert!(xml.contains("name=\"graded files are the originals\""));
    assert!(xml.contains(
        "<property name=\"changed_file\" value=\"labs/07-edited/tests/mine.rs (added)\"/>"
    ));
}

#[test]
fn json_lines_go_to_a_file_and_json_is_format_json() {
    let path = scratch("results.jsonl");
    let out = grade(&[
        "--lab",
        "1",
        "--no-measure",
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let from_file = json_lines(&std::fs::read(&path).unwrap());
    let alias = json_lines(&grade(&["--lab", "1", "--no-measure", "--json"]).stdout);
    let names =
        |lines: &[Value]| -> Vec<Value> { lines.iter().map(|v| v["test"].clone()).collect() };
    assert_eq!(names(&from_file), names(&alias));
    assert_eq!(from_file.len(), 2);

    let both = grade(&["--json", "--format", "junit"]);
    assert_eq!(both.status.code(), Some(2));
    let human_to_file = grade(&["--lab", "1", "--output", path.to_str().unwrap()]);
    assert_eq!(human_to_file.status.code(), Some(2));
    let err = String::from_utf8(human_to_file.stderr).unwrap();
    assert!(err.contains("needs a machine-readable format"), "{err}");
}

// Bad input: each mistake is an error that says what was wrong and what to do, with exit code 2,
// before anything is built.

/// `cargo xtask ARGS` with no `--root` added, for the tests that give their own.
fn xtask_bare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("CARGO_TARGET_DIR", fixture_target())
        .env("NO_COLOR", "1")
        .output()
        .expect("the xtask binary runs")
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_root_that_is_not_a_checkout_is_named_with_what_to_give_instead() {
    // Outside this course (the scratch folder is in its target/, inside the checkout).
    let outside =
        std::env::temp_dir().join(format!("gclabs-not-a-checkout-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let empty = outside.canonicalize().unwrap().display().to_string();
    for command in [&["grade"][..], &["list"], &["hint", "1"], &["limits"]] {
        let mut args = vec!["--root", &empty];
        args.extend_from_slice(command);
        let out = xtask_bare(&args);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!(
                "{empty} is not a gclabs checkout: it has no labs/ folder"
            )),
            "{command:?}: {err}"
        );
        assert!(err.contains("the one that holds labs/"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&outside);

    // A folder inside a checkout: the checkout is the one to give.
    let inside = classroom("labs/01-passing/src");
    let out = xtask_bare(&["--root", inside.to_str().unwrap(), "grade"]);
    assert_eq!(out.status.code(), Some(2));
    let top = classroom("").canonicalize().unwrap();
    assert!(
        stderr_of(&out).contains(&format!(
            "It is inside the checkout {}: give that folder to --root.",
            top.display()
        )),
        "{}",
        stderr_of(&out)
    );

    // A folder that does not exist is named, and Gradescope still gets a results.json.
    let results = scratch("no-root-results.json");
    let out = xtask_bare(&[
        "--root",
        "/no/such/gclabs",
        "grade",
        "--format",
        "gradescope",
        "--output",
        results.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("the folder given with --root (/no/such/gclabs) cannot be used"),
        "{}",
        stderr_of(&out)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(doc["score"], 0);
    assert!(
        doc["output"].as_str().unwrap().contains("/no/such/gclabs"),
        "{doc}"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_refused_before_grading() {
    // A folder given as the file.
    let folder = scratch("output-folder");
    std::fs::create_dir_all(&folder).unwrap();
    let out = grade(&[
        "--format",
        "gradescope",
        "--output",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("it is a folder"), "{err}");
    assert!(err.contains("Nothing was graded"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "said once: {err}");
    // Nothing was built or run: the progress lines never started.
    assert!(!err.contains("building"), "{err}");

    // A file under a file: its folder cannot be made.
    let blocker = scratch("output-blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let inside = blocker.join("results.json");
    let out = grade(&["--json", "--output", inside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("cannot write the results to {}", inside.display())),
        "{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "said once: {err}");

    // A writable place is left as it was found: an existing file untouched, a new one not made.
    let kept = scratch("kept.json");
    std::fs::write(&kept, "earlier results").unwrap();
    let out = grade(&["--lab", "9", "--json", "--output", kept.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "earlier results");
    let fresh = scratch("fresh.json");
    let out = grade(&["--lab", "9", "--json", "--output", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!fresh.exists());
}

#[test]
fn a_test_name_of_another_lab_or_of_none_says_where_to_look() {
    let out = grade(&["--lab", "1", "--test", "todo_reads_as_not_started"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("`todo_reads_as_not_started` is a test of Lab 02, not of Lab 01"),
        "{err}"
    );
    assert!(
        err.contains("`cargo xtask grade --lab 2 --test todo_reads_as_not_started`"),
        "{err}"
    );

    let out = grade(&["--test", "no_such_test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("no graded test is named `no_such_test`. `cargo xtask list --verbose`"),
        "{err}"
    );

    let out = xtask(&["hint", "2", "no_such_test"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("Lab 02 has no graded test named `no_such_test`"),
        "{err}"
    );
    assert!(
        err.contains("`cargo xtask list --lab 2 --verbose`"),
        "{err}"
    );

    let out = xtask(&["hint", "1", "todo_reads_as_not_started"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "it is a test of Lab 02. Its hints: `cargo xtask hint 2 todo_reads_as_not_started`"
        ),
        "{err}"
    );
}

#[test]
fn a_lab_given_by_name_says_to_give_its_number() {
    let out = grade(&["--lab", "01", "--no-measure"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for (args, example) in [
        (
            &["grade", "--lab", "01-passing"][..],
            "such as 1 for labs/01-passing",
        ),
        (&["hint", "passing"], "such as 1 for labs/01-refcount"),
        (&["reset", "two", "--yes"], "such as 1 for labs/01-refcount"),
    ] {
        let out = xtask(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!("a lab is given by its number, {example}")),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn flags_that_contradict_each_other_are_refused() {
    let submission = scratch("solutions-and-submission");
    std::fs::create_dir_all(submission.join("src")).unwrap();
    std::fs::write(submission.join("src/lib.rs"), "").unwrap();
    let out = grade(&["--solutions", "--submission", submission.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("'--solutions' cannot be used with '--submission <DIR>'"),
        "{err}"
    );
}

#[test]
fn pristine_from_a_folder_that_is_not_the_course_is_a_clear_error() {
    let elsewhere = scratch("not-the-course");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = grade(&[
        "--lab",
        "7",
        "--pristine",
        "--pristine-from",
        elsewhere.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("has no labs/ folder, so it holds none of the course's graded files"),
        "{err}"
    );
}

#[test]
fn a_src_folder_submitted_for_several_labs_says_it_needs_one_lab() {
    let submission = scratch("bare-src");
    std::fs::create_dir_all(submission.join("src")).unwrap();
    std::fs::write(
        submission.join("src/lib.rs"),
        "pub fn answer() -> u32 { 42 }\n",
    )
    .unwrap();
    let out = grade(&[
        "--lab",
        "1",
        "--lab",
        "2",
        "--submission",
        submission.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("is taken only when one lab is graded (--lab N)"),
        "{err}"
    );
}

#[test]
fn hint_for_a_lab_that_does_not_compile_points_at_the_error() {
    let out = xtask(&["hint", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Lab 03 does not compile, so none of its tests can run"),
        "{text}"
    );
    assert!(text.contains("cannot divide `u32` by `&str`"), "{text}");
    assert!(text.contains("`cargo xtask grade --lab 3`"), "{text}");
    assert!(!text.contains("Hint 1 of"), "{text}");
}

#[test]
fn the_report_says_whose_work_it_grades() {
    let out = grade(&["--lab", "1", "--no-measure"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let labs = classroom("").canonicalize().unwrap().join("labs");
    assert!(
        text.contains(&format!("gclabs grader: the work in {}/", labs.display())),
        "{text}"
    );
}

#[test]
fn suggested_commands_repeat_the_options_that_chose_the_work() {
    // An instructor grading another checkout with the original tests is told a command that
    // grades the same work the same way, not the one of their own checkout.
    let out = grade(&["--lab", "2", "--pristine", "--no-measure"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let root = workspace().join("xtask/fixtures/classroom");
    assert!(
        text.contains(&format!(
            "Run only this test: cargo xtask grade --root {} --pristine --lab 2 --test \
             todo_reads_as_not_started",
            root.display()
        )),
        "{text}"
    );
    let out = grade(&["--lab", "3", "--no-measure"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "Fix it and run `cargo xtask grade --root {} --lab 3` again.",
            root.display()
        )),
        "{text}"
    );
}

#[test]
fn every_output_format_is_named_in_the_help_and_the_docs() {
    // The formats are listed once in the code (report::Format); the help and the docs name them
    // in words, and must follow when one is added.
    let help = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["grade", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let classroom = std::fs::read_to_string(workspace().join("docs/classroom.md")).unwrap();
    for format in ["human", "json", "gradescope", "junit"] {
        assert!(
            help.contains(format),
            "`grade --help` does not name {format}:\n{help}"
        );
        assert!(
            classroom.contains(&format!("--format {format}")),
            "docs/classroom.md does not name --format {format}"
        );
        if format != "human" {
            assert!(readme.contains(format), "README.md does not name {format}");
        }
    }
}
