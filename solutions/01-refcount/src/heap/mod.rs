//! A heap of Python objects managed the way CPython manages them: by counting references.
//!
//! Every CPython object carries a count, `ob_refcnt`, of the references to it: from names, from
//! the frames of running calls, from containers. `Py_INCREF` adds one when a reference is stored,
//! `Py_DECREF` takes one away when it is given up, and the moment the count reaches zero the
//! object is destroyed, giving up in turn the references it held. No collector runs later:
//! memory comes back as soon as the last reference goes.
//!
//! ```text
//!   x = [7, "hi"]
//!   y = x[0]
//!
//!   names                    objects
//!
//!     x ──────────────▶  ┌─────────────────────┐
//!                        │ #2 list    count 1  │   held by x
//!                        │  [0] ●      [1] ●   │
//!                        └──────┼─────────┼────┘
//!                               │         ▼
//!                               │     ┌─────────────────────┐
//!                               │     │ #1 str 'hi' count 1 │   held by the list
//!                               ▼     └─────────────────────┘
//!     y ──────────────▶  ┌─────────────────────┐
//!                        │ #0 int 7   count 2  │   held by y and by the list
//!                        └─────────────────────┘
//!
//!   del x    the list's count falls to 0: it is destroyed, and releases its items (the last
//!            first): 'hi' falls to 0 and is destroyed too; 7 falls to 1 and lives on, held by y.
//! ```
//!
//! A count goes up in three places, and down at the reverse of each:
//!
//! | a reference is taken when ...           | and given up when ...                              |
//! |-----------------------------------------|----------------------------------------------------|
//! | a name is bound: [`Heap::bind`]         | it is rebound or deleted: [`Heap::unbind`]         |
//! | an argument is passed: [`Heap::call`]   | the call returns                                   |
//! | a container stores it: [`Heap::list_append`], [`Heap::dict_set`], ... | it is replaced or removed, or the container dies |
//!
//! # Who owns which reference
//!
//! An [`ObjId`] is a plain handle, copied freely like a C pointer; copying it does not take a
//! reference. So every function says, as CPython's C API docs do, what happens to the references
//! it is given and returns:
//!
//! - **Constructors return a new reference** ([`Heap::new_int`], [`Heap::new_list`], ...): the
//!   object has count 1, and that reference is yours. You must give it up with [`Heap::decref`]
//!   once you no longer need it, typically right after binding or storing the object (which takes
//!   a reference of its own). [`Heap::list_pop`] also returns a new reference.
//! - **Arguments are borrowed**: [`Heap::bind`], [`Heap::list_append`], [`Heap::dict_set`] and
//!   the others take their own reference with [`Heap::incref`] if they keep the object, and leave
//!   yours alone (like `PyList_Append`, unlike `PyList_SetItem`, which "steals" it).
//! - **Lookups return borrowed references** ([`Heap::lookup`], [`Heap::list_get`], ...): good only
//!   as long as some owner keeps the object alive. [`Heap::incref`] it to keep it longer.
//!
//! Python code written against this heap reads like what the interpreter does:
//!
//! ```
//! use refcount::Heap;
//!
//! let mut heap = Heap::new();
//! let seven = heap.new_int(7);       // a new reference, ours
//! heap.bind("y", seven);             // y = 7: the name takes its own reference
//! heap.decref(seven);                // we give ours up: only y holds it now
//! assert_eq!(heap.refcount(seven), 1);
//!
//! let list = heap.new_list();
//! heap.list_append(list, seven);     // the list takes a reference to 7
//! assert_eq!(heap.refcount(seven), 2);
//! heap.decref(list);                 // the list's count reaches 0: it is destroyed, releasing 7
//! assert_eq!(heap.refcount(seven), 1);
//! assert_eq!(heap.getrefcount(seven), 2); // sys.getrefcount counts its own argument
//! ```
//!
//! # Destruction, the trashcan, and what leaks
//!
//! An object whose count reaches zero is destroyed at once, and releases what it held, which can
//! destroy more objects. The cascade must not recurse, so that a chain of a million nested
//! containers cannot overflow the call stack (CPython's trashcan solves the same problem; see the
//! `refs` module). A handle kept past its object's death is detected: every
//! use panics, naming the object that was destroyed.
//!
//! Names bound at the top level live until the heap is dropped (as a module's globals live until
//! the interpreter exits); dropping the heap deletes them. Objects that refer to each other in a
//! cycle keep each other's counts above zero after the last name goes: they are never destroyed,
//! even when the heap is dropped. Finding and freeing them is the cycle collector's job (lab 03),
//! which uses [`Heap::referents`], [`Heap::clear`], [`Heap::objects`] and the [`HeapHooks`].

mod containers;
mod gc_support;
mod hooks;
mod invariants;
mod names;
mod object;
mod refs;
mod slots;

pub use hooks::HeapHooks;
pub use object::{Kind, ObjId, Object};
pub use slots::Heap;
