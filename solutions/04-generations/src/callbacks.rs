//! `gc.callbacks`: functions called before and after every collection.
//!
//! CPython 3.3 added `gc.callbacks`: a list of functions, each called as
//! `callback(phase, info)` with `phase` `"start"` before a collection and `"stop"` after it, and
//! `info` a dict: `{"generation": g, "collected": m, "uncollectable": n}` (0 and 0 at
//! `"start"`). CPython 3.11's `invoke_gc_callback` builds that dict only when the list is not
//! empty, builds one for all the callbacks of a phase, and releases it afterwards. The dict is a
//! container like any other: it counts in `count0` unless the dict free list serves it, and
//! after a full collection, which empties the free lists, the `"stop"` dict is a new allocation.
//!
//! Here a callback is data, as pyheap's `__del__` is: a name and a list of
//! [`CallbackAction`]s, which the given [`Gc::run_callback`] performs and records in the
//! callback log ([`Gc::callback_log`]), so that tests and parity scripts can compare what was
//! called, when, with what. The course's interpreter (`pyrun`) puts real Python functions there,
//! as one [`CallbackAction::Call`] each.

use std::fmt;

use pyheap::{Heap, Kind, ObjId};

use crate::errors::GcError;
use crate::state::{Gc, MAX_NESTING};

/// When a callback is called.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Phase {
    /// `"start"`: before the collection; `collected` and `uncollectable` are 0.
    Start,
    /// `"stop"`: after it, with what it found.
    Stop,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Start => "start",
            Phase::Stop => "stop",
        })
    }
}

/// One statement of a callback's body.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CallbackAction {
    /// `log.append((phase, info["generation"], info["collected"], info["uncollectable"]));
    /// log.extend(gc.get_count())`: records a [`CallbackEvent::Called`]. Reading the counts makes
    /// the 3-tuple `gc.get_count()` returns, freed at once, as in CPython.
    Record,
    /// `nested.append(gc.collect(generation))`: records a [`CallbackEvent::CollectReturned`].
    Collect(i32),
    /// `for _ in range(n): x = []`: makes `n` lists, one at a time, each freed when the next is
    /// made; these allocations call the collector's hook like any other.
    MakeLists(usize),
    /// `callable(phase, info)`: calls a Python function, through the heap's runtime
    /// ([`Heap::call_object`]); what the course's interpreter, `pyrun`, puts in `gc.callbacks`.
    /// `phase` is a new str, as `PyObject_CallFunction(cb, "sO", phase, info)` makes it. Whoever
    /// added the callback keeps `callable` alive.
    Call(ObjId),
}

/// A function in `gc.callbacks`: its name (for the log) and its body.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct GcCallback {
    /// The name the log gives its records.
    pub name: String,
    /// The body, run in order at each call.
    pub actions: Vec<CallbackAction>,
}

impl GcCallback {
    /// A callback named `name` whose body is `actions`.
    pub fn new(name: &str, actions: impl IntoIterator<Item = CallbackAction>) -> Self {
        GcCallback {
            name: name.to_string(),
            actions: actions.into_iter().collect(),
        }
    }
}

/// What a callback recorded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CallbackEvent {
    /// A [`CallbackAction::Record`]: the call and what it was given.
    Called {
        /// The callback's name.
        callback: String,
        /// `"start"` or `"stop"`.
        phase: Phase,
        /// `info["generation"]`.
        generation: usize,
        /// `info["collected"]`.
        collected: usize,
        /// `info["uncollectable"]`.
        uncollectable: usize,
        /// `gc.get_count()` when the callback read it.
        counts: [usize; 3],
        /// The serial of the info dict (`id(info)`): the callbacks of one phase share it.
        info: u64,
    },
    /// A [`CallbackAction::Collect`]: what `gc.collect(generation)` returned.
    CollectReturned {
        /// The callback's name.
        callback: String,
        /// What it returned.
        result: Result<usize, GcError>,
    },
}

impl Gc {
    /// `gc.callbacks.append(callback)`.
    pub fn add_callback(&mut self, callback: GcCallback) {
        self.callbacks.push(callback);
    }

    /// `gc.callbacks.clear()`.
    pub fn clear_callbacks(&mut self) {
        self.callbacks.clear();
    }

    /// `gc.callbacks`.
    pub fn callbacks(&self) -> &[GcCallback] {
        &self.callbacks
    }

    /// Everything the callbacks recorded so far, in order.
    pub fn callback_log(&self) -> &[CallbackEvent] {
        &self.callback_log
    }

    /// Hands over what the callbacks recorded so far and starts a new log.
    pub fn take_callback_log(&mut self) -> Vec<CallbackEvent> {
        std::mem::take(&mut self.callback_log)
    }

    /// `Py_BuildValue("{sisnsn}", "generation", generation, "collected", collected,
    /// "uncollectable", uncollectable)`: a new dict (a new reference), untracked, since it holds
    /// only strs and ints. Given.
    ///
    /// CPython allocates it through `_PyObject_GC_Link` like any container, so it counts in
    /// `count0` (unless the dict free list serves it). That allocation can never start a
    /// collection, since it happens while one is running (`collecting` is set by whoever runs
    /// the collection), so it is made with pyheap's plain constructor, which counts and calls no
    /// hook: your hook is not run for it.
    pub fn new_info_dict(
        &mut self,
        heap: &mut Heap,
        generation: usize,
        collected: usize,
        uncollectable: usize,
    ) -> ObjId {
        let info = heap.new_dict();
        for (key, value) in [
            ("generation", generation),
            ("collected", collected),
            ("uncollectable", uncollectable),
        ] {
            let key = heap.new_str(key);
            let value = heap.new_int(value as i64);
            heap.dict_set(info, key, value);
            heap.decref(key);
            heap.decref(value);
        }
        info
    }

    /// Calls callback number `index` of `gc.callbacks` with `phase` and `info` (borrowed): runs
    /// its actions in order and records what they record. Given.
    ///
    /// # Panics
    /// If callbacks are nested more than a few deep: a `gc.collect()` in a callback started
    /// another collection, whose callbacks started another, and so on.
    pub fn run_callback(&mut self, heap: &mut Heap, index: usize, phase: Phase, info: ObjId) {
        self.callback_depth += 1;
        if self.callback_depth > MAX_NESTING {
            self.callback_depth = 0;
            panic!(
                "callbacks are running inside callbacks {MAX_NESTING} deep: a gc.collect() called \
                 by a callback started another collection, whose callbacks called it again. \
                 CPython's gc.collect() returns 0 at once while a collection is running \
                 (`collecting`)"
            );
        }
        let GcCallback { name, actions } = self.callbacks[index].clone();
        for action in actions {
            match action {
                CallbackAction::Record => {
                    let read = |heap: &mut Heap, key: &str| {
                        let text = heap.new_str(key);
                        let value = heap.dict_get(info, text);
                        heap.decref(text);
                        match value.map(|value| heap.kind(value)) {
                            Some(Kind::Int(value)) => *value as usize,
                            _ => panic!("the info dict has no int under {key:?}"),
                        }
                    };
                    let generation = read(heap, "generation");
                    let collected = read(heap, "collected");
                    let uncollectable = read(heap, "uncollectable");
                    let counts = heap.gc_counts();
                    // `gc.get_count()` returns a new 3-tuple, freed at once: made with the plain
                    // constructor for the reason given at `new_info_dict`.
                    let items: Vec<ObjId> =
                        counts.iter().map(|&c| heap.new_int(c as i64)).collect();
                    let tuple = heap.new_tuple(&items);
                    for item in items {
                        heap.decref(item);
                    }
                    heap.decref(tuple);
                    let info = heap.serial(info);
                    self.callback_log.push(CallbackEvent::Called {
                        callback: name.clone(),
                        phase,
                        generation,
                        collected,
                        uncollectable,
                        counts,
                        info,
                    });
                }
                CallbackAction::Collect(generation) => {
                    let result = self.collect(heap, generation);
                    self.callback_log.push(CallbackEvent::CollectReturned {
                        callback: name.clone(),
                        result,
                    });
                }
                CallbackAction::Call(callable) => {
                    let phase = heap.new_str(&phase.to_string());
                    // An exception in a callback is reported by the runtime and ignored, as
                    // CPython's `PyErr_WriteUnraisable` does.
                    let _ = heap.call_object(callable, &[phase, info]);
                    heap.decref(phase);
                }
                CallbackAction::MakeLists(n) => {
                    let mut x = None;
                    for _ in 0..n {
                        let new = heap.new_list_with(self);
                        if let Some(old) = x.replace(new) {
                            heap.decref(old);
                        }
                    }
                    if let Some(last) = x {
                        heap.decref(last);
                    }
                }
            }
        }
        self.callback_depth -= 1;
    }

    // ANCHOR: invoke_gc_callback
    /// `invoke_gc_callback(phase, generation, collected, uncollectable)`: calls every callback
    /// of `gc.callbacks`, in order, with `phase` and an info dict. As in CPython, the dict is
    /// made only if there is a callback to call ([`new_info_dict`](Gc::new_info_dict)), one dict
    /// serves all the callbacks of the call, and it is released when they have all run. Call
    /// each with [`run_callback`](Gc::run_callback).
    pub fn invoke_gc_callback(
        &mut self,
        heap: &mut Heap,
        phase: Phase,
        generation: usize,
        collected: usize,
        uncollectable: usize,
    ) {
        // BEGIN SOLUTION: if there are callbacks, make one info dict, call each callback in order with it, then release it
        if self.callbacks.is_empty() {
            return;
        }
        let info = self.new_info_dict(heap, generation, collected, uncollectable);
        for index in 0..self.callbacks.len() {
            self.run_callback(heap, index, phase, info);
        }
        heap.decref(info);
        // END SOLUTION
    }
    // ANCHOR_END: invoke_gc_callback

    // ANCHOR: collect_with_callback
    /// `gc_collect_with_callback(generation)`: one collection of `generation` with
    /// [`gc_collect_main`](Gc::gc_collect_main), with the callbacks called before it
    /// (`"start"`, nothing found yet) and after it (`"stop"`, with what it found). Returns what
    /// `gc.collect()` returns: the objects collected plus the uncollectable ones.
    pub fn collect_with_callback(&mut self, heap: &mut Heap, generation: usize) -> usize {
        // BEGIN SOLUTION: "start" callbacks, the collection, "stop" callbacks with what it found; return collected + uncollectable
        self.invoke_gc_callback(heap, Phase::Start, generation, 0, 0);
        let found = self.gc_collect_main(heap, generation);
        self.invoke_gc_callback(
            heap,
            Phase::Stop,
            generation,
            found.collected,
            found.uncollectable,
        );
        found.collected + found.uncollectable
        // END SOLUTION
    }
    // ANCHOR_END: collect_with_callback
}
