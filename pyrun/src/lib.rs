//! # pyrun: Python programs on your collector
//!
//! The capstone of the course: a small interpreter for a subset of Python 3.11 whose objects
//! live in [`pyheap`], whose garbage cycles are found by lab 03's collector and whose automatic
//! collections are scheduled by lab 04's, yours (`cargo xtask run script.py`) or the reference
//! solutions (`--solutions`). It prints what CPython 3.11 prints, `__del__` lines, weakref
//! callbacks and the counts of `gc.get_count()` included, because it drops references when
//! CPython drops them and allocates the containers CPython allocates.
//!
//! ```text
//!   script.py ──parse (rustpython-parser)──▶ compile: check the subset, resolve names
//!       │                                        (compile.rs, ast.rs)
//!       ▼
//!   interp.rs: statements and expressions ──▶ objects.rs: the objects, on pyheap
//!       │  allocations call the hook          builtins.rs: print, len, gc, sys, weakref
//!       ▼
//!   backend.rs: lab 04's Gc ──▶ lab 03's collector ──▶ __del__ and callbacks run here again
//! ```
//!
//! The modules, in the order to read them: [`compile`] and [`ast`] (what the subset is),
//! [`interp`] (how a statement runs), `objects` (what each object is made of), `builtins`,
//! [`backend`] (the labs), [`error`].

pub mod ast;
pub mod backend;
mod builtins;
pub mod compile;
pub mod error;
pub mod interp;
mod objects;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use pyheap::Heap;

pub use compile::{CompileError, Unsupported};
pub use error::{Exception, Stop};
pub use interp::Limits;

/// Which labs a run uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// Your crates, `cycles` (lab 03) and `generations` (lab 04).
    Labs,
    /// The reference solutions.
    Solutions,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The script ran to its end (exit status 0).
    Finished,
    /// An exception nobody caught (exit status 1, as CPython's).
    Exception(Exception),
    /// The run was stopped: a construct outside the subset, or a limit (exit status 2).
    Stopped(Stop),
    /// The script does not compile, or uses something outside the subset (exit status 2).
    NotRun(CompileError),
    /// The interpreter was built without this side (a `--no-default-features` build).
    Unavailable(Side),
}

impl Outcome {
    /// The exit status the run ends with.
    pub fn status(&self) -> i32 {
        match self {
            Outcome::Finished => 0,
            Outcome::Exception(_) => 1,
            Outcome::Stopped(_) | Outcome::NotRun(_) | Outcome::Unavailable(_) => 2,
        }
    }
}

/// The collector of `side`, if this build has it.
pub fn backend(side: Side) -> Option<Box<dyn backend::Backend>> {
    match side {
        #[cfg(feature = "labs")]
        Side::Labs => Some(Box::new(backend::Labs::default())),
        #[cfg(feature = "solutions")]
        Side::Solutions => Some(Box::new(backend::Solutions::default())),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Runs `source` (read from `path`) on `side`'s labs, writing what the script prints to `out`
/// and what CPython would write to stderr (tracebacks, "Exception ignored") to `err`; the
/// interpreter's own messages (a construct outside the subset, a limit) are in the outcome.
pub fn run(
    source: &str,
    path: &str,
    side: Side,
    limits: Limits,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
) -> Outcome {
    run_summarised(source, path, side, limits, out, err).0
}

/// What the collector did in a run, up to the script's last line (the collection CPython runs
/// at shutdown is not counted, as the script's own `gc.get_stats()` could not count it).
#[derive(Clone, Copy, Debug)]
pub struct GcSummary {
    /// Whose collector it was.
    pub side: Side,
    /// `gc.get_stats()`: collections, collected, uncollectable, for generations 0, 1 and 2.
    pub stats: [[usize; 3]; 3],
}

impl std::fmt::Display for GcSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whose = match self.side {
            Side::Labs => {
                "your lab 03's collector (crate `cycles`, labs/03-cycles) found the garbage \
                 cycles, scheduled by your lab 04 (crate `generations`, labs/04-generations)"
            }
            Side::Solutions => {
                "the reference collector (crate `cycles-solution`) found the garbage cycles, \
                 scheduled by the reference lab 04 (crate `generations-solution`)"
            }
        };
        let [g0, g1, g2] = self.stats;
        let collections = g0[0] + g1[0] + g2[0];
        let collected = g0[1] + g1[1] + g2[1];
        let uncollectable = g0[2] + g1[2] + g2[2];
        write!(
            f,
            "{whose}: {collections} collection{} (generations 0, 1, 2: {}, {}, {}), {collected} \
             object{} collected, {uncollectable} uncollectable",
            if collections == 1 { "" } else { "s" },
            g0[0],
            g1[0],
            g2[0],
            if collected == 1 { "" } else { "s" },
        )
    }
}

/// [`run`], and what the collector did (`None` if the script never started).
pub fn run_summarised(
    source: &str,
    path: &str,
    side: Side,
    limits: Limits,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
) -> (Outcome, Option<GcSummary>) {
    let program = match compile::compile(source, path) {
        Ok(p) => p,
        Err(e) => return (Outcome::NotRun(e), None),
    };
    let Some(backend) = backend(side) else {
        return (Outcome::Unavailable(side), None);
    };
    let mut heap = Heap::with_free_lists();
    // The interpreter prints what happens as it happens, and never reads pyheap's event log.
    heap.set_event_log(false);
    let interp = interp::Interp::new(&mut heap, program, backend, limits, path, out, err);
    let outcome = match interp.run_module(&mut heap) {
        Ok(()) => Outcome::Finished,
        Err(error::Error::Raise(mut e)) => {
            interp.write_err(&format!(
                "Traceback (most recent call last):\n  File \"{path}\", line {}, in {}\n{e}\n",
                e.line, e.function
            ));
            // sys.last_traceback keeps the frames until shutdown deletes it, before the
            // module's globals go.
            for id in e.take_frames() {
                heap.decref(id);
            }
            Outcome::Exception(e)
        }
        Err(error::Error::Stop(stop)) => Outcome::Stopped(stop),
    };
    let summary = GcSummary {
        side,
        stats: interp.backend.borrow().stats(),
    };
    let outcome = match outcome {
        Outcome::Stopped(_) => outcome,
        _ => match interp.shutdown(&mut heap) {
            Ok(()) => outcome,
            Err(error::Error::Stop(stop)) => Outcome::Stopped(stop),
            Err(error::Error::Raise(_)) => outcome,
        },
    };
    let _ = interp.out.borrow_mut().flush();
    let _ = interp.err.borrow_mut().flush();
    // The heap holds the interpreter (its runtime) and the interpreter's objects are in the
    // heap: neither is torn down object by object, the process is about to end or move on.
    std::mem::forget(heap);
    (outcome, Some(summary))
}

/// What a run printed, for tests and `--compare`.
#[derive(Debug)]
pub struct Captured {
    /// The script's standard output.
    pub stdout: String,
    /// Its standard error (tracebacks, "Exception ignored in").
    pub stderr: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// A `Write` into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// [`run`], keeping what the script prints.
pub fn run_captured(source: &str, path: &str, side: Side, limits: Limits) -> Captured {
    let (out, err) = (Buffer::default(), Buffer::default());
    let outcome = run(
        source,
        path,
        side,
        limits,
        Box::new(out.clone()),
        Box::new(err.clone()),
    );
    let text = |b: Buffer| String::from_utf8_lossy(&b.0.borrow()).into_owned();
    Captured {
        stdout: text(out),
        stderr: text(err),
        outcome,
    }
}
