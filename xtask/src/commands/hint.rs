//! `cargo xtask hint N [TEST]`: the hints of a graded test, one step at a time.
//!
//! Each test has hints in steps in `lab.toml`, gentlest first. The grader shows the first one
//! with the next step; this command shows one more each time it is asked, so a learner who only
//! needed a nudge does not read the answer by accident. How many steps of each test were shown is
//! kept in `target/gclabs/hints.txt` (never in the learner's sources), one `lab test count` line
//! per test.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::course::labs::{self, Lab, TestMeta};
use crate::grade::{self, Side};
use crate::run::sandbox::Outcome;
use crate::text::wrap;

/// What to show.
pub struct Options {
    /// The lab's number.
    pub lab: u32,
    /// The test; `None` means the first test of the lab that does not pass yet.
    pub test: Option<String>,
    /// Show every hint of the test at once.
    pub all: bool,
    /// Forget which hints were shown (for every test of the lab).
    pub reset: bool,
}

/// Runs `cargo xtask hint`. Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let labs = labs::select(root, &[options.lab])?;
    let lab = &labs[0];
    let store = store_path(root);
    let mut shown = load(&store);
    if options.reset {
        forget(root, lab.meta.number)?;
        println!(
            "The hints of {} will start again from the first step.",
            lab.label()
        );
        return Ok(0);
    }
    let test = match &options.test {
        Some(name) => lab
            .meta
            .tests
            .iter()
            .find(|t| t.name == *name)
            .ok_or_else(|| no_such_test(root, lab, name))?,
        None => match first_failing(root, lab)? {
            Next::Test(t) => t,
            Next::AllPass => {
                println!("Every test of {} passes: no hint needed.", lab.label());
                return Ok(0);
            }
            Next::DoesNotCompile(summary) => {
                // Every test "fails", but the first one's hint would be about code that may
                // well be right: the compiler error is the next step.
                println!(
                    "{} does not compile, so none of its tests can run. The first error:",
                    lab.label()
                );
                println!("  {summary}");
                let next = format!(
                    "Fix it first: `cargo xtask grade --lab {n}` shows the whole error. \
                     `cargo xtask hint {n} TEST` gives the hints of a given test.",
                    n = lab.meta.number
                );
                for line in wrap(&next, 90) {
                    println!("  {line}");
                }
                return Ok(1);
            }
        },
    };
    let key = (lab.meta.number, test.name.clone());
    let seen = shown.get(&key).copied().unwrap_or(0);
    let upto = if options.all {
        test.hints.len()
    } else {
        (seen + 1).min(test.hints.len())
    };
    println!("{}, test `{}`:", lab.label(), test.name);
    for (i, hint) in test.hints.iter().take(upto).enumerate() {
        let label = format!("Hint {} of {}: ", i + 1, test.hints.len());
        for (k, line) in wrap(hint, 90).iter().enumerate() {
            let lead = if k == 0 {
                label.clone()
            } else {
                " ".repeat(label.len())
            };
            println!("  {lead}{line}");
        }
    }
    let (page, anchor) = test.section.split_once('#').unwrap_or((&test.section, ""));
    println!("  Read: book/src/{page}, section #{anchor}");
    if upto < test.hints.len() {
        println!(
            "  Run the same command again for hint {} of {}.",
            upto + 1,
            test.hints.len()
        );
    } else {
        println!("  That is the last hint; the book section explains the rest.");
        let solution = lab.solution_dir.join("src");
        if solution.is_dir() {
            let text = format!(
                "If you are stuck for good, the reference solution is in {}; reading it after \
                 you have tried is a good way to learn too.",
                solution.strip_prefix(root).unwrap_or(&solution).display()
            );
            for line in wrap(&text, 96) {
                println!("  {line}");
            }
        }
    }
    shown.insert(key, upto.max(seen));
    save(&store, &shown)?;
    Ok(0)
}

/// What to give a hint about, when no test is named.
enum Next<'a> {
    /// The first test of the lab that does not pass.
    Test(&'a TestMeta),
    /// Every test passes.
    AllPass,
    /// The lab does not compile: the compiler's first error, in one line.
    DoesNotCompile(String),
}

/// The first test of the lab, in metadata order, that does not pass (grades the lab quietly).
fn first_failing<'a>(root: &Path, lab: &'a Lab) -> Result<Next<'a>, String> {
    eprintln!("  grading {} to find the next test ...", lab.label());
    let _builds = crate::course::pristine::lock_builds(root)?;
    let results = grade::grade(
        root,
        std::slice::from_ref(lab),
        Side::Labs,
        None,
        false,
        &mut |_| {},
    )?;
    if let Some(error) = results.iter().find_map(|r| r.build_error.as_ref()) {
        return Ok(Next::DoesNotCompile(error.summary.clone()));
    }
    let failing = results
        .iter()
        .flat_map(|r| &r.tests)
        .find(|t| t.run.outcome != Outcome::Passed)
        .map(|t| t.meta.name.clone());
    Ok(failing
        .and_then(|name| lab.meta.tests.iter().find(|t| t.name == name))
        .map_or(Next::AllPass, Next::Test))
}

/// Why `hint N NAME` has nothing to show: `NAME` is a test of another lab (and the command for
/// its hints), or of no lab (and where the names are listed).
fn no_such_test(root: &Path, lab: &Lab, name: &str) -> String {
    let all = crate::course::labs::discover(root).unwrap_or_default();
    if let Some(other) = crate::course::labs::labs_with_test(&all, name).first() {
        return format!(
            "{} has no graded test named `{name}`: it is a test of {}. Its hints: `cargo xtask \
             hint {} {name}`.",
            lab.label(),
            other.label(),
            other.meta.number
        );
    }
    format!(
        "{} has no graded test named `{name}`. `cargo xtask list --lab {} --verbose` lists its \
         tests, one per line.",
        lab.label(),
        lab.meta.number
    )
}

/// Forgets which hints of lab `number` were shown, so they start again from the first step.
/// Returns whether any had been shown.
pub fn forget(root: &Path, number: u32) -> Result<bool, String> {
    let store = store_path(root);
    let mut shown = load(&store);
    let before = shown.len();
    shown.retain(|(l, _), _| *l != number);
    if shown.len() == before {
        return Ok(false);
    }
    save(&store, &shown)?;
    Ok(true)
}

fn store_path(root: &Path) -> PathBuf {
    root.join("target").join("gclabs").join("hints.txt")
}

type Shown = BTreeMap<(u32, String), usize>;

fn load(path: &PathBuf) -> Shown {
    let Ok(text) = fs::read_to_string(path) else {
        return Shown::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let lab = parts.next()?.parse().ok()?;
            let test = parts.next()?.to_string();
            let count = parts.next()?.parse().ok()?;
            Some(((lab, test), count))
        })
        .collect()
}

fn save(path: &PathBuf, shown: &Shown) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text: String = shown
        .iter()
        .map(|((lab, test), n)| format!("{lab} {test} {n}\n"))
        .collect();
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
