//! The gclabs course tool, reached as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! One module per command: `grade` (with `build`, `sandbox` and `report`), `hint`, `check`, `book`,
//! `miri`, `parity`, `stubs`; `labs` reads the lab metadata they share.

mod book;
mod build;
mod check;
mod grade;
mod hint;
mod labs;
mod miri;
mod parity;
mod report;
mod sandbox;
mod stubs;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gclabs: learn how CPython manages memory by rebuilding it in Rust.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    /// The gclabs checkout to work on (default: the one this tool belongs to). An instructor can
    /// point it at a learner's checkout.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grade your labs: build each lab, run each graded test in its own process, show points and
    /// the next step.
    Grade {
        /// Grade only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N")]
        labs: Vec<u32>,
        /// Run only the graded test with this name.
        #[arg(long, value_name = "NAME")]
        test: Option<String>,
        /// Grade the reference solutions instead of your work (they must score 100%).
        #[arg(long)]
        solutions: bool,
        /// Print one JSON object per test, one per line, instead of the report.
        #[arg(long)]
        json: bool,
        /// Show the output of every failing test, not only the next one's.
        #[arg(long, short)]
        verbose: bool,
        /// Skip the measurements some labs run after their tests (lab 02's allocator speed and
        /// memory use), which need a release build.
        #[arg(long)]
        no_measure: bool,
    },
    /// Show the hints of a graded test, one more step each time you ask.
    Hint {
        /// The lab's number.
        lab: u32,
        /// The test (default: the first test of the lab that does not pass yet).
        test: Option<String>,
        /// Show all of the test's hints at once.
        #[arg(long)]
        all: bool,
        /// Start the lab's hints again from the first step.
        #[arg(long, conflicts_with_all = ["test", "all"])]
        reset: bool,
    },
    /// Check the course's own contract (for maintainers): stubs fail, solutions pass, metadata,
    /// stubs, solutions and book agree, fmt and clippy are clean.
    Check,
    /// Build the book into book/build (needs mdBook 0.5).
    Book,
    /// Run a lab's graded tests under Miri, which finds undefined behaviour in `unsafe` code
    /// (needs a nightly toolchain with the miri component).
    Miri {
        /// Only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N")]
        labs: Vec<u32>,
        /// Check the reference solutions instead of your work.
        #[arg(long)]
        solutions: bool,
        /// Only this test file of the lab (`bump` for tests/bump.rs; repeat for several). Miri
        /// is thousands of times slower than a normal run, so pick the files with the `unsafe`
        /// code you are checking.
        #[arg(long = "test-file", value_name = "NAME")]
        test_files: Vec<String>,
    },
    /// Re-record the CPython 3.11 output of every parity script (pyheap/parity/*.py,
    /// labs/*/parity/*.py) and show which changed; says so and exits 0 when no python3.11 is here.
    Parity {
        /// Compare with the recorded outputs instead of writing them; exit 1 on a difference.
        #[arg(long)]
        check: bool,
    },
    /// Regenerate the stubs in labs/*/src from the solutions (for maintainers). Files that change
    /// are backed up under target/gclabs-backups first.
    Stubs {
        /// Only this lab (by number).
        #[arg(long = "lab", value_name = "N")]
        labs: Vec<u32>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match cli.root.unwrap_or_else(default_root).canonicalize() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("error: the folder given with --root cannot be used: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Grade {
            labs,
            test,
            solutions,
            json,
            verbose,
            no_measure,
        } => grade::run(&grade::Options {
            root,
            labs,
            test,
            side: if solutions {
                grade::Side::Solutions
            } else {
                grade::Side::Labs
            },
            json,
            verbose,
            measure: !no_measure,
        }),
        Command::Hint {
            lab,
            test,
            all,
            reset,
        } => hint::run(
            &root,
            &hint::Options {
                lab,
                test,
                all,
                reset,
            },
        ),
        Command::Check => check::run(&root),
        Command::Book => book::build(&root),
        Command::Miri {
            labs,
            solutions,
            test_files,
        } => grade::select(&root, &labs).and_then(|selected| {
            let side = if solutions {
                grade::Side::Solutions
            } else {
                grade::Side::Labs
            };
            miri::run(&root, &selected, side, &test_files)
        }),
        Command::Parity { check } => parity::run(&root, check),
        Command::Stubs { labs } => grade::select(&root, &labs)
            .and_then(|selected| stubs::write(&root, &selected))
            .map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The workspace this tool was built in: the parent of `xtask/`.
fn default_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
