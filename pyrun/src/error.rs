//! How a run goes wrong: a Python exception in flight ([`Exception`]), or a reason to stop that
//! is not Python's ([`Stop`]: a construct outside the subset, a limit, a lab that panicked).

use std::fmt;

use crate::compile::Unsupported;

/// What interrupts the evaluation of a statement.
#[derive(Debug)]
pub enum Error {
    /// A Python exception, which `try`/`except` may catch.
    Raise(Exception),
    /// The run stops, whatever the script does.
    Stop(Stop),
}

/// A Python exception: its class (by name: the subset's exceptions are the builtin ones), its
/// message and where it was raised.
#[derive(Debug)]
pub struct Exception {
    /// `ValueError`, `TypeError`, ...
    pub class: String,
    /// `str(e)`.
    pub message: String,
    /// The line it was raised on (0 until known).
    pub line: u32,
    /// The function it was raised in (`<module>` at the top level).
    pub function: String,
    /// What the frames it left hold: CPython's traceback keeps each frame it passed through,
    /// and so its locals, alive until the exception is handled. Innermost frame first; the
    /// references are the exception's, to give up when it is handled ([`Exception::take_frames`]).
    pub(crate) frames: Vec<Vec<pyheap::ObjId>>,
}

impl Exception {
    /// The references the traceback held, innermost frame first, each frame's locals in order:
    /// what to give up once the exception is handled.
    pub(crate) fn take_frames(&mut self) -> Vec<pyheap::ObjId> {
        std::mem::take(&mut self.frames)
            .into_iter()
            .flatten()
            .collect()
    }
}

impl Exception {
    /// A new exception of `class` with `message`, line not yet known.
    pub fn new(class: &str, message: impl Into<String>) -> Exception {
        Exception {
            class: class.to_string(),
            message: message.into(),
            line: 0,
            function: String::new(),
            frames: Vec::new(),
        }
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.class)
        } else {
            write!(f, "{}: {}", self.class, self.message)
        }
    }
}

/// Why a run stops without a Python exception.
#[derive(Clone, Debug)]
pub enum Stop {
    /// A construct outside the subset, met while running (the compiler refuses most of them
    /// before anything runs).
    Unsupported(Unsupported),
    /// More statements ran than the step limit allows.
    StepLimit(u64),
    /// More objects were alive at once than the heap limit allows.
    HeapLimit(usize),
    /// Calls nested deeper than the interpreter allows (CPython's RecursionError is caught here
    /// before the Rust stack runs out).
    TooDeep(usize),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Unsupported(u) => u.fmt(f),
            Stop::StepLimit(limit) => write!(
                f,
                "stopped after {limit} steps, the step limit: an endless loop? Raise the limit \
                 with --max-steps N"
            ),
            Stop::HeapLimit(limit) => write!(
                f,
                "stopped with more than {limit} objects alive, the heap limit: a program that \
                 allocates without end? Raise the limit with --max-objects N"
            ),
            Stop::TooDeep(limit) => write!(
                f,
                "stopped: calls nested more than {limit} deep (a recursion without end?); the \
                 subset's interpreter does not go deeper"
            ),
        }
    }
}

impl From<Exception> for Error {
    fn from(e: Exception) -> Self {
        Error::Raise(e)
    }
}

impl From<Stop> for Error {
    fn from(s: Stop) -> Self {
        Error::Stop(s)
    }
}

/// Shorthand for the interpreter's results.
pub type Result<T> = std::result::Result<T, Error>;

/// `Err(Error::Raise(...))` of a new exception.
pub fn raise<T>(class: &str, message: impl Into<String>) -> Result<T> {
    Err(Error::Raise(Exception::new(class, message)))
}

/// `Err(Error::Stop(Unsupported))` at `line`.
pub fn unsupported<T>(
    line: u32,
    construct: impl Into<String>,
    why: impl Into<String>,
) -> Result<T> {
    Err(Error::Stop(Stop::Unsupported(Unsupported {
        line,
        construct: construct.into(),
        why: why.into(),
    })))
}
