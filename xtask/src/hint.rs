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

use crate::grade::{self, Side};
use crate::labs::{Lab, TestMeta};
use crate::sandbox::Outcome;
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
    let labs = grade::select(root, &[options.lab])?;
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
        Some(name) => lab.meta.tests.iter().find(|t| t.name == *name).ok_or_else(|| {
            format!(
                "{} has no graded test named `{name}`. `cargo xtask grade --lab {} --verbose` lists them.",
                lab.label(),
                lab.meta.number
            )
        })?,
        None => match first_failing(root, lab)? {
            Some(t) => t,
            None => {
                println!("Every test of {} passes: no hint needed.", lab.label());
                return Ok(0);
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
    }
    shown.insert(key, upto.max(seen));
    save(&store, &shown)?;
    Ok(0)
}

/// The first test of the lab, in metadata order, that does not pass (grades the lab quietly).
fn first_failing<'a>(root: &Path, lab: &'a Lab) -> Result<Option<&'a TestMeta>, String> {
    eprintln!("  grading {} to find the next test ...", lab.label());
    let results = grade::grade(root, std::slice::from_ref(lab), Side::Labs, None, false)?;
    let failing = results
        .iter()
        .flat_map(|r| &r.tests)
        .find(|t| t.run.outcome != Outcome::Passed)
        .map(|t| t.meta.name.clone());
    Ok(failing.and_then(|name| lab.meta.tests.iter().find(|t| t.name == name)))
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
