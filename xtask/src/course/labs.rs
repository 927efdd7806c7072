//! Finding the course and its labs, and reading their metadata (`labs/NN-name/lab.toml`).
//!
//! The metadata file is the single source of truth for what is graded: each test's points, hints,
//! book section and limits. `cargo xtask check` proves it agrees with the test files, the stub
//! and the solution.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default per-test wall-clock limit, in seconds, when neither the lab nor the test sets one.
/// Ten seconds is about a hundred times what a graded test needs in a debug build here, so only
/// an endless loop (or a badly wrong algorithm) reaches it.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;
/// Default per-test address-space cap, in MiB. Generous for a debug build holding a million
/// small objects, small enough that an unbounded allocation fails fast instead of swapping.
pub const DEFAULT_MEMORY_MIB: u64 = 2048;
/// Default time limit for a test's run under Miri, which interprets the code: a test that takes
/// 50 ms natively takes seconds there, and the first run of the day prepares Miri's standard
/// library, which takes a minute or two.
pub const DEFAULT_MIRI_TIMEOUT_SECS: u64 = 300;
/// Default cap on the processes and threads a test runs at once. A graded test needs two
/// (libtest's main thread and the test's); 64 leaves room for a test that starts threads, and
/// stops a fork bomb long before it hurts the machine. `cargo xtask limits` says how it is
/// enforced here.
pub const DEFAULT_PROCESSES: u32 = 64;

/// One lab: where its two crates are and what its metadata says.
#[derive(Debug, Clone)]
pub struct Lab {
    /// `labs/01-refcount`.
    pub lab_dir: PathBuf,
    /// `solutions/01-refcount` (may not exist, e.g. in a fixture classroom).
    pub solution_dir: PathBuf,
    /// The learner's package name, read from its Cargo.toml.
    pub package: String,
    /// The reference's package name, if there is a solution crate.
    pub solution_package: Option<String>,
    /// The parsed `lab.toml`.
    pub meta: LabMeta,
}

/// The contents of `lab.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabMeta {
    /// The lab's number, shown as "Lab 01" and selected with `--lab 1`.
    pub number: u32,
    /// The lab's title, e.g. "Reference counting".
    pub title: String,
    /// The chapter's first page, relative to `book/src`.
    pub chapter: String,
    /// Limits for every test of the lab, unless a test sets its own.
    #[serde(default)]
    pub limits: Limits,
    /// The graded tests, in the order a learner should tackle them.
    #[serde(rename = "test", default)]
    pub tests: Vec<TestMeta>,
    /// A measurement the grader runs and shows after the tests, never graded.
    pub measure: Option<Measure>,
}

/// `[measure]` in `lab.toml`: an example program of the lab's crate, built in release mode and run
/// after the graded tests, whose output (a small table, say) the report shows as it is. Speed
/// depends on the machine and the moment, so it is shown, never graded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// The example's name (`examples/<name>.rs`).
    pub example: String,
    /// What the output shows, one line for the report's heading.
    pub title: String,
    /// Wall-clock limit for the run (not the build).
    #[serde(default = "default_measure_timeout")]
    pub timeout_secs: u64,
}

fn default_measure_timeout() -> u64 {
    120
}

/// Resource limits for a graded test process.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock seconds before the test is killed.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Address-space cap in MiB.
    #[serde(default = "default_memory")]
    pub memory_mib: u64,
    /// Cap on the processes and threads running at once (see `proclimit.rs`).
    #[serde(default = "default_processes")]
    pub processes: u32,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_memory() -> u64 {
    DEFAULT_MEMORY_MIB
}
fn default_processes() -> u32 {
    DEFAULT_PROCESSES
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            memory_mib: DEFAULT_MEMORY_MIB,
            processes: DEFAULT_PROCESSES,
        }
    }
}

/// One graded test in `lab.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestMeta {
    /// The test function's name (unique within the lab).
    pub name: String,
    /// Points for passing it.
    pub points: u32,
    /// Book section, `page.md#id` relative to `book/src`.
    pub section: String,
    /// Hints in steps, gentlest first.
    pub hints: Vec<String>,
    /// Overrides the lab's time limit.
    pub timeout_secs: Option<u64>,
    /// Overrides the lab's memory cap.
    pub memory_mib: Option<u64>,
    /// Overrides the lab's cap on processes and threads.
    pub processes: Option<u32>,
    /// Also run the test under Miri, where it is installed, when its normal run passes: for the
    /// tests of `unsafe` code, where undefined behaviour may pass a normal run unseen.
    #[serde(default)]
    pub miri: bool,
    /// The time limit of its Miri run (default [`DEFAULT_MIRI_TIMEOUT_SECS`]).
    pub miri_timeout_secs: Option<u64>,
}

impl TestMeta {
    /// The limits that apply to this test.
    pub fn limits(&self, lab: &Limits) -> Limits {
        Limits {
            timeout_secs: self.timeout_secs.unwrap_or(lab.timeout_secs),
            memory_mib: self.memory_mib.unwrap_or(lab.memory_mib),
            processes: self.processes.unwrap_or(lab.processes),
        }
    }
}

impl Lab {
    /// "Lab 01".
    pub fn label(&self) -> String {
        format!("Lab {:02}", self.meta.number)
    }

    /// The folders the lab's packages are built from: `labs/NN-name` and `solutions/NN-name`
    /// (a solution runs the lab's tests, and the lab's tests use the reference).
    pub fn source_dirs(&self) -> Vec<PathBuf> {
        vec![self.lab_dir.clone(), self.solution_dir.clone()]
    }
}

/// Whether `dir` looks like the top folder of a gclabs checkout: a `Cargo.toml` beside `labs/`.
fn is_course(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && dir.join("labs").is_dir()
}

/// The gclabs checkout the command was run in: the innermost folder, from the current directory
/// up, that holds `Cargo.toml` and `labs/`.
///
/// It is found at run time, never baked in when the tool is compiled. Cargo does not rebuild a tool
/// that was copied along with its `target/` folder (a learner backing up a checkout, an instructor
/// copying a class's repositories), so a path compiled in would still name the folder it was copied
/// from: a copy would grade, build the book into and reset the original.
pub fn home() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    let here = here.canonicalize().unwrap_or(here);
    here.ancestors()
        .find(|d| is_course(d))
        .map(Path::to_path_buf)
}

/// The checkout a command works on: `--root DIR` when given (checked by [`checkout`]), or else the
/// one the command was run in ([`home`]). The error says what to do.
pub fn locate(given: Option<&Path>) -> Result<PathBuf, String> {
    match given {
        Some(dir) => checkout(dir),
        None => home().ok_or_else(|| {
            let here = std::env::current_dir()
                .map_or_else(|_| "this folder".to_string(), |d| d.display().to_string());
            format!(
                "cargo xtask works on the gclabs checkout it is run in, and {here} is not inside \
                 one (no folder from here up holds Cargo.toml and labs/). Run it from your clone \
                 of the course, or name the checkout with --root DIR."
            )
        }),
    }
}

/// The gclabs checkout at `dir` (given with `--root`), made absolute.
/// The error names the folder and, when it is not a checkout, says which folder would be: a
/// learner who points `--root` at `labs/` or a lab is told to use the checkout above it.
pub fn checkout(dir: &Path) -> Result<PathBuf, String> {
    let root = folder(dir)?;
    if root.join("labs").is_dir() {
        return Ok(root);
    }
    let above = root
        .ancestors()
        .skip(1)
        .find(|a| a.join("labs").is_dir() && a.join("Cargo.toml").is_file());
    let what_to_do = match above {
        Some(top) => format!(
            "It is inside the checkout {}: give that folder to --root.",
            top.display()
        ),
        None => "--root takes the top folder of a clone of the course, the one that holds \
                 labs/ and solutions/."
            .to_string(),
    };
    Err(format!(
        "{} is not a gclabs checkout: it has no labs/ folder. {what_to_do}",
        root.display()
    ))
}

/// The folder `dir` (`--root`), made absolute: for the commands that need no labs (`parity`,
/// `book`), which say themselves what they miss.
pub fn folder(dir: &Path) -> Result<PathBuf, String> {
    dir.canonicalize().map_err(|e| {
        format!(
            "the folder given with --root ({}) cannot be used: {e}",
            dir.display()
        )
    })
}

/// The labs that have a graded test named `name`.
pub fn labs_with_test<'a>(labs: &'a [Lab], name: &str) -> Vec<&'a Lab> {
    labs.iter()
        .filter(|l| l.meta.tests.iter().any(|t| t.name == name))
        .collect()
}

/// Parses a lab given on the command line: its number (`1`, `01`). Anything else, such as the
/// folder name a learner sees (`01-refcount`), is an error that says how labs are given.
pub fn parse_number(text: &str) -> Result<u32, String> {
    text.trim().parse::<u32>().map_err(|_| {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        let example = match digits.parse::<u32>() {
            Ok(n) => format!("{n} for labs/{text}"),
            Err(_) => "1 for labs/01-refcount".to_string(),
        };
        format!(
            "a lab is given by its number, such as {example} (`cargo xtask list` shows the labs)"
        )
    })
}

/// Finds every lab under `root/labs`, sorted by number. Errors say which file is wrong and how.
pub fn discover(root: &Path) -> Result<Vec<Lab>, String> {
    let labs_dir = root.join("labs");
    let entries = fs::read_dir(&labs_dir).map_err(|e| {
        format!(
            "cannot read {}: {e}\nRun the course tool from a gclabs checkout (the folder with labs/ and solutions/).",
            labs_dir.display()
        )
    })?;
    let mut labs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", labs_dir.display()))?;
        let lab_dir = entry.path();
        if !lab_dir.join("lab.toml").is_file() {
            continue;
        }
        labs.push(load(root, &lab_dir)?);
    }
    labs.sort_by_key(|l| l.meta.number);
    for pair in labs.windows(2) {
        if pair[0].meta.number == pair[1].meta.number {
            return Err(format!(
                "{} and {} both say `number = {}` in lab.toml; each lab needs its own number.",
                pair[0].lab_dir.display(),
                pair[1].lab_dir.display(),
                pair[0].meta.number
            ));
        }
    }
    if labs.is_empty() {
        return Err(format!(
            "no lab found: no labs/*/lab.toml under {}",
            root.display()
        ));
    }
    Ok(labs)
}

fn load(root: &Path, lab_dir: &Path) -> Result<Lab, String> {
    let dir_name = lab_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let meta_path = lab_dir.join("lab.toml");
    let text = fs::read_to_string(&meta_path)
        .map_err(|e| format!("cannot read {}: {e}", meta_path.display()))?;
    let meta: LabMeta = toml::from_str(&text).map_err(|e| {
        format!(
            "{} is not valid lab metadata:\n{e}\nIf you edited it, `git diff {}` shows what changed.",
            meta_path.display(),
            meta_path.display()
        )
    })?;
    let package = package_name(&lab_dir.join("Cargo.toml"))?;
    let solution_dir = root.join("solutions").join(&dir_name);
    let solution_manifest = solution_dir.join("Cargo.toml");
    let solution_package = if solution_manifest.is_file() {
        Some(package_name(&solution_manifest)?)
    } else {
        None
    };
    Ok(Lab {
        lab_dir: lab_dir.to_path_buf(),
        solution_dir,
        package,
        solution_package,
        meta,
    })
}

/// Reads `[package] name` from a Cargo.toml.
pub fn package_name(manifest: &Path) -> Result<String, String> {
    let text = fs::read_to_string(manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let value: toml::Table = toml::from_str(&text)
        .map_err(|e| format!("{} is not valid TOML:\n{e}", manifest.display()))?;
    value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no [package] name", manifest.display()))
}

/// Checks what can be checked of one lab's metadata without building anything: points, hints,
/// unique names. Returns every problem found, one per line.
pub fn lint(lab: &Lab) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in &lab.meta.tests {
        let mut p = String::new();
        if !seen.insert(t.name.as_str()) {
            let _ = write!(p, "test `{}` is listed twice", t.name);
        } else if t.points == 0 {
            let _ = write!(p, "test `{}` has 0 points", t.name);
        } else if t.hints.is_empty() || t.hints.iter().any(|h| h.trim().is_empty()) {
            let _ = write!(p, "test `{}` needs at least one non-empty hint", t.name);
        } else if !t.section.contains('#') {
            let _ = write!(
                p,
                "test `{}`: section `{}` should be `page.md#id`",
                t.name, t.section
            );
        }
        if !p.is_empty() {
            problems.push(format!("{}: {p}", lab.lab_dir.join("lab.toml").display()));
        }
    }
    if lab.meta.tests.is_empty() {
        problems.push(format!(
            "{}: no [[test]] entries",
            lab.lab_dir.join("lab.toml").display()
        ));
    }
    problems
}

/// The labs selected by `--lab` (all when none is given); an unknown number is an error that
/// lists the labs there are.
pub fn select(root: &Path, numbers: &[u32]) -> Result<Vec<Lab>, String> {
    let all = discover(root)?;
    for n in numbers {
        if !all.iter().any(|l| l.meta.number == *n) {
            let there: Vec<String> = all
                .iter()
                .map(|l| format!("{} ({})", l.meta.number, l.meta.title))
                .collect();
            return Err(format!(
                "there is no lab {n}. The labs are: {}.",
                there.join(", ")
            ));
        }
    }
    Ok(all
        .into_iter()
        .filter(|l| numbers.is_empty() || numbers.contains(&l.meta.number))
        .collect())
}
