//! What an object is: a handle ([`ObjId`], our `PyObject *`), what the object holds ([`Kind`]),
//! and the header every object carries ([`Object`]: its reference count and its serial number).

use std::borrow::Cow;

// ANCHOR: objid
/// A handle to an object in a [`Heap`](super::Heap): what a `PyObject *` is in CPython.
///
/// It is a slot number plus the generation of that slot. When an object is destroyed its slot is
/// freed and later reused for a new object with the generation bumped, so an old handle to the
/// destroyed object no longer matches and every use of it panics with a clear message instead of
/// silently reaching the new occupant (CPython has no such check: a dangling `PyObject *` is
/// undefined behaviour there).
///
/// Copying an `ObjId` does not add a reference, exactly as copying a C pointer does not: who owns
/// which reference is the caller's bookkeeping (see the ownership rules in the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ObjId {
    pub(super) index: u32,
    pub(super) generation: u32,
}
// ANCHOR_END: objid

impl ObjId {
    /// The slot this object lives in. Slots are numbered densely from 0, so a later lab can keep
    /// per-object data (a collector's `gc_refs`, a colour) in a `Vec` indexed by it.
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// How many objects lived in this slot before this one.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

// ANCHOR: kind
/// What an object is and what it holds.
///
/// Atoms ([`Kind::Int`], [`Kind::Str`]) hold no references. Containers hold references to other
/// objects, each of which counts once in the referent's count (an object stored twice counts
/// twice). In CPython the containers are the types with `Py_TPFLAGS_HAVE_GC`, the ones the cycle
/// collector tracks.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Kind {
    /// An int (an atom: holds nothing).
    Int(i64),
    /// A str (an atom: holds nothing).
    Str(String),
    /// A list: a mutable sequence, holding one reference per item.
    List(Vec<ObjId>),
    /// A tuple: an immutable sequence, holding one reference per item.
    Tuple(Vec<ObjId>),
    /// A dict, in insertion order like Python's, holding one reference to each key and one to each
    /// value. Keys are atoms and are compared by value: `d[1]` finds the entry whose key is any
    /// int object equal to 1.
    Dict(Vec<(ObjId, ObjId)>),
    /// An instance of a user class, holding one reference per attribute value. The class is only
    /// a name here; CPython's instance also holds a reference to its type object.
    Instance {
        /// The class name, as `type(obj).__name__` would print it.
        class: String,
        /// The attributes in the order they were first set (`obj.__dict__`).
        attrs: Vec<(String, ObjId)>,
    },
}
// ANCHOR_END: kind

impl Kind {
    /// The Python type name: `int`, `str`, `list`, `tuple`, `dict`, or the class name.
    pub fn type_name(&self) -> &str {
        match self {
            Kind::Int(_) => "int",
            Kind::Str(_) => "str",
            Kind::List(_) => "list",
            Kind::Tuple(_) => "tuple",
            Kind::Dict(_) => "dict",
            Kind::Instance { class, .. } => class,
        }
    }

    /// Whether objects of this kind can hold references, and so take part in a cycle. CPython
    /// tracks exactly these in the cycle collector (types with `Py_TPFLAGS_HAVE_GC`).
    pub fn is_container(&self) -> bool {
        !matches!(self, Kind::Int(_) | Kind::Str(_))
    }

    /// Calls `visit` once per reference held, in the order CPython's `tp_traverse` visits them:
    /// list and tuple items from the last to the first (`list_traverse`, `tupletraverse`), each
    /// dict entry's value then its key in entry order (`dict_traverse`; CPython skips the keys of a
    /// dict whose keys are all str, which never matters to a collector since keys are atoms), and
    /// instance attribute values in order (`subtype_traverse`, which also visits the type).
    pub(super) fn traverse(&self, visit: &mut impl FnMut(ObjId)) {
        match self {
            Kind::Int(_) | Kind::Str(_) => {}
            Kind::List(items) | Kind::Tuple(items) => items.iter().rev().copied().for_each(visit),
            Kind::Dict(entries) => {
                for &(key, value) in entries {
                    visit(value);
                    visit(key);
                }
            }
            Kind::Instance { attrs, .. } => attrs.iter().map(|&(_, value)| value).for_each(visit),
        }
    }

    /// Empties the container and hands its references to the caller, in the order CPython's
    /// `tp_dealloc` and `tp_clear` release them: list and tuple items from the last to the first
    /// (`list_dealloc`: "Do it backwards, for Christian Tismer"), dict entries in entry order, key
    /// before value (`free_keys_object`), instance attributes in order. An atom returns nothing.
    ///
    /// The container is left empty *before* any reference is released. That matters: releasing a
    /// reference can destroy objects, and a destructor that reaches this container again must find
    /// nothing left to release twice.
    pub(super) fn take_references(&mut self) -> Vec<ObjId> {
        match self {
            Kind::Int(_) | Kind::Str(_) => Vec::new(),
            Kind::List(items) | Kind::Tuple(items) => {
                let mut items = std::mem::take(items);
                items.reverse();
                items
            }
            Kind::Dict(entries) => std::mem::take(entries)
                .into_iter()
                .flat_map(|(key, value)| [key, value])
                .collect(),
            Kind::Instance { attrs, .. } => std::mem::take(attrs)
                .into_iter()
                .map(|(_, value)| value)
                .collect(),
        }
    }

    /// `"an int"`, `"a list"`, `"a 'Point' instance"`: how messages name a type.
    pub(super) fn with_article(&self) -> Cow<'static, str> {
        match self {
            Kind::Int(_) => Cow::Borrowed("an int"),
            Kind::Str(_) => Cow::Borrowed("a str"),
            Kind::List(_) => Cow::Borrowed("a list"),
            Kind::Tuple(_) => Cow::Borrowed("a tuple"),
            Kind::Dict(_) => Cow::Borrowed("a dict"),
            Kind::Instance { class, .. } => Cow::Owned(format!("a '{class}' instance")),
        }
    }

    /// `"the int 7"`, `"the str 'hi'"`, `"a list"`: how messages name one object, by its value if
    /// it is an atom, so that a learner can tell which of the scenario's objects it was.
    pub(super) fn what(&self) -> Cow<'static, str> {
        match self {
            Kind::Int(value) => Cow::Owned(format!("the int {value}")),
            Kind::Str(value) => Cow::Owned(format!("the str '{value}'")),
            other => other.with_article(),
        }
    }
}

/// One live object: its header (count and serial number) and what it holds.
#[derive(Clone, Debug)]
pub struct Object {
    /// `ob_refcnt`: how many references to this object exist. Never 0 while the object is alive.
    pub(super) refcount: usize,
    /// The creation number: 0 for the heap's first object, 1 for the next, and so on.
    pub(super) serial: u64,
    /// What the object is and what it holds.
    pub(super) kind: Kind,
}

impl Object {
    /// The reference count (`ob_refcnt`, `Py_REFCNT(op)`).
    pub fn refcount(&self) -> usize {
        self.refcount
    }

    /// The creation number: the heap's first object is 0, the next 1, and so on. Unlike the slot
    /// in [`ObjId`], it never repeats and does not depend on the order objects were destroyed in,
    /// so two heaps running the same program agree on it (the [`dump`](super::Heap::dump)s use it).
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// What the object is and what it holds.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }
}
