//! The Gradescope autograder bundle, tested as Gradescope would use it: `cargo xtask autograder`
//! builds the zip for the fixture classroom's lab 01, the test unpacks it, and runs its
//! `run_autograder` (with the paths moved by environment variables) against fake submissions in
//! each accepted layout: passing, failing (with an edited test that must not count), not
//! compiling, and malformed. Every run must leave a valid results.json with the right score.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// This test binary's own folder, under the build's target folder.
fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("autograder-test")
}

/// Builds the bundle and unpacks it, once; returns the unpacked folder.
fn bundle() -> &'static Path {
    static UNPACKED: OnceLock<PathBuf> = OnceLock::new();
    UNPACKED.get_or_init(|| {
        let dir = scratch().join("bundle");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let zip = dir.join("bundle.zip");
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(workspace().join("xtask/fixtures/classroom"))
            .args(["autograder", "--lab", "1", "--output"])
            .arg(&zip)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let archive = fs::read(&zip).unwrap();
        if Command::new("unzip").arg("-v").output().is_ok() {
            let test = Command::new("unzip").arg("-t").arg(&zip).output().unwrap();
            assert!(
                test.status.success(),
                "unzip -t: {}",
                String::from_utf8_lossy(&test.stdout)
            );
        }
        let unpacked = dir.join("source");
        for (name, data, mode) in unzip(&archive) {
            assert!(
                !name.starts_with('/') && !name.split('/').any(|p| p == ".."),
                "{name}"
            );
            let path = unpacked.join(&name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, data).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        }
        unpacked
    })
}

/// The entries of the bundle: (name, data, Unix mode), each checked to be stored uncompressed.
fn unzip(archive: &[u8]) -> Vec<(String, Vec<u8>, u32)> {
    use std::io::Read as _;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let name = file.name().to_string();
            assert_eq!(file.compression(), zip::CompressionMethod::Stored, "{name}");
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            let mode = file.unix_mode().expect("a Unix mode") & 0o7777;
            (name, data, mode)
        })
        .collect()
}

/// Writes a fake submission: `files` are (path, content).
fn submission(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch().join("submissions").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (rel, text) in files {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// Runs the bundle's run_autograder on a submission; returns results.json, parsed.
fn run_autograder(submission: &Path) -> Value {
    run_autograder_logged(submission).0
}

/// [`run_autograder`], with what run_autograder printed. It must end within two minutes, and
/// with status 0, whatever the submission does.
fn run_autograder_logged(submission: &Path) -> (Value, String) {
    let source = bundle();
    let results = submission.with_extension("results.json");
    let _ = fs::remove_file(&results);
    let mut cmd = Command::new(source.join("run_autograder"));
    cmd.env("GCLABS_SOURCE", source)
        .env("GCLABS_SUBMISSION", submission)
        .env("GCLABS_RESULTS", &results)
        .env("GCLABS_XTASK", env!("CARGO_BIN_EXE_xtask"))
        .env(
            "GCLABS_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures"),
        );
    let (status, log) = output_within(cmd, Duration::from_secs(120));
    assert!(status.success(), "run_autograder failed:\n{log}");
    let text = fs::read_to_string(&results).unwrap_or_else(|e| panic!("{e}\n{log}"));
    let doc =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}\n{log}"));
    (doc, log)
}

/// Runs `cmd` with its output read by threads, and fails the test if it has not ended, output
/// closed, by `limit`: a process the submission left behind holding run_autograder's output open
/// would keep Gradescope waiting just the same.
fn output_within(mut cmd: Command, limit: Duration) -> (std::process::ExitStatus, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("it starts");
    let (sender, receiver) = mpsc::channel();
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            let _ = sender.send(text);
        });
    }
    drop(sender);
    let deadline = Instant::now() + limit;
    let mut log = Vec::new();
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(text) => log.extend(text),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "not finished after {} s, or its output is still held open by a process it \
                     left behind:\n{}",
                    limit.as_secs(),
                    String::from_utf8_lossy(&log)
                );
            }
        }
    }
    let status = child.wait().expect("it ends");
    (status, String::from_utf8_lossy(&log).into_owned())
}

/// Checks the shape Gradescope requires of every results.json.
fn check_shape(doc: &Value) {
    assert!(doc["score"].is_number(), "{doc}");
    assert!(doc["output"].is_string(), "{doc}");
    for t in doc["tests"].as_array().expect("a tests array") {
        assert!(t["name"].is_string(), "{t}");
        assert!(t["score"].is_number() && t["max_score"].is_number(), "{t}");
        assert!(t["status"] == "passed" || t["status"] == "failed", "{t}");
        assert!(t["output"].is_string(), "{t}");
        assert_eq!(t["visibility"], "visible", "{t}");
    }
}

const RIGHT: &str = "pub fn answer() -> u32 {\n    42\n}\n";

#[test]
fn the_bundle_has_what_gradescope_needs_at_its_root() {
    let source = bundle();
    for (file, executable) in [
        ("setup.sh", true),
        ("run_autograder", true),
        ("README.txt", false),
        ("course/Cargo.toml", false),
        ("course/labs/checksums.txt", false),
        ("course/labs/01-passing/tests/graded.rs", false),
    ] {
        let meta = fs::metadata(source.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(meta.permissions().mode() & 0o111 != 0, executable, "{file}");
    }
    assert!(!source.join("course/target").exists());
    let run = fs::read_to_string(source.join("run_autograder")).unwrap();
    assert!(run.contains("GCLABS_LABS:-1}"), "the lab is baked in");
    let setup = fs::read_to_string(source.join("setup.sh")).unwrap();
    assert!(setup.contains("rustup"), "{setup}");
}

#[test]
fn the_readme_names_the_labs_and_the_total_to_set() {
    let readme = fs::read_to_string(bundle().join("README.txt")).unwrap();
    assert!(
        readme.contains("\n  Lab 01 · Passing, 4 points\n"),
        "{readme}"
    );
    assert!(
        readme.contains("set the assignment's total to 4 points"),
        "{readme}"
    );
    assert!(!readme.contains('@'), "a placeholder is left: {readme}");
}

#[test]
fn a_passing_submission_scores_full_marks() {
    // The whole repository, inside one top folder as GitHub's zip download has it.
    let doc = run_autograder(&submission(
        "passing",
        &[("gclabs-main/labs/01-passing/src/lib.rs", RIGHT)],
    ));
    check_shape(&doc);
    assert_eq!(doc["score"], 4, "{doc}");
    assert!(
        doc["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "passed")
    );
    // The lab's src/ files at the top of the submission: the same.
    let flat = run_autograder(&submission("flat", &[("lib.rs", RIGHT)]));
    assert_eq!(flat["score"], 4, "{flat}");
}

#[test]
fn a_failing_submission_scores_what_passes_even_with_an_edited_test() {
    // A repository whose test was edited to accept the wrong answer: only src/ is taken.
    let doc = run_autograder(&submission(
        "failing",
        &[
            (
                "labs/01-passing/src/lib.rs",
                "pub fn answer() -> u32 {\n    41\n}\n",
            ),
            (
                "labs/01-passing/tests/graded.rs",
                "#[test]\nfn answer_is_right() {}\n#[test]\nfn prints_and_passes() {}\n",
            ),
        ],
    ));
    check_shape(&doc);
    assert_eq!(doc["score"], 1, "{doc}");
    let answer = &doc["tests"][0];
    assert_eq!(answer["name"], "Lab 01 · answer_is_right");
    assert_eq!(answer["status"], "failed");
    assert_eq!(answer["max_score"], 3);
    let output = answer["output"].as_str().unwrap();
    assert!(output.contains("left: 41"), "{output}");
    assert!(output.contains("Hint: It already passes."), "{output}");
}

#[test]
fn a_submission_that_does_not_compile_scores_zero_with_the_error() {
    // A bare src/ folder.
    let doc = run_autograder(&submission(
        "not-compiling",
        &[(
            "src/lib.rs",
            "pub fn answer() -> u32 {\n    \"forty-two\"\n}\n",
        )],
    ));
    check_shape(&doc);
    assert_eq!(doc["score"], 0, "{doc}");
    let output = doc["output"].as_str().unwrap();
    assert!(output.contains("Lab 01 does not compile"), "{output}");
    assert!(output.contains("mismatched types"), "{output}");
    assert_eq!(doc["tests"].as_array().unwrap().len(), 2);
}

#[test]
fn a_malformed_submission_scores_zero_and_says_what_is_accepted() {
    let doc = run_autograder(&submission("malformed", &[("answer.txt", "42\n")]));
    check_shape(&doc);
    assert_eq!(doc["score"], 0, "{doc}");
    let output = doc["output"].as_str().unwrap();
    assert!(output.contains("It holds: answer.txt."), "{output}");
    assert!(output.contains("labs/NN-name/src/"), "{output}");
}

#[test]
fn a_grader_that_cannot_run_still_leaves_a_valid_results_json() {
    let source = bundle();
    let sub = submission("no-grader", &[("lib.rs", RIGHT)]);
    let results = sub.with_extension("results.json");
    let out = Command::new(source.join("run_autograder"))
        .env("GCLABS_SOURCE", source)
        .env("GCLABS_SUBMISSION", &sub)
        .env("GCLABS_RESULTS", &results)
        .env("GCLABS_XTASK", source.join("bin/no-such-grader"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_str(&fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(doc["score"], 0);
    assert!(
        doc["output"]
            .as_str()
            .unwrap()
            .contains("the grader did not finish (it ended with status 127)"),
        "{doc}"
    );
}

// Hostile submissions: code that attacks the grader instead of answering. Whatever it does, the
// grade must be the honest one (when the grader runs as root, as on Gradescope, the tests run as
// an unprivileged user and every attack fails), or "could not be graded" with score 0 (a grader
// that is not root cannot protect itself from code running as its own user, and says so); never
// the score the submission wrote itself.

/// The grader runs as root here, so its tests run as another user.
fn grader_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `answer()` that writes a forged results.json wherever it can find one named (GCLABS_RESULTS,
/// the grader's own --output, read from its command line), rewrites the course's test and
/// lab.toml (the test runs in the lab's folder of the course copy), kills the grader, and, still
/// alive, panics with what each attempt gave.
const FORGER: &str = r#####"
pub fn answer() -> u32 {
    let forged = r#"{"score": 100, "output": "forged", "tests": []}"#;
    let mut log = Vec::new();
    let grader = std::os::unix::process::parent_id();
    let mut targets: Vec<String> = std::env::var("GCLABS_RESULTS").into_iter().collect();
    if let Ok(line) = std::fs::read(format!("/proc/{grader}/cmdline")) {
        let args: Vec<String> =
            line.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if let Some(i) = args.iter().position(|a| a == "--output") {
            targets.extend(args.get(i + 1).cloned());
        }
    }
    targets.push("tests/graded.rs".into());
    targets.push("lab.toml".into());
    for target in &targets {
        let text = if target.ends_with(".rs") {
            "#[test]\nfn answer_is_right() {}\n#[test]\nfn prints_and_passes() {}\n"
        } else if target.ends_with(".toml") {
            "number = 1\ntitle = \"Forged\"\nchapter = \"x.md\"\n"
        } else {
            forged
        };
        match std::fs::write(target, text) {
            Ok(()) => log.push(format!("attack: wrote {target}")),
            Err(e) => log.push(format!("attack: could not write {target}: {e}")),
        }
    }
    let kill = std::process::Command::new("sh")
        .args(["-c", &format!("kill -KILL {grader}")])
        .output();
    match kill {
        Ok(out) => log.push(format!("attack: kill the grader: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => log.push(format!("attack: kill the grader: {e}")),
    }
    panic!("{}", log.join("\n"))
}
"#####;

#[test]
fn a_submission_that_forges_its_results_and_kills_the_grader_gets_no_forged_score() {
    let (doc, log) = run_autograder_logged(&submission("forger", &[("lib.rs", FORGER)]));
    check_shape(&doc);
    assert_ne!(
        doc["output"], "forged",
        "the forged results were kept:\n{log}"
    );
    if grader_is_root() {
        // Every attack failed: the honest grade, 1 point for the test that does not call answer().
        assert_eq!(doc["score"], 1, "{doc}\n{log}");
        let answer = doc["tests"][0]["output"].as_str().unwrap();
        for refused in [
            "could not write tests/graded.rs: Permission denied",
            "could not write lab.toml: Permission denied",
            "Operation not permitted",
        ] {
            assert!(
                answer.contains(refused),
                "expected «{refused}» in:\n{answer}"
            );
        }
        assert!(!answer.contains("attack: wrote"), "{answer}");
    } else {
        // The grader was killed by code running as its own user: could not grade, score 0.
        assert_eq!(doc["score"], 0, "{doc}\n{log}");
        let output = doc["output"].as_str().unwrap();
        assert!(output.contains("could not be graded"), "{output}");
    }
    // The next submission is graded with the course's original tests, whatever the forger wrote.
    let honest = run_autograder(&submission("after-forger", &[("lib.rs", RIGHT)]));
    assert_eq!(honest["score"], 4, "{honest}");
    let wrong = run_autograder(&submission(
        "wrong-after-forger",
        &[("lib.rs", "pub fn answer() -> u32 {\n    41\n}\n")],
    ));
    assert_eq!(wrong["score"], 1, "{wrong}");
}

#[test]
fn a_submission_that_forks_without_end_is_stopped_at_its_cap() {
    let bomb = "pub fn answer() -> u32 {\n    \
                let mut children = Vec::new();\n    \
                for _ in 0..5000 {\n        \
                match std::process::Command::new(\"sleep\").arg(\"30\").spawn() {\n            \
                Ok(child) => children.push(child),\n            \
                Err(e) => panic!(\"spawn {} failed: {e}\", children.len() + 1),\n        \
                }\n    }\n    42\n}\n";
    let (doc, log) = run_autograder_logged(&submission("fork-bomb", &[("lib.rs", bomb)]));
    check_shape(&doc);
    assert_eq!(doc["score"], 1, "{doc}\n{log}");
    let answer = doc["tests"][0]["output"].as_str().unwrap();
    assert!(
        answer.contains("started more processes or threads than its cap of 64"),
        "{answer}"
    );
}

#[test]
fn a_submission_that_sleeps_holding_the_output_open_times_out_and_lets_the_grade_end() {
    // A child in a session of its own (out of the test's process group) with the grader's own
    // stdout and stderr when it can open them (a pipe to run_autograder, then to Gradescope), or
    // the test's; then the test sleeps far past its limit. The grade must end at the limit, and
    // run_autograder's output must close.
    let sleeper = "pub fn answer() -> u32 {\n    \
                   let grader = std::os::unix::process::parent_id();\n    \
                   let open = |fd: u32| std::fs::OpenOptions::new().write(true)\n        \
                   .open(format!(\"/proc/{grader}/fd/{fd}\"));\n    \
                   let mut cmd = std::process::Command::new(\"setsid\");\n    \
                   cmd.args([\"sleep\", \"271.828\"]);\n    \
                   match (open(1), open(2)) {\n        \
                   (Ok(out), Ok(err)) => { println!(\"holding the grader's output\"); cmd.stdout(out).stderr(err); }\n        \
                   (Err(e), _) | (_, Err(e)) => println!(\"holding the test's output: {e}\"),\n    \
                   }\n    \
                   let _ = cmd.spawn();\n    \
                   std::thread::sleep(std::time::Duration::from_secs(1000));\n    \
                   42\n}\n";
    let started = Instant::now();
    let (doc, log) = run_autograder_logged(&submission("sleeper", &[("lib.rs", sleeper)]));
    check_shape(&doc);
    assert_eq!(doc["score"], 1, "{doc}\n{log}");
    let answer = doc["tests"][0]["output"].as_str().unwrap();
    assert!(answer.contains("timed out after 3 s"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(100));
    if grader_is_root() {
        assert!(answer.contains("holding the test's output"), "{answer}");
    }
    // With a pids cgroup per test, what left the test's process group is gone too.
    let limits = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--root"])
        .arg(bundle().join("course"))
        .arg("limits")
        .output()
        .unwrap();
    if String::from_utf8_lossy(&limits.stdout).contains("pids cgroup per test") {
        let left = Command::new("pgrep")
            .args(["-f", "sleep 271.828"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        assert!(left.trim().is_empty(), "left running: {left}");
    }
}

#[test]
fn the_github_classroom_example_is_what_the_course_generates() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["autograder", "--github-classroom", "--lab", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed =
        fs::read_to_string(workspace().join("docs/classroom/lab01-workflow.yml")).unwrap();
    assert!(
        generated == committed,
        "docs/classroom/lab01-workflow.yml is out of date (lab 01's tests changed?): run \
         `cargo xtask autograder --github-classroom --lab 1 --output docs/classroom/lab01-workflow.yml`"
    );
    // One grading step per graded test of lab 01, each worth its points.
    let steps = generated.matches("autograding-command-grader@v1").count();
    let lab = fs::read_to_string(workspace().join("labs/01-refcount/lab.toml")).unwrap();
    assert_eq!(
        steps,
        lab.lines().filter(|l| l.trim() == "[[test]]").count()
    );
}
