//! What the grader says on stderr while it works: a live line on a terminal, plain lines elsewhere.
//!
//! On a terminal, one line is redrawn in place with `\r`: `compiling Lab 02 (pools) … 37 units`
//! while cargo builds, then `Lab 02 [#####-----] 24/46 tests` while the graded tests run, and the
//! line is erased before the report is printed. Anywhere else (a CI log, a pipe, a file) there is
//! no `\r` and no bar: one plain line per phase, so logs stay readable. With `--json` there is
//! nothing at all on stderr but errors.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The width of the test bar, in characters.
const BAR: usize = 20;
/// The least time between two redraws of the live line (a fast build sends many messages).
const REDRAW_EVERY: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Say nothing (`--json`, or a caller that grades quietly).
    Off,
    /// One plain line per phase, for logs.
    Plain,
    /// One line redrawn in place, for a person at a terminal.
    Live,
}

/// The progress of one grade run. Erases its live line when dropped.
pub struct Progress {
    mode: Mode,
    /// What is being compiled or tested, e.g. `Lab 02 (pools)`.
    what: String,
    /// Compilation units cargo reported ready so far.
    units: usize,
    /// Tests run so far, out of `total`.
    done: usize,
    total: usize,
    /// Characters of the live line drawn last (to blank what a shorter line leaves).
    drawn: usize,
    last_draw: Option<Instant>,
}

impl Progress {
    /// Progress that is shown when `enabled`: live when stderr is a terminal (and `TERM` is not
    /// `dumb`), as plain lines otherwise.
    pub fn new(enabled: bool) -> Self {
        let live =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let mode = match (enabled, live) {
            (false, _) => Mode::Off,
            (true, true) => Mode::Live,
            (true, false) => Mode::Plain,
        };
        Progress {
            mode,
            what: String::new(),
            units: 0,
            done: 0,
            total: 0,
            drawn: 0,
            last_draw: None,
        }
    }

    /// Cargo starts building `label` (`Lab 02`) from `package`.
    pub fn compiling(&mut self, label: &str, package: &str) {
        self.what = format!("{label} ({package})");
        self.units = 0;
        match self.mode {
            Mode::Off => {}
            Mode::Plain => eprintln!("  building {} ...", self.what),
            Mode::Live => self.draw(format!("compiling {} …", self.what), true),
        }
    }

    /// Cargo reported one more compilation unit ready (built now or fresh from an earlier build).
    pub fn unit_ready(&mut self, name: &str) {
        self.units += 1;
        if self.mode == Mode::Live {
            let line = format!(
                "compiling {} … {} ready ({name})",
                self.what,
                plural_units(self.units)
            );
            self.draw(line, false);
        }
    }

    /// The graded tests of `label` start: `total` of them, one process each.
    pub fn testing(&mut self, label: &str, total: usize) {
        self.what = label.to_string();
        self.done = 0;
        self.total = total;
        match self.mode {
            Mode::Off => {}
            Mode::Plain => {
                eprintln!("  running {total} graded tests of {label}, each in its own process ...")
            }
            Mode::Live => self.draw(self.bar(), true),
        }
    }

    /// One more graded test finished.
    pub fn test_done(&mut self) {
        self.done = (self.done + 1).min(self.total);
        if self.mode == Mode::Live {
            let last = self.done == self.total;
            self.draw(self.bar(), last);
        }
    }

    /// Something else is happening (a measurement, say): a plain line, or the live line.
    pub fn note(&mut self, text: &str) {
        match self.mode {
            Mode::Off => {}
            Mode::Plain => eprintln!("  {text}"),
            Mode::Live => self.draw(text.to_string(), true),
        }
    }

    /// Erases the live line, so that what comes next starts on a clean line.
    pub fn clear(&mut self) {
        if self.mode == Mode::Live && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(self.drawn));
            let _ = err.flush();
            self.drawn = 0;
        }
    }

    fn bar(&self) -> String {
        let filled = (self.done * BAR).checked_div(self.total).unwrap_or(BAR);
        format!(
            "{} [{}{}] {}/{} tests",
            self.what,
            "#".repeat(filled),
            "-".repeat(BAR - filled),
            self.done,
            self.total
        )
    }

    /// Redraws the live line (at most every [`REDRAW_EVERY`] unless `now`), cut to the terminal's
    /// width so that it never wraps (a wrapped line cannot be redrawn with `\r`).
    fn draw(&mut self, line: String, now: bool) {
        if !now && self.last_draw.is_some_and(|t| t.elapsed() < REDRAW_EVERY) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let width = terminal_width().saturating_sub(1).max(20);
        let line: String = line.chars().take(width).collect();
        let len = line.chars().count();
        let pad = " ".repeat(self.drawn.saturating_sub(len));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}{pad}");
        let _ = err.flush();
        self.drawn = len;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

fn plural_units(n: usize) -> String {
    if n == 1 {
        "1 unit".into()
    } else {
        format!("{n} units")
    }
}

/// The width of the terminal on stderr, or 80 when it cannot be asked.
fn terminal_width() -> usize {
    // SAFETY: `winsize` is plain old data, so all zeroes is a valid value; TIOCGWINSZ writes at
    // most one `winsize` through the pointer, which is valid for the whole call.
    let size = unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) == 0 {
            usize::from(size.ws_col)
        } else {
            0
        }
    };
    if size == 0 { 80 } else { size }
}

#[cfg(test)]
mod tests {
    use super::{Mode, Progress};

    fn live() -> Progress {
        let mut p = Progress::new(false);
        p.mode = Mode::Live;
        p
    }

    #[test]
    fn the_bar_fills_with_the_tests_run() {
        let mut p = live();
        p.what = "Lab 01".into();
        p.total = 51;
        p.done = 24;
        assert_eq!(p.bar(), "Lab 01 [#########-----------] 24/51 tests");
        p.done = 51;
        assert_eq!(p.bar(), "Lab 01 [####################] 51/51 tests");
        p.total = 0;
        p.done = 0;
        assert_eq!(p.bar(), "Lab 01 [####################] 0/0 tests");
        p.drawn = 0;
    }

    #[test]
    fn disabled_progress_draws_nothing() {
        let mut p = Progress::new(false);
        p.compiling("Lab 01", "refcount");
        p.unit_ready("refcount");
        p.testing("Lab 01", 3);
        p.test_done();
        assert_eq!(p.drawn, 0);
        assert_eq!(p.units, 1);
        assert_eq!(p.done, 1);
    }
}
