//! The checksum list of the graded files (`labs/checksums.txt`), and `cargo xtask checksums`.
//!
//! A lab's graded files are what decides its grade and is not the learner's to change: its
//! `lab.toml`, every file under its `tests/`, and every file those tests include
//! (`include_str!`, `include_bytes!`, `include!`, `#[path]`), such as lab 02's traces. The list
//! names each by its git blob id, one `<id>  <path>` line each, so that:
//!
//! - the grader can say which graded files of a learner's copy differ, are missing or were added
//!   (see `pristine.rs`);
//! - `--pristine` can find the originals, in the course checkout or with `git cat-file blob <id>`
//!   in any clone;
//! - `cargo test` notices when a maintainer changed a test without updating the list (the contract,
//!   `cargo xtask check`, compares it with the files).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::course::labs;

/// The git blob id of `content`: `sha1("blob <len>\0" + content)`, what `git hash-object` prints.
///
/// The checksum list names each graded file this way so that the original of a file a learner
/// changed can be found with `git cat-file blob <id>` in any clone of the course. SHA-1 is broken
/// for signatures, but the list does not defend against someone forging a collision: it notices
/// edits, and git names blobs this way.
pub fn git_blob_id(content: &[u8]) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    hasher.digest().to_string()
}

/// Where the list lives, relative to the course root.
pub const LIST: &str = "labs/checksums.txt";

const HEADER: &str = "\
# The graded files of each lab as the course ships them: the git blob id of each (what
# `git hash-object FILE` prints) and its path. The grader compares a learner's files with this
# list and says which differ; `cargo xtask grade --pristine` grades with these originals, found in
# the course checkout or with `git cat-file blob <id>`. Written by `cargo xtask checksums`;
# `cargo test` fails when it no longer matches the files.
";

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The git blob id, 40 lower-case hexadecimal digits.
    pub id: String,
    /// The path relative to the course root, with `/` separators.
    pub path: String,
}

impl Entry {
    /// The lab folder's name (`01-refcount` for `labs/01-refcount/tests/rc.rs`).
    pub fn lab_dir(&self) -> Option<&str> {
        lab_dir_of(&self.path)
    }
}

/// The lab folder's name of a path under `labs/`.
pub fn lab_dir_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("labs/")?;
    let (dir, _) = rest.split_once('/')?;
    Some(dir)
}

/// For the contract: the differences between the list on disk and the files, one line each,
/// empty when the list is current.
pub fn staleness(root: &Path) -> Result<Vec<String>, String> {
    let fresh = generate(root)?;
    let path = root.join(LIST);
    let problems = match fs::read_to_string(&path) {
        Ok(text) => compare(&parse(&text, &path)?, &fresh),
        Err(e) => vec![format!("cannot read {}: {e}", path.display())],
    };
    if problems.is_empty() {
        Ok(problems)
    } else {
        let mut out = problems;
        out.push("run `cargo xtask checksums` to rewrite the list".into());
        Ok(out)
    }
}

/// [`staleness`] for the lab folders `dirs` only: the lines of the list about them that do not
/// match their files.
pub fn staleness_of(root: &Path, dirs: &[String]) -> Result<Vec<String>, String> {
    let fresh = generate_for(root, Some(dirs))?;
    let Some(listed) = read(root)? else {
        return Ok(vec![format!(
            "{} does not exist",
            root.join(LIST).display()
        )]);
    };
    let listed: Vec<Entry> = listed
        .into_iter()
        .filter(|e| e.lab_dir().is_some_and(|d| dirs.iter().any(|n| n == d)))
        .collect();
    Ok(compare(&listed, &fresh))
}

/// The lines that differ between two lists, in words.
pub fn compare(old: &[Entry], new: &[Entry]) -> Vec<String> {
    let old: BTreeMap<&str, &str> = old
        .iter()
        .map(|e| (e.path.as_str(), e.id.as_str()))
        .collect();
    let new: BTreeMap<&str, &str> = new
        .iter()
        .map(|e| (e.path.as_str(), e.id.as_str()))
        .collect();
    let mut out = Vec::new();
    for (path, id) in &new {
        match old.get(path) {
            None => out.push(format!("{path}: new graded file, not in the list")),
            Some(old_id) if old_id != id => out.push(format!(
                "{path}: changed (listed {}, now {})",
                &old_id[..10.min(old_id.len())],
                &id[..10]
            )),
            Some(_) => {}
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        out.push(format!("{path}: listed, but no longer a graded file"));
    }
    out
}

/// The list for the course at `root`, from its files.
pub fn generate(root: &Path) -> Result<Vec<Entry>, String> {
    generate_for(root, None)
}

/// The list for the lab folders `dirs` (every lab when `None`).
fn generate_for(root: &Path, dirs: Option<&[String]>) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for path in graded_files(root, dirs)? {
        let full = root.join(&path);
        let content =
            fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        entries.push(Entry {
            id: git_blob_id(&content),
            path,
        });
    }
    Ok(entries)
}

/// The graded files of the labs at `root` (those with a `lab.toml`; only the folders `dirs` when
/// given), relative to `root`, sorted.
pub fn graded_files(root: &Path, dirs: Option<&[String]>) -> Result<Vec<String>, String> {
    let mut files = BTreeSet::new();
    for lab in labs::discover(root)? {
        let name = lab
            .lab_dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        if dirs.is_some_and(|d| !d.iter().any(|n| *n == name)) {
            continue;
        }
        files.insert(lab.lab_dir.join("lab.toml"));
        let tests = lab.lab_dir.join("tests");
        let mut found = Vec::new();
        walk(&tests, &mut found)?;
        let mut queue: Vec<PathBuf> = found.clone();
        files.extend(found);
        // The tests' includes, and theirs in turn when they are Rust.
        while let Some(file) = queue.pop() {
            if file.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            for included in includes(&text) {
                let dir = file.parent().unwrap_or(root);
                let target = normalize(&dir.join(&included));
                if !target.starts_with(root) {
                    return Err(format!(
                        "{} includes `{included}`, outside the course folder",
                        file.display()
                    ));
                }
                if !target.is_file() {
                    return Err(format!(
                        "{} includes `{included}`, which does not exist ({})",
                        file.display(),
                        target.display()
                    ));
                }
                if files.insert(target.clone()) {
                    queue.push(target);
                }
            }
        }
    }
    files
        .into_iter()
        .map(|f| relative(root, &f))
        .collect::<Result<Vec<_>, _>>()
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> Result<String, String> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| format!("{} is not inside {}", path.display(), root.display()))?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}

/// Every file under `dir` (none when it does not exist), following no symbolic link.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    paths.sort();
    for path in paths {
        let meta = fs::symlink_metadata(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The string paths a Rust file includes: `include_str!("…")`, `include_bytes!("…")`,
/// `include!("…")` and `#[path = "…"]`. A path built at compile time (`concat!`, `env!`) is not
/// seen; graded tests name their files literally.
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["include_str!(", "include_bytes!(", "include!(", "#[path ="] {
        let mut rest = text;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let trimmed = rest.trim_start();
            if let Some(literal) = trimmed.strip_prefix('"')
                && let Some(end) = literal.find('"')
            {
                out.push(literal[..end].to_string());
            }
        }
    }
    out
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The list's text.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::from(HEADER);
    for e in entries {
        out.push_str(&format!("{}  {}\n", e.id, e.path));
    }
    out
}

/// Parses a list; `path` is for error messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "{}:{}: expected `<40 hexadecimal digits>  <path>`, found `{line}`. \
                 `cargo xtask checksums` rewrites the list from the course's files.",
                path.display(),
                i + 1
            )
        };
        let (id, file) = line.split_once("  ").ok_or_else(bad)?;
        if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || file.is_empty() {
            return Err(bad());
        }
        entries.push(Entry {
            id: id.to_ascii_lowercase(),
            path: file.to_string(),
        });
    }
    Ok(entries)
}

/// Reads the list of the course at `root`: `None` when it has none.
pub fn read(root: &Path) -> Result<Option<Vec<Entry>>, String> {
    let path = root.join(LIST);
    match fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_ids_match_git() {
        // `git hash-object` of an empty file and of "hello world\n".
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(
            git_blob_id(b"hello world\n"),
            "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
        );
    }

    #[test]
    fn includes_are_found() {
        let text = r#"
            const A: &str = include_str!("../traces/one.trace");
            const B: &[u8] = include_bytes!( "data.bin");
            include!("common.rs");
            #[path = "helpers/mod.rs"]
            mod helpers;
            const C: &str = include_str!(concat!(env!("X"), "/y"));
        "#;
        let mut found = includes(text);
        found.sort();
        assert_eq!(
            found,
            [
                "../traces/one.trace",
                "common.rs",
                "data.bin",
                "helpers/mod.rs"
            ]
        );
    }

    #[test]
    fn parse_and_render_round_trip() {
        let entries = vec![
            Entry {
                id: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391".into(),
                path: "labs/01-a/lab.toml".into(),
            },
            Entry {
                id: "3b18e512dba79e4c8300dd08aeb37f8e728b8dad".into(),
                path: "labs/01-a/tests/x y.rs".into(),
            },
        ];
        let text = render(&entries);
        assert_eq!(parse(&text, Path::new("list")).unwrap(), entries);
        assert_eq!(entries[1].lab_dir(), Some("01-a"));
    }

    #[test]
    fn a_malformed_line_is_a_clear_error() {
        let err = parse("abc labs/x\n", Path::new("labs/checksums.txt")).unwrap_err();
        assert!(err.contains("labs/checksums.txt:1"), "{err}");
        assert!(err.contains("cargo xtask checksums"), "{err}");
    }

    #[test]
    fn normalize_resolves_parent_components() {
        assert_eq!(
            normalize(Path::new("/c/labs/02/tests/../traces/a.trace")),
            Path::new("/c/labs/02/traces/a.trace")
        );
    }

    #[test]
    fn compare_names_each_difference() {
        let e = |id: &str, p: &str| Entry {
            id: id.repeat(40),
            path: p.into(),
        };
        let old = [e("a", "x"), e("b", "y"), e("c", "gone")];
        let new = [e("a", "x"), e("d", "y"), e("e", "new")];
        let diff = compare(&old, &new);
        assert_eq!(diff.len(), 3, "{diff:?}");
        assert!(diff[0].starts_with("new: new graded file"), "{diff:?}");
        assert!(diff[1].starts_with("y: changed"), "{diff:?}");
        assert!(
            diff[2].starts_with("gone: listed, but no longer"),
            "{diff:?}"
        );
    }
}
