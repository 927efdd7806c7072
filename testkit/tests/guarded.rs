//! The guarded allocator on the bugs it is there to stop at once: a read of a freed block, and a
//! read past the end of a live one. Each bug runs in a child process (this same test binary,
//! asked for one victim test), since the fault ends the process; the parent checks how it ended
//! and what the handler said.

use std::process::Command;

use testkit::alloc::{Guarded, Meaning, checked};

#[global_allocator]
static ALLOCATOR: Guarded = Guarded;

const MEANING: Meaning = Meaning {
    misuse: "a box was freed while an Rc or a Weak still used it",
    leak: Some("a box was never freed"),
};

/// Runs the victim test `name` in a child process; returns (how it ended, its stderr).
fn victim(name: &str) -> (std::process::ExitStatus, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("GUARDED_VICTIM", "1")
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether this process is a child asked to commit a bug.
fn is_victim() -> bool {
    std::env::var_os("GUARDED_VICTIM").is_some()
}

#[test]
fn victim_reads_a_freed_box() {
    if !is_victim() {
        return;
    }
    checked(MEANING, || {
        let block = Box::into_raw(Box::new(41u64));
        // SAFETY: none, on purpose: the block is freed, then read.
        let value = unsafe {
            drop(Box::from_raw(block));
            block.read_volatile()
        };
        println!("read {value} (never reached)");
    });
}

#[test]
fn victim_reads_past_the_end_of_a_box() {
    if !is_victim() {
        return;
    }
    checked(MEANING, || {
        let block = Box::into_raw(Box::new(41u64));
        // SAFETY: none, on purpose: the word after the block is read.
        let value = unsafe { block.add(1).read_volatile() };
        println!("read {value} (never reached)");
        // SAFETY: the block is alive and freed once.
        drop(unsafe { Box::from_raw(block) });
    });
}

#[test]
fn honest_code_passes() {
    let total = checked(MEANING, || {
        let boxes: Vec<Box<u64>> = (0..200).map(Box::new).collect();
        boxes.iter().map(|b| **b).sum::<u64>()
    });
    assert_eq!(total, 19_900);
}

#[test]
fn a_read_of_a_freed_block_stops_the_test_with_the_labs_words() {
    let (status, stderr) = victim("victim_reads_a_freed_box");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc_sigsegv()),
        "{status:?}\n{stderr}"
    );
    assert!(
        stderr.contains(
            "memory error: a box was freed while an Rc or a Weak still used it\n  found: a block \
             of 8 bytes was used (read, written or freed again) after it was freed, at byte 0 of it"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("never reached"), "{stderr}");
}

#[test]
fn a_read_past_the_end_of_a_block_stops_the_test() {
    let (status, stderr) = victim("victim_reads_past_the_end_of_a_box");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc_sigsegv()),
        "{status:?}\n{stderr}"
    );
    assert!(
        stderr.contains("found: the code read or wrote past the end of a block of 8 bytes, at byte 8 from its start"),
        "{stderr}"
    );
}

fn libc_sigsegv() -> i32 {
    11
}
