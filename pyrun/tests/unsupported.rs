//! A construct outside the subset stops the script with its line, what it is, and that it is not
//! supported: never a panic, never a different answer. Each test is one construct.

use pyrun::{CompileError, Limits, Outcome, Side, Stop, run_captured};

/// Runs `source` and returns the message the interpreter stopped with.
#[track_caller]
fn stops_with(source: &str) -> String {
    let run = run_captured(source, "test.py", Side::Solutions, Limits::default());
    match run.outcome {
        Outcome::NotRun(CompileError::Unsupported(u)) => u.to_string(),
        Outcome::Stopped(Stop::Unsupported(u)) => u.to_string(),
        other => panic!("expected a stop on an unsupported construct, got {other:?}"),
    }
}

#[track_caller]
fn assert_stops(source: &str, line: u32, construct: &str) {
    let message = stops_with(source);
    assert!(
        message.starts_with(&format!("line {line}: ")),
        "the message should start with the line: {message}"
    );
    assert!(
        message.contains(construct),
        "the message should name `{construct}`: {message}"
    );
    assert!(
        message.contains("is not supported"),
        "the message should say it is not supported: {message}"
    );
}

#[test]
fn a_with_statement() {
    assert_stops(
        "x = 1\nwith open('f') as f:\n    pass\n",
        2,
        "`with` statement",
    );
}

#[test]
fn a_float() {
    assert_stops("x = 1\ny = 2.5\n", 2, "a float");
}

#[test]
fn true_division() {
    assert_stops("x = 7\nprint(x / 2)\n", 2, "true division");
}

#[test]
fn a_set() {
    assert_stops("s = {1, 2}\n", 1, "a set");
}

#[test]
fn nonlocal() {
    assert_stops(
        "def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2\n    g()\n",
        4,
        "`nonlocal`",
    );
}

#[test]
fn from_import() {
    assert_stops("from gc import collect\n", 1, "`from ... import ...`");
}

#[test]
fn a_module_outside_the_subset() {
    assert_stops("import gc\nimport os\n", 2, "`import os`");
}

#[test]
fn a_decorator() {
    assert_stops(
        "def d(f):\n    return f\n\n@d\ndef g():\n    pass\n",
        5,
        "a decorator",
    );
}

#[test]
fn inheritance() {
    assert_stops(
        "class A:\n    pass\nclass B(A):\n    pass\n",
        3,
        "a base class",
    );
}

#[test]
fn star_args() {
    assert_stops("def f(*args):\n    pass\n", 1, "`*args`");
}

#[test]
fn a_default_parameter() {
    assert_stops(
        "def f(x=1):\n    return x\n",
        1,
        "a default parameter value",
    );
}

#[test]
fn a_generator() {
    assert_stops("def f():\n    yield 1\n", 2, "a generator");
}

#[test]
fn a_dict_comprehension() {
    assert_stops("d = {k: k for k in range(3)}\n", 1, "a dict comprehension");
}

#[test]
fn a_finally_clause() {
    assert_stops(
        "try:\n    pass\nfinally:\n    pass\n",
        1,
        "a `finally` clause",
    );
}

#[test]
fn a_class_with_a_special_method_other_than_init_and_del() {
    assert_stops(
        "x = 0\nclass C:\n    def __eq__(self, other):\n        return True\n",
        2,
        "a class defining `__eq__`",
    );
}

#[test]
fn percent_formatting_is_refused_when_it_runs() {
    // Refused at run time, on the line that runs it: what came before has printed.
    let source = "print('before')\nx = 'n=%d' % 3\n";
    let run = run_captured(source, "test.py", Side::Solutions, Limits::default());
    assert_eq!(run.stdout, "before\n");
    let Outcome::Stopped(Stop::Unsupported(u)) = run.outcome else {
        panic!("expected a stop, got {:?}", run.outcome)
    };
    assert_eq!(u.line, 2);
    assert!(u.construct.contains("`%` formatting"), "{u}");
}

#[test]
fn an_int_beyond_64_bits() {
    assert_stops("x = 2 ** 40\ny = x * x * x\n", 2, "an int beyond 64 bits");
}

#[test]
fn a_dict_key_outside_the_subset_is_refused_on_its_line() {
    assert_stops(
        "d = {}\nk = (1, 2)\nd[k] = 3\n",
        3,
        "a dict key of type 'tuple'",
    );
}

#[test]
fn a_syntax_error_names_its_line() {
    let run = run_captured(
        "x = 1\ny = (\n",
        "test.py",
        Side::Solutions,
        Limits::default(),
    );
    let Outcome::NotRun(CompileError::Syntax(e)) = run.outcome else {
        panic!("expected a syntax error, got {:?}", run.outcome)
    };
    assert!(e.line >= 2, "{e:?}");
}
