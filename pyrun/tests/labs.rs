//! On the learner's side the interpreter runs lab 03's and lab 04's own crates. In the course as
//! shipped those are the stubs, so a script reaches a `todo!()` at once: the binary says which
//! function, in words, and how to run on the reference solutions, with no panic trace. In a
//! checkout where the learner has finished both labs, the script runs instead, and prints what
//! CPython printed.

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
    if output.status.success() {
        // The learner finished what this script needs: their collector ran it, and it must
        // print what CPython printed.
        let expected = std::fs::read_to_string(script.replace(".py", ".out")).expect("recorded");
        assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
        return;
    }
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

/// `--summary` (which `cargo xtask run` passes) ends the run with a line naming whose collector
/// ran and what it did: the same counts the script's own `gc.get_stats()` sees at its end.
#[test]
fn the_summary_names_the_collector_and_counts_what_the_script_saw() {
    let script = std::env::temp_dir().join(format!("pyrun-summary-{}.py", std::process::id()));
    std::fs::write(
        &script,
        "import gc\n\
         gc.disable()\n\
         a = []\n\
         a.append(a)\n\
         del a\n\
         gc.collect()\n\
         gc.collect(0)\n\
         s = gc.get_stats()\n\
         print(s[0]['collections'], s[1]['collections'], s[2]['collections'])\n\
         print(s[0]['collected'] + s[1]['collected'] + s[2]['collected'])\n",
    )
    .expect("a script in the temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_pyrun"))
        .arg(&script)
        .args(["--solutions", "--summary"])
        .output()
        .expect("the interpreter runs");
    let _ = std::fs::remove_file(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, "1 0 1\n1\n");
    assert_eq!(
        stderr.trim_end(),
        "pyrun: the reference collector (crate `cycles-solution`) found the garbage cycles, \
         scheduled by the reference lab 04 (crate `generations-solution`): 2 collections \
         (generations 0, 1, 2: 1, 0, 1), 1 object collected, 0 uncollectable."
    );
}
