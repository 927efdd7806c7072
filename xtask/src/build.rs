//! Building one lab's graded tests with cargo, and finding which test binary holds which test.
//!
//! Each lab is built by its own cargo invocation, so one lab that does not compile costs that lab
//! its points and nothing else.

use std::collections::BTreeMap;
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

/// Builds the integration tests of `package` in the workspace at `root` and lists their tests.
pub fn build_tests(root: &Path, package: &str) -> Result<Built, BuildError> {
    let output = Command::new(cargo())
        .current_dir(root)
        .args([
            "test",
            "--no-run",
            "--tests",
            "--message-format=json",
            "--package",
            package,
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BuildError {
            summary: format!("could not run cargo: {e}"),
            detail: "Is Rust installed? `cargo --version` should print a version.".into(),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut executables = Vec::new();
    let mut first_error = None;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                let is_test = msg.profile.as_ref().is_some_and(|p| p.test);
                let is_integration = msg.target.as_ref().is_some_and(|t| t.kind == ["test"]);
                if let (true, true, Some(exe)) = (is_test, is_integration, msg.executable) {
                    executables.push(exe);
                }
            }
            "compiler-message" if first_error.is_none() => {
                if let Some(d) = msg.message.filter(|d| d.level == "error") {
                    first_error = Some(d);
                }
            }
            _ => {}
        }
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(match first_error {
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
        });
    }
    let mut built = Built::default();
    for exe in executables {
        for name in list_tests(&exe).map_err(|e| BuildError {
            summary: format!("could not list the tests in {}", exe.display()),
            detail: e,
        })? {
            built.tests.insert(name, exe.clone());
        }
    }
    Ok(built)
}

/// Builds example `example` of `package` in release mode and returns its executable.
pub fn build_example(root: &Path, package: &str, example: &str) -> Result<PathBuf, BuildError> {
    let output = Command::new(cargo())
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--message-format=json",
            "--package",
            package,
            "--example",
            example,
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BuildError {
            summary: format!("could not run cargo: {e}"),
            detail: String::new(),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut exe = None;
    let mut first_error = None;
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" if msg.target.as_ref().is_some_and(|t| t.kind == ["example"]) => {
                exe = msg.executable.or(exe);
            }
            "compiler-message" if first_error.is_none() => {
                first_error = msg.message.filter(|d| d.level == "error");
            }
            _ => {}
        }
    }
    match (output.status.success(), exe) {
        (true, Some(exe)) => Ok(exe),
        _ => Err(BuildError {
            summary: first_error.as_ref().map_or_else(
                || format!("the example `{example}` did not build"),
                |d| d.message.clone(),
            ),
            detail: first_error
                .and_then(|d| d.rendered)
                .unwrap_or_else(|| tail(&String::from_utf8_lossy(&output.stderr), 20)),
        }),
    }
}

/// Asks a libtest binary for its tests (`--list --format terse`: one `name: test` line each).
fn list_tests(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(exe)
        .args(["--list", "--format", "terse"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect())
}

/// The cargo that started us (so `cargo +toolchain xtask` stays on that toolchain), or `cargo`.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
