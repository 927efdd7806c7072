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

use std::collections::HashMap;

use pretty_assertions::assert_eq;
use pyheap::{Action, Callback, ClassId, Event, Finalizer, GcList, Heap, ObjId};

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

    /// What `gc.collect(generation)` does to tracking, for objects that all survive: merges the
    /// younger generations into `generation`, untracks tuples over it (`untrack_tuples`), then
    /// moves it to the next generation, or, for a full collection, untracks dicts
    /// (`untrack_dicts`). Nothing here is garbage, so nothing else happens.
    fn collect_tracking(&mut self, generation: usize) {
        let heap = &mut self.heap;
        let young = GcList::generation(generation);
        for g in 0..generation {
            heap.gc_list_merge(GcList::generation(g), young);
        }
        for id in heap.gc_list_objects(young) {
            heap.maybe_untrack_tuple(id);
        }
        if generation < 2 {
            heap.gc_list_merge(young, GcList::generation(generation + 1));
        } else {
            for id in heap.gc_list_objects(young) {
                heap.maybe_untrack_dict(id);
            }
        }
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
fn tuple_tracking() {
    let mut s = Script::new();
    let heap = &mut s.heap;
    let (one, two) = (heap.new_int(1), heap.new_int(2));
    heap.assign_new_tuple("t", &[one, two]);
    let list = heap.new_list();
    heap.assign_new_tuple("u", &[list]);
    heap.decref(list);
    let (three, four) = (heap.new_int(3), heap.new_int(4));
    let inner = heap.assign_new_tuple("inner", &[three, four]);
    heap.assign_new_tuple("outer", &[inner]);
    heap.assign_new_tuple("empty", &[]);
    for id in [one, two, three, four] {
        heap.decref(id);
    }
    let names = ["t", "u", "inner", "outer", "empty"];
    for name in names {
        let tracked = s.heap.is_tracked(s.heap.get(name));
        s.say(format!("created: gc.is_tracked({name}): {}", py(tracked)));
    }
    s.collect_tracking(0);
    for name in names {
        let tracked = s.heap.is_tracked(s.heap.get(name));
        s.say(format!(
            "after gc.collect(0): gc.is_tracked({name}): {}",
            py(tracked)
        ));
    }
    assert_eq!(s.output(), include_str!("../parity/tuple_tracking.out"));
}

#[test]
fn dict_tracking() {
    let mut s = Script::new();
    let d = s.heap.assign_new_dict("d");
    let tracked = |s: &Script, name: &str| py(s.heap.is_tracked(s.heap.get(name)));
    s.say(format!("d = {{}}: gc.is_tracked(d): {}", tracked(&s, "d")));
    let (k1, v2) = (s.heap.new_int(1), s.heap.new_int(2));
    s.heap.dict_set(d, k1, v2);
    s.say(format!("d[1] = 2: gc.is_tracked(d): {}", tracked(&s, "d")));
    let list = s.heap.new_list();
    s.heap.dict_set(d, v2, list);
    s.heap.decref(list);
    s.say(format!("d[2] = []: gc.is_tracked(d): {}", tracked(&s, "d")));
    s.heap.dict_del(d, v2);
    s.say(format!("del d[2]: gc.is_tracked(d): {}", tracked(&s, "d")));
    s.collect_tracking(0);
    s.say(format!(
        "gc.collect(0): gc.is_tracked(d): {}",
        tracked(&s, "d")
    ));
    s.collect_tracking(2);
    s.say(format!(
        "gc.collect(): gc.is_tracked(d): {}",
        tracked(&s, "d")
    ));
    let t = s.heap.assign_new_tuple("t", &[k1, v2]);
    let e = s.heap.assign_new_dict("e");
    s.heap.dict_set(e, k1, t);
    s.say(format!(
        "e[1] = t (t tracked): gc.is_tracked(e): {}",
        tracked(&s, "e")
    ));
    s.collect_tracking(2);
    s.say(format!(
        "gc.collect(): gc.is_tracked(t), gc.is_tracked(e): {} {}",
        tracked(&s, "t"),
        tracked(&s, "e")
    ));
    let f = s.heap.assign_new_dict("f");
    s.heap.dict_set(f, k1, t);
    s.say(format!(
        "f[1] = t (t untracked): gc.is_tracked(f): {}",
        tracked(&s, "f")
    ));
    s.heap.decref(k1);
    s.heap.decref(v2);
    assert_eq!(s.output(), include_str!("../parity/dict_tracking.out"));
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
