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
use crate::gc_lists::{GcHead, GcList, ListHead};
use crate::object::{Kind, ObjId, Object};
use crate::runtime::Runtime;

/// A heap of Python objects with reference counts and GC headers, like CPython 3.11's. The
/// methods are the C API's operations (`Py_INCREF`, `Py_DECREF`, `PyList_Append`, ...) and the
/// statements' (`x = []`, `del x`), with the C API's ownership rules (see [`crate::names`]).
///
/// When the heap is dropped, the names still bound are deleted (running finalizers and
/// callbacks); whatever is still alive after that, reference cycles, leaks.
pub struct Heap {
    /// Where objects live; an [`ObjId`] is an index into this table plus the slot's generation.
    pub(crate) slots: Vec<Slot>,
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
    /// The GC list heads, indexed by [`GcList`]: the four built-in ones, then collectors'.
    pub(crate) lists: Vec<ListHead>,
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

/// One entry of the slot table.
pub(crate) struct Slot {
    /// Bumped each time the slot is freed, so old handles to it stop matching.
    pub(crate) generation: u32,
    /// The object, or what is remembered of the last one that lived here.
    pub(crate) entry: Entry,
}

/// What a slot holds.
pub(crate) enum Entry {
    /// A live object.
    Live(Object),
    /// Nothing: the last object here was destroyed (its serial and type kept for messages).
    Free {
        /// The serial of the object that was destroyed.
        serial: u64,
        /// "a list", "an int", ...
        what: Cow<'static, str>,
    },
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
            slots: Vec::new(),
            free: Vec::new(),
            names: BTreeMap::new(),
            frames: Vec::new(),
            next_serial: 0,
            destroyed: 0,
            classes: Vec::new(),
            events: Vec::new(),
            lists: vec![
                ListHead {
                    in_use: true,
                    ..ListHead::default()
                };
                GcList::BUILT_IN
            ],
            gc_counts: [0; 3],
            free_lists: None,
            none: placeholder,
            empty_tuple: placeholder,
            runtime: None,
        };
        heap.none = heap.alloc(Kind::None, &mut NoGc);
        // CPython 3.11's empty tuple is statically allocated: it never counts as an allocation
        // and is never tracked.
        heap.empty_tuple = heap.alloc(Kind::Tuple(Vec::new()), &mut NoGc);
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
        let object = Object {
            refcount: 1,
            serial: self.next_serial,
            kind,
            gc: GcHead::default(),
            weakrefs: Vec::new(),
        };
        self.next_serial += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.entry = Entry::Live(object);
                ObjId {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = u32::try_from(self.slots.len())
                    .expect("the heap is full: it has 2^32 slots, the most an ObjId can name");
                self.slots.push(Slot {
                    generation: 0,
                    entry: Entry::Live(object),
                });
                ObjId {
                    index,
                    generation: 0,
                }
            }
        }
    }

    /// Frees the slot of `id`, whose count is 0 and which is untracked, logs
    /// [`Event::Destroyed`], puts a list, dict or small tuple on its free list if there is room,
    /// or else uncounts a GC object (`PyObject_GC_Del`: `count0 -= 1`, clamped at 0), and returns
    /// what the object held: the references in that [`Kind`] are now the caller's to release.
    /// Releases nothing itself, so it never cascades.
    pub(crate) fn release_slot(&mut self, id: ObjId) -> Kind {
        let object = self.object(id);
        debug_assert_eq!(object.refcount, 0, "only an object at count 0 is destroyed");
        debug_assert!(object.gc.list.is_none(), "a tracked object is never freed");
        let (serial, what, gc) = (object.serial, self.with_article(id), object.kind.is_gc());
        let free_list = FreeList::of(&object.kind);
        if gc && !self.put_on_free_list(free_list) {
            self.gc_counts[0] = self.gc_counts[0].saturating_sub(1);
        }
        self.events.push(Event::Destroyed(serial));
        let slot = &mut self.slots[id.index()];
        let Entry::Live(object) = std::mem::replace(&mut slot.entry, Entry::Free { serial, what })
        else {
            unreachable!("object() checked the slot")
        };
        // A slot whose generation would wrap around is retired rather than reused.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(id.index);
        }
        self.destroyed += 1;
        object.kind
    }

    // Constructors. Each returns a NEW reference.

    /// `Py_None`: the `None` singleton, as a **borrowed** reference (the heap holds one forever;
    /// [`incref`](Heap::incref) it to store it, as `Py_RETURN_NONE` does).
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
    pub fn is_alive(&self, id: ObjId) -> bool {
        matches!(
            self.slots.get(id.index()),
            Some(Slot { generation, entry: Entry::Live(_) }) if *generation == id.generation
        )
    }

    /// The live object `id` names.
    ///
    /// # Panics
    /// If the object was destroyed (a decref too many, or a borrowed reference kept too long).
    #[track_caller]
    pub fn object(&self, id: ObjId) -> &Object {
        match self.slots.get(id.index()) {
            Some(Slot {
                generation,
                entry: Entry::Live(object),
            }) if *generation == id.generation => object,
            _ => self.stale(id),
        }
    }

    /// The live object `id` names, mutably.
    #[track_caller]
    pub(crate) fn object_mut(&mut self, id: ObjId) -> &mut Object {
        if !self.is_alive(id) {
            self.stale(id)
        }
        match &mut self.slots[id.index()].entry {
            Entry::Live(object) => object,
            Entry::Free { .. } => unreachable!("is_alive checked the slot"),
        }
    }

    /// What `id` is and holds.
    #[track_caller]
    pub fn kind(&self, id: ObjId) -> &Kind {
        &self.object(id).kind
    }

    /// `Py_REFCNT(id)`: the reference count, exactly.
    #[track_caller]
    pub fn refcount(&self, id: ObjId) -> usize {
        self.object(id).refcount
    }

    /// The creation number of `id` (see [`Object::serial`]).
    #[track_caller]
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
    pub fn is_gc(&self, id: ObjId) -> bool {
        self.kind(id).is_gc()
    }

    /// `"an int"`, `"a list"`, `"a 'Point' instance"`: how messages name a type.
    pub(crate) fn with_article(&self, id: ObjId) -> Cow<'static, str> {
        match self.kind(id) {
            Kind::None => Cow::Borrowed("None"),
            Kind::Int(_) => Cow::Borrowed("an int"),
            Kind::Str(_) => Cow::Borrowed("a str"),
            Kind::List(_) => Cow::Borrowed("a list"),
            Kind::Tuple(_) => Cow::Borrowed("a tuple"),
            Kind::Dict { .. } => Cow::Borrowed("a dict"),
            Kind::WeakRef { .. } => Cow::Borrowed("a weakref"),
            Kind::Instance { class, .. } => {
                Cow::Owned(format!("a '{}' instance", self.class(*class).name))
            }
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
        match self.slots.get(id.index()) {
            Some(Slot {
                generation,
                entry: Entry::Free { serial, what },
            }) if last_occupant(id, *generation) => {
                panic!("object #{serial} ({what}) was already destroyed: {advice}")
            }
            Some(slot) if id.generation < slot.generation => panic!(
                "object {id:?} was already destroyed, and its slot has been reused since: {advice}"
            ),
            _ => panic!(
                "{id:?} names no object of this heap: was it made by another heap? (this heap \
                 has {} slots)",
                self.slots.len()
            ),
        }
    }

    /// Every live object, in slot order (not creation order: slots are reused).
    pub fn objects(&self) -> impl Iterator<Item = (ObjId, &Object)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match &slot.entry {
                Entry::Live(object) => Some((
                    ObjId {
                        index: index as u32,
                        generation: slot.generation,
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
    id.generation.checked_add(1) == Some(generation) || id.generation == u32::MAX
}
