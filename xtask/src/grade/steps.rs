//! Which TODO sites each graded test needs: measured, not believed.
//!
//! A lab is a staircase: in `lab.toml`'s order, each graded test should ask for one or two new
//! TODO sites, and no single site should turn a large share of the lab's points green at once. The
//! order in `lab.toml` is a claim; this module checks it by running the tests.
//!
//! It builds one variant of the lab, in a scratch copy of the course: the solution, with each
//! fenced region (`// BEGIN SOLUTION` ... `// END SOLUTION`, one TODO site of the stub) wrapped as
//! `if solved(N) { <the solution's lines> } else { todo!() }`, where `solved` reads the list of
//! solved sites from the environment (`GCLABS_SOLVED_SITES`). So one build serves every set of
//! solved sites. Then, for each test in `lab.toml`'s order, starting from the sites the tests
//! before it needed: run it; while it stops at the `todo!()` of a site, mark that site solved and
//! run it again. The sites added are the ones this test needs beyond the tests before it. A test
//! that needs no new site passes already: a binary search over the order in which sites were
//! added finds the site after which it first passes. That site *unlocks* it.
//!
//! The rules checked: no test needs more than [`MAX_NEW_SITES`] new sites, and no site unlocks
//! more than [`MAX_UNLOCK_PERCENT`]% of the lab's points. The analysis takes a build and a few
//! hundred test runs, so its result is kept in `<target>/gclabs-steps/` under a hash of everything
//! it depends on, and redone only when that changes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::course::checksums::git_blob_id;
use crate::course::labs::Lab;
use crate::run::build;
use crate::run::sandbox::{self, Outcome};

/// The most TODO sites a graded test may need beyond those the tests before it need.
pub const MAX_NEW_SITES: usize = 2;
/// The largest share of a lab's points, in percent, that solving one TODO site may unlock: "about
/// a tenth", with room for a test worth a little more than the others.
pub const MAX_UNLOCK_PERCENT: u32 = 12;
/// The environment variable the variant reads its solved sites from.
const SOLVED_VARIABLE: &str = "GCLABS_SOLVED_SITES";
/// Bumped when the analysis changes, so that results kept from an older one are not reused.
const ANALYSIS_VERSION: &str = "1";

/// One TODO site of a lab: a fenced region of the solution, a `// TODO:` + `todo!()` of the stub.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Site {
    /// Its file, relative to the lab's `src/`.
    pub file: String,
    /// The function it is in.
    pub function: String,
    /// The task text (what the stub's `// TODO:` says).
    pub task: String,
    /// The line of its `todo!()` in the variant, to recognise it in a panic's location.
    todo_line: usize,
}

impl Site {
    /// `rc.rs: new`.
    pub fn name(&self) -> String {
        format!("{}: {}", self.file, self.function)
    }
}

/// One graded test's place on the staircase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Row {
    /// The test.
    pub test: String,
    /// Its points.
    pub points: u32,
    /// The sites it needs beyond those the tests before it need (indices into the sites).
    pub new_sites: Vec<usize>,
    /// The site after which it first passes.
    pub unlocked_by: Option<usize>,
    /// Why it never passed, if it did not.
    pub problem: Option<String>,
}

/// A lab's staircase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Analysis {
    /// The lab's TODO sites, in the order of the solution's files.
    pub sites: Vec<Site>,
    /// One row per graded test, in `lab.toml`'s order.
    pub rows: Vec<Row>,
}

#[derive(Serialize, Deserialize)]
struct Kept {
    key: String,
    analysis: Analysis,
}

/// The staircase of `lab`: kept from an earlier run when nothing it depends on changed.
pub fn analyse(root: &Path, lab: &Lab) -> Result<Analysis, String> {
    let key = key(root, lab)?;
    let dir_name = lab
        .lab_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let base = crate::course::pristine::target_dir(root).join("gclabs-steps");
    let kept_path = base.join(format!("{dir_name}.json"));
    if let Some(kept) = fs::read_to_string(&kept_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Kept>(&t).ok())
        .filter(|k| k.key == key)
    {
        return Ok(kept.analysis);
    }
    let analysis = measure(root, lab, &base, &dir_name)?;
    if let Ok(text) = serde_json::to_string(&Kept {
        key,
        analysis: analysis.clone(),
    }) {
        let _ = fs::write(&kept_path, text);
    }
    Ok(analysis)
}

/// A hash of everything the analysis depends on: the lab's two folders, the crates its tests use,
/// the lock file, and the analysis itself.
fn key(root: &Path, lab: &Lab) -> Result<String, String> {
    let mut dirs = lab.source_dirs();
    dirs.extend(["pyheap", "testkit"].map(|d| root.join(d)));
    let mut listing = format!("{ANALYSIS_VERSION}\n{SOLVED_MODULE}\n");
    let mut files = Vec::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        files.extend(crate::course::pristine::source_files(dir)?);
    }
    files.push(root.join("Cargo.lock"));
    files.sort();
    for path in files {
        if let Ok(bytes) = fs::read(&path) {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let _ = writeln!(listing, "{} {}", git_blob_id(&bytes), rel.display());
        }
    }
    Ok(git_blob_id(listing.as_bytes()))
}

/// Builds the variant and climbs the staircase.
fn measure(root: &Path, lab: &Lab, base: &Path, dir_name: &str) -> Result<Analysis, String> {
    let solution_src = lab.solution_dir.join("src");
    let mut files = Vec::new();
    let mut sites = Vec::new();
    let mut sources = crate::course::pristine::source_files(&solution_src)?;
    sources.sort();
    for path in sources {
        let rel = path
            .strip_prefix(&solution_src)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let mut bytes =
            fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if rel.ends_with(".rs") {
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
            let mut variant = instrument(&text, &rel, &mut sites)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if rel == "lib.rs" {
                variant.push_str("\n#[doc(hidden)]\npub mod __gclabs_steps;\n");
            }
            bytes = variant.into_bytes();
        }
        files.push((format!("labs/{dir_name}/src/{rel}"), bytes));
    }
    files.push((
        format!("labs/{dir_name}/src/__gclabs_steps.rs"),
        SOLVED_MODULE.as_bytes().to_vec(),
    ));
    let copy = base.join("course");
    let _lock =
        crate::course::pristine::mirror(root, &copy, &format!("labs/{dir_name}/src/"), files)?;
    let copy_lab = copy.join("labs").join(dir_name);
    let sources = vec![copy_lab.clone()];
    let package = build::Package {
        name: &lab.package,
        sources: &sources,
    };
    let built = build::build_tests(&copy, &package).map_err(|e| {
        format!(
            "the variant of {} with every TODO site switchable does not compile: {}\n{}",
            lab.label(),
            e.summary,
            e.detail
        )
    })?;
    let todo_at: BTreeMap<(String, usize), usize> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| ((format!("labs/{dir_name}/src/{}", s.file), s.todo_line), i))
        .collect();
    let run = |test: &crate::course::labs::TestMeta, solved: &[usize]| -> Outcome {
        let Some(exe) = built.tests.get(&test.name) else {
            return Outcome::Missing;
        };
        let list: Vec<String> = solved.iter().map(usize::to_string).collect();
        let list = list.join(",");
        sandbox::run_test_with(
            exe,
            &test.name,
            test.limits(&lab.meta.limits),
            &copy_lab,
            &[(SOLVED_VARIABLE, list.as_str())],
        )
        .outcome
    };
    let site_of = |outcome: &Outcome| -> Option<usize> {
        let Outcome::NotStarted { at: Some(at) } = outcome else {
            return None;
        };
        let (file, line) = at.rsplit_once(':')?;
        todo_at
            .get(&(file.to_string(), line.parse().ok()?))
            .copied()
    };
    let mut solved: Vec<usize> = Vec::new();
    let mut rows = Vec::new();
    for test in &lab.meta.tests {
        let mut new_sites = Vec::new();
        let mut outcome = run(test, &solved);
        while let Some(site) = site_of(&outcome) {
            if solved.contains(&site) {
                break;
            }
            solved.push(site);
            new_sites.push(site);
            outcome = run(test, &solved);
        }
        let (unlocked_by, problem) = if outcome != Outcome::Passed {
            (None, Some(outcome.reason()))
        } else if let Some(last) = new_sites.last() {
            (Some(*last), None)
        } else {
            // It passes with the sites solved so far: after which of them did it first pass?
            // Solving more sites never makes a test fail, so a binary search finds it.
            let (mut low, mut high) = (0, solved.len());
            while low < high {
                let middle = (low + high) / 2;
                if run(test, &solved[..middle]) == Outcome::Passed {
                    high = middle;
                } else {
                    low = middle + 1;
                }
            }
            (low.checked_sub(1).map(|i| solved[i]), None)
        };
        rows.push(Row {
            test: test.name.clone(),
            points: test.points,
            new_sites,
            unlocked_by,
            problem,
        });
    }
    Ok(Analysis { sites, rows })
}

/// What the variant's `solved` reads. It keeps the list in atomics rather than on the heap, and
/// frees the little it allocates to read the variable at once: graded tests count the blocks a
/// test allocates and never frees, and must not count this.
const SOLVED_MODULE: &str = r#"//! Written by `cargo xtask check` in its scratch copy of the course, never in a lab: which TODO
//! sites this variant runs the solution's code for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static READ: AtomicBool = AtomicBool::new(false);
static SOLVED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Whether TODO site `site` is solved in this run (listed in GCLABS_SOLVED_SITES, `1,4,7`).
pub fn solved(site: usize) -> bool {
    if !READ.load(Ordering::Acquire) {
        let list = std::env::var_os("GCLABS_SOLVED_SITES").unwrap_or_default();
        for item in list.to_string_lossy().split(',') {
            if let Ok(n) = item.trim().parse::<usize>() {
                if n < 512 {
                    SOLVED[n / 64].fetch_or(1 << (n % 64), Ordering::Relaxed);
                }
            }
        }
        READ.store(true, Ordering::Release);
    }
    site < 512 && SOLVED[site / 64].load(Ordering::Relaxed) & (1 << (site % 64)) != 0
}
"#;

/// The variant of one solution file: each fenced region becomes `if solved(N) { region } else {
/// todo!() }`, N counting on from `sites.len()`; the sites found are pushed to `sites`.
fn instrument(text: &str, file: &str, sites: &mut Vec<Site>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 256);
    let mut lines_out = 0;
    let mut open: Option<(String, String, String)> = None;
    let mut last_fn = String::from("(top level)");
    let mut self_type: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if line.starts_with("impl") {
            self_type = impl_type(line);
        } else if line.trim_end() == "}" {
            self_type = None;
        }
        if let Some(name) = function_name(trimmed) {
            last_fn = match &self_type {
                Some(ty) => format!("{ty}::{name}"),
                None => name,
            };
        }
        if let Some(rest) = trimmed.strip_prefix("// BEGIN SOLUTION") {
            let indent = line[..line.len() - line.trim_start().len()].to_string();
            let task = rest.trim_start_matches(':').trim().to_string();
            let id = sites.len();
            out.push_str(&format!(
                "{indent}if crate::__gclabs_steps::solved({id}) {{\n"
            ));
            lines_out += 1;
            open = Some((indent, task, last_fn.clone()));
        } else if trimmed == "// END SOLUTION" {
            let (indent, task, function) =
                open.take().ok_or("END SOLUTION without a BEGIN SOLUTION")?;
            out.push_str(&format!(
                "{indent}}} else {{\n{indent}    todo!()\n{indent}}}\n"
            ));
            sites.push(Site {
                file: file.to_string(),
                function,
                task,
                todo_line: lines_out + 2,
            });
            lines_out += 3;
        } else {
            out.push_str(line);
            lines_out += 1;
        }
    }
    if open.is_some() {
        return Err("a BEGIN SOLUTION is never closed".into());
    }
    Ok(out)
}

/// The type an `impl` line (at the start of a line) is for: `Rc` for `impl<T> Drop for Rc<T> {`.
fn impl_type(line: &str) -> Option<String> {
    let rest = line.strip_prefix("impl")?;
    // Skip the impl's own generics, which may hold `for` in a bound.
    let rest = if rest.starts_with('<') {
        let mut depth = 0;
        let end = rest.char_indices().find_map(|(i, c)| {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(i + 1)
        })?;
        &rest[end..]
    } else {
        rest
    };
    let ty = match rest.split_once(" for ") {
        Some((_, ty)) => ty,
        None => rest,
    };
    let name: String = ty
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The name of the function a line declares, if it declares one.
fn function_name(line: &str) -> Option<String> {
    let at = line.find("fn ")?;
    let before = &line[..at];
    let declares = before.is_empty()
        || before.ends_with(' ')
            && before
                .split_whitespace()
                .all(|w| ["pub", "pub(crate)", "const", "unsafe", "async", "extern"].contains(&w));
    if !declares || line.starts_with("//") {
        return None;
    }
    let name: String = line[at + 3..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// What breaks the rules, one problem per line.
pub fn problems(lab: &Lab, analysis: &Analysis) -> Vec<String> {
    let mut problems = Vec::new();
    let total: u32 = lab.meta.tests.iter().map(|t| t.points).sum();
    let name = |i: &usize| analysis.sites[*i].name();
    for row in &analysis.rows {
        if let Some(problem) = &row.problem {
            problems.push(format!(
                "`{}` does not pass with every TODO site it reaches solved: {problem}",
                row.test
            ));
        }
        if row.new_sites.len() > MAX_NEW_SITES {
            let names: Vec<String> = row.new_sites.iter().map(name).collect();
            problems.push(format!(
                "`{}` needs {} new TODO sites (at most {MAX_NEW_SITES}): {}",
                row.test,
                row.new_sites.len(),
                names.join(", ")
            ));
        }
    }
    for (site, points, tests) in unlocked(analysis) {
        if total > 0 && points * 100 > total * MAX_UNLOCK_PERCENT {
            problems.push(format!(
                "solving {} unlocks {points} of {total} points ({}%, more than about a tenth): {}",
                analysis.sites[site].name(),
                points * 100 / total,
                tests.join(", ")
            ));
        }
    }
    problems
}

/// Per site that unlocks anything: (site, points, tests), in the order of the sites.
fn unlocked(analysis: &Analysis) -> Vec<(usize, u32, Vec<String>)> {
    let mut by_site: BTreeMap<usize, (u32, Vec<String>)> = BTreeMap::new();
    for row in &analysis.rows {
        if let Some(site) = row.unlocked_by {
            let entry = by_site.entry(site).or_default();
            entry.0 += row.points;
            entry.1.push(row.test.clone());
        }
    }
    by_site
        .into_iter()
        .map(|(site, (points, tests))| (site, points, tests))
        .collect()
}

/// The staircase for people: one line per test with its points and the sites it adds.
pub fn table(analysis: &Analysis) -> String {
    let width = analysis
        .rows
        .iter()
        .map(|r| r.test.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (number, row) in analysis.rows.iter().enumerate() {
        let sites: Vec<String> = row
            .new_sites
            .iter()
            .map(|i| analysis.sites[*i].name())
            .collect();
        let sites = if sites.is_empty() {
            "-".to_string()
        } else {
            sites.join(", ")
        };
        let _ = writeln!(
            out,
            "{:>3}  {:<width$}  {:>2} pts  {}",
            number + 1,
            row.test,
            row.points,
            sites
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_becomes_a_switch_and_its_todo_line_is_known() {
        let solution = "pub fn one() -> u32 {\n    // BEGIN SOLUTION: return one.\n    1\n    \
                        // END SOLUTION\n}\n\npub(crate) fn two(x: u32) -> u32 {\n    let y = x;\n    \
                        // BEGIN SOLUTION: double it.\n    y * 2\n    // END SOLUTION\n}\n";
        let mut sites = Vec::new();
        let variant = instrument(solution, "a.rs", &mut sites).unwrap();
        assert_eq!(
            variant,
            "pub fn one() -> u32 {\n    if crate::__gclabs_steps::solved(0) {\n    1\n    } else {\n        \
             todo!()\n    }\n}\n\npub(crate) fn two(x: u32) -> u32 {\n    let y = x;\n    \
             if crate::__gclabs_steps::solved(1) {\n    y * 2\n    } else {\n        todo!()\n    }\n}\n"
        );
        let lines: Vec<&str> = variant.lines().collect();
        for site in &sites {
            assert_eq!(lines[site.todo_line - 1].trim(), "todo!()", "{site:?}");
        }
        assert_eq!(
            sites.iter().map(Site::name).collect::<Vec<_>>(),
            ["a.rs: one", "a.rs: two"]
        );
        assert_eq!(sites[1].task, "double it.");
    }

    #[test]
    fn a_site_that_unlocks_too_much_is_named() {
        let site = |f: &str| Site {
            file: "a.rs".into(),
            function: f.into(),
            task: String::new(),
            todo_line: 0,
        };
        let row = |test: &str, points, new_sites: Vec<usize>, unlocked_by| Row {
            test: test.into(),
            points,
            new_sites,
            unlocked_by: Some(unlocked_by),
            problem: None,
        };
        let analysis = Analysis {
            sites: vec![site("first"), site("second"), site("third"), site("fourth")],
            rows: vec![
                row("small", 10, vec![0], 0),
                row("three_at_once", 10, vec![1, 2, 3], 3),
                row("rides_along", 80, vec![], 3),
            ],
        };
        let lab = Lab {
            lab_dir: "labs/01-x".into(),
            solution_dir: "solutions/01-x".into(),
            package: "x".into(),
            solution_package: None,
            meta: toml::from_str(
                "number = 1\ntitle = \"x\"\nchapter = \"x.md\"\n\
                 [[test]]\nname = \"small\"\npoints = 10\nsection = \"x.md#a\"\nhints = [\"h\"]\n\
                 [[test]]\nname = \"three_at_once\"\npoints = 10\nsection = \"x.md#a\"\nhints = [\"h\"]\n\
                 [[test]]\nname = \"rides_along\"\npoints = 80\nsection = \"x.md#a\"\nhints = [\"h\"]\n",
            )
            .unwrap(),
        };
        let problems = problems(&lab, &analysis);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`three_at_once` needs 3 new TODO sites"));
        assert!(
            problems[1].contains("solving a.rs: fourth unlocks 90 of 100 points (90%"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_type_of_an_impl_is_its_self_type() {
        assert_eq!(impl_type("impl<T> Drop for Rc<T> {"), Some("Rc".into()));
        assert_eq!(impl_type("impl<T> Rc<T> {"), Some("Rc".into()));
        assert_eq!(impl_type("impl Heap {"), Some("Heap".into()));
        assert_eq!(
            impl_type("impl<T: for<'a> Fn(&'a u8)> Clone for Weak<T> {"),
            Some("Weak".into())
        );
    }

    #[test]
    fn function_names_are_found_on_declarations_only() {
        assert_eq!(
            function_name("pub fn new(value: T) -> Rc<T> {"),
            Some("new".into())
        );
        assert_eq!(function_name("unsafe fn raw() {"), Some("raw".into()));
        assert_eq!(function_name("let f = move |x| x;"), None);
        assert_eq!(function_name("// the fn keyword"), None);
        assert_eq!(function_name("self.refn(x)"), None);
    }
}
