//! `pyrun SCRIPT.py [--solutions] [--summary] [--max-steps N] [--max-objects N]`: runs a Python
//! script on labs 03 and 04 (yours, or the references with `--solutions`). `cargo xtask run`
//! builds and calls it; it can also be run by hand from `target/debug/pyrun`. `--summary` ends
//! the run with a line on stderr naming the collector and what it did.
//!
//! The script's output goes to stdout and stderr as CPython's would; the interpreter's own
//! messages (a construct outside the subset, a limit, a lab that is not finished) go to stderr,
//! each on a line starting with `pyrun:`. The exit status is the script's (0, or 1 for an
//! uncaught exception), or 2 when the interpreter stopped it, or 3 when a lab panicked.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

use pyrun::{Limits, Outcome, Side};

/// The message and place of the last panic, kept by the panic hook for the report.
static PANIC: Mutex<Option<(String, String, u32)>> = Mutex::new(None);

const USAGE: &str =
    "usage: pyrun SCRIPT.py [--solutions] [--summary] [--max-steps N] [--max-objects N]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut script = None;
    let mut side = Side::Labs;
    let mut limits = Limits::default();
    let mut summary = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--solutions" => side = Side::Solutions,
            "--summary" => summary = true,
            "--max-steps" | "--max-objects" => {
                let Some(n) = args
                    .next()
                    .and_then(|n| n.replace('_', "").parse::<u64>().ok())
                else {
                    eprintln!("pyrun: {arg} needs a whole number\n{USAGE}");
                    return ExitCode::from(2);
                };
                if arg == "--max-steps" {
                    limits.max_steps = n;
                } else {
                    limits.max_objects = usize::try_from(n).unwrap_or(usize::MAX);
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => {
                eprintln!("pyrun: unknown option {other}\n{USAGE}");
                return ExitCode::from(2);
            }
            other => script = Some(other.to_string()),
        }
    }
    let Some(script) = script else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let source = match std::fs::read_to_string(&script) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pyrun: cannot read {script}: {e}");
            return ExitCode::from(2);
        }
    };
    // A panic inside a lab is reported in words, not as a trace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let (file, line) = info
            .location()
            .map_or((String::new(), 0), |l| (l.file().to_string(), l.line()));
        if let Ok(mut slot) = PANIC.lock() {
            *slot = Some((message, file, line));
        }
    }));
    // Python code nests Rust calls (a call, a finalizer inside a call...): a large stack.
    let path = script.clone();
    let run = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let stdout = Box::new(std::io::BufWriter::new(std::io::stdout()));
            let stderr = Box::new(std::io::stderr());
            let (outcome, gc) = pyrun::run_summarised(&source, &path, side, limits, stdout, stderr);
            let _ = std::io::stdout().flush();
            report(&outcome, side);
            let ended = matches!(outcome, Outcome::Finished | Outcome::Exception(_));
            if let Some(gc) = gc.filter(|_| summary && ended) {
                eprintln!("pyrun: {gc}.");
            }
            outcome.status()
        })
        .expect("a thread for the interpreter");
    match run.join() {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(2)),
        Err(_) => {
            let _ = std::io::stdout().flush();
            let panic = PANIC.lock().ok().and_then(|mut p| p.take());
            eprintln!("{}", explain_panic(panic, side, &script));
            ExitCode::from(3)
        }
    }
}

/// The interpreter's own message about how the run ended, if it has one.
fn report(outcome: &Outcome, side: Side) {
    match outcome {
        Outcome::Finished | Outcome::Exception(_) => {}
        Outcome::Stopped(stop) => eprintln!("pyrun: {stop}"),
        Outcome::NotRun(e) => eprintln!("pyrun: {e}"),
        Outcome::Unavailable(_) => eprintln!(
            "pyrun: this build has no {}; build it with `--features {}`",
            match side {
                Side::Labs => "labs",
                Side::Solutions => "reference solutions",
            },
            match side {
                Side::Labs => "labs",
                Side::Solutions => "solutions",
            }
        ),
    }
}

/// Says in words what a panic means: a `todo!()` of an unfinished lab, or a lab's bug.
fn explain_panic(panic: Option<(String, String, u32)>, side: Side, script: &str) -> String {
    let Some((message, file, line)) = panic else {
        return "pyrun: the interpreter stopped on a panic it could not describe".to_string();
    };
    let lab = if file.contains("03-cycles") {
        Some(("03", 3))
    } else if file.contains("04-generations") {
        Some(("04", 4))
    } else {
        None
    };
    let function = enclosing_function(&file, line)
        .map(|f| format!("`{f}`"))
        .unwrap_or_else(|| "a function".to_string());
    match (lab, side) {
        (Some((name, number)), Side::Labs) if message.starts_with("not yet implemented") => {
            format!(
                "pyrun: your lab {name} is not finished: the script reached {function} \
             ({file}:{line}), which is still a todo!().\n  Finish it (`cargo xtask grade --lab \
             {number}` says what is missing), or run the script on the reference solutions: \
             cargo xtask run {script} --solutions"
            )
        }
        (Some((name, number)), Side::Labs) => format!(
            "pyrun: your lab {name} panicked in {function} ({file}:{line}): {message}\n  \
             `cargo xtask grade --lab {number}` may show which test catches it; `cargo xtask run \
             {script} --solutions` runs the script on the reference solutions"
        ),
        _ => format!(
            "pyrun: the run stopped on a panic at {file}:{line}: {message}\n  (on {}; this is \
             a bug of the course's code: please report it with the script)",
            match side {
                Side::Labs => "your labs",
                Side::Solutions => "the reference solutions",
            }
        ),
    }
}

/// The name of the `fn` that line `line` of `file` is in, read from the source.
fn enclosing_function(file: &str, line: u32) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let path = if Path::new(file).is_absolute() {
        Path::new(file).to_path_buf()
    } else {
        root.join(file)
    };
    let source = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = source.lines().collect();
    let start = usize::try_from(line).ok()?.min(lines.len());
    lines[..start].iter().rev().find_map(|l| {
        let at = l.find("fn ")?;
        let rest = &l[at + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}
