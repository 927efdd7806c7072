//! Layer 1, the course: what is on disk. Finding the checkout and its labs, reading `lab.toml`,
//! the checksum lists and the tamper check, the pristine copy, the stubs a solution generates, the
//! book's pages and sections, and the history the grader keeps. Nothing here builds or runs.

pub mod book;
pub mod checksums;
pub mod history;
pub mod labs;
pub mod pristine;
pub mod stubs;
