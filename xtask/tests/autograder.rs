//! The Gradescope autograder bundle, tested as Gradescope would use it: `cargo xtask autograder`
//! builds the zip for the fixture classroom's lab 01, the test unpacks it, and runs its
//! `run_autograder` (with the paths moved by environment variables) against fake submissions in
//! each accepted layout: passing, failing (with an edited test that must not count), not
//! compiling, and malformed. Every run must leave a valid results.json with the right score.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

/// The entries of a zip of stored files, read from its central directory: (name, data, mode).
fn unzip(archive: &[u8]) -> Vec<(String, Vec<u8>, u32)> {
    let u16_at = |i: usize| u16::from_le_bytes([archive[i], archive[i + 1]]) as usize;
    let u32_at = |i: usize| {
        u32::from_le_bytes([archive[i], archive[i + 1], archive[i + 2], archive[i + 3]]) as usize
    };
    let end = archive.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50, "end of central directory");
    let mut at = u32_at(end + 16);
    let mut entries = Vec::new();
    for _ in 0..u16_at(end + 10) {
        assert_eq!(u32_at(at), 0x0201_4b50, "central directory header");
        assert_eq!(u16_at(at + 10), 0, "stored, not compressed");
        let size = u32_at(at + 20);
        let name_len = u16_at(at + 28);
        let mode = (u32_at(at + 38) >> 16) as u32 & 0o7777;
        let local = u32_at(at + 42);
        let name = String::from_utf8(archive[at + 46..at + 46 + name_len].to_vec()).unwrap();
        let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        entries.push((name, archive[data_at..data_at + size].to_vec(), mode));
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    entries
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
    let source = bundle();
    let results = submission.with_extension("results.json");
    let _ = fs::remove_file(&results);
    let out = Command::new(source.join("run_autograder"))
        .env("GCLABS_SOURCE", source)
        .env("GCLABS_SUBMISSION", submission)
        .env("GCLABS_RESULTS", &results)
        .env("GCLABS_XTASK", env!("CARGO_BIN_EXE_xtask"))
        .env(
            "GCLABS_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures"),
        )
        .output()
        .expect("run_autograder runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "run_autograder failed:\n{log}");
    let text = fs::read_to_string(&results).unwrap_or_else(|e| panic!("{e}\n{log}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}\n{log}"))
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
            .contains("could not run the grader (exit status 127)"),
        "{doc}"
    );
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
