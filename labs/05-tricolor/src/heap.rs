//! The heap a tracing collector works on: pyheap's objects, the program's roots made explicit,
//! and the collector's own state (a colour per object, the gray worklist, the cycle's
//! statistics).
//!
//! ```text
//!   roots (a stack the mutator pushes and pops)      the collector's state, per object
//!   ┌───┬───┬───┐                                    colour   White | Gray | Black
//!   │ A │ X │ A │ ──▶  A ──▶ B ──▶ C ◀── D ◀── E      unscanned  how many slots are left to
//!   └───┴───┴───┘      (pyheap objects: instances      scan, for a gray object scanned in
//!    bottom     top     of `Node` and lists)           pieces
//!                                                    worklist: the gray objects, a stack
//! ```
//!
//! # Why pyheap, and one reference more
//!
//! The objects are pyheap's (lab 03's): instances of one class, `Node`, whose fields are
//! attributes, and lists. They keep their reference counts, and the heap holds **one reference
//! to every object it made**, from its allocation until the sweep frees it. So reference counting
//! never frees anything by itself here: an object the program drops stays until a collection
//! finds it unreachable, as in a collector that only traces (Java's, Go's, Lua's). CPython runs
//! both mechanisms; this lab takes counting out of the way to look at tracing alone.
//!
//! Freeing an object (`Heap::free`, the sweep's only tool) marks it swept, empties it
//! (`tp_clear`: its references are dropped) and gives up the heap's reference. If nothing else
//! refers to it, pyheap frees it there and then. If something still does, which only a wrong
//! collector allows, pyheap keeps the emptied object alive: the program's reference dangles, but
//! safely. Using it through the heap is an error ([`TricolorError::Swept`](crate::TricolorError::Swept)), and
//! [`Heap::check_invariants`] names the object that still refers to it. That is how the tests
//! watch the bug a write barrier prevents without any memory being used after it is freed.
//!
//! # Slots
//!
//! What an object refers to is a row of *slots*: a list's items in order, or an instance's
//! fields in the order they were first set. A slot holds an object or `None`. Fields are never
//! removed (setting one to `None` keeps its slot), and a list changes only at its end (`append`,
//! `pop`) or in place (`lst[i] = x`), so a slot never moves: a scan that stopped half-way
//! through an object can resume where it stopped. Objects are scanned from their last slot to
//! their first, as CPython's `list_traverse` visits a list.

use pyheap::{ClassId, Kind, ObjId};

use crate::color::{Barrier, Color, Phase};
use crate::stats::CycleStats;

/// A heap of pyheap objects with explicit roots, and the tricolor collector's state.
///
/// The mutator's operations (allocating, storing, pushing and popping roots) are in
/// [`crate::mutator`]; the collector's, in [`crate::mark`], [`crate::sweep`],
/// [`crate::incremental`] and [`crate::barrier`]; the invariants, in [`crate::invariants`].
pub struct Heap {
    /// The objects themselves, with their reference counts.
    pub(crate) py: pyheap::Heap,
    /// The class every instance belongs to (`class Node: pass`).
    pub(crate) node: ClassId,
    /// The collector's record of each object, indexed by [`ObjId::index`] (pyheap's slot). A
    /// slot pyheap reuses for a new object gets a new record.
    ///
    /// Marking reads and writes a record per object it shades or scans, so a record holds only
    /// what marking needs (20 bytes); the name, which only messages read, is in `labels`.
    pub(crate) objects: Vec<Option<Record>>,
    /// What messages call each object, indexed as `objects`.
    pub(crate) labels: Vec<Label>,
    /// How many records are of objects not swept.
    pub(crate) live: usize,
    /// The roots, bottom of the stack first; each holds a reference to its object.
    pub(crate) roots: Vec<ObjId>,
    /// The gray objects, a stack: [`shade`](Heap::shade) pushes on top, marking pops from the
    /// top.
    pub(crate) worklist: Vec<ObjId>,
    /// The barrier this heap was built with.
    pub(crate) barrier: Barrier,
    /// Where the collector is.
    pub(crate) phase: Phase,
    /// The statistics of the cycle in progress, or of the last one.
    pub(crate) stats: CycleStats,
    /// How many cycles were started so far.
    pub(crate) cycles: u64,
    /// `(cycle, step, phase)` when the mutator last ran, and how many mutator operations ran
    /// since the collector last did something; only for messages ([`Heap::moment`]).
    pub(crate) since: ((u64, usize, Phase), usize),
}

/// What the collector knows of one object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    /// The object (its slot and pyheap generation).
    pub(crate) id: ObjId,
    /// For a gray object scanned in part: how many of its first slots are still to scan.
    pub(crate) unscanned: Option<u32>,
    /// Its colour.
    pub(crate) color: Color,
    /// Whether a sweep freed it. pyheap may still hold it, emptied, if something refers to it.
    pub(crate) swept: bool,
}

/// What messages call one object.
#[derive(Clone, Debug, Default)]
pub(crate) struct Label {
    /// Its name, or `None` for an unnamed object (shown as `#serial`).
    pub(crate) name: Option<Box<str>>,
    /// pyheap's serial number, for unnamed objects.
    pub(crate) serial: u64,
}

impl Heap {
    /// An empty heap with no roots, built with `barrier`.
    pub fn new(barrier: Barrier) -> Heap {
        let mut py = pyheap::Heap::new();
        let node = py.new_class("Node", None);
        Heap {
            py,
            node,
            objects: Vec::new(),
            labels: Vec::new(),
            live: 0,
            roots: Vec::new(),
            worklist: Vec::new(),
            barrier,
            phase: Phase::Idle,
            stats: CycleStats::default(),
            cycles: 0,
            since: ((0, 0, Phase::Idle), 0),
        }
    }

    // What tests and the collector read.

    /// The barrier this heap was built with.
    pub fn barrier(&self) -> Barrier {
        self.barrier
    }

    /// Where the collector is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The statistics of the cycle in progress, or of the last one.
    pub fn stats(&self) -> &CycleStats {
        &self.stats
    }

    /// How many cycles were started so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// The roots, bottom of the stack first.
    pub fn roots(&self) -> &[ObjId] {
        &self.roots
    }

    /// The gray worklist, bottom first (the top, the next to scan, is last).
    pub fn worklist(&self) -> &[ObjId] {
        &self.worklist
    }

    /// How many objects are live (made by this heap and not swept).
    pub fn live_objects(&self) -> usize {
        self.live
    }

    /// The live objects, in slot order.
    pub fn object_ids(&self) -> Vec<ObjId> {
        self.objects
            .iter()
            .flatten()
            .filter(|record| !record.swept)
            .map(|record| record.id)
            .collect()
    }

    /// Whether `id` is a live object of this heap: made here, and not swept.
    pub fn is_live(&self, id: ObjId) -> bool {
        self.record(id).is_some_and(|record| !record.swept)
    }

    /// Whether the object `id` names was swept. (Every object of this heap that is not live was
    /// swept: the sweep is the only way objects die here.)
    pub fn is_swept(&self, id: ObjId) -> bool {
        !self.is_live(id)
    }

    /// Whether `id` was swept while something still refers to it: a dangling reference, which
    /// pyheap keeps safe by keeping the emptied object alive.
    pub fn is_dangling(&self, id: ObjId) -> bool {
        self.record(id).is_some_and(|record| record.swept) && self.py.is_alive(id)
    }

    /// The colour of `id`. A swept object keeps the colour it was swept with (white).
    ///
    /// # Panics
    /// If `id` was never an object of this heap.
    #[track_caller]
    #[inline]
    pub fn color(&self, id: ObjId) -> Color {
        self.known(id).color
    }

    /// The name of `id`, as messages show it: the name it was made with, or `#serial` for an
    /// object made without one.
    ///
    /// # Panics
    /// If `id` was never an object of this heap.
    #[track_caller]
    pub fn name(&self, id: ObjId) -> String {
        // `known` panics, with the message the other lookups give, for an id this heap never made.
        let _ = self.known(id);
        let label = &self.labels[id.index()];
        match &label.name {
            Some(name) => name.to_string(),
            None => format!("#{}", label.serial),
        }
    }

    /// The live object named `name` (the first made, if several share it).
    pub fn lookup(&self, name: &str) -> Option<ObjId> {
        self.objects
            .iter()
            .zip(&self.labels)
            .find_map(|(record, label)| match record {
                Some(record) if !record.swept && label.name.as_deref() == Some(name) => {
                    Some(record.id)
                }
                _ => None,
            })
    }

    /// How many slots `id` has: a list's length, or how many fields an instance has had set.
    #[track_caller]
    #[inline(always)]
    pub fn slot_count(&self, id: ObjId) -> usize {
        match self.py.kind(id) {
            Kind::List(items) => items.len(),
            Kind::Instance { attrs, .. } => attrs.len(),
            _ => 0,
        }
    }

    /// The object in slot `index` of `id`, or `None` if the slot holds `None`.
    ///
    /// # Panics
    /// If `index` is not below [`slot_count`](Heap::slot_count).
    #[track_caller]
    #[inline(always)]
    pub fn slot(&self, id: ObjId, index: usize) -> Option<ObjId> {
        let target = match self.py.kind(id) {
            Kind::List(items) => items[index],
            Kind::Instance { attrs, .. } => attrs[index].1,
            _ => panic!("{} has no slots", self.name(id)),
        };
        (target != self.py.none()).then_some(target)
    }

    /// Every object `id` refers to, in scanning order: from its last slot to its first, `None`
    /// slots left out, an object held twice listed twice.
    #[track_caller]
    pub fn referents(&self, id: ObjId) -> Vec<ObjId> {
        (0..self.slot_count(id))
            .rev()
            .filter_map(|index| self.slot(id, index))
            .collect()
    }

    /// How many of the slots of `id` are still to be scanned this cycle: all of them, unless a
    /// step scanned part of this (gray) object already, in which case its first `unscanned`
    /// slots (the later ones were scanned). Never more than the slot count: a list may have
    /// shrunk since.
    #[track_caller]
    #[inline(always)]
    pub fn unscanned(&self, id: ObjId) -> usize {
        let count = self.slot_count(id);
        self.known(id)
            .unscanned
            .map_or(count, |left| (left as usize).min(count))
    }

    /// The objects a scan of `id` has shaded already, as far as the slots say: every referent of
    /// a black object, the scanned slots of a gray one, none of a white one.
    #[track_caller]
    pub fn scanned_referents(&self, id: ObjId) -> Vec<ObjId> {
        let from = match self.color(id) {
            Color::White => return Vec::new(),
            Color::Gray => self.unscanned(id),
            Color::Black => 0,
        };
        (from..self.slot_count(id))
            .rev()
            .filter_map(|index| self.slot(id, index))
            .collect()
    }

    /// The pyheap object model underneath, read-only (reference counts, kinds).
    pub fn pyheap(&self) -> &pyheap::Heap {
        &self.py
    }

    /// Paints `id` directly, touching nothing else: not the worklist, not the statistics. For
    /// tests and experiments that need a broken state on purpose (the collector itself uses
    /// `set_color`); [`check_invariants`](Heap::check_invariants) says what it
    /// breaks.
    #[track_caller]
    pub fn paint(&mut self, id: ObjId, color: Color) {
        self.set_color(id, color);
    }

    /// Where the collector is, for messages: `cycle 2, after step 3, then 1 mutator operation`.
    pub fn moment(&self) -> String {
        let (when, ops) = self.since;
        let ops = if when == (self.cycles, self.stats.steps, self.phase) {
            ops
        } else {
            0
        };
        let mut at = match (self.phase, self.cycles, self.stats.steps) {
            (Phase::Idle, 0, _) => "before the first cycle".to_string(),
            (Phase::Idle, n, _) => format!("after cycle {n}"),
            (Phase::Marking, n, 0) => format!("cycle {n}, after the initial pause"),
            (Phase::Marking, n, step) => format!("cycle {n}, after step {step}"),
        };
        match ops {
            0 => {}
            1 => at.push_str(", then 1 mutator operation"),
            n => at.push_str(&format!(", then {n} mutator operations")),
        }
        at
    }

    // What the collector changes (inside the crate).

    /// Sets the colour of `id`. Black and white objects have no scan in progress, so this also
    /// forgets how much of `id` was left to scan.
    #[track_caller]
    #[inline]
    pub(crate) fn set_color(&mut self, id: ObjId, color: Color) {
        let record = self.known_mut(id);
        record.color = color;
        if color != Color::Gray {
            record.unscanned = None;
        }
    }

    /// Records that only the first `unscanned` slots of the gray object `id` are left to scan.
    #[track_caller]
    pub(crate) fn set_unscanned(&mut self, id: ObjId, unscanned: usize) {
        let unscanned = u32::try_from(unscanned).expect("fewer than 2^32 slots in an object");
        self.known_mut(id).unscanned = Some(unscanned);
    }

    /// Frees `id`, the sweep's only tool: marks it swept, empties it (`tp_clear`, so what it
    /// referred to loses a reference) and gives up the heap's reference to it. pyheap frees it at
    /// once unless something still refers to it (see the module docs). It does not look at the
    /// colour: deciding what to free is the sweep's job.
    #[track_caller]
    pub(crate) fn free(&mut self, id: ObjId) {
        let record = self.known_mut(id);
        assert!(!record.swept, "free: {id:?} was swept already");
        record.swept = true;
        record.unscanned = None;
        self.live -= 1;
        self.py.clear(id);
        self.py.decref(id);
    }

    /// Starts the bookkeeping of a new cycle: counts it, starts fresh statistics, and enters
    /// [`Phase::Marking`]. Shades nothing.
    pub(crate) fn begin_cycle(&mut self) {
        self.cycles += 1;
        self.stats = CycleStats {
            cycle: self.cycles,
            ..CycleStats::default()
        };
        self.phase = Phase::Marking;
    }

    /// Records a new object made by the mutator, in the colour `Heap::new_color` gives it.
    pub(crate) fn record_new(&mut self, id: ObjId, name: &str) {
        let record = Record {
            id,
            unscanned: None,
            color: self.new_color(),
            swept: false,
        };
        let label = Label {
            name: (!name.is_empty()).then(|| name.into()),
            serial: self.py.serial(id),
        };
        let index = id.index();
        if index >= self.objects.len() {
            self.objects.resize(index + 1, None);
            self.labels.resize(index + 1, Label::default());
        }
        self.objects[index] = Some(record);
        self.labels[index] = label;
        self.live += 1;
    }

    /// The colour of a new object: white between cycles (a cycle will start with every object
    /// white), and during marking what [`allocation_color`](Heap::allocation_color) decides.
    pub(crate) fn new_color(&self) -> Color {
        match self.phase {
            Phase::Idle => Color::White,
            Phase::Marking => self.allocation_color(),
        }
    }

    /// The record of `id`, if `id` names an object this heap made (live or swept).
    #[inline]
    pub(crate) fn record(&self, id: ObjId) -> Option<&Record> {
        match self.objects.get(id.index()) {
            Some(Some(record)) if record.id == id => Some(record),
            _ => None,
        }
    }

    #[track_caller]
    #[inline]
    fn known(&self, id: ObjId) -> &Record {
        self.record(id).unwrap_or_else(|| unknown(id))
    }

    #[track_caller]
    #[inline]
    fn known_mut(&mut self, id: ObjId) -> &mut Record {
        match self.objects.get_mut(id.index()) {
            Some(Some(record)) if record.id == id => record,
            _ => unknown(id),
        }
    }

    /// Counts one mutator operation, for [`moment`](Heap::moment).
    pub(crate) fn count_mutator_op(&mut self) {
        let now = (self.cycles, self.stats.steps, self.phase);
        if self.since.0 != now {
            self.since = (now, 0);
        }
        self.since.1 += 1;
    }
}

#[track_caller]
fn unknown(id: ObjId) -> ! {
    panic!(
        "{id:?} names no object of this heap (was it made by another heap, or swept and its \
         slot reused?)"
    )
}
