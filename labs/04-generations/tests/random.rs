//! Graded tests for lab 04, part (e): seeded random programs, run with your scheduler and with
//! the reference's, each on a heap of its own with CPython's free lists.
//!
//! A program is a list of Python statements on a few names (`l0`..`l2` for lists, `o0`..`o2`
//! for instances of `class C: pass`, `d0` for a dict, `t0` for a tuple, `r` for a result of
//! `gc.get_objects()`): make containers, link them, rebind and delete names, and call the `gc`
//! module: `gc.collect(g)` (also with an invalid `g`), `gc.set_threshold(...)`,
//! `gc.enable()`, `gc.disable()`, `gc.freeze()`, `gc.unfreeze()`, `gc.get_objects(g)`, and add
//! callbacks that record, call `gc.collect()` or make lists. After **every** statement the two
//! runs must agree: what it returned, the heap (every object, its count, the generations in
//! order, the free lists, the counts), the thresholds, the statistics, the long-lived counts and
//! the callback log; and your heap must keep its invariants. A failing program is shrunk to the
//! shortest one that still fails, and printed with its seed, in Python.

mod common;

use std::fmt;

use common::{Act, World};
use pyheap::{Kind, ObjId};
use testkit::{XorShift64, catch, check_programs};

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// A callback that can be added to `gc.callbacks`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cb {
    /// `def record(phase, info): log.append(...); log.extend(gc.get_count())`.
    Record,
    /// `def nested(phase, info): record(phase, info); gc.collect()`.
    Nested,
    /// `def maker(phase, info): record(phase, info); for _ in range(3): x = []`.
    Maker,
}

impl Cb {
    fn name(self) -> &'static str {
        match self {
            Cb::Record => "record",
            Cb::Nested => "nested",
            Cb::Maker => "maker",
        }
    }

    fn actions(self) -> Vec<Act> {
        match self {
            Cb::Record => vec![Act::Record],
            Cb::Nested => vec![Act::Record, Act::Collect(2)],
            Cb::Maker => vec![Act::Record, Act::MakeLists(3)],
        }
    }
}

/// One statement. Statements that would raise in Python (an unbound name, `append` on a dict)
/// are skipped, identically in both runs.
#[derive(Clone)]
enum Op {
    List(&'static str),
    Instance(&'static str),
    Dict(&'static str),
    Tuple(&'static str, Vec<&'static str>),
    Append(&'static str, &'static str),
    SetAttr(&'static str, &'static str),
    SetItem(&'static str, i64, &'static str),
    Assign(&'static str, &'static str),
    Del(&'static str),
    Pop(&'static str),
    Collect(i32),
    SetThreshold(i32, Option<i32>, Option<i32>),
    Enable,
    Disable,
    Freeze,
    Unfreeze,
    GetObjects(Option<isize>),
    AddCallback(Cb),
    ClearCallbacks,
}

/// The program in Python.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::List(n) => write!(f, "{n} = []"),
            Op::Instance(n) => write!(f, "{n} = C()"),
            Op::Dict(n) => write!(f, "{n} = {{}}"),
            Op::Tuple(n, items) if items.len() == 1 => write!(f, "{n} = ({},)", items[0]),
            Op::Tuple(n, items) => write!(f, "{n} = ({})", items.join(", ")),
            Op::Append(l, x) => write!(f, "{l}.append({x})"),
            Op::SetAttr(o, x) => write!(f, "{o}.attr = {x}"),
            Op::SetItem(d, k, v) => write!(f, "{d}[{k}] = {v}"),
            Op::Assign(dst, src) => write!(f, "{dst} = {src}"),
            Op::Del(n) => write!(f, "del {n}"),
            Op::Pop(l) => write!(f, "{l}.pop()"),
            Op::Collect(g) => write!(f, "gc.collect({g})"),
            Op::SetThreshold(t0, None, _) => write!(f, "gc.set_threshold({t0})"),
            Op::SetThreshold(t0, Some(t1), None) => write!(f, "gc.set_threshold({t0}, {t1})"),
            Op::SetThreshold(t0, Some(t1), Some(t2)) => {
                write!(f, "gc.set_threshold({t0}, {t1}, {t2})")
            }
            Op::Enable => write!(f, "gc.enable()"),
            Op::Disable => write!(f, "gc.disable()"),
            Op::Freeze => write!(f, "gc.freeze()"),
            Op::Unfreeze => write!(f, "gc.unfreeze()"),
            Op::GetObjects(None) => write!(f, "r = gc.get_objects()"),
            Op::GetObjects(Some(g)) => write!(f, "r = gc.get_objects({g})"),
            Op::AddCallback(cb) => write!(f, "gc.callbacks.append({})", cb.name()),
            Op::ClearCallbacks => write!(f, "gc.callbacks.clear()"),
        }
    }
}

const LISTS: [&str; 3] = ["l0", "l1", "l2"];
const OBJECTS: [&str; 3] = ["o0", "o1", "o2"];
const ALL: [&str; 9] = ["l0", "l1", "l2", "o0", "o1", "o2", "d0", "t0", "r"];

fn pick(rng: &mut XorShift64, names: &[&'static str]) -> &'static str {
    names[rng.below(names.len())]
}

/// What a program may do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kinds {
    /// Collections by hand only: plain allocations (no hook), no thresholds, no freeze, no
    /// get_objects, no callback that makes lists.
    ByHand,
    /// Everything, allocations through the hook.
    Everything,
}

fn random_op(rng: &mut XorShift64, kinds: Kinds) -> Op {
    let roll = rng.below(100);
    match roll {
        0..=11 => Op::List(pick(rng, &LISTS)),
        12..=23 => Op::Instance(pick(rng, &OBJECTS)),
        24..=26 => Op::Dict("d0"),
        27..=29 => {
            let items = (0..1 + rng.below(2)).map(|_| pick(rng, &ALL)).collect();
            Op::Tuple("t0", items)
        }
        30..=44 => Op::Append(pick(rng, &LISTS), pick(rng, &ALL)),
        45..=52 => Op::SetAttr(pick(rng, &OBJECTS), pick(rng, &ALL)),
        53..=55 => Op::SetItem("d0", rng.below(3) as i64, pick(rng, &ALL)),
        56..=59 => Op::Assign(pick(rng, &ALL), pick(rng, &ALL)),
        60..=71 => Op::Del(pick(rng, &ALL)),
        72..=73 => Op::Pop(pick(rng, &LISTS)),
        74..=79 => Op::Collect([-1, 0, 0, 1, 1, 2, 2, 3][rng.below(8)]),
        // Maker's lists go through the hook, which collections by hand leave out.
        80..=82 if kinds == Kinds::ByHand => {
            Op::AddCallback([Cb::Record, Cb::Nested][rng.below(2)])
        }
        80..=82 => Op::AddCallback([Cb::Record, Cb::Nested, Cb::Maker][rng.below(3)]),
        83 => Op::ClearCallbacks,
        _ if kinds == Kinds::ByHand => Op::Collect(rng.below(3) as i32),
        84..=88 => {
            let t0 = [-1, 0, 1, 2, 3, 5, 8, 13][rng.below(8)];
            let t1 = rng.chance(70).then(|| [0, 1, 2, 3][rng.below(4)]);
            let t2 = t1.and_then(|_| rng.chance(70).then(|| [-1, 0, 1, 2][rng.below(4)]));
            Op::SetThreshold(t0, t1, t2)
        }
        89..=90 => Op::Enable,
        91 => Op::Disable,
        92..=93 => Op::Freeze,
        94..=95 => Op::Unfreeze,
        _ => Op::GetObjects(
            [None, Some(-1), Some(0), Some(1), Some(2), Some(3), Some(-2)][rng.below(7)],
        ),
    }
}

fn random_program(rng: &mut XorShift64, kinds: Kinds, length: usize) -> Vec<Op> {
    let mut program = Vec::with_capacity(length + 2);
    if kinds == Kinds::Everything {
        // Small thresholds from the start, so that collections start by themselves.
        program.push(Op::SetThreshold(
            [2, 3, 5][rng.below(3)],
            Some(rng.below(3) as i32 + 1),
            Some(rng.below(3) as i32),
        ));
    }
    program.extend((0..length).map(|_| random_op(rng, kinds)));
    program.push(Op::Collect(2));
    program
}

// ---------------------------------------------------------------------------------------------
// Running a program
// ---------------------------------------------------------------------------------------------

/// Binds the new reference `id` to `name`.
fn store(w: &mut World, name: &str, id: ObjId) {
    w.heap.bind(name, id);
    w.heap.decref(id);
}

/// Runs one statement, or skips it if Python would raise. Returns what a `gc` call returned,
/// as text, or nothing.
fn exec(w: &mut World, op: &Op) -> String {
    let is_list = |w: &World, id: ObjId| matches!(w.heap.kind(id), Kind::List(_));
    match op {
        Op::List(n) => {
            let id = w.new_list(n);
            store(w, n, id);
        }
        Op::Instance(n) => {
            let id = w.new_instance(n);
            store(w, n, id);
        }
        Op::Dict(n) => {
            let id = w.new_dict(n);
            store(w, n, id);
        }
        Op::Tuple(n, items) => {
            if let Some(items) = items
                .iter()
                .map(|i| w.heap.lookup(i))
                .collect::<Option<Vec<_>>>()
            {
                let id = w.new_tuple(n, &items);
                store(w, n, id);
            }
        }
        Op::Append(l, x) => {
            if let (Some(l), Some(x)) = (w.heap.lookup(l), w.heap.lookup(x))
                && is_list(w, l)
            {
                w.heap.list_append(l, x);
            }
        }
        Op::SetAttr(o, x) => {
            if let (Some(o), Some(x)) = (w.heap.lookup(o), w.heap.lookup(x))
                && matches!(w.heap.kind(o), Kind::Instance { .. })
            {
                w.heap.set_attr(o, "attr", x);
            }
        }
        Op::SetItem(d, k, v) => {
            if let (Some(d), Some(v)) = (w.heap.lookup(d), w.heap.lookup(v))
                && matches!(w.heap.kind(d), Kind::Dict { .. })
            {
                let key = w.heap.new_int(*k);
                w.heap.dict_set(d, key, v);
                w.heap.decref(key);
            }
        }
        Op::Assign(dst, src) => {
            if let Some(src) = w.heap.lookup(src) {
                w.heap.bind(dst, src);
            }
        }
        Op::Del(n) => {
            if w.heap.lookup(n).is_some() {
                w.heap.unbind(n);
            }
        }
        Op::Pop(l) => {
            if let Some(l) = w.heap.lookup(l)
                && is_list(w, l)
                && w.heap.len(l) > 0
            {
                let item = w.heap.list_pop(l);
                w.heap.decref(item);
            }
        }
        Op::Collect(g) => return format!("{:?}", w.gc.collect(&mut w.heap, *g)),
        Op::SetThreshold(t0, t1, t2) => w.gc.set_threshold(*t0, *t1, *t2),
        Op::Enable => w.gc.enable(),
        Op::Disable => w.gc.disable(),
        Op::Freeze => w.gc.freeze(&mut w.heap),
        Op::Unfreeze => w.gc.unfreeze(&mut w.heap),
        Op::GetObjects(g) => match w.gc.get_objects(&mut w.heap, *g) {
            Ok(list) => {
                let listed = w.items(list);
                w.name(list, "r");
                store(w, "r", list);
                return format!("{listed:?}");
            }
            Err(e) => return e,
        },
        Op::AddCallback(cb) => w.gc.add_callback(cb.name(), &cb.actions()),
        Op::ClearCallbacks => w.gc.clear_callbacks(),
    }
    String::new()
}

/// Runs `program` on `w`, returning after each statement what it returned and the whole state.
fn run(w: &mut World, program: &[Op], seen: &mut Vec<(String, String)>) {
    for op in program {
        let returned = exec(w, op);
        seen.push((returned, w.state()));
    }
}

fn compare_with_reference(program: &[Op], kinds: Kinds) -> Result<(), String> {
    let mut theirs = World::reference(true);
    theirs.hooked = kinds == Kinds::Everything;
    let mut expected = Vec::new();
    run(&mut theirs, program, &mut expected);
    let mut yours = World::yours(true);
    yours.hooked = kinds == Kinds::Everything;
    let mut actual = Vec::new();
    let outcome = catch(|| run(&mut yours, program, &mut actual));
    for (step, (want, op)) in expected.iter().zip(program).enumerate() {
        let Some(got) = actual.get(step) else {
            return Err(match &outcome {
                Err(panic) => format!("at step {step}, `{op:?}`, your scheduler {panic}"),
                Ok(()) => format!("your run stopped before step {step}, `{op:?}`"),
            });
        };
        if got.0 != want.0 {
            return Err(format!(
                "at step {step}, `{op:?}` returned {} (expected (reference): {})",
                got.0, want.0
            ));
        }
        if got.1 != want.1 {
            return Err(format!(
                "after step {step}, `{op:?}`, the heap or the collector's state differs \
                 (< expected (reference), > yours):\n{}",
                pretty_assertions::StrComparison::new(&want.1, &got.1)
            ));
        }
    }
    if let Err(why) = yours.heap.check_invariants() {
        return Err(format!("at the end, your heap breaks an invariant: {why}"));
    }
    outcome
}

fn check_random(what: &str, kinds: Kinds, seeds: std::ops::Range<u64>, length: usize) {
    check_programs(
        what,
        seeds,
        |rng| random_program(rng, kinds, length),
        |program| compare_with_reference(program, kinds),
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn random_programs_with_collections_by_hand_match_the_reference() {
    check_random(
        "random programs calling gc.collect(g) (g from -1 to 3), with callbacks",
        Kinds::ByHand,
        0..40,
        150,
    );
}

#[test]
fn random_programs_with_automatic_collections_match_the_reference() {
    check_random(
        "random programs with small thresholds, gc.enable()/disable(), gc.freeze()/unfreeze(), \
         gc.get_objects() and callbacks",
        Kinds::Everything,
        1000..1040,
        150,
    );
}
