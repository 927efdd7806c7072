//! Graded tests for lab 03, CPython parity: each test runs on a pyheap [`Heap`], with your
//! [`Collector`], the scenario of one script in `labs/03-cycles/parity/`, renders what happened
//! as the lines the script prints, and compares them with the script's output recorded from
//! CPython 3.11.7 (`parity/<name>.out`, re-recorded by `cargo xtask parity`). The test has the
//! script's name; read the script next to it to see the Python it stands for.
//!
//! Only what a Python program can print is rendered: a `__del__` call ("__del__ NAME": the
//! scripts' `__del__` prints `self.name`), a weakref callback call ("callback NAME": the
//! callbacks print the name the script gave the weakref), and the script's own `print` lines,
//! which the test writes with [`Script::say`] at the same point. So a `__del__` or a callback
//! run by `gc.collect()` shows up before the line that prints what `gc.collect()` returned,
//! exactly as in CPython.
//!
//! Each script starts with `gc.collect(); gc.freeze()`, so that CPython's collections see only
//! the scenario's objects, as a new heap does here.

use std::collections::HashMap;

use cycles::{Collector, DEBUG_SAVEALL};
use pyheap::{Action, Callback, ClassId, Event, Finalizer, GcList, Heap, Kind, ObjId};

// ---------------------------------------------------------------------------------------------
// The helper: a scenario's heap, its collector, and its output
// ---------------------------------------------------------------------------------------------

/// A scenario's output, built as the script's would be.
struct Script {
    heap: Heap,
    /// `gc`: the collector under test.
    gc: Collector,
    /// Serial of an instance or a weakref -> the name its `__del__` or callback prints.
    names: HashMap<u64, String>,
    lines: Vec<String>,
}

impl Script {
    fn new() -> Self {
        Script {
            heap: Heap::new(),
            gc: Collector::new(),
            names: HashMap::new(),
            lines: Vec::new(),
        }
    }

    /// `class NAME:` with `def __init__(self, name): self.name = name`, and if `del` is true
    /// `def __del__(self): print("__del__", self.name)` followed by `extra` actions.
    fn class(&mut self, name: &str, del: bool, extra: Vec<Action>) -> ClassId {
        let finalizer = del.then(|| Finalizer::new(extra));
        self.heap.new_class(name, finalizer)
    }

    /// `C(name)`, a new reference: the instance with its `name` attribute set.
    fn instance(&mut self, class: ClassId, name: &str) -> ObjId {
        let obj = self.heap.new_instance(class);
        let text = self.heap.new_str(name);
        self.heap.set_attr(obj, "name", text);
        self.heap.decref(text);
        self.names.insert(self.heap.serial(obj), name.to_string());
        obj
    }

    /// `var = C(name)`.
    fn assign_instance(&mut self, var: &str, class: ClassId, name: &str) -> ObjId {
        let obj = self.instance(class, name);
        self.heap.bind(var, obj);
        self.heap.decref(obj);
        obj
    }

    /// `weakref.ref(referent)`, or `weakref.ref(referent, f)` followed by
    /// `names[id(wr)] = name`, where `f` prints `"callback", names[id(wr)]` and then does
    /// `actions`. A new reference.
    fn weakref(&mut self, referent: ObjId, callback: Option<(&str, Vec<Action>)>) -> ObjId {
        let wr = self.heap.new_weakref(
            referent,
            callback
                .as_ref()
                .map(|(_, actions)| Callback::new(actions.clone())),
        );
        if let Some((name, _)) = callback {
            self.names.insert(self.heap.serial(wr), name.to_string());
        }
        wr
    }

    /// `obj.attr = value` for a new reference `value`, given up afterwards.
    fn set_attr_new(&mut self, obj: ObjId, attr: &str, value: ObjId) {
        self.heap.set_attr(obj, attr, value);
        self.heap.decref(value);
    }

    /// `list.append(value)` for a new reference `value`, given up afterwards.
    fn append_new(&mut self, list: ObjId, value: ObjId) {
        self.heap.list_append(list, value);
        self.heap.decref(value);
    }

    /// `tuple([ints...])`: a new tuple of new ints, a new reference.
    fn tuple_of_ints(&mut self, values: &[i64]) -> ObjId {
        let ints: Vec<ObjId> = values.iter().map(|&v| self.heap.new_int(v)).collect();
        let tuple = self.heap.new_tuple(&ints);
        for int in ints {
            self.heap.decref(int);
        }
        tuple
    }

    /// `list.clear()`: empties the list, giving up its items last to first.
    fn clear_list(&mut self, list: ObjId) {
        while self.heap.len(list) > 0 {
            let item = self.heap.list_pop(list);
            self.heap.decref(item);
        }
    }

    /// `obj.attr`, a str attribute, as `print` shows it.
    fn str_attr(&self, obj: ObjId, attr: &str) -> String {
        let value = self.heap.get_attr(obj, attr).expect("no such attribute");
        match self.heap.kind(value) {
            Kind::Str(text) => text.clone(),
            other => panic!("{attr} is not a str: {other:?}"),
        }
    }

    /// `gc.collect()`.
    fn collect(&mut self) -> usize {
        self.gc.collect(&mut self.heap)
    }

    /// `gc.collect(generation)`.
    fn collect_generation(&mut self, generation: usize) -> usize {
        self.gc
            .collect_generation(&mut self.heap, generation)
            .expect("a valid generation")
    }

    /// `len(gc.garbage)` (CPython's list always exists; here it is made on first use).
    fn garbage_len(&self) -> usize {
        self.gc
            .garbage()
            .map_or(0, |garbage| self.heap.len(garbage))
    }

    /// The generation `obj` is in (`generation_of` in the scripts), as `print` shows it.
    fn generation_of(&self, obj: ObjId) -> String {
        (0..3)
            .find(|&g| self.heap.gc_list_of(obj) == Some(GcList::generation(g)))
            .map_or("None".to_string(), |g| g.to_string())
    }

    /// `print(...)`: renders the events so far, then `line`.
    fn say(&mut self, line: impl Into<String>) {
        self.flush();
        self.lines.push(line.into());
    }

    /// `del var`, then renders what it printed.
    fn del(&mut self, var: &str) {
        self.heap.del(var);
        self.flush();
    }

    /// `gc.is_tracked(var)`, as `print` shows it.
    fn tracked(&self, var: &str) -> &'static str {
        py(self.heap.is_tracked(self.heap.get(var)))
    }

    fn flush(&mut self) {
        for event in self.heap.take_events() {
            let line = match event {
                Event::Finalized(serial) => format!("__del__ {}", self.names[&serial]),
                Event::CallbackCalled(serial) => format!("callback {}", self.names[&serial]),
                Event::Log(text) => text,
                Event::ExceptionIgnored(serial, why) => {
                    format!("(stderr) Exception ignored in {serial}: {why}")
                }
                Event::Resurrected(_) | Event::Destroyed(_) => continue,
            };
            self.lines.push(line);
        }
    }

    /// Fails unless the lines printed so far are `recorded`, the output of `parity/{script}.py`
    /// recorded from CPython 3.11.7.
    #[track_caller]
    fn assert_prints(mut self, script: &str, recorded: &str) {
        self.flush();
        let expected: Vec<&str> = recorded.lines().collect();
        let yours: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        testkit::assert_expected(
            &format!(
                "what parity/{script}.py prints, line by line: expected is CPython 3.11.7's \
                 output (parity/{script}.out), yours is this scenario run on pyheap with your \
                 collector"
            ),
            &expected,
            &yours,
        );
    }
}

fn py(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `a = []; b = [a]; a.append(b)`: a 2-cycle of lists bound to `a` and `b`.
fn list_pair(s: &mut Script) -> (ObjId, ObjId) {
    let a = s.heap.assign_new_list("a");
    let b = s.heap.assign_new_list("b");
    s.heap.list_append(b, a);
    s.heap.list_append(a, b);
    (a, b)
}

// ---------------------------------------------------------------------------------------------
// Cycles and what gc.collect() counts
// ---------------------------------------------------------------------------------------------

#[test]
fn self_referencing_list() {
    let mut s = Script::new();
    let a = s.heap.assign_new_list("a");
    s.heap.list_append(a, a);
    s.say(format!("gc.is_tracked(a): {}", s.tracked("a")));
    let count = s.heap.getrefcount(a);
    s.say(format!("sys.getrefcount(a): {count}"));
    s.del("a");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let n = s.collect();
    s.say(format!("gc.collect() again: {n}"));
    s.assert_prints(
        "self_referencing_list",
        include_str!("../parity/self_referencing_list.out"),
    );
}

#[test]
fn two_instance_cycle() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let a = s.assign_instance("a", c, "a");
    let b = s.assign_instance("b", c, "b");
    s.heap.set_attr(a, "partner", b);
    s.heap.set_attr(b, "partner", a);
    for (var, obj) in [("a", a), ("b", b)] {
        let count = s.heap.getrefcount(obj);
        s.say(format!("sys.getrefcount({var}): {count}"));
    }
    s.del("a");
    s.del("b");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let n = s.collect();
    s.say(format!("gc.collect() again: {n}"));
    s.assert_prints(
        "two_instance_cycle",
        include_str!("../parity/two_instance_cycle.out"),
    );
}

/// `make_ring(size)`: `size` lists, each holding the next and the last the first, built in a
/// local list `nodes` that dies on return. Returns a new reference to the first.
fn make_ring(heap: &mut Heap, size: usize) -> ObjId {
    let nodes = heap.new_list();
    for _ in 0..size {
        let node = heap.new_list();
        heap.list_append(nodes, node);
        heap.decref(node);
    }
    for i in 0..size {
        let (node, next) = (
            heap.list_get(nodes, i),
            heap.list_get(nodes, (i + 1) % size),
        );
        heap.list_append(node, next);
    }
    let first = heap.list_get(nodes, 0);
    heap.incref(first);
    heap.decref(nodes);
    first
}

#[test]
fn list_rings() {
    let mut s = Script::new();
    for size in [10, 1000] {
        let first = make_ring(&mut s.heap, size);
        s.heap.bind("first", first);
        s.heap.decref(first);
        let n = s.collect();
        s.say(format!("ring of {size} bound to a name: gc.collect(): {n}"));
        s.del("first");
        let n = s.collect();
        s.say(format!("ring of {size} after del first: gc.collect(): {n}"));
    }
    s.assert_prints("list_rings", include_str!("../parity/list_rings.out"));
}

#[test]
fn cycle_reachable_from_outside() {
    let mut s = Script::new();
    let (a, _) = list_pair(&mut s);
    s.del("b");
    let n = s.collect();
    s.say(format!("a bound to a name: gc.collect(): {n}"));
    let holder = s.heap.assign_new_list("holder");
    s.heap.list_append(holder, a);
    s.del("a");
    let n = s.collect();
    s.say(format!("only holder refers to it: gc.collect(): {n}"));
    s.del("holder");
    let n = s.collect();
    s.say(format!("after del holder: gc.collect(): {n}"));
    s.assert_prints(
        "cycle_reachable_from_outside",
        include_str!("../parity/cycle_reachable_from_outside.out"),
    );
}

#[test]
fn cycle_holding_live_object() {
    let mut s = Script::new();
    let live = s.heap.assign_new_list("live");
    let (a, _) = list_pair(&mut s);
    s.heap.list_append(a, live);
    let count = s.heap.getrefcount(live);
    s.say(format!("before: sys.getrefcount(live): {count}"));
    s.del("a");
    s.del("b");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let count = s.heap.getrefcount(live);
    s.say(format!("after: sys.getrefcount(live): {count}"));
    s.say(format!("gc.is_tracked(live): {}", s.tracked("live")));
    s.assert_prints(
        "cycle_holding_live_object",
        include_str!("../parity/cycle_holding_live_object.out"),
    );
}

#[test]
fn garbage_hanging_off_cycle() {
    let mut s = Script::new();
    let old_tuple = s.tuple_of_ints(&[5, 6]);
    s.heap.bind("old_tuple", old_tuple);
    s.heap.decref(old_tuple);
    let n = s.collect();
    s.say(format!(
        "a collection while old_tuple lives: gc.collect(): {n}"
    ));
    let (a, _) = list_pair(&mut s);
    // a.append([1, 2])
    let ints = s.heap.new_list();
    for value in [1, 2] {
        let int = s.heap.new_int(value);
        s.append_new(ints, int);
    }
    s.append_new(a, ints);
    // a.append(tuple([3, 4])); a.append(old_tuple); a.append(tuple())
    let new_tuple = s.tuple_of_ints(&[3, 4]);
    s.append_new(a, new_tuple);
    s.heap.list_append(a, old_tuple);
    let empty = s.heap.new_tuple(&[]);
    s.append_new(a, empty);
    // a.append("text"); a.append(12345)
    let text = s.heap.new_str("text");
    s.append_new(a, text);
    let int = s.heap.new_int(12345);
    s.append_new(a, int);
    // a.append({"k": "v"}); a.append({"k": []})
    for value_is_list in [false, true] {
        let dict = s.heap.new_dict();
        let key = s.heap.new_str("k");
        let value = if value_is_list {
            s.heap.new_list()
        } else {
            s.heap.new_str("v")
        };
        s.heap.dict_set(dict, key, value);
        s.heap.decref(key);
        s.heap.decref(value);
        s.append_new(a, dict);
    }
    s.del("old_tuple");
    let labels = [
        "[1, 2]",
        "new tuple of ints",
        "old tuple of ints",
        "()",
        "'text'",
        "12345",
        "{'k': 'v'}",
        "{'k': []}",
    ];
    for (index, label) in (1..).zip(labels) {
        let tracked = s.heap.is_tracked(s.heap.list_get(a, index));
        s.say(format!("gc.is_tracked({label}): {}", py(tracked)));
    }
    s.del("a");
    s.del("b");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    s.assert_prints(
        "garbage_hanging_off_cycle",
        include_str!("../parity/garbage_hanging_off_cycle.out"),
    );
}

#[test]
fn nested_containers() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let o = s.assign_instance("o", c, "o");
    // d = {}; d["owner"] = o; d["label"] = "a dict"
    let d = s.heap.assign_new_dict("d");
    let (owner, label, text) = (
        s.heap.new_str("owner"),
        s.heap.new_str("label"),
        s.heap.new_str("a dict"),
    );
    s.heap.dict_set(d, owner, o);
    s.heap.dict_set(d, label, text);
    // o.items = [d, tuple([d]), {"colour": "red"}]
    let items = s.heap.new_list();
    s.heap.list_append(items, d);
    let tuple = s.heap.new_tuple(&[d]);
    s.append_new(items, tuple);
    let colours = s.heap.new_dict();
    let (colour, red) = (s.heap.new_str("colour"), s.heap.new_str("red"));
    s.heap.dict_set(colours, colour, red);
    s.append_new(items, colours);
    s.set_attr_new(o, "items", items);
    for atom in [owner, label, text, colour, red] {
        s.heap.decref(atom);
    }
    s.del("d");
    for index in 0..3 {
        let tracked = s.heap.is_tracked(s.heap.list_get(items, index));
        s.say(format!("gc.is_tracked(o.items[{index}]): {}", py(tracked)));
    }
    s.del("o");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    s.assert_prints(
        "nested_containers",
        include_str!("../parity/nested_containers.out"),
    );
}

// ---------------------------------------------------------------------------------------------
// Finalizers and resurrection (PEP 442)
// ---------------------------------------------------------------------------------------------

#[test]
fn finalizers_in_cycle() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let d = s.class("D", true, vec![]);
    let a = s.assign_instance("a", d, "a");
    let b = s.assign_instance("b", d, "b");
    let plain = s.assign_instance("plain", c, "plain");
    let last = s.assign_instance("c", d, "c");
    s.heap.set_attr(a, "next", b);
    s.heap.set_attr(b, "next", plain);
    s.heap.set_attr(plain, "next", last);
    s.heap.set_attr(last, "next", a);
    let finalized = s.heap.is_finalized(a);
    s.say(format!("gc.is_finalized(a): {}", py(finalized)));
    for var in ["a", "b", "plain", "c"] {
        s.del(var);
    }
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let garbage = s.garbage_len();
    s.say(format!("len(gc.garbage): {garbage}"));
    let n = s.collect();
    s.say(format!("gc.collect() again: {n}"));
    // Two 2-cycles made at different times, the older one promoted to generation 1 first.
    let e = s.assign_instance("e", d, "e");
    let f = s.assign_instance("f", d, "f");
    s.heap.set_attr(e, "next", f);
    s.heap.set_attr(f, "next", e);
    s.collect_generation(0);
    let g = s.assign_instance("g", d, "g");
    let h = s.assign_instance("h", d, "h");
    s.heap.set_attr(g, "next", h);
    s.heap.set_attr(h, "next", g);
    s.heap.set_attr(f, "other", g);
    for var in ["e", "f", "g", "h"] {
        s.del(var);
    }
    let n = s.collect();
    s.say(format!(
        "e, f from generation 1, g, h from generation 0: gc.collect(): {n}"
    ));
    // x made before y, reachable only through y when a collection runs.
    let x = s.assign_instance("x", d, "x");
    let y = s.assign_instance("y", d, "y");
    s.heap.set_attr(y, "other", x);
    s.del("x");
    s.collect_generation(0);
    s.heap.bind("x", x);
    s.heap.set_attr(x, "other", y);
    s.del("x");
    s.del("y");
    let n = s.collect();
    s.say(format!(
        "x made before y, reordered by a collection: gc.collect(): {n}"
    ));
    s.assert_prints(
        "finalizers_in_cycle",
        include_str!("../parity/finalizers_in_cycle.out"),
    );
}

#[test]
fn resurrection_from_cycle() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let phoenix = s.class("Phoenix", true, vec![Action::BindSelf("saved".into())]);
    let x = s.assign_instance("x", phoenix, "x");
    let y = s.assign_instance("y", c, "y");
    s.heap.set_attr(x, "friend", y);
    s.heap.set_attr(y, "friend", x);
    let z = s.heap.assign_new_list("z");
    s.heap.list_append(z, z);
    let r = s.weakref(x, None);
    s.heap.bind("r", r);
    s.heap.decref(r);
    for var in ["x", "y", "z"] {
        s.del(var);
    }
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let saved = s.heap.get("saved");
    let friend = s.heap.get_attr(saved, "friend").expect("saved.friend");
    let (name, friend_name) = (s.str_attr(saved, "name"), s.str_attr(friend, "name"));
    s.say(format!(
        "saved.name, saved.friend.name: {name} {friend_name}"
    ));
    let finalized = s.heap.is_finalized(saved);
    s.say(format!("gc.is_finalized(saved): {}", py(finalized)));
    let dead = s.heap.weakref_referent(r).is_none();
    s.say(format!("r() is None: {}", py(dead)));
    s.del("saved");
    let n = s.collect();
    s.say(format!("after del saved: gc.collect(): {n}"));
    s.assert_prints(
        "resurrection_from_cycle",
        include_str!("../parity/resurrection_from_cycle.out"),
    );
}

// ---------------------------------------------------------------------------------------------
// Weak references
// ---------------------------------------------------------------------------------------------

#[test]
fn weakrefs_from_outside() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let a = s.assign_instance("a", c, "a");
    let b = s.assign_instance("b", c, "b");
    s.heap.set_attr(a, "partner", b);
    s.heap.set_attr(b, "partner", a);
    let plain = s.weakref(a, None);
    s.heap.bind("plain", plain);
    s.heap.decref(plain);
    // `forget` deletes the global name `once` after printing.
    let once = s.weakref(b, Some(("once", vec![Action::Unbind("once".into())])));
    s.heap.bind("once", once);
    s.heap.decref(once);
    let same = s.heap.weakref_referent(plain) == Some(a);
    s.say(format!("plain() is a: {}", py(same)));
    s.del("a");
    s.del("b");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let dead = s.heap.weakref_referent(plain).is_none();
    s.say(format!("plain() is None: {}", py(dead)));
    let bound = s.heap.lookup("once").is_some();
    s.say(format!("'once' in globals(): {}", py(bound)));
    s.assert_prints(
        "weakrefs_from_outside",
        include_str!("../parity/weakrefs_from_outside.out"),
    );
}

#[test]
fn weakref_callback_reachable_vs_garbage() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    let a = s.assign_instance("a", c, "a");
    let b = s.assign_instance("b", c, "b");
    s.heap.set_attr(a, "partner", b);
    s.heap.set_attr(b, "partner", a);
    let outside = s.weakref(b, Some(("outside", vec![])));
    s.heap.bind("outside", outside);
    s.heap.decref(outside);
    let watch = s.weakref(b, Some(("a.watch", vec![])));
    s.set_attr_new(a, "watch", watch);
    s.say("before gc.collect()");
    s.del("a");
    s.del("b");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let dead = s.heap.weakref_referent(outside).is_none();
    s.say(format!("outside() is None: {}", py(dead)));
    s.assert_prints(
        "weakref_callback_reachable_vs_garbage",
        include_str!("../parity/weakref_callback_reachable_vs_garbage.out"),
    );
}

// ---------------------------------------------------------------------------------------------
// gc.garbage, tracking, generations
// ---------------------------------------------------------------------------------------------

#[test]
fn debug_saveall() {
    let mut s = Script::new();
    let d_class = s.class("D", true, vec![]);
    s.gc.set_debug(&mut s.heap, DEBUG_SAVEALL);
    let d = s.assign_instance("d", d_class, "d");
    let boxed = s.heap.new_list();
    s.heap.list_append(boxed, d);
    s.set_attr_new(d, "box", boxed);
    s.del("d");
    let n = s.collect();
    s.say(format!("gc.collect(): {n}"));
    let garbage = s.garbage_len();
    s.say(format!("len(gc.garbage): {garbage}"));
    s.gc.set_debug(&mut s.heap, 0);
    let n = s.collect();
    s.say(format!("saved in gc.garbage: gc.collect(): {n}"));
    let garbage = s.gc.garbage().expect("gc.garbage was made by set_debug");
    s.clear_list(garbage);
    let n = s.collect();
    s.say(format!("after gc.garbage.clear(): gc.collect(): {n}"));
    s.assert_prints("debug_saveall", include_str!("../parity/debug_saveall.out"));
}

#[test]
fn tuple_tracking() {
    let mut s = Script::new();
    let t = s.tuple_of_ints(&[1, 2]);
    s.heap.bind("t", t);
    s.heap.decref(t);
    let list = s.heap.new_list();
    s.heap.assign_new_tuple("u", &[list]);
    s.heap.decref(list);
    let inner = s.tuple_of_ints(&[3, 4]);
    s.heap.bind("inner", inner);
    s.heap.decref(inner);
    s.heap.assign_new_tuple("outer", &[inner]);
    s.heap.assign_new_tuple("empty", &[]);
    let names = ["t", "u", "inner", "outer", "empty"];
    for name in names {
        s.say(format!(
            "created: gc.is_tracked({name}): {}",
            s.tracked(name)
        ));
    }
    s.collect_generation(0);
    for name in names {
        s.say(format!(
            "after gc.collect(0): gc.is_tracked({name}): {}",
            s.tracked(name)
        ));
    }
    s.assert_prints(
        "tuple_tracking",
        include_str!("../parity/tuple_tracking.out"),
    );
}

#[test]
fn dict_tracking() {
    let mut s = Script::new();
    let d = s.heap.assign_new_dict("d");
    s.say(format!("d = {{}}: gc.is_tracked(d): {}", s.tracked("d")));
    let (k1, v2) = (s.heap.new_int(1), s.heap.new_int(2));
    s.heap.dict_set(d, k1, v2);
    s.say(format!("d[1] = 2: gc.is_tracked(d): {}", s.tracked("d")));
    let list = s.heap.new_list();
    s.heap.dict_set(d, v2, list);
    s.heap.decref(list);
    s.say(format!("d[2] = []: gc.is_tracked(d): {}", s.tracked("d")));
    s.heap.dict_del(d, v2);
    s.say(format!("del d[2]: gc.is_tracked(d): {}", s.tracked("d")));
    s.collect_generation(0);
    s.say(format!(
        "gc.collect(0): gc.is_tracked(d): {}",
        s.tracked("d")
    ));
    s.collect();
    s.say(format!(
        "gc.collect(): gc.is_tracked(d): {}",
        s.tracked("d")
    ));
    let t = s.heap.assign_new_tuple("t", &[k1, v2]);
    let e = s.heap.assign_new_dict("e");
    s.heap.dict_set(e, k1, t);
    s.say(format!(
        "e[1] = t (t tracked): gc.is_tracked(e): {}",
        s.tracked("e")
    ));
    s.collect();
    s.say(format!(
        "gc.collect(): gc.is_tracked(t), gc.is_tracked(e): {} {}",
        s.tracked("t"),
        s.tracked("e")
    ));
    let f = s.heap.assign_new_dict("f");
    s.heap.dict_set(f, k1, t);
    s.say(format!(
        "f[1] = t (t untracked): gc.is_tracked(f): {}",
        s.tracked("f")
    ));
    s.heap.decref(k1);
    s.heap.decref(v2);
    s.assert_prints("dict_tracking", include_str!("../parity/dict_tracking.out"));
}

#[test]
fn generations() {
    let mut s = Script::new();
    let a = s.heap.assign_new_list("a");
    s.heap.list_append(a, a);
    s.say(format!("new: generation {}", s.generation_of(a)));
    s.collect_generation(0);
    s.say(format!(
        "after gc.collect(0): generation {}",
        s.generation_of(a)
    ));
    s.collect_generation(0);
    s.say(format!(
        "after gc.collect(0) again: generation {}",
        s.generation_of(a)
    ));
    s.collect_generation(1);
    s.say(format!(
        "after gc.collect(1): generation {}",
        s.generation_of(a)
    ));
    s.collect();
    s.say(format!(
        "after gc.collect(): generation {}",
        s.generation_of(a)
    ));
    s.del("a");
    let n = s.collect_generation(0);
    s.say(format!("del a (generation 2): gc.collect(0): {n}"));
    let n = s.collect_generation(1);
    s.say(format!("gc.collect(1): {n}"));
    let n = s.collect_generation(2);
    s.say(format!("gc.collect(2): {n}"));
    let old = s.heap.assign_new_list("old");
    s.collect();
    let young = s.heap.assign_new_list("young");
    s.heap.list_append(young, young);
    s.heap.list_append(old, young);
    s.del("young");
    let n = s.collect_generation(0);
    s.say(format!(
        "young cycle held by an old list: gc.collect(0): {n}"
    ));
    s.say(format!(
        "old[0] is in generation {}",
        s.generation_of(young)
    ));
    s.clear_list(old);
    let n = s.collect_generation(0);
    s.say(format!("after old.clear(): gc.collect(0): {n}"));
    let n = s.collect_generation(1);
    s.say(format!("gc.collect(1): {n}"));
    s.assert_prints("generations", include_str!("../parity/generations.out"));
}
