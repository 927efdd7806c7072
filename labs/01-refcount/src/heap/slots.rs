//! The [`Heap`] itself: a table of slots that objects live in, the constructors that fill them,
//! the lookups that read them, and the counters that summarise them.
//!
//! ```text
//!   slots:  [0] live #0 int   [1] free (was #1, a list)   [2] live #3 dict   [3] live #2 str
//!   free:   [1]               the next object goes into slot 1, with its generation bumped
//! ```
//!
//! Freed slots are reused last-freed-first, as a free list is. Every reuse bumps the slot's
//! generation, so an [`ObjId`] kept past its object's death points at the right slot with the
//! wrong generation, and every lookup through it panics with a message naming the dead object.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::hooks::HeapHooks;
use super::object::{Kind, ObjId, Object};

/// A heap of Python objects with reference counts, like CPython's: the methods are the C API's
/// operations (`Py_INCREF`, `Py_DECREF`, `PyList_Append`, ...), and the ownership rules are the C
/// API's (see the module docs).
///
/// `H` observes allocations and deallocations (see [`HeapHooks`]); a plain `Heap` observes nothing.
/// When the heap is dropped, the names still bound are deleted, which destroys what only they kept
/// alive; whatever is still alive after that (reference cycles) leaks, and is never destroyed.
pub struct Heap<H: HeapHooks = ()> {
    /// Where objects live; an [`ObjId`] is an index into this table plus the slot's generation.
    pub(super) slots: Vec<Slot>,
    /// Indices of free slots, the most recently freed last (it is reused first).
    pub(super) free: Vec<u32>,
    /// The top-level names (the module's globals), each holding one reference to its object.
    pub(super) names: BTreeMap<String, ObjId>,
    /// The arguments of the calls in progress, innermost last; each holds one reference.
    pub(super) frames: Vec<Vec<ObjId>>,
    /// The serial number the next object gets (= how many objects were ever allocated).
    pub(super) next_serial: u64,
    /// How many objects were destroyed so far.
    pub(super) destroyed: u64,
    /// The observer of allocations and deallocations.
    pub(super) hooks: H,
}

/// One entry of the slot table.
pub(super) struct Slot {
    /// Bumped each time the slot is freed, so old handles to it stop matching.
    pub(super) generation: u32,
    /// The object, or what is remembered of the last one that lived here.
    pub(super) entry: Entry,
}

/// What a slot holds.
pub(super) enum Entry {
    /// A live object.
    Live(Object),
    /// Nothing: the last object here was destroyed. Its serial and type are kept for the message
    /// shown when a stale handle is used.
    Free {
        /// The serial of the object that was destroyed.
        serial: u64,
        /// "a list", "the int 7", ...
        what: Cow<'static, str>,
    },
}

impl Heap {
    /// An empty heap that observes nothing.
    pub fn new() -> Self {
        Self::with_hooks(())
    }
}

impl<H: HeapHooks + Default> Default for Heap<H> {
    fn default() -> Self {
        Self::with_hooks(H::default())
    }
}

impl<H: HeapHooks> Heap<H> {
    /// An empty heap that reports every allocation and deallocation to `hooks`.
    pub fn with_hooks(hooks: H) -> Self {
        Heap {
            slots: Vec::new(),
            free: Vec::new(),
            names: BTreeMap::new(),
            frames: Vec::new(),
            next_serial: 0,
            destroyed: 0,
            hooks,
        }
    }

    /// The observer.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// The observer, mutably (a collector keeps its lists there).
    pub fn hooks_mut(&mut self) -> &mut H {
        &mut self.hooks
    }

    // Allocation and release of slots.

    /// Puts a new object with count 1 into a free slot (the most recently freed one) or a new one,
    /// tells the hooks, and returns its handle: a new reference, owned by the caller.
    pub(super) fn alloc(&mut self, kind: Kind) -> ObjId {
        let object = Object {
            refcount: 1,
            serial: self.next_serial,
            kind,
        };
        self.next_serial += 1;
        let id = match self.free.pop() {
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
        };
        let Entry::Live(object) = &self.slots[id.index()].entry else {
            unreachable!("the slot was filled a moment ago")
        };
        self.hooks.allocated(id, object);
        id
    }

    /// Destroys the object `id` names, whose count has just reached zero: tells the hooks, frees
    /// the slot (bumping its generation, so `id` is stale from now on), and returns what the object
    /// held. The references in that [`Kind`] are now the caller's to release; this function
    /// releases nothing, so it never cascades.
    pub(super) fn release_slot(&mut self, id: ObjId) -> Kind {
        if !self.is_alive(id) {
            self.stale(id)
        }
        let slot = &mut self.slots[id.index()];
        let Entry::Live(object) = &slot.entry else {
            unreachable!("is_alive checked the slot")
        };
        debug_assert_eq!(
            object.refcount, 0,
            "only an object whose count is 0 is destroyed"
        );
        self.hooks.deallocated(id, object);
        let tombstone = Entry::Free {
            serial: object.serial,
            what: object.kind.what(),
        };
        let Entry::Live(object) = std::mem::replace(&mut slot.entry, tombstone) else {
            unreachable!("is_alive checked the slot")
        };
        // A slot whose generation would wrap around is retired rather than reused: reusing it
        // would make a handle 2^32 reuses old valid again.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(id.index);
        }
        self.destroyed += 1;
        object.kind
    }

    // Constructors. Each returns a NEW reference: the object has count 1 and that one reference
    // is the caller's, who must `decref` it or hand it on.

    /// `PyLong_FromLong(value)`: a new int. Returns a new reference.
    pub fn new_int(&mut self, value: i64) -> ObjId {
        self.alloc(Kind::Int(value))
    }

    /// `PyUnicode_FromString(value)`: a new str. Returns a new reference.
    pub fn new_str(&mut self, value: &str) -> ObjId {
        self.alloc(Kind::Str(value.to_string()))
    }

    /// `PyList_New(0)`: a new empty list. Returns a new reference.
    pub fn new_list(&mut self) -> ObjId {
        self.alloc(Kind::List(Vec::new()))
    }

    /// `PyTuple_Pack(n, items...)`: a new tuple of `items`, which are borrowed: the tuple takes a
    /// reference to each ([`incref`](Heap::incref)). Returns a new reference.
    pub fn new_tuple(&mut self, items: &[ObjId]) -> ObjId {
        for &item in items {
            self.incref(item);
        }
        self.alloc(Kind::Tuple(items.to_vec()))
    }

    /// `PyDict_New()`: a new empty dict. Returns a new reference.
    pub fn new_dict(&mut self) -> ObjId {
        self.alloc(Kind::Dict(Vec::new()))
    }

    /// `Class()` for a class with no `__init__`: a new instance with no attributes. Returns a new
    /// reference.
    pub fn new_instance(&mut self, class: &str) -> ObjId {
        self.alloc(Kind::Instance {
            class: class.to_string(),
            attrs: Vec::new(),
        })
    }

    // Lookups. None of them changes a count.

    /// Whether `id` names a live object (false once it was destroyed).
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
        match &self.slots.get(id.index()) {
            Some(Slot {
                generation,
                entry: Entry::Live(object),
            }) if *generation == id.generation => object,
            _ => self.stale(id),
        }
    }

    /// The live object `id` names, mutably: where `incref` and `decref` change the count.
    ///
    /// # Panics
    /// If the object was destroyed.
    #[track_caller]
    pub(super) fn object_mut(&mut self, id: ObjId) -> &mut Object {
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

    /// `Py_REFCNT(id)`: the reference count, exactly (unlike [`getrefcount`](Heap::getrefcount)).
    #[track_caller]
    pub fn refcount(&self, id: ObjId) -> usize {
        self.object(id).refcount
    }

    /// The creation number of `id` (see [`Object::serial`]).
    pub fn serial(&self, id: ObjId) -> u64 {
        self.object(id).serial
    }

    /// `"object #3 (a list)"`: how messages name an object.
    pub(super) fn describe(&self, id: ObjId) -> String {
        let object = self.object(id);
        format!("object #{} ({})", object.serial, object.kind.what())
    }

    /// Panics with a message saying why `id` names no live object.
    #[track_caller]
    pub(super) fn stale(&self, id: ObjId) -> ! {
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

    // Statistics.

    /// How many objects are alive now.
    pub fn live_objects(&self) -> usize {
        (self.next_serial - self.destroyed) as usize
    }

    /// How many objects were ever allocated.
    pub fn allocated_count(&self) -> u64 {
        self.next_serial
    }

    /// How many objects were destroyed so far (an object is destroyed at most once).
    pub fn destroyed_count(&self) -> u64 {
        self.destroyed
    }
}

/// Shows the [`dump`](Heap::dump): every live object and every name.
impl<H: HeapHooks> fmt::Debug for Heap<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dump())
    }
}

/// Whether `id` names the last object that lived in a slot now at `generation`: freeing bumps the
/// generation by one, except in a slot retired at `u32::MAX`, which keeps it.
pub(super) fn last_occupant(id: ObjId, generation: u32) -> bool {
    id.generation.checked_add(1) == Some(generation) || id.generation == u32::MAX
}
