//! `cargo xtask autograder`: a Gradescope autograder bundle for chosen labs.
//!
//! The zip holds, at its root (where Gradescope looks for them):
//!
//! - `setup.sh`, which Gradescope runs once when it builds the autograder's image: it installs a
//!   C linker and a stable Rust toolchain (rustup) when they are missing, creates the unprivileged
//!   user `gclabs-test` that runs the submissions' tests (`identity.rs`), builds the grader, and
//!   grades the untouched stubs once so that every dependency is compiled before the first
//!   submission arrives;
//! - `run_autograder`, which Gradescope runs for each submission: it grades the submitted labs'
//!   `src/` folders in a pristine copy of the course (`cargo xtask grade --submission`) into a
//!   folder only root may enter, and copies the results to `/autograder/results/results.json` only
//!   if the grader ended by itself; otherwise, and when the submission is malformed, a valid
//!   results.json with score 0 says why;
//! - `course/`, the course (the checkout's files, without `.git`, `target` folders, `book/build`
//!   and `backups/`);
//! - `README.txt`, which says the above for whoever opens the zip.
//!
//! Every path `run_autograder` uses can be changed with an environment variable, which is how the
//! tests run it here against fake submissions.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::course::checksums;
use crate::course::labs;
use crate::course::pristine;

/// What `cargo xtask autograder` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The lab numbers the bundle grades (all labs when empty).
    pub labs: Vec<u32>,
    /// Where to write the zip (or the workflow).
    pub output: Option<PathBuf>,
    /// Write a GitHub Classroom workflow instead of a Gradescope bundle.
    pub github_classroom: bool,
}

/// Builds the bundle (or the workflow). Returns the exit code (0).
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let labs = labs::select(root, &options.labs)?;
    if options.github_classroom {
        let text = github_workflow(&labs);
        return match &options.output {
            None => {
                print!("{text}");
                Ok(0)
            }
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                fs::write(path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!(
                    "Wrote {}: copy it to .github/workflows/classroom.yml in the assignment's \
                     template repository, and set COURSE_REPO in it.",
                    path.display()
                );
                Ok(0)
            }
        };
    }
    let numbers: Vec<u32> = labs.iter().map(|l| l.meta.number).collect();
    // The bundle grades with the course's originals: the list must describe them.
    let dirs: Vec<String> = labs
        .iter()
        .map(|l| {
            l.lab_dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let stale = checksums::staleness_of(root, &dirs)?;
    if !stale.is_empty() {
        return Err(format!(
            "{} does not match the graded files of the selected labs, so the bundle could not \
             grade with the originals:\n  {}\nRun `cargo xtask checksums` (after checking the \
             changes are meant), then build the bundle again.",
            checksums::LIST,
            stale.join("\n  ")
        ));
    }
    let name = match numbers.as_slice() {
        _ if options.labs.is_empty() => "gclabs-autograder.zip".to_string(),
        [one] => format!("gclabs-autograder-lab{one:02}.zip"),
        many => format!(
            "gclabs-autograder-lab{}.zip",
            many.iter()
                .map(|n| format!("{n:02}"))
                .collect::<Vec<_>>()
                .join("-")
        ),
    };
    let output = match &options.output {
        Some(path) => path.clone(),
        None => root.join("target").join(&name),
    };
    let output = if output.is_absolute() {
        output
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot find the current folder: {e}"))?
            .join(output)
    };
    let lab_list: String = numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    // What the bundle grades, for people: one line per lab with its points, and the total that
    // the Gradescope assignment must be set to.
    let points =
        |lab: &crate::course::labs::Lab| lab.meta.tests.iter().map(|t| t.points).sum::<u32>();
    let described: Vec<String> = labs
        .iter()
        .map(|l| format!("  {} · {}, {} points", l.label(), l.meta.title, points(l)))
        .collect();
    let described = described.join("\n");
    let total: u32 = labs.iter().map(points).sum();
    let mut entries = vec![
        Entry {
            name: "setup.sh".into(),
            data: SETUP.replace("@LABS@", &lab_list).into_bytes(),
            mode: 0o755,
        },
        Entry {
            name: "run_autograder".into(),
            data: RUN.replace("@LABS@", &lab_list).into_bytes(),
            mode: 0o755,
        },
        Entry {
            name: "README.txt".into(),
            data: README
                .replace("@GRADED@", &described)
                .replace("@TOTAL@", &total.to_string())
                .replace("@LAYOUTS@", pristine::LAYOUTS)
                .into_bytes(),
            mode: 0o644,
        },
    ];
    let skip = [root.join("backups"), output.clone()];
    let skip: Vec<&Path> = skip.iter().map(PathBuf::as_path).collect();
    let files = pristine::course_files(root, &skip)?;
    for (rel, path) in &files {
        let data = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let executable = fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
        entries.push(Entry {
            name: format!("course/{rel}"),
            data,
            mode: if executable { 0o755 } else { 0o644 },
        });
    }
    let archive = zip_up(&entries)?;
    if let Some(parent) = output.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    fs::write(&output, &archive).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let labels: Vec<String> = labs
        .iter()
        .map(|l| format!("{} ({})", l.label(), l.meta.title))
        .collect();
    println!(
        "Wrote {} ({} KiB, {} course files): the Gradescope autograder for {}.",
        output.display(),
        archive.len().div_ceil(1024),
        files.len(),
        labels.join(", ")
    );
    if !root.join("xtask").join("Cargo.toml").is_file() {
        println!(
            "Note: this course has no xtask/ crate, so the bundle's setup.sh cannot build the \
             grader; run_autograder needs GCLABS_XTASK to name one."
        );
    }
    println!();
    println!("On Gradescope: create a Programming Assignment, choose \"Zip file upload\" in its");
    println!("Configure Autograder page, upload this file (Ubuntu base image), and build it.");
    println!("Learners submit their repository (upload, or GitHub) or the lab's src/ folder;");
    println!("README.txt in the zip lists the accepted layouts and how to try it locally.");
    println!("Set the assignment's total to {total} points, the sum of the graded tests' points.");
    Ok(0)
}

/// A GitHub Classroom workflow: one `autograding-command-grader` step per graded test, worth the
/// test's points, then the reporter that sums them up for Classroom. Every step grades with the
/// original tests, taken from a fresh clone of the course (`COURSE_REPO`), since the learner's
/// repository holds their own copies of the tests and of the checksum list.
fn github_workflow(labs: &[crate::course::labs::Lab]) -> String {
    let numbers: Vec<String> = labs
        .iter()
        .map(|l| format!("{:02}", l.meta.number))
        .collect();
    let lab_args: String = labs
        .iter()
        .map(|l| format!(" --lab {}", l.meta.number))
        .collect();
    let mut out = format!(
        "# GitHub Classroom autograding for gclabs lab {labs}, made by\n\
         # `cargo xtask autograder --github-classroom{lab_args}`. Copy it to\n\
         # .github/workflows/classroom.yml in the assignment's template repository and set\n\
         # COURSE_REPO to the course's own repository (the one learners' repositories come from).\n\
         # Each graded test is one step worth its points in lab.toml; the tests are the course's\n\
         # originals (--pristine-from a fresh clone), whatever the learner's repository holds.\n\
         # See docs/classroom.md.\n\
         name: Autograding Tests\n\
         'on':\n  - push\n  - workflow_dispatch\n  - repository_dispatch\n\
         permissions:\n  checks: write\n  actions: read\n  contents: read\n\
         env:\n  COURSE_REPO: https://github.com/YOUR-ORG/gclabs\n\
         jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n\
         \x20   if: github.actor != 'github-classroom[bot]'\n    steps:\n\
         \x20     - name: Checkout code\n        uses: actions/checkout@v4\n\
         \x20     - name: The course's original tests, and a first build\n        run: |\n\
         \x20         git clone --depth 1 \"$COURSE_REPO\" /tmp/gclabs-course\n\
         \x20         cargo xtask grade{lab_args} --pristine --pristine-from /tmp/gclabs-course \\\n\
         \x20           --no-measure --format junit --output target/gclabs-results.xml || true\n\
         \x20     - name: Keep the JUnit report for the instructor\n\
         \x20       uses: actions/upload-artifact@v4\n        with:\n\
         \x20         name: gclabs-results\n          path: target/gclabs-results.xml\n",
        labs = numbers.join(", ")
    );
    let mut ids = Vec::new();
    for lab in labs {
        for (i, t) in lab.meta.tests.iter().enumerate() {
            let id = format!("lab{:02}-test{:02}", lab.meta.number, i + 1);
            let limits = t.limits(&lab.meta.limits);
            out.push_str(&format!(
                "      - name: \"Lab {n:02} · {name}\"\n\
                 \x20       id: {id}\n\
                 \x20       uses: classroom-resources/autograding-command-grader@v1\n\
                 \x20       with:\n\
                 \x20         test-name: \"Lab {n:02} · {name}\"\n\
                 \x20         command: cargo xtask grade --lab {n} --test {name} --pristine --pristine-from /tmp/gclabs-course --no-measure\n\
                 \x20         timeout: {minutes}\n\
                 \x20         max-score: {points}\n",
                n = lab.meta.number,
                name = t.name,
                minutes = limits.timeout_secs.div_ceil(60) + 2,
                points = t.points,
            ));
            ids.push(id);
        }
    }
    out.push_str(
        "      - name: Autograding Reporter\n\
         \x20       uses: classroom-resources/autograding-grading-reporter@v1\n\
         \x20       env:\n",
    );
    for id in &ids {
        out.push_str(&format!(
            "          {}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"\n",
            id.to_uppercase()
        ));
    }
    out.push_str(&format!(
        "        with:\n          runners: {}\n",
        ids.join(",")
    ));
    out
}

const SETUP: &str = r#"#!/usr/bin/env bash
# gclabs autograder: Gradescope runs this once, when it builds the autograder's image.
# It installs what is missing (a C linker, curl, a stable Rust toolchain through rustup), builds
# the grader, and grades the untouched stubs once, so that every dependency is compiled before
# the first submission arrives and a submission is graded in seconds.
set -euo pipefail
SOURCE="${GCLABS_SOURCE:-/autograder/source}"
LABS="${GCLABS_LABS:-@LABS@}"
export CARGO_TARGET_DIR="${GCLABS_TARGET_DIR:-$SOURCE/target}"

if ! command -v cc >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            build-essential curl ca-certificates
    else
        echo "setup.sh: no cc or curl, and no apt-get to install them" >&2
        exit 1
    fi
fi
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
if ! command -v cargo >/dev/null 2>&1; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
        | sh -s -- -y --profile minimal --default-toolchain stable
    . "$HOME/.cargo/env"
fi
cargo --version

# Miri (nightly's miri component) runs the tests marked for it once more, to find undefined
# behaviour a normal run passes. Without it they are graded without that check, and say so.
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal --component miri \
        || echo "setup.sh: could not install Miri; the tests marked for it will be graded without it"
fi

# run_autograder runs as root; the grader runs each submission's tests as this unprivileged user,
# so that a submission can neither stop the grader nor write its results (see docs/classroom.md).
if [ "$(id -u)" = 0 ] && ! id gclabs-test >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin gclabs-test \
        || echo "setup.sh: could not create the user gclabs-test; the tests will run as nobody"
fi

cargo build --release --manifest-path "$SOURCE/course/Cargo.toml" --package xtask
mkdir -p "$SOURCE/bin"
cp "$CARGO_TARGET_DIR/release/xtask" "$SOURCE/bin/gclabs-xtask"

# Grade the stubs once, exactly as run_autograder grades a submission, to fill the build cache.
args=()
for n in $LABS; do args+=(--lab "$n"); done
"$SOURCE/bin/gclabs-xtask" --root "$SOURCE/course" grade "${args[@]}" --pristine --no-measure \
    --format json --output "$CARGO_TARGET_DIR/setup-grade.json" || true
echo "setup.sh: ready"
"#;

const RUN: &str = r#"#!/usr/bin/env bash
# gclabs autograder: Gradescope runs this for each submission. It grades the submitted labs'
# src/ folders in a copy of the course with its original tests, and writes results.json. When the
# submission is malformed or does not compile, results.json says so with score 0; when the grader
# cannot run at all, this script writes such a results.json itself.
#
# Every path can be changed with an environment variable, to try it outside Gradescope:
#   GCLABS_SOURCE      the unpacked bundle            (default /autograder/source)
#   GCLABS_SUBMISSION  the submission                 (default /autograder/submission)
#   GCLABS_RESULTS     the results file               (default /autograder/results/results.json)
#   GCLABS_TARGET_DIR  cargo's target folder          (default $GCLABS_SOURCE/target)
#   GCLABS_XTASK       the grader                     (default $GCLABS_SOURCE/bin/gclabs-xtask)
#   GCLABS_LABS        the labs to grade, by number   (default: @LABS@)
set -uo pipefail
SOURCE="${GCLABS_SOURCE:-/autograder/source}"
SUBMISSION="${GCLABS_SUBMISSION:-/autograder/submission}"
RESULTS="${GCLABS_RESULTS:-/autograder/results/results.json}"
XTASK="${GCLABS_XTASK:-$SOURCE/bin/gclabs-xtask}"
LABS="${GCLABS_LABS:-@LABS@}"
export CARGO_TARGET_DIR="${GCLABS_TARGET_DIR:-$SOURCE/target}"
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi

mkdir -p "$(dirname "$RESULTS")"
rm -f "$RESULTS"
# The grader writes its results into a folder of its own that only this user may enter. Run as
# root (as on Gradescope), the grader runs the submission's code as an unprivileged user (the
# gclabs-test user setup.sh made, or nobody), which can neither signal the grader nor write
# there. Whatever else is on disk, only what the grader itself finished counts: its results are
# taken when it ended by itself (exit status 0, 1 or 2), and otherwise the submission could not be
# graded and scores 0.
private=$(mktemp -d "${TMPDIR:-/tmp}/gclabs-results.XXXXXX")
chmod 700 "$private"
args=()
for n in $LABS; do args+=(--lab "$n"); done
status=0
"$XTASK" --root "$SOURCE/course" grade "${args[@]}" --submission "$SUBMISSION" --no-measure \
    --format gradescope --output "$private/results.json" || status=$?
echo "run_autograder: the grader exited with status $status (0: every test passes, 1: some fail, 2: could not grade)"
# Anything the submission's code left running under the course's own user goes before the results
# are copied (every test's processes are killed already; this is for what escaped them). Only in
# Gradescope's own layout, where the container grades one submission at a time: elsewhere other
# grades may be running tests as that user.
if [ "$SOURCE" = /autograder/source ] && [ "$(id -u)" = 0 ] && id gclabs-test >/dev/null 2>&1; then
    pkill -KILL -u gclabs-test 2>/dev/null || true
fi
case "$status" in
    0|1|2) finished=yes ;;
    *) finished=no ;;
esac
if [ "$finished" = yes ] && [ -s "$private/results.json" ]; then
    cp "$private/results.json" "$RESULTS"
else
    printf '{"score": 0, "output": "This submission could not be graded: the grader did not finish (it ended with status %d), so it scores 0 for now. If your code stops or signals the process that runs it, that is the cause; otherwise please tell your instructor, whose view of the autograder output has the details.", "tests": []}\n' \
        "$status" > "$RESULTS"
fi
rm -rf "$private"
exit 0
"#;

const README: &str = r#"gclabs: a Gradescope autograder, made by `cargo xtask autograder`
===================================================================

It grades, from the course in course/:
@GRADED@
Upload this zip as the autograder of a Gradescope Programming Assignment (Ubuntu base image), and
set the assignment's total to @TOTAL@ points.

setup.sh        run once by Gradescope: installs Rust if missing, builds the grader, warms the
                build cache by grading the stubs, creates the user gclabs-test
run_autograder  run for each submission: grades the submitted src/ folders in a copy of the
                course with its original tests, writes /autograder/results/results.json; the
                submission's code runs as gclabs-test, which can neither stop the grader nor
                write its results, and only results the grader finished are kept
course/         the course

What a learner submits (each layout needs the lab's src/lib.rs; only src/ is taken, everything
else comes from course/, so edited or added tests change nothing):
@LAYOUTS@

Scores: every graded test is one entry worth its points in lab.toml, visible to the learner with
the reason it failed, its output, a hint and the book section. A submission that does not compile
scores 0 and shows the first compiler error; the score is at most @TOTAL@ points.

To try it on your machine (the paths are environment variables):

    unzip gclabs-autograder-*.zip -d /tmp/ag
    GCLABS_SOURCE=/tmp/ag bash /tmp/ag/setup.sh
    GCLABS_SOURCE=/tmp/ag GCLABS_SUBMISSION=path/to/a/submission \
        GCLABS_RESULTS=/tmp/ag/results.json /tmp/ag/run_autograder
    cat /tmp/ag/results.json

See docs/classroom.md in the course for the whole picture.
"#;

/// One file of the bundle.
struct Entry {
    /// Its path in the zip.
    name: String,
    data: Vec<u8>,
    /// Unix permissions (0o755 for the scripts, so Gradescope can run them).
    mode: u32,
}

/// The zip of `entries`, stored without compression (the `zip` crate without its compression
/// features: the bundle is small, and Gradescope unpacks it once), read back to check it.
fn zip_up(entries: &[Entry]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(entry.mode);
        writer
            .start_file(entry.name.as_str(), options)
            .and_then(|()| writer.write_all(&entry.data).map_err(Into::into))
            .map_err(|e| format!("cannot add {} to the bundle: {e}", entry.name))?;
    }
    let archive = writer
        .finish()
        .map_err(|e| format!("cannot finish the bundle: {e}"))?
        .into_inner();
    let back = zip::ZipArchive::new(std::io::Cursor::new(&archive))
        .map_err(|e| format!("the bundle does not read back: {e}"))?;
    if back.len() != entries.len() {
        return Err(format!(
            "the bundle reads back with {} files instead of {}",
            back.len(),
            entries.len()
        ));
    }
    Ok(archive)
}
