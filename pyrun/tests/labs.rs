//! On the learner's side the interpreter runs lab 03's and lab 04's own crates. In the course as
//! shipped those are the stubs, so a script reaches a `todo!()` at once: the binary says which
//! function, in words, and how to run on the reference solutions, with no panic trace.

use std::process::Command;

#[test]
fn an_unfinished_lab_is_named_in_words_with_the_way_around_it() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../labs/03-cycles/parity/list_rings.py"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_pyrun"))
        .arg(script)
        .output()
        .expect("the interpreter runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is not finished"), "{stderr}");
    assert!(stderr.contains("todo!()"), "{stderr}");
    assert!(stderr.contains("--solutions"), "{stderr}");
    assert!(
        !stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"),
        "no panic trace: {stderr}"
    );
}

#[test]
fn the_same_script_runs_on_the_reference_solutions() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../labs/03-cycles/parity/list_rings.py"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_pyrun"))
        .arg(script)
        .arg("--solutions")
        .output()
        .expect("the interpreter runs");
    assert!(output.status.success());
    let expected = std::fs::read_to_string(script.replace(".py", ".out")).expect("recorded");
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}
