//! Seeded random programs against a simple model of reference counting.
//!
//! The model keeps, for each live object, the serials it holds, and decides who lives by a
//! fixed point: repeatedly delete every object that nothing (no name, no live object) refers
//! to. That is a different algorithm from the heap's incremental cascade, so agreeing on which
//! objects live and on every count after every step is evidence that both are right. Classes
//! with a logging `__del__` and weakrefs with logging callbacks are mixed in: the model predicts
//! that each `__del__` runs exactly once per dead instance, and that each weakref is cleared,
//! with its callback called, exactly when its referent dies while the weakref lives.

use std::collections::{BTreeMap, BTreeSet};

use pyheap::{Action, Callback, Event, Finalizer, Heap, Kind, ObjId};
use testkit::{XorShift64, check_programs};

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

#[derive(Clone, Debug)]
enum Op {
    NewList(&'static str),
    NewDict(&'static str),
    NewInstance(&'static str, bool),
    NewInt(&'static str, i64),
    NewTuple(&'static str, &'static str, &'static str),
    NewWeakref(&'static str, &'static str),
    Assign(&'static str, &'static str),
    Append(&'static str, &'static str),
    SetItem(&'static str, i64, &'static str),
    SetAttr(&'static str, &'static str),
    Pop(&'static str),
    Clear(&'static str),
    Del(&'static str),
}

fn pick(rng: &mut XorShift64) -> &'static str {
    NAMES[rng.below(NAMES.len())]
}

fn generate(rng: &mut XorShift64) -> Vec<Op> {
    (0..120)
        .map(|_| match rng.below(13) {
            0 => Op::NewList(pick(rng)),
            1 => Op::NewDict(pick(rng)),
            2 => Op::NewInstance(pick(rng), rng.chance(50)),
            3 => Op::NewInt(pick(rng), rng.below(3) as i64),
            4 => Op::NewTuple(pick(rng), pick(rng), pick(rng)),
            5 => Op::NewWeakref(pick(rng), pick(rng)),
            6 => Op::Assign(pick(rng), pick(rng)),
            7 | 8 => Op::Append(pick(rng), pick(rng)),
            9 => Op::SetItem(pick(rng), rng.below(3) as i64, pick(rng)),
            10 => Op::SetAttr(pick(rng), pick(rng)),
            11 => Op::Pop(pick(rng)),
            12 if rng.chance(30) => Op::Clear(pick(rng)),
            _ => Op::Del(pick(rng)),
        })
        .collect()
}

/// A model object: what it holds (by serial), and whether it is a weakref (to which serial).
#[derive(Clone, Debug, Default)]
struct MObj {
    holds: Vec<u64>,
    weakref_to: Option<u64>,
    finalizer: bool,
}

#[derive(Default)]
struct Model {
    objs: BTreeMap<u64, MObj>,
    names: BTreeMap<&'static str, u64>,
    expected_events: Vec<Event>,
}

impl Model {
    fn incoming(&self, serial: u64) -> usize {
        let from_names = self.names.values().filter(|&&s| s == serial).count();
        let from_objs: usize = self
            .objs
            .values()
            .map(|o| o.holds.iter().filter(|&&s| s == serial).count())
            .sum();
        from_names + from_objs + usize::from(serial < 2)
    }

    /// Deletes unreferenced objects until none is left, recording the expected finalizer and
    /// callback events (the order between objects is not modelled, only the multiset).
    fn collect_dead(&mut self) {
        loop {
            let dead: Vec<u64> = self
                .objs
                .keys()
                .copied()
                .filter(|&s| self.incoming(s) == 0)
                .collect();
            if dead.is_empty() {
                return;
            }
            for s in dead {
                let obj = self.objs.remove(&s).unwrap();
                if obj.finalizer {
                    self.expected_events.push(Event::Finalized(s));
                }
                for (&w, wobj) in &mut self.objs {
                    if wobj.weakref_to == Some(s) {
                        wobj.weakref_to = None;
                        self.expected_events.push(Event::CallbackCalled(w));
                    }
                }
                self.expected_events.push(Event::Destroyed(s));
            }
        }
    }
}

fn run(program: &[Op]) -> Result<(), String> {
    let mut heap = Heap::new();
    let plain = heap.new_class("Plain", None);
    let with_del = heap.new_class("WithDel", Some(Finalizer::new([])));
    let mut model = Model::default();
    model.objs.insert(0, MObj::default());
    model.objs.insert(1, MObj::default());
    for (step, op) in program.iter().enumerate() {
        let get = |heap: &Heap, name: &str| heap.lookup(name);
        let kind_of = |heap: &Heap, id: ObjId| heap.kind(id).clone();
        // Each arm acts on the heap and mirrors the act in the model.
        let new_obj = |heap: &mut Heap, model: &mut Model, name, id: ObjId, obj: MObj| {
            model.objs.insert(heap.serial(id), obj);
            heap.bind(name, id);
            model.names.insert(name, heap.serial(id));
            heap.decref(id);
        };
        match *op {
            Op::NewList(n) => {
                let id = heap.new_list();
                new_obj(&mut heap, &mut model, n, id, MObj::default());
            }
            Op::NewDict(n) => {
                let id = heap.new_dict();
                new_obj(&mut heap, &mut model, n, id, MObj::default());
            }
            Op::NewInstance(n, finalizer) => {
                let id = heap.new_instance(if finalizer { with_del } else { plain });
                let obj = MObj {
                    finalizer,
                    ..MObj::default()
                };
                new_obj(&mut heap, &mut model, n, id, obj);
            }
            Op::NewInt(n, v) => {
                let id = heap.new_int(v);
                new_obj(&mut heap, &mut model, n, id, MObj::default());
            }
            Op::NewTuple(n, x, y) => {
                let (Some(x), Some(y)) = (get(&heap, x), get(&heap, y)) else {
                    continue;
                };
                let id = heap.new_tuple(&[x, y]);
                let holds = vec![heap.serial(x), heap.serial(y)];
                new_obj(
                    &mut heap,
                    &mut model,
                    n,
                    id,
                    MObj {
                        holds,
                        ..MObj::default()
                    },
                );
            }
            Op::NewWeakref(n, target) => {
                let Some(target) = get(&heap, target) else {
                    continue;
                };
                if !matches!(heap.kind(target), Kind::Instance { .. }) {
                    continue;
                }
                let id = heap.new_weakref(target, Some(Callback::new([Action::Log("cb".into())])));
                let obj = MObj {
                    weakref_to: Some(heap.serial(target)),
                    ..MObj::default()
                };
                new_obj(&mut heap, &mut model, n, id, obj);
            }
            Op::Assign(n, other) => {
                let Some(id) = get(&heap, other) else {
                    continue;
                };
                heap.bind(n, id);
                model.names.insert(n, heap.serial(id));
            }
            Op::Append(l, item) => {
                let (Some(l), Some(item)) = (get(&heap, l), get(&heap, item)) else {
                    continue;
                };
                if !matches!(kind_of(&heap, l), Kind::List(_)) {
                    continue;
                }
                heap.list_append(l, item);
                let s = heap.serial(item);
                model.objs.get_mut(&heap.serial(l)).unwrap().holds.push(s);
            }
            Op::SetItem(d, key, value) => {
                let (Some(d), Some(value)) = (get(&heap, d), get(&heap, value)) else {
                    continue;
                };
                if !matches!(kind_of(&heap, d), Kind::Dict { .. }) {
                    continue;
                }
                // The key is a fresh int: the model holds it as a key entry only if it is new.
                let key_id = heap.new_int(key);
                let existing = heap.dict_get(d, key_id);
                let (ds, vs, ks) = (heap.serial(d), heap.serial(value), heap.serial(key_id));
                model.objs.insert(ks, MObj::default());
                let entry = model.objs.get_mut(&ds).unwrap();
                match existing {
                    Some(old) => {
                        let os = heap.serial(old);
                        let at = entry.holds.iter().position(|&s| s == os).unwrap();
                        entry.holds[at] = vs;
                    }
                    None => entry.holds.extend([ks, vs]),
                }
                heap.dict_set(d, key_id, value);
                heap.decref(key_id);
            }
            Op::SetAttr(o, value) => {
                let (Some(o), Some(value)) = (get(&heap, o), get(&heap, value)) else {
                    continue;
                };
                if !matches!(kind_of(&heap, o), Kind::Instance { .. }) {
                    continue;
                }
                let (os, vs) = (heap.serial(o), heap.serial(value));
                let entry = model.objs.get_mut(&os).unwrap();
                match heap.get_attr(o, "x") {
                    Some(old) => {
                        let old = heap.serial(old);
                        let at = entry.holds.iter().position(|&s| s == old).unwrap();
                        entry.holds[at] = vs;
                    }
                    None => entry.holds.push(vs),
                }
                heap.set_attr(o, "x", value);
            }
            Op::Pop(l) => {
                let Some(l) = get(&heap, l) else { continue };
                if !matches!(kind_of(&heap, l), Kind::List(items) if !items.is_empty()) {
                    continue;
                }
                model.objs.get_mut(&heap.serial(l)).unwrap().holds.pop();
                let item = heap.list_pop(l);
                heap.decref(item);
            }
            Op::Clear(c) => {
                let Some(c) = get(&heap, c) else { continue };
                let cs = heap.serial(c);
                if heap.clear(c) {
                    let entry = model.objs.get_mut(&cs).unwrap();
                    entry.holds.clear();
                    entry.weakref_to = None;
                }
            }
            Op::Del(n) => {
                if get(&heap, n).is_none() {
                    continue;
                }
                heap.del(n);
                model.names.remove(n);
            }
        }
        model.collect_dead();
        heap.check_invariants()
            .map_err(|why| format!("after step {step} ({op:?}): {why}"))?;
        let live: BTreeMap<u64, usize> = heap
            .objects()
            .map(|(id, o)| (o.serial(), heap.refcount(id)))
            .collect();
        let expected: BTreeMap<u64, usize> =
            model.objs.keys().map(|&s| (s, model.incoming(s))).collect();
        if live != expected {
            return Err(format!(
                "after step {step} ({op:?}): live objects and counts {live:?}, the model \
                 expected {expected:?}\n{}",
                heap.dump()
            ));
        }
        for (id, o) in heap.objects() {
            if let Kind::WeakRef { referent, .. } = o.kind() {
                let want = model.objs[&o.serial()].weakref_to;
                let got = referent.map(|r| heap.serial(r));
                if got != want {
                    return Err(format!(
                        "after step {step}: weakref #{} refers to {got:?}, expected {want:?}",
                        heap.serial(id)
                    ));
                }
            }
        }
    }
    let sorted = |events: &[Event]| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        for e in events {
            if !matches!(e, Event::Log(_)) {
                assert!(seen.insert(format!("{e:?}")), "{e:?} happened twice");
            }
        }
        seen
    };
    let got = sorted(heap.events());
    let want = sorted(&model.expected_events);
    if got != want {
        return Err(format!("events {got:?}, the model expected {want:?}"));
    }
    Ok(())
}

#[test]
fn random_programs_match_a_model_of_reference_counting() {
    check_programs("pyheap vs the model", 0..40, generate, run);
}
