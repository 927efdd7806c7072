//! What the `gc` module refuses, in CPython 3.11's words.
//!
//! Only what CPython refuses is refused: `gc.get_objects(-1)` is accepted (it means "every
//! generation", as `None` does, because -1 is the C default that stands for "no argument"), and
//! any threshold is accepted, negative ones included. The argument types (`i32` for C `int`,
//! `isize` for `Py_ssize_t`) already rule out what CPython rejects with `TypeError` or
//! `OverflowError`.

use std::fmt;

/// A `ValueError` raised by the `gc` module.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GcError {
    /// `gc.collect(generation)` with a generation outside 0..=2 (`gc_collect_impl`).
    InvalidGeneration,
    /// `gc.get_objects(generation)` with a generation of 3 or more (`gc_get_objects_impl`).
    GenerationTooLarge,
    /// `gc.get_objects(generation)` with a generation below -1 (`gc_get_objects_impl`).
    NegativeGeneration,
}

impl fmt::Display for GcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GcError::InvalidGeneration => "ValueError: invalid generation",
            GcError::GenerationTooLarge => {
                "ValueError: generation parameter must be less than the number of available \
                 generations (3)"
            }
            GcError::NegativeGeneration => "ValueError: generation parameter cannot be negative",
        })
    }
}

impl std::error::Error for GcError {}
