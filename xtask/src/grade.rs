//! `cargo xtask grade`: build each lab, run each graded test alone, and report.

use std::path::{Path, PathBuf};

use crate::build::{self, BuildError};
use crate::formats::{self, Delivery};
use crate::labs::{self, Lab, TestMeta};
use crate::list;
use crate::pristine::Course;
use crate::progress::Progress;
use crate::sandbox::{self, Outcome, Run};

/// Which crate of each lab to grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// The learner's crates under `labs/`.
    #[default]
    Labs,
    /// The reference solutions under `solutions/`.
    Solutions,
}

/// What to grade and how to report it. `Default` (every lab of `labs/`, the report for people, no
/// measurement, an empty root) is for callers that set only what they need, such as `watch`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The gclabs checkout.
    pub root: PathBuf,
    /// Only these lab numbers (all when empty).
    pub labs: Vec<u32>,
    /// Only the test with this name.
    pub test: Option<String>,
    /// Labs or solutions.
    pub side: Side,
    /// JSON lines instead of the human report.
    pub json: bool,
    /// Show the output of every failing test, not only the next step's.
    pub verbose: bool,
    /// Run the labs' `[measure]` programs after their tests.
    pub measure: bool,
    /// The output format and file, and which graded files to grade with (`--format`,
    /// `--output`, `--pristine`, `--submission`).
    pub delivery: Delivery,
}

/// One graded test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// Its metadata (points, hints, section).
    pub meta: TestMeta,
    /// What happened when it ran.
    pub run: Run,
}

impl TestResult {
    /// Points earned: all or nothing.
    pub fn points(&self) -> u32 {
        if self.run.outcome == Outcome::Passed {
            self.meta.points
        } else {
            0
        }
    }

    /// The hint to show with this result, in every output format: the test's first hint, unless
    /// it failed in a way that hint does not address (a crash, a timeout, a stack overflow, ...),
    /// which gets the hint for that kind of failure instead. `None` once it passes.
    pub fn hint(&self, lab: &Lab) -> Option<String> {
        let n = lab.meta.number;
        let kind = match &self.run.outcome {
            Outcome::Passed => return None,
            Outcome::NotStarted { .. } | Outcome::Failed { .. } | Outcome::NotCompiled => None,
            Outcome::Crashed { signal } if *signal == libc::SIGABRT => Some(
                "The process aborted: a panic inside a `Drop` while another panic was unwinding \
                 (or an explicit abort). The first panic in the output is the one to fix; then \
                 ask why a `drop` panicked too."
                    .to_string(),
            ),
            Outcome::Crashed { .. } => Some(format!(
                "A crash is not a wrong answer: an `unsafe` block touched memory it must not (a \
                 freed box, a dangling or misaligned pointer, one past the end). Check each \
                 `unsafe` block against its SAFETY comment; `cargo xtask miri --lab {n}` names the \
                 first bad access, if you have nightly Rust with Miri."
            )),
            Outcome::TimedOut { .. } => Some(
                "The test did not finish in time: a loop whose exit never comes (a list walked \
                 without moving on, a cycle followed round and round, a count that never reaches \
                 zero), or work far larger than the task needs. Run the test alone and print \
                 what the loop visits."
                    .to_string(),
            ),
            Outcome::StackOverflow => Some(
                "Recursion as deep as the data: a chain of a million objects cannot be one call \
                 per object. Keep the work still to do in a `Vec` (an explicit stack or queue) \
                 and loop until it is empty."
                    .to_string(),
            ),
            Outcome::OutOfMemory { .. } => Some(
                "Memory grew without bound: something keeps allocating (a `Vec` pushed to and \
                 never drained, objects kept alive forever, a loop that never ends)."
                    .to_string(),
            ),
            Outcome::OutputLimit => {
                Some("The test printed without end: remove the printing from your loop.".into())
            }
            Outcome::ProcessLimit { .. } => Some(
                "The test started processes or threads without waiting for them; the labs need \
                 none."
                    .to_string(),
            ),
            Outcome::ExitedEarly { .. } => Some(
                "Something called `std::process::exit`, which ends the test before it can check \
                 anything: return a value (or panic) instead."
                    .to_string(),
            ),
            Outcome::Missing => Some(format!(
                "The test is gone from the test files: put them back with `git checkout \
                 labs/{}/tests` (they are graded with the course's originals anyway).",
                lab.lab_dir
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
            )),
        };
        kind.or_else(|| self.meta.hints.first().cloned())
    }
}

/// One lab's results.
#[derive(Debug)]
pub struct LabResult {
    /// The lab.
    pub lab: Lab,
    /// Set when the lab did not compile.
    pub build_error: Option<BuildError>,
    /// One entry per selected graded test, in metadata order.
    pub tests: Vec<TestResult>,
    /// What the lab's `[measure]` program printed (`Err` says why it could not run), when it ran.
    pub measurement: Option<Result<String, String>>,
}

impl LabResult {
    /// Points earned in this lab.
    pub fn points(&self) -> u32 {
        self.tests.iter().map(TestResult::points).sum()
    }
    /// Points available in the selected tests.
    pub fn max_points(&self) -> u32 {
        self.tests.iter().map(|t| t.meta.points).sum()
    }
}

/// Runs `cargo xtask grade`. Returns the process exit code: 0 only when every selected test
/// passed. When it cannot grade, a Gradescope or JUnit output still gets a document saying why.
pub fn run(options: &Options) -> Result<i32, String> {
    options.delivery.check_output()?;
    run_delivered(options).inspect_err(|message| formats::failed(&options.delivery, message))
}

/// When there is nothing to grade at all (no checkout found): a Gradescope or JUnit output still
/// gets a document that says why, if its file can be written. The caller prints the message.
pub fn refuse(delivery: &Delivery, message: &str) {
    if delivery.check_output().is_ok() {
        formats::failed(delivery, message);
    }
}

fn run_delivered(options: &Options) -> Result<i32, String> {
    let started = std::time::Instant::now();
    let checkout = labs::checkout(&options.root)?;
    options.delivery.validate()?;
    // The learner's checkout, or a copy with the original graded files (`--pristine`).
    let course = Course::prepare(&checkout, &options.delivery.request(&options.labs))?;
    let root = course.root();
    let labs = select(root, &options.labs)?;
    let mut results = grade(
        root,
        &labs,
        options.side,
        options.test.as_deref(),
        !options.json,
    )?;
    if options.measure && options.test.is_none() {
        for result in &mut results {
            result.measurement = measure(root, result, options.side, !options.json);
        }
    }
    formats::deliver(&results, options, &course.integrity, started.elapsed())?;
    let all_passed = results
        .iter()
        .all(|r| r.tests.iter().all(|t| t.run.outcome == Outcome::Passed));
    Ok(if all_passed { 0 } else { 1 })
}

/// The labs selected by `--lab` (all when none is given); an unknown number is an error that
/// lists the labs there are.
pub fn select(root: &Path, numbers: &[u32]) -> Result<Vec<Lab>, String> {
    let all = labs::discover(root)?;
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

/// Why `--test NAME` selects nothing among `labs`: a test of another lab (and the command that
/// grades it), or no test of that name at all (and where the names are listed).
fn no_such_test(root: &Path, labs: &[Lab], name: &str) -> String {
    let all = labs::discover(root).unwrap_or_default();
    if let Some(other) = labs::labs_with_test(&all, name).first() {
        let selected: Vec<String> = labs.iter().map(Lab::label).collect();
        return format!(
            "`{name}` is a test of {}, not of {}. To grade it: `cargo xtask grade --lab {} \
             --test {name}`.",
            other.label(),
            selected.join(" or "),
            other.meta.number
        );
    }
    let scope = match labs {
        [lab] => format!(" --lab {}", lab.meta.number),
        _ => String::new(),
    };
    format!(
        "no graded test is named `{name}`. `cargo xtask list{scope} --verbose` lists the graded \
         tests, one per line."
    )
}

/// Grades `labs` on `side`. With `progress`, says on stderr what it is doing.
pub fn grade(
    root: &Path,
    labs: &[Lab],
    side: Side,
    only_test: Option<&str>,
    progress: bool,
) -> Result<Vec<LabResult>, String> {
    if let Some(name) = only_test
        && labs::labs_with_test(labs, name).is_empty()
    {
        return Err(no_such_test(root, labs, name));
    }
    let mut results = Vec::new();
    let mut bar = Progress::new(progress);
    let sources = list::Sources::take(labs);
    for lab in labs {
        let (package, dir) = match side {
            Side::Labs => (lab.package.clone(), lab.lab_dir.clone()),
            Side::Solutions => match &lab.solution_package {
                Some(p) => (p.clone(), lab.solution_dir.clone()),
                None => {
                    return Err(format!(
                        "{} has no reference solution at {}.",
                        lab.label(),
                        lab.solution_dir.display()
                    ));
                }
            },
        };
        let selected: Vec<&TestMeta> = lab
            .meta
            .tests
            .iter()
            .filter(|t| only_test.is_none_or(|n| t.name == n))
            .collect();
        if selected.is_empty() {
            continue;
        }
        bar.compiling(&lab.label(), &package);
        let sources = lab.source_dirs();
        let target = build::Package {
            name: &package,
            sources: &sources,
        };
        let built = build::build_tests_with(root, &target, &mut |unit| bar.unit_ready(unit));
        let mut tests = Vec::new();
        let build_error = match built {
            Err(e) => {
                for meta in selected {
                    let run = Run {
                        outcome: Outcome::NotCompiled,
                        output: String::new(),
                        duration: Default::default(),
                    };
                    tests.push(TestResult {
                        meta: meta.clone(),
                        run,
                    });
                }
                Some(e)
            }
            Ok(built) => {
                bar.testing(&lab.label(), selected.len());
                for meta in selected {
                    let run = match built.tests.get(&meta.name) {
                        Some(exe) => {
                            sandbox::run_test(exe, &meta.name, meta.limits(&lab.meta.limits), &dir)
                        }
                        None => Run {
                            outcome: Outcome::Missing,
                            output: String::new(),
                            duration: Default::default(),
                        },
                    };
                    tests.push(TestResult {
                        meta: meta.clone(),
                        run,
                    });
                    bar.test_done();
                }
                None
            }
        };
        results.push(LabResult {
            lab: lab.clone(),
            build_error,
            tests,
            measurement: None,
        });
    }
    bar.clear();
    if side == Side::Labs {
        list::record(root, &results, &sources);
    }
    Ok(results)
}

/// Builds and runs a lab's `[measure]` program, if it has one and the lab compiled.
fn measure(
    root: &Path,
    result: &LabResult,
    side: Side,
    progress: bool,
) -> Option<Result<String, String>> {
    let spec = result.lab.meta.measure.as_ref()?;
    // A speed is worth showing only for code that is right: and a lab not started would only
    // cost a release build on every grade.
    let all_pass = result
        .tests
        .iter()
        .all(|t| t.run.outcome == Outcome::Passed);
    if result.build_error.is_some() || !all_pass {
        return None;
    }
    let package = match side {
        Side::Labs => result.lab.package.clone(),
        Side::Solutions => result.lab.solution_package.clone()?,
    };
    let mut bar = Progress::new(progress);
    bar.note(&format!(
        "measuring {} (release build of `{package}`, example `{}`) ...",
        result.lab.label(),
        spec.example
    ));
    let sources = result.lab.source_dirs();
    let target = build::Package {
        name: &package,
        sources: &sources,
    };
    let exe = match build::build_example(root, &target, &spec.example) {
        Ok(exe) => exe,
        Err(e) => return Some(Err(format!("the measurement did not build: {}", e.summary))),
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.current_dir(root);
    let limits = crate::labs::Limits {
        timeout_secs: spec.timeout_secs,
        memory_mib: 8192,
        ..Default::default()
    };
    Some(match sandbox::run_limited(cmd, limits) {
        Err(e) => Err(e),
        Ok(sandbox::Finished { status: None, .. }) => Err(format!(
            "the measurement took longer than {} s and was stopped",
            spec.timeout_secs
        )),
        Ok(sandbox::Finished {
            status: Some(s),
            output,
            ..
        }) if s.success() => Ok(output),
        Ok(sandbox::Finished { output, .. }) => Err(format!(
            "the measurement failed:\n{}",
            build::tail(&output, 10)
        )),
    })
}
