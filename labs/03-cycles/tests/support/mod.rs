//! What the graded test files of lab 03 share: the names a scenario gave its objects, so that a
//! failure speaks of `a` and `b` rather than of object #12, and the few Python statements every
//! file writes the same way.

// Each test file uses part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pyheap::{Action, ClassId, Event, Finalizer, GcList, Heap, ObjId};

/// The names of a scenario's objects, by serial (the creation number, the same on twin heaps
/// that ran the same program).
#[derive(Clone, Debug, Default)]
pub struct Names {
    by_serial: BTreeMap<u64, String>,
}

impl Names {
    /// No names yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The objects bound to a name in `heap` now, each under its name (under the first, in
    /// alphabetical order, if it has several).
    pub fn bound(heap: &Heap) -> Self {
        let mut names = Names::new();
        let mut bindings: Vec<(&str, ObjId)> = heap.names().collect();
        bindings.sort_unstable();
        for (name, id) in bindings {
            names
                .by_serial
                .entry(heap.serial(id))
                .or_insert(name.to_string());
        }
        names
    }

    /// Adds the objects bound to a name in `heap` now, as [`bound`](Names::bound) does, keeping
    /// the names already given.
    pub fn remember_bound(&mut self, heap: &Heap) {
        for (serial, name) in Names::bound(heap).by_serial {
            self.by_serial.entry(serial).or_insert(name);
        }
    }

    /// The serial of the object called `name`.
    ///
    /// # Panics
    /// If no object has that name (a mistake in the test).
    pub fn serial(&self, name: &str) -> u64 {
        self.by_serial
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(&serial, _)| serial)
            .unwrap_or_else(|| panic!("the test names no object {name}"))
    }

    /// How many times the object called `name` was freed, in `events`.
    pub fn times_freed(&self, events: &[Event], name: &str) -> usize {
        let serial = self.serial(name);
        events
            .iter()
            .filter(|e| **e == Event::Destroyed(serial))
            .count()
    }

    /// How many times the `__del__` of the object called `name` ran, in `events`.
    pub fn times_finalized(&self, events: &[Event], name: &str) -> usize {
        let serial = self.serial(name);
        events
            .iter()
            .filter(|e| **e == Event::Finalized(serial))
            .count()
    }

    /// Also calls `id` by `name` (an object the scenario made without binding it to a name).
    pub fn add(&mut self, heap: &Heap, id: ObjId, name: &str) {
        self.by_serial.insert(heap.serial(id), name.to_string());
    }

    /// The same, for several objects.
    pub fn with(mut self, heap: &Heap, named: &[(ObjId, &str)]) -> Self {
        for &(id, name) in named {
            self.add(heap, id, name);
        }
        self
    }

    /// Whether the object with this serial has a name.
    pub fn has(&self, serial: u64) -> bool {
        self.by_serial.contains_key(&serial)
    }

    /// The name of the object with this serial, or `#serial` for one the scenario did not name.
    pub fn of_serial(&self, serial: u64) -> String {
        self.by_serial
            .get(&serial)
            .cloned()
            .unwrap_or_else(|| format!("#{serial}"))
    }

    /// The name of `id`.
    pub fn of(&self, heap: &Heap, id: ObjId) -> String {
        self.of_serial(heap.serial(id))
    }

    /// The names of `ids`.
    pub fn all(&self, heap: &Heap, ids: &[ObjId]) -> Vec<String> {
        ids.iter().map(|&id| self.of(heap, id)).collect()
    }

    /// The names of the objects of `list`, head to tail.
    pub fn list(&self, heap: &Heap, list: GcList) -> Vec<String> {
        self.all(heap, &heap.gc_list_objects(list))
    }

    /// `events` in words: `__del__ of b`, `print: B`, `callback of w`, `b freed`.
    pub fn events(&self, events: &[Event]) -> Vec<String> {
        events.iter().map(|event| self.event(event)).collect()
    }

    /// One event in words.
    pub fn event(&self, event: &Event) -> String {
        match event {
            Event::Finalized(serial) => format!("__del__ of {}", self.of_serial(*serial)),
            Event::Resurrected(serial) => format!("{} resurrected", self.of_serial(*serial)),
            Event::CallbackCalled(serial) => format!("callback of {}", self.of_serial(*serial)),
            Event::Log(text) => format!("print: {text}"),
            Event::ExceptionIgnored(serial, why) => {
                format!("exception ignored in {}: {why}", self.of_serial(*serial))
            }
            Event::Destroyed(serial) => format!("{} freed", self.of_serial(*serial)),
        }
    }

    /// The heap's dump ([`Heap::dump`]: every object with its count and list, the names, the GC
    /// lists in order, the counts), with each named object called by its name instead of `#N`.
    pub fn dump(&self, heap: &Heap) -> String {
        self.rename(&heap.dump())
    }

    /// [`dump`](Names::dump), one line per element, so that a difference shows line by line.
    pub fn dump_lines(&self, heap: &Heap) -> Vec<String> {
        self.dump(heap).lines().map(str::to_string).collect()
    }

    /// `text` with every `#N` of a named object replaced by its name.
    pub fn rename(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(hash) = rest.find('#') {
            out.push_str(&rest[..hash]);
            let digits = rest[hash + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - hash - 1);
            match rest[hash + 1..hash + 1 + digits].parse::<u64>() {
                Ok(serial) => {
                    let _ = write!(out, "{}", self.of_serial(serial));
                }
                Err(_) => out.push('#'),
            }
            rest = &rest[hash + 1 + digits..];
        }
        out.push_str(rest);
        out
    }
}

/// Fails unless `yours` is the same heap as `reference`: the same objects with the same counts,
/// the same GC lists in the same order, the same allocation counts, and the same events in the
/// same order; and `yours` must keep every invariant of the heap.
#[track_caller]
pub fn assert_same_heap(names: &Names, reference: &Heap, yours: &Heap, after: &str) {
    testkit::assert_same(
        &format!(
            "after {after}, the heap: every object (its count, its list), the names, the GC \
             lists in order, the allocation counts"
        ),
        &names.dump_lines(reference),
        &names.dump_lines(yours),
    );
    testkit::assert_same(
        &format!("after {after}, what happened, in order: finalizers, callbacks, frees"),
        &names.events(reference.events()),
        &names.events(yours.events()),
    );
    assert_keeps_invariants(names, yours, after);
}

/// Fails if `yours` breaks an invariant of the heap ([`Heap::check_invariants`]), saying which.
#[track_caller]
pub fn assert_keeps_invariants(names: &Names, yours: &Heap, after: &str) {
    if let Err(why) = yours.check_invariants() {
        panic!(
            "after {after}, your heap breaks an invariant of pyheap: {why}\nyour heap:\n{}",
            names.dump(yours)
        );
    }
}

/// `class name: def __del__(self): <actions>`.
pub fn class_with_del(heap: &mut Heap, name: &str, actions: Vec<Action>) -> ClassId {
    heap.new_class(name, Some(Finalizer::new(actions)))
}

/// `print(text)`, as an action.
pub fn log(text: &str) -> Action {
    Action::Log(text.to_string())
}

/// `dict[key] = value` with a new str key.
pub fn dict_set_str(heap: &mut Heap, dict: ObjId, key: &str, value: ObjId) {
    let key = heap.new_str(key);
    heap.dict_set(dict, key, value);
    heap.decref(key);
}

/// `[e1, e2, ...]` as owned strings, for comparisons with [`Names`]' answers.
pub fn words(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}
