//! What an object is: a handle ([`ObjId`], our `PyObject *`), what the object holds ([`Kind`]),
//! and the header every object carries ([`Object`]: its reference count, its serial number, its
//! GC header and its list of weak references).
//!
//! ```text
//!   atoms (never tracked)          containers (GC types: Py_TPFLAGS_HAVE_GC)
//!   None  int  str                 list  tuple  dict  instance  weakref
//! ```
//!
//! Atoms hold no references, so they can never be part of a cycle and the collector never sees
//! them. Containers hold references (a weakref holds none to its referent, but it is a GC type
//! in CPython, so it is tracked too).

use crate::behaviour::{Callback, ClassId};

/// A handle to an object in a [`Heap`](crate::Heap): what a `PyObject *` is in CPython.
///
/// A slot number plus the generation of that slot. When an object is destroyed its slot is
/// freed and later reused with the generation bumped, so an old handle no longer matches and
/// every use of it panics with a message naming the destroyed object (in CPython a dangling
/// `PyObject *` is undefined behaviour).
///
/// Copying an `ObjId` does not add a reference, exactly as copying a C pointer does not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ObjId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl ObjId {
    /// The slot this object lives in. Slots are numbered densely from 0, so a collector can keep
    /// per-object data (a colour, a mark) in a `Vec` indexed by it.
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// How many objects lived in this slot before this one.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

/// The items of a list or a tuple, in order: a `Vec<ObjId>` to read and to change (it derefs to
/// a slice and has `push`, `insert`, `remove`, ...), which keeps up to three items in the object
/// itself and only past that allocates a block for them, as a `Vec` always does. CPython's tuple
/// keeps its items in the object too; its list always allocates (`ob_item`). Here most containers
/// hold one to three items, and a collection that frees millions of them would otherwise spend a
/// sixth of its time in the allocator.
pub type Items = smallvec::SmallVec<[ObjId; 3]>;

/// What an object is and what it holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `None`: an atom, and a singleton: the heap makes exactly one, holds a reference to it
    /// forever, and panics if its count ever reaches zero (CPython's `none_dealloc` is a fatal
    /// error, "deallocating None").
    None,
    /// An int (an atom).
    Int(i64),
    /// A str (an atom).
    Str(String),
    /// A list, holding one reference per item.
    List(Items),
    /// A tuple, holding one reference per item. The empty tuple is a singleton, like `None`.
    Tuple(Items),
    /// A dict in insertion order, holding one reference to each key and one to each value. Keys
    /// are atoms (`None`, int, str) compared by value.
    Dict {
        /// The entries, in insertion order: `(key, value)`.
        entries: Vec<(ObjId, ObjId)>,
        /// Whether the dict's keys table is CPython's `DICT_KEYS_UNICODE` kind: true for a new or
        /// cleared dict, false from the first insertion of a key that is not a str on (CPython
        /// converts the table and never converts it back, even when that key is deleted). It
        /// decides what `dict_traverse` visits: values only, or each value and its key.
        str_keys: bool,
    },
    /// An instance of a user class, holding one reference per attribute value.
    Instance {
        /// The class (see [`Heap::new_class`](crate::Heap::new_class)).
        class: ClassId,
        /// The attributes in the order they were first set (`obj.__dict__`).
        attrs: Vec<(String, ObjId)>,
    },
    /// `weakref.ref(referent, callback)`: refers to `referent` without holding a reference to it.
    WeakRef {
        /// The object referred to, or `None` once it died (or the weakref was cleared).
        referent: Option<ObjId>,
        /// Called with the weakref when the referent dies, if the weakref is still alive then.
        /// Dropped once the referent dies or the weakref is cleared.
        callback: Option<Callback>,
    },
}

impl Kind {
    /// Whether objects of this kind are GC types (`PyObject_IS_GC`): every kind except the atoms.
    /// Only GC objects are ever tracked, and only their allocations count towards generation 0.
    pub fn is_gc(&self) -> bool {
        !matches!(self, Kind::None | Kind::Int(_) | Kind::Str(_))
    }

    /// Whether this is an atom that can be a dict key here (`None`, int, str).
    pub fn is_key(&self) -> bool {
        !self.is_gc()
    }

    /// `tp_traverse`: calls `visit` once per reference held, in CPython 3.11's order:
    ///
    /// - list, tuple: items from the last to the first (`list_traverse`, `tupletraverse`);
    /// - dict: each entry in order; values only when the keys table is str-only, otherwise the
    ///   value then the key (`dict_traverse`);
    /// - instance: attribute values in order (`subtype_traverse`, which also visits the type:
    ///   classes are not heap objects here);
    /// - weakref: the objects its callback calls, if any ([`Action::Call`](crate::Action::Call);
    ///   `gc_traverse` visits `wr_callback`); a callback that is only data holds nothing;
    /// - atoms: nothing.
    #[inline]
    pub(crate) fn traverse(&self, visit: &mut impl FnMut(ObjId)) {
        match self {
            Kind::None | Kind::Int(_) | Kind::Str(_) => {}
            Kind::WeakRef { callback, .. } => {
                callback.iter().flat_map(Callback::held).for_each(visit);
            }
            Kind::List(items) | Kind::Tuple(items) => items.iter().rev().copied().for_each(visit),
            Kind::Dict { entries, str_keys } => {
                for &(key, value) in entries {
                    visit(value);
                    if !str_keys {
                        visit(key);
                    }
                }
            }
            Kind::Instance { attrs, .. } => attrs.iter().map(|&(_, value)| value).for_each(visit),
        }
    }

    /// Every reference held, keys included (the traversal above skips the keys of a str-keyed
    /// dict, but they are references all the same): what the invariant checker counts.
    pub(crate) fn all_references(&self, visit: &mut impl FnMut(ObjId)) {
        match self {
            Kind::Dict { entries, .. } => {
                for &(key, value) in entries {
                    visit(value);
                    visit(key);
                }
            }
            other => other.traverse(visit),
        }
    }

    /// Empties the container and hands its references to the caller as a stack: popped from
    /// the end, they come in the order CPython's `tp_dealloc` and `tp_clear` release them: list
    /// and tuple items last to first (`list_dealloc`: "Do it backwards, for Christian Tismer"),
    /// dict entries in order, key before value (`free_keys_object`), instance attributes in
    /// order. A list's items are already a stack in that order, so they are handed over as they
    /// are. A weakref's referent is not a reference: it keeps it, drops its callback and returns
    /// the objects the callback held (`clear_weakref` then `Py_CLEAR(wr_callback)`), usually none.
    ///
    /// The container is empty *before* any reference is released: releasing one can run code (a
    /// `__del__`) that reaches this container again, and must find nothing left to release.
    pub(crate) fn take_references(&mut self) -> Items {
        if let Kind::List(items) | Kind::Tuple(items) = self {
            // Already a stack in that order: its last item on top.
            return std::mem::take(items);
        }
        let mut held = Items::new();
        self.push_references(&mut held);
        held
    }

    /// [`take_references`](Kind::take_references) onto the top of a stack the caller keeps
    /// (`Extend`: a `Vec<ObjId>` or an [`Items`]): popped from there, they come in CPython's
    /// order. The container is left empty, as `take_references` leaves it.
    pub(crate) fn push_references<S: Extend<ObjId>>(&mut self, stack: &mut S) {
        match self {
            Kind::None | Kind::Int(_) | Kind::Str(_) => {}
            Kind::WeakRef { callback, .. } => {
                if let Some(callback) = callback.take() {
                    let held: Items = callback.held().collect();
                    stack.extend(held.iter().rev().copied());
                }
            }
            Kind::List(items) | Kind::Tuple(items) => {
                stack.extend(items.iter().copied());
                items.clear();
            }
            Kind::Dict { entries, str_keys } => {
                // `PyDict_Clear` installs the empty keys table, whose kind is str-only.
                *str_keys = true;
                stack.extend(
                    std::mem::take(entries)
                        .into_iter()
                        .rev()
                        .flat_map(|(key, value)| [value, key]),
                );
            }
            Kind::Instance { attrs, .. } => stack.extend(
                std::mem::take(attrs)
                    .into_iter()
                    .rev()
                    .map(|(_, value)| value),
            ),
        }
    }
}

/// One live object's body: its serial number, what it holds, its weak references, and a copy of
/// its slot's generation. Its header, the fields the collector reads on every pass (the
/// reference count, the GC links, `gc_refs`), lives apart, in a dense table of its own (see
/// [`Head`]). A body is 64 bytes, one cache line.
#[derive(Clone, Debug)]
pub struct Object {
    /// The creation number: 0 for the heap's first object (`None`), 1 for the next, ...
    pub(crate) serial: u64,
    /// What the object is and holds.
    pub(crate) kind: Kind,
    /// The weak references to this object, in CPython's `tp_weaklist` order (see the
    /// [`weakrefs`](crate::weakrefs) module). Only instances have one.
    pub(crate) weakrefs: WeakList,
    /// The generation of its slot while it lives there, the one its handles carry: a copy of
    /// [`Head::generation`], so that reading the object checks its handle without reading its
    /// header too.
    pub(crate) generation: u32,
}

/// An object's weaklist: the weakrefs to it, in order. Few objects ever have one, so it is a
/// pointer, `None` until the first weakref is made, where a `Vec` would take 24 bytes of every
/// body: with it, a body is 64 bytes, one cache line (see `Bodies` in `heap.rs`). Reads see it as
/// a slice.
#[derive(Clone, Debug, Default)]
#[expect(
    clippy::box_collection,
    reason = "one word in every body instead of a Vec's three; the extra allocation is made only \
              for the few objects that get a weakref"
)]
pub(crate) struct WeakList(Option<Box<Vec<ObjId>>>);

impl WeakList {
    /// Whether the list ever held a weakref (then it owns memory of its own).
    #[inline]
    pub(crate) fn was_used(&self) -> bool {
        self.0.is_some()
    }

    /// Inserts `id` at `position`, as `Vec::insert`.
    pub(crate) fn insert(&mut self, position: usize, id: ObjId) {
        self.0.get_or_insert_default().insert(position, id);
    }

    /// Empties the list, returning what it held.
    pub(crate) fn take(&mut self) -> Vec<ObjId> {
        self.0.take().map_or_else(Vec::new, |list| *list)
    }

    /// Keeps only the weakrefs for which `keep` is true, as `Vec::retain`.
    pub(crate) fn retain(&mut self, keep: impl FnMut(&ObjId) -> bool) {
        if let Some(list) = &mut self.0 {
            list.retain(keep);
        }
    }
}

impl std::ops::Deref for WeakList {
    type Target = [ObjId];

    #[inline]
    fn deref(&self) -> &[ObjId] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl Object {
    /// The creation number. Unlike the slot in [`ObjId`] it never repeats, so two heaps running
    /// the same program agree on it (the [`dump`](crate::Heap::dump) uses it).
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// What the object is and holds.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }
}

/// The header of one slot: what CPython keeps in front of every object (`ob_refcnt`, and the
/// `PyGC_Head` of a GC object), and the slot's generation, which every handle is checked against
/// (a live body keeps a copy, so that reading only the body checks the handle too).
///
/// The headers of all slots sit side by side in one table, 32 bytes each, apart from the objects'
/// bodies: a collection walks the GC lists, reads counts and writes `gc_refs` millions of times,
/// and touches a body only to traverse it. Two headers share a cache line, where a whole slot
/// used to take two lines of its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    /// Bumped each time the slot is freed, so old handles to it stop matching.
    pub(crate) generation: u32,
    /// `ob_refcnt`. Never 0 while the object is alive between two operations.
    pub(crate) refcount: u32,
    /// The slot of the next object in its GC list, or [`NIL`] at the tail.
    pub(crate) next: u32,
    /// The slot of the previous object in its GC list, or [`NIL`] at the head.
    pub(crate) prev: u32,
    /// Which GC list the object is in, as a *tag* the heap maps to a list, or [`NIL`] when it is
    /// untracked (see the [`gc_lists`](crate::gc_lists) module: a tag lets two lists merge in
    /// constant time).
    pub(crate) tag: u32,
    /// [`LIVE`] and [`FINALIZED`].
    pub(crate) flags: u32,
    /// The collector's scratch count (`gc_refs`).
    pub(crate) gc_refs: i64,
}

/// "No slot", "no list": the end of a GC list, an untracked object.
pub(crate) const NIL: u32 = u32::MAX;
/// [`Head::flags`]: the slot holds a live object.
pub(crate) const LIVE: u32 = 1;
/// [`Head::flags`]: `_PyGC_PREV_MASK_FINALIZED`, its `tp_finalize` has run (`gc.is_finalized`).
pub(crate) const FINALIZED: u32 = 2;

const _: () = assert!(
    std::mem::size_of::<Head>() == 32,
    "two headers to a cache line"
);

impl Head {
    /// The header of a new object in a slot of `generation`: count 1, untracked.
    pub(crate) fn new(generation: u32) -> Head {
        Head {
            generation,
            refcount: 1,
            next: NIL,
            prev: NIL,
            tag: NIL,
            flags: LIVE,
            gc_refs: 0,
        }
    }

    /// Whether the slot holds a live object.
    pub(crate) fn is_live(&self) -> bool {
        self.flags & LIVE != 0
    }
}

const _: () = assert!(
    std::mem::size_of::<Object>() == 64,
    "a body is one cache line: 64 bytes, aligned to 64 in the heap's table"
);
