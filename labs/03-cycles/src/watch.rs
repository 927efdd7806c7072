//! Watching your collector work: a log of each collection's phases, and a stress mode. Given:
//! there is nothing to write here.
//!
//! Both are off unless you switch them on, for one collector in a test of your own
//! ([`Collector::set_watch`](crate::Collector::set_watch)), or for every collector a program
//! makes, with the environment variable [`ENV_VAR`]:
//!
//! ```text
//!   GCLABS_GC=log cargo test -p cycles --test my_tests -- --nocapture
//!   GCLABS_GC=log,stress cargo test -p cycles --test my_tests
//! ```
//!
//! - **log**: each collection prints its phases to stderr as it runs them, with the objects
//!   each phase moved (by serial and type, and by name where a name is bound to them):
//!
//!   ```text
//!   gc: collection of generation 2: young holds 3 [#3 list a, #4 list, #5 list]
//!   gc:   deduce_unreachable: 2 unreachable [#4 list, #5 list], 1 reachable
//!   gc:   handle_unreachable: 2 freed [#4 list, #5 list]; found 2
//!   ```
//!
//!   The test harness keeps what a test prints unless the test fails or you pass
//!   `--nocapture`; [`Collector::watch_log`](crate::Collector::watch_log) returns the same lines.
//! - **stress**: every allocation made through a `_with` constructor
//!   (`heap.new_list_with(&mut gc)`) runs a full collection first, before the new object is
//!   tracked. A mistake that needs a collection at the wrong moment to show (an object freed
//!   while the program still uses it, a list left in a state the next collection trips on)
//!   then shows at the next allocation, in a short program, rather than thousands of
//!   allocations later (Ruby's `GC.stress` and V8's `--gc-interval` do the same; in CPython,
//!   `gc.set_threshold(1)` comes close).
//!
//! A word `GCLABS_GC` does not know (a typo, say) is reported on stderr once, and ignored.

use std::fmt;
use std::sync::Once;

use pyheap::{GcList, Heap, ObjId};

/// The environment variable read by [`Watch::from_env`]: words separated by commas, `log` and
/// `stress` (`GCLABS_GC=log,stress`).
pub const ENV_VAR: &str = "GCLABS_GC";

/// How many objects a log line names before it says how many more there are.
const NAMED_PER_LINE: usize = 6;

/// Which of the two switches are on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Watch {
    /// Print each phase of each collection, with the objects it moved.
    pub log: bool,
    /// Run a full collection at every allocation made through a `_with` constructor.
    pub stress: bool,
}

/// A value of [`ENV_VAR`] with a word that is neither `log` nor `stress`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownWord(pub String);

impl fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ENV_VAR}: unknown word {:?}; the words are `log` and `stress`, separated by commas \
             (GCLABS_GC=log,stress)",
            self.0
        )
    }
}

impl std::error::Error for UnknownWord {}

impl Watch {
    /// Both switches off.
    pub const OFF: Watch = Watch {
        log: false,
        stress: false,
    };

    /// Reads a value of [`ENV_VAR`]: `log`, `stress`, both separated by commas, or nothing.
    /// Spaces around the words and letter case do not matter.
    ///
    /// ```
    /// use cycles::watch::Watch;
    /// assert_eq!(Watch::parse("log, Stress"), Ok(Watch { log: true, stress: true }));
    /// assert_eq!(Watch::parse(""), Ok(Watch::OFF));
    /// assert!(Watch::parse("logs").is_err());
    /// ```
    ///
    /// # Errors
    /// [`UnknownWord`] for the first word that is neither.
    pub fn parse(text: &str) -> Result<Watch, UnknownWord> {
        let mut watch = Watch::OFF;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word.to_ascii_lowercase().as_str() {
                "log" => watch.log = true,
                "stress" => watch.stress = true,
                _ => return Err(UnknownWord(word.to_string())),
            }
        }
        Ok(watch)
    }

    /// The switches [`ENV_VAR`] asks for; both off when it is not set. A value it cannot read
    /// is reported on stderr (once per program) and both switches stay off.
    pub fn from_env() -> Watch {
        let Ok(text) = std::env::var(ENV_VAR) else {
            return Watch::OFF;
        };
        Watch::parse(&text).unwrap_or_else(|error| {
            static REPORTED: Once = Once::new();
            REPORTED.call_once(|| eprintln!("{error}; watching is off"));
            Watch::OFF
        })
    }
}

/// One object as a log line names it: serial and type, then the first name bound to it, if any
/// (`#4 list a`); a destroyed object by its slot.
pub fn describe(heap: &Heap, id: ObjId) -> String {
    if !heap.is_alive(id) {
        return format!("{id:?} (freed)");
    }
    let mut text = format!("#{} {}", heap.serial(id), heap.type_name(id));
    if let Some((name, _)) = heap.names().find(|&(_, bound)| bound == id) {
        text.push(' ');
        text.push_str(name);
    }
    text
}

/// Some objects as a log line lists them: how many, then the first few in brackets
/// (`2 [#4 list, #5 list]`), with how many more there were.
pub fn describe_all(heap: &Heap, ids: &[ObjId]) -> String {
    listed(ids.iter().map(|&id| describe(heap, id)).collect())
}

/// The objects of `list` now, as [`describe_all`] lists them.
pub fn describe_list(heap: &Heap, list: GcList) -> String {
    describe_all(heap, &heap.gc_list_objects(list))
}

/// `texts` counted, and the first few of them in brackets.
fn listed(texts: Vec<String>) -> String {
    let count = texts.len();
    let mut named: Vec<String> = texts.into_iter().take(NAMED_PER_LINE).collect();
    if count > NAMED_PER_LINE {
        named.push(format!("and {} more", count - NAMED_PER_LINE));
    }
    if count == 0 {
        return "0".to_string();
    }
    format!("{count} [{}]", named.join(", "))
}

/// The objects of a list, described before a phase, to say afterwards what the phase did to
/// them (a freed object can no longer be described). Empty when the log is off.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Snapshot {
    objects: Vec<(ObjId, String)>,
}

impl Snapshot {
    /// The objects of `list` now, in its order.
    pub fn of(heap: &Heap, list: GcList) -> Snapshot {
        let objects = heap
            .gc_list_objects(list)
            .into_iter()
            .map(|id| (id, describe(heap, id)))
            .collect();
        Snapshot { objects }
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Those that `keep` says yes to, listed as [`describe_all`] lists them.
    pub fn those(&self, keep: impl Fn(ObjId) -> bool) -> String {
        listed(
            self.objects
                .iter()
                .filter(|(id, _)| keep(*id))
                .map(|(_, text)| text.clone())
                .collect(),
        )
    }
}

/// Where a collector's log lines go: stderr as they are made, and a copy it keeps.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Log {
    lines: Vec<String>,
}

impl Log {
    /// Prints `line` with the `gc:` prefix, and keeps it.
    pub fn say(&mut self, line: String) {
        let line = format!("gc: {line}");
        eprintln!("{line}");
        self.lines.push(line);
    }

    /// Every line said so far, in order.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}
