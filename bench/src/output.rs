//! What one measurement prints (one JSON object on stdout, read by `cargo xtask bench`), and the
//! process's resident memory, read from `/proc/self`.

use std::time::Duration;

use serde_json::{Map, Value, json};

/// The result of one measurement in one process.
#[derive(Debug, Default)]
pub struct Measured {
    /// The measured quantity, in the case's unit (ms or ns per operation).
    pub value: f64,
    /// Other numbers worth showing beside it (resident memory in MiB, step counts, ...).
    pub extra: Vec<(&'static str, f64)>,
    /// Something to say about this run (the version of CPython, a larger stack, ...).
    pub note: Option<String>,
}

impl Measured {
    /// A time in milliseconds.
    pub fn ms(time: Duration) -> Measured {
        Measured {
            value: time.as_secs_f64() * 1e3,
            ..Measured::default()
        }
    }

    /// A time per operation, in nanoseconds.
    pub fn ns_per_op(time: Duration, ops: usize) -> Measured {
        Measured {
            value: time.as_secs_f64() * 1e9 / ops as f64,
            ..Measured::default()
        }
    }

    /// Adds a number to show beside the value.
    pub fn with(mut self, name: &'static str, value: f64) -> Measured {
        self.extra.push((name, value));
        self
    }

    /// Adds a note.
    pub fn noted(mut self, note: impl Into<String>) -> Measured {
        self.note = Some(note.into());
        self
    }

    /// The JSON object `cargo xtask bench` reads.
    pub fn to_json(&self) -> Value {
        let extra: Map<String, Value> = self
            .extra
            .iter()
            .map(|(name, value)| (name.to_string(), json!(value)))
            .collect();
        let mut object = json!({ "value": self.value, "extra": extra });
        if let Some(note) = &self.note {
            object["note"] = json!(note);
        }
        object
    }
}

/// What a run of a case came to: a measurement, or why this implementation takes no part (no
/// `python3` here, a recursive collector that would overflow its stack, ...).
#[derive(Debug)]
pub enum Outcome {
    /// Measured.
    Measured(Measured),
    /// Not measured, and why: shown in the table in place of the number.
    Absent(String),
}

impl Outcome {
    /// The JSON object `cargo xtask bench` reads.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Measured(measured) => measured.to_json(),
            Outcome::Absent(why) => json!({ "absent": why }),
        }
    }
}

/// The process's resident memory now, in bytes (`/proc/self/statm`), or 0 where it cannot be read.
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

/// The process's anonymous resident memory now, in bytes (`RssAnon` in `/proc/self/status`), or
/// 0 where it cannot be read.
///
/// Anonymous memory is what an allocator holds: its arenas, heaps and tables. The resident total
/// also counts pages of the program's own code, read from the executable as the run first
/// reaches them; those made up 64 KiB of the "left after freeing all" of lab 02's run, where the
/// allocator itself held its one empty arena and three pages of its arena map.
pub fn anonymous_resident_bytes() -> usize {
    status_kib("RssAnon:").map_or(0, |kib| kib * 1024)
}

/// A field of `/proc/self/status` given in kB, such as `VmHWM:`.
fn status_kib(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The most resident memory the process has had so far, in bytes (`VmHWM` in
/// `/proc/self/status`), or 0 where it cannot be read.
pub fn peak_resident_bytes() -> usize {
    status_kib("VmHWM:").map_or(0, |kib| kib * 1024)
}

/// Resets the peak that [`peak_resident_bytes`] reads to the resident memory now (writing 5 to
/// `/proc/self/clear_refs`); returns whether the kernel allowed it.
pub fn reset_peak_resident() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes as MiB.
pub fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The system's page size.
fn page_size() -> usize {
    // SAFETY: sysconf only reads a configuration value.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}
