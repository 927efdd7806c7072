//! # Lab 01: reference counting
//!
//! Two layers, built in order:
//!
//! 1. [`Rc`] and [`Weak`]: a single-threaded reference-counted pointer made from raw parts (a heap
//!    box holding a strong count, a weak count and the value). This is the mechanism.
//! 2. [`Heap`]: a heap of Python-like objects whose counts go up and down as CPython's do
//!    (`Py_INCREF` / `Py_DECREF`), with destruction that cascades without recursion. This is the
//!    object model the later labs (cycle detection, generations, marking) build on.
//!
//! The book's chapter "Lab 01: reference counting" walks through both; `cargo xtask grade --lab 1`
//! grades them.

mod heap;
mod rc;

pub use heap::*;
pub use rc::{Rc, Weak};
