//! Builds that match the sources on disk, whatever their modification times say.
//!
//! Cargo decides what to rebuild by modification times: a source file newer than the last build
//! is rebuilt. Files restored with their old times (`cp -a` from a backup, `rsync -a`, some
//! editors and sync tools) are older than the last build, so cargo keeps the old binaries and the
//! grader would report the results of the code that was there before, without a word.
//!
//! So the grader remembers what each package's last successful build saw: the git blob id of every
//! file of the lab (its `labs/NN-name` and `solutions/NN-name` folders), and when that build
//! started. Before the next build, a file whose content differs from that record while its time
//! is not newer than that build is a change cargo cannot see: the package's artifacts are removed
//! (`cargo clean -p`) so that cargo rebuilds it. A change with a newer time is left to cargo (it
//! rebuilds anyway, and keeps its incremental cache); a package never recorded is cleaned once.
//!
//! The record lives in the build's target folder (`gclabs/sources/<package>.json`), beside the
//! artifacts it describes: a copy of a checkout taken with its `target/` carries both.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::course::checksums::git_blob_id;

/// What a package's last successful build saw.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Record {
    /// When that build started, in nanoseconds since the Unix epoch.
    started_nanos: u128,
    /// Each source file (path relative to the checkout) and its git blob id.
    files: BTreeMap<String, String>,
}

/// A source file as it is now.
struct Source {
    id: String,
    modified: SystemTime,
}

/// The sources of one package, taken just before its build; [`Pending::built`] records them
/// once the build succeeds.
pub struct Pending {
    record_path: PathBuf,
    record: Record,
}

/// Makes sure the next build of `package` (whose sources are the files under `dirs`) sees the
/// sources as they are: removes its artifacts when a change is hidden from cargo by an old
/// modification time. `target` is the target folder the build uses.
pub fn before_build(
    root: &Path,
    target: &Path,
    package: &str,
    dirs: &[PathBuf],
) -> Result<Pending, String> {
    let started = SystemTime::now();
    let sources = scan(root, dirs)?;
    let record_path = target
        .join("gclabs")
        .join("sources")
        .join(format!("{package}.json"));
    let previous: Option<Record> = fs::read_to_string(&record_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let hidden = match &previous {
        None => Some("no record of its last build".to_string()),
        Some(record) => hidden_change(record, &sources),
    };
    if let Some(why) = hidden {
        clean(root, target, package).map_err(|e| {
            format!("{package} must be rebuilt ({why}), but `cargo clean -p {package}` failed: {e}")
        })?;
    }
    Ok(Pending {
        record_path,
        record: Record {
            started_nanos: nanos(started),
            files: sources.into_iter().map(|(path, s)| (path, s.id)).collect(),
        },
    })
}

impl Pending {
    /// Records what the build that just succeeded saw.
    pub fn built(self) {
        let Ok(text) = serde_json::to_string(&self.record) else {
            return;
        };
        // A record that cannot be written only costs a rebuild next time.
        if let Some(dir) = self.record_path.parent() {
            let _ = fs::create_dir_all(dir);
        }
        let temporary = self.record_path.with_extension("json.partial");
        if fs::write(&temporary, text).is_ok() {
            let _ = fs::rename(&temporary, &self.record_path);
        }
    }
}

/// The first source whose content changed since `record` while its time is not after that build
/// started (cargo would not rebuild it), said in words; `None` when cargo will see every change.
fn hidden_change(record: &Record, sources: &BTreeMap<String, Source>) -> Option<String> {
    let started = UNIX_EPOCH + duration_from_nanos(record.started_nanos);
    sources.iter().find_map(|(path, source)| {
        let changed = record.files.get(path) != Some(&source.id);
        (changed && source.modified <= started).then(|| {
            format!("{path} changed since the last build but carries an older modification time")
        })
    })
}

/// Every file under `dirs` (cargo's `target` folders aside), by path relative to `root`.
fn scan(root: &Path, dirs: &[PathBuf]) -> Result<BTreeMap<String, Source>, String> {
    let mut out = BTreeMap::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for path in crate::course::pristine::source_files(dir)? {
            let (Ok(bytes), Ok(meta)) = (fs::read(&path), fs::metadata(&path)) else {
                continue;
            };
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            out.insert(
                rel,
                Source {
                    id: git_blob_id(&bytes),
                    modified: meta.modified().unwrap_or(UNIX_EPOCH),
                },
            );
        }
    }
    Ok(out)
}

/// `cargo clean -p package`, in the workspace at `root` building into `target`.
fn clean(root: &Path, target: &Path, package: &str) -> Result<(), String> {
    let out = Command::new(crate::run::cargo())
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .args(["clean", "--quiet", "--package", package, "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn nanos(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn duration_from_nanos(nanos: u128) -> Duration {
    Duration::new(
        u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX),
        (nanos % 1_000_000_000) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, secs: u64) -> Source {
        Source {
            id: id.into(),
            modified: UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    fn record(files: &[(&str, &str)], started_secs: u64) -> Record {
        Record {
            started_nanos: u128::from(started_secs) * 1_000_000_000,
            files: files
                .iter()
                .map(|(p, id)| (p.to_string(), id.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_restored_file_with_an_old_time_is_a_hidden_change() {
        let record = record(&[("src/lib.rs", "new")], 100);
        let sources = BTreeMap::from([("src/lib.rs".to_string(), source("old", 50))]);
        let why = hidden_change(&record, &sources).expect("cargo would not rebuild this");
        assert!(why.contains("src/lib.rs"), "{why}");
    }

    #[test]
    fn an_edit_with_a_new_time_is_left_to_cargo() {
        let record = record(&[("src/lib.rs", "old")], 100);
        let sources = BTreeMap::from([("src/lib.rs".to_string(), source("new", 150))]);
        assert_eq!(hidden_change(&record, &sources), None);
    }

    #[test]
    fn unchanged_sources_are_fresh_whatever_their_times() {
        let record = record(&[("src/lib.rs", "same"), ("tests/t.rs", "t")], 100);
        let sources = BTreeMap::from([
            ("src/lib.rs".to_string(), source("same", 10)),
            ("tests/t.rs".to_string(), source("t", 500)),
        ]);
        assert_eq!(hidden_change(&record, &sources), None);
    }

    #[test]
    fn a_new_file_with_an_old_time_is_a_hidden_change() {
        let record = record(&[("src/lib.rs", "same")], 100);
        let sources = BTreeMap::from([
            ("src/lib.rs".to_string(), source("same", 10)),
            ("src/extra.rs".to_string(), source("x", 20)),
        ]);
        assert!(hidden_change(&record, &sources).is_some());
    }
}
