//! Layer 5, commands: one module per `cargo xtask` subcommand, each wiring the layers below (the
//! course on disk, running cargo and tests, grading, reporting) for one job.

pub mod autograder;
pub mod bench;
pub mod book;
pub mod check;
pub mod checksums;
pub mod figures;
pub mod grade;
pub mod hint;
pub mod limits;
pub mod list;
pub mod miri;
pub mod mutants;
pub mod parity;
pub mod reset;
pub mod run;
pub mod soak;
pub mod stubs;
pub mod watch;
