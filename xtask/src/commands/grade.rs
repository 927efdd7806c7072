//! `cargo xtask grade`: the pipeline, wired. Find the course and prepare the copy to grade
//! (course), build and run every selected test (grade, on run), measure the labs that pass, keep
//! the results for `list` and `watch` (course's history), render them in the chosen format
//! (report), and write them where asked.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::course::history::{self, LabGrade, Sources};
use crate::course::labs;
use crate::course::pristine::{self, Course, Request};
use crate::grade::{self, Grade, Side};
use crate::report::progress::Progress;
use crate::report::{self, Context, Format};
use crate::text::sh_quote;

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
    /// Show the output of every failing test, not only the next step's.
    pub verbose: bool,
    /// Run the labs' `[measure]` programs after their tests.
    pub measure: bool,
    /// Run the tests marked `miri` again under Miri when they pass (where it is installed).
    pub miri: bool,
    /// The output format and file, and which graded files to grade with (`--format`,
    /// `--output`, `--pristine`, `--submission`).
    pub delivery: Delivery,
}

/// The instructor's side of a grade: format, destination, and which files to grade with.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// The output format.
    pub format: Format,
    /// Write the results to this file instead of stdout (machine formats only).
    pub output: Option<PathBuf>,
    /// Grade with the course's original graded files.
    pub pristine: bool,
    /// A clean copy of the course to take the originals from.
    pub pristine_from: Option<PathBuf>,
    /// Grade the lab sources found in this folder, in a pristine copy of the course.
    pub submission: Option<PathBuf>,
}

impl Delivery {
    /// What the pristine copy needs, for the labs selected by `--lab`.
    pub fn request(&self, labs: &[u32]) -> Request {
        Request {
            pristine: self.pristine,
            pristine_from: self.pristine_from.clone(),
            submission: self.submission.clone(),
            labs: labs.to_vec(),
        }
    }

    /// Checks the combination of options before anything is built.
    pub fn validate(&self) -> Result<(), String> {
        if !self.format.for_machines()
            && let Some(path) = &self.output
        {
            return Err(format!(
                "--output {} needs a machine-readable format (--format {}); the report for \
                 people goes to the terminal (redirect it with `> FILE` to keep it).",
                path.display(),
                Format::machine_names()
            ));
        }
        if let Some(dir) = &self.submission
            && !dir.is_dir()
        {
            return Err(format!(
                "the submission folder {} does not exist or is not a folder.",
                dir.display()
            ));
        }
        Ok(())
    }

    /// Checks that `--output` can be written, before a grade that may take minutes. When it
    /// cannot, there is nowhere to put even the document that says why.
    pub fn check_output(&self) -> Result<(), String> {
        match &self.output {
            Some(path) if self.format.for_machines() => writable(path),
            _ => Ok(()),
        }
    }

    /// Writes `text` to `--output` (creating its folder), or to stdout.
    fn write(&self, text: &str) -> Result<(), String> {
        match &self.output {
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| format!("cannot write the results to stdout: {e}"))
            }
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                // Written aside and renamed into place, so that a reader never finds half a file.
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let partial = path.with_file_name(format!(".{name}.partial"));
                std::fs::write(&partial, text)
                    .and_then(|()| std::fs::rename(&partial, path))
                    .map_err(|e| format!("cannot write the results to {}: {e}", path.display()))
            }
        }
    }
}

/// Checks that the results can be written to `path`, before a grade that may take minutes: the
/// file is opened for appending (so an existing one is left as it is) and removed again if it did
/// not exist. Its folder is created, as writing the results would.
fn writable(path: &Path) -> Result<(), String> {
    let fail = |why: String| {
        format!(
            "cannot write the results to {}: {why}. Nothing was graded: give --output a file in \
             a folder you can write to.",
            path.display()
        )
    };
    if path.is_dir() {
        return Err(fail(format!(
            "it is a folder (name a file in it, such as {})",
            path.join("results.json").display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| fail(format!("cannot create {}: {e}", parent.display())))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Runs `cargo xtask grade`. Returns the process exit code: 0 only when every selected test
/// passed. When it cannot grade, a Gradescope or JUnit output still gets a document saying why.
pub fn run(options: &Options) -> Result<i32, String> {
    options.delivery.check_output()?;
    run_checked(options).inspect_err(|message| refuse(&options.delivery, message))
}

/// When there is nothing to grade: a Gradescope or JUnit output still gets a document that says
/// why, if its file can be written. The caller prints the message.
pub fn refuse(delivery: &Delivery, message: &str) {
    if delivery.check_output().is_err() {
        return;
    }
    if let Some(text) = report::cannot_grade(delivery.format, message)
        && let Err(e) = delivery.write(&text)
        && !message.contains(&e)
    {
        eprintln!("error: {e}");
    }
}

fn run_checked(options: &Options) -> Result<i32, String> {
    let started = std::time::Instant::now();
    let checkout = labs::checkout(&options.root)?;
    options.delivery.validate()?;
    // The learner's checkout, or a copy with the original graded files (`--pristine`).
    let course = Course::prepare(&checkout, &options.delivery.request(&options.labs))?;
    let root = course.root();
    let _builds = pristine::lock_builds(root)?;
    let labs = labs::select(root, &options.labs)?;
    let for_people = !options.delivery.format.for_machines();
    let mut progress = Progress::new(for_people);
    let sources = Sources::take(&labs);
    let mut results = grade::grade(
        root,
        &labs,
        options.side,
        options.test.as_deref(),
        options.miri,
        &mut |event| progress.show(event),
    )?;
    if options.measure && options.test.is_none() {
        for result in &mut results {
            result.measurement = grade::measure(root, result, options.side, &mut |event| {
                progress.show(event)
            });
        }
    }
    progress.clear();
    if options.side == Side::Labs {
        let kept: Vec<LabGrade> = results
            .iter()
            .map(|r| LabGrade {
                number: r.lab.meta.number,
                build_error: r.build_error.as_ref().map(|e| e.summary.clone()),
                listed: r.lab.meta.tests.iter().map(|t| t.name.clone()).collect(),
                tests: r
                    .tests
                    .iter()
                    .map(|t| {
                        (
                            t.meta.name.clone(),
                            t.run.outcome.status().to_string(),
                            t.points(),
                            t.meta.points,
                            t.run.outcome.reason(),
                        )
                    })
                    .collect(),
            })
            .collect();
        history::record(root, &kept, &sources);
    }
    let grade = Grade {
        labs: results,
        integrity: course.integrity.clone(),
        side: options.side,
        elapsed: started.elapsed(),
    };
    let context = Context {
        whose: whose(options),
        same_work: same_work(options),
        verbose: options.verbose,
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        measured: options.measure && options.test.is_none(),
    };
    let text = report::render(options.delivery.format, &grade, &context);
    options.delivery.write(&text)?;
    Ok(if grade.all_passed() { 0 } else { 1 })
}

/// Whose work this is, for the report's heading: "your work" only in the learner's own checkout;
/// an instructor grading a submission or another checkout is told whose work it is.
fn whose(options: &Options) -> String {
    match (options.side, &options.delivery.submission) {
        (Side::Solutions, _) => "the reference solutions in solutions/".to_string(),
        (Side::Labs, Some(dir)) => format!("the submission in {}", dir.display()),
        (Side::Labs, None) if !is_own_checkout(&options.root) => {
            format!("the work in {}/", options.root.join("labs").display())
        }
        (Side::Labs, None) => "your work in labs/".to_string(),
    }
}

/// Whether `root` is the checkout the command runs in (the learner's own), rather than one an
/// instructor grades with `--root`.
fn is_own_checkout(root: &Path) -> bool {
    root.canonicalize().ok() == labs::home()
}

/// The options a suggested `cargo xtask` command must repeat to grade the same work the same
/// way: `--root` for another checkout, `--solutions`, `--pristine`, `--pristine-from`,
/// `--submission` (each with a leading space, paths quoted for the shell).
fn same_work(options: &Options) -> String {
    let mut flags = String::new();
    if !is_own_checkout(&options.root) {
        flags += &format!(" --root {}", sh_quote(&options.root.display().to_string()));
    }
    if options.side == Side::Solutions {
        flags += " --solutions";
    }
    let delivery = &options.delivery;
    if let Some(dir) = &delivery.submission {
        flags += &format!(" --submission {}", sh_quote(&dir.display().to_string()));
    } else if delivery.pristine {
        flags += " --pristine";
    }
    if let Some(dir) = &delivery.pristine_from {
        flags += &format!(" --pristine-from {}", sh_quote(&dir.display().to_string()));
    }
    flags
}
