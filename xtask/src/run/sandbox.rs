//! Running one graded test in its own process, under limits, and saying what happened.
//!
//! A learner's code can panic, abort, corrupt memory, recurse forever, loop forever, allocate
//! without bound, flood the terminal or call `process::exit(0)`. Each of these must end as that
//! one test's failure, with a reason a learner can act on, and never as a pass, a hung grader or a
//! crashed grader. So every test runs in a fresh process, in its own process group (so that
//! anything it spawns is killed with it), with limits on time, address space, output, processes
//! (see `proclimit.rs`) and core dumps, as a user other than root (see `identity.rs`), and the
//! outcome is read from its exit status and output, in that order of trust.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::course::labs::Limits;
use crate::run::identity;
use crate::run::proclimit;

/// How much output a test may write before it is stopped (`RLIMIT_FSIZE`): far more than any
/// honest test prints, far less than a runaway print loop would.
pub const OUTPUT_LIMIT_BYTES: u64 = 64 << 20;
/// How much of a test's output is kept for the report: the head and the tail, this much each.
const KEEP_BYTES: usize = 8 << 10;

/// What happened to one graded test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The test ran to completion and passed.
    Passed,
    /// The code reached a `todo!()`: the task is not started yet.
    NotStarted {
        /// Where the `todo!()` is, as `file:line`, when the panic message says.
        at: Option<String>,
    },
    /// A panic: a failed assertion or an explicit `panic!`/`unwrap`.
    Failed {
        /// The panic message (a pretty_assertions diff for a failed comparison).
        message: String,
        /// Where it panicked, as `file:line:col`.
        at: Option<String>,
    },
    /// Killed after the time limit.
    TimedOut {
        /// The limit that was exceeded.
        secs: u64,
    },
    /// The stack overflowed (unbounded recursion).
    StackOverflow,
    /// An allocation failed under the memory cap.
    OutOfMemory {
        /// The cap.
        mib: u64,
    },
    /// The test printed more than [`OUTPUT_LIMIT_BYTES`].
    OutputLimit,
    /// The test tried to run more processes or threads at once than its cap allows.
    ProcessLimit {
        /// The cap.
        max: u32,
    },
    /// Killed by a signal: a segfault, an abort, ...
    Crashed {
        /// The signal's number.
        signal: i32,
    },
    /// The process ended before the test finished, with this exit code (`process::exit`).
    ExitedEarly {
        /// The exit code.
        code: i32,
    },
    /// The test binary has no test of that name (was it renamed or deleted?).
    Missing,
    /// The lab did not compile, so the test could not run.
    NotCompiled,
    /// The test's checking allocator (testkit's `alloc`) caught memory misused: a block read,
    /// written or freed again after it was freed, or used past its end.
    MemoryError {
        /// What the allocator said, in the lab's words.
        message: String,
    },
    /// The test's checking allocator found memory the code allocated and never freed.
    Leak {
        /// What it said, in the lab's words.
        message: String,
    },
    /// The test passed, but Miri found undefined behaviour (or a leak) when it ran it again.
    UndefinedBehaviour {
        /// What Miri said, in plain words.
        plain: String,
        /// Miri's own message, with the operation and the line.
        message: String,
    },
}

impl Outcome {
    /// A stable name for machine-readable output.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::NotStarted { .. } => "not_started",
            Outcome::Failed { .. } => "failed",
            Outcome::TimedOut { .. } => "timed_out",
            Outcome::StackOverflow => "stack_overflow",
            Outcome::OutOfMemory { .. } => "out_of_memory",
            Outcome::OutputLimit => "output_limit",
            Outcome::ProcessLimit { .. } => "process_limit",
            Outcome::Crashed { .. } => "crashed",
            Outcome::ExitedEarly { .. } => "exited_early",
            Outcome::Missing => "missing",
            Outcome::NotCompiled => "not_compiled",
            Outcome::UndefinedBehaviour { .. } => "undefined_behaviour",
            Outcome::MemoryError { .. } => "memory_error",
            Outcome::Leak { .. } => "leak",
        }
    }

    /// One line saying what happened, in words a learner can act on.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Passed => "passed".into(),
            Outcome::NotStarted { at: Some(at) } => format!("not started: todo!() at {at}"),
            Outcome::NotStarted { at: None } => "not started: reached a todo!()".into(),
            Outcome::Failed { message, at } => {
                let first = message
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("panicked");
                match at {
                    // The words first: a one-line summary is cut to the terminal's width.
                    Some(at) => format!("failed: {first} (at {at})"),
                    None => format!("failed: {first}"),
                }
            }
            Outcome::TimedOut { secs } => {
                format!("timed out after {secs} s: an endless loop, or far too slow")
            }
            Outcome::StackOverflow => {
                "stack overflow: unbounded recursion (or recursion as deep as the data)".into()
            }
            Outcome::OutOfMemory { mib } => {
                format!("ran out of memory: allocated more than the {mib} MiB cap")
            }
            Outcome::OutputLimit => format!(
                "printed more than {} MiB of output and was stopped",
                OUTPUT_LIMIT_BYTES >> 20
            ),
            Outcome::ProcessLimit { max } => format!(
                "started more processes or threads than its cap of {max} at once: a fork bomb, \
                 or a loop that spawns without waiting"
            ),
            Outcome::Crashed { signal } => match *signal {
                libc::SIGSEGV | libc::SIGBUS => format!(
                    "crashed ({}): invalid memory access, usually an `unsafe` block \
                     using a dangling or freed pointer",
                    signal_name(*signal)
                ),
                libc::SIGABRT => "aborted (SIGABRT): a panic while panicking (often in Drop), \
                                  or `std::process::abort`"
                    .into(),
                libc::SIGILL => "crashed (SIGILL): an illegal instruction, often \
                                 `unreachable_unchecked` reached or a failed safety check"
                    .into(),
                s => format!("killed by signal {} ({s})", signal_name(s)),
            },
            Outcome::ExitedEarly { code } => format!(
                "the test process exited with code {code} before the test finished: \
                 something called `std::process::exit`"
            ),
            Outcome::Missing => "not found in the test binary: was it renamed, deleted or \
                                 put behind #[cfg]/#[ignore]?"
                .into(),
            Outcome::NotCompiled => "not run: the lab does not compile".into(),
            Outcome::MemoryError { message } | Outcome::Leak { message } => message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("memory misused")
                .to_string(),
            Outcome::UndefinedBehaviour { plain, .. } => {
                format!("passes, but Miri found undefined behaviour: {plain}")
            }
        }
    }
}

/// The result of running one test: what happened, its output (head and tail), and how long.
#[derive(Debug, Clone)]
pub struct Run {
    /// What happened.
    pub outcome: Outcome,
    /// Everything the test printed, cut to its head and tail when long.
    pub output: String,
    /// Wall-clock time.
    pub duration: Duration,
}

/// Runs test `name` of the libtest binary `exe`, alone, under `limits`.
pub fn run_test(exe: &Path, name: &str, limits: Limits, cwd: &Path) -> Run {
    run_test_with(exe, name, limits, cwd, &[])
}

/// [`run_test`], with these environment variables set for the test.
pub fn run_test_with(
    exe: &Path,
    name: &str,
    limits: Limits,
    cwd: &Path,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        name,
        "--test-threads=1",
        "--nocapture",
        "--color=never",
    ])
    .current_dir(cwd)
    .env("RUST_BACKTRACE", "0")
    .envs(env.iter().copied());
    match run_limited(cmd, limits) {
        Err(message) => Run {
            outcome: Outcome::Failed {
                message: format!("the grader could not run this test: {message}"),
                at: None,
            },
            output: String::new(),
            duration: Duration::ZERO,
        },
        Ok(Finished {
            process_cap_hit: true,
            status,
            output,
            duration,
        }) if status.is_none_or(|s| classify(s, &output, limits) != Outcome::Passed) => Run {
            outcome: Outcome::ProcessLimit {
                max: limits.processes,
            },
            output,
            duration,
        },
        Ok(Finished {
            status: None,
            output,
            duration,
            ..
        }) => Run {
            outcome: Outcome::TimedOut {
                secs: limits.timeout_secs,
            },
            output,
            duration,
        },
        Ok(Finished {
            status: Some(status),
            output,
            duration,
            ..
        }) => Run {
            outcome: classify(status, &output, limits),
            output,
            duration,
        },
    }
}

/// How a limited process ended.
pub struct Finished {
    /// Its exit status, or `None` when it was killed at the time limit.
    pub status: Option<ExitStatus>,
    /// Its standard output and error, interleaved, cut to head and tail when long.
    pub output: String,
    /// Wall-clock time.
    pub duration: Duration,
    /// Whether the process (or what it started) reached the cap on processes: a fork failed.
    pub process_cap_hit: bool,
}

/// Runs `cmd` in its own process group under `limits` (time, address space, output size,
/// processes, no core dumps), as the user that runs learners' code (`identity.rs`), with its output
/// captured; kills the group at the time limit, and in any case when the process ends, so nothing
/// it spawned outlives it (with a pids cgroup, not even what left the group). `cmd`'s program must
/// be a path (not a name to look up in `PATH`).
pub fn run_limited(cmd: Command, limits: Limits) -> Result<Finished, String> {
    run_limited_keeping(cmd, limits, KEEP_BYTES)
}

/// [`run_limited`], keeping `keep` bytes of the head and of the tail of the output.
pub fn run_limited_keeping(cmd: Command, limits: Limits, keep: usize) -> Result<Finished, String> {
    run_under_limits(cmd, limits, keep, true)
}

/// [`run_limited`] for a program of the grader's own that must write where the grader writes
/// (cargo building a lab, for Miri): the same limits, but as the grader's user. Only for code that
/// runs the learner's in isolation (Miri interprets it, with no access to files or processes).
pub fn run_limited_as_grader(cmd: Command, limits: Limits) -> Result<Finished, String> {
    run_under_limits(cmd, limits, KEEP_BYTES, false)
}

fn run_under_limits(
    mut cmd: Command,
    limits: Limits,
    keep: usize,
    as_test_user: bool,
) -> Result<Finished, String> {
    let started = Instant::now();
    let log = tempfile().map_err(|e| format!("could not create a temporary file: {e}"))?;
    let (out, err) = (
        log.try_clone().map_err(|e| e.to_string())?,
        log.try_clone().map_err(|e| e.to_string())?,
    );
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let memory = limits.memory_mib << 20;
    let user = match identity::run_as() {
        identity::RunAs::User { uid, gid, .. } if as_test_user => Some((*uid, *gid)),
        _ => None,
    };
    let exec = Exec::prepare(&cmd, user.is_some())?;
    let cap = proclimit::Cap::new(limits.processes)?;
    let (cgroup_procs, nproc) = cap.for_child();
    let grader = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // `PR_SET_PDEATHSIG` below fires when the *thread* that forked exits: tests are started from
    // the grader's main thread, which lives as long as the grader.
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // functions may be called: `setrlimit`, `setgroups`, `setgid`, `setuid`, `prctl`, `getppid`,
    // `fexecve`, and in `proclimit::join`, `getpid`, `open`, `write`, `close`. It allocates
    // nothing (the paths and the exec vectors were made before).
    unsafe {
        cmd.pre_exec(move || {
            // Joining the cgroup needs root: first.
            if let Some(procs) = &cgroup_procs {
                proclimit::join(procs)?;
            }
            set_limit(libc::RLIMIT_AS, memory)?;
            set_limit(libc::RLIMIT_FSIZE, OUTPUT_LIMIT_BYTES)?;
            set_limit(libc::RLIMIT_CORE, 0)?;
            if let Some(n) = nproc {
                set_limit(libc::RLIMIT_NPROC, n)?;
            }
            if let Some((uid, gid)) = user {
                identity::become_user(uid, gid)?;
            }
            // If the grader itself is killed (even by SIGKILL), the test dies with it. Had the
            // grader already died between the fork and here, the signal would never come:
            // then the test must not start at all. (After the change of user: the kernel clears
            // this signal when a process changes its credentials.)
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != grader {
                // No allocation here (another thread may hold the allocator's lock): a plain code.
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Err(exec.exec())
        });
    }
    interrupt::install();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            cap.finish();
            return Err(format!("could not start {:?}: {e}", cmd.get_program()));
        }
    };
    let _running = interrupt::Running::new(child.id());
    let deadline = started + Duration::from_secs(limits.timeout_secs);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                kill_group(child.id());
                cap.finish();
                return Err(format!("could not wait for the process: {e}"));
            }
        }
    };
    // Kill the whole group: on a timeout the process itself, and in every case anything it
    // spawned and left behind; then whatever is left in its cgroup.
    kill_group(child.id());
    if status.is_none() {
        let _ = child.wait();
    }
    let cgroup_saw_it = cap.finish();
    let output = read_log(log, keep);
    // Without a cgroup to count, a failed fork shows as EAGAIN in what the test printed.
    let process_cap_hit = cgroup_saw_it
        || (matches!(proclimit::mechanism(), proclimit::Mechanism::Rlimit)
            && output.contains("Resource temporarily unavailable"));
    Ok(Finished {
        status,
        output,
        duration: started.elapsed(),
        process_cap_hit,
    })
}

/// How testkit's checking allocators begin what they caught (`testkit/src/alloc.rs`).
const MEMORY_ERROR: &str = "memory error: ";
const LEAK: &str = "leak: ";

/// Reads the outcome from the exit status and the output.
fn classify(status: ExitStatus, output: &str, limits: Limits) -> Outcome {
    let passed_line = output
        .lines()
        .any(|l| l.starts_with("test result: ok. 1 passed"));
    let ran_nothing = output.lines().any(|l| l.trim() == "running 0 tests");
    if output.contains("has overflowed its stack") {
        return Outcome::StackOverflow;
    }
    if output.contains("memory allocation of") && output.contains("failed") {
        return Outcome::OutOfMemory {
            mib: limits.memory_mib,
        };
    }
    // testkit's checking allocators say what they caught on a line of their own, and a fault
    // in a guarded block kills the process right after.
    if let Some(at) = output.find(MEMORY_ERROR) {
        let said: Vec<&str> = output[at..]
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .take(4)
            .collect();
        return Outcome::MemoryError {
            message: said.join("\n"),
        };
    }
    let panic = find_panic(output);
    if let Some(Outcome::Failed { message, .. }) = &panic
        && message.starts_with(LEAK)
    {
        return Outcome::Leak {
            message: message.clone(),
        };
    }
    if let Some(signal) = status.signal() {
        if signal == libc::SIGXFSZ {
            return Outcome::OutputLimit;
        }
        // A todo!() reached while unwinding from another todo!() aborts; it is still "not started".
        if let Some(p @ Outcome::NotStarted { .. }) = panic {
            return p;
        }
        return Outcome::Crashed { signal };
    }
    match status.code() {
        Some(0) if passed_line => Outcome::Passed,
        Some(0) if ran_nothing => Outcome::Missing,
        Some(0) => Outcome::ExitedEarly { code: 0 },
        Some(code) => match panic {
            Some(p) => p,
            None if ran_nothing => Outcome::Missing,
            None => Outcome::ExitedEarly { code },
        },
        None => Outcome::Crashed { signal: 0 },
    }
}

/// Finds the test thread's panic message: `thread 'NAME' panicked at FILE:LINE:COL:` followed by
/// the message, up to libtest's `note:` line or its verdict line.
pub(crate) fn find_panic(output: &str) -> Option<Outcome> {
    let lines: Vec<&str> = output.lines().collect();
    // `thread 'NAME' panicked at FILE:LINE:COL:`, or since Rust 1.91
    // `thread 'NAME' (TID) panicked at FILE:LINE:COL:`.
    let start = lines
        .iter()
        .position(|l| l.starts_with("thread '") && l.contains(" panicked at "))?;
    let header = lines[start];
    let at = header
        .split(" panicked at ")
        .nth(1)
        .map(|s| s.trim_end_matches(':').to_string())
        .filter(|s| !s.is_empty());
    let message: Vec<&str> = lines[start + 1..]
        .iter()
        .take_while(|l| {
            !l.starts_with("note: run with `RUST_BACKTRACE")
                && !l.starts_with("stack backtrace:")
                && !l.starts_with("test ")
                && !l.starts_with("thread '")
        })
        .copied()
        .collect();
    let message = message.join("\n");
    // A `todo!()` panics with "not yet implemented". A test that catches panics (the seeded
    // random programs do) reports it inside its own message, as `panicked at FILE:LINE:COL: not
    // yet implemented`; either way the task is not started, and the place is the todo!()'s.
    if let Some(pos) = message.find("not yet implemented") {
        let before = &message[..pos];
        let inner = before.rfind("panicked at ").map(|i| {
            before[i + "panicked at ".len()..]
                .trim_end()
                .trim_end_matches(':')
                .to_string()
        });
        let place = inner.or(at).map(|a| match a.rsplit_once(':') {
            Some((file_line, col)) if col.chars().all(|c| c.is_ascii_digit()) => {
                file_line.to_string()
            }
            _ => a,
        });
        return Some(Outcome::NotStarted { at: place });
    }
    Some(Outcome::Failed { message, at })
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `limit` is a valid, initialised rlimit that outlives the call.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Ctrl-C (or a `kill`) during a grade: the test runs in a process group of its own, so the
/// terminal's SIGINT never reaches it, and without this it would go on running (an endless loop
/// spinning forever) after the grader is gone. The handler kills the running test's group, then
/// lets the signal end the grader as it would have.
mod interrupt {
    use std::sync::Once;
    use std::sync::atomic::{AtomicI32, Ordering};

    /// The process group of the test running now, or 0.
    static RUNNING: AtomicI32 = AtomicI32::new(0);

    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    extern "C" fn on_signal(signal: libc::c_int) {
        let group = RUNNING.load(Ordering::SeqCst);
        // SAFETY: `kill`, `signal` and `raise` are async-signal-safe; nothing here allocates
        // or takes a lock.
        unsafe {
            if group > 0 {
                libc::kill(-group, libc::SIGKILL);
            }
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }

    /// Installs the handler, once per process.
    pub(super) fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            for signal in SIGNALS {
                // SAFETY: `on_signal` only makes async-signal-safe calls (see above).
                unsafe {
                    libc::signal(signal, on_signal as *const () as libc::sighandler_t);
                }
            }
        });
    }

    /// Records the running test's group while it lives.
    pub(super) struct Running;

    impl Running {
        pub(super) fn new(pid: u32) -> Running {
            RUNNING.store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
            Running
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING.store(0, Ordering::SeqCst);
        }
    }
}

fn kill_group(pid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; a negative pid names the process group
    // the child leads (it was started with `process_group(0)`), and ESRCH is harmless.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn tempfile() -> std::io::Result<File> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            "gclabs-test-{}-{attempt}-{}.log",
            std::process::id(),
            nanos()
        ));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                // Unlinked at once: the open handles keep it readable, and nothing is left behind.
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Reads the log's head and tail, `keep` bytes each; a long middle is replaced by a note of how
/// much was cut.
fn read_log(mut log: File, keep: usize) -> String {
    let len = log.seek(SeekFrom::End(0)).unwrap_or(0) as usize;
    let mut read_at = |offset: usize, n: usize| {
        let mut buf = vec![0; n];
        let _ = log.seek(SeekFrom::Start(offset as u64));
        let got = log.read(&mut buf).unwrap_or(0);
        buf.truncate(got);
        String::from_utf8_lossy(&buf).into_owned()
    };
    if len <= 2 * keep {
        return read_at(0, len);
    }
    let head = read_at(0, keep);
    let tail = read_at(len - keep, keep);
    format!(
        "{head}\n[... {} bytes of output cut ...]\n{tail}",
        len - 2 * keep
    )
}

/// The file `program` names: itself when it has a `/`, else the first match in `PATH`, as a shell
/// would find it.
fn resolve(program: &Path) -> Result<std::path::PathBuf, String> {
    if program.as_os_str().as_bytes().contains(&b'/') {
        return Ok(program.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("{} is not on PATH", program.display()))
}

/// A program ready to be executed from a file descriptor (`fexecve`), with its argument and
/// environment vectors built before the fork, since the child may not allocate.
///
/// Executing the file the grader opened, rather than its path, lets the test's user run it without
/// any right to the folders above it; only the file itself must be executable by that user.
struct Exec {
    file: File,
    /// The strings `argv` and `envp` point into.
    _strings: Vec<CString>,
    /// NUL-terminated.
    argv: Vec<*const libc::c_char>,
    /// NUL-terminated.
    envp: Vec<*const libc::c_char>,
}

// SAFETY: the pointers in `argv` and `envp` point into the heap buffers of `_strings`, which the
// struct owns and never changes, and they are only read (by `fexecve`, in the child).
unsafe impl Send for Exec {}
// SAFETY: as above: shared access only reads.
unsafe impl Sync for Exec {}

impl Exec {
    /// Opens `cmd`'s program and builds its vectors: its arguments, and the grader's environment
    /// with `cmd`'s changes. `for_other_user`: make the file readable and executable by others
    /// (build output, never a learner's file) if it is not.
    fn prepare(cmd: &Command, for_other_user: bool) -> Result<Exec, String> {
        let program = resolve(Path::new(cmd.get_program()))?;
        let program = program.as_path();
        let file = File::open(program)
            .map_err(|e| format!("could not open {}: {e}", program.display()))?;
        if for_other_user {
            let mode = file
                .metadata()
                .map_err(|e| format!("could not read {}: {e}", program.display()))?
                .permissions()
                .mode();
            if mode & 0o005 != 0o005 {
                file.set_permissions(std::fs::Permissions::from_mode(mode | 0o005))
                    .map_err(|e| {
                        format!(
                            "{} must be readable and executable by the user that runs the                              tests, and could not be made so: {e}",
                            program.display()
                        )
                    })?;
            }
        }
        let c_string = |text: &OsStr| {
            CString::new(text.as_bytes())
                .map_err(|_| format!("{text:?} holds a NUL byte and cannot be passed to a program"))
        };
        let mut args = vec![c_string(program.as_os_str())?];
        for arg in cmd.get_args() {
            args.push(c_string(arg)?);
        }
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        for (key, value) in cmd.get_envs() {
            env.retain(|(k, _)| k != key);
            if let Some(value) = value {
                env.push((key.to_owned(), value.to_owned()));
            }
        }
        let mut vars = Vec::new();
        for (key, value) in env {
            let mut pair = key;
            pair.push("=");
            pair.push(value);
            vars.push(c_string(&pair)?);
        }
        let pointers = |strings: &[CString]| {
            let mut v: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
            v.push(std::ptr::null());
            v
        };
        let (argv, envp) = (pointers(&args), pointers(&vars));
        args.extend(vars);
        Ok(Exec {
            file,
            _strings: args,
            argv,
            envp,
        })
    }

    /// Replaces the process with the program; returns only on failure, with the error. Only
    /// `fexecve`, which is async-signal-safe.
    fn exec(&self) -> std::io::Error {
        // SAFETY: the descriptor is open, and `argv` and `envp` are NUL-terminated arrays of
        // pointers to NUL-terminated strings that `self` keeps alive.
        unsafe {
            libc::fexecve(
                self.file.as_raw_fd(),
                self.argv.as_ptr(),
                self.envp.as_ptr(),
            );
        }
        std::io::Error::last_os_error()
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGABRT => "SIGABRT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => "a signal",
    }
}
