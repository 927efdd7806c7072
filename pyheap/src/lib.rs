//! # pyheap: the Python object model of labs 03, 04 and 05
//!
//! A heap of Python-like objects whose reference counts go up and down as CPython 3.11's do, with
//! everything a cycle collector needs to work on it: per-object GC headers, CPython's generation
//! lists, `tp_traverse` and `tp_clear` for each container type, and CPython's rules for which
//! objects are tracked. Labs 03 (cycle detection), 04 (generations) and 05 (tricolor marking)
//! write their collectors against this crate's public API; they never change it.
//!
//! This is lab 01's `refcount::Heap` grown up: the same handles, ownership convention, names and
//! non-recursive destruction, rewritten here because lab 01's hooks get no access to the heap and
//! so cannot run a `__del__` that resurrects its object. What it adds is what CPython's reference
//! counting does around a death: a PEP 442 finalizer runs once (`tp_finalize`), weak references
//! are cleared and their callbacks called (`PyObject_ClearWeakRefs`), and only then is the object
//! released.
//!
//! ```
//! use pyheap::{Action, Event, Finalizer, Heap};
//!
//! let mut heap = Heap::new();
//! // class C:
//! //     def __del__(self): print("bye")
//! let c = heap.new_class("C", Some(Finalizer::new([Action::Log("bye".into())])));
//! let obj = heap.assign_new_instance("x", c); // x = C()
//! let serial = heap.serial(obj);
//! heap.del("x");                               // del x: __del__ runs, then x's object is freed
//! assert_eq!(
//!     heap.events(),
//!     [Event::Finalized(serial), Event::Log("bye".into()), Event::Destroyed(serial)]
//! );
//! ```
//!
//! The modules, in the order to read them:
//!
//! - [`object`]: what an object is ([`ObjId`], [`Kind`], [`Object`]);
//! - [`behaviour`]: classes, `__del__` finalizers and weakref callbacks as data ([`Action`]),
//!   and the [`Event`] log;
//! - [`heap`]: the [`Heap`], its slots and constructors;
//! - [`names`]: binding names, calls, and statement-level helpers (`x = []`, `del x`);
//! - [`containers`]: list, dict and attribute operations (and dict tracking, `MAINTAIN_TRACKING`);
//! - [`death`]: `Py_DECREF` and what happens at zero (finalizer, weakrefs, trashcan);
//! - [`weakrefs`]: weak references and their callbacks;
//! - [`gc_lists`]: the GC header and CPython's generation lists;
//! - [`allocation`]: what an allocation does to `count0`: CPython 3.11's free lists, and the hook
//!   where lab 04's automatic collection starts ([`GcLink`]);
//! - [`gc_support`]: `tp_traverse`, `tp_clear` and the untracking rules;
//! - [`runtime`]: the hook through which an interpreter runs `__del__` methods and callbacks that
//!   are Python code ([`Runtime`], [`Action::Call`]);
//! - [`invariants`]: `check_invariants` and `dump`.

pub mod allocation;
pub mod behaviour;
pub mod containers;
pub mod death;
pub mod gc_lists;
pub mod gc_support;
pub mod heap;
pub mod invariants;
pub mod names;
pub mod object;
pub mod runtime;
pub mod weakrefs;

pub use allocation::{FreeLists, GcLink};
pub use behaviour::{Action, Callback, Class, ClassId, Event, Finalizer};
pub use gc_lists::GcList;
pub use heap::Heap;
pub use object::{Items, Kind, ObjId, Object};
pub use runtime::Runtime;
