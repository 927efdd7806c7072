//! Tamper evidence, `--pristine` and `--submission`.
//!
//! **Which list.** A lab's graded files are checked against the first checksum list
//! (`labs/checksums.txt`) that knows the lab, looking in: the folder given with
//! `--pristine-from`, then the course the command was run in (an instructor's own checkout, when
//! `--root` points at a learner's), then the checkout being graded. A learner could edit the list
//! in their own checkout as well as a test; the instructor's copy is the one to trust.
//!
//! **What is reported.** For each lab: the graded files that differ from the list, the ones that
//! are missing, and the files added under `tests/` (an added file could hold a test with a graded
//! test's name).
//!
//! **`--pristine`.** The learner's files are never written. The grader copies the checkout (all
//! but `.git` and `target` folders) to `<target>/gclabs-pristine/course`, where `<target>` is
//! `$CARGO_TARGET_DIR` or the checkout's `target/`, puts the original of every graded file in
//! the copy, removes the added test files, and grades the copy. The whole workspace is copied, not
//! only the lab, because a lab depends on the workspace (its manifest inherits from it, its tests
//! use `testkit` and the reference crates), and because the solutions' `[[test]] path =
//! "../../labs/…"` must keep pointing at the lab's tests: inside the copy they point at the copy's
//! pristine tests. The copy stays between runs and is updated file by file (a file is rewritten
//! only when its content changed, so cargo rebuilds only what changed), under a lock, so two runs
//! never share it at once.
//!
//! **Where the originals come from.** A graded file of the copy is taken, in order, from the
//! learner's file when it is unchanged, the same path under `--pristine-from`, the same path in
//! the course the command was run in, and `git cat-file blob <id>` in the graded checkout, that
//! course or `--pristine-from`. Each candidate is accepted only if its git blob id is the
//! listed one.
//!
//! **`--submission DIR`** grades the `src/` folders found in DIR (a learner's repository, a lab
//! folder, or a lab's `src/`) in such a copy of the course: everything but the selected labs'
//! `src/` comes from the course. This is what the Gradescope autograder runs.
//!
//! This is about the tests being the course's. What a learner's code can do while it runs is
//! `identity.rs`'s and `sandbox.rs`'s matter; docs/classroom.md says what remains outside the
//! grader's reach.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::course::checksums::git_blob_id;
use crate::course::checksums::{self, Entry};
use crate::course::labs::LabMeta;

/// How a graded file of the learner's checkout differs from the course's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The content is not the listed one.
    Differs,
    /// The file is not there.
    Missing,
    /// A file under the lab's `tests/` that the list does not name.
    Added,
}

impl ChangeKind {
    /// A stable word for machine-readable output.
    pub fn status(self) -> &'static str {
        match self {
            ChangeKind::Differs => "differs",
            ChangeKind::Missing => "missing",
            ChangeKind::Added => "added",
        }
    }
    /// What happened, for people.
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::Differs => "differs from the course's original",
            ChangeKind::Missing => "is missing",
            ChangeKind::Added => "was added (not a graded file of the course)",
        }
    }
}

/// One changed graded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its path relative to the checkout, `labs/NN-name/...`.
    pub path: String,
    /// How it changed.
    pub kind: ChangeKind,
}

/// What the grader found out about the graded files of the checkout it graded.
#[derive(Debug, Clone, Default)]
pub struct Integrity {
    /// Changed graded files by lab folder (`01-refcount`); course files outside any lab folder
    /// are under the empty name. A lab with no change is absent.
    pub changes: BTreeMap<String, Vec<Change>>,
    /// Lab folders that no checksum list knows, so that nothing could be checked.
    pub unchecked: Vec<String>,
    /// Whether the grade used the originals (`--pristine` or `--submission`).
    pub pristine: bool,
    /// The checksum list used for each lab folder.
    pub lists: BTreeMap<String, PathBuf>,
    /// Checksum lists that could not be read, and why.
    pub problems: Vec<String>,
}

impl Integrity {
    /// The changes in lab folder `dir` (the file name of `Lab::lab_dir`).
    pub fn changes_in(&self, dir: &Path) -> &[Change] {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        self.changes.get(name.as_ref()).map_or(&[], Vec::as_slice)
    }
    /// Every change, course-wide ones first.
    pub fn all(&self) -> impl Iterator<Item = &Change> {
        self.changes.values().flatten()
    }
}

/// What `grade` needs to know to prepare the checkout it grades.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Grade with the original graded files.
    pub pristine: bool,
    /// A folder holding the course's original files (a fresh clone, say).
    pub pristine_from: Option<PathBuf>,
    /// A submission whose labs' `src/` folders are graded in a copy of the course.
    pub submission: Option<PathBuf>,
    /// The selected lab numbers (all when empty).
    pub labs: Vec<u32>,
}

/// The checkout to grade: the learner's own, or a prepared copy.
pub struct Course {
    root: PathBuf,
    /// The tamper check's findings.
    pub integrity: Integrity,
    /// Held while the copy is in use.
    _lock: Option<File>,
}

impl Course {
    /// Where to build and run the tests.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks the graded files of `root` and, when asked, prepares a copy with the originals (and
    /// the submission's sources).
    pub fn prepare(root: &Path, request: &Request) -> Result<Course, String> {
        let sources = Sources::new(root, request.pristine_from.as_deref())?;
        let (mut integrity, expected) = inspect(root, &sources)?;
        let pristine = request.pristine || request.submission.is_some();
        if let Some(problem) = integrity.problems.first() {
            if pristine {
                return Err(format!("cannot grade with the original tests: {problem}"));
            }
            // Grading goes on without the check: a broken list must not stop a learner.
            eprintln!("warning: the graded files were not checked: {problem}");
        }
        if !pristine {
            return Ok(Course {
                root: root.to_path_buf(),
                integrity,
                _lock: None,
            });
        }
        integrity.pristine = true;
        let base = target_dir(root).join("gclabs-pristine");
        fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        let lock = lock(&base.join("lock"))?;
        let copy = base.join("course");
        let mut plan = Plan::default();
        plan.add_tree(root, root, &[&base, &target_dir(root)])?;
        let differs = |entry: &Entry| {
            let current = fs::read(root.join(&entry.path)).ok();
            current.as_deref().map(git_blob_id).as_deref() != Some(entry.id.as_str())
        };
        // The labs' numbers, from the original lab.toml where there is one (a learner could have
        // renumbered a lab), to know which labs are graded.
        for entry in expected.iter().filter(|e| e.path.ends_with("/lab.toml")) {
            if differs(entry)
                && let Ok(original) = sources.original(entry)
            {
                plan.files.insert(entry.path.clone(), Src::Bytes(original));
            }
        }
        let selected: Vec<(u32, String)> = plan
            .labs()?
            .into_iter()
            .filter(|(n, _)| request.labs.is_empty() || request.labs.contains(n))
            .collect();
        for (number, dir) in &selected {
            if !integrity.lists.contains_key(dir.as_str()) {
                return Err(format!(
                    "lab {number} (labs/{dir}) cannot be graded with its original tests: no \
                     checksum list knows it (looked for {} in {}). Run `cargo xtask checksums` in \
                     the course, or grade without --pristine.",
                    checksums::LIST,
                    sources.dirs_text()
                ));
            }
        }
        // The originals of the graded labs' files (and of course files outside the labs), where
        // the learner's differ; the test files the learner added go. Labs not graded stay as
        // they are.
        let graded = |dir: Option<&str>| dir.is_none_or(|d| selected.iter().any(|(_, s)| s == d));
        for entry in expected.iter().filter(|e| graded(e.lab_dir())) {
            if differs(entry) {
                let original = sources.original(entry)?;
                plan.files.insert(entry.path.clone(), Src::Bytes(original));
            }
        }
        for change in integrity.all() {
            if change.kind == ChangeKind::Added && graded(checksums::lab_dir_of(&change.path)) {
                plan.files.remove(&change.path);
            }
        }
        if let Some(submission) = &request.submission {
            let dirs: Vec<&str> = selected.iter().map(|(_, d)| d.as_str()).collect();
            for dir in &dirs {
                let src = find_src(submission, dir, dirs.len() == 1)?;
                let prefix = format!("labs/{dir}/src/");
                plan.files.retain(|p, _| !p.starts_with(&prefix));
                plan.add_submission(&src, &prefix)?;
            }
        }
        plan.sync(&copy)?;
        Ok(Course {
            root: copy,
            integrity,
            _lock: Some(lock),
        })
    }
}

/// The places originals and checksum lists are looked for.
struct Sources {
    root: PathBuf,
    /// `--pristine-from`, then the course the command runs in, then the graded checkout; no
    /// repeats.
    dirs: Vec<PathBuf>,
}

impl Sources {
    fn new(root: &Path, pristine_from: Option<&Path>) -> Result<Sources, String> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = pristine_from {
            let dir = dir.canonicalize().map_err(|e| {
                format!(
                    "the folder given with --pristine-from ({}) cannot be used: {e}",
                    dir.display()
                )
            })?;
            // Without labs/ it holds no original and no checksum list: grading would go on with
            // the other sources as if the option had not been given.
            if !dir.join("labs").is_dir() {
                return Err(format!(
                    "the folder given with --pristine-from ({}) has no labs/ folder, so it holds \
                     none of the course's graded files. Give it a clean copy of the course (a \
                     fresh clone will do).",
                    dir.display()
                ));
            }
            dirs.push(dir);
        }
        if let Some(home) = crate::course::labs::home() {
            dirs.push(home);
        }
        dirs.push(root.to_path_buf());
        let mut seen = BTreeSet::new();
        dirs.retain(|d| seen.insert(d.clone()));
        Ok(Sources {
            root: root.to_path_buf(),
            dirs,
        })
    }

    fn dirs_text(&self) -> String {
        let names: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        names.join(", ")
    }

    /// The original content of a listed file, checked against its id.
    fn original(&self, entry: &Entry) -> Result<Vec<u8>, String> {
        for dir in &self.dirs {
            if let Ok(bytes) = fs::read(dir.join(&entry.path))
                && git_blob_id(&bytes) == entry.id
            {
                return Ok(bytes);
            }
        }
        let mut git_notes = Vec::new();
        let mut git_dirs = vec![self.root.clone()];
        git_dirs.extend(self.dirs.iter().filter(|d| **d != self.root).cloned());
        for dir in &git_dirs {
            match git_blob(dir, &entry.id) {
                Ok(bytes) if git_blob_id(&bytes) == entry.id => return Ok(bytes),
                Ok(_) => git_notes.push(format!("{}: git gave other content", dir.display())),
                // The usual case: a repository without that blob. Anything else is worth saying.
                Err(e) if e.contains("bad file") || e.contains("Not a valid object") => {}
                Err(e) => git_notes.push(format!("{}: {e}", dir.display())),
            }
        }
        let notes = if git_notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", git_notes.join("; "))
        };
        Err(format!(
            "cannot grade with the original tests: the original of {} (git blob {}) is in none \
             of {}, nor in their git history{notes}. Give a clean copy of the course with \
             --pristine-from DIR (a fresh clone will do).",
            entry.path,
            &entry.id[..12.min(entry.id.len())],
            self.dirs_text(),
        ))
    }
}

/// `git -C dir cat-file blob <id>`.
fn git_blob(dir: &Path, id: &str) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "blob", id])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run git ({e})"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(err
            .lines()
            .next()
            .unwrap_or("git failed")
            .trim()
            .to_string())
    }
}

/// Compares the graded files of `root` with the lists. Returns the findings and every entry that
/// applies to `root` (the files a pristine copy must hold).
fn inspect(root: &Path, sources: &Sources) -> Result<(Integrity, Vec<Entry>), String> {
    let mut lists: Vec<(PathBuf, Vec<Entry>)> = Vec::new();
    let mut integrity = Integrity::default();
    for dir in &sources.dirs {
        match checksums::read(dir) {
            Ok(Some(entries)) => lists.push((dir.join(checksums::LIST), entries)),
            Ok(None) => {}
            Err(e) => integrity.problems.push(e),
        }
    }
    let mut expected: Vec<Entry> = Vec::new();
    let mut used = BTreeSet::new();
    for dir in lab_dirs(root)? {
        let found = lists
            .iter()
            .enumerate()
            .find(|(_, (_, entries))| entries.iter().any(|e| e.lab_dir() == Some(dir.as_str())));
        let Some((index, (list, entries))) = found else {
            integrity.unchecked.push(dir);
            continue;
        };
        used.insert(index);
        integrity.lists.insert(dir.clone(), list.clone());
        expected.extend(
            entries
                .iter()
                .filter(|e| e.lab_dir() == Some(dir.as_str()))
                .cloned(),
        );
        // Files added under tests/.
        let listed: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut found = Vec::new();
        files_under(&root.join("labs").join(&dir).join("tests"), &mut found)?;
        for file in found {
            let rel = checksums::relative(root, &file)?;
            if !listed.contains(rel.as_str()) {
                integrity
                    .changes
                    .entry(dir.clone())
                    .or_default()
                    .push(Change {
                        path: rel,
                        kind: ChangeKind::Added,
                    });
            }
        }
    }
    // Course files outside any lab folder, from each list in use.
    let mut seen = BTreeSet::new();
    for index in used {
        for e in lists[index].1.iter().filter(|e| e.lab_dir().is_none()) {
            if seen.insert(e.path.clone()) {
                expected.push(e.clone());
            }
        }
    }
    for entry in &expected {
        let kind = match fs::read(root.join(&entry.path)) {
            Err(_) => Some(ChangeKind::Missing),
            Ok(bytes) if git_blob_id(&bytes) != entry.id => Some(ChangeKind::Differs),
            Ok(_) => None,
        };
        if let Some(kind) = kind {
            let lab = entry.lab_dir().unwrap_or_default().to_string();
            integrity.changes.entry(lab).or_default().push(Change {
                path: entry.path.clone(),
                kind,
            });
        }
    }
    for changes in integrity.changes.values_mut() {
        changes.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok((integrity, expected))
}

/// The folders under `root/labs`.
fn lab_dirs(root: &Path) -> Result<Vec<String>, String> {
    let labs = root.join("labs");
    let entries =
        fs::read_dir(&labs).map_err(|e| format!("cannot read {}: {e}", labs.display()))?;
    let mut dirs = Vec::new();
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            dirs.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Every file under `dir`, symbolic links included (not followed); nothing when `dir` is absent.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Where cargo builds for `root`: `$CARGO_TARGET_DIR`, or `root/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir().unwrap_or_default().join(dir)
            }
        }
        _ => root.join("target"),
    }
}

/// The target folder for the grader's builds of `root`, when it must not be cargo's choice.
///
/// Cargo fingerprints a workspace member by its path *relative to the workspace* and by file
/// times, so two checkouts of the course building into one shared `CARGO_TARGET_DIR` reuse each
/// other's builds whenever one's files are older than the other's build: a learner's stubs would
/// be graded with another checkout's test binaries (and two graders at once would overwrite each
/// other's). So when `CARGO_TARGET_DIR` is set, every checkout (the learner's, a copy of it, the
/// pristine copy, a fixture) builds in a folder of its own under it,
/// `gclabs-checkouts/<name>-<hash of its path>`. Without `CARGO_TARGET_DIR`, each checkout has its
/// own `target/` anyway: `None`.
pub fn build_target_dir(root: &Path) -> Option<PathBuf> {
    let shared = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty())?;
    let here = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let shared = PathBuf::from(shared);
    let shared = if shared.is_absolute() {
        shared
    } else {
        std::env::current_dir().unwrap_or_default().join(shared)
    };
    let name = here.file_name().unwrap_or_default().to_string_lossy();
    let hash = git_blob_id(here.as_os_str().as_encoded_bytes());
    Some(
        shared
            .join("gclabs-checkouts")
            .join(format!("{name}-{}", &hash[..12])),
    )
}

/// The folder cargo builds `root` in for the grader: [`build_target_dir`], or cargo's own choice.
pub fn builds_of(root: &Path) -> PathBuf {
    build_target_dir(root).unwrap_or_else(|| target_dir(root))
}

/// Takes the lock on the builds of the checkout at `root`, waiting for another grader of the same
/// checkout to finish: two grades at once (a `watch` and a `grade`, say) would rebuild and clean
/// the binaries the other is running. Held until the returned file is dropped.
pub fn lock_builds(root: &Path) -> Result<File, String> {
    let dir = builds_of(root).join("gclabs");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    lock(&dir.join("grade.lock"))
}

/// Takes an exclusive lock on `path` (created if needed), waiting for another grader that holds
/// it; released when the file is closed.
fn lock(path: &Path) -> Result<File, String> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let fd = file.as_raw_fd();
    // SAFETY: flock has no memory-safety preconditions; `fd` is open for the call's duration.
    if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        eprintln!(
            "  waiting for another grader that uses {} ...",
            path.parent().unwrap_or(path).display()
        );
        // SAFETY: as above.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(format!(
                "cannot lock {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(file)
}

/// Makes `dest` a copy of the course at `root` (as [`course_files`] takes it), except that the
/// files under `replaced` (a folder path relative to the course, ending in `/`) are `files`
/// instead: (path relative to the course, content). Only files whose content changed are written,
/// so cargo rebuilds only what changed; the copy's `target/` stays. Under a lock on `dest`.
pub fn mirror(
    root: &Path,
    dest: &Path,
    replaced: &str,
    files: Vec<(String, Vec<u8>)>,
) -> Result<File, String> {
    fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let lock = lock(&dest.with_extension("lock"))?;
    let mut plan = Plan::default();
    let target = target_dir(root);
    plan.add_tree(root, root, &[&target])?;
    plan.files.retain(|path, _| !path.starts_with(replaced));
    for (path, bytes) in files {
        plan.files.insert(path, Src::Bytes(bytes));
    }
    plan.sync(dest)?;
    Ok(lock)
}

/// The files of the course at `root` as a copy or a bundle takes them: every file but those in
/// `.git` and `target` folders, `book/build` and the paths in `skip`; `(relative path, path)`.
pub fn course_files(root: &Path, skip: &[&Path]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut plan = Plan::default();
    plan.add_tree(root, root, skip)?;
    Ok(plan
        .files
        .into_iter()
        .filter_map(|(rel, src)| match src {
            Src::File(path) => Some((rel, path)),
            Src::Bytes(_) => None,
        })
        .collect())
}

/// Where each file of the copy comes from.
enum Src {
    File(PathBuf),
    Bytes(Vec<u8>),
}

impl Src {
    fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Src::File(p) => fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display())),
            Src::Bytes(b) => Ok(b.clone()),
        }
    }
}

/// The copy's files, by path relative to its root.
#[derive(Default)]
struct Plan {
    files: BTreeMap<String, Src>,
}

impl Plan {
    /// Adds every file under `dir` but `.git`, cargo's `target` folders, `book/build` and `skip`.
    fn add_tree(&mut self, root: &Path, dir: &Path, skip: &[&Path]) -> Result<(), String> {
        let entries =
            fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if skip.iter().any(|s| *s == path) {
                continue;
            }
            if kind.is_dir() {
                if name == ".git"
                    || is_cargo_target(&path)
                    || path == root.join("book").join("build")
                {
                    continue;
                }
                self.add_tree(root, &path, skip)?;
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                let rel = checksums::relative(root, &path)?;
                self.files.insert(rel, Src::File(path));
            }
        }
        Ok(())
    }

    /// Adds the regular files of a submitted `src` folder under `prefix`. Symbolic links and
    /// cargo's `target` folders are left out: only sources are graded.
    fn add_submission(&mut self, src: &Path, prefix: &str) -> Result<(), String> {
        for path in source_files(src)? {
            let rel = checksums::relative(src, &path)?;
            self.files.insert(format!("{prefix}{rel}"), Src::File(path));
        }
        Ok(())
    }

    /// The labs of the copy: (number, folder), read from the `lab.toml`s it will hold.
    fn labs(&self) -> Result<Vec<(u32, String)>, String> {
        let mut labs = Vec::new();
        for (path, src) in &self.files {
            let Some(dir) = checksums::lab_dir_of(path) else {
                continue;
            };
            if *path != format!("labs/{dir}/lab.toml") {
                continue;
            }
            let text =
                String::from_utf8(src.read()?).map_err(|_| format!("{path} is not UTF-8 text"))?;
            let meta: LabMeta =
                toml::from_str(&text).map_err(|e| format!("{path} is not valid: {e}"))?;
            labs.push((meta.number, dir.to_string()));
        }
        Ok(labs)
    }

    /// Makes `dest` hold exactly the planned files (its `target/` aside), rewriting only the
    /// files whose content differs.
    fn sync(&self, dest: &Path) -> Result<(), String> {
        fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        let mut present = Vec::new();
        list_copy(dest, &mut present)?;
        for path in &present {
            let rel = checksums::relative(dest, path)?;
            if !self.files.contains_key(&rel) {
                fs::remove_file(path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
        }
        remove_empty_dirs(dest, dest);
        for (rel, src) in &self.files {
            let target = dest.join(rel);
            let bytes = src.read()?;
            if fs::symlink_metadata(&target).is_ok_and(|m| m.is_file())
                && fs::read(&target).is_ok_and(|old| old == bytes)
            {
                continue;
            }
            if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                fs::remove_dir_all(&target)
                    .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
            }
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let _ = fs::remove_file(&target);
            fs::write(&target, bytes)
                .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
        Ok(())
    }
}

/// The regular files under `dir`, cargo's `target` folders and symbolic links left out.
pub fn source_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && !is_cargo_target(&path) {
                stack.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Whether `path` is a cargo build folder: named `target`, and tagged by cargo or beside a
/// manifest. A source folder that happens to be called `target` is not one.
fn is_cargo_target(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "target")
        && (path.join("CACHEDIR.TAG").is_file()
            || path
                .parent()
                .is_some_and(|p| p.join("Cargo.toml").is_file()))
}

/// The files of a copy, its `target` folders aside.
fn list_copy(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if !is_cargo_target(&path) {
                list_copy(&path, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Removes the empty folders under `dir` (a lab folder left without its files would be a
/// workspace member without a manifest). Returns whether `dir` itself is now empty.
fn remove_empty_dirs(root: &Path, dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    let mut empty = true;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir())
            && !is_cargo_target(&path)
            && remove_empty_dirs(root, &path)
        {
            let _ = fs::remove_dir(&path);
        } else {
            empty = false;
        }
    }
    empty && dir != root
}

/// The layouts `--submission` accepts, for messages and the docs.
pub const LAYOUTS: &str = concat!(
    "  - the course repository: labs/NN-name/src/ (also inside one top folder, as GitHub's zip\n",
    "    has it)\n",
    "  - the lab's folder: NN-name/src/\n",
    "  - the lab's src/ folder: src/lib.rs (only when one lab is graded)\n",
    "  - the files of the lab's src/ folder: lib.rs at the top (only when one lab is graded)",
);

/// Finds the `src/` folder of lab folder `dir` in a submission.
fn find_src(submission: &Path, dir: &str, single: bool) -> Result<PathBuf, String> {
    let mut candidates = vec![
        submission.join("labs").join(dir).join("src"),
        submission.join(dir).join("src"),
    ];
    // A repository inside one top folder (`gclabs-main/labs/...`).
    if let Ok(entries) = fs::read_dir(submission) {
        let mut tops: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        tops.sort();
        for top in tops {
            candidates.push(top.join("labs").join(dir).join("src"));
            candidates.push(top.join(dir).join("src"));
        }
    }
    if single {
        candidates.push(submission.join("src"));
        candidates.push(submission.to_path_buf());
    }
    if let Some(found) = candidates.into_iter().find(|c| c.join("lib.rs").is_file()) {
        return Ok(found);
    }
    let mut seen: Vec<String> = fs::read_dir(submission)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        format!("{name}/")
                    } else {
                        name
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    seen.sort();
    let shown = if seen.is_empty() {
        "nothing".to_string()
    } else {
        let more = seen.len().saturating_sub(12);
        let mut text = seen.into_iter().take(12).collect::<Vec<_>>().join(", ");
        if more > 0 {
            text.push_str(&format!(" and {more} more"));
        }
        text
    };
    // A lab's src/ (or its files) at the top names no lab: it is taken only when one is graded.
    let unnamed =
        !single && (submission.join("src/lib.rs").is_file() || submission.join("lib.rs").is_file());
    let why = if unnamed {
        " Its lib.rs is in no lab's folder, and several labs are graded: such a src/ is taken \
         only when one lab is graded (--lab N). Otherwise put each lab's src/ in its folder \
         (NN-name/src/)."
    } else {
        ""
    };
    Err(format!(
        "the submission has no src/lib.rs for labs/{dir}. It holds: {shown}.{why}\n\
         Accepted layouts (each needs the lab's src/lib.rs):\n{LAYOUTS}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gclabs-pristine-test-{}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn sync_rewrites_only_what_changed_and_removes_the_rest() {
        let dir = temp("sync");
        let dest = dir.join("copy");
        let mut plan = Plan::default();
        plan.files
            .insert("a/keep.txt".into(), Src::Bytes(b"same".to_vec()));
        plan.files
            .insert("a/new.txt".into(), Src::Bytes(b"new".to_vec()));
        fs::create_dir_all(dest.join("a")).unwrap();
        fs::create_dir_all(dest.join("gone/deeper")).unwrap();
        fs::create_dir_all(dest.join("target/debug")).unwrap();
        fs::write(dest.join("a/keep.txt"), "same").unwrap();
        fs::write(dest.join("gone/deeper/old.txt"), "old").unwrap();
        fs::write(dest.join("target/debug/artifact"), "kept").unwrap();
        fs::write(dest.join("target/CACHEDIR.TAG"), "").unwrap();
        let before = fs::metadata(dest.join("a/keep.txt"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        plan.sync(&dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("a/new.txt")).unwrap(), "new");
        assert_eq!(
            fs::metadata(dest.join("a/keep.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            before,
            "an unchanged file keeps its time, so cargo does not rebuild it"
        );
        assert!(!dest.join("gone").exists(), "emptied folders are removed");
        assert!(dest.join("target/debug/artifact").exists(), "target/ stays");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_cargos_target_folders_are_build_output() {
        let dir = temp("targets");
        fs::create_dir_all(dir.join("crate/target")).unwrap();
        fs::write(dir.join("crate/Cargo.toml"), "").unwrap();
        fs::create_dir_all(dir.join("crate/src/target")).unwrap();
        fs::create_dir_all(dir.join("elsewhere/target")).unwrap();
        fs::write(dir.join("elsewhere/target/CACHEDIR.TAG"), "").unwrap();
        assert!(is_cargo_target(&dir.join("crate/target")));
        assert!(is_cargo_target(&dir.join("elsewhere/target")));
        assert!(
            !is_cargo_target(&dir.join("crate/src/target")),
            "a module folder"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn submission_layouts_are_found() {
        let dir = temp("layouts");
        let lab = "01-refcount";
        // The whole repository, inside a top folder as GitHub's zip has it.
        let repo = dir.join("repo");
        fs::create_dir_all(repo.join("gclabs-main/labs/01-refcount/src")).unwrap();
        fs::write(repo.join("gclabs-main/labs/01-refcount/src/lib.rs"), "").unwrap();
        assert_eq!(
            find_src(&repo, lab, false).unwrap(),
            repo.join("gclabs-main/labs/01-refcount/src")
        );
        // A bare src/ folder: only for one lab.
        let bare = dir.join("bare");
        fs::create_dir_all(bare.join("src")).unwrap();
        fs::write(bare.join("src/lib.rs"), "").unwrap();
        assert_eq!(find_src(&bare, lab, true).unwrap(), bare.join("src"));
        let err = find_src(&bare, lab, false).unwrap_err();
        assert!(err.contains("It holds: src/."), "{err}");
        // The files of src/ at the top.
        let flat = dir.join("flat");
        fs::create_dir_all(&flat).unwrap();
        fs::write(flat.join("lib.rs"), "").unwrap();
        assert_eq!(find_src(&flat, lab, true).unwrap(), flat);
        // Nothing usable: the message lists what is there and what is accepted.
        let empty = dir.join("empty");
        fs::create_dir_all(&empty).unwrap();
        fs::write(empty.join("README.md"), "").unwrap();
        let err = find_src(&empty, lab, true).unwrap_err();
        assert!(err.contains("It holds: README.md."), "{err}");
        assert!(err.contains("labs/NN-name/src/"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
