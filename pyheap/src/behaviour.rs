//! Behaviour as data: user classes, their `__del__` finalizers, weakref callbacks, and the log
//! of what happened.
//!
//! A finalizer or a callback is a list of [`Action`]s rather than a Rust closure, so that a test,
//! a dump and a CPython parity script can all describe it: the Python below is the scenario
//! `Finalizer::new([Action::Log("bye".into()), Action::BindSelf("saved".into())])` stands for.
//!
//! ```text
//!   class C:
//!       def __del__(self):
//!           print("bye")          Action::Log("bye")
//!           global saved
//!           saved = self          Action::BindSelf("saved")    (resurrects the object)
//! ```
//!
//! "Self" is the one argument the code is called with: the object for a `__del__`, the weak
//! reference for a callback (CPython calls `callback(ref)`).
//!
//! Everything observable that reference counting does is appended to the heap's
//! [`events`](crate::Heap::events): finalizers called, callbacks called, objects destroyed,
//! `Log` lines. Tests compare it with what CPython prints for the same scenario.

/// A handle to a class registered with [`Heap::new_class`](crate::Heap::new_class).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ClassId(pub(crate) u32);

/// A user class: its name and, optionally, its `__del__`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Class {
    /// `type(obj).__name__`.
    pub name: String,
    /// The `__del__` method (CPython's `tp_finalize` slot for a class defining `__del__`).
    pub finalizer: Option<Finalizer>,
}

/// A `__del__` method: the actions its body performs, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Finalizer {
    /// The body.
    pub actions: Vec<Action>,
}

impl Finalizer {
    /// A `__del__` whose body is `actions`.
    pub fn new(actions: impl IntoIterator<Item = Action>) -> Self {
        Finalizer {
            actions: actions.into_iter().collect(),
        }
    }
}

/// A weakref callback: the actions its body performs, in order.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Callback {
    /// The body.
    pub actions: Vec<Action>,
}

impl Callback {
    /// A callback whose body is `actions`.
    pub fn new(actions: impl IntoIterator<Item = Action>) -> Self {
        Callback {
            actions: actions.into_iter().collect(),
        }
    }

    /// The objects the callback calls ([`Action::Call`]): the references a weakref holds through
    /// its callback.
    pub fn held(&self) -> impl Iterator<Item = crate::ObjId> + '_ {
        self.actions.iter().filter_map(|action| match action {
            Action::Call(object) => Some(*object),
            _ => None,
        })
    }
}

/// One statement of a `__del__` or a callback body. "Self" is the argument: the object being
/// finalized, or the weakref whose callback is called.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Action {
    /// `print(text)`: appends [`Event::Log`].
    Log(String),
    /// `global name; name = self`. In a `__del__` this resurrects the object; in a callback it
    /// keeps the weakref alive.
    BindSelf(String),
    /// `name.append(self)`, where `name` is bound to a list (resurrects, in a `__del__`).
    AppendSelfTo(String),
    /// `global name; del name`.
    Unbind(String),
    /// `callable(self)`: calls a Python object, whose code the heap's
    /// [`Runtime`](crate::Runtime) runs (an interpreter's functions are code, not data). In a
    /// weakref's callback the object is held: the weakref holds a reference to it, as CPython's
    /// `wr_callback` does, gives it up with the callback, and [`Heap::traverse`](crate::Heap::traverse)
    /// visits it. In a class's `__del__` it is borrowed: whoever made the class keeps it alive.
    Call(crate::ObjId),
    /// `del self.name`: self gives up its reference to an attribute. In a `__del__` this can
    /// break self's own cycle, and free self: a collector must hold a reference to an object
    /// while its `__del__` runs (CPython's `finalize_garbage` does).
    DelSelfAttr(String),
}

/// Something observable that happened, in order. Objects are named by serial.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    /// The `__del__` of this object was called (it is the first thing the call does).
    Finalized(u64),
    /// The object's `__del__` left its count above zero: it lives on, finalized.
    Resurrected(u64),
    /// The callback of this weakref was called.
    CallbackCalled(u64),
    /// A `Log` action ran.
    Log(String),
    /// The body of this object's `__del__` (or this weakref's callback) raised an exception,
    /// which was ignored as CPython ignores it ("Exception ignored in: ..."): its remaining
    /// actions did not run. The reason is Python's message.
    ExceptionIgnored(u64, String),
    /// The object was destroyed (its memory freed).
    Destroyed(u64),
}
