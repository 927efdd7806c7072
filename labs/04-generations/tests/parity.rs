//! Graded tests for lab 04, CPython parity: each test runs on a pyheap heap with CPython's free
//! lists, with your [`Gc`](generations::Gc), the scenario of one script in
//! `labs/04-generations/parity/`, renders what happened as the lines the script prints, and
//! compares them with the script's output recorded from CPython 3.11.7 (`parity/<name>.out`,
//! re-recorded by `cargo xtask parity`). The test has the script's name; read the script next
//! to it to see the Python it stands for.
//!
//! The counts are compared exactly, so the test makes every container the script makes, when
//! it makes it: each `[]`, `C()` and `(x, y)`, and also the 3-tuple that `gc.get_count()`
//! returns, the argument tuple of `gc.set_threshold(...)` (a `METH_VARARGS` function), the
//! result list of `gc.get_objects()`, and, inside your collector, the callbacks' info dicts.
//! Each script starts with `gc.collect(); gc.freeze(); gc.collect()`, after which nothing of
//! the scenario is in a generation, the free lists are empty, the counts are 0 and
//! `long_lived_total` is 0: a new heap and a new `Gc`.
//!
//! The scripts' callback, `on_gc`, is `CallbackAction::Record`: it appends to `log` the phase,
//! `info["generation"]`, `info["collected"]` and `gc.get_count()`. The tests read the log of
//! your `Gc` and write the lines the scripts print from it.

mod common;

use common::{Act, Logged, World, same_text};
use pyheap::ObjId;

/// A scenario's heap and scheduler, allocating through your hook as a program does.
struct Script {
    w: World,
}

impl Script {
    /// A new heap with free lists and your `Gc`, disabled (each script starts with
    /// `gc.disable()`); allocations through the hook if `hooked`.
    fn new(hooked: bool) -> Script {
        let mut w = World::yours(true);
        w.hooked = hooked;
        w.gc.disable();
        Script { w }
    }

    /// `gc.callbacks.append(on_gc)`, the scripts' recording callback.
    fn add_on_gc(&mut self) {
        self.w.gc.add_callback("on_gc", &[Act::Record]);
    }

    /// `name = C()`.
    fn instance(&mut self, name: &str) -> ObjId {
        self.w.instance(name)
    }

    /// `name = []`.
    fn list(&mut self, name: &str) -> ObjId {
        self.w.list(name)
    }

    /// `del name`.
    fn del(&mut self, name: &str) {
        self.w.heap.del(name);
    }

    /// `name = (ints...)`, a tuple of ints made now: a new reference.
    fn tuple_of_ints(&mut self, values: &[i64]) -> ObjId {
        let ints: Vec<ObjId> = values.iter().map(|&v| self.w.heap.new_int(v)).collect();
        let tuple = self.w.new_tuple("a tuple of ints", &ints);
        for int in ints {
            self.w.heap.decref(int);
        }
        tuple
    }

    /// `gc.get_count()`: reads the counts, then makes the 3-tuple it returns (a new
    /// reference).
    fn get_count(&mut self) -> ([usize; 3], ObjId) {
        let counts = self.w.heap.gc_counts();
        let values = counts.map(|c| c as i64);
        (counts, self.tuple_of_ints(&values))
    }

    /// `counts.extend(gc.get_count())`: the tuple is freed at once.
    fn count(&mut self, counts: &mut Vec<[usize; 3]>) {
        let (read, tuple) = self.get_count();
        self.w.heap.decref(tuple);
        counts.push(read);
    }

    /// `gc.set_threshold(*args)`: the arguments arrive in a new tuple, freed after the call.
    fn set_threshold(&mut self, args: &[i32]) {
        let tuple = self.tuple_of_ints(&args.iter().map(|&a| i64::from(a)).collect::<Vec<_>>());
        self.w.heap.decref(tuple);
        self.w
            .gc
            .set_threshold(args[0], args.get(1).copied(), args.get(2).copied());
    }

    /// `gc.collect(generation)`.
    fn collect(&mut self, generation: i32) -> usize {
        self.w
            .gc
            .collect(&mut self.w.heap, generation)
            .expect("a valid generation")
    }

    /// `keep.append(C())`.
    fn keep_instance(&mut self, keep: ObjId) {
        let id = self.w.new_instance("an instance");
        self.w.heap.list_append(keep, id);
        self.w.heap.decref(id);
    }

    /// The callback log's calls so far, each as (phase, generation, collected, counts).
    fn calls(&self) -> Vec<(&'static str, usize, usize, [usize; 3])> {
        self.w
            .gc
            .log()
            .into_iter()
            .filter_map(|event| match event {
                Logged::Called {
                    phase,
                    generation,
                    collected,
                    counts,
                    ..
                } => Some((phase, generation, collected, counts)),
                Logged::Collect { .. } => None,
            })
            .collect()
    }
}

/// `(a, b, c)` as Python prints a tuple of ints.
fn tuple3(values: [usize; 3]) -> String {
    format!("({}, {}, {})", values[0], values[1], values[2])
}

/// Pairs each "start" call with its "stop" call, with `when[k]`, the value of the script's `i`
/// when call number `k` was logged.
fn collections<'a, T: Copy>(
    calls: &'a [(&'static str, usize, usize, [usize; 3])],
    when: &'a [T],
) -> impl Iterator<Item = (T, usize, [usize; 3], [usize; 3], usize)> + 'a {
    calls.chunks(2).zip(when.chunks(2)).map(|(pair, when)| {
        let ((start, generation, _, before), (stop, _, collected, after)) = (pair[0], pair[1]);
        assert_eq!(
            (start, stop),
            ("start", "stop"),
            "calls come in start/stop pairs"
        );
        (when[0], generation, before, after, collected)
    })
}

/// Runs `body(i)` for `i` in `0..n`, and returns, for each callback call logged meanwhile, the
/// `i` during which it was logged.
fn loop_logging(s: &mut Script, n: usize, mut body: impl FnMut(&mut Script, usize)) -> Vec<usize> {
    let mut when = Vec::new();
    for i in 0..n {
        let before = s.calls().len();
        body(s, i);
        let after = s.calls().len();
        when.extend(std::iter::repeat_n(i, after - before));
    }
    when
}

// ---------------------------------------------------------------------------------------------
// The scripts
// ---------------------------------------------------------------------------------------------

#[test]
fn callbacks() {
    // gc.disable() throughout: the plain constructors do what the hook would (nothing).
    let mut s = Script::new(false);
    s.w.gc.add_callback("first", &[Act::Record]);
    s.w.gc
        .add_callback("second", &[Act::Record, Act::Collect(2)]);
    let a = s.instance("a");
    s.w.heap.set_attr(a, "me", a);
    s.del("a");
    let b = s.list("b");
    s.w.heap.list_append(b, b);
    let n0 = s.collect(0);
    s.del("b");
    let n1 = s.collect(1);
    let n2 = s.collect(2);

    let mut out = String::new();
    let mut nested = Vec::new();
    let mut infos = Vec::new();
    for event in s.w.gc.log() {
        match event {
            Logged::Called {
                callback,
                phase,
                generation,
                collected,
                uncollectable,
                counts,
                info,
            } => {
                out += &format!(
                    "{callback}('{phase}', {{'generation': {generation}, 'collected': \
                     {collected}, 'uncollectable': {uncollectable}}}); gc.get_count() == {}\n",
                    tuple3(counts)
                );
                infos.push(info);
            }
            Logged::Collect { result, .. } => nested.push(result.expect("gc.collect()")),
        }
    }
    out += &format!("gc.collect(0), gc.collect(1), gc.collect(): {n0} {n1} {n2}\n");
    out += &format!("gc.collect() inside a callback: {nested:?}\n");
    let shared = infos.chunks(2).all(|pair| pair[0] == pair[1]);
    out += &format!(
        "one info dict per phase: {}\n",
        if shared { "True" } else { "False" }
    );
    let stats = s.w.gc.get_stats();
    for (g, (collections, collected, _, _)) in stats.iter().enumerate() {
        out += &format!("gc.get_stats()[{g}]: {collections} collections, {collected} collected\n");
    }
    same_text(
        "callbacks.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/callbacks.out"),
        &out,
    );
}

#[test]
fn first_look() {
    let mut s = Script::new(true);
    let threshold = s.w.gc.get_threshold();
    s.add_on_gc();
    let mut counts = Vec::new();
    s.count(&mut counts);
    s.instance("a");
    s.instance("b");
    s.list("x");
    let n = s.w.heap.new_int(12345);
    s.w.heap.bind("n", n);
    s.w.heap.decref(n);
    s.count(&mut counts);
    s.del("a");
    s.count(&mut counts);
    s.del("x");
    s.count(&mut counts);
    let b = s.w.heap.get("b");
    s.w.heap.set_attr(b, "me", b);
    s.del("b");
    s.count(&mut counts);
    s.collect(0);
    s.count(&mut counts);
    s.collect(2);
    s.count(&mut counts);
    let manual = s.calls().len();
    let keep = s.list("keep");
    s.w.gc.enable();
    let when = loop_logging(&mut s, 1500, |s, _| s.keep_instance(keep));
    s.w.gc.disable();
    s.count(&mut counts);

    let mut out = format!(
        "gc.get_threshold(): ({}, {}, {})\n",
        threshold[0], threshold[1], threshold[2]
    );
    let steps = [
        "start",
        "a = C(); b = C(); x = []; n = 12345",
        "del a",
        "del x",
        "b.me = b; del b",
        "gc.collect(0)",
        "gc.collect()",
        "1500 instances kept, automatic collection on",
    ];
    for (step, seen) in steps.iter().zip(&counts) {
        out += &format!("{step}: gc.get_count() == {}\n", tuple3(*seen));
    }
    out += "callback calls:\n";
    for (k, (phase, generation, collected, seen)) in s.calls().into_iter().enumerate() {
        let place = if k < manual {
            "gc.collect()".to_string()
        } else {
            format!("keep.append(C()), i == {}", when[k - manual])
        };
        out += &format!(
            "  {phase}: generation {generation}, collected {collected}, gc.get_count() == {}, in \
             {place}\n",
            tuple3(seen)
        );
    }
    same_text(
        "first_look.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/first_look.out"),
        &out,
    );
}

#[test]
fn automatic_collections() {
    let mut s = Script::new(true);
    s.w.gc.set_threshold(50, Some(2), Some(2));
    s.add_on_gc();
    let keep = s.list("keep");
    s.w.gc.enable();
    let when = loop_logging(&mut s, 4000, |s, i| {
        let x = s.w.new_instance("x");
        s.w.heap.bind("x", x);
        s.w.heap.decref(x);
        if i % 4 == 0 {
            s.w.heap.list_append(keep, x);
        }
        if i % 7 == 0 {
            s.w.heap.set_attr(x, "me", x);
        }
    });
    s.w.gc.disable();
    let (counts, tuple) = s.get_count();
    s.w.heap.bind("counts", tuple);
    s.w.heap.decref(tuple);

    let threshold = s.w.gc.get_threshold();
    let mut out = format!(
        "thresholds: ({}, {}, {})\n",
        threshold[0], threshold[1], threshold[2]
    );
    let calls = s.calls();
    for (i, generation, before, after, collected) in collections(&calls, &when) {
        out += &format!(
            "i = {i}: generation {generation}, counts {} -> {}, collected {collected}\n",
            tuple3(before),
            tuple3(after)
        );
    }
    out += &format!("gc.get_count(): {}\n", tuple3(counts));
    for (g, (collections, collected, _, _)) in s.w.gc.get_stats().iter().enumerate() {
        out +=
            &format!("generation {g}: {collections} collections, {collected} objects collected\n");
    }
    out += &format!("len(keep): {}\n", s.w.heap.len(keep));
    same_text(
        "automatic_collections.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/automatic_collections.out"),
        &out,
    );
}

#[test]
fn churn_and_grow() {
    let mut s = Script::new(true);
    s.add_on_gc();
    s.w.gc.enable();
    let churn = loop_logging(&mut s, 5000, |s, _| {
        // a = []; b = [a]; a.append(b)
        let a = s.list("a");
        let b = s.w.new_list("b");
        s.w.heap.list_append(b, a);
        s.w.heap.bind("b", b);
        s.w.heap.decref(b);
        s.w.heap.list_append(a, b);
    });
    s.w.gc.disable();
    let (after_churn, tuple) = s.get_count();
    s.w.heap.bind("after_churn", tuple);
    s.w.heap.decref(tuple);
    // churn_log = log[:]: a new list, holding what the log held (no container).
    let churn_calls = s.calls();
    s.list("churn_log");
    // del log[:]: the rest of the log is the grow_live part's.
    let skip = churn_calls.len();
    s.del("a");
    s.del("b");
    let root = s.list("root");
    s.w.gc.enable();
    let grow = loop_logging(&mut s, 5000, |s, _| {
        let l = s.w.new_list("a list");
        s.w.heap.list_append(root, l);
        s.w.heap.decref(l);
    });
    s.w.gc.disable();
    let (after_grow, _tuple) = s.get_count();

    let mut out = "churn_cycles:\n".to_string();
    for (i, generation, before, after, collected) in collections(&churn_calls, &churn) {
        out += &format!(
            "  i = {i}: generation {generation}, counts {} -> {}, collected {collected}\n",
            tuple3(before),
            tuple3(after)
        );
    }
    out += &format!("  gc.get_count(): {}\n", tuple3(after_churn));
    out += "grow_live:\n";
    let grow_calls = s.calls()[skip..].to_vec();
    for (i, generation, before, after, collected) in collections(&grow_calls, &grow) {
        out += &format!(
            "  i = {i}: generation {generation}, counts {} -> {}, collected {collected}\n",
            tuple3(before),
            tuple3(after)
        );
    }
    out += &format!("  gc.get_count(): {}\n", tuple3(after_grow));
    same_text(
        "churn_and_grow.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/churn_and_grow.out"),
        &out,
    );
}

/// `show(log)` of long_lived_rule.py: one line per collection started.
fn show(calls: &[(&'static str, usize, usize, [usize; 3])], when: &[Option<usize>]) -> String {
    let mut out = String::new();
    for ((phase, generation, _, counts), i) in calls.iter().zip(when) {
        if *phase != "start" {
            continue;
        }
        let Some(i) = i else {
            out += &format!("  gc.collect(): generation {generation}\n");
            continue;
        };
        let note = if *generation < 2 && counts[2] > 1 {
            "   count2 > threshold2, but the full collection waits"
        } else {
            ""
        };
        out += &format!(
            "  i = {i}: generation {generation}, counts {}{note}\n",
            tuple3(*counts)
        );
    }
    out
}

/// One part of long_lived_rule.py: `long_lived` instances kept in `big`, a full collection,
/// then `made` instances kept with automatic collection on. Returns, for each callback call,
/// the `i` during which it was logged (`None` for the collection by hand).
fn long_lived_part(s: &mut Script, long_lived: usize, made: usize) -> Vec<Option<usize>> {
    let big = s.list("big");
    for _ in 0..long_lived {
        s.keep_instance(big);
    }
    let before = s.calls().len();
    s.collect(2);
    let mut when = vec![None; s.calls().len() - before];
    let keep = s.list("keep");
    s.w.gc.enable();
    let during = loop_logging(s, made, |s, _| s.keep_instance(keep));
    s.w.gc.disable();
    when.extend(during.into_iter().map(Some));
    when
}

#[test]
fn long_lived_rule() {
    let mut s = Script::new(true);
    s.w.gc.set_threshold(10, Some(2), Some(1));
    s.add_on_gc();
    let when1 = long_lived_part(&mut s, 400, 500);
    let log1 = s.calls();
    s.del("big");
    s.del("keep");
    s.collect(2);
    let skip = s.calls().len();
    let when2 = long_lived_part(&mut s, 20, 150);
    let log2 = s.calls()[skip..].to_vec();

    let mut out = "part 1: 400 long-lived instances\n".to_string();
    out += &show(&log1, &when1);
    out += "part 2: 20 long-lived instances\n";
    out += &show(&log2, &when2);
    same_text(
        "long_lived_rule.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/long_lived_rule.out"),
        &out,
    );
}

/// `generation_of(obj)` of freeze.py: `objects = gc.get_objects(g)` for g in 0, 1, 2 (each new
/// list made while the previous one is still held), until `obj` is found.
fn generation_of(s: &mut Script, obj: ObjId) -> Option<usize> {
    let mut objects: Option<ObjId> = None;
    let mut found = None;
    for g in 0..3 {
        let new =
            s.w.gc
                .get_objects(&mut s.w.heap, Some(g as isize))
                .expect("a valid generation");
        if let Some(old) = objects.replace(new) {
            s.w.heap.decref(old);
        }
        if (0..s.w.heap.len(new)).any(|k| s.w.heap.list_get(new, k) == obj) {
            found = Some(g);
            break;
        }
    }
    if let Some(last) = objects {
        s.w.heap.decref(last);
    }
    found
}

#[test]
fn freeze() {
    let mut s = Script::new(true);
    let before = s.w.gc.get_freeze_count(&s.w.heap);
    let a = s.list("a");
    s.w.heap.list_append(a, a);
    let b = s.instance("b");
    s.w.heap.set_attr(b, "me", b);
    s.del("b");
    let mut counts = Vec::new();
    s.count(&mut counts);
    s.w.gc.freeze(&mut s.w.heap);
    s.count(&mut counts);
    let frozen = s.w.gc.get_freeze_count(&s.w.heap) - before;
    let generation = generation_of(&mut s, a);
    let first = s.collect(2);
    s.del("a");
    let second = s.collect(2);
    s.w.gc.unfreeze(&mut s.w.heap);
    let left = s.w.gc.get_freeze_count(&s.w.heap);
    s.count(&mut counts);
    let young = s.collect(1);
    let full = s.collect(2);

    let generation = generation.map_or("None".to_string(), |g| g.to_string());
    let out = format!(
        "before gc.freeze(): gc.get_count() == {}\n\
         after gc.freeze(): gc.get_count() == {}\n\
         objects frozen: {frozen}\n\
         generation of a frozen list: {generation}\n\
         gc.collect(): {first}\n\
         del a; gc.collect(): {second}\n\
         after gc.unfreeze(): gc.get_freeze_count() == {left} and gc.get_count() == {}\n\
         gc.collect(1): {young}\n\
         gc.collect(2): {full}\n",
        tuple3(counts[0]),
        tuple3(counts[1]),
        tuple3(counts[2]),
    );
    same_text(
        "freeze.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/freeze.out"),
        &out,
    );
}

#[test]
fn bad_input() {
    // The errors, before the script's reset (see bad_input.py).
    let mut errors = Vec::new();
    {
        let mut s = Script::new(true);
        for g in [-1, 3] {
            let result = s.w.gc.collect(&mut s.w.heap, g);
            errors.push(result.map_or_else(|e| e, |_| "no error".to_string()));
        }
        for g in [-2, 3, 5] {
            let result = s.w.gc.get_objects(&mut s.w.heap, Some(g));
            errors.push(match result {
                Ok(list) => {
                    s.w.heap.decref(list);
                    "no error".to_string()
                }
                Err(e) => e,
            });
        }
    }
    let mut s = Script::new(true);
    let x = s.list("x");
    s.keep_instance(x);
    let mut lengths = Vec::new();
    for g in [Some(-1), None] {
        let list =
            s.w.gc
                .get_objects(&mut s.w.heap, g)
                .expect("a valid argument");
        lengths.push(s.w.heap.len(list));
        s.w.heap.decref(list);
    }
    s.add_on_gc();
    s.set_threshold(&[-5]);
    // results.append(gc.get_threshold()): a 3-tuple, kept.
    let threshold = s.w.gc.get_threshold();
    let kept = s.tuple_of_ints(&threshold.map(i64::from));
    s.w.heap.bind("results", kept);
    s.w.heap.decref(kept);
    s.w.gc.enable();
    for _ in 0..5 {
        s.keep_instance(x);
    }
    s.set_threshold(&[0]);
    for _ in 0..1000 {
        s.keep_instance(x);
    }
    s.w.gc.disable();
    let starts = s.calls().iter().filter(|call| call.0 == "start").count();
    let counts = s.w.heap.gc_counts();

    let labels = [
        "gc.collect(-1)",
        "gc.collect(3)",
        "gc.get_objects(-2)",
        "gc.get_objects(3)",
        "gc.get_objects(5)",
    ];
    let mut out: String = labels
        .iter()
        .zip(&errors)
        .map(|(label, error)| format!("{label}: {error}\n"))
        .collect();
    out += &format!(
        "len(gc.get_objects(-1)) == len(gc.get_objects()): {} {}\n",
        if lengths[0] == lengths[1] {
            "True"
        } else {
            "False"
        },
        lengths[0]
    );
    out += &format!(
        "after gc.set_threshold(-5): gc.get_threshold() == ({}, {}, {})\n",
        threshold[0], threshold[1], threshold[2]
    );
    out += &format!(
        "collections during 5 allocations, then 1000 more with gc.set_threshold(0): {starts}\n"
    );
    out += &format!("gc.get_count(): {}\n", tuple3(counts));
    same_text(
        "bad_input.py: what CPython 3.11.7 printed, and what your collector did",
        include_str!("../parity/bad_input.out"),
        &out,
    );
}
