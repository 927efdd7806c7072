//! Graded tests for lab 03: seeded random programs, run with your collector and with
//! the reference's on twin heaps.
//!
//! Each program is a list of Python statements on a few names (`l0`..`l2` for lists, `d0`, `d1`
//! for dicts, `o0`..`o2` for instances, `t0`, `t1`, `w0`, `w1`, `i`, and `saved`, `kept`, `w`,
//! which the `__del__`s and callbacks below use): make lists, dicts, tuples,
//! ints and instances, link them (`append`, item and attribute assignment), rebind and delete
//! names, make weak references with callbacks, and call `gc.collect(g)`. After every
//! `gc.collect`, and at the end, the two runs must agree: the value returned, the dump (every
//! object, its count, the generations in order), the events since the previous check, and your
//! heap must keep its invariants. A failing program is shrunk to the shortest one that still
//! fails, and printed with its seed, in Python. In the differences, an object is called by the
//! name it was first bound to and the step that made it: `l0@3` is the list step 3 made as `l0`.
//!
//! The three tests stress different parts, so that each passes as soon as the steps it needs
//! work: the first, graphs of containers (instances of `Node`) collected mostly in full; the
//! second, every class below, weakrefs with callbacks, every generation and `DEBUG_SAVEALL`;
//! the third, containers across all generations (and the invalid generation 3), with
//! `DEBUG_SAVEALL` switched on and off.
//!
//! The classes and callbacks (the `__del__` bodies are pyheap [`Action`]s):
//!
//! ```text
//! class Node: pass
//! class Logger:  def __del__(self): print("Logger.__del__")
//! class Phoenix: def __del__(self): global saved; saved = self      (resurrects)
//! class Keeper:  def __del__(self): kept.append(self)               (resurrects, if kept is a list)
//! class Dropper: def __del__(self): global l0; del l0
//! callbacks:     cb_print(wr): print("callback")
//!                cb_keep(wr):  global w; w = wr                     (keeps the weakref alive)
//!                cb_drop(wr):  global o0; del o0
//! ```

mod support;

use std::fmt;

use pyheap::{Action, Callback, ClassId, Event, Finalizer, Heap, Kind, ObjId};
use support::Names;
use testkit::{XorShift64, catch, check_programs};

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// The classes of the module docs, in the order every heap registers them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Node,
    Logger,
    Phoenix,
    Keeper,
    Dropper,
}

const CLASSES: [Class; 5] = [
    Class::Node,
    Class::Logger,
    Class::Phoenix,
    Class::Keeper,
    Class::Dropper,
];

/// The weakref callbacks of the module docs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cb {
    Print,
    Keep,
    Drop,
}

impl Cb {
    fn callback(self) -> Callback {
        Callback::new([match self {
            Cb::Print => Action::Log("callback".into()),
            Cb::Keep => Action::BindSelf("w".into()),
            Cb::Drop => Action::Unbind("o0".into()),
        }])
    }
}

/// A dict key: an int or a str.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Int(i64),
    Str(&'static str),
}

/// One statement. Statements that would raise in Python (an unbound name, `append` on a dict,
/// a weakref to a list, ...) are skipped, identically in both runs.
#[derive(Clone)]
enum Op {
    List(&'static str),
    Dict(&'static str),
    Tuple(&'static str, Vec<&'static str>),
    Int(&'static str, i64),
    New(&'static str, Class),
    WeakRef(&'static str, &'static str, Option<Cb>),
    Append(&'static str, &'static str),
    SetItem(&'static str, Key, &'static str),
    SetAttr(&'static str, &'static str, &'static str),
    Assign(&'static str, &'static str),
    Del(&'static str),
    Pop(&'static str),
    Collect(usize),
    SetDebug(u32),
}

/// The program in Python.
impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::List(n) => write!(f, "{n} = []"),
            Op::Dict(n) => write!(f, "{n} = {{}}"),
            Op::Tuple(n, items) if items.len() == 1 => write!(f, "{n} = ({},)", items[0]),
            Op::Tuple(n, items) => write!(f, "{n} = ({})", items.join(", ")),
            Op::Int(n, v) => write!(f, "{n} = {v}"),
            Op::New(n, class) => write!(f, "{n} = {class:?}()"),
            Op::WeakRef(n, target, None) => write!(f, "{n} = weakref.ref({target})"),
            Op::WeakRef(n, target, Some(cb)) => {
                let cb = match cb {
                    Cb::Print => "cb_print",
                    Cb::Keep => "cb_keep",
                    Cb::Drop => "cb_drop",
                };
                write!(f, "{n} = weakref.ref({target}, {cb})")
            }
            Op::Append(l, x) => write!(f, "{l}.append({x})"),
            Op::SetItem(d, Key::Int(k), v) => write!(f, "{d}[{k}] = {v}"),
            Op::SetItem(d, Key::Str(k), v) => write!(f, "{d}['{k}'] = {v}"),
            Op::SetAttr(o, attr, v) => write!(f, "{o}.{attr} = {v}"),
            Op::Assign(dst, src) => write!(f, "{dst} = {src}"),
            Op::Del(n) => write!(f, "del {n}"),
            Op::Pop(l) => write!(f, "{l}.pop()"),
            Op::Collect(g) => write!(f, "gc.collect({g})"),
            Op::SetDebug(0) => write!(f, "gc.set_debug(0)"),
            Op::SetDebug(_) => write!(f, "gc.set_debug(gc.DEBUG_SAVEALL)"),
        }
    }
}

/// What a test stresses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Emphasis {
    /// Containers and edges only: no `__del__`, no weakrefs; mostly full collections.
    Graphs,
    /// Every class, weakrefs with callbacks; mostly full collections.
    Finalizers,
    /// Containers only, every generation (and an invalid one), `DEBUG_SAVEALL` on and off.
    Generations,
}

/// The names a program uses, each meant for one type, so that most statements apply: lists,
/// dicts, instances, tuples, weakrefs, an int; and the names the `__del__`s and callbacks use.
const LISTS: [&str; 3] = ["l0", "l1", "l2"];
const DICTS: [&str; 2] = ["d0", "d1"];
const OBJECTS: [&str; 3] = ["o0", "o1", "o2"];
const TUPLES: [&str; 2] = ["t0", "t1"];
const WEAKREFS: [&str; 2] = ["w0", "w1"];
const OTHERS: [&str; 4] = ["i", "saved", "kept", "w"];

fn pick(rng: &mut XorShift64, names: &[&'static str]) -> &'static str {
    names[rng.below(names.len())]
}

/// Any name: a tuple item, a `del`.
fn any_name(rng: &mut XorShift64) -> &'static str {
    let families: [&[&'static str]; 6] = [&LISTS, &DICTS, &OBJECTS, &TUPLES, &WEAKREFS, &OTHERS];
    let family = families[rng.below(families.len())];
    pick(rng, family)
}

/// The value of an edge: mostly a container that can hold references back, so cycles form.
fn value_name(rng: &mut XorShift64) -> &'static str {
    if rng.chance(70) {
        let families: [&[&'static str]; 3] = [&LISTS, &DICTS, &OBJECTS];
        let family = families[rng.below(families.len())];
        pick(rng, family)
    } else {
        any_name(rng)
    }
}

/// A list name, sometimes `kept` (the Keeper's list).
fn list_name(rng: &mut XorShift64) -> &'static str {
    if rng.chance(15) {
        "kept"
    } else {
        pick(rng, &LISTS)
    }
}

/// An instance name, sometimes `saved` (where a Phoenix puts itself).
fn object_name(rng: &mut XorShift64) -> &'static str {
    if rng.chance(15) {
        "saved"
    } else {
        pick(rng, &OBJECTS)
    }
}

fn random_op(rng: &mut XorShift64, emphasis: Emphasis) -> Op {
    let roll = rng.below(100);
    match roll {
        0..=6 => Op::List(list_name(rng)),
        7..=9 => Op::Dict(pick(rng, &DICTS)),
        10..=12 => {
            let items = (0..1 + rng.below(3)).map(|_| any_name(rng)).collect();
            Op::Tuple(pick(rng, &TUPLES), items)
        }
        13 => Op::Int("i", rng.below(4) as i64),
        14..=21 => {
            let class = if emphasis == Emphasis::Finalizers {
                CLASSES[rng.below(CLASSES.len())]
            } else {
                Class::Node
            };
            Op::New(pick(rng, &OBJECTS), class)
        }
        22..=26 if emphasis == Emphasis::Finalizers => {
            let cb = [None, Some(Cb::Print), Some(Cb::Keep), Some(Cb::Drop)][rng.below(4)];
            Op::WeakRef(pick(rng, &WEAKREFS), object_name(rng), cb)
        }
        22..=44 => Op::Append(list_name(rng), value_name(rng)),
        45..=55 => {
            let key = if rng.chance(50) {
                Key::Int(rng.below(3) as i64)
            } else {
                Key::Str(["k0", "k1", "k2"][rng.below(3)])
            };
            Op::SetItem(pick(rng, &DICTS), key, value_name(rng))
        }
        56..=71 => Op::SetAttr(
            object_name(rng),
            ["x", "y", "z"][rng.below(3)],
            value_name(rng),
        ),
        72..=75 => {
            let family: &[&'static str] = [&LISTS[..], &DICTS, &OBJECTS, &TUPLES][rng.below(4)];
            Op::Assign(pick(rng, family), pick(rng, family))
        }
        76..=91 => Op::Del(any_name(rng)),
        92..=93 => Op::Pop(list_name(rng)),
        94 if emphasis != Emphasis::Graphs => Op::SetDebug(if rng.chance(50) {
            cycles::DEBUG_SAVEALL
        } else {
            0
        }),
        _ => Op::Collect(match emphasis {
            Emphasis::Generations => [0, 0, 0, 1, 1, 2, 2, 3][rng.below(8)],
            _ => [0, 1, 2, 2, 2, 2][rng.below(6)],
        }),
    }
}

fn random_program(rng: &mut XorShift64, emphasis: Emphasis, length: usize) -> Vec<Op> {
    let mut program: Vec<Op> = (0..length).map(|_| random_op(rng, emphasis)).collect();
    // End with a full collection, so every program checks one.
    program.push(Op::Collect(2));
    program
}

// ---------------------------------------------------------------------------------------------
// Running a program
// ---------------------------------------------------------------------------------------------

/// What the scenarios use of a collector; implemented for yours and the reference's.
trait Gc {
    fn collect_generation(&mut self, heap: &mut Heap, generation: usize) -> Result<usize, usize>;
    fn set_debug(&mut self, heap: &mut Heap, flags: u32);
    fn stats(&self) -> [(usize, usize, usize); 3];
}

macro_rules! gc_for {
    ($krate:ident) => {
        impl Gc for $krate::Collector {
            fn collect_generation(
                &mut self,
                heap: &mut Heap,
                generation: usize,
            ) -> Result<usize, usize> {
                $krate::Collector::collect_generation(self, heap, generation)
                    .map_err(|$krate::InvalidGeneration(g)| g)
            }

            fn set_debug(&mut self, heap: &mut Heap, flags: u32) {
                $krate::Collector::set_debug(self, heap, flags)
            }

            fn stats(&self) -> [(usize, usize, usize); 3] {
                $krate::Collector::stats(self)
                    .map(|s| (s.collections, s.collected, s.uncollectable))
            }
        }
    };
}

gc_for!(cycles);
gc_for!(reference);

/// What one run saw at one check: after a `gc.collect`, or at the end.
struct Step {
    /// The statement, in Python, and its index in the program.
    what: String,
    /// What the collection returned (and the statistics), or "end".
    returned: String,
    dump: String,
    /// The events since the previous check.
    events: Vec<Event>,
    invariants: Result<(), String>,
}

/// Runs `program` on a new heap with `gc`, appending a [`Step`] to `log` after every
/// `gc.collect` and at the end. With `names`, each new object bound to a name is called there by
/// that name and the step that made it.
fn run(program: &[Op], gc: &mut dyn Gc, log: &mut Vec<Step>, mut names: Option<&mut Names>) {
    let mut heap = Heap::new();
    let classes: Vec<ClassId> = CLASSES
        .iter()
        .map(|class| {
            let del = match class {
                Class::Node => None,
                Class::Logger => Some(vec![Action::Log("Logger.__del__".into())]),
                Class::Phoenix => Some(vec![Action::BindSelf("saved".into())]),
                Class::Keeper => Some(vec![Action::AppendSelfTo("kept".into())]),
                Class::Dropper => Some(vec![Action::Unbind("l0".into())]),
            };
            heap.new_class(&format!("{class:?}"), del.map(Finalizer::new))
        })
        .collect();
    for (index, op) in program.iter().enumerate() {
        if let Op::Collect(g) = op {
            let found = gc.collect_generation(&mut heap, *g);
            log.push(Step {
                what: format!("step {index}, `{op:?}`"),
                returned: format!("returned {found:?}, gc.get_stats() {:?}", gc.stats()),
                dump: heap.dump(),
                events: heap.take_events(),
                invariants: heap.check_invariants(),
            });
        } else {
            exec(&mut heap, gc, &classes, op);
            if let Some(names) = names.as_deref_mut() {
                for (name, id) in heap.names() {
                    if !names.has(heap.serial(id)) {
                        names.add(&heap, id, &format!("{name}@{index}"));
                    }
                }
            }
        }
    }
    log.push(Step {
        what: "the end of the program".to_string(),
        returned: "end".to_string(),
        dump: heap.dump(),
        events: heap.take_events(),
        invariants: heap.check_invariants(),
    });
}

/// `name = <a new object>`: binds it, then gives up the constructor's reference.
fn store(heap: &mut Heap, name: &str, new: ObjId) {
    heap.bind(name, new);
    heap.decref(new);
}

/// Runs one statement that is not a `gc.collect`, or skips it if Python would raise.
fn exec(heap: &mut Heap, gc: &mut dyn Gc, classes: &[ClassId], op: &Op) {
    let is = |heap: &Heap, id: ObjId, f: fn(&Kind) -> bool| f(heap.kind(id));
    match op {
        Op::List(n) => {
            let new = heap.new_list();
            store(heap, n, new);
        }
        Op::Dict(n) => {
            let new = heap.new_dict();
            store(heap, n, new);
        }
        Op::Tuple(n, items) => {
            if let Some(items) = items
                .iter()
                .map(|i| heap.lookup(i))
                .collect::<Option<Vec<_>>>()
            {
                let new = heap.new_tuple(&items);
                store(heap, n, new);
            }
        }
        Op::Int(n, v) => {
            let new = heap.new_int(*v);
            store(heap, n, new);
        }
        Op::New(n, class) => {
            let index = CLASSES.iter().position(|c| c == class).expect("a class");
            let new = heap.new_instance(classes[index]);
            store(heap, n, new);
        }
        Op::WeakRef(n, target, cb) => {
            if let Some(target) = heap.lookup(target)
                && is(heap, target, |k| matches!(k, Kind::Instance { .. }))
            {
                let new = heap.new_weakref(target, cb.map(Cb::callback));
                store(heap, n, new);
            }
        }
        Op::Append(l, x) => {
            if let (Some(l), Some(x)) = (heap.lookup(l), heap.lookup(x))
                && is(heap, l, |k| matches!(k, Kind::List(_)))
            {
                heap.list_append(l, x);
            }
        }
        Op::SetItem(d, key, v) => {
            if let (Some(d), Some(v)) = (heap.lookup(d), heap.lookup(v))
                && is(heap, d, |k| matches!(k, Kind::Dict { .. }))
            {
                let key = match key {
                    Key::Int(k) => heap.new_int(*k),
                    Key::Str(k) => heap.new_str(k),
                };
                heap.dict_set(d, key, v);
                heap.decref(key);
            }
        }
        Op::SetAttr(o, attr, v) => {
            if let (Some(o), Some(v)) = (heap.lookup(o), heap.lookup(v))
                && is(heap, o, |k| matches!(k, Kind::Instance { .. }))
            {
                heap.set_attr(o, attr, v);
            }
        }
        Op::Assign(dst, src) => {
            if let Some(src) = heap.lookup(src) {
                heap.bind(dst, src);
            }
        }
        Op::Del(n) => {
            if heap.lookup(n).is_some() {
                heap.unbind(n);
            }
        }
        Op::Pop(l) => {
            if let Some(l) = heap.lookup(l)
                && matches!(heap.kind(l), Kind::List(items) if !items.is_empty())
            {
                let popped = heap.list_pop(l);
                heap.decref(popped);
            }
        }
        Op::SetDebug(flags) => gc.set_debug(heap, *flags),
        Op::Collect(_) => unreachable!("run() does the collections"),
    }
}

/// Runs `program` with the reference's collector, then with yours, and compares every check.
fn compare_with_reference(program: &[Op]) -> Result<(), String> {
    let mut expected = Vec::new();
    let mut names = Names::new();
    run(
        program,
        &mut reference::Collector::new(),
        &mut expected,
        Some(&mut names),
    );
    let mut actual = Vec::new();
    let outcome = catch(|| run(program, &mut cycles::Collector::new(), &mut actual, None));
    for (check, want) in expected.iter().enumerate() {
        let Some(got) = actual.get(check) else {
            return Err(match &outcome {
                Err(panic) => format!("at {}: your collector {panic}", want.what),
                Ok(()) => format!("your run stopped before {}", want.what),
            });
        };
        if got.returned != want.returned {
            return Err(format!(
                "at {}, what gc.collect returned and gc.get_stats() afterwards:\n  expected \
                 (reference): {}\n  yours               : {}",
                want.what, want.returned, got.returned
            ));
        }
        if got.dump != want.dump {
            return Err(format!(
                "after {}, the heap (every object, its count and list; the names; the GC lists \
                 in order; the counts) (< expected (reference), > yours):\n{}",
                want.what,
                pretty_assertions::StrComparison::new(
                    &names.rename(&want.dump),
                    &names.rename(&got.dump)
                )
            ));
        }
        if got.events != want.events {
            return Err(format!(
                "at {}, what happened since the previous check (finalizers, callbacks, frees) \
                 (< expected (reference), > yours):\n{}",
                want.what,
                pretty_assertions::Comparison::new(
                    &names.events(&want.events),
                    &names.events(&got.events)
                )
            ));
        }
        if let Err(why) = &got.invariants {
            return Err(format!(
                "after {}, your heap breaks an invariant of pyheap: {why}\nyour heap:\n{}",
                want.what,
                names.rename(&got.dump)
            ));
        }
    }
    outcome
}

/// Runs `seeds` programs of `length` statements with `emphasis`.
#[track_caller]
fn check_random(what: &str, emphasis: Emphasis, seeds: std::ops::Range<u64>, length: usize) {
    check_programs(
        what,
        seeds,
        |rng| random_program(rng, emphasis, length),
        compare_with_reference,
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn random_graphs_match_the_reference() {
    check_random(
        "random graphs of lists, dicts, tuples and instances",
        Emphasis::Graphs,
        0..100,
        300,
    );
}

#[test]
fn random_graphs_with_finalizers_and_weakrefs_match_the_reference() {
    check_random(
        "random graphs with __del__ (Logger, Phoenix, Keeper, Dropper) and weakrefs \
         (cb_print, cb_keep, cb_drop): see the classes in tests/random.rs",
        Emphasis::Finalizers,
        1000..1100,
        300,
    );
}

#[test]
fn random_programs_across_generations_match_the_reference() {
    check_random(
        "random programs of containers collecting generations 0, 1, 2 (and 3, invalid), with \
         DEBUG_SAVEALL on and off",
        Emphasis::Generations,
        2000..2100,
        300,
    );
}
