//! `cargo xtask parity`: what it says without CPython 3.11, and, when one is installed, that
//! `--check` fails on a wrong recorded output with a diff, that re-recording fixes it, and that
//! the course's own recorded outputs are CPython's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(root: &Path, args: &[&str], path: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(root).args(args);
    if let Some(path) = path {
        // No interpreter on PATH, and none in pyenv's folder either.
        cmd.env("PATH", path)
            .env("PYENV_ROOT", root.join("no-pyenv"));
    }
    cmd.output().expect("the xtask binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn python311_here() -> bool {
    ["python3.11", "python3"].iter().any(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("Python 3.11."))
    })
}

/// A scratch checkout with one parity script whose recorded output is wrong.
fn scratch(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("gclabs-parity-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let folder = root.join("pyheap/parity");
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join("two.py"), "print('one')\nprint('two')\n").unwrap();
    fs::write(folder.join("two.out"), "one\nthree\n").unwrap();
    root
}

#[test]
fn without_python311_it_says_so_and_checks_nothing() {
    let root = scratch("absent");
    for args in [&["parity"][..], &["parity", "--check"][..]] {
        let out = xtask(&root, args, Some(""));
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert!(
            stdout(&out).starts_with(
                "python3.11 is not installed here: 1 script that wants it was not re-recorded"
            ),
            "{}",
            stdout(&out)
        );
        assert!(
            stdout(&out).contains("(pyheap/parity/two.py)"),
            "{}",
            stdout(&out)
        );
    }
    assert_eq!(
        fs::read_to_string(root.join("pyheap/parity/two.out")).unwrap(),
        "one\nthree\n"
    );
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn check_shows_the_difference_and_rerecording_fixes_it() {
    if !python311_here() {
        eprintln!("skipped: no CPython 3.11 here");
        return;
    }
    let root = scratch("present");
    let out = xtask(&root, &["parity", "--check"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("  - three\n  + two\n"),
        "{}",
        stdout(&out)
    );
    let out = xtask(&root, &["parity"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("changed: pyheap/parity/two.out"),
        "{}",
        stdout(&out)
    );
    let out = xtask(&root, &["parity", "--check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_repl_session_is_recorded_as_the_prompt_shows_it() {
    if !python311_here() {
        eprintln!("skipped: no CPython 3.11 here");
        return;
    }
    let root = scratch("repl");
    let folder = root.join("book/sessions/01-test");
    fs::create_dir_all(&folder).unwrap();
    fs::write(
        folder.join("session.py"),
        "# A session at the prompt.\n# mode: repl\nx = [1, 2]\nlen(x)\nfor i in x:\n    \
         print(i)\n\nx[5]\n",
    )
    .unwrap();
    let out = xtask(&root, &["parity"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let recorded = fs::read_to_string(folder.join("session.out")).unwrap();
    assert_eq!(
        recorded,
        ">>> x = [1, 2]\n>>> len(x)\n2\n>>> for i in x:\n...     print(i)\n...\n1\n2\n\
         >>> x[5]\nTraceback (most recent call last):\n  File \"<stdin>\", line 1, in \
         <module>\nIndexError: list index out of range\n"
    );
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_script_may_ask_for_another_cpython() {
    let root = scratch("version");
    fs::write(
        root.join("pyheap/parity/two.py"),
        "# python: 3.99\nprint('one')\nprint('two')\n",
    )
    .unwrap();
    let out = xtask(&root, &["parity", "--check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("python3.99 is not installed here: 1 script that wants it"),
        "{}",
        stdout(&out)
    );
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn the_recorded_outputs_are_cpythons() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = xtask(root, &["parity", "--check"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "`cargo xtask parity --check` failed:\n{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
}
