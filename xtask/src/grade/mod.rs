//! Layer 3, grade: a selection of labs and tests in, results out.
//!
//! It builds each lab (layer 2, `run`), runs each selected graded test alone, and returns the
//! results as plain data, with the decisions every output format shares made once, here: whether
//! a test passed and what it is worth, the text that explains a failure and the hint that goes
//! with it, the book section to read, the next step, and the graded files that changed. It never
//! prints, writes files or records history: it reports what it is doing through [`Event`]s, and
//! the `grade` command decides what to show and to keep.

pub mod steps;

use std::path::Path;
use std::time::Duration;

use crate::course::labs::{self, Lab, TestMeta};
use crate::course::pristine::{Change, ChangeKind, Integrity};
use crate::run::build::{self, BuildError};
use crate::run::miri;
use crate::run::sandbox::{self, Outcome, Run};
use crate::text::wrap;

/// Which crate of each lab to grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// The learner's crates under `labs/`.
    #[default]
    Labs,
    /// The reference solutions under `solutions/`.
    Solutions,
}

/// What grading is doing, for whoever shows progress.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Building a lab's package: (lab label, package).
    Compiling(&'a str, &'a str),
    /// Cargo finished a compilation unit (its name).
    UnitReady(&'a str),
    /// Running this many graded tests of a lab: (lab label, count).
    Testing(&'a str, usize),
    /// One test finished.
    TestDone,
    /// Building and running a lab's measurement: (lab label, package, example).
    Measuring(&'a str, &'a str, &'a str),
    /// Running a passed test again under Miri: (lab label, test).
    Miri(&'a str, &'a str),
}

/// One graded test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// Its metadata (points, hints, section).
    pub meta: TestMeta,
    /// What happened when it ran (under Miri too, for a test marked `miri`: undefined behaviour
    /// found there is its outcome).
    pub run: Run,
    /// For a test marked `miri` that passed: what became of the Miri run.
    pub miri: MiriCheck,
}

/// The Miri run of a test marked `miri = true`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MiriCheck {
    /// Not asked for (the test is not marked, did not pass, or `--no-miri`).
    #[default]
    NotAsked,
    /// Miri ran it and found nothing (or found what the outcome says).
    Done,
    /// Miri is not installed here: the test passed without this check.
    Unavailable,
    /// Miri could not say (a time-out, an operation it does not support), and why.
    Unknown(String),
}

/// A book section: `page.md#anchor` under `book/src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The page, relative to `book/src`: `01-refcount/rc.md`.
    pub page: String,
    /// The heading's id: `rc-box`.
    pub anchor: String,
}

impl Section {
    /// Splits `page.md#anchor`.
    pub fn parse(section: &str) -> Section {
        let (page, anchor) = section.split_once('#').unwrap_or((section, ""));
        Section {
            page: page.to_string(),
            anchor: anchor.to_string(),
        }
    }

    /// Where to read it in the Markdown: `book/src/01-refcount/rc.md, section #rc-box`.
    pub fn in_markdown(&self) -> String {
        format!("book/src/{}, section #{}", self.page, self.anchor)
    }

    /// Where to read it in the built book: `book/build/01-refcount/rc.html#rc-box`.
    pub fn in_built_book(&self) -> String {
        format!(
            "book/build/{}.html#{}",
            self.page.trim_end_matches(".md"),
            self.anchor
        )
    }
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

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.run.outcome == Outcome::Passed
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
                 per object. Keep the work still to do in a collection of your own and loop until \
                 it is empty. Which end you take from sets the order: a stack gives recursion's \
                 order, a queue another; the book section of the test says which the lab \
                 expects."
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
            Outcome::MemoryError { message } => {
                let miri = if self.meta.miri {
                    format!(
                        " `cargo xtask miri --lab {n}` names the line, if you have nightly Rust \
                         with Miri."
                    )
                } else {
                    String::new()
                };
                Some(if message.contains("past the end") {
                    format!(
                        "A read or write past the end of a block is not a wrong answer but a \
                         broken rule of `unsafe` code: the bytes after a block belong to \
                         someone else, or to nobody. Find the copy or the pointer arithmetic \
                         whose length is not the block's own, and bound it by what the block \
                         holds.{miri}"
                    )
                } else {
                    format!(
                        "A use of freed memory is not a wrong answer but a broken rule of \
                         `unsafe` code: something still used a block after the code freed it. \
                         Find who frees it, and who uses it afterwards: free only once nothing \
                         can reach the block.{miri}"
                    )
                })
            }
            Outcome::Leak { .. } => Some(
                "Memory the code allocated was never freed: something kept its last owner alive \
                 (a count never brought to zero, a block not freed when its last pointer went, a \
                 cycle). Follow one object from its allocation to the moment it should go."
                    .to_string(),
            ),
            Outcome::UndefinedBehaviour { .. } => Some(
                "The test passes, and still the code breaks a rule of `unsafe` Rust that a \
                 normal run does not check: Miri ran it again and names the operation and the \
                 line. Undefined behaviour can pass a thousand runs and fail the next (another \
                 allocator, another compiler): find the line, then the invariant its SAFETY \
                 comment claims and why it does not hold there."
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

    /// What explains a failure beyond its one-line reason: the panic message of a failed
    /// assertion (a diff, often), Miri's message, else what the test printed. Nothing for a test
    /// not started or missing, whose reason says it all. ANSI colours are kept: each format
    /// decides.
    pub fn detail(&self) -> &str {
        match &self.run.outcome {
            Outcome::Passed | Outcome::NotStarted { .. } | Outcome::Missing => "",
            Outcome::Failed { message, .. } if !message.trim().is_empty() => message,
            Outcome::UndefinedBehaviour { message, .. }
            | Outcome::MemoryError { message }
            | Outcome::Leak { message } => message,
            _ => &self.run.output,
        }
    }

    /// The book section that explains the test's task.
    pub fn section(&self) -> Section {
        Section::parse(&self.meta.section)
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
    /// Whether every selected test passed.
    pub fn all_passed(&self) -> bool {
        self.tests.iter().all(TestResult::passed)
    }
    /// What to say about the Miri runs of the lab's tests, one sentence each: the tests that passed
    /// without their Miri check because Miri is not installed here, and those Miri could not
    /// check. Empty when there is nothing to say.
    pub fn miri_notes(&self) -> Vec<String> {
        let unavailable: Vec<&str> = self
            .tests
            .iter()
            .filter(|t| t.miri == MiriCheck::Unavailable)
            .map(|t| t.meta.name.as_str())
            .collect();
        let mut notes = Vec::new();
        if !unavailable.is_empty() {
            notes.push(format!(
                "{} passed without their Miri check, which finds undefined behaviour, because \
                 Miri is not installed here (`{}`): {}",
                match unavailable.len() {
                    1 => "1 test".to_string(),
                    n => format!("{n} tests"),
                },
                miri::INSTALL,
                unavailable.join(", ")
            ));
        }
        for t in &self.tests {
            if let MiriCheck::Unknown(why) = &t.miri {
                notes.push(format!("Miri could not check `{}`: {why}", t.meta.name));
            }
        }
        notes
    }
}

/// A whole grade: every lab's results, and what was found about the graded files.
#[derive(Debug)]
pub struct Grade {
    /// The labs graded, in order.
    pub labs: Vec<LabResult>,
    /// The tamper check's findings (and whether the originals were used).
    pub integrity: Integrity,
    /// Labs or solutions.
    pub side: Side,
    /// How long the grade took.
    pub elapsed: Duration,
}

/// What the learner should do next.
#[derive(Debug)]
pub enum NextStep<'a> {
    /// Every selected test passes.
    Done,
    /// The first lab with a failing test does not compile.
    Compile {
        /// That lab.
        lab: &'a LabResult,
        /// Its first error.
        error: &'a BuildError,
    },
    /// The first test that does not pass.
    Test {
        /// Its lab.
        lab: &'a LabResult,
        /// The test.
        test: &'a TestResult,
    },
}

impl Grade {
    /// Points earned.
    pub fn points(&self) -> u32 {
        self.labs.iter().map(LabResult::points).sum()
    }
    /// Points available.
    pub fn max_points(&self) -> u32 {
        self.labs.iter().map(LabResult::max_points).sum()
    }
    /// Whether every selected test passed.
    pub fn all_passed(&self) -> bool {
        self.labs.iter().all(LabResult::all_passed)
    }

    /// The next step: the first test, in lab and metadata order, that does not pass.
    pub fn next_step(&self) -> NextStep<'_> {
        let first = self
            .labs
            .iter()
            .flat_map(|r| r.tests.iter().map(move |t| (r, t)))
            .find(|(_, t)| !t.passed());
        match first {
            None => NextStep::Done,
            Some((lab, _)) if lab.build_error.is_some() => NextStep::Compile {
                lab,
                error: lab.build_error.as_ref().expect("checked just above"),
            },
            Some((lab, test)) => NextStep::Test { lab, test },
        }
    }

    /// The changed graded files that concern the graded labs: `(lab number, or None for course
    /// files, change)`, course files first.
    pub fn changes(&self) -> Vec<(Option<u32>, &Change)> {
        let mut out: Vec<(Option<u32>, &Change)> = self
            .integrity
            .changes
            .get("")
            .into_iter()
            .flatten()
            .map(|c| (None, c))
            .collect();
        for lab in &self.labs {
            for c in self.integrity.changes_in(&lab.lab.lab_dir) {
                out.push((Some(lab.lab.meta.number), c));
            }
        }
        out
    }

    /// The graded labs that no checksum list knows ("Lab 01"), so that nothing was checked.
    pub fn unchecked_labs(&self) -> Vec<String> {
        self.labs
            .iter()
            .filter(|r| {
                let name = r.lab.lab_dir.file_name().unwrap_or_default();
                self.integrity
                    .unchecked
                    .iter()
                    .any(|u| std::ffi::OsStr::new(u) == name)
            })
            .map(|r| r.lab.label())
            .collect()
    }

    /// One paragraph, for people, on the graded files that changed and what that did to the
    /// grade; `None` when none did.
    pub fn changes_text(&self) -> Option<String> {
        let changes = self.changes();
        if changes.is_empty() {
            return None;
        }
        let width = changes.iter().map(|(_, c)| c.path.len()).max().unwrap_or(0);
        let mut text = format!(
            "{} graded {} not the course's original:\n",
            changes.len(),
            if changes.len() == 1 {
                "file is"
            } else {
                "files are"
            }
        );
        for (lab, c) in &changes {
            let label = lab.map_or("course".to_string(), |n| format!("Lab {n:02}"));
            text.push_str(&format!(
                "  {label}  {:<width$}  {}\n",
                c.path,
                c.kind.describe()
            ));
        }
        let prose = if self.integrity.pristine {
            "These changes did not count: the tests ran with the course's original files \
             (--pristine)."
                .to_string()
        } else {
            let paths: Vec<&str> = changes
                .iter()
                .filter(|(_, c)| c.kind != ChangeKind::Added)
                .map(|(_, c)| c.path.as_str())
                .collect();
            let mut prose = "The results above come from these changed files. `cargo xtask \
                             grade --pristine` grades with the originals, without touching your \
                             files."
                .to_string();
            if !paths.is_empty() {
                prose.push_str(" To put the originals back:\n");
                prose.push_str(&format!("  git checkout -- {}", paths.join(" ")));
            }
            prose
        };
        for paragraph in prose.split('\n') {
            if paragraph.starts_with("  ") {
                text.push_str(paragraph);
                text.push('\n');
                continue;
            }
            for line in wrap(paragraph, 92) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        Some(text)
    }
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

/// Grades `labs` on `side` (only the test named `only_test`, when given), telling `events` what
/// it does. With `miri`, the tests marked `miri = true` that pass run again under Miri where it is
/// installed.
pub fn grade(
    root: &Path,
    labs: &[Lab],
    side: Side,
    only_test: Option<&str>,
    miri: bool,
    events: &mut dyn FnMut(Event),
) -> Result<Vec<LabResult>, String> {
    if let Some(name) = only_test
        && labs::labs_with_test(labs, name).is_empty()
    {
        return Err(no_such_test(root, labs, name));
    }
    let mut results = Vec::new();
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
        let label = lab.label();
        events(Event::Compiling(&label, &package));
        let sources = lab.source_dirs();
        let target = build::Package {
            name: &package,
            sources: &sources,
        };
        let built = build::build_tests_with(root, &target, &mut |unit| {
            events(Event::UnitReady(unit));
        });
        let mut tests = Vec::new();
        let build_error = match built {
            Err(e) => {
                for meta in selected {
                    let run = Run {
                        outcome: Outcome::NotCompiled,
                        output: String::new(),
                        duration: Duration::ZERO,
                    };
                    tests.push(TestResult {
                        meta: meta.clone(),
                        run,
                        miri: MiriCheck::NotAsked,
                    });
                }
                Some(e)
            }
            Ok(built) => {
                events(Event::Testing(&label, selected.len()));
                for meta in selected {
                    let mut run = match built.tests.get(&meta.name) {
                        Some(exe) => {
                            sandbox::run_test(exe, &meta.name, meta.limits(&lab.meta.limits), &dir)
                        }
                        None => Run {
                            outcome: Outcome::Missing,
                            output: String::new(),
                            duration: Duration::ZERO,
                        },
                    };
                    let check = if miri && meta.miri && run.outcome == Outcome::Passed {
                        let target = built.targets.get(&meta.name).map_or("", String::as_str);
                        events(Event::Miri(&label, &meta.name));
                        under_miri(root, &package, target, meta, &mut run)
                    } else {
                        MiriCheck::NotAsked
                    };
                    tests.push(TestResult {
                        meta: meta.clone(),
                        run,
                        miri: check,
                    });
                    events(Event::TestDone);
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
    Ok(results)
}

/// Runs a passed test again under Miri, where it is installed; undefined behaviour found there
/// becomes the test's outcome.
fn under_miri(
    root: &Path,
    package: &str,
    target: &str,
    meta: &TestMeta,
    run: &mut Run,
) -> MiriCheck {
    if !miri::available() {
        return MiriCheck::Unavailable;
    }
    let timeout = meta
        .miri_timeout_secs
        .unwrap_or(labs::DEFAULT_MIRI_TIMEOUT_SECS);
    let target_dir = crate::course::pristine::build_target_dir(root);
    match miri::run_test(
        root,
        target_dir.as_deref(),
        package,
        target,
        &meta.name,
        timeout,
    ) {
        miri::Verdict::Clean => MiriCheck::Done,
        miri::Verdict::Undefined { message, plain } => {
            run.outcome = Outcome::UndefinedBehaviour { plain, message };
            MiriCheck::Done
        }
        miri::Verdict::Unknown { why } => MiriCheck::Unknown(why),
    }
}

/// Builds and runs a lab's `[measure]` program (a release build, run under limits) when it has
/// one and every selected test passed: a speed is worth showing only for code that is right, and
/// a lab not started would only cost a release build on every grade. `None` when it does not run.
pub fn measure(
    root: &Path,
    result: &LabResult,
    side: Side,
    events: &mut dyn FnMut(Event),
) -> Option<Result<String, String>> {
    let spec = result.lab.meta.measure.as_ref()?;
    if result.build_error.is_some() || !result.all_passed() {
        return None;
    }
    let package = match side {
        Side::Labs => result.lab.package.clone(),
        Side::Solutions => result.lab.solution_package.clone()?,
    };
    events(Event::Measuring(
        &result.lab.label(),
        &package,
        &spec.example,
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
    let limits = labs::Limits {
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
