//! Building one lab's graded tests with cargo, and finding which test binary holds which test.
//!
//! Each lab is built by its own cargo invocation, so one lab that does not compile costs that lab
//! its points and nothing else.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// Why a lab could not be built.
#[derive(Debug, Clone)]
pub struct BuildError {
    /// One line: `src/rc.rs:42: mismatched types`, or what cargo said.
    pub summary: String,
    /// The compiler's full rendering of the first error (or cargo's own output).
    pub detail: String,
}

/// The test binaries of a built package, and the graded tests each one holds.
#[derive(Debug, Default)]
pub struct Built {
    /// Test name -> the binary that runs it.
    pub tests: BTreeMap<String, PathBuf>,
    /// Test name -> the name of the test target (`tests/rc.rs` is `rc`), for `cargo --test`.
    pub targets: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Profile {
    test: bool,
}

#[derive(Deserialize)]
struct Target {
    kind: Vec<String>,
    #[serde(default)]
    name: String,
}

impl Message {
    /// Whether this artifact is a target of exactly this kind (`test`, `example`, ...).
    fn is_kind(&self, kind: &str) -> bool {
        self.target.as_ref().is_some_and(|t| t.kind == [kind])
    }
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    #[serde(default)]
    rendered: Option<String>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: usize,
    is_primary: bool,
}

/// A package to build, and the folders holding the files it is built from (a lab's
/// `labs/NN-name` and `solutions/NN-name`), whose content the build must see (`freshness.rs`).
pub struct Package<'a> {
    /// The package's name.
    pub name: &'a str,
    /// The folders of its sources.
    pub sources: &'a [PathBuf],
}

/// Builds the integration tests of `package` in the workspace at `root` and lists their tests.
pub fn build_tests(root: &Path, package: &Package) -> Result<Built, BuildError> {
    build_tests_with(root, package, &mut |_| {})
}

/// [`build_tests`], calling `on_unit` with the name of each compilation unit as cargo reports it
/// ready (for a progress line).
pub fn build_tests_with(
    root: &Path,
    package: &Package,
    on_unit: &mut dyn FnMut(&str),
) -> Result<Built, BuildError> {
    let args = ["test", "--no-run", "--tests", "--package", package.name];
    let artifacts = cargo_build(root, package, &args, on_unit)?;
    let mut built = Built::default();
    let tests = artifacts
        .into_iter()
        .filter(|a| a.profile.as_ref().is_some_and(|p| p.test));
    for artifact in tests.filter(|a| a.is_kind("test")) {
        let Some(exe) = artifact.executable else {
            continue;
        };
        let target = artifact.target.map(|t| t.name).unwrap_or_default();
        for name in list_tests(&exe).map_err(|e| BuildError {
            summary: format!("could not list the tests in {}", exe.display()),
            detail: e,
        })? {
            built.tests.insert(name.clone(), exe.clone());
            built.targets.insert(name, target.clone());
        }
    }
    Ok(built)
}

/// Builds example `example` of `package` in release mode and returns its executable.
pub fn build_example(root: &Path, package: &Package, example: &str) -> Result<PathBuf, BuildError> {
    let args = [
        "build",
        "--release",
        "--package",
        package.name,
        "--example",
        example,
    ];
    cargo_build(root, package, &args, &mut |_| {})?
        .into_iter()
        .filter(|a| a.is_kind("example"))
        .find_map(|a| a.executable)
        .ok_or_else(|| BuildError {
            summary: format!("cargo built no example `{example}`"),
            detail: String::new(),
        })
}

/// Builds binary `bin` of `package` (a debug build) with only the cargo `features` given, and
/// returns its executable: `cargo xtask run` builds the interpreter this way, on demand.
pub fn build_binary(
    root: &Path,
    package: &Package,
    bin: &str,
    features: &str,
) -> Result<PathBuf, BuildError> {
    let args = [
        "build",
        "--package",
        package.name,
        "--bin",
        bin,
        "--no-default-features",
        "--features",
        features,
    ];
    cargo_build(root, package, &args, &mut |_| {})?
        .into_iter()
        .filter(|a| a.is_kind("bin"))
        .find_map(|a| a.executable)
        .ok_or_else(|| BuildError {
            summary: format!("cargo built no binary `{bin}`"),
            detail: String::new(),
        })
}

/// Runs `cargo ARGS --message-format=json` on the workspace at `root`, calling `on_unit` as each
/// compilation unit is ready. On success, returns the artifacts it built; on failure, the first
/// compiler error (file:line, message, rendering), or what cargo said when no compiler error
/// explains it (a broken manifest, say). Sources changed behind cargo's back (restored with old
/// modification times) are rebuilt first.
fn cargo_build(
    root: &Path,
    package: &Package,
    args: &[&str],
    on_unit: &mut dyn FnMut(&str),
) -> Result<Vec<Message>, BuildError> {
    let could_not_run = |e: std::io::Error| BuildError {
        summary: format!("could not run cargo: {e}"),
        detail: "Is Rust installed? `cargo --version` should print a version.".into(),
    };
    // A checkout of its own target folder when CARGO_TARGET_DIR is shared (see there).
    let own_target = crate::course::pristine::build_target_dir(root);
    let target = crate::course::pristine::builds_of(root);
    let pending = crate::run::freshness::before_build(root, &target, package.name, package.sources)
        .map_err(|e| BuildError {
            summary: e.clone(),
            detail: e,
        })?;
    let mut child = Command::new(crate::run::cargo())
        .current_dir(root)
        .envs(own_target.map(|dir| ("CARGO_TARGET_DIR", dir)))
        .args(args)
        .arg("--message-format=json")
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(could_not_run)?;
    // Cargo's messages are read as they come (for the progress line) while its stderr is drained
    // by a thread, so that neither pipe can fill up and stall it.
    let mut stderr_pipe = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(pipe) = stderr_pipe.as_mut() {
            let _ = pipe.read_to_end(&mut text);
        }
        text
    });
    let (mut artifacts, mut first_error) = (Vec::new(), None);
    let mut messages = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(msg) = serde_json::from_str::<Message>(&line) {
                if msg.reason == "compiler-artifact" {
                    on_unit(msg.target.as_ref().map_or("", |t| t.name.as_str()));
                }
                messages.push(msg);
            }
        }
    }
    let status = child.wait().map_err(could_not_run)?;
    let stderr_bytes = stderr_reader.join().unwrap_or_default();
    for msg in messages {
        match msg.reason.as_str() {
            "compiler-artifact" => artifacts.push(msg),
            "compiler-message" if first_error.is_none() => {
                first_error = msg.message.filter(|d| d.level == "error");
            }
            _ => {}
        }
    }
    if status.success() {
        pending.built();
        return Ok(artifacts);
    }
    let stderr = String::from_utf8_lossy(&stderr_bytes);
    Err(match first_error {
        Some(d) => {
            let place = d
                .spans
                .iter()
                .find(|s| s.is_primary)
                .map(|s| format!("{}:{}: ", s.file_name, s.line_start))
                .unwrap_or_default();
            BuildError {
                summary: format!("{place}{}", d.message),
                detail: d.rendered.unwrap_or(d.message),
            }
        }
        None => BuildError {
            summary: stderr
                .lines()
                .find(|l| l.trim_start().starts_with("error"))
                .unwrap_or("cargo failed without a compiler error")
                .trim()
                .to_string(),
            detail: tail(&stderr, 30),
        },
    })
}

/// Asks a libtest binary for its tests (`--list --format terse`: one `name: test` line each).
///
/// The binary holds the learner's code, which can run before `main` (a static constructor), so
/// even listing runs it as a test is run: limited, and as the tests' user.
fn list_tests(exe: &Path) -> Result<Vec<String>, String> {
    let mut cmd = Command::new(exe);
    cmd.args(["--list", "--format", "terse"]);
    let limits = crate::course::labs::Limits {
        timeout_secs: 60,
        ..Default::default()
    };
    let finished = crate::run::sandbox::run_limited_keeping(cmd, limits, 4 << 20)?;
    match finished.status {
        Some(status) if status.success() => Ok(finished
            .output
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_owned)
            .collect()),
        Some(status) => Err(format!("{status}\n{}", tail(&finished.output, 20))),
        None => Err(format!(
            "listing its tests took more than {} s",
            limits.timeout_secs
        )),
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
