//! What can go wrong when the heap or the collector is used the wrong way, in Python's words.
//!
//! These are errors of the caller (a test, a scenario, a random program), returned rather than
//! panicked, so that a wrong call is reported where it was made.

use std::fmt;

/// A call the heap or the collector refuses. Each message starts with the exception Python would
/// raise for the same mistake.
#[derive(Clone, PartialEq, Eq)]
pub enum TricolorError {
    /// `step`, `final_pause` or `finish_cycle` with no cycle started.
    NoCycle,
    /// `start_cycle` or `collect` while a cycle is already marking.
    CycleInProgress,
    /// `step(0)`: a step that may do no work would never finish marking.
    ZeroBudget,
    /// The program used an object the sweep has freed (a dangling reference).
    Swept {
        /// The object's name.
        name: String,
    },
    /// `pop_root` with no root left (Python: `[].pop()`).
    NoRoots,
    /// A list operation on an object that is not a list, or a field on a list.
    NoAttribute {
        /// `'Node'` or `'list'`.
        type_name: String,
        /// The method or field asked for.
        attribute: String,
    },
    /// A list index out of range, or `pop` from an empty list.
    Index {
        /// Python's message after `IndexError: `.
        message: String,
    },
}

impl fmt::Display for TricolorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TricolorError::NoCycle => f.write_str(
                "RuntimeError: no collection cycle is in progress (call start_cycle first)",
            ),
            TricolorError::CycleInProgress => {
                f.write_str("RuntimeError: a collection cycle is already in progress")
            }
            TricolorError::ZeroBudget => {
                f.write_str("ValueError: a step's budget must be at least 1")
            }
            TricolorError::Swept { name } => write!(
                f,
                "ReferenceError: {name} no longer exists: the sweep freed it (a dangling reference)"
            ),
            TricolorError::NoRoots => f.write_str("IndexError: pop from empty list (no root left)"),
            TricolorError::NoAttribute {
                type_name,
                attribute,
            } => write!(
                f,
                "AttributeError: '{type_name}' object has no attribute '{attribute}'"
            ),
            TricolorError::Index { message } => write!(f, "IndexError: {message}"),
        }
    }
}

/// Shows the message, so that a test returning `Err` prints Python's words, not a struct.
impl fmt::Debug for TricolorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for TricolorError {}
