//! The checking allocator, installed as this test binary's allocator, on the bugs it is there to
//! catch: each bug is done on purpose here, and must fail its test with the words given.

use std::panic::{AssertUnwindSafe, catch_unwind};

use testkit::alloc::{Checking, Mark, Meaning, checked};

#[global_allocator]
static ALLOCATOR: Checking = Checking;

const MEANING: Meaning = Meaning {
    misuse: "the code used memory after freeing it",
    leak: Some("the code kept memory it should have freed"),
};

/// The panic message of `f`, which must panic.
fn failure(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the check should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn the_allocator_is_installed() {
    assert!(testkit::alloc::installed());
}

#[test]
fn honest_code_passes() {
    let total = checked(MEANING, || {
        let v: Vec<u64> = (0..1000).collect();
        let mut s = String::new();
        for i in 0..100 {
            s.push_str(&i.to_string());
        }
        v.iter().sum::<u64>() + s.len() as u64
    });
    assert_eq!(total, 499_500 + 190);
}

#[test]
fn a_write_after_free_is_caught_with_the_tests_words() {
    let message = failure(|| {
        checked(MEANING, || {
            let block = Box::into_raw(Box::new(7u64));
            // SAFETY: none, on purpose: the block is freed, then written to (it stays mapped in
            // quarantine, so this is a bug the allocator sees, not a crash).
            unsafe {
                drop(Box::from_raw(block));
                block.write(8);
            }
        })
    });
    assert!(
        message.starts_with("memory error: the code used memory after freeing it"),
        "{message}"
    );
    assert!(
        message.contains("was written to after it was freed (byte 0 of it)"),
        "{message}"
    );
}

#[test]
fn a_double_free_is_caught_and_not_carried_out() {
    let message = failure(|| {
        checked(MEANING, || {
            let block = Box::into_raw(Box::new([1u8; 24]));
            // SAFETY: none, on purpose: the second free is recorded and ignored.
            unsafe {
                drop(Box::from_raw(block));
                drop(Box::from_raw(block));
            }
        })
    });
    assert!(message.contains("a block of 24 bytes at"), "{message}");
    assert!(message.contains("was freed twice"), "{message}");
}

#[test]
fn a_leak_is_caught() {
    let message = failure(|| {
        checked(MEANING, || {
            std::mem::forget(vec![0u8; 100]);
        })
    });
    assert!(
        message.starts_with("leak: the code kept memory it should have freed"),
        "{message}"
    );
    assert!(message.contains("1 heap block(s), 100 bytes"), "{message}");
}

#[test]
fn freed_memory_reads_as_poison() {
    let block = Box::into_raw(Box::new(u64::MAX / 3));
    // SAFETY: none, on purpose, and only a read: the block is in quarantine, poisoned.
    let after = unsafe {
        drop(Box::from_raw(block));
        block.read()
    };
    assert_eq!(after, 0xdbdb_dbdb_dbdb_dbdb);
}

#[test]
fn the_peak_measures_the_extra_memory_a_step_needed() {
    let mark = Mark::now();
    {
        let big = vec![0u8; 10_000];
        std::hint::black_box(&big);
    }
    assert!(mark.peak_extra_bytes() >= 10_000);
    assert_eq!(mark.bytes_kept(), 0);
    assert_eq!(mark.blocks_kept(), 0);
}
