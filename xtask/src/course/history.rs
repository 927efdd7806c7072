//! What the grader keeps between runs: each test's result from the last grade of the learner's
//! labs, in `target/gclabs/last-grade.json`, with a fingerprint of the lab's sources at the time
//! (see [`Snapshot`]). `cargo xtask grade` records it; `list`, `watch` and `hint` read it back,
//! so they cost no build, and can say when there is nothing to read or when the sources changed
//! since: results older than the code are not passed off as the code's.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::course::labs::Lab;

/// What to record of one lab's grade (the grade layer's results, reduced to what is kept).
pub struct LabGrade {
    /// The lab's number.
    pub number: u32,
    /// The first compile error, if the lab did not compile.
    pub build_error: Option<String>,
    /// The tests the lab's metadata lists now (others are forgotten).
    pub listed: Vec<String>,
    /// Each graded test: (name, status, points earned, max points, reason).
    pub tests: Vec<(String, String, u32, u32, String)>,
}

/// The state of a lab's sources at one moment: enough to tell that something changed, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// How many source files there are.
    pub files: usize,
    /// A digest of every file's path, size and modification time.
    pub digest: u64,
    /// The newest modification time among them.
    pub newest: Option<SystemTime>,
}

impl Snapshot {
    /// Looks at the sources of `lab`: the `.rs` files under `src/` and `tests/`, and its
    /// `lab.toml` and `Cargo.toml`. Editor droppings (`.name.rs.swp`, `#name.rs#`, `name.rs~`) are
    /// not sources, so an editor opening a file does not count as a change.
    pub fn take(lab: &Lab) -> Snapshot {
        let mut files = Vec::new();
        for dir in ["src", "tests"] {
            collect(&lab.lab_dir.join(dir), &mut files);
        }
        for name in ["lab.toml", "Cargo.toml"] {
            files.push(lab.lab_dir.join(name));
        }
        files.sort();
        let mut digest = Fnv::new();
        let (mut count, mut newest) = (0, None);
        for path in &files {
            let Ok(meta) = fs::metadata(path) else {
                continue;
            };
            let modified = meta.modified().ok();
            let nanos = modified
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let rel = path.strip_prefix(&lab.lab_dir).unwrap_or(path);
            digest.write(rel.to_string_lossy().as_bytes());
            digest.write(&meta.len().to_le_bytes());
            digest.write(&nanos.to_le_bytes());
            count += 1;
            newest = newest.max(modified);
        }
        Snapshot {
            files: count,
            digest: digest.0,
            newest,
        }
    }

    /// A short text that changes whenever the sources change (kept with the grade results).
    pub fn fingerprint(&self) -> String {
        format!("{:016x}-{}", self.digest, self.files)
    }
}

/// Whether `path` is a source file worth watching.
fn is_source(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.ends_with(".rs") && !name.starts_with('.') && !name.starts_with('#')
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            collect(&path, out);
        } else if is_source(&path) {
            out.push(path);
        }
    }
}

/// FNV-1a, 64 bits: a digest that stays the same from one build of this tool to the next (the
/// standard library's hasher does not promise that, and the digest is saved in a file).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The state of each lab's sources when a grade started.
pub struct Sources(Vec<(u32, Snapshot)>);

impl Sources {
    /// Looks at the sources of every lab in `labs` now (before building them).
    pub fn take(labs: &[Lab]) -> Sources {
        Sources(
            labs.iter()
                .map(|l| (l.meta.number, Snapshot::take(l)))
                .collect(),
        )
    }
}

/// The saved results: `target/gclabs/last-grade.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Store {
    /// The format of this file, for a later version of the tool.
    pub version: u32,
    /// By lab number.
    pub labs: BTreeMap<u32, LabRecord>,
}

/// One lab's record.
#[derive(Debug, Serialize, Deserialize)]
pub struct LabRecord {
    /// When this lab was graded last (seconds since the Unix epoch).
    pub graded_at: u64,
    /// The first compile error of the last grade, if the lab did not compile.
    pub build_error: Option<String>,
    /// By test name.
    pub tests: BTreeMap<String, TestRecord>,
}

/// One test's record.
#[derive(Debug, Serialize, Deserialize)]
pub struct TestRecord {
    /// As in `--json`: `passed`, `failed`, `not_started`, ...
    pub status: String,
    /// Points earned.
    pub points: u32,
    /// Points available.
    pub max_points: u32,
    /// The one-line reason.
    pub reason: String,
    /// [`Snapshot::fingerprint`] of the lab's sources when the test was graded.
    pub sources: String,
    /// When (seconds since the Unix epoch).
    pub graded_at: u64,
}

const VERSION: u32 = 1;

/// Where the record is kept.
pub fn store_path(root: &Path) -> PathBuf {
    root.join("target").join("gclabs").join("last-grade.json")
}

/// The saved results, or `None` when there are none (or they cannot be read).
pub fn load(root: &Path) -> Option<Store> {
    let text = fs::read_to_string(store_path(root)).ok()?;
    serde_json::from_str::<Store>(&text)
        .ok()
        .filter(|s| s.version == VERSION)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Saves the results of a grade of the learner's labs, merged into the earlier ones (a grade of
/// one lab, or of one test, keeps what was saved about the others). `sources` is the state of the
/// sources before the build. Written to a temporary file then renamed, so a reader never sees half
/// a file. A failure is a warning: the grade itself went fine.
pub fn record(root: &Path, results: &[LabGrade], sources: &Sources) {
    if let Err(e) = try_record(root, results, sources) {
        eprintln!(
            "warning: could not save the results for `cargo xtask list` in {}: {e}",
            store_path(root).display()
        );
    }
}

fn try_record(root: &Path, results: &[LabGrade], sources: &Sources) -> Result<(), String> {
    let mut store = load(root).unwrap_or_default();
    store.version = VERSION;
    let time = now();
    for result in results {
        let fingerprint = sources
            .0
            .iter()
            .find(|(n, _)| *n == result.number)
            .map(|(_, s)| s.fingerprint())
            .unwrap_or_default();
        let record = store
            .labs
            .entry(result.number)
            .or_insert_with(|| LabRecord {
                graded_at: time,
                build_error: None,
                tests: BTreeMap::new(),
            });
        record.graded_at = time;
        record.build_error = result.build_error.clone();
        // Forget tests the metadata no longer lists.
        record.tests.retain(|name, _| result.listed.contains(name));
        for (name, status, points, max_points, reason) in &result.tests {
            record.tests.insert(
                name.clone(),
                TestRecord {
                    status: status.clone(),
                    points: *points,
                    max_points: *max_points,
                    reason: reason.clone(),
                    sources: fingerprint.clone(),
                    graded_at: time,
                },
            );
        }
    }
    let path = store_path(root);
    let dir = path.parent().ok_or("no parent folder")?;
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&store).map_err(|e| e.to_string())?;
    let temporary = dir.join(format!("last-grade.json.{}.tmp", std::process::id()));
    fs::write(&temporary, text).map_err(|e| e.to_string())?;
    fs::rename(&temporary, &path).map_err(|e| {
        let _ = fs::remove_file(&temporary);
        e.to_string()
    })
}

/// For each lab of `labs`: whether its last grade, still up to date with its sources, passed
/// every graded test.
pub fn full_marks(root: &Path, labs: &[Lab]) -> Vec<bool> {
    let store = load(root);
    labs.iter()
        .map(|lab| {
            let fingerprint = Snapshot::take(lab).fingerprint();
            let record = store.as_ref().and_then(|s| s.labs.get(&lab.meta.number));
            record.is_some_and(|r| {
                lab.meta.tests.iter().all(|t| {
                    r.tests
                        .get(&t.name)
                        .is_some_and(|tr| tr.status == "passed" && tr.sources == fingerprint)
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Fnv, is_source};
    use std::path::Path;

    #[test]
    fn editor_droppings_are_not_sources() {
        assert!(is_source(Path::new("src/rc.rs")));
        assert!(!is_source(Path::new("src/.rc.rs.swp")));
        assert!(!is_source(Path::new("src/rc.rs~")));
        assert!(!is_source(Path::new("src/#rc.rs#")));
        assert!(!is_source(Path::new("src/.#rc.rs")));
        assert!(!is_source(Path::new("src/4913")));
    }

    #[test]
    fn the_digest_is_fnv1a() {
        let mut h = Fnv::new();
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }
}
