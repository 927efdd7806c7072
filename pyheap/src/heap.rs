//! The [`Heap`] itself: a table of slots that objects live in, the constructors that fill them,
//! the lookups that read them, the registered classes and the event log.
//!
//! ```text
//!   slots:  [0] #0 None  [1] #1 ()  [2] free (was #3, a list)  [3] #2 dict  [4] #4 str
//!   free:   [2]          the next object goes into slot 2, with the slot's generation bumped
//! ```
//!
//! Freed slots are reused last-freed-first. Every reuse bumps the slot's generation, so an
//! [`ObjId`] kept past its object's death panics with a message naming the dead object.
//!
//! A new heap holds two objects it never lets go of: `None` (serial 0, [`Heap::none`]) and the
//! empty tuple (serial 1), both singletons as in CPython, both untracked.
//!
//! Constructors return a **new reference** (count 1, yours to [`decref`](Heap::decref) or hand
//! on). Each GC object's allocation adds one to `count0` ([`Heap::gc_counts`]), tracked or not,
//! unless a free list served it (see [`crate::allocation`]). Lists, tuples, instances and weakrefs
//! are tracked at creation (tail of generation 0); dicts start untracked (`PyDict_New`), and atoms
//! are never tracked.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::allocation::{FreeList, FreeLists, GcLink, NoGc};
use crate::behaviour::{Class, ClassId, Event, Finalizer};
use crate::gc_lists::{GcList, ListHead};
use crate::object::{Head, Kind, ObjId, Object, WeakList};
use crate::runtime::Runtime;

/// A heap of Python objects with reference counts and GC headers, like CPython 3.11's. The
/// methods are the C API's operations (`Py_INCREF`, `Py_DECREF`, `PyList_Append`, ...) and the
/// statements' (`x = []`, `del x`), with the C API's ownership rules (see [`crate::names`]).
///
/// When the heap is dropped, the names still bound are deleted (running finalizers and
/// callbacks); whatever is still alive after that, reference cycles, leaks.
pub struct Heap {
    /// The header of each slot (its generation, and the object's count and GC links): an
    /// [`ObjId`] is an index into this table plus the slot's generation.
    pub(crate) heads: Vec<Head>,
    /// What each slot holds, at the same index: a live object's body, or what is remembered of
    /// the last object that lived there.
    pub(crate) bodies: Bodies,
    /// Indices of free slots, the most recently freed last (it is reused first).
    pub(crate) free: Vec<u32>,
    /// The top-level names (the module's globals), each holding one reference.
    pub(crate) names: BTreeMap<String, ObjId>,
    /// The arguments of the calls in progress, innermost last; each holds one reference.
    pub(crate) frames: Vec<Vec<ObjId>>,
    /// The serial number the next object gets.
    pub(crate) next_serial: u64,
    /// How many objects were destroyed so far.
    pub(crate) destroyed: u64,
    /// The registered classes, indexed by [`ClassId`].
    pub(crate) classes: Vec<Class>,
    /// What happened, in order.
    pub(crate) events: Vec<Event>,
    /// Whether [`events`](Heap::events) is kept (see [`Heap::set_event_log`]).
    pub(crate) log_events: bool,
    /// The GC list heads, indexed by [`GcList`]: the four built-in ones, then collectors'.
    pub(crate) lists: Vec<ListHead>,
    /// Which list each tag stands for (see the [`gc_lists`](crate::gc_lists) module).
    pub(crate) tags: Vec<GcList>,
    /// Tags no object and no list uses any more, to be used again.
    pub(crate) free_tags: Vec<u32>,
    /// How many live objects of the kinds a collector may skip a pass for there are.
    pub(crate) census: Census,
    /// The explicit stack of [`decref`](Heap::decref)'s cascade, kept between cascades so that
    /// a death does not allocate one (see the [`death`](crate::death) module).
    pub(crate) pending: Vec<ObjId>,
    /// `gc.get_count()`.
    pub(crate) gc_counts: [usize; 3],
    /// How many objects CPython's free lists hold, or `None` for a heap without them (see
    /// [`crate::allocation`]).
    pub(crate) free_lists: Option<FreeLists>,
    /// The `None` singleton (the heap holds one reference to it).
    pub(crate) none: ObjId,
    /// The empty tuple singleton (the heap holds one reference to it).
    pub(crate) empty_tuple: ObjId,
    /// What runs [`Action::Call`](crate::Action::Call) (see [`crate::runtime`]).
    pub(crate) runtime: Option<Rc<dyn Runtime>>,
}

/// What a slot holds: 64 bytes, a cache line (see [`Bodies`]).
pub(crate) enum Entry {
    /// A live object.
    Live(Object),
    /// Nothing: the last object here was destroyed (its serial and type kept for messages).
    Free {
        /// The serial of the object that was destroyed.
        serial: u64,
        /// Its type, for "a list", "an int", ...
        what: What,
    },
}

const _: () = assert!(
    std::mem::size_of::<Entry>() == 64,
    "a body is one cache line, live or free"
);

/// One [`Entry`], aligned to a cache line. (`#[repr(align)]` on `Entry` itself would cost it the
/// spare values of `Kind` that tell a free slot from a live one, and double its size.)
#[repr(align(64))]
pub(crate) struct Line(Entry);

/// The table of bodies: [`Entry`]s, each on a cache line of its own, so that reading an object
/// reads one line, never two. A collector reads a million of them in a pass; before bodies were
/// 64 bytes and aligned, each one read took two lines (72 bytes, from an address `malloc` had
/// aligned to 16). Used as a `Vec<Entry>`.
#[derive(Default)]
pub(crate) struct Bodies(Vec<Line>);

impl Bodies {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&Entry> {
        self.0.get(index).map(|line| &line.0)
    }

    pub(crate) fn push(&mut self, entry: Entry) {
        self.0.push(Line(entry));
    }

    /// The first body's line, for prefetching.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *const Line {
        self.0.as_ptr()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter().map(|line| &line.0)
    }
}

impl std::ops::Index<usize> for Bodies {
    type Output = Entry;

    #[inline]
    fn index(&self, index: usize) -> &Entry {
        &self.0[index].0
    }
}

impl std::ops::IndexMut<usize> for Bodies {
    #[inline]
    fn index_mut(&mut self, index: usize) -> &mut Entry {
        &mut self.0[index].0
    }
}

/// Which census count an object of `kind` is in, if any.
fn census_field(classes: &[Class], kind: &Kind) -> Option<CensusField> {
    match kind {
        Kind::Tuple(items) if !items.is_empty() => Some(CensusField::Tuples),
        Kind::Dict { .. } => Some(CensusField::Dicts),
        Kind::WeakRef { .. } => Some(CensusField::WeakRefs),
        Kind::Instance { class, .. } if classes[class.0 as usize].finalizer.is_some() => {
            Some(CensusField::Finalizable)
        }
        _ => None,
    }
}

/// One of the census's counts (see [`Heap::tuple_count`] and the others).
#[derive(Clone, Copy)]
enum CensusField {
    Tuples,
    Dicts,
    WeakRefs,
    Finalizable,
}

/// The type of an object, remembered after its death for the messages that name it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum What {
    None,
    Int,
    Str,
    List,
    Tuple,
    Dict,
    WeakRef,
    Instance(ClassId),
}

impl What {
    /// The type of an object that holds `kind`.
    pub(crate) fn of(kind: &Kind) -> What {
        match kind {
            Kind::None => What::None,
            Kind::Int(_) => What::Int,
            Kind::Str(_) => What::Str,
            Kind::List(_) => What::List,
            Kind::Tuple(_) => What::Tuple,
            Kind::Dict { .. } => What::Dict,
            Kind::WeakRef { .. } => What::WeakRef,
            Kind::Instance { class, .. } => What::Instance(*class),
        }
    }
}

/// How many live objects of each kind a collector's pass may look for there are, kept as objects
/// are made and destroyed, so that "is there any?" costs nothing when the answer is no (see
/// [`Heap::tuple_count`] and the others).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Census {
    /// Tuples other than the empty one (which is never tracked).
    pub(crate) tuples: usize,
    /// Dicts.
    pub(crate) dicts: usize,
    /// Weakref objects.
    pub(crate) weakrefs: usize,
    /// Instances of a class with a `__del__`.
    pub(crate) finalizable: usize,
}

impl Census {
    /// The count `field` names.
    fn count_mut(&mut self, field: CensusField) -> &mut usize {
        match field {
            CensusField::Tuples => &mut self.tuples,
            CensusField::Dicts => &mut self.dicts,
            CensusField::WeakRefs => &mut self.weakrefs,
            CensusField::Finalizable => &mut self.finalizable,
        }
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

impl Heap {
    /// An empty heap: only `None` (serial 0) and the empty tuple (serial 1), no names, no
    /// classes, empty generations, counts `[0, 0, 0]`.
    pub fn new() -> Self {
        let placeholder = ObjId {
            index: 0,
            generation: 0,
        };
        let mut heap = Heap {
            heads: Vec::new(),
            bodies: Bodies::default(),
            free: Vec::new(),
            names: BTreeMap::new(),
            frames: Vec::new(),
            next_serial: 0,
            destroyed: 0,
            classes: Vec::new(),
            events: Vec::new(),
            log_events: true,
            lists: Vec::new(),
            tags: Vec::new(),
            free_tags: Vec::new(),
            census: Census::default(),
            pending: Vec::new(),
            gc_counts: [0; 3],
            free_lists: None,
            none: placeholder,
            empty_tuple: placeholder,
            runtime: None,
        };
        for _ in 0..GcList::BUILT_IN {
            heap.gc_list_new_head();
        }
        heap.none = heap.alloc(Kind::None, &mut NoGc);
        // CPython 3.11's empty tuple is statically allocated: it never counts as an allocation
        // and is never tracked.
        heap.empty_tuple = heap.alloc(Kind::Tuple(crate::object::Items::new()), &mut NoGc);
        heap.gc_counts[0] = 0;
        heap
    }

    // Classes and events.

    /// `class name: ...`: registers a class, with a `__del__` or without. Classes are not heap
    /// objects (CPython's are, and each instance holds a reference to its class).
    pub fn new_class(&mut self, name: &str, finalizer: Option<Finalizer>) -> ClassId {
        let id = ClassId(u32::try_from(self.classes.len()).expect("too many classes"));
        self.classes.push(Class {
            name: name.to_string(),
            finalizer,
        });
        id
    }

    /// The class `class` names.
    pub fn class(&self, class: ClassId) -> &Class {
        &self.classes[class.0 as usize]
    }

    /// Everything observable that happened so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Hands over the events so far and starts a new log.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Keeps the event log ([`events`](Heap::events)), or stops keeping it. A new heap keeps it:
    /// the tests read it. A program that never reads it, such as a benchmark, turns it off, and
    /// then a death costs no push to a log that would grow by one entry per object freed (64 MB
    /// in a collection of two million objects). CPython keeps no such log.
    pub fn set_event_log(&mut self, on: bool) {
        self.log_events = on;
    }

    /// Appends `event` to the log, if the heap keeps one.
    #[inline]
    pub(crate) fn log(&mut self, event: Event) {
        if self.log_events {
            self.events.push(event);
        }
    }

    /// How many tuples are alive, the empty tuple aside (it is never tracked). Like the other
    /// counts below it costs nothing, so a collector can skip a pass over a list when the count
    /// says there is nothing for it there.
    pub fn tuple_count(&self) -> usize {
        self.census.tuples
    }

    /// How many dicts are alive.
    pub fn dict_count(&self) -> usize {
        self.census.dicts
    }

    /// How many weakref objects are alive. When it is 0, no object has a weakref to it.
    pub fn weakref_count(&self) -> usize {
        self.census.weakrefs
    }

    /// How many live objects have a `tp_finalize` ([`has_finalizer`](Heap::has_finalizer)): the
    /// instances of classes with a `__del__`, finalized or not.
    pub fn finalizer_count(&self) -> usize {
        self.census.finalizable
    }

    /// Counts a new object of `kind` in the census (`by` is 1), or a destroyed one (`by` is -1).
    fn census_add(&mut self, kind: &Kind, by: isize) {
        if let Some(field) = census_field(&self.classes, kind) {
            let counter = self.census.count_mut(field);
            *counter = counter.wrapping_add_signed(by);
        }
    }

    // Allocation and release of slots.

    /// Puts a new object with count 1 into a free slot (the most recently freed) or a new one,
    /// untracked. A GC object not served by a free list is counted (`_PyObject_GC_Link`:
    /// `count0 += 1`), then `gc` is called, with the new object in its slot and not yet tracked
    /// (see [`crate::allocation`]).
    pub(crate) fn alloc(&mut self, kind: Kind, gc: &mut dyn GcLink) -> ObjId {
        let counted = kind.is_gc() && !self.take_from_free_list(&kind);
        let id = self.place(kind);
        if counted {
            self.gc_counts[0] += 1;
            gc.gc_link(self);
        }
        id
    }

    /// Puts a new object with count 1 into a slot.
    fn place(&mut self, kind: Kind) -> ObjId {
        self.census_add(&kind, 1);
        let mut object = Object {
            serial: self.next_serial,
            kind,
            weakrefs: WeakList::default(),
            generation: 0,
        };
        self.next_serial += 1;
        match self.free.pop() {
            Some(index) => {
                let head = &mut self.heads[index as usize];
                *head = Head::new(head.generation);
                object.generation = head.generation;
                self.bodies[index as usize] = Entry::Live(object);
                ObjId {
                    index,
                    generation: head.generation,
                }
            }
            None => {
                // NIL (u32::MAX) is never a slot: it ends the GC lists.
                let index = u32::try_from(self.heads.len())
                    .ok()
                    .filter(|&index| index != crate::object::NIL)
                    .expect("the heap is full: it has 2^32 - 1 slots, the most an ObjId can name");
                self.heads.push(Head::new(0));
                self.bodies.push(Entry::Live(object));
                ObjId {
                    index,
                    generation: 0,
                }
            }
        }
    }

    /// Frees the slot of `id`, whose count is 0 and which is untracked, logs
    /// [`Event::Destroyed`], puts a list, dict or small tuple on its free list if there is room,
    /// or else uncounts a GC object (`PyObject_GC_Del`: `count0 -= 1`, clamped at 0), and pushes
    /// what the object held onto the heap's `pending` stack, whose top is the next reference to
    /// release (see [`Kind::push_references`]): those references are now the caller's. Releases
    /// nothing itself, so it never cascades.
    #[inline(always)]
    pub(crate) fn release_slot(&mut self, id: ObjId) {
        debug_assert_eq!(
            self.refcount(id),
            0,
            "only an object at count 0 is destroyed"
        );
        debug_assert!(!self.is_tracked(id), "a tracked object is never freed");
        // Its only caller, a death, has checked the handle.
        debug_assert!(self.is_alive(id), "a death checks the handle");
        let index = id.index();
        // This runs once per object freed. The body is read where it lies and its references
        // copied straight onto `pending`: a `Kind` moved out and handed from call to call cost
        // more than the rest of a death together.
        let entry = &mut self.bodies[index];
        let Entry::Live(object) = entry else {
            unreachable!("the death checked the slot")
        };
        let serial = object.serial;
        if let Kind::List(items) = &object.kind {
            // The most common death, spelled out on a path of its own: a copy of the items as
            // they lie, and the facts of a list known without asking `Kind`.
            match items.as_slice() {
                // A chain's link: one push, without `extend`'s reserve and loop, which took
                // 40 instructions where this takes a handful (callgrind, `b_ring`).
                &[only] => self.pending.push(only),
                // Most others hold two or three: a loop, not a call to memcpy.
                many => self.pending.extend(many.iter().copied()),
            }
            let owns_memory = items.spilled() || object.weakrefs.was_used();
            let free = Entry::Free {
                serial,
                what: What::List,
            };
            if owns_memory {
                // Drops what is left of the body where it lies.
                *entry = free;
            } else {
                // A list whose items lie in the object and which never had a weakref owns no
                // memory elsewhere: overwriting it without running its drop code frees all it
                // had, and skips the walk through `Kind`'s variants that the drop code makes
                // (about 40 instructions of the 230 a death took, counted by callgrind on
                // `b_ring`).
                std::mem::forget(std::mem::replace(entry, free));
            }
            if !self.put_on_free_list(Some(FreeList::List)) {
                self.gc_counts[0] = self.gc_counts[0].saturating_sub(1);
            }
        } else {
            let kind = &mut object.kind;
            let (what, gc, free_list, census) = (
                What::of(kind),
                kind.is_gc(),
                FreeList::of(kind),
                census_field(&self.classes, kind),
            );
            kind.push_references(&mut self.pending);
            // Drops what is left of the body (an emptied container) where it lies.
            *entry = Entry::Free { serial, what };
            if gc && !self.put_on_free_list(free_list) {
                self.gc_counts[0] = self.gc_counts[0].saturating_sub(1);
            }
            if let Some(field) = census {
                *self.census.count_mut(field) -= 1;
            }
        }
        self.log(Event::Destroyed(serial));
        let head = &mut self.heads[index];
        head.flags = 0;
        // Every handle to the dead object stops matching. A slot whose generation reaches
        // u32::MAX is retired rather than reused, so that no handle ever has that generation:
        // comparing generations is then the whole check of a handle.
        head.generation += 1;
        if head.generation != u32::MAX {
            self.free.push(id.index);
        }
        self.destroyed += 1;
    }

    // Constructors. Each returns a NEW reference.

    /// `Py_None`: the `None` singleton, as a **borrowed** reference (the heap holds one forever;
    /// [`incref`](Heap::incref) it to store it, as `Py_RETURN_NONE` does).
    #[inline]
    pub fn none(&self) -> ObjId {
        self.none
    }

    /// `PyLong_FromLong(value)`: a new int. Returns a new reference.
    pub fn new_int(&mut self, value: i64) -> ObjId {
        self.alloc(Kind::Int(value), &mut NoGc)
    }

    /// `PyUnicode_FromString(value)`: a new str. Returns a new reference.
    pub fn new_str(&mut self, value: &str) -> ObjId {
        self.alloc(Kind::Str(value.to_string()), &mut NoGc)
    }

    /// `PyList_New(0)`: a new empty list, tracked. Returns a new reference.
    pub fn new_list(&mut self) -> ObjId {
        self.new_list_with(&mut NoGc)
    }

    /// `PyTuple_Pack(n, items...)`: a new tuple of `items` (borrowed: the tuple takes a
    /// reference to each), tracked whatever it holds (`PyTuple_New`; untracking is
    /// [`maybe_untrack_tuple`](Heap::maybe_untrack_tuple)'s job, during collections). With no
    /// items it is the empty-tuple singleton, never tracked, and nothing is allocated. Returns a
    /// new reference.
    pub fn new_tuple(&mut self, items: &[ObjId]) -> ObjId {
        self.new_tuple_with(items, &mut NoGc)
    }

    /// `PyDict_New()`: a new empty dict, **untracked** until something that may be tracked is
    /// inserted (see [`dict_set`](Heap::dict_set)). Returns a new reference.
    pub fn new_dict(&mut self) -> ObjId {
        self.new_dict_with(&mut NoGc)
    }

    /// `class()` for a class with no `__init__`: a new instance with no attributes, tracked.
    /// Returns a new reference.
    pub fn new_instance(&mut self, class: ClassId) -> ObjId {
        self.new_instance_with(class, &mut NoGc)
    }

    // Lookups. None of them changes a count.

    /// Whether `id` names a live object.
    #[inline]
    pub fn is_alive(&self, id: ObjId) -> bool {
        self.heads
            .get(id.index())
            .is_some_and(|head| head.generation == id.generation && head.is_live())
    }

    /// [`is_alive`](Heap::is_alive) for a handle this heap made, as every handle is: a slot's
    /// generation changes when its object dies, and a retired slot's is one no handle has (see
    /// `release_slot`), so the generation alone tells. The checks of every access use it.
    #[inline]
    fn names_live(&self, id: ObjId) -> bool {
        let live = self
            .heads
            .get(id.index())
            .is_some_and(|head| head.generation == id.generation);
        debug_assert!(!live || self.heads[id.index()].is_live());
        live
    }

    /// The header of the live object `id` names: its count and GC links.
    #[inline]
    #[track_caller]
    pub(crate) fn header(&self, id: ObjId) -> &Head {
        match self.heads.get(id.index()) {
            // The generation alone tells (see `names_live`).
            Some(head) if head.generation == id.generation => {
                debug_assert!(head.is_live(), "a handle's generation matches a free slot");
                head
            }
            _ => self.stale(id),
        }
    }

    /// The header of the live object `id` names, mutably.
    #[inline]
    #[track_caller]
    pub(crate) fn header_mut(&mut self, id: ObjId) -> &mut Head {
        if !self.names_live(id) {
            self.stale(id)
        }
        &mut self.heads[id.index()]
    }

    /// The live object `id` names (its body: serial, contents, weakrefs).
    ///
    /// # Panics
    /// If the object was destroyed (a decref too many, or a borrowed reference kept too long).
    #[inline]
    #[track_caller]
    pub fn object(&self, id: ObjId) -> &Object {
        // The body's copy of the generation checks the handle: the header is not read.
        match self.bodies.get(id.index()) {
            Some(Entry::Live(object)) if object.generation == id.generation => {
                debug_assert!(self.names_live(id), "a body's generation is its header's");
                object
            }
            _ => self.stale(id),
        }
    }

    /// The live object `id` names, mutably.
    #[inline]
    #[track_caller]
    pub(crate) fn object_mut(&mut self, id: ObjId) -> &mut Object {
        let live = matches!(self.bodies.get(id.index()),
            Some(Entry::Live(object)) if object.generation == id.generation);
        if !live {
            self.stale(id)
        }
        debug_assert!(self.names_live(id), "a body's generation is its header's");
        match &mut self.bodies[id.index()] {
            Entry::Live(object) => object,
            Entry::Free { .. } => unreachable!("the handle was checked"),
        }
    }

    /// What `id` is and holds.
    #[track_caller]
    #[inline]
    pub fn kind(&self, id: ObjId) -> &Kind {
        &self.object(id).kind
    }

    /// `Py_REFCNT(id)`: the reference count, exactly.
    #[track_caller]
    #[inline]
    pub fn refcount(&self, id: ObjId) -> usize {
        self.header(id).refcount as usize
    }

    /// The creation number of `id` (see [`Object::serial`]).
    #[track_caller]
    #[inline]
    pub fn serial(&self, id: ObjId) -> u64 {
        self.object(id).serial
    }

    /// `type(id).__name__`: `NoneType`, `int`, `str`, `list`, `tuple`, `dict`, `weakref` (as
    /// `weakref.ref` prints itself: `weakref.ReferenceType`), or the class name.
    #[track_caller]
    pub fn type_name(&self, id: ObjId) -> &str {
        match self.kind(id) {
            Kind::None => "NoneType",
            Kind::Int(_) => "int",
            Kind::Str(_) => "str",
            Kind::List(_) => "list",
            Kind::Tuple(_) => "tuple",
            Kind::Dict { .. } => "dict",
            Kind::Instance { class, .. } => &self.class(*class).name,
            Kind::WeakRef { .. } => "weakref",
        }
    }

    /// `PyObject_IS_GC(id)`: whether it is a container type the collector can track.
    #[track_caller]
    #[inline]
    pub fn is_gc(&self, id: ObjId) -> bool {
        self.kind(id).is_gc()
    }

    /// `"an int"`, `"a list"`, `"a 'Point' instance"`: how messages name a type.
    pub(crate) fn with_article(&self, id: ObjId) -> Cow<'static, str> {
        self.article(What::of(self.kind(id)))
    }

    /// `"an int"`, `"a list"`, `"a 'Point' instance"`: how messages name the type `what`.
    pub(crate) fn article(&self, what: What) -> Cow<'static, str> {
        match what {
            What::None => Cow::Borrowed("None"),
            What::Int => Cow::Borrowed("an int"),
            What::Str => Cow::Borrowed("a str"),
            What::List => Cow::Borrowed("a list"),
            What::Tuple => Cow::Borrowed("a tuple"),
            What::Dict => Cow::Borrowed("a dict"),
            What::WeakRef => Cow::Borrowed("a weakref"),
            What::Instance(class) => Cow::Owned(format!("a '{}' instance", self.class(class).name)),
        }
    }

    /// `"object #3 (a list)"`: how messages name an object.
    pub(crate) fn describe(&self, id: ObjId) -> String {
        format!("object #{} ({})", self.serial(id), self.with_article(id))
    }

    /// Panics with a message saying why `id` names no live object.
    #[track_caller]
    pub(crate) fn stale(&self, id: ObjId) -> ! {
        let advice = "a decref too many, or a borrowed reference used after its owner let go";
        match (self.heads.get(id.index()), self.bodies.get(id.index())) {
            (Some(head), Some(Entry::Free { serial, what }))
                if last_occupant(id, head.generation) =>
            {
                panic!(
                    "object #{serial} ({}) was already destroyed: {advice}",
                    self.article(*what)
                )
            }
            (Some(head), _) if id.generation < head.generation => panic!(
                "object {id:?} was already destroyed, and its slot has been reused since: {advice}"
            ),
            _ => panic!(
                "{id:?} names no object of this heap: was it made by another heap? (this heap \
                 has {} slots)",
                self.heads.len()
            ),
        }
    }

    /// Every live object, in slot order (not creation order: slots are reused).
    pub fn objects(&self) -> impl Iterator<Item = (ObjId, &Object)> + '_ {
        self.heads
            .iter()
            .zip(self.bodies.iter())
            .enumerate()
            .filter_map(|(index, (head, body))| match body {
                Entry::Live(object) => Some((
                    ObjId {
                        index: index as u32,
                        generation: head.generation,
                    },
                    object,
                )),
                Entry::Free { .. } => None,
            })
    }

    // Statistics.

    /// How many objects are alive now (`None` and the empty tuple included).
    pub fn live_objects(&self) -> usize {
        (self.next_serial - self.destroyed) as usize
    }

    /// How many objects were ever allocated (`None` and the empty tuple included).
    pub fn allocated_count(&self) -> u64 {
        self.next_serial
    }

    /// How many objects were destroyed so far.
    pub fn destroyed_count(&self) -> u64 {
        self.destroyed
    }
}

/// Shows the [`dump`](Heap::dump).
impl fmt::Debug for Heap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dump())
    }
}

/// Whether `id` names the last object that lived in a slot now at `generation`.
pub(crate) fn last_occupant(id: ObjId, generation: u32) -> bool {
    id.generation.checked_add(1) == Some(generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four billion deaths in one slot would take too long; the slot is put near the end of its
    /// generations by hand instead.
    #[test]
    fn a_slot_whose_generation_reaches_the_top_is_retired_and_its_handles_stay_stale() {
        let mut heap = Heap::new();
        let first = heap.new_list();
        heap.heads[first.index()].generation = u32::MAX - 1;
        let last = ObjId {
            index: first.index,
            generation: u32::MAX - 1,
        };
        assert!(heap.is_alive(last) && !heap.is_alive(first));
        heap.decref(last);
        assert!(!heap.is_alive(last), "the last occupant's handle is stale");
        assert_eq!(heap.heads[last.index()].generation, u32::MAX);
        let stale = ObjId {
            index: last.index,
            generation: u32::MAX,
        };
        // The heap never makes such a handle; were one forged, `is_alive` would still say no.
        assert!(!heap.is_alive(stale), "a retired slot holds no object");
        let next = heap.new_list();
        assert_ne!(next.index, last.index, "a retired slot is never reused");
        heap.check_invariants().unwrap();
    }
}
