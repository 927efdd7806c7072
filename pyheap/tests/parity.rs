//! CPython parity: each test runs on pyheap the scenario of one script in `pyheap/parity/`,
//! renders what happened as the lines the script prints, and compares them with the script's
//! output recorded from CPython 3.11.7 (`pyheap/parity/*.out`, re-recorded by
//! `cargo xtask parity`).
//!
//! Only what a Python program can print is rendered: a `__del__` call ("__del__ NAME", the
//! scripts' `__del__` prints `self.name`), a weakref callback call ("callback NAME"), a `Log`
//! action, and the script's own `print` lines, which the test writes with [`Script::say`] at the
//! same point. Destruction itself and resurrection are not printed: the scripts observe them
//! through weakrefs and names.
//!
//! These scripts cover reference counting, and what allocations and deaths do to `count0` with
//! CPython 3.11's free lists. What a collection does (including which tuples and dicts it
//! untracks) is lab 03's: its parity scripts, in `labs/03-cycles/parity/`, run with the
//! collector; when collections run by themselves is lab 04's (`labs/04-generations/parity/`).

use std::collections::HashMap;

use pretty_assertions::assert_eq;
use pyheap::{Action, Callback, ClassId, Event, Finalizer, Heap, ObjId};

/// A scenario's output, built as the script's would be.
struct Script {
    heap: Heap,
    /// Serial of an instance or a weakref -> the name its `__del__` or callback prints.
    names: HashMap<u64, String>,
    lines: Vec<String>,
}

impl Script {
    fn new() -> Self {
        Script {
            heap: Heap::new(),
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

    /// `var = weakref.ref(referent, make_callback(name))` (or without a callback).
    fn weakref(&mut self, var: &str, referent: &str, callback: Option<&str>) -> ObjId {
        let referent = self.heap.get(referent);
        let wr = self
            .heap
            .assign_new_weakref(var, referent, callback.map(|_| Callback::new([])));
        if let Some(name) = callback {
            self.names.insert(self.heap.serial(wr), name.to_string());
        }
        wr
    }

    /// Renders the events so far, then `line`.
    fn say(&mut self, line: impl Into<String>) {
        self.flush();
        self.lines.push(line.into());
    }

    /// `del var`, then renders what it printed.
    fn del(&mut self, var: &str) {
        self.heap.del(var);
        self.flush();
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

    /// The output, one line per print.
    fn output(mut self) -> String {
        self.flush();
        self.lines.iter().map(|line| format!("{line}\n")).collect()
    }
}

fn py(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[test]
fn del_runs_at_refcount_death() {
    let mut s = Script::new();
    let c = s.class("C", true, vec![]);
    s.assign_instance("x", c, "x");
    let r = s.weakref("r", "x", Some("r"));
    s.say("before del x");
    s.del("x");
    s.say("after del x");
    let dead = s.heap.weakref_referent(r).is_none();
    s.say(format!("r() is None: {}", py(dead)));
    assert_eq!(
        s.output(),
        include_str!("../parity/del_runs_at_refcount_death.out")
    );
}

#[test]
fn resurrection() {
    let mut s = Script::new();
    let c = s.class("C", true, vec![Action::BindSelf("saved".into())]);
    let x = s.assign_instance("x", c, "x");
    let r = s.weakref("r", "x", Some("r"));
    let finalized = s.heap.is_finalized(x);
    s.say(format!("gc.is_finalized(x): {}", py(finalized)));
    s.del("x");
    s.say("after del x");
    let saved = s.heap.lookup("saved");
    let same = saved.is_some() && s.heap.weakref_referent(r) == saved;
    s.say(format!("r() is saved: {}", py(same)));
    let saved = s.heap.get("saved");
    let finalized = s.heap.is_finalized(saved);
    s.say(format!("gc.is_finalized(saved): {}", py(finalized)));
    let tracked = s.heap.is_tracked(saved);
    s.say(format!("gc.is_tracked(saved): {}", py(tracked)));
    s.del("saved");
    s.say("after del saved");
    let dead = s.heap.weakref_referent(r).is_none();
    s.say(format!("r() is None: {}", py(dead)));
    assert_eq!(s.output(), include_str!("../parity/resurrection.out"));
}

#[test]
fn weakref_callbacks_order() {
    let mut s = Script::new();
    let c = s.class("C", false, vec![]);
    s.assign_instance("o", c, "o");
    let r1 = s.weakref("r1", "o", Some("r1"));
    let r2 = s.weakref("r2", "o", Some("r2"));
    let basic = s.weakref("basic", "o", None);
    let r3 = s.weakref("r3", "o", Some("r3"));
    // `weakref.ref(o) is basic`: a temporary reference, given up at once.
    let o = s.heap.get("o");
    let again = s.heap.new_weakref(o, None);
    let shared = again == basic;
    s.heap.decref(again);
    s.say(format!("weakref.ref(o) is basic: {}", py(shared)));
    s.say("before del o");
    s.del("o");
    s.say("after del o");
    let all_dead = [r1, r2, r3, basic]
        .iter()
        .all(|&wr| s.heap.weakref_referent(wr).is_none());
    s.say(format!("all dead: {}", py(all_dead)));
    assert_eq!(
        s.output(),
        include_str!("../parity/weakref_callbacks_order.out")
    );
}

#[test]
fn callback_not_called_when_weakref_died_first() {
    let mut s = Script::new();
    let c = s.class("C", true, vec![]);
    s.assign_instance("x", c, "x");
    s.weakref("r", "x", Some("r"));
    s.weakref("kept", "x", Some("kept"));
    s.del("r");
    s.say("after del r");
    s.del("x");
    s.say("after del x");
    assert_eq!(
        s.output(),
        include_str!("../parity/callback_not_called_when_weakref_died_first.out")
    );
}

#[test]
fn cascade_order() {
    let mut s = Script::new();
    let c = s.class("C", true, vec![]);
    // items = [C("l1"), C("l2"), C("l3")]
    let items = s.heap.assign_new_list("items");
    for name in ["l1", "l2", "l3"] {
        let obj = s.instance(c, name);
        s.heap.list_append(items, obj);
        s.heap.decref(obj);
    }
    s.say("del items");
    s.del("items");
    // t = (C("t1"), C("t2"), C("t3"))
    let members: Vec<ObjId> = ["t1", "t2", "t3"]
        .iter()
        .map(|name| s.instance(c, name))
        .collect();
    s.heap.assign_new_tuple("t", &members);
    for obj in members {
        s.heap.decref(obj);
    }
    s.say("del t");
    s.del("t");
    // d = {}; d["k1"] = C("d1"); ...
    let d = s.heap.assign_new_dict("d");
    for (key, name) in [("k1", "d1"), ("k2", "d2"), ("k3", "d3")] {
        let key = s.heap.new_str(key);
        let obj = s.instance(c, name);
        s.heap.dict_set(d, key, obj);
        s.heap.decref(key);
        s.heap.decref(obj);
    }
    s.say("del d");
    s.del("d");
    // a = C("a"); a.next = C("b"); a.next.next = C("c")
    let a = s.assign_instance("a", c, "a");
    let b = s.instance(c, "b");
    s.heap.set_attr(a, "next", b);
    s.heap.decref(b);
    let last = s.instance(c, "c");
    s.heap.set_attr(b, "next", last);
    s.heap.decref(last);
    s.say("del a");
    s.del("a");
    s.say("end");
    assert_eq!(s.output(), include_str!("../parity/cascade_order.out"));
}

// ---------------------------------------------------------------------------------------------
// Free lists and count0
// ---------------------------------------------------------------------------------------------

/// `seen.extend(gc.get_count())`: reads the counts, then makes the 3-tuple `gc.get_count()`
/// returns (its items are ints, never counted) and drops it at once, onto the free list of
/// 3-tuples.
fn count(heap: &mut Heap, seen: &mut Vec<[usize; 3]>) {
    seen.push(heap.gc_counts());
    let items: Vec<ObjId> = heap
        .gc_counts()
        .iter()
        .map(|&c| heap.new_int(c as i64))
        .collect();
    let tuple = heap.new_tuple(&items);
    for item in items {
        heap.decref(item);
    }
    heap.decref(tuple);
}

/// `for i in range(n): x = make()` inside a function: each new object is made while `x` still
/// holds the previous one, which dies when `x` is rebound; the last dies when the function
/// returns.
fn make_and_drop(heap: &mut Heap, n: usize, mut make: impl FnMut(&mut Heap) -> ObjId) {
    let mut x: Option<ObjId> = None;
    for _ in 0..n {
        let new = make(heap);
        if let Some(old) = x.replace(new) {
            heap.decref(old);
        }
    }
    if let Some(last) = x {
        heap.decref(last);
    }
}

/// `tuple(range(size))`: a new tuple of `size` new ints, a new reference.
fn tuple_of_range(heap: &mut Heap, size: usize) -> ObjId {
    let ints: Vec<ObjId> = (0..size as i64).map(|v| heap.new_int(v)).collect();
    let tuple = heap.new_tuple(&ints);
    for int in ints {
        heap.decref(int);
    }
    tuple
}

/// What `gc.collect()` does to the counts and free lists of a heap whose generations hold
/// nothing: the counts go to 0 and `clear_freelists` frees what the free lists hold (each
/// `count0 -= 1`, never below 0).
fn full_collection_of_nothing(heap: &mut Heap) {
    for g in 0..3 {
        assert!(
            heap.gc_list_is_empty(pyheap::GcList::generation(g)),
            "the scenario should hold no tracked object here"
        );
    }
    *heap.gc_counts_mut() = [0, 0, 0];
    heap.clear_free_lists();
}

#[test]
fn free_lists() {
    // After `gc.collect(); gc.freeze()`: no tracked object, empty free lists, counts 0.
    let mut heap = Heap::with_free_lists();
    let class = heap.new_class("C", None);
    let mut seen = Vec::new();
    count(&mut heap, &mut seen);
    make_and_drop(&mut heap, 1000, Heap::new_list);
    count(&mut heap, &mut seen);
    let held = heap.assign_new_list("held");
    for _ in 0..100 {
        let item = heap.new_list();
        heap.list_append(held, item);
        heap.decref(item);
    }
    count(&mut heap, &mut seen);
    heap.del("held");
    count(&mut heap, &mut seen);
    make_and_drop(&mut heap, 100, Heap::new_list);
    count(&mut heap, &mut seen);
    make_and_drop(&mut heap, 1000, Heap::new_dict);
    count(&mut heap, &mut seen);
    for size in [1, 19, 20, 21] {
        make_and_drop(&mut heap, 1000, |heap| tuple_of_range(heap, size));
        count(&mut heap, &mut seen);
    }
    make_and_drop(&mut heap, 1000, |heap| heap.new_instance(class));
    count(&mut heap, &mut seen);
    full_collection_of_nothing(&mut heap);
    count(&mut heap, &mut seen);
    heap.assign_new_list("x");
    count(&mut heap, &mut seen);

    let steps = [
        "start",
        "1000 lists made and dropped",
        "100 lists held in a list",
        "del held (101 lists die, 80 fit on the free list)",
        "100 lists made and dropped (all from the free list)",
        "1000 dicts made and dropped",
        "1000 1-tuples made and dropped",
        "1000 19-tuples made and dropped",
        "1000 20-tuples made and dropped",
        "1000 21-tuples made and dropped",
        "1000 instances made and dropped",
        "gc.collect()",
        "x = [] after gc.collect()",
    ];
    let output: String = steps
        .iter()
        .zip(&seen)
        .map(|(step, [c0, c1, c2])| format!("{step}: ({c0}, {c1}, {c2})\n"))
        .collect();
    assert_eq!(output, include_str!("../parity/free_lists.out"));
}
