//! Miri: the interpreter that finds undefined behaviour (a use after free, a double free, an
//! aliasing violation, a leak) that a normal run of a test may not show.
//!
//! It needs a nightly toolchain with the `miri` component, which stable Rust (all the course needs
//! otherwise) does not have, so it is used where it is installed and said to be missing where not.
//! A test marked `miri = true` in `lab.toml` that passes its normal run is run once more under
//! Miri; undefined behaviour found there is that test's failure, with its message translated into
//! plain words ([`translate`]). Miri runs the learner's code in isolation (no files, no processes,
//! no environment), so it runs as the grader, under a time and memory limit.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::course::labs::Limits;
use crate::run::sandbox::{self, Finished};

/// How to install Miri, for messages.
pub const INSTALL: &str = "rustup toolchain install nightly --component miri";

/// `cargo +nightly`, through rustup's proxy: the `cargo` named by `$CARGO` (the one running xtask)
/// is the stable toolchain's own binary, which does not understand `+nightly`.
pub fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly")
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

/// Whether `cargo +nightly miri` is available here (asked once per run).
pub fn available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        nightly_cargo()
            .args(["miri", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// What Miri said about one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No undefined behaviour.
    Clean,
    /// Undefined behaviour (or a leak): Miri's own message, and what it means in plain words.
    Undefined {
        /// Miri's message, from its `error:` line on.
        message: String,
        /// The same, in plain words ([`translate`]).
        plain: String,
    },
    /// Miri could not say: it timed out, could not run the test, or the test failed under it for
    /// another reason. Not the learner's failure: the normal run passed.
    Unknown {
        /// Why.
        why: String,
    },
}

/// Runs test `name` of test target `target` of `package` (in the workspace at `root`, building
/// into `target_dir` when given) under Miri, within `timeout_secs`.
pub fn run_test(
    root: &Path,
    target_dir: Option<&Path>,
    package: &str,
    target: &str,
    name: &str,
    timeout_secs: u64,
) -> Verdict {
    let mut cmd = nightly_cargo();
    cmd.current_dir(root)
        .envs(target_dir.map(|dir| ("CARGO_TARGET_DIR", dir)))
        .args([
            "miri",
            "test",
            "--quiet",
            "--package",
            package,
            "--test",
            target,
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .args(["--", "--exact", name, "--test-threads=1"]);
    // Miri interprets: a test that takes 50 ms takes seconds, and the interpreter needs memory.
    let limits = Limits {
        timeout_secs,
        memory_mib: 8192,
        processes: 256,
    };
    match sandbox::run_limited_as_grader(cmd, limits) {
        Err(why) => Verdict::Unknown { why },
        Ok(Finished { status: None, .. }) => Verdict::Unknown {
            why: format!("Miri took more than {timeout_secs} s"),
        },
        Ok(Finished {
            status: Some(status),
            output,
            ..
        }) => verdict(status.success(), &output),
    }
}

/// The verdict for Miri's `output`, given whether it succeeded.
fn verdict(success: bool, output: &str) -> Verdict {
    let lines: Vec<&str> = output.lines().collect();
    let error = lines.iter().enumerate().find_map(|(i, l)| {
        ["error: Undefined Behavior", "error: memory leaked"]
            .iter()
            .find_map(|start| l.find(start))
            .map(|at| (i, at))
    });
    if let Some((start, at)) = error {
        let mut message = vec![&lines[start][at..]];
        message.extend(
            lines[start + 1..]
                .iter()
                .take_while(|l| !l.trim().is_empty())
                .take(30),
        );
        let message = message.join("\n");
        return Verdict::Undefined {
            plain: translate(&message),
            message,
        };
    }
    if success {
        return Verdict::Clean;
    }
    let why = output
        .lines()
        .find(|l| l.starts_with("error") || l.contains("panicked at"))
        .unwrap_or("the test did not pass under Miri")
        .trim()
        .to_string();
    Verdict::Unknown { why }
}

/// One line, in plain words, for Miri's most common messages.
pub fn translate(message: &str) -> String {
    let m = message.to_lowercase();
    let plain = if m.contains("memory leaked") {
        "memory was allocated and never freed (a leak)"
    } else if m.contains("has been freed") || m.contains("use-after-free") {
        "memory was used after it was freed (a use after free): a pointer outlived what it points to"
    } else if m.contains("strongly protected") || m.contains("protector") {
        "memory was freed or changed while a reference passed to a function still pointed to it: \
         in this course, most often a box freed while an `Rc`, a `Weak` or the value was still in \
         use (free only after everything that reads the box is done)"
    } else if m.contains("does not exist in the borrow stack")
        || m.contains("does not exist in the borrow tree")
        || m.contains("stacked borrows")
        || m.contains("tree borrows")
    {
        "a pointer was used after a conflicting reference made it invalid (an aliasing rule of \
         Rust's: do not keep a raw pointer across a `&mut` to the same memory, and derive each \
         pointer from the one with the right to use it)"
    } else if m.contains("out-of-bounds") || m.contains("outside the bounds") {
        "memory was read or written past the end of its allocation (an off-by-one, or the wrong \
         size)"
    } else if m.contains("uninitialized") {
        "memory was read before anything was written to it"
    } else if m.contains("alignment") || m.contains("misaligned") {
        "a pointer was used at an address not aligned for its type"
    } else if m.contains("deallocating") || m.contains("double free") || m.contains("free") {
        "memory was freed twice, or freed with another size or alignment than it was allocated with"
    } else if m.contains("dangling") {
        "a pointer was used after what it pointed to was gone (a dangling pointer)"
    } else {
        "undefined behaviour: Miri's message below says which operation and where"
    };
    plain.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_messages_read_in_plain_words() {
        let cases = [
            (
                "error: Undefined Behavior: memory access failed: alloc1 has been freed, so this pointer is dangling",
                "after it was freed",
            ),
            (
                "error: Undefined Behavior: not granting access to tag <2> because that would remove [Unique for <5>] which is strongly protected",
                "reference passed to a function",
            ),
            (
                "error: Undefined Behavior: attempting a read access using <3> at alloc7[0x0], but that tag does not exist in the borrow stack for this location",
                "aliasing rule",
            ),
            (
                "error: memory leaked: alloc9 (Rust heap, size 24, align 8)",
                "never freed",
            ),
            (
                "error: Undefined Behavior: memory access failed: attempting to access 8 bytes, but got alloc3+0x10 which is at or beyond the end of the allocation (out-of-bounds)",
                "past the end",
            ),
        ];
        for (message, words) in cases {
            assert!(
                translate(message).contains(words),
                "{message}: {}",
                translate(message)
            );
        }
    }

    #[test]
    fn the_verdict_reads_miris_output() {
        let output = "running 1 test\ntest x ... error: Undefined Behavior: pointer not \
                      dereferenceable: alloc1 has been freed, so this pointer is dangling\n  --> \
                      src/rc.rs:10:5\n\nerror: aborting";
        let Verdict::Undefined { message, plain } = verdict(false, output) else {
            panic!("not found");
        };
        assert!(
            message.starts_with("error: Undefined Behavior"),
            "{message}"
        );
        assert!(plain.contains("use after free"), "{plain}");
        assert_eq!(verdict(true, "test x ... ok"), Verdict::Clean);
        assert!(matches!(
            verdict(false, "error: could not compile"),
            Verdict::Unknown { .. }
        ));
    }
}
