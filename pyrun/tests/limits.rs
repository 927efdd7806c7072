//! The step limit stops a loop that never ends, the heap limit an allocation that never ends,
//! and calls nested without end stop before the stack runs out; each says which limit, and how
//! to raise it.

use pyrun::{Limits, Outcome, Side, Stop, run_captured};

#[test]
fn an_endless_loop_stops_at_the_step_limit() {
    let limits = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let run = run_captured(
        "x = 0\nwhile True:\n    x += 1\n",
        "t.py",
        Side::Solutions,
        limits,
    );
    let Outcome::Stopped(stop @ Stop::StepLimit(10_000)) = run.outcome else {
        panic!("expected the step limit, got {:?}", run.outcome)
    };
    assert!(stop.to_string().contains("--max-steps"), "{stop}");
}

#[test]
fn an_endless_allocation_stops_at_the_heap_limit() {
    let limits = Limits {
        max_objects: 5_000,
        ..Limits::default()
    };
    let source = "keep = []\nwhile True:\n    keep.append([])\n";
    let run = run_captured(source, "t.py", Side::Solutions, limits);
    let Outcome::Stopped(stop @ Stop::HeapLimit(5_000)) = run.outcome else {
        panic!("expected the heap limit, got {:?}", run.outcome)
    };
    assert!(stop.to_string().contains("--max-objects"), "{stop}");
}

#[test]
fn a_raised_limit_lets_the_same_script_finish() {
    let source = "n = 0\nfor i in range(20000):\n    n += i\nprint(n)\n";
    let tight = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let run = run_captured(source, "t.py", Side::Solutions, tight);
    assert!(matches!(run.outcome, Outcome::Stopped(Stop::StepLimit(_))));
    let run = run_captured(source, "t.py", Side::Solutions, Limits::default());
    assert!(
        matches!(run.outcome, Outcome::Finished),
        "{:?}",
        run.outcome
    );
    assert_eq!(run.stdout, "199990000\n");
}

#[test]
fn recursion_without_end_stops_before_the_stack_runs_out() {
    let source = "def f(n):\n    return f(n + 1)\nf(0)\n";
    // A thread with a stack like the binary's: the test harness's default one is small.
    let run = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || run_captured(source, "t.py", Side::Solutions, Limits::default()))
        .expect("a thread")
        .join()
        .expect("no panic");
    assert!(
        matches!(run.outcome, Outcome::Stopped(Stop::TooDeep(_))),
        "{:?}",
        run.outcome
    );
}

#[test]
fn an_uncaught_exception_is_reported_as_cpython_reports_it() {
    let run = run_captured(
        "print('a')\nx = [][1]\n",
        "t.py",
        Side::Solutions,
        Limits::default(),
    );
    assert_eq!(run.stdout, "a\n");
    assert_eq!(run.outcome.status(), 1);
    assert!(
        run.stderr
            .ends_with("line 2, in <module>\nIndexError: list index out of range\n"),
        "{}",
        run.stderr
    );
}
