//! What lab 04's graded tests share: one interface to your `Gc` and the reference's
//! ([`Scheduler`]), a heap with names ([`World`]), and comparisons that say what was expected
//! and what happened, in the names the scenario gave its objects.
//!
//! A test builds the same scenario twice, on your scheduler and on the reference's, each on a
//! heap of its own, and compares what both did. The names in messages (`a`, `keep`, `g1`) are
//! the scenario's; an object it did not name shows as `#serial` (its creation number, the same
//! in both runs).

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Debug;

use pyheap::{ClassId, GcLink, GcList, Heap, ObjId};

/// A callback action, for either crate (see `CallbackAction`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Act {
    /// Record the call, what it was given and `gc.get_count()`.
    Record,
    /// `gc.collect(generation)` from inside the callback.
    Collect(i32),
    /// `for _ in range(n): x = []`.
    MakeLists(usize),
}

/// What a callback recorded, for either crate (see `CallbackEvent`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Logged {
    /// A call: `callback(phase, info)`, with `gc.get_count()` read in it.
    Called {
        callback: String,
        phase: &'static str,
        generation: usize,
        collected: usize,
        uncollectable: usize,
        counts: [usize; 3],
        /// The serial of the info dict.
        info: u64,
    },
    /// What `gc.collect(generation)` returned inside the callback (an error as its message).
    Collect {
        callback: String,
        result: Result<usize, String>,
    },
}

/// One generation's `gc.get_stats()` entry: `(collections, collected, uncollectable, examined)`.
pub type Stats = (usize, usize, usize, usize);

/// Everything the tests use of a scheduler, for yours and the reference's.
pub trait Scheduler: GcLink {
    fn update_counts(&self, heap: &mut Heap, generation: usize);
    fn merge_younger(&self, heap: &mut Heap, generation: usize) -> GcList;
    fn move_survivors(&mut self, heap: &mut Heap, generation: usize, young: GcList, old: GcList);
    fn clear_freelists(&self, heap: &mut Heap, generation: usize);
    fn record_stats(
        &mut self,
        generation: usize,
        collected: usize,
        uncollectable: usize,
        examined: usize,
    );
    /// `(collected, uncollectable)`.
    fn gc_collect_main(&mut self, heap: &mut Heap, generation: usize) -> (usize, usize);
    fn add_callback(&mut self, name: &str, actions: &[Act]);
    fn clear_callbacks(&mut self);
    fn invoke(&mut self, heap: &mut Heap, start: bool, generation: usize, collected: usize);
    fn collect_with_callback(&mut self, heap: &mut Heap, generation: usize) -> usize;
    fn collect(&mut self, heap: &mut Heap, generation: i32) -> Result<usize, String>;
    fn set_threshold(&mut self, t0: i32, t1: Option<i32>, t2: Option<i32>);
    fn get_threshold(&self) -> [i32; 3];
    fn enable(&mut self);
    fn disable(&mut self);
    fn isenabled(&self) -> bool;
    fn full_collection_due(&self) -> bool;
    fn collect_generations(&mut self, heap: &mut Heap) -> usize;
    fn should_collect(&self, heap: &Heap) -> bool;
    fn maybe_collect(&mut self, heap: &mut Heap);
    fn get_objects(&mut self, heap: &mut Heap, generation: Option<isize>) -> Result<ObjId, String>;
    fn freeze(&mut self, heap: &mut Heap);
    fn unfreeze(&mut self, heap: &mut Heap);
    fn get_freeze_count(&self, heap: &Heap) -> usize;
    fn get_stats(&self) -> [Stats; 3];
    /// `(long_lived_total, long_lived_pending)`.
    fn long_lived(&self) -> (usize, usize);
    fn set_long_lived(&mut self, total: usize, pending: usize);
    fn is_collecting(&self) -> bool;
    fn log(&self) -> Vec<Logged>;
}

macro_rules! scheduler_for {
    ($krate:ident) => {
        impl Scheduler for $krate::Gc {
            fn update_counts(&self, heap: &mut Heap, generation: usize) {
                $krate::update_counts(heap, generation)
            }
            fn merge_younger(&self, heap: &mut Heap, generation: usize) -> GcList {
                $krate::merge_younger(heap, generation)
            }
            fn move_survivors(
                &mut self,
                heap: &mut Heap,
                generation: usize,
                young: GcList,
                old: GcList,
            ) {
                $krate::Gc::move_survivors(self, heap, generation, young, old)
            }
            fn clear_freelists(&self, heap: &mut Heap, generation: usize) {
                $krate::clear_freelists(heap, generation)
            }
            fn record_stats(
                &mut self,
                generation: usize,
                collected: usize,
                uncollectable: usize,
                examined: usize,
            ) {
                let found = $krate::Collected {
                    collected,
                    uncollectable,
                };
                $krate::Gc::record_stats(self, generation, found, examined)
            }
            fn gc_collect_main(&mut self, heap: &mut Heap, generation: usize) -> (usize, usize) {
                let found = $krate::Gc::gc_collect_main(self, heap, generation);
                (found.collected, found.uncollectable)
            }
            fn add_callback(&mut self, name: &str, actions: &[Act]) {
                let actions = actions.iter().map(|act| match *act {
                    Act::Record => $krate::CallbackAction::Record,
                    Act::Collect(g) => $krate::CallbackAction::Collect(g),
                    Act::MakeLists(n) => $krate::CallbackAction::MakeLists(n),
                });
                $krate::Gc::add_callback(self, $krate::GcCallback::new(name, actions))
            }
            fn clear_callbacks(&mut self) {
                $krate::Gc::clear_callbacks(self)
            }
            fn invoke(
                &mut self,
                heap: &mut Heap,
                start: bool,
                generation: usize,
                collected: usize,
            ) {
                let phase = if start {
                    $krate::Phase::Start
                } else {
                    $krate::Phase::Stop
                };
                $krate::Gc::invoke_gc_callback(self, heap, phase, generation, collected, 0)
            }
            fn collect_with_callback(&mut self, heap: &mut Heap, generation: usize) -> usize {
                $krate::Gc::collect_with_callback(self, heap, generation)
            }
            fn collect(&mut self, heap: &mut Heap, generation: i32) -> Result<usize, String> {
                $krate::Gc::collect(self, heap, generation).map_err(|e| e.to_string())
            }
            fn set_threshold(&mut self, t0: i32, t1: Option<i32>, t2: Option<i32>) {
                $krate::Gc::set_threshold(self, t0, t1, t2)
            }
            fn get_threshold(&self) -> [i32; 3] {
                $krate::Gc::get_threshold(self)
            }
            fn enable(&mut self) {
                $krate::Gc::enable(self)
            }
            fn disable(&mut self) {
                $krate::Gc::disable(self)
            }
            fn isenabled(&self) -> bool {
                $krate::Gc::isenabled(self)
            }
            fn full_collection_due(&self) -> bool {
                $krate::Gc::full_collection_due(self)
            }
            fn collect_generations(&mut self, heap: &mut Heap) -> usize {
                $krate::Gc::collect_generations(self, heap)
            }
            fn should_collect(&self, heap: &Heap) -> bool {
                $krate::Gc::should_collect(self, heap)
            }
            fn maybe_collect(&mut self, heap: &mut Heap) {
                $krate::Gc::maybe_collect(self, heap)
            }
            fn get_objects(
                &mut self,
                heap: &mut Heap,
                generation: Option<isize>,
            ) -> Result<ObjId, String> {
                $krate::Gc::get_objects(self, heap, generation).map_err(|e| e.to_string())
            }
            fn freeze(&mut self, heap: &mut Heap) {
                $krate::Gc::freeze(self, heap)
            }
            fn unfreeze(&mut self, heap: &mut Heap) {
                $krate::Gc::unfreeze(self, heap)
            }
            fn get_freeze_count(&self, heap: &Heap) -> usize {
                $krate::Gc::get_freeze_count(self, heap)
            }
            fn get_stats(&self) -> [Stats; 3] {
                $krate::Gc::get_stats(self)
                    .map(|s| (s.collections, s.collected, s.uncollectable, s.examined))
            }
            fn long_lived(&self) -> (usize, usize) {
                (self.long_lived_total, self.long_lived_pending)
            }
            fn set_long_lived(&mut self, total: usize, pending: usize) {
                self.long_lived_total = total;
                self.long_lived_pending = pending;
            }
            fn is_collecting(&self) -> bool {
                $krate::Gc::is_collecting(self)
            }
            fn log(&self) -> Vec<Logged> {
                $krate::Gc::callback_log(self)
                    .iter()
                    .map(|event| match event {
                        $krate::CallbackEvent::Called {
                            callback,
                            phase,
                            generation,
                            collected,
                            uncollectable,
                            counts,
                            info,
                        } => Logged::Called {
                            callback: callback.clone(),
                            phase: match phase {
                                $krate::Phase::Start => "start",
                                $krate::Phase::Stop => "stop",
                            },
                            generation: *generation,
                            collected: *collected,
                            uncollectable: *uncollectable,
                            counts: *counts,
                            info: *info,
                        },
                        $krate::CallbackEvent::CollectReturned { callback, result } => {
                            Logged::Collect {
                                callback: callback.clone(),
                                result: result.map_err(|e| e.to_string()),
                            }
                        }
                    })
                    .collect()
            }
        }
    };
}

scheduler_for!(generations);
scheduler_for!(reference);

/// A heap, a scheduler, and the names the scenario gave its objects.
pub struct World {
    pub heap: Heap,
    pub gc: Box<dyn Scheduler>,
    /// Serial -> the scenario's name for the object.
    pub names: HashMap<u64, String>,
    /// Whether allocations go through the scheduler's hook (`heap.new_list_with(&mut gc)`),
    /// so that they can start collections; otherwise the plain constructors are used.
    pub hooked: bool,
    /// `class C: pass`.
    pub class: ClassId,
}

impl World {
    /// Your scheduler, on a heap with CPython's free lists if `free_lists`.
    pub fn yours(free_lists: bool) -> World {
        World::with(Box::new(generations::Gc::new()), free_lists)
    }

    /// The reference's scheduler, on a heap with CPython's free lists if `free_lists`.
    pub fn reference(free_lists: bool) -> World {
        World::with(Box::new(reference::Gc::new()), free_lists)
    }

    fn with(gc: Box<dyn Scheduler>, free_lists: bool) -> World {
        let mut heap = if free_lists {
            Heap::with_free_lists()
        } else {
            Heap::new()
        };
        let class = heap.new_class("C", None);
        World {
            heap,
            gc,
            names: HashMap::new(),
            hooked: false,
            class,
        }
    }

    /// Gives `id` a name for messages.
    pub fn name(&mut self, id: ObjId, name: &str) {
        self.names.insert(self.heap.serial(id), name.to_string());
    }

    /// `[]`: a new list (a new reference), named `name`.
    pub fn new_list(&mut self, name: &str) -> ObjId {
        let id = if self.hooked {
            self.heap.new_list_with(&mut *self.gc)
        } else {
            self.heap.new_list()
        };
        self.name(id, name);
        id
    }

    /// `C()`: a new instance (a new reference), named `name`.
    pub fn new_instance(&mut self, name: &str) -> ObjId {
        let id = if self.hooked {
            self.heap.new_instance_with(self.class, &mut *self.gc)
        } else {
            self.heap.new_instance(self.class)
        };
        self.name(id, name);
        id
    }

    /// `{}`: a new dict (a new reference), named `name`.
    pub fn new_dict(&mut self, name: &str) -> ObjId {
        let id = if self.hooked {
            self.heap.new_dict_with(&mut *self.gc)
        } else {
            self.heap.new_dict()
        };
        self.name(id, name);
        id
    }

    /// `(items...)`: a new tuple (a new reference), named `name`.
    pub fn new_tuple(&mut self, name: &str, items: &[ObjId]) -> ObjId {
        let id = if self.hooked {
            self.heap.new_tuple_with(items, &mut *self.gc)
        } else {
            self.heap.new_tuple(items)
        };
        self.name(id, name);
        id
    }

    /// `name = []`: the list, bound to `name` (borrowed from it).
    pub fn list(&mut self, name: &str) -> ObjId {
        let id = self.new_list(name);
        self.heap.bind(name, id);
        self.heap.decref(id);
        id
    }

    /// `name = C()`: the instance, bound to `name` (borrowed from it).
    pub fn instance(&mut self, name: &str) -> ObjId {
        let id = self.new_instance(name);
        self.heap.bind(name, id);
        self.heap.decref(id);
        id
    }

    /// `name = {}`: the dict, bound to `name` (borrowed from it).
    pub fn dict(&mut self, name: &str) -> ObjId {
        let id = self.new_dict(name);
        self.heap.bind(name, id);
        self.heap.decref(id);
        id
    }

    /// `name = []; name.append(name); del name`: a list that only its own item keeps alive,
    /// garbage for the next collection that sees it. Returns it (it is alive until then).
    pub fn garbage(&mut self, name: &str) -> ObjId {
        let id = self.new_list(name);
        self.heap.list_append(id, id);
        self.heap.decref(id);
        id
    }

    /// `keep.append(C())`-style: a new instance named `name`, appended to `holder`.
    pub fn kept_instance(&mut self, holder: ObjId, name: &str) -> ObjId {
        let id = self.new_instance(name);
        self.heap.list_append(holder, id);
        self.heap.decref(id);
        id
    }

    /// How a message names `id`: the scenario's name, or `#serial`.
    pub fn name_of(&self, id: ObjId) -> String {
        let serial = self.heap.serial(id);
        self.names
            .get(&serial)
            .cloned()
            .unwrap_or_else(|| format!("#{serial}"))
    }

    /// The names of the objects of `list`, in order.
    pub fn names_in(&self, list: GcList) -> Vec<String> {
        self.heap
            .gc_list_objects(list)
            .into_iter()
            .map(|id| self.name_of(id))
            .collect()
    }

    /// The three generations and the permanent one, by name, in order.
    pub fn generations(&self) -> Vec<Vec<String>> {
        [GcList::GEN0, GcList::GEN1, GcList::GEN2, GcList::PERMANENT]
            .into_iter()
            .map(|list| self.names_in(list))
            .collect()
    }

    /// The names of the items of the list `list`, in order.
    pub fn items(&self, list: ObjId) -> Vec<String> {
        (0..self.heap.len(list))
            .map(|k| self.name_of(self.heap.list_get(list, k)))
            .collect()
    }

    /// Whether the object named `name` (by its serial) is still alive.
    pub fn is_alive(&self, id: ObjId) -> bool {
        self.heap.is_alive(id)
    }

    /// The heap's dump, each `#serial` followed by the scenario's name for it, if it has one.
    pub fn named_dump(&self) -> String {
        let dump = self.heap.dump();
        let mut out = String::with_capacity(dump.len());
        let mut chars = dump.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(c);
            if c != '#' {
                continue;
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            out.push_str(&digits);
            if let Some(name) = digits.parse().ok().and_then(|s: u64| self.names.get(&s)) {
                out.push_str(&format!("({name})"));
            }
        }
        out
    }

    /// Everything the comparison of two runs looks at, as text, in names.
    pub fn state(&self) -> String {
        let stats = self.gc.get_stats();
        let (total, pending) = self.gc.long_lived();
        let log: String = self
            .gc
            .log()
            .iter()
            .map(|event| format!("  {event:?}\n"))
            .collect();
        format!(
            "{}gc.get_threshold(): {:?}\ngc.isenabled(): {}\nlong_lived_total {total}, \
             long_lived_pending {pending}\ngc.get_stats() (collections, collected, \
             uncollectable, examined): {stats:?}\ncallback log:\n{log}",
            self.named_dump(),
            self.gc.get_threshold(),
            self.gc.isenabled(),
        )
    }
}

/// Runs `scenario` on your scheduler, then on the reference's, each on a new heap (with free
/// lists if `free_lists`). Returns (yours, reference): the worlds and what the scenario returned.
pub fn on_both<T>(
    free_lists: bool,
    scenario: impl Fn(&mut World) -> T,
) -> ((World, T), (World, T)) {
    let mut yours = World::yours(free_lists);
    let out = scenario(&mut yours);
    let yours = (yours, out);
    let mut theirs = World::reference(free_lists);
    let out = scenario(&mut theirs);
    (yours, (theirs, out))
}

/// Fails with `what`, the reference's value and yours, if they differ.
#[track_caller]
pub fn same<T: PartialEq + Debug>(what: &str, expected: T, yours: T) {
    if expected != yours {
        panic!("{what}\n  expected (reference): {expected:?}\n  yours:                {yours:?}");
    }
}

/// Fails with `what` and a line diff (`<` the reference's lines, `>` yours) if the two texts
/// differ.
#[track_caller]
pub fn same_text(what: &str, expected: &str, yours: &str) {
    if expected != yours {
        panic!(
            "{what} (< expected (reference), > yours):\n{}",
            pretty_assertions::StrComparison::new(expected, yours)
        );
    }
}

/// Both runs must have left the same heap, counts, thresholds, statistics, long-lived counts
/// and callback log, and your heap must keep its invariants.
#[track_caller]
pub fn same_state(when: &str, yours: &World, theirs: &World) {
    same_text(
        &format!("{when}: the heap and the collector's state"),
        &theirs.state(),
        &yours.state(),
    );
    if let Err(why) = yours.heap.check_invariants() {
        panic!("{when}: your heap breaks an invariant: {why}");
    }
}
