//! What the graded tests of every lab share (a dev-dependency of each lab, each solution and
//! `pyheap`): a seeded random number generator, a drop probe, comparisons that say in words what
//! was compared and which side is whose, and the runner for seeded random programs that shrinks a
//! failure to the shortest program that still fails and prints it with its seed, so it can be
//! replayed and read.

pub mod alloc;

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc as StdRc;
use std::sync::Once;

/// xorshift64 (Marsaglia): small, fast, and the same sequence on every machine, so a seed printed
/// by a failing test replays the same program anywhere.
#[derive(Clone, Debug)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// A generator seeded with `seed` (zero is replaced, as xorshift would stay at zero forever).
    pub fn new(seed: u64) -> Self {
        XorShift64(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0) has no value to return");
        ((self.next_u64() >> 32) % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }
}

/// Counts drops: every [`Token`] made by a probe bumps the probe's counter once when dropped, so
/// a test can assert that a value was dropped exactly once, never twice and never zero times.
#[derive(Clone, Debug, Default)]
pub struct DropProbe {
    drops: StdRc<Cell<usize>>,
}

/// A value whose drop is witnessed by the [`DropProbe`] that made it.
#[derive(Debug)]
pub struct Token {
    drops: StdRc<Cell<usize>>,
    /// A payload, so tests can check they read the right value through a pointer.
    pub id: u32,
}

impl DropProbe {
    /// A probe that has seen no drops.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new token with payload `id`; dropping it adds one to [`DropProbe::drops`].
    pub fn token(&self, id: u32) -> Token {
        Token {
            drops: StdRc::clone(&self.drops),
            id,
        }
    }

    /// How many tokens of this probe have been dropped so far.
    pub fn drops(&self) -> usize {
        self.drops.get()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static WHERE: RefCell<Option<String>> = const { RefCell::new(None) };
}
static HOOK: Once = Once::new();

/// Runs `f`, turning a panic into `Err("panicked at FILE:LINE:COL: message")`. The panic is not
/// printed: while a failing program is shrunk it may panic hundreds of times, and only the last
/// one matters.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let place = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                WHERE.with(|w| *w.borrow_mut() = place);
            } else {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "(a panic with a non-text payload)".to_string()
        };
        match WHERE.with(|w| w.borrow_mut().take()) {
            Some(place) => format!("panicked at {place}: {message}"),
            None => format!("panicked: {message}"),
        }
    })
}

/// Removes operations from a failing program while it still fails: first large chunks, then
/// single operations (delta debugging). Returns a program in which no single operation can be
/// removed without the failure going away.
pub fn shrink<Op: Clone>(program: &[Op], mut fails: impl FnMut(&[Op]) -> bool) -> Vec<Op> {
    let mut best = program.to_vec();
    let mut chunk = best.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < best.len() {
            let end = (start + chunk).min(best.len());
            let mut candidate = best[..start].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if fails(&candidate) {
                best = candidate;
            } else {
                start += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

/// Runs seeded random programs: for each seed, `generate` makes a program and `check` runs it,
/// returning `Err(why)` on the first wrong step (panics count as failures). A failing program is
/// shrunk, and the test fails with the seed, the shortest failing program and the reason, so it
/// can be replayed and read.
///
/// Two environment variables change which seeds run, for `cargo xtask soak` and for replaying:
///
/// * `GCLABS_SEED=<seed>` runs that one seed instead of the test's own (the seed a failure
///   printed, in decimal or `0x` hexadecimal);
/// * `GCLABS_SOAK_SECONDS=<s>` runs the test's seeds, then fresh ones (from
///   `GCLABS_SOAK_FIRST_SEED`, or from the clock) until `s` seconds have passed, and prints how
///   many programs ran.
///
/// `#[track_caller]`: "failed at" names the test's line.
#[track_caller]
pub fn check_programs<Op: Clone + Debug>(
    what: &str,
    seeds: impl IntoIterator<Item = u64>,
    mut generate: impl FnMut(&mut XorShift64) -> Vec<Op>,
    check: impl Fn(&[Op]) -> Result<(), String>,
) {
    let run = |program: &[Op]| catch(|| check(program)).and_then(|r| r);
    // The failure, if any, in words; the panic is raised below, in this function's own body,
    // where `#[track_caller]` makes it name the test's line (a closure's panic would name this
    // file).
    let mut try_seed = |seed: u64| -> Result<(), String> {
        let program = generate(&mut XorShift64::new(seed));
        if run(&program).is_ok() {
            return Ok(());
        }
        let shortest = shrink(&program, |p| run(p).is_err());
        let why = run(&shortest).expect_err("the shrunk program failed a moment ago");
        let listing: String = shortest
            .iter()
            .enumerate()
            .map(|(step, op)| format!("  {step:>3}: {op:?}\n"))
            .collect();
        Err(format!(
            "{what}: a random program failed.\n\
             seed {seed:#x}; shortest failing program ({} of {} operations):\n{}\
             what went wrong: {why}\n\
             (to run this program again: GCLABS_SEED={seed:#x} and the same test)",
            shortest.len(),
            program.len(),
            listing,
        ))
    };
    if let Some(seed) = env_seed("GCLABS_SEED") {
        if let Err(failure) = try_seed(seed) {
            panic!("{failure}");
        }
        return;
    }
    for seed in seeds {
        if let Err(failure) = try_seed(seed) {
            panic!("{failure}");
        }
    }
    let Some(seconds) = std::env::var("GCLABS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
    else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    let first = env_seed("GCLABS_SOAK_FIRST_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let mut next = XorShift64::new(first);
    let mut ran = 0u64;
    while std::time::Instant::now() < deadline {
        if let Err(failure) = try_seed(next.next_u64()) {
            panic!("{failure}");
        }
        ran += 1;
    }
    println!("soak: {what}: {ran} fresh programs passed (first seed {first:#x})");
}

/// A seed from the environment variable `name`: decimal, or hexadecimal with `0x`.
fn env_seed(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Fails the test unless `yours == reference`: what the reference solution gives (or what real
/// CPython printed) is what the learner's code must give. The message says `what` was compared and
/// shows both sides by name, `expected (reference)` and `yours`, with a line diff when they are
/// long. `#[track_caller]`: "failed at" names the test's line, not this function's.
#[track_caller]
pub fn assert_same<T: PartialEq + Debug>(what: &str, reference: &T, yours: &T) {
    if reference != yours {
        panic!(
            "{}",
            describe_difference(what, "expected (reference)", reference, yours)
        );
    }
}

/// Fails the test unless `yours == expected`, for an expected value written in the test itself
/// (not computed by the reference). Otherwise as [`assert_same`].
#[track_caller]
pub fn assert_expected<T: PartialEq + Debug>(what: &str, expected: &T, yours: &T) {
    if expected != yours {
        panic!("{}", describe_difference(what, "expected", expected, yours));
    }
}

/// `what`, then both sides by name: on one line each when short, as a diff when long.
fn describe_difference<T: Debug>(what: &str, label: &str, expected: &T, yours: &T) -> String {
    let (short_expected, short_yours) = (format!("{expected:?}"), format!("{yours:?}"));
    if short_expected.len() + short_yours.len() <= 160 {
        let width = label.len().max("yours".len());
        return format!(
            "{what}\n  {label:<width$}: {short_expected}\n  {:<width$}: {short_yours}",
            "yours"
        );
    }
    format!(
        "{what}\n  (< {label}, > yours)\n{}",
        debug_diff(expected, yours)
    )
}

/// A line diff of two values' `{:#?}`, `<` lines from `expected` and `>` lines from `yours`,
/// without `pretty_assertions`' own legend ("< left / right >"), which would contradict the
/// caller's names for the two sides.
pub fn debug_diff<T: Debug>(expected: &T, yours: &T) -> String {
    without_legend(pretty_assertions::Comparison::new(expected, yours).to_string())
}

/// A line diff of two texts, `<` lines from `expected` and `>` lines from `yours`, without
/// `pretty_assertions`' legend (see [`debug_diff`]).
pub fn text_diff(expected: &str, yours: &str) -> String {
    without_legend(pretty_assertions::StrComparison::new(expected, yours).to_string())
}

/// Drops the first line of a `pretty_assertions` comparison: its "Diff < left / right > :"
/// legend.
fn without_legend(diff: String) -> String {
    match diff.split_once('\n') {
        Some((_, rest)) => rest.to_string(),
        None => diff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_difference_names_both_sides_on_a_line_each() {
        let text = describe_difference("the count of `a`", "expected (reference)", &2, &3);
        assert_eq!(
            text,
            "the count of `a`\n  expected (reference): 2\n  yours               : 3"
        );
    }

    #[test]
    fn a_long_difference_is_a_diff_with_a_legend() {
        let expected: Vec<u32> = (0..60).collect();
        let mut yours = expected.clone();
        yours[30] = 99;
        let text = describe_difference("the order", "expected", &expected, &yours);
        assert!(
            text.starts_with("the order\n  (< expected, > yours)\n"),
            "{text}"
        );
        assert!(text.contains("99"), "{text}");
        assert!(
            !text.contains("left"),
            "pretty_assertions' legend is left out: {text}"
        );
    }

    #[test]
    fn equal_values_pass() {
        assert_same("anything", &vec![1, 2], &vec![1, 2]);
        assert_expected("anything", &"x", &"x");
    }
}
