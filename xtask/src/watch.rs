//! `cargo xtask watch`: grade the lab being edited again on every save.
//!
//! It polls instead of asking the operating system for change events: every half second it reads
//! the modification times (and sizes) of the lab's sources, which works the same on every file
//! system, local or not, with no extra crate. When a save is seen, it waits until the files stop
//! changing for a moment (an editor or a formatter often writes several files for one save), then
//! clears the screen and grades that lab through `grade::run`, exactly as `cargo xtask grade --lab
//! N` would. Where modification times cannot be trusted (some network and shared folders),
//! `--manual` grades again each time Enter is pressed instead.

use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use crate::grade::{self, Side};
use crate::labs::Lab;
use crate::list;

/// How often the sources are looked at.
const POLL: Duration = Duration::from_millis(500);
/// How long the sources must stay unchanged after a change before grading starts.
const SETTLE: Duration = Duration::from_millis(300);

/// What to watch.
pub struct Options {
    /// Only this lab (by number); `None` follows the lab being edited.
    pub lab: Option<u32>,
    /// Grade when Enter is pressed instead of polling the files.
    pub manual: bool,
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

/// What woke the loop up.
enum Wake {
    /// The learner pressed Enter.
    Enter,
    /// The learner typed `q` (or stdin closed in manual mode).
    Quit,
    /// Time to look at the files again.
    Poll,
}

/// Runs `cargo xtask watch` until Ctrl-C (or `q` in manual mode). Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let numbers: Vec<u32> = options.lab.into_iter().collect();
    let labs = grade::select(root, &numbers)?;
    let mut lab = match options.lab {
        Some(_) => labs[0].clone(),
        None => first_choice(root, &labs),
    };
    let keys = spawn_stdin_reader();
    let mut seen: Vec<Snapshot> = labs.iter().map(Snapshot::take).collect();
    let mut note = String::new();
    loop {
        grade_once(root, &lab, &note);
        footer(root, &lab, options.manual);
        note.clear();
        // Wait for a reason to grade again.
        loop {
            let wait = if options.manual {
                Duration::from_secs(3600)
            } else {
                POLL
            };
            match next_wake(&keys, wait, options.manual) {
                Wake::Quit => return Ok(0),
                Wake::Enter => {
                    seen = labs.iter().map(Snapshot::take).collect();
                    break;
                }
                Wake::Poll if options.manual => continue,
                Wake::Poll => {}
            }
            let Some(changed) = changed_lab(&labs, &seen) else {
                continue;
            };
            // One save can write several files: wait until they all settle. A change that undid
            // itself meanwhile (a file written and put back) is no reason to grade.
            let settled = settle(&labs[changed]);
            let undone = settled == seen[changed];
            seen = labs.iter().map(Snapshot::take).collect();
            seen[changed] = settled;
            if undone {
                continue;
            }
            if labs[changed].meta.number != lab.meta.number {
                note = format!(
                    "You saved a file of {}, so it is the lab watched now \
                     (`cargo xtask watch --lab {}` stays on {}).",
                    labs[changed].label(),
                    lab.meta.number,
                    lab.label()
                );
                lab = labs[changed].clone();
            }
            break;
        }
    }
}

/// Clears the screen (on a terminal) and grades `lab` as `cargo xtask grade --lab N` does, without
/// the slow release-build measurement.
fn grade_once(root: &Path, lab: &Lab, note: &str) {
    let mut out = std::io::stdout().lock();
    if std::io::stdout().is_terminal() {
        // Clear the screen and put the cursor top left (what scrolled off stays scrollable).
        let _ = write!(out, "\x1b[2J\x1b[H");
    } else {
        let _ = writeln!(out, "\n{}", "=".repeat(72));
    }
    if !note.is_empty() {
        let _ = writeln!(out, "{note}");
    }
    let _ = out.flush();
    drop(out);
    let options = grade::Options {
        root: root.to_path_buf(),
        labs: vec![lab.meta.number],
        side: Side::Labs,
        measure: false,
        ..Default::default()
    };
    // A lab.toml broken mid-edit, say: show the error, and keep watching for the fix.
    if let Err(message) = grade::run(&options) {
        println!("error: {message}");
    }
}

fn footer(root: &Path, lab: &Lab, manual: bool) {
    let dir = lab.lab_dir.strip_prefix(root).unwrap_or(&lab.lab_dir);
    let dir = dir.display();
    println!();
    if manual {
        println!("press Enter to grade {dir} again, or q and Enter to stop");
    } else {
        println!("watching {dir}/src … (Ctrl-C to stop)");
    }
    let _ = std::io::stdout().flush();
}

/// The lab to start with: the lab whose sources changed last, unless it is already at full marks
/// (or no lab was edited after the others, as in a fresh clone); then the first lab not at full
/// marks in the last grade.
fn first_choice(root: &Path, labs: &[Lab]) -> Lab {
    let full = list::full_marks(root, labs);
    let snapshots: Vec<Snapshot> = labs.iter().map(Snapshot::take).collect();
    let mut by_time: Vec<(Option<SystemTime>, usize)> = snapshots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.newest, i))
        .collect();
    by_time.sort_by(|a, b| b.cmp(a));
    // A checkout writes every file within a second or two: a lab counts as edited last only when
    // its newest file is clearly newer than every other lab's.
    let edited_last = match by_time.as_slice() {
        [(Some(a), i), (Some(b), _), ..] => a
            .duration_since(*b)
            .is_ok_and(|d| d > Duration::from_secs(2))
            .then_some(*i),
        [(Some(_), i)] => Some(*i),
        _ => None,
    };
    if let Some(i) = edited_last.filter(|i| !full[*i]) {
        return labs[i].clone();
    }
    let i = full.iter().position(|f| !f).unwrap_or(0);
    labs[i].clone()
}

/// The first lab whose sources differ from `seen`.
fn changed_lab(labs: &[Lab], seen: &[Snapshot]) -> Option<usize> {
    labs.iter()
        .zip(seen)
        .position(|(lab, before)| Snapshot::take(lab) != *before)
}

/// Waits until `lab`'s sources stay the same for [`SETTLE`] (at most a few seconds), and returns
/// their state then.
fn settle(lab: &Lab) -> Snapshot {
    let started = Instant::now();
    let mut last = Snapshot::take(lab);
    let mut stable_since = Instant::now();
    while stable_since.elapsed() < SETTLE && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        let now = Snapshot::take(lab);
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    last
}

/// Reads stdin on a thread of its own, so that the poll loop never blocks on it: Enter means
/// "grade now", `q` means "stop".
fn spawn_stdin_reader() -> Receiver<Option<String>> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = send.send(None);
    });
    receive
}

fn next_wake(keys: &Receiver<Option<String>>, wait: Duration, manual: bool) -> Wake {
    match keys.recv_timeout(wait) {
        Ok(Some(line)) if line.trim().eq_ignore_ascii_case("q") => Wake::Quit,
        Ok(Some(_)) => Wake::Enter,
        // Stdin closed (a pipe ran out, or Ctrl-D): in manual mode nothing can wake us any more.
        Ok(None) | Err(RecvTimeoutError::Disconnected) if manual => Wake::Quit,
        Ok(None) | Err(RecvTimeoutError::Disconnected) => {
            std::thread::sleep(wait);
            Wake::Poll
        }
        Err(RecvTimeoutError::Timeout) => Wake::Poll,
    }
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
