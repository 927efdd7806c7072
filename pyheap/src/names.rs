//! Names and calls, the ownership rules, and statement-level helpers.
//!
//! # Who owns which reference (as in lab 01)
//!
//! An [`ObjId`] is a plain handle; copying it takes no reference. So every function says what
//! happens to the references it is given and returns, as CPython's C API docs do:
//!
//! - **Constructors return a new reference** ([`Heap::new_list`], ...): count 1, yours; give it
//!   up with [`Heap::decref`] once you have stored it. [`Heap::list_pop`] also returns one.
//! - **Arguments are borrowed**: [`Heap::bind`], [`Heap::list_append`], [`Heap::dict_set`], ...
//!   take their own reference if they keep the object (like `PyList_Append`).
//! - **Lookups return borrowed references** ([`Heap::lookup`], [`Heap::list_get`], ...).
//!
//! # Statements
//!
//! A scenario written with the C-level calls is precise but noisy; the `assign_*` helpers do
//! what the statement does (make the object, bind the name, drop the temporary) and return the
//! object as a borrowed handle, so a test reads like the Python it stands for:
//!
//! ```
//! use pyheap::Heap;
//!
//! let mut heap = Heap::new();
//! let a = heap.assign_new_list("a");      // a = []
//! heap.list_append(a, a);                 // a.append(a)
//! heap.del("a");                          // del a: the list keeps itself alive
//! assert!(heap.is_alive(a));
//! assert_eq!(heap.refcount(a), 1);
//! ```

use crate::behaviour::{Callback, ClassId};
use crate::heap::Heap;
use crate::object::ObjId;

impl Heap {
    /// `name = id` at the top level (`STORE_NAME`): the name takes a reference to `id`
    /// (borrowed) and gives up the one to its old object, if any, which may destroy it. The new
    /// reference is taken first, so `x = x` is safe.
    #[track_caller]
    pub fn bind(&mut self, name: &str, id: ObjId) {
        self.incref(id);
        if let Some(old) = self.names.insert(name.to_string(), id) {
            self.decref(old);
        }
    }

    /// `del name` (`DELETE_NAME`): removes the name and gives up its reference.
    ///
    /// # Panics
    /// With `NameError` if `name` is not bound.
    #[track_caller]
    pub fn unbind(&mut self, name: &str) {
        let Some(old) = self.names.remove(name) else {
            panic!("NameError: name '{name}' is not defined")
        };
        self.decref(old);
    }

    /// `del name`: the same as [`unbind`](Heap::unbind), under the statement's name.
    #[track_caller]
    pub fn del(&mut self, name: &str) {
        self.unbind(name);
    }

    /// The object `name` is bound to, as a borrowed reference.
    pub fn lookup(&self, name: &str) -> Option<ObjId> {
        self.names.get(name).copied()
    }

    /// The object `name` is bound to, as a borrowed reference.
    ///
    /// # Panics
    /// With `NameError` if `name` is not bound.
    #[track_caller]
    pub fn get(&self, name: &str) -> ObjId {
        self.lookup(name)
            .unwrap_or_else(|| panic!("NameError: name '{name}' is not defined"))
    }

    /// The bound names and their objects, in name order.
    pub fn names(&self) -> impl Iterator<Item = (&str, ObjId)> + '_ {
        self.names.iter().map(|(name, &id)| (name.as_str(), id))
    }

    /// What the interpreter itself holds references to: `None` and the empty tuple, the
    /// objects bound to names (in name order), then the arguments of the calls in progress. An
    /// object appears once per reference. (CPython's collector needs no roots: lab 05's
    /// marking does.)
    pub fn roots(&self) -> Vec<ObjId> {
        [self.none, self.empty_tuple]
            .into_iter()
            .chain(self.names.values().copied())
            .chain(self.frames.iter().flatten().copied())
            .collect()
    }

    /// `body(args)`: calls a function with `args` (borrowed). The frame holds a reference to
    /// each argument while the body runs, then gives them up, which may destroy objects.
    #[track_caller]
    pub fn call<R>(&mut self, args: &[ObjId], body: impl FnOnce(&mut Self, &[ObjId]) -> R) -> R {
        for &arg in args {
            self.incref(arg);
        }
        self.frames.push(args.to_vec());
        let result = body(self, args);
        let frame = self.frames.pop().expect("the frame pushed above");
        for arg in frame {
            self.decref(arg);
        }
        result
    }

    /// `sys.getrefcount(id)`: one more than [`refcount`](Heap::refcount), for the argument.
    #[track_caller]
    pub fn getrefcount(&mut self, id: ObjId) -> usize {
        self.call(&[id], |heap, args| heap.refcount(args[0]))
    }

    // Statements: each makes an object, binds it, and drops the constructor's reference; the
    // handle returned is borrowed from the name.

    /// `name = value` (an int). Returns the int, borrowed.
    pub fn assign_int(&mut self, name: &str, value: i64) -> ObjId {
        let id = self.new_int(value);
        self.bind_new(name, id)
    }

    /// `name = 'value'`. Returns the str, borrowed.
    pub fn assign_str(&mut self, name: &str, value: &str) -> ObjId {
        let id = self.new_str(value);
        self.bind_new(name, id)
    }

    /// `name = []`. Returns the list, borrowed.
    pub fn assign_new_list(&mut self, name: &str) -> ObjId {
        let id = self.new_list();
        self.bind_new(name, id)
    }

    /// `name = (items...)`. Returns the tuple, borrowed. A tuple constant in the source is no
    /// different: CPython 3.11.7 keeps it tracked, like one built at run time, until the first
    /// collection that sees it untracks it (`t = (1, 2); gc.is_tracked(t)` is True).
    pub fn assign_new_tuple(&mut self, name: &str, items: &[ObjId]) -> ObjId {
        let id = self.new_tuple(items);
        self.bind_new(name, id)
    }

    /// `name = {}`. Returns the dict, borrowed.
    pub fn assign_new_dict(&mut self, name: &str) -> ObjId {
        let id = self.new_dict();
        self.bind_new(name, id)
    }

    /// `name = Class()`. Returns the instance, borrowed.
    pub fn assign_new_instance(&mut self, name: &str, class: ClassId) -> ObjId {
        let id = self.new_instance(class);
        self.bind_new(name, id)
    }

    /// `name = weakref.ref(referent, callback)`. Returns the weakref, borrowed.
    pub fn assign_new_weakref(
        &mut self,
        name: &str,
        referent: ObjId,
        callback: Option<Callback>,
    ) -> ObjId {
        let id = self.new_weakref(referent, callback);
        self.bind_new(name, id)
    }

    /// `name = other` for a bound `other`. Returns the object, borrowed.
    ///
    /// # Panics
    /// With `NameError` if `other` is not bound.
    #[track_caller]
    pub fn assign(&mut self, name: &str, other: &str) -> ObjId {
        let id = self.get(other);
        self.bind(name, id);
        id
    }

    /// Binds the new reference `id` to `name` and drops the constructor's reference.
    fn bind_new(&mut self, name: &str, id: ObjId) -> ObjId {
        self.bind(name, id);
        self.decref(id);
        id
    }
}

/// Deletes the names still bound, in name order, as an interpreter clears its module at
/// shutdown: finalizers and callbacks run, and what only the names kept alive is destroyed. A
/// finalizer may bind a name again; names are deleted until none is left (each `__del__` runs
/// once, so this ends). Reference cycles leak.
///
/// During a panic nothing is deleted: the heap may be half-way through an operation.
impl Drop for Heap {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        while let Some(name) = self.names.keys().next().cloned() {
            self.unbind(&name);
        }
    }
}
