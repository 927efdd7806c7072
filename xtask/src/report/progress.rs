//! What the grader says on stderr while it works: a live line on a terminal, plain lines elsewhere.
//!
//! On a terminal, one line is redrawn in place (indicatif): `compiling Lab 02 (pools) … 37 units`
//! while cargo builds, then `Lab 02 [#####-----] 24/46 tests` while the graded tests run, and it is
//! erased before the report is printed. Anywhere else (a CI log, a pipe, a file) nothing is redrawn:
//! one plain line per phase, so logs stay readable. For a machine format there is nothing at all
//! on stderr but errors.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::grade::Event;

/// How the progress is shown.
enum Mode {
    /// Say nothing (a machine format, or a caller that grades quietly).
    Off,
    /// One plain line per phase, for logs.
    Plain,
    /// One line redrawn in place, for a person at a terminal.
    Live(ProgressBar),
}

/// The progress of one grade run. Erases its live line when dropped.
pub struct Progress {
    mode: Mode,
    /// What is being compiled, e.g. `Lab 02 (pools)`.
    what: String,
    /// Compilation units cargo reported ready so far.
    units: usize,
}

impl Progress {
    /// Progress that is shown when `enabled`: live when stderr is a terminal (and `TERM` is not
    /// `dumb`), as plain lines otherwise.
    pub fn new(enabled: bool) -> Self {
        let live =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let mode = match (enabled, live) {
            (false, _) => Mode::Off,
            (true, false) => Mode::Plain,
            (true, true) => {
                // At most 20 redraws a second: a fast build sends many messages.
                let bar =
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(20));
                bar.enable_steady_tick(Duration::from_millis(120));
                Mode::Live(bar)
            }
        };
        Progress {
            mode,
            what: String::new(),
            units: 0,
        }
    }

    /// Shows what grading is doing.
    pub fn show(&mut self, event: Event) {
        match event {
            Event::Compiling(label, package) => {
                self.what = format!("{label} ({package})");
                self.units = 0;
                match &self.mode {
                    Mode::Off => {}
                    Mode::Plain => eprintln!("  building {} ...", self.what),
                    Mode::Live(bar) => {
                        bar.set_style(spinner());
                        bar.set_message(format!("compiling {} …", self.what));
                    }
                }
            }
            Event::UnitReady(name) => {
                self.units += 1;
                if let Mode::Live(bar) = &self.mode {
                    bar.set_message(format!(
                        "compiling {} … {} ready ({name})",
                        self.what,
                        units(self.units)
                    ));
                }
            }
            Event::Testing(label, total) => match &self.mode {
                Mode::Off => {}
                Mode::Plain => {
                    eprintln!(
                        "  running {total} graded tests of {label}, each in its own process ..."
                    )
                }
                Mode::Live(bar) => {
                    bar.set_style(tests_bar());
                    bar.set_length(total as u64);
                    bar.set_position(0);
                    bar.set_message(label.to_string());
                }
            },
            Event::TestDone => {
                if let Mode::Live(bar) = &self.mode {
                    bar.inc(1);
                }
            }
            Event::Miri(label, test) => {
                let text = format!(
                    "{label}: running `{test}` again under Miri, which finds undefined behaviour \
                     (seconds a test; minutes, once, while Miri first builds its standard library) ..."
                );
                match &self.mode {
                    Mode::Off => {}
                    Mode::Plain => eprintln!("  {text}"),
                    Mode::Live(bar) => bar.set_message(text),
                }
            }
            Event::Measuring(label, package, example) => {
                let text = format!(
                    "measuring {label} (release build of `{package}`, example `{example}`) ..."
                );
                match &self.mode {
                    Mode::Off => {}
                    Mode::Plain => eprintln!("  {text}"),
                    Mode::Live(bar) => {
                        bar.set_style(spinner());
                        bar.set_message(text);
                    }
                }
            }
        }
    }

    /// Erases the live line, so that what comes next starts on a clean line.
    pub fn clear(&mut self) {
        if let Mode::Live(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `compiling Lab 02 (pools) … 37 units ready (bump)`, with a spinner.
fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// `Lab 02 [#########-----------] 24/46 tests`.
fn tests_bar() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:20}] {pos}/{len} tests")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-")
}

fn units(n: usize) -> String {
    if n == 1 {
        "1 unit".into()
    } else {
        format!("{n} units")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_progress_says_nothing_and_keeps_count() {
        let mut p = Progress::new(false);
        p.show(Event::Compiling("Lab 01", "refcount"));
        p.show(Event::UnitReady("refcount"));
        p.show(Event::Testing("Lab 01", 3));
        p.show(Event::TestDone);
        assert!(matches!(p.mode, Mode::Off));
        assert_eq!(p.units, 1);
        assert_eq!(p.what, "Lab 01 (refcount)");
    }

    #[test]
    fn the_templates_are_valid() {
        assert!(ProgressStyle::with_template("{spinner} {wide_msg}").is_ok());
        assert!(ProgressStyle::with_template("{msg} [{bar:20}] {pos}/{len} tests").is_ok());
    }
}
