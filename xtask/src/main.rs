//! The gclabs course tool, reached as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! `cargo xtask grade` is a pipeline, and the folders are its layers, top to bottom. A module
//! imports only from its own layer or the ones below it (`xtask/tests/layers.rs` checks it):
//!
//! ```text
//!   commands  one module per subcommand: parse what was asked, wire the layers below, write
//!      |      the output and the history (grade, list, hint, watch, reset, check, book, bench, run,
//!      |      ...)
//!   report    results in, text out: human, JSON lines, JUnit, Gradescope; progress on stderr
//!      |
//!   grade     labs and tests in, results out (plain data, the shared decisions made once)
//!      |
//!   run       cargo builds, one test in its own process under limits, as a user of its own
//!      |
//!   course    what is on disk: the checkout, lab.toml, checksums, stubs, the pristine copy,
//!             the book's sections, the saved history
//! ```
//!
//! `text` (wrapping and quoting words) sits below them all.

mod commands;
mod course;
mod grade;
mod report;
mod run;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// gclabs: learn how CPython manages memory by rebuilding it in Rust.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    /// The gclabs checkout to work on (default: the one the command is run in, found from the
    /// current folder up). An instructor can point it at a learner's checkout.
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
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Run only the graded test with this name.
        #[arg(long, value_name = "NAME")]
        test: Option<String>,
        /// Grade the reference solutions instead of your work (they must score 100%).
        #[arg(long, conflicts_with = "submission")]
        solutions: bool,
        /// Print one JSON object per test, one per line, instead of the report (the same as
        /// `--format json`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// The output format (default: human, the report for people).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<report::Format>,
        /// Write the results to FILE instead of stdout (json, gradescope and junit only).
        /// Gradescope reads /autograder/results/results.json.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Grade with the course's original tests, whatever the checkout's copies say.
        ///
        /// The grader checks every lab's graded files (lab.toml, tests/, the files tests
        /// include) against labs/checksums.txt and always reports the ones changed. With
        /// --pristine, it grades a copy of the checkout (in <target>/gclabs-pristine) that holds
        /// the original files instead, and never writes the checkout itself. The originals come
        /// from --pristine-from, the course the command runs in, or git history
        /// (`git cat-file`); grading stops with an error if one cannot be found.
        #[arg(long)]
        pristine: bool,
        /// A clean copy of the course (a fresh clone, say) to take the original graded files and
        /// the checksum list from (default: the course the command runs in, then git).
        #[arg(long, value_name = "DIR")]
        pristine_from: Option<PathBuf>,
        /// Grade the lab sources found in DIR in a pristine copy of the course (implies
        /// --pristine).
        ///
        /// Only each selected lab's src/ is taken from DIR; DIR may be a learner's repository
        /// (labs/NN-name/src, also inside one top folder), a lab folder (NN-name/src), or, when
        /// one lab is graded, a lab's src/ folder or its files. This is what the Gradescope
        /// autograder runs.
        #[arg(long, value_name = "DIR")]
        submission: Option<PathBuf>,
        /// Show the output of every failing test, not only the next one's.
        #[arg(long, short)]
        verbose: bool,
        /// Skip the measurements some labs run after their tests (lab 02's allocator speed and
        /// memory use, lab 03's collector speed), which need a release build.
        #[arg(long)]
        no_measure: bool,
        /// Skip the Miri run of the tests marked for it (`miri = true` in lab.toml), which runs
        /// them again under Miri, where it is installed, to find undefined behaviour.
        #[arg(long)]
        no_miri: bool,
    },
    /// Show the hints of a graded test, one more step each time you ask.
    Hint {
        /// The lab's number.
        #[arg(value_parser = course::labs::parse_number)]
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
    /// Grade the lab you are editing again each time you save a file of it, until Ctrl-C.
    ///
    /// The system says when a file of a lab changes, and every two seconds it also reads the
    /// modification times of the lab's files itself (where no change event arrives: network and
    /// container folders); it grades once the files have stopped changing. Enter grades again at once. Without --lab it follows your edits: it
    /// starts on the lab you changed last (or the first lab not at full marks), and moves to
    /// another lab when you save a file of it. The slow parts of `cargo xtask grade` are
    /// skipped: the measurement, and the Miri run of the tests marked for it.
    Watch {
        /// Watch only this lab (by number).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        lab: Option<u32>,
        /// Do not watch the files: grade again each time you press Enter (q and Enter to stop).
        /// For folders where modification times are unreliable (some network or shared
        /// folders), or when you would rather choose when.
        #[arg(long)]
        manual: bool,
    },
    /// List the labs and their graded tests, with points and what your last grade passed.
    ///
    /// It reads the results the last `cargo xtask grade` saved (nothing is built or run), and
    /// says when a lab was not graded since you last changed it. A lab with many tests is shown
    /// one line per book section, one mark per test.
    List {
        /// Only this lab (by number).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        lab: Option<u32>,
        /// One line per test, with its book section, even for a lab with many tests.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Put a lab's stubs back, as in a fresh clone, keeping your version as a backup.
    ///
    /// It lists the files it would change and asks first. Your whole labs/NN-name/src is copied
    /// to backups/NN-name-<UTC time>/src (outside target/, so `cargo clean` keeps it; git
    /// ignores it) before anything changes, and it says how to get it back. The lab's hints
    /// start again from the first step.
    Reset {
        /// The lab's number.
        #[arg(value_parser = course::labs::parse_number)]
        lab: u32,
        /// Do not ask (needed where there is no terminal to ask on). The backup is still made.
        #[arg(long, short)]
        yes: bool,
    },
    /// Check the course's own contract (for maintainers): stubs fail, solutions pass, metadata,
    /// stubs, solutions and book agree, tests climb in even steps, fmt and clippy are clean.
    Check {
        /// Only this lab's checks (by number; repeat for several); the course-wide checks (book,
        /// checksums, fmt, clippy) run in any case.
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Also print each lab's staircase: the TODO sites each graded test needs beyond the
        /// tests before it, measured by running the tests with the sites solved one by one.
        #[arg(long)]
        steps: bool,
    },
    /// Build the book into book/build (needs mdBook 0.5).
    Book,
    /// Measure the labs' workloads (docs/workloads.md) on your crates, or the references, beside
    /// the allocators and collectors people use (CPython, glibc, mimalloc, gc-arena,
    /// bacon_rajan_cc, rust-gc, dumpster), in one run: one table per case.
    ///
    /// Builds the bench/ package in release mode (its peers are compiled only here, never by
    /// `grade`), then runs each implementation of a case in a process of its own, round after
    /// round. CPython takes part through `python3` when it is there. Slow: about ten minutes for
    /// every lab at the workloads' sizes; `--lab` and `--case` choose fewer.
    Bench {
        /// Only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Measure the reference solutions instead of your crates.
        #[arg(long)]
        solutions: bool,
        /// Rounds per implementation (the table shows their median and spread).
        #[arg(long, default_value_t = commands::bench::DEFAULT_ROUNDS, value_name = "N")]
        rounds: usize,
        /// The size of workloads C, G, M and P (default 1,000,000, the workloads' own).
        #[arg(long, value_name = "N")]
        n: Option<usize>,
        /// Only the cases whose name contains this (`C.`, `d_random`, `global`).
        #[arg(long, value_name = "TEXT")]
        case: Option<String>,
        /// Also write the results as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also write each lab's tables to book/src/NN-name/bench.txt, which the lab's
        /// performance page shows (for maintainers).
        #[arg(long)]
        book: bool,
        /// Measure nothing: show the tables of a run saved with --json (with --book, write them
        /// to the book).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "solutions", "case", "n"])]
        from: Option<PathBuf>,
    },
    /// Draw the book's figures again from the reference solutions (for maintainers): every
    /// solution's `figures` example, which writes the SVGs of its chapter that changed.
    Figures {
        /// Only compare: exit 1 when a committed figure is not what the references draw now
        /// (`cargo test` checks the same).
        #[arg(long)]
        check: bool,
    },
    /// Run a lab's graded tests under Miri, which finds undefined behaviour in `unsafe` code
    /// (needs a nightly toolchain with the miri component).
    Miri {
        /// Only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
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
    /// labs/*/parity/*.py, pyrun/parity/*.py) and show which changed; says so and exits 0 when no python3.11 is here.
    Parity {
        /// Compare with the recorded outputs instead of writing them; exit 1 on a difference.
        #[arg(long)]
        check: bool,
    },
    /// Run a Python script on your labs 03 and 04: the course's interpreter (pyrun) runs it
    /// with your collector finding the cycles and your scheduler starting the collections.
    ///
    /// The interpreter is built on demand (the first time takes about a minute: it parses
    /// Python with a crate of its own). A construct outside the subset stops the script with its
    /// line; so does an endless loop (the step limit) or an endless allocation (the heap limit).
    /// The book's last chapter says what the subset holds.
    Run {
        /// The script.
        script: PathBuf,
        /// Run it on the reference solutions instead of your labs.
        #[arg(long)]
        solutions: bool,
        /// Also run it with CPython 3.11 and compare the two outputs line by line.
        #[arg(long)]
        compare: bool,
        /// The step limit: statements and loop iterations, at most (default 10000000).
        #[arg(long, value_name = "N")]
        max_steps: Option<u64>,
        /// The heap limit: objects alive at once, at most (default 5000000).
        #[arg(long, value_name = "N")]
        max_objects: Option<u64>,
    },
    /// Rewrite labs/checksums.txt, the git blob ids of every lab's graded files (for
    /// maintainers, after changing a test; `cargo test` fails while the list is stale).
    Checksums {
        /// Only compare: list the differences and exit 1 when the list is stale.
        #[arg(long)]
        check: bool,
    },
    /// Build a Gradescope autograder bundle for the chosen labs (for instructors).
    ///
    /// The zip holds setup.sh (installs Rust if missing, builds the grader and warms its cache),
    /// run_autograder (grades a submission's src/ with the course's original tests and writes
    /// results.json), README.txt and the course. docs/classroom.md says how to use it.
    Autograder {
        /// The labs the bundle grades (by number; repeat for several; default: every lab).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Where to write the zip (default: target/gclabs-autograder-labNN.zip; the workflow of
        /// --github-classroom goes to stdout by default).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Write a GitHub Classroom workflow instead: one autograding step per graded test,
        /// worth its points, grading with the course's original tests.
        #[arg(long)]
        github_classroom: bool,
    },
    /// Show the limits each graded test runs under, and how this machine enforces them.
    Limits,
    /// Measure how many wrong solutions the graded tests catch (for maintainers): cargo-mutants
    /// changes the code between the solution's markers one small way at a time and runs the
    /// lab's graded tests on each change. Slow: minutes to hours per lab.
    Mutants {
        /// Only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Only list the mutants.
        #[arg(long)]
        list: bool,
        /// Parallel jobs (each builds its own copy of the course).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
    },
    /// Run every random-program test (`random_…`) with fresh seeds for as long as asked, and
    /// report the seeds that fail, with the command that replays each.
    Soak {
        /// The whole time, shared by the tests (1 minute: about 10 s per test of labs 01 to 03).
        #[arg(long, default_value_t = 1.0)]
        minutes: f64,
        /// Only this lab (by number; repeat for several).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
        /// Soak the reference solutions instead of your work.
        #[arg(long)]
        solutions: bool,
    },
    /// Regenerate the stubs in labs/*/src from the solutions (for maintainers). Files that change
    /// are backed up under target/gclabs-backups first.
    Stubs {
        /// Only this lab (by number).
        #[arg(long = "lab", value_name = "N", value_parser = course::labs::parse_number)]
        labs: Vec<u32>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The checkout to work on, found at run time: `--root`, or the checkout the command runs in.
    let located = match (&cli.command, &cli.root) {
        (Command::Parity { .. } | Command::Book, Some(dir)) => course::labs::folder(dir),
        _ => course::labs::locate(cli.root.as_deref()),
    };
    let root = match located {
        Ok(root) => root,
        Err(message) => {
            // `grade` says why in its output format too (a results.json with score 0, a JUnit
            // error), as it does for every reason it cannot grade.
            if let Command::Grade {
                format,
                json,
                output,
                ..
            } = &cli.command
            {
                commands::grade::refuse(&grade_delivery(*json, *format, output.clone()), &message);
            }
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Grade {
            labs,
            test,
            solutions,
            json,
            format,
            output,
            pristine,
            pristine_from,
            submission,
            verbose,
            no_measure,
            no_miri,
        } => {
            let delivery = commands::grade::Delivery {
                pristine,
                pristine_from,
                submission,
                ..grade_delivery(json, format, output)
            };
            commands::grade::run(&commands::grade::Options {
                root,
                labs,
                test,
                side: if solutions {
                    grade::Side::Solutions
                } else {
                    grade::Side::Labs
                },
                verbose,
                measure: !no_measure,
                miri: !no_miri,
                delivery,
            })
        }
        Command::Hint {
            lab,
            test,
            all,
            reset,
        } => commands::hint::run(
            &root,
            &commands::hint::Options {
                lab,
                test,
                all,
                reset,
            },
        ),
        Command::Watch { lab, manual } => {
            commands::watch::run(&root, &commands::watch::Options { lab, manual })
        }
        Command::List { lab, verbose } => {
            commands::list::run(&root, &commands::list::Options { lab, verbose })
        }
        Command::Reset { lab, yes } => {
            commands::reset::run(&root, &commands::reset::Options { lab, yes })
        }
        Command::Check { labs, steps } => {
            commands::check::run(&root, &commands::check::Options { labs, steps })
        }
        Command::Book => commands::book::build(&root),
        Command::Bench {
            labs,
            solutions,
            rounds,
            n,
            case,
            json,
            book,
            from,
        } => commands::bench::run(
            &root,
            &commands::bench::Options {
                labs,
                solutions,
                rounds,
                n,
                case,
                json,
                book,
                from,
            },
        ),
        Command::Figures { check } => commands::figures::run(&root, check),
        Command::Miri {
            labs,
            solutions,
            test_files,
        } => course::labs::select(&root, &labs).and_then(|selected| {
            let side = if solutions {
                grade::Side::Solutions
            } else {
                grade::Side::Labs
            };
            commands::miri::run(&root, &selected, side, &test_files)
        }),
        Command::Parity { check } => commands::parity::run(&root, check),
        Command::Run {
            script,
            solutions,
            compare,
            max_steps,
            max_objects,
        } => commands::run::run(
            &root,
            &commands::run::Options {
                script,
                solutions,
                compare,
                max_steps,
                max_objects,
            },
        ),
        Command::Checksums { check } => commands::checksums::run(&root, check),
        Command::Autograder {
            labs,
            output,
            github_classroom,
        } => commands::autograder::run(
            &root,
            &commands::autograder::Options {
                labs,
                output,
                github_classroom,
            },
        ),
        Command::Limits => commands::limits::run(&root),
        Command::Mutants { labs, list, jobs } => {
            commands::mutants::run(&root, &commands::mutants::Options { labs, list, jobs })
        }
        Command::Soak {
            minutes,
            labs,
            solutions,
        } => commands::soak::run(
            &root,
            &commands::soak::Options {
                labs,
                minutes,
                side: if solutions {
                    grade::Side::Solutions
                } else {
                    grade::Side::Labs
                },
            },
        ),
        Command::Stubs { labs } => course::labs::select(&root, &labs)
            .and_then(|selected| commands::stubs::write(&root, &selected))
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

/// Where `grade` delivers its results: `--json` is `--format json`; the default is the report for
/// people.
fn grade_delivery(
    json: bool,
    format: Option<report::Format>,
    output: Option<PathBuf>,
) -> commands::grade::Delivery {
    commands::grade::Delivery {
        format: if json {
            report::Format::Json
        } else {
            format.unwrap_or_default()
        },
        output,
        ..Default::default()
    }
}
