//! `cargo xtask watch`: grade the lab being edited again on every save.
//!
//! The operating system tells it when a file of a lab changes (`notify`: inotify on Linux, FSEvents
//! on macOS), and it also looks at the lab's sources itself every two seconds, because change
//! events do not arrive from every file system (network folders, some container mounts), as
//! rustlings found. Either way, what decides is a [`Snapshot`] of the sources: the modification
//! times and sizes of their files. When a save is seen, it waits until the files stop changing for
//! a moment (an editor or a formatter often writes several files for one save), then clears the
//! screen and grades that lab, exactly as `cargo xtask grade --lab N` would. Where modification
//! times cannot be trusted either, `--manual` grades again each time Enter is pressed instead.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::commands::grade;
use crate::course::history::{self, Snapshot};
use crate::course::labs::{self, Lab};
use crate::grade::Side;

/// How often the sources are looked at when no change event comes: the fallback for file
/// systems that send none.
const POLL: Duration = Duration::from_secs(2);
/// How long the sources must stay unchanged after a change before grading starts.
const SETTLE: Duration = Duration::from_millis(300);

/// What to watch.
pub struct Options {
    /// Only this lab (by number); `None` follows the lab being edited.
    pub lab: Option<u32>,
    /// Grade when Enter is pressed instead of polling the files.
    pub manual: bool,
}

/// What woke the loop up.
enum Wake {
    /// The learner pressed Enter.
    Enter,
    /// The learner typed `q` (or stdin closed in manual mode).
    Quit,
    /// A change event came, or it is time to look at the files again.
    Poll,
}

/// What the threads that wait for something send to the loop.
enum Signal {
    /// A line typed on stdin.
    Line(String),
    /// Stdin closed.
    Closed,
    /// The operating system says a file under a lab changed.
    FileEvent,
}

/// Runs `cargo xtask watch` until Ctrl-C (or `q` in manual mode). Returns the exit code.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let numbers: Vec<u32> = options.lab.into_iter().collect();
    let labs = labs::select(root, &numbers)?;
    let mut lab = match options.lab {
        Some(_) => labs[0].clone(),
        None => first_choice(root, &labs),
    };
    let (send, signals) = mpsc::channel();
    spawn_stdin_reader(send.clone());
    // Kept alive for the whole watch; without it (no events here), polling alone finds changes.
    let _watcher = (!options.manual)
        .then(|| watch_files(&labs, send))
        .flatten();
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
            match next_wake(&signals, wait, options.manual) {
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
    if lab.meta.tests.iter().any(|t| t.miri) {
        println!(
            "(`cargo xtask grade --lab {}` also runs the tests marked for Miri under it; watch \
             does not, to stay quick)",
            lab.meta.number
        );
    }
    let _ = std::io::stdout().flush();
}

/// The lab to start with: the lab whose sources changed last, unless it is already at full marks
/// (or no lab was edited after the others, as in a fresh clone); then the first lab not at full
/// marks in the last grade.
fn first_choice(root: &Path, labs: &[Lab]) -> Lab {
    let full = history::full_marks(root, labs);
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

/// Reads stdin on a thread of its own, so that the loop never blocks on it: Enter means "grade
/// now", `q` means "stop".
fn spawn_stdin_reader(send: Sender<Signal>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(Signal::Line(line)).is_err() {
                return;
            }
        }
        let _ = send.send(Signal::Closed);
    });
}

/// Asks the operating system for change events under each lab's folder; `None` where it cannot
/// (polling finds the changes then).
fn watch_files(labs: &[Lab], send: Sender<Signal>) -> Option<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = send.send(Signal::FileEvent);
        }
    })
    .ok()?;
    for lab in labs {
        watcher.watch(&lab.lab_dir, RecursiveMode::Recursive).ok()?;
    }
    Some(watcher)
}

fn next_wake(signals: &Receiver<Signal>, wait: Duration, manual: bool) -> Wake {
    match signals.recv_timeout(wait) {
        Ok(Signal::Line(line)) if line.trim().eq_ignore_ascii_case("q") => Wake::Quit,
        Ok(Signal::Line(_)) => Wake::Enter,
        Ok(Signal::FileEvent) | Err(RecvTimeoutError::Timeout) => Wake::Poll,
        // Stdin closed (a pipe ran out, or Ctrl-D): in manual mode nothing can wake us any more.
        Ok(Signal::Closed) | Err(RecvTimeoutError::Disconnected) if manual => Wake::Quit,
        Ok(Signal::Closed) | Err(RecvTimeoutError::Disconnected) => Wake::Poll,
    }
}
