//! `cargo test` runs the course's contract (`cargo xtask check`): stubs generated from the
//! solutions, every stub failing and every solution passing every graded test, metadata, tests
//! and book in agreement, fmt and clippy clean. A failure prints the checklist.

use std::path::Path;
use std::process::Command;

#[test]
fn the_course_contract_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("check")
        // Its own target folder: the `cargo test` running this may hold the lock on target/.
        .env("CARGO_TARGET_DIR", root.join("target/contract"))
        .output()
        .expect("the xtask binary runs");
    assert!(
        out.status.success(),
        "`cargo xtask check` failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
