//! Code that is not data: the hook through which a Python interpreter runs its own functions as
//! `__del__` methods, weakref callbacks and `gc.callbacks`.
//!
//! A [`Finalizer`](crate::Finalizer) or a [`Callback`](crate::Callback) is normally a list of
//! [`Action`](crate::Action)s the heap performs itself. An interpreter built on this heap (the
//! course's `pyrun`) has functions whose bodies are Python code, which only it can run. It gives
//! the heap a [`Runtime`] ([`Heap::set_runtime`]), and writes the body as one
//! [`Action::Call`](crate::Action::Call) of the function object; when the heap reaches that
//! action, inside a death or inside a collector's `finalize_garbage`, it asks the runtime to call
//! the object, exactly where CPython would call it.
//!
//! ```text
//!   Py_DECREF(x) -> count 0 -> subtype_dealloc -> tp_finalize -> __del__(x)    CPython
//!   Heap::decref(x) -> die -> tp_finalize -> Action::Call(f) -> Runtime::call(heap, f, [x])
//! ```
//!
//! The runtime is called with the heap itself, so the code it runs can do anything a program
//! does, including allocating, deleting names and starting a collection; and since that code
//! can drop more references, a call may run inside another. A runtime is shared ([`Rc`]) and
//! called through `&self` so that these nested calls need no second mutable borrow of it: it
//! keeps its own state in cells, and holds no borrow of it across a call into the heap.

use std::rc::Rc;

use crate::heap::Heap;
use crate::object::ObjId;

/// What runs the code behind [`Action::Call`](crate::Action::Call): an interpreter.
pub trait Runtime {
    /// Calls the object `callable` with `args` (borrowed: the callee takes its own references),
    /// as `PyObject_Call` does. Returns the message of an exception the call raised and did
    /// not handle ("ValueError: ..."), which the heap then ignores as CPython ignores an
    /// exception in a `__del__` or a callback; reporting it (CPython's "Exception ignored in")
    /// is the runtime's job.
    fn call(&self, heap: &mut Heap, callable: ObjId, args: &[ObjId]) -> Result<(), String>;
}

impl Heap {
    /// Gives the heap the runtime that runs [`Action::Call`](crate::Action::Call).
    pub fn set_runtime(&mut self, runtime: Rc<dyn Runtime>) {
        self.runtime = Some(runtime);
    }

    /// Calls `callable` with `args` (borrowed) through the heap's runtime (see the module
    /// docs). What a collector calls for a Python-level callback it was given as an object.
    ///
    /// # Errors
    /// The message of the exception the call raised, or a `RuntimeError` if the heap has no
    /// runtime.
    pub fn call_object(&mut self, callable: ObjId, args: &[ObjId]) -> Result<(), String> {
        match self.runtime.clone() {
            Some(runtime) => runtime.call(self, callable, args),
            None => Err(format!(
                "RuntimeError: {} cannot be called: this heap has no runtime (Heap::set_runtime)",
                self.describe(callable)
            )),
        }
    }
}
