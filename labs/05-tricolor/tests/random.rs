//! Graded tests for lab 05, part (d): seeded random interleavings of the program and the
//! collector.
//!
//! A program is a list of operations: make an object or a list (pushed as a root), drop the top
//! root, load what a root's slot refers to into a new root, store a root into a slot of another
//! root (a field `f0`..`f2`, a list item, or `append`), clear a slot (`None`, or `pop`), move a
//! reference from one object to another through a local variable, and, for
//! the collector, start a cycle, take a step of 1 to 4 units, or finish the cycle. The program can
//! only reach objects through its roots, as a real one can only reach what its variables reach.
//!
//! After every operation the tests check, on your heap:
//!
//! - **nothing reachable is ever swept**: every object a root reaches, found by walking the heap
//!   here, without your code, is live;
//! - **everything unreachable when a cycle started is swept when it ends** (what became garbage
//!   during a cycle, its floating garbage, is then swept by the end of the next one), and the
//!   floating garbage your `floating_garbage` reports is exactly the black objects no root
//!   reaches;
//! - your `check_invariants` finds nothing wrong (with a correct collector, nothing is);
//! - and, in the last test, that your heap is the reference's, colour for colour.
//!
//! A failing program is shrunk to the shortest one that still fails, and printed with its seed
//! and with what it did, by name.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use testkit::{XorShift64, check_programs};
use tricolor::ObjId;

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// One operation. Roots and slots are chosen by number, roots counted from the top of the stack
/// (0 is the newest), modulo how many there are when the operation runs (so that a program stays meaningful when the shrinker removes operations);
/// an operation that cannot run (no root, an empty slot, a step with no cycle) is skipped.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `oN = Node()`: a new object, pushed as a root.
    New,
    /// `oN = []`: a new list, pushed as a root.
    NewList,
    /// The top root goes out of scope.
    Pop,
    /// Push, as a new root, what slot `slot` of root `root` refers to.
    Load { root: usize, slot: usize },
    /// Store root `value` into slot `slot` of root `root`: field `f0`..`f2`, or a list's item
    /// (`append` for the slot just past the end).
    Store {
        root: usize,
        slot: usize,
        value: usize,
    },
    /// Clear slot `slot` of root `root`: the field becomes `None`, a list is `pop`ped.
    Clear { root: usize, slot: usize },
    /// Move what slot `slot` of root `from` refers to into slot `to_slot` of root `to`, through a
    /// local variable: `t = from.slot; to.to_slot = t; from.slot = None; del t` (for a list,
    /// `to_slot` is `append`). What programs do all the time, and the interleaving that hides
    /// an object from a collector without a barrier.
    Move {
        from: usize,
        slot: usize,
        to: usize,
        to_slot: usize,
    },
    /// `start_cycle()`.
    Start,
    /// `step(budget)`.
    Step(usize),
    /// `final_pause()`, `floating_garbage()`, then `finish_cycle()`.
    Finish,
}

const FIELDS: [&str; 3] = ["f0", "f1", "f2"];

/// A random program: `build` operations that only make and link objects (so that a cycle has
/// a graph to work on), then `len` operations of every kind.
fn generate(rng: &mut XorShift64, build: usize, len: usize) -> Vec<Op> {
    (0..build + len)
        .map(|i| {
            let (root, slot, value) = (rng.below(4), rng.below(4), rng.below(4));
            let kind = if i < build {
                rng.below(67)
            } else {
                rng.below(100)
            };
            match kind {
                0..=9 => Op::New,
                10..=14 => Op::NewList,
                15..=36 => Op::Pop,
                37..=46 => Op::Load { root, slot },
                47..=66 => Op::Store { root, slot, value },
                67..=73 => Op::Clear { root, slot },
                // From an older root (more likely still gray) to a newer one.
                74..=83 => Op::Move {
                    from: 1 + rng.below(7),
                    slot,
                    to: rng.below(2),
                    to_slot: rng.below(4),
                },
                84..=88 => Op::Start,
                89..=97 => Op::Step(1 + rng.below(2)),
                _ => Op::Finish,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The heap, yours or the reference's
// ---------------------------------------------------------------------------------------------

/// What the programs need of a heap: implemented for yours and for the reference's.
trait Model {
    fn create(barrier: &str) -> Self;
    fn new_object(&mut self, name: &str) -> ObjId;
    fn new_list(&mut self, name: &str) -> ObjId;
    fn pop_root(&mut self) -> Result<ObjId, String>;
    fn push_root(&mut self, id: ObjId) -> Result<(), String>;
    fn roots(&self) -> Vec<ObjId>;
    fn is_list(&self, id: ObjId) -> bool;
    fn slot_count(&self, id: ObjId) -> usize;
    fn slot(&self, id: ObjId, index: usize) -> Option<ObjId>;
    fn referents(&self, id: ObjId) -> Vec<ObjId>;
    fn field(&self, id: ObjId, field: &str) -> Option<ObjId>;
    fn set_field(&mut self, id: ObjId, field: &str, value: Option<ObjId>) -> Result<(), String>;
    fn append(&mut self, list: ObjId, item: ObjId) -> Result<(), String>;
    fn set_item(&mut self, list: ObjId, index: usize, item: Option<ObjId>) -> Result<(), String>;
    fn pop_item(&mut self, list: ObjId) -> Result<(), String>;
    fn marking(&self) -> bool;
    fn start_cycle(&mut self) -> Result<(), String>;
    fn step(&mut self, budget: usize) -> Result<usize, String>;
    fn final_pause(&mut self);
    fn floating_garbage(&self) -> Vec<ObjId>;
    fn finish_cycle(&mut self) -> Result<(usize, usize), String>;
    fn object_ids(&self) -> Vec<ObjId>;
    fn is_live(&self, id: ObjId) -> bool;
    fn is_black(&self, id: ObjId) -> bool;
    fn name(&self, id: ObjId) -> String;
    fn cycles(&self) -> u64;
    fn check_invariants(&self) -> Result<(), String>;
    /// Every live object's colour, by name, in name order; then the worklist, bottom first.
    fn snapshot(&self) -> String;
}

macro_rules! model {
    ($krate:ident) => {
        impl Model for $krate::Heap {
            fn create(barrier: &str) -> Self {
                $krate::Heap::new(match barrier {
                    "dijkstra" => $krate::Barrier::Dijkstra,
                    _ => $krate::Barrier::Yuasa,
                })
            }
            fn new_object(&mut self, name: &str) -> ObjId {
                $krate::Heap::new_object(self, name)
            }
            fn new_list(&mut self, name: &str) -> ObjId {
                $krate::Heap::new_list(self, name)
            }
            fn pop_root(&mut self) -> Result<ObjId, String> {
                $krate::Heap::pop_root(self).map_err(|e| e.to_string())
            }
            fn push_root(&mut self, id: ObjId) -> Result<(), String> {
                $krate::Heap::push_root(self, id).map_err(|e| e.to_string())
            }
            fn roots(&self) -> Vec<ObjId> {
                $krate::Heap::roots(self).to_vec()
            }
            fn is_list(&self, id: ObjId) -> bool {
                $krate::Heap::len(self, id).is_ok()
            }
            fn slot_count(&self, id: ObjId) -> usize {
                $krate::Heap::slot_count(self, id)
            }
            fn slot(&self, id: ObjId, index: usize) -> Option<ObjId> {
                $krate::Heap::slot(self, id, index)
            }
            fn referents(&self, id: ObjId) -> Vec<ObjId> {
                $krate::Heap::referents(self, id)
            }
            fn field(&self, id: ObjId, field: &str) -> Option<ObjId> {
                $krate::Heap::field(self, id, field).ok().flatten()
            }
            fn set_field(
                &mut self,
                id: ObjId,
                field: &str,
                value: Option<ObjId>,
            ) -> Result<(), String> {
                $krate::Heap::set_field(self, id, field, value).map_err(|e| e.to_string())
            }
            fn append(&mut self, list: ObjId, item: ObjId) -> Result<(), String> {
                $krate::Heap::append(self, list, item).map_err(|e| e.to_string())
            }
            fn set_item(
                &mut self,
                list: ObjId,
                index: usize,
                item: Option<ObjId>,
            ) -> Result<(), String> {
                $krate::Heap::set_item(self, list, index, item).map_err(|e| e.to_string())
            }
            fn pop_item(&mut self, list: ObjId) -> Result<(), String> {
                $krate::Heap::pop_item(self, list)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            fn marking(&self) -> bool {
                $krate::Heap::phase(self) == $krate::Phase::Marking
            }
            fn start_cycle(&mut self) -> Result<(), String> {
                $krate::Heap::start_cycle(self).map_err(|e| e.to_string())
            }
            fn step(&mut self, budget: usize) -> Result<usize, String> {
                $krate::Heap::step(self, budget).map_err(|e| e.to_string())
            }
            fn final_pause(&mut self) {
                $krate::Heap::final_pause(self)
            }
            fn floating_garbage(&self) -> Vec<ObjId> {
                $krate::Heap::floating_garbage(self)
            }
            fn finish_cycle(&mut self) -> Result<(usize, usize), String> {
                $krate::Heap::finish_cycle(self)
                    .map(|stats| (stats.marked, stats.swept))
                    .map_err(|e| e.to_string())
            }
            fn object_ids(&self) -> Vec<ObjId> {
                $krate::Heap::object_ids(self)
            }
            fn is_live(&self, id: ObjId) -> bool {
                $krate::Heap::is_live(self, id)
            }
            fn is_black(&self, id: ObjId) -> bool {
                $krate::Heap::color(self, id) == $krate::Color::Black
            }
            fn name(&self, id: ObjId) -> String {
                $krate::Heap::name(self, id)
            }
            fn cycles(&self) -> u64 {
                $krate::Heap::cycles(self)
            }
            fn check_invariants(&self) -> Result<(), String> {
                $krate::Heap::check_invariants(self).map_err(|e| e.to_string())
            }
            fn snapshot(&self) -> String {
                let mut objects: Vec<(String, String)> = self
                    .object_ids()
                    .into_iter()
                    .map(|id| (self.name(id), $krate::Heap::color(self, id).to_string()))
                    .collect();
                objects.sort();
                let mut text = String::new();
                for (name, color) in objects {
                    let _ = write!(text, "{name} {color}, ");
                }
                let worklist: Vec<String> = $krate::Heap::worklist(self)
                    .iter()
                    .map(|&id| self.name(id))
                    .collect();
                let _ = write!(text, "worklist [{}]", worklist.join(" "));
                text
            }
        }
    };
}

model!(tricolor);
model!(reference);

// ---------------------------------------------------------------------------------------------
// Running a program
// ---------------------------------------------------------------------------------------------

/// What an operation showed, for the checks.
#[derive(Default)]
struct Seen {
    /// A cycle started: the live objects no root reached at that moment.
    started: Option<Vec<ObjId>>,
    /// A final pause is done (before its sweep): the floating garbage `floating_garbage`
    /// reported, and the black objects no root reaches, found here.
    floating: Option<(Vec<ObjId>, Vec<ObjId>)>,
    /// A cycle ended: the objects no root reached when it started.
    finished: Option<Vec<ObjId>>,
}

/// Every object the roots reach, found without the collector, each with what it was first
/// reached from (`None` for a root), so that [`path`] can say how.
fn reachable<H: Model>(heap: &H) -> BTreeMap<ObjId, Option<ObjId>> {
    let mut seen: BTreeMap<ObjId, Option<ObjId>> = BTreeMap::new();
    let mut stack: Vec<(ObjId, Option<ObjId>)> = heap
        .roots()
        .into_iter()
        .rev()
        .map(|id| (id, None))
        .collect();
    while let Some((id, from)) = stack.pop() {
        if seen.contains_key(&id) {
            continue;
        }
        seen.insert(id, from);
        stack.extend(
            heap.referents(id)
                .into_iter()
                .map(|target| (target, Some(id))),
        );
    }
    seen
}

/// How `id` is reached: `root -> o1 -> o4`, by name.
fn path<H: Model>(heap: &H, reached: &BTreeMap<ObjId, Option<ObjId>>, id: ObjId) -> String {
    let mut names = vec![heap.name(id)];
    let mut at = id;
    while let Some(&Some(from)) = reached.get(&at) {
        names.push(heap.name(from));
        at = from;
        if names.len() > reached.len() {
            break;
        }
    }
    names.push("a root".to_string());
    names.reverse();
    names.join(" -> ")
}

/// The live objects no root reaches now.
fn unreachable<H: Model>(heap: &H) -> Vec<ObjId> {
    let reached = reachable(heap);
    heap.object_ids()
        .into_iter()
        .filter(|id| !reached.contains_key(id))
        .collect()
}

/// Runs `program` on `heap`, calling `check` after each operation that ran, with what it did
/// (in words, by name) and what it showed. Returns the first error, followed by the run so far.
fn run<H: Model>(
    heap: &mut H,
    program: &[Op],
    floating: bool,
    mut check: impl FnMut(&H, &str, &Seen) -> Result<(), String>,
) -> Result<(), String> {
    let mut made = 0;
    let mut trace = String::new();
    let mut at_start = Vec::new();
    for (i, &op) in program.iter().enumerate() {
        let (what, seen) = perform(heap, op, floating, &mut made, &mut at_start)
            .map_err(|e| format!("{op:?} raised {e}\nthe run:\n{trace}"))?;
        let Some(what) = what else { continue };
        let _ = writeln!(trace, "  {i:>3}: {what}");
        check(heap, &what, &seen).map_err(|e| format!("{e}\nthe run:\n{trace}"))?;
    }
    Ok(())
}

/// Performs one operation: what it did (`None` if it was skipped) and what the checks need.
/// With `floating`, a finish asks `floating_garbage()` after the final pause.
fn perform<H: Model>(
    heap: &mut H,
    op: Op,
    floating: bool,
    made: &mut usize,
    at_start: &mut Vec<ObjId>,
) -> Result<(Option<String>, Seen), String> {
    let roots = heap.roots();
    // Roots are counted from the top of the stack: the program mostly uses its newest ones.
    let pick = |n: usize| {
        let len = roots.len();
        (len > 0).then(|| roots[len - 1 - n % len])
    };
    let mut seen = Seen::default();
    let what = match op {
        Op::New | Op::NewList => {
            let name = format!("o{made}");
            *made += 1;
            if matches!(op, Op::New) {
                heap.new_object(&name);
                Some(format!("{name} = Node()"))
            } else {
                heap.new_list(&name);
                Some(format!("{name} = []"))
            }
        }
        Op::Pop => match roots.last() {
            Some(&top) => {
                heap.pop_root()?;
                Some(format!("pop root {} ({})", roots.len() - 1, heap.name(top)))
            }
            None => None,
        },
        Op::Load { root, slot } => match pick(root).and_then(|r| read(heap, r, slot)) {
            Some((place, target)) => {
                heap.push_root(target)?;
                Some(format!("push {place} ({})", heap.name(target)))
            }
            None => None,
        },
        Op::Store { root, slot, value } => match (pick(root), pick(value)) {
            (Some(r), Some(v)) if heap.is_list(r) => {
                let len = heap.slot_count(r);
                let index = slot % (len + 1);
                if index == len {
                    heap.append(r, v)?;
                    Some(format!("{}.append({})", heap.name(r), heap.name(v)))
                } else {
                    heap.set_item(r, index, Some(v))?;
                    Some(format!("{}[{index}] = {}", heap.name(r), heap.name(v)))
                }
            }
            (Some(r), Some(v)) => {
                let field = FIELDS[slot % FIELDS.len()];
                heap.set_field(r, field, Some(v))?;
                Some(format!("{}.{field} = {}", heap.name(r), heap.name(v)))
            }
            _ => None,
        },
        Op::Clear { root, slot } => match pick(root) {
            Some(r) if heap.is_list(r) => {
                if heap.slot_count(r) == 0 {
                    None
                } else {
                    heap.pop_item(r)?;
                    Some(format!("{}.pop()", heap.name(r)))
                }
            }
            Some(r) => {
                let field = FIELDS[slot % FIELDS.len()];
                heap.set_field(r, field, None)?;
                Some(format!("{}.{field} = None", heap.name(r)))
            }
            None => None,
        },
        Op::Move {
            from,
            slot,
            to,
            to_slot,
        } => match (pick(from), pick(to)) {
            (Some(src), Some(dst)) => match read(heap, src, slot) {
                Some((place, target)) => {
                    heap.push_root(target)?;
                    let to_place = if heap.is_list(dst) {
                        heap.append(dst, target)?;
                        format!("{}.append(t)", heap.name(dst))
                    } else {
                        let field = FIELDS[to_slot % FIELDS.len()];
                        heap.set_field(dst, field, Some(target))?;
                        format!("{}.{field} = t", heap.name(dst))
                    };
                    if heap.is_list(src) {
                        let index = slot % heap.slot_count(src);
                        heap.set_item(src, index, None)?;
                    } else {
                        heap.set_field(src, FIELDS[slot % FIELDS.len()], None)?;
                    }
                    heap.pop_root()?;
                    Some(format!(
                        "t = {place} ({}); {to_place}; {place} = None; del t",
                        heap.name(target)
                    ))
                }
                None => None,
            },
            _ => None,
        },
        Op::Start if !heap.marking() => {
            *at_start = unreachable(heap);
            heap.start_cycle()?;
            seen.started = Some(at_start.clone());
            Some(format!("start_cycle() (cycle {})", heap.cycles()))
        }
        Op::Step(budget) if heap.marking() => {
            let done = heap.step(budget)?;
            Some(format!("step({budget}) = {done}"))
        }
        Op::Finish if heap.marking() => {
            if floating {
                heap.final_pause();
                let reported = heap.floating_garbage();
                let reached = reachable(heap);
                let found: Vec<ObjId> = heap
                    .object_ids()
                    .into_iter()
                    .filter(|&id| heap.is_black(id) && !reached.contains_key(&id))
                    .collect();
                seen.floating = Some((reported, found));
            }
            let (marked, swept) = heap.finish_cycle()?;
            seen.finished = Some(std::mem::take(at_start));
            Some(format!(
                "{}finish_cycle() (cycle {}: marked {marked}, swept {swept})",
                if floating {
                    "final_pause(); floating_garbage(); "
                } else {
                    ""
                },
                heap.cycles()
            ))
        }
        Op::Start | Op::Step(_) | Op::Finish => None,
    };
    Ok((what, seen))
}

/// What slot `slot` of `id` refers to, if anything, and how to write that slot: field
/// `f0`..`f2` of an instance, or item `slot % len` of a list.
fn read<H: Model>(heap: &H, id: ObjId, slot: usize) -> Option<(String, ObjId)> {
    if heap.is_list(id) {
        let len = heap.slot_count(id);
        let index = slot % len.max(1);
        let target = (len > 0).then(|| heap.slot(id, index)).flatten()?;
        Some((format!("{}[{index}]", heap.name(id)), target))
    } else {
        let field = FIELDS[slot % FIELDS.len()];
        let target = heap.field(id, field)?;
        Some((format!("{}.{field}", heap.name(id)), target))
    }
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// Nothing a root reaches is swept.
fn nothing_reachable_is_swept<H: Model>(heap: &H) -> Result<(), String> {
    let reached = reachable(heap);
    match reached.keys().find(|&&id| !heap.is_live(id)) {
        Some(&id) => Err(format!(
            "{} is reachable ({}) but was swept",
            heap.name(id),
            path(heap, &reached, id)
        )),
        None => Ok(()),
    }
}

/// What no root reached when the cycle started is swept when it ends; the floating garbage
/// reported is the floating garbage found.
fn garbage_is_swept_in_time<H: Model>(heap: &H, seen: &Seen) -> Result<(), String> {
    if let Some((reported, found)) = &seen.floating {
        let names = |ids: &[ObjId]| -> String {
            let names: Vec<String> = ids.iter().map(|&id| heap.name(id)).collect();
            format!("[{}]", names.join(" "))
        };
        if reported != found {
            return Err(format!(
                "after the final pause, floating_garbage() returned {}; the black objects no \
                 root reaches are {} (in slot order)",
                names(reported),
                names(found)
            ));
        }
    }
    if let Some(at_start) = &seen.finished {
        for &id in at_start {
            if heap.is_live(id) {
                return Err(format!(
                    "{} was unreachable when cycle {} started, and is still live after it",
                    heap.name(id),
                    heap.cycles()
                ));
            }
        }
    }
    Ok(())
}

/// Runs random programs on your heap with `barrier`, checked by `check` after every operation
/// (and with `floating_garbage()` asked at each finish, if `floating`).
fn on_yours(
    what: &str,
    barrier: &str,
    floating: bool,
    check: impl Fn(&tricolor::Heap, &Seen) -> Result<(), String>,
) {
    check_programs(
        &format!("{what} ({barrier})"),
        SEEDS,
        |rng| generate(rng, 40, 160),
        |program| {
            let mut heap = <tricolor::Heap as Model>::create(barrier);
            run(&mut heap, program, floating, |heap, _, seen| {
                check(heap, seen)
            })
        },
    );
}

/// The seeds of the programs each test runs.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=1000;

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn random_interleavings_with_dijkstra_never_sweep_a_reachable_object() {
    on_yours(
        "nothing reachable is ever swept",
        "dijkstra",
        false,
        |heap, _| nothing_reachable_is_swept(heap),
    );
}

#[test]
fn random_interleavings_with_yuasa_never_sweep_a_reachable_object() {
    on_yours(
        "nothing reachable is ever swept",
        "yuasa",
        false,
        |heap, _| nothing_reachable_is_swept(heap),
    );
}

#[test]
fn random_interleavings_keep_every_invariant() {
    for barrier in ["dijkstra", "yuasa"] {
        on_yours(
            "check_invariants() finds nothing wrong",
            barrier,
            false,
            |heap, _| Model::check_invariants(heap),
        );
    }
}

#[test]
fn random_interleavings_sweep_the_garbage_of_each_cycle_by_the_next() {
    for barrier in ["dijkstra", "yuasa"] {
        on_yours(
            "what was unreachable when a cycle started is swept when it ends",
            barrier,
            true,
            garbage_is_swept_in_time,
        );
    }
}

#[test]
fn random_interleavings_match_the_reference_colour_for_colour() {
    for barrier in ["dijkstra", "yuasa"] {
        check_programs(
            &format!("your heap is the reference's after every operation ({barrier})"),
            1..=300,
            |rng| generate(rng, 40, 160),
            |program| {
                let mut theirs = <reference::Heap as Model>::create(barrier);
                let mut expected = Vec::new();
                run(&mut theirs, program, true, |heap, what, _| {
                    expected.push((what.to_string(), heap.snapshot()));
                    Ok(())
                })
                .map_err(|e| format!("the reference failed: {e}"))?;
                let mut yours = <tricolor::Heap as Model>::create(barrier);
                let mut at = 0;
                run(&mut yours, program, true, |heap, what, _| {
                    let Some((their_what, theirs)) = expected.get(at) else {
                        return Err(format!("your run did more than the reference's: {what}"));
                    };
                    at += 1;
                    if (their_what.as_str(), theirs.as_str()) != (what, heap.snapshot().as_str()) {
                        return Err(format!(
                            "after `{what}`, your heap differs from the reference's:\n  \
                             expected (reference): {their_what}: {theirs}\n  \
                             yours:                {what}: {}",
                            heap.snapshot()
                        ));
                    }
                    Ok(())
                })
            },
        );
    }
}
