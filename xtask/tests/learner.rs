//! The learner's commands, on copies of the fixture classroom (xtask/fixtures/classroom): `reset`
//! backs up and puts the stubs back (or refuses, and changes nothing), `list` reads what the last
//! grade saved, `watch` grades again on Enter or on a save, and the live progress line stays out
//! of output that is not a terminal. Nothing here writes into the real `labs/`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Cargo's scratch folder for integration tests, in the target folder of this build.
fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A copy of the fixture classroom, removed when dropped. Lab 02 (`02-failing`) gets a reference
/// solution, so that its stubs can be generated.
///
/// Each test has its own copy, always at the same place, in the scratch folder cargo gives
/// integration tests in its target folder (`<target>/tmp/learner-rooms/<name>`): the grader keeps
/// one build folder per checkout path, so a fixed path reuses its build from one run of the tests
/// to the next instead of leaving a new one behind each time, and two `cargo test`s with their own
/// target folders do not share a copy.
struct Classroom {
    root: PathBuf,
}

impl Classroom {
    fn new(name: &str) -> Classroom {
        let root = scratch().join("learner-rooms").join(name);
        let _ = fs::remove_dir_all(&root);
        copy_tree(&workspace().join("xtask/fixtures/classroom"), &root);
        let stub = fs::read_to_string(root.join("labs/02-failing/src/lib.rs")).unwrap();
        let task = "    // TODO: return 7.\n    todo!()\n";
        assert!(stub.contains(task), "the fixture's stub changed:\n{stub}");
        let solution = stub.replace(
            task,
            "    // BEGIN SOLUTION: return 7.\n    7\n    // END SOLUTION\n",
        );
        let solution_src = root.join("solutions/02-failing/src");
        fs::create_dir_all(&solution_src).unwrap();
        fs::write(solution_src.join("lib.rs"), solution).unwrap();
        Classroom {
            root: root.canonicalize().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// The xtask command on this classroom, run from its root, with no terminal anywhere.
    fn xtask(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir(&self.root)
            // Its own target folder: the outer `cargo test` may hold the lock on target/.
            .env("CARGO_TARGET_DIR", scratch().join("fixtures-learner"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.xtask(args).output().expect("the xtask binary runs")
    }
}

impl Drop for Classroom {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The learner's lab 02: the task done, a helper module of their own, and a note.
fn edit_lab_two(room: &Classroom) -> String {
    let mine = room.read("labs/02-failing/src/lib.rs").replace(
        "    // TODO: return 7.\n    todo!()\n",
        "    helper::seven()\n",
    ) + "mod helper;\n";
    fs::write(room.path("labs/02-failing/src/lib.rs"), &mine).unwrap();
    fs::write(
        room.path("labs/02-failing/src/helper.rs"),
        "pub fn seven() -> u32 {\n    7\n}\n",
    )
    .unwrap();
    fs::write(room.path("labs/02-failing/src/notes.txt"), "my notes\n").unwrap();
    mine
}

fn backups(room: &Classroom) -> Vec<PathBuf> {
    match fs::read_dir(room.path("backups")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn reset_with_yes_backs_up_the_learners_work_and_puts_the_stubs_back() {
    // A folder name with spaces, and a command run from outside the classroom: the paths it
    // prints must still work when pasted into a shell.
    let room = Classroom::new("reset with spaces");
    let stub = room.read("labs/02-failing/src/lib.rs");
    let stub_of_lab_one = room.read("labs/01-passing/src/lib.rs");
    let mine = edit_lab_two(&room);
    fs::create_dir_all(room.path("target/gclabs")).unwrap();
    fs::write(
        room.path("target/gclabs/hints.txt"),
        "1 answer_is_right 1\n2 todo_reads_as_not_started 2\n",
    )
    .unwrap();

    let out = room
        .xtask(&["reset", "2", "--yes"])
        .current_dir(workspace())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));

    // The stubs are back; the learner's extra module is gone; other files are left alone.
    assert_eq!(room.read("labs/02-failing/src/lib.rs"), stub);
    assert!(!room.path("labs/02-failing/src/helper.rs").exists());
    assert_eq!(room.read("labs/02-failing/src/notes.txt"), "my notes\n");
    assert_eq!(room.read("labs/01-passing/src/lib.rs"), stub_of_lab_one);

    // The whole of the learner's src/ is in one backup folder, named for the lab.
    let made = backups(&room);
    assert_eq!(made.len(), 1, "{made:?}");
    let backup = &made[0];
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("02-failing-") && name.ends_with('Z'),
        "{name}"
    );
    assert_eq!(fs::read_to_string(backup.join("src/lib.rs")).unwrap(), mine);
    assert!(backup.join("src/helper.rs").is_file());
    assert!(backup.join("src/notes.txt").is_file());
    assert!(stdout.contains(&format!("backups/{name}/src")), "{stdout}");
    assert!(stdout.contains("src/lib.rs"), "{stdout}");
    assert!(stdout.contains("src/helper.rs"), "{stdout}");

    // Lab 02's hints start again; lab 01's are kept.
    assert_eq!(
        room.read("target/gclabs/hints.txt"),
        "1 answer_is_right 1\n"
    );
    assert!(stdout.contains("hints of Lab 02 start again"), "{stdout}");

    // The command it prints to get the learner's version back does so.
    let restore = stdout
        .lines()
        .find_map(|l| l.strip_prefix("To get it back:"))
        .expect("a line saying how to get the learner's version back")
        .trim();
    let status = Command::new("sh")
        .args(["-c", restore])
        .current_dir(workspace())
        .status()
        .unwrap();
    assert!(status.success(), "{restore}");
    assert_eq!(room.read("labs/02-failing/src/lib.rs"), mine);
    assert!(room.path("labs/02-failing/src/helper.rs").is_file());

    // A second reset makes a second backup rather than overwriting the first.
    let again = room.run(&["reset", "2", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(backups(&room).len(), 2);
    assert_eq!(room.read("labs/02-failing/src/lib.rs"), stub);
}

#[test]
fn reset_with_nothing_to_reset_changes_nothing() {
    let room = Classroom::new("reset-noop");
    let out = room.run(&["reset", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already holds the stubs of Lab 02: nothing to reset"),
        "{}",
        text(&out.stdout)
    );
    assert!(backups(&room).is_empty());
}

#[test]
fn reset_without_a_terminal_and_without_yes_refuses_and_changes_nothing() {
    let room = Classroom::new("reset-refused");
    let mine = edit_lab_two(&room);
    let out = room.run(&["reset", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("there is no terminal to ask on"), "{err}");
    assert!(err.contains("cargo xtask reset 2 --yes"), "{err}");
    assert_eq!(room.read("labs/02-failing/src/lib.rs"), mine);
    assert!(room.path("labs/02-failing/src/helper.rs").is_file());
    assert!(backups(&room).is_empty());
}

#[test]
fn reset_changes_nothing_when_the_backup_cannot_be_made() {
    let room = Classroom::new("reset-no-backup");
    let mine = edit_lab_two(&room);
    // A file where the backup folder should go: the backup cannot be made.
    fs::write(room.path("backups"), "in the way\n").unwrap();
    let out = room.run(&["reset", "2", "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("could not back up"), "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(room.read("labs/02-failing/src/lib.rs"), mine);
    assert!(room.path("labs/02-failing/src/helper.rs").is_file());
}

#[test]
fn reset_of_a_lab_without_a_solution_says_how_else_to_get_the_stubs() {
    let room = Classroom::new("reset-no-solution");
    let out = room.run(&["reset", "1", "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot put back the stubs of Lab 01") && err.contains("git checkout"),
        "{err}"
    );
}

#[test]
fn list_says_what_the_last_grade_passed_and_when_it_is_out_of_date() {
    let room = Classroom::new("list");
    let before = room.run(&["list"]);
    assert_eq!(before.status.code(), Some(0), "{}", text(&before.stderr));
    let before = text(&before.stdout);
    assert!(before.contains("no grade saved yet"), "{before}");
    assert!(
        before.contains("not graded yet: run `cargo xtask grade --lab 2`"),
        "{before}"
    );
    assert!(before.contains("todo_reads_as_not_started"), "{before}");

    let graded = room.run(&["grade", "--lab", "1", "--lab", "2", "--no-measure"]);
    assert_eq!(graded.status.code(), Some(1), "{}", text(&graded.stderr));
    let saved: serde_json::Value =
        serde_json::from_str(&room.read("target/gclabs/last-grade.json")).unwrap();
    assert_eq!(
        saved["labs"]["2"]["tests"]["wrong_answer_shows_a_diff"]["status"],
        "failed"
    );

    let after = text(&room.run(&["list"]).stdout);
    assert!(
        after.contains("Lab 01 · Passing") && after.contains("4 / 4 points · 2 of 2 tests pass"),
        "{after}"
    );
    assert!(after.contains("✓  3/3  answer_is_right"), "{after}");
    assert!(
        after.contains("·  0/2  todo_reads_as_not_started"),
        "{after}"
    );
    assert!(
        after.contains("✗  0/2  wrong_answer_shows_a_diff"),
        "{after}"
    );
    assert!(after.contains("graded just now"), "{after}");
    assert!(
        after.contains("next: `todo_reads_as_not_started`"),
        "{after}"
    );
    // Labs 03 to 06 were not part of that grade.
    assert!(
        after.contains("not graded yet: run `cargo xtask grade --lab 3`"),
        "{after}"
    );

    // A change to lab 02's sources makes its results out of date, and only its.
    edit_lab_two(&room);
    let changed = text(&room.run(&["list", "--lab", "2"]).stdout);
    assert!(
        changed.contains("not graded since your last change"),
        "{changed}"
    );
    assert!(
        changed.contains("run `cargo xtask grade --lab 2`"),
        "{changed}"
    );
    assert!(!changed.contains("Lab 01"), "{changed}");
    let lab_one = text(&room.run(&["list", "--lab", "1"]).stdout);
    assert!(!lab_one.contains("not graded since"), "{lab_one}");

    // Grading one test updates that test and keeps the others.
    let one = room.run(&["grade", "--lab", "2", "--test", "todo_reads_as_not_started"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stdout));
    let saved: serde_json::Value =
        serde_json::from_str(&room.read("target/gclabs/last-grade.json")).unwrap();
    let tests = &saved["labs"]["2"]["tests"];
    assert_eq!(tests["todo_reads_as_not_started"]["status"], "passed");
    assert_eq!(tests["wrong_answer_shows_a_diff"]["status"], "failed");
    assert_eq!(
        saved["labs"]["1"]["tests"]["answer_is_right"]["status"],
        "passed"
    );
}

#[test]
fn progress_is_plain_lines_without_a_terminal_and_absent_with_json() {
    let room = Classroom::new("progress");
    let plain = room.run(&["grade", "--lab", "1", "--no-measure"]);
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let err = text(&plain.stderr);
    assert!(!err.contains('\r'), "a carriage return in a log: {err:?}");
    assert!(
        !err.contains("[#") && !err.contains("[-"),
        "a bar in a log: {err:?}"
    );
    assert!(err.contains("building Lab 01 (passing) ..."), "{err}");
    assert!(err.contains("running 2 graded tests of Lab 01"), "{err}");
    assert!(!text(&plain.stdout).contains('\r'));

    let json = room.run(&["grade", "--lab", "1", "--no-measure", "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    assert_eq!(
        text(&json.stderr),
        "",
        "nothing but errors on stderr with --json"
    );
}

#[test]
fn the_report_of_a_finished_lab_is_not_cut_short_when_it_is_small() {
    // Small labs are listed test by test; only labs with many tests are summed up.
    let room = Classroom::new("small-report");
    let out = room.run(&["grade", "--lab", "1", "--no-measure"]);
    let report = text(&out.stdout);
    assert!(report.contains("✓  3/3  answer_is_right"), "{report}");
    assert!(report.contains("✓  1/1  prints_and_passes"), "{report}");
}

#[test]
fn watch_in_manual_mode_grades_on_enter_and_stops_on_q() {
    let room = Classroom::new("watch-manual");
    let mut child = room
        .xtask(&["watch", "--lab", "2", "--manual"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = read_lines(child.stdout.take().unwrap());
    let prompt = "press Enter to grade labs/02-failing again, or q and Enter to stop";
    let first = wait_for(&lines, prompt, 1);
    assert!(first.contains("Lab 02 · Failing"), "{first}");
    assert!(
        !first.contains("\x1b["),
        "no escape codes when not a terminal"
    );
    assert!(!first.contains("Lab 01"), "only the watched lab: {first}");

    // The learner does the task, then presses Enter.
    edit_lab_two(&room);
    stdin.write_all(b"\n").unwrap();
    let second = wait_for(&lines, prompt, 2);
    assert!(
        second.contains("Total: 2 / 4 points (50%), 1 of 2 tests pass"),
        "{second}"
    );

    stdin.write_all(b"q\n").unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status, Some(0));
}

#[test]
fn watch_grades_again_when_a_file_is_saved() {
    let room = Classroom::new("watch-poll");
    let mut child = room
        .xtask(&["watch", "--lab", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = read_lines(child.stdout.take().unwrap());
    let footer = "watching labs/02-failing/src … (Ctrl-C to stop)";
    let first = wait_for(&lines, footer, 1);
    assert!(
        first.contains("Total: 0 / 4 points (0%), 0 of 2 tests pass"),
        "{first}"
    );

    // A save that writes two files: one grade, not two.
    bump_mtime_past(&room.path("labs/02-failing/src/lib.rs"));
    edit_lab_two(&room);
    let second = wait_for(&lines, footer, 2);
    assert!(
        second.contains("Total: 2 / 4 points (50%), 1 of 2 tests pass"),
        "{second}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let runs = lines.count(footer);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(runs, 2, "one save, one grade:\n{}", lines.all());
}

/// Waits until the modification time is clearly later than when the file was last written, so
/// that a file system with coarse timestamps still sees the next write as a change.
fn bump_mtime_past(path: &Path) {
    let written = fs::metadata(path).unwrap().modified().unwrap();
    while SystemTime::now()
        .duration_since(written)
        .is_ok_and(|d| d < Duration::from_millis(1100))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Output lines collected by a thread, for a test to wait on.
struct Lines {
    seen: mpsc::Receiver<String>,
    all: std::cell::RefCell<Vec<String>>,
}

impl Lines {
    fn all(&self) -> String {
        while let Ok(line) = self.seen.try_recv() {
            self.all.borrow_mut().push(line);
        }
        self.all.borrow().join("\n")
    }
    fn count(&self, needle: &str) -> usize {
        self.all().lines().filter(|l| l.contains(needle)).count()
    }
}

fn read_lines(out: impl std::io::Read + Send + 'static) -> Lines {
    let (send, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Lines {
        seen,
        all: Default::default(),
    }
}

/// Waits (at most three minutes: the first grade builds the labs) until `needle` has been
/// printed `times` times, and returns the output since the previous one.
fn wait_for(lines: &Lines, needle: &str, times: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let all = lines.all();
        if all.lines().filter(|l| l.contains(needle)).count() >= times {
            let parts: Vec<&str> = all.split(needle).collect();
            return parts[times - 1].to_string();
        }
        assert!(
            Instant::now() < deadline,
            "`{needle}` was not printed {times} times:\n{all}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the watcher did not stop");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The status of `test` in the JSON lines of a grade.
fn status_of(out: &Output, test: &str) -> String {
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["test"] == test)
        .and_then(|v| v["status"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            panic!(
                "no result for {test}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        })
}

#[test]
fn a_copied_checkout_grades_and_resets_itself_never_the_original() {
    // The learner's work: lab 06 answered (wrongly: it exits), with a reference that answers 1.
    let original = Classroom::new("copied-original");
    let solution_src = original.path("solutions/06-exiting/src");
    fs::create_dir_all(&solution_src).unwrap();
    fs::write(
        solution_src.join("lib.rs"),
        "pub fn leave() -> u32 {\n    // BEGIN SOLUTION: return 1.\n    1\n    // END SOLUTION\n}\n",
    )
    .unwrap();
    let work = original.read("labs/06-exiting/src/lib.rs");
    // A backup of the whole checkout, as a learner would take it.
    let copy = scratch().join("learner-rooms").join("copied-copy");
    let _ = fs::remove_dir_all(&copy);
    copy_tree(&original.root, &copy);
    // The tool was compiled in another checkout (this binary, in the course's own): run in the
    // copy, without --root, from one of its folders, it must work on the copy.
    let in_copy = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(copy.join("labs/06-exiting/src"))
            .env("CARGO_TARGET_DIR", scratch().join("fixtures-learner"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let graded = in_copy(&["grade", "--lab", "6", "--json", "--no-measure"]);
    assert_eq!(
        status_of(&graded, "exit_zero_is_not_a_pass"),
        "exited_early"
    );
    let reset = in_copy(&["reset", "6", "--yes"]);
    assert_eq!(reset.status.code(), Some(0), "{}", text(&reset.stderr));
    let stub = fs::read_to_string(copy.join("labs/06-exiting/src/lib.rs")).unwrap();
    assert!(stub.contains("// TODO: return 1.\n    todo!()"), "{stub}");
    assert!(
        copy.join("backups").is_dir(),
        "the copy keeps its own backup"
    );
    let regraded = in_copy(&["grade", "--lab", "6", "--json", "--no-measure"]);
    assert_eq!(
        status_of(&regraded, "exit_zero_is_not_a_pass"),
        "not_started",
        "{}",
        text(&regraded.stdout)
    );
    // The original is as it was: its work, no backup, no grade saved.
    assert_eq!(original.read("labs/06-exiting/src/lib.rs"), work);
    assert!(backups(&original).is_empty());
    assert!(!original.path("target/gclabs/last-grade.json").exists());
    let _ = fs::remove_dir_all(&copy);
}

#[test]
fn outside_any_checkout_the_tool_says_where_to_run_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("list")
        .current_dir("/")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("/ is not inside one"), "{err}");
    assert!(
        err.contains("Run it from your clone of the course"),
        "{err}"
    );
}

#[test]
fn sources_restored_with_their_old_times_are_graded_as_they_are_now() {
    let room = Classroom::new("restored");
    let stub = room.read("labs/02-failing/src/lib.rs");
    let grade = || room.run(&["grade", "--lab", "2", "--json", "--no-measure"]);
    edit_lab_two(&room);
    assert_eq!(status_of(&grade(), "todo_reads_as_not_started"), "passed");
    // The stub put back as `cp -a` restores a backup: with a time long before that build, so
    // that cargo, which goes by times, would keep the binaries of the work graded above.
    let lib = room.path("labs/02-failing/src/lib.rs");
    fs::write(&lib, &stub).unwrap();
    fs::File::options()
        .write(true)
        .open(&lib)
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    assert_eq!(
        status_of(&grade(), "todo_reads_as_not_started"),
        "not_started"
    );
}
