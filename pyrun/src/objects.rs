//! The object model on pyheap: what each object of the subset is made of, and the operations on
//! objects (attributes, items, iteration, `repr`, comparisons, arithmetic).
//!
//! pyheap has atoms (`None`, int, str) and containers (list, tuple, dict, instance, weakref).
//! Everything else the subset needs is one of those, so that it is counted, tracked, traversed
//! and freed as CPython's object is:
//!
//! | object                                | made as                         | GC type in CPython? |
//! |---------------------------------------|---------------------------------|---------------------|
//! | `True`, `False`                       | two int atoms                   | no                  |
//! | a function                            | an instance of `function`; its closure tuple in `__closure__` | yes |
//! | a cell (a captured variable)          | an instance of `cell`, the value in `cell_contents` | yes |
//! | a bound method                        | an instance of `method` (`__func__`, `__self__`) | yes |
//! | a builtin function or method          | an instance of `builtin_function_or_method` (`__self__`) | yes |
//! | a class                               | an instance of `type`, its namespace as attributes | yes |
//! | a list, tuple, dict or str iterator   | an instance (`__seq__`)         | yes                 |
//! | a range, a range iterator             | an int atom standing for it     | no                  |
//!
//! What the heap cannot say (which code a function runs, which builtin an object is, where an
//! iterator stands) is kept in side tables keyed by [`ObjId`] ([`Side`]). An `ObjId` is never
//! reused for another object (its slot's generation changes), so a key never names the wrong
//! object; entries of dead objects are purged now and then.

use std::collections::HashMap;
use std::rc::Rc;

use pyheap::{ClassId, Finalizer, Heap, Kind, ObjId};

use crate::ast::{BinOp, CmpOp, Code, UnaryOp};
use crate::backend::Backend;
use crate::builtins::{BUILTINS, Builtin, MODULES, MethodKind};
use crate::error::{Exception, Result, raise, unsupported};
use crate::interp::Interp;

/// The exception classes of the subset and their parents (`None` for the root).
pub(crate) const EXCEPTIONS: &[(&str, Option<&str>)] = &[
    ("BaseException", None),
    ("Exception", Some("BaseException")),
    ("ArithmeticError", Some("Exception")),
    ("ZeroDivisionError", Some("ArithmeticError")),
    ("OverflowError", Some("ArithmeticError")),
    ("AssertionError", Some("Exception")),
    ("AttributeError", Some("Exception")),
    ("LookupError", Some("Exception")),
    ("IndexError", Some("LookupError")),
    ("KeyError", Some("LookupError")),
    ("NameError", Some("Exception")),
    ("UnboundLocalError", Some("NameError")),
    ("RuntimeError", Some("Exception")),
    ("RecursionError", Some("RuntimeError")),
    ("TypeError", Some("Exception")),
    ("ValueError", Some("Exception")),
];

/// The classes of the objects that are not pyheap's own kinds.
pub(crate) struct Hidden {
    pub(crate) function: ClassId,
    pub(crate) cell: ClassId,
    pub(crate) method: ClassId,
    pub(crate) builtin: ClassId,
    pub(crate) class: ClassId,
    pub(crate) module: ClassId,
    pub(crate) list_iter: ClassId,
    pub(crate) tuple_iter: ClassId,
    pub(crate) dict_iter: ClassId,
    pub(crate) str_iter: ClassId,
}

/// The objects made at start-up, never freed.
pub(crate) struct Core {
    pub(crate) hidden: Hidden,
    small_ints: Vec<ObjId>,
    pub(crate) true_id: ObjId,
    pub(crate) false_id: ObjId,
    builtins: HashMap<&'static str, ObjId>,
    modules: HashMap<&'static str, ObjId>,
    /// `gc.collect`, `gc.DEBUG_SAVEALL`, `sys.getrefcount`, ... by `module.name`.
    module_attrs: HashMap<String, ObjId>,
    /// `gc.callbacks`: a list of the interpreter's.
    pub(crate) gc_callbacks: ObjId,
    /// What `globals()` returns: it stands for the module's namespace.
    pub(crate) globals_proxy: ObjId,
}

/// The smallest and largest of CPython's shared small ints.
const SMALL_INTS: std::ops::RangeInclusive<i64> = -5..=256;

/// What a class object stands for.
#[derive(Clone, Debug)]
pub(crate) struct ClassInfo {
    pub(crate) name: Rc<str>,
    pub(crate) class_id: ClassId,
    pub(crate) exception: bool,
}

/// What an int atom that is not an int stands for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Native {
    Range(i64, i64, i64),
    Globals,
}

/// Where an iterator stands.
#[derive(Clone, Debug)]
pub(crate) enum IterState {
    /// Over a range: the next value, the end, the step.
    Range(i64, i64, i64),
    /// Over the list, tuple, dict (its keys) or str in the iterator's `__seq__`.
    Seq(usize),
}

/// The side tables (see the module docs).
#[derive(Default)]
pub(crate) struct Side {
    pub(crate) funcs: HashMap<ObjId, Rc<Code>>,
    pub(crate) builtins: HashMap<ObjId, Builtin>,
    pub(crate) classes: HashMap<ObjId, ClassInfo>,
    pub(crate) class_objects: HashMap<ClassId, ObjId>,
    pub(crate) natives: HashMap<ObjId, Native>,
    pub(crate) iters: HashMap<ObjId, IterState>,
    interned: HashMap<String, ObjId>,
    /// The one-character Latin-1 strs made at run time (indexing, iterating a str): CPython's
    /// static singletons, which are not the objects the compiler makes for `'a'` in the source.
    chars: HashMap<char, ObjId>,
    purge_at: usize,
}

impl Side {
    /// The interned str `text` (made now if new), a new reference.
    pub(crate) fn intern(&mut self, heap: &mut Heap, text: &str) -> ObjId {
        let id = *self
            .interned
            .entry(text.to_string())
            .or_insert_with(|| heap.new_str(text));
        heap.incref(id);
        id
    }

    /// Drops the entries of dead objects once the tables have doubled since the last purge.
    pub(crate) fn maybe_purge(&mut self, heap: &Heap) {
        let size = self.funcs.len() + self.builtins.len() + self.natives.len() + self.iters.len();
        if size < self.purge_at.max(1024) {
            return;
        }
        self.funcs.retain(|id, _| heap.is_alive(*id));
        self.builtins.retain(|id, _| heap.is_alive(*id));
        self.natives.retain(|id, _| heap.is_alive(*id));
        self.iters.retain(|id, _| heap.is_alive(*id));
        self.purge_at =
            2 * (self.funcs.len() + self.builtins.len() + self.natives.len() + self.iters.len());
    }
}

/// How `obj.name(...)` is called (`LOAD_METHOD`).
pub(crate) enum Method {
    /// A function of the object's class: called with the object first (a new reference).
    Function(ObjId),
    /// A method of a builtin type, called with the object as `self`.
    Builtin(MethodKind),
    /// Anything else: the attribute's value, called as it is (a new reference).
    Bound(ObjId),
}

impl Core {
    /// Makes the start-up objects.
    pub(crate) fn new(heap: &mut Heap, backend: &mut dyn Backend) -> (Core, Side) {
        let mut side = Side::default();
        let class = |heap: &mut Heap, name: &str| heap.new_class(name, None);
        let hidden = Hidden {
            function: class(heap, "function"),
            cell: class(heap, "cell"),
            method: class(heap, "method"),
            builtin: class(heap, "builtin_function_or_method"),
            class: class(heap, "type"),
            module: class(heap, "module"),
            list_iter: class(heap, "list_iterator"),
            tuple_iter: class(heap, "tuple_iterator"),
            dict_iter: class(heap, "dict_keyiterator"),
            str_iter: class(heap, "str_ascii_iterator"),
        };
        // Start-up objects stay out of the generations: CPython's are there, but the scripts
        // freeze them (`gc.freeze()`) before they measure anything.
        let untracked_instance = |heap: &mut Heap, class: ClassId| {
            let id = heap.new_instance(class);
            heap.untrack(id);
            id
        };
        let small_ints = SMALL_INTS.map(|i| heap.new_int(i)).collect();
        let true_id = heap.new_int(1);
        let false_id = heap.new_int(0);
        let mut builtins = HashMap::new();
        for &(name, builtin) in BUILTINS {
            let id = untracked_instance(heap, hidden.builtin);
            side.builtins.insert(id, builtin);
            builtins.insert(name, id);
        }
        for &(name, _) in EXCEPTIONS {
            let class_id = heap.new_class(name, None);
            let id = untracked_instance(heap, hidden.class);
            side.classes.insert(
                id,
                ClassInfo {
                    name: Rc::from(name),
                    class_id,
                    exception: true,
                },
            );
            side.class_objects.insert(class_id, id);
            builtins.insert(name, id);
        }
        let object_class = heap.new_class("object", None);
        let object = untracked_instance(heap, hidden.class);
        side.classes.insert(
            object,
            ClassInfo {
                name: Rc::from("object"),
                class_id: object_class,
                exception: false,
            },
        );
        side.class_objects.insert(object_class, object);
        builtins.insert("object", object);
        let mut modules = HashMap::new();
        let mut module_attrs = HashMap::new();
        for &(module, attrs) in MODULES {
            let id = untracked_instance(heap, hidden.module);
            let name = side.intern(heap, module);
            heap.set_attr(id, "__name__", name);
            heap.decref(name);
            modules.insert(module, id);
            for &(attr, builtin) in attrs {
                let value = match builtin {
                    Builtin::Constant(value) => heap.new_int(value),
                    builtin => {
                        let id = untracked_instance(heap, hidden.builtin);
                        side.builtins.insert(id, builtin);
                        id
                    }
                };
                module_attrs.insert(format!("{module}.{attr}"), value);
            }
        }
        let gc_callbacks = heap.new_list();
        heap.untrack(gc_callbacks);
        let globals_proxy = heap.new_int(0);
        side.natives.insert(globals_proxy, Native::Globals);
        // gc.garbage exists from start-up in CPython.
        let garbage = backend.garbage(heap);
        heap.untrack(garbage);
        let core = Core {
            hidden,
            small_ints,
            true_id,
            false_id,
            builtins,
            modules,
            module_attrs,
            gc_callbacks,
            globals_proxy,
        };
        (core, side)
    }

    /// `PyLong_FromLong(value)`: a shared small int, or a new int. A new reference.
    pub(crate) fn int_new(&self, heap: &mut Heap, value: i64) -> ObjId {
        if SMALL_INTS.contains(&value) {
            let id = self.small_ints[(value - SMALL_INTS.start()) as usize];
            heap.incref(id);
            id
        } else {
            heap.new_int(value)
        }
    }

    /// `True` or `False`, a new reference.
    pub(crate) fn bool_new(&self, heap: &mut Heap, value: bool) -> ObjId {
        let id = if value { self.true_id } else { self.false_id };
        heap.incref(id);
        id
    }

    /// A builtin by name (`len`, `ValueError`, ...), borrowed.
    pub(crate) fn builtin(&self, name: &str) -> Option<ObjId> {
        self.builtins.get(name).copied()
    }

    /// A module by name, borrowed.
    pub(crate) fn module(&self, name: &str) -> ObjId {
        self.modules[name]
    }

    /// A module's attribute, borrowed.
    pub(crate) fn module_attr(&self, module: &str, name: &str) -> Option<ObjId> {
        self.module_attrs.get(&format!("{module}.{name}")).copied()
    }
}

/// Python's `repr` of a str.
pub(crate) fn str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

impl Interp {
    // -----------------------------------------------------------------------------------------
    // Making objects
    // -----------------------------------------------------------------------------------------

    /// `None`, a new reference.
    pub(crate) fn none(&self, heap: &mut Heap) -> ObjId {
        let none = heap.none();
        heap.incref(none);
        none
    }

    /// `True` or `False`, a new reference.
    pub(crate) fn bool_obj(&self, heap: &mut Heap, value: bool) -> ObjId {
        self.core.bool_new(heap, value)
    }

    /// An int, a new reference.
    pub(crate) fn int_obj(&self, heap: &mut Heap, value: i64) -> ObjId {
        self.core.int_new(heap, value)
    }

    /// A str made at run time, a new reference: the empty str and one-character Latin-1 strs
    /// are CPython's shared ones; others are new objects.
    pub(crate) fn new_str(&self, heap: &mut Heap, text: &str) -> ObjId {
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (None, _) => self.side.borrow_mut().intern(heap, text),
            (Some(c), None) if (c as u32) < 256 => {
                let id = *self
                    .side
                    .borrow_mut()
                    .chars
                    .entry(c)
                    .or_insert_with(|| heap.new_str(text));
                heap.incref(id);
                id
            }
            _ => heap.new_str(text),
        }
    }

    /// A new empty cell (`PyCell_New`).
    pub(crate) fn new_cell(&self, heap: &mut Heap) -> ObjId {
        self.alloc(heap, |heap, link| {
            heap.new_instance_with(self.core.hidden.cell, link)
        })
    }

    /// Registers a class named `name` and makes its class object. A new reference (the
    /// interpreter keeps one more: classes live as long as the run).
    pub(crate) fn define_class(
        &self,
        heap: &mut Heap,
        name: &str,
        finalizer: Option<Finalizer>,
    ) -> ObjId {
        let class_id = heap.new_class(name, finalizer);
        let id = self.alloc(heap, |heap, link| {
            heap.new_instance_with(self.core.hidden.class, link)
        });
        heap.incref(id);
        let mut side = self.side.borrow_mut();
        side.classes.insert(
            id,
            ClassInfo {
                name: Rc::from(name),
                class_id,
                exception: false,
            },
        );
        side.class_objects.insert(class_id, id);
        id
    }

    // -----------------------------------------------------------------------------------------
    // What an object is
    // -----------------------------------------------------------------------------------------

    /// Whether `id` is an int atom that stands for something else.
    pub(crate) fn is_native(&self, id: ObjId) -> bool {
        self.side.borrow().natives.contains_key(&id)
    }

    /// The class object of an instance of a user class (or an exception), borrowed.
    pub(crate) fn class_of(&self, heap: &Heap, id: ObjId) -> Option<ObjId> {
        match heap.kind(id) {
            Kind::Instance { class, .. } => self.side.borrow().class_objects.get(class).copied(),
            _ => None,
        }
    }

    /// The class information of a class object.
    pub(crate) fn class_info(&self, id: ObjId) -> Option<ClassInfo> {
        self.side.borrow().classes.get(&id).cloned()
    }

    /// `type(id).__name__`.
    pub(crate) fn type_name(&self, heap: &Heap, id: ObjId) -> String {
        if id == self.core.true_id || id == self.core.false_id {
            return "bool".into();
        }
        if let Some(native) = self.side.borrow().natives.get(&id) {
            return match native {
                Native::Range(..) => "range",
                Native::Globals => "dict",
            }
            .into();
        }
        if self.side.borrow().iters.contains_key(&id) && matches!(heap.kind(id), Kind::Int(_)) {
            return "range_iterator".into();
        }
        heap.type_name(id).to_string()
    }

    /// `hex(id(obj))`-like: an address-looking number, the same for the object's whole life.
    pub(crate) fn address(&self, id: ObjId) -> i64 {
        0x7f00_0000_0000 + (id.index() as i64) * 0x40
    }

    /// How a message names a callable.
    pub(crate) fn describe_callable(&self, heap: &Heap, id: ObjId) -> String {
        if let Some(code) = self.side.borrow().funcs.get(&id) {
            return format!("<function {} at {:#x}>", code.name, self.address(id));
        }
        format!(
            "<{} object at {:#x}>",
            self.type_name(heap, id),
            self.address(id)
        )
    }

    // -----------------------------------------------------------------------------------------
    // Values as Rust values
    // -----------------------------------------------------------------------------------------

    /// The value of an int (or bool).
    pub(crate) fn as_int(&self, heap: &Heap, id: ObjId) -> Option<i64> {
        match heap.kind(id) {
            Kind::Int(i) if !self.is_native(id) => Some(*i),
            _ => None,
        }
    }

    /// The value of an int argument, or a TypeError naming `what`.
    pub(crate) fn int_arg(&self, heap: &Heap, id: ObjId, what: &str) -> Result<i64> {
        match self.as_int(heap, id) {
            Some(i) => Ok(i),
            None => raise(
                "TypeError",
                format!(
                    "{what}: an integer is required, not '{}'",
                    self.type_name(heap, id)
                ),
            ),
        }
    }

    /// `bool(id)`.
    pub(crate) fn truthy(&self, heap: &Heap, id: ObjId) -> Result<bool> {
        if let Some(Native::Range(start, stop, step)) = self.side.borrow().natives.get(&id) {
            return Ok(range_len(*start, *stop, *step) > 0);
        }
        Ok(match heap.kind(id) {
            Kind::None => false,
            Kind::Int(i) => *i != 0,
            Kind::Str(s) => !s.is_empty(),
            Kind::List(items) | Kind::Tuple(items) => !items.is_empty(),
            Kind::Dict { entries, .. } => !entries.is_empty(),
            Kind::Instance { .. } | Kind::WeakRef { .. } => true,
        })
    }

    /// `len(id)`.
    pub(crate) fn len_of(&self, heap: &Heap, id: ObjId) -> Result<usize> {
        if let Some(Native::Range(start, stop, step)) = self.side.borrow().natives.get(&id) {
            return Ok(range_len(*start, *stop, *step) as usize);
        }
        match heap.kind(id) {
            Kind::List(items) | Kind::Tuple(items) => Ok(items.len()),
            Kind::Dict { entries, .. } => Ok(entries.len()),
            Kind::Str(s) => Ok(s.chars().count()),
            _ => raise(
                "TypeError",
                format!("object of type '{}' has no len()", self.type_name(heap, id)),
            ),
        }
    }

    // -----------------------------------------------------------------------------------------
    // repr and str
    // -----------------------------------------------------------------------------------------

    /// `repr(id)`.
    pub(crate) fn repr_of(&self, heap: &Heap, id: ObjId) -> Result<String> {
        let mut seen = Vec::new();
        self.repr_inner(heap, id, &mut seen)
    }

    /// `str(id)`.
    pub(crate) fn str_of(&self, heap: &Heap, id: ObjId) -> Result<String> {
        if let Kind::Str(s) = heap.kind(id) {
            return Ok(s.clone());
        }
        if let Some(class) = self.class_of(heap, id)
            && self.class_info(class).is_some_and(|c| c.exception)
        {
            return self.exception_message(heap, id);
        }
        self.repr_of(heap, id)
    }

    fn repr_inner(&self, heap: &Heap, id: ObjId, seen: &mut Vec<ObjId>) -> Result<String> {
        if id == self.core.true_id {
            return Ok("True".into());
        }
        if id == self.core.false_id {
            return Ok("False".into());
        }
        let native = self.side.borrow().natives.get(&id).copied();
        match native {
            Some(Native::Range(start, stop, step)) => {
                return Ok(if step == 1 {
                    format!("range({start}, {stop})")
                } else {
                    format!("range({start}, {stop}, {step})")
                });
            }
            Some(Native::Globals) => return Ok("{...}".into()),
            None => {}
        }
        if seen.contains(&id) {
            return Ok(match heap.kind(id) {
                Kind::List(_) => "[...]",
                Kind::Dict { .. } => "{...}",
                _ => "(...)",
            }
            .into());
        }
        let addr = self.address(id);
        Ok(match heap.kind(id) {
            Kind::None => "None".into(),
            Kind::Int(i) => i.to_string(),
            Kind::Str(s) => str_repr(s),
            Kind::List(items) => {
                seen.push(id);
                let parts = items
                    .iter()
                    .map(|&i| self.repr_inner(heap, i, seen))
                    .collect::<Result<Vec<_>>>()?;
                seen.pop();
                format!("[{}]", parts.join(", "))
            }
            Kind::Tuple(items) => {
                seen.push(id);
                let parts = items
                    .iter()
                    .map(|&i| self.repr_inner(heap, i, seen))
                    .collect::<Result<Vec<_>>>()?;
                seen.pop();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Kind::Dict { entries, .. } => {
                seen.push(id);
                let mut parts = Vec::new();
                for &(k, v) in entries {
                    parts.push(format!(
                        "{}: {}",
                        self.repr_inner(heap, k, seen)?,
                        self.repr_inner(heap, v, seen)?
                    ));
                }
                seen.pop();
                format!("{{{}}}", parts.join(", "))
            }
            Kind::WeakRef { referent, .. } => match referent {
                Some(r) => format!(
                    "<weakref at {addr:#x}; to '{}' at {:#x}>",
                    self.type_name(heap, *r),
                    self.address(*r)
                ),
                None => format!("<weakref at {addr:#x}; dead>"),
            },
            Kind::Instance { class, .. } => {
                let side = self.side.borrow();
                if let Some(code) = side.funcs.get(&id) {
                    return Ok(format!("<function {} at {addr:#x}>", code.name));
                }
                if let Some(builtin) = side.builtins.get(&id) {
                    return Ok(match heap.get_attr(id, "__self__") {
                        Some(this) => format!(
                            "<built-in method {} of {} object at {:#x}>",
                            builtin.name(),
                            self.type_name(heap, this),
                            self.address(this)
                        ),
                        None => format!("<built-in function {}>", builtin.name()),
                    });
                }
                if let Some(info) = side.classes.get(&id) {
                    return Ok(if info.exception || &*info.name == "object" {
                        format!("<class '{}'>", info.name)
                    } else {
                        format!("<class '__main__.{}'>", info.name)
                    });
                }
                drop(side);
                if *class == self.core.hidden.module {
                    let name = heap
                        .get_attr(id, "__name__")
                        .map(|n| self.str_of(heap, n))
                        .transpose()?
                        .unwrap_or_default();
                    return Ok(format!("<module '{name}' (built-in)>"));
                }
                if *class == self.core.hidden.method {
                    let function = heap.get_attr(id, "__func__");
                    let this = heap.get_attr(id, "__self__");
                    if let (Some(function), Some(this)) = (function, this) {
                        let name = self
                            .side
                            .borrow()
                            .funcs
                            .get(&function)
                            .map(|c| c.name.clone())
                            .unwrap_or_default();
                        let owner = self.type_name(heap, this);
                        seen.push(id);
                        let inner = self.repr_inner(heap, this, seen)?;
                        seen.pop();
                        return Ok(format!("<bound method {owner}.{name} of {inner}>"));
                    }
                }
                if let Some(class_obj) = self.class_of(heap, id)
                    && let Some(info) = self.class_info(class_obj)
                    && info.exception
                {
                    let args = heap.get_attr(id, "args");
                    let inner = match args.map(|a| heap.kind(a)) {
                        Some(Kind::Tuple(items)) if items.len() == 1 => {
                            self.repr_inner(heap, items[0], seen)?
                        }
                        _ => String::new(),
                    };
                    return Ok(format!("{}({inner})", info.name));
                }
                let name = heap.type_name(id).to_string();
                let hidden = [
                    self.core.hidden.cell,
                    self.core.hidden.list_iter,
                    self.core.hidden.tuple_iter,
                    self.core.hidden.dict_iter,
                    self.core.hidden.str_iter,
                ];
                if hidden.contains(class) {
                    format!("<{name} object at {addr:#x}>")
                } else {
                    format!("<__main__.{name} object at {addr:#x}>")
                }
            }
        })
    }

    // -----------------------------------------------------------------------------------------
    // Comparisons and arithmetic
    // -----------------------------------------------------------------------------------------

    /// `a == b`.
    pub(crate) fn equal(&self, heap: &Heap, a: ObjId, b: ObjId) -> Result<bool> {
        if a == b {
            return Ok(true);
        }
        let natives = {
            let side = self.side.borrow();
            (side.natives.get(&a).copied(), side.natives.get(&b).copied())
        };
        match natives {
            (Some(Native::Range(a0, a1, a2)), Some(Native::Range(b0, b1, b2))) => {
                let (la, lb) = (range_len(a0, a1, a2), range_len(b0, b1, b2));
                return Ok(la == lb && (la == 0 || (a0 == b0 && (la == 1 || a2 == b2))));
            }
            (None, None) => {}
            _ => return Ok(false),
        }
        Ok(match (heap.kind(a), heap.kind(b)) {
            (Kind::None, Kind::None) => true,
            (Kind::Int(x), Kind::Int(y)) => x == y,
            (Kind::Str(x), Kind::Str(y)) => x == y,
            (Kind::List(x), Kind::List(y)) | (Kind::Tuple(x), Kind::Tuple(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                let (x, y) = (x.clone(), y.clone());
                for (p, q) in x.into_iter().zip(y) {
                    if !self.equal(heap, p, q)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Kind::Dict { entries: x, .. }, Kind::Dict { entries: y, .. }) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for &(k, v) in x {
                    let other = y.iter().find(|&&(k2, _)| heap.kind(k2) == heap.kind(k));
                    match other {
                        Some(&(_, v2)) if self.equal(heap, v, v2)? => {}
                        _ => return Ok(false),
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// `a < b` and the other orderings, as -1, 0, 1.
    fn order(&self, heap: &Heap, a: ObjId, b: ObjId, op: &str) -> Result<std::cmp::Ordering> {
        use std::cmp::Ordering;
        match (
            self.as_int(heap, a),
            self.as_int(heap, b),
            heap.kind(a),
            heap.kind(b),
        ) {
            (Some(x), Some(y), _, _) => Ok(x.cmp(&y)),
            (_, _, Kind::Str(x), Kind::Str(y)) => Ok(x.cmp(y)),
            (_, _, Kind::List(x), Kind::List(y)) | (_, _, Kind::Tuple(x), Kind::Tuple(y)) => {
                let (x, y) = (x.clone(), y.clone());
                for (p, q) in x.iter().zip(&y) {
                    if !self.equal(heap, *p, *q)? {
                        return self.order(heap, *p, *q, op);
                    }
                }
                Ok(x.len().cmp(&y.len()))
            }
            _ => {
                let _ = Ordering::Equal;
                raise(
                    "TypeError",
                    format!(
                        "'{op}' not supported between instances of '{}' and '{}'",
                        self.type_name(heap, a),
                        self.type_name(heap, b)
                    ),
                )
            }
        }
    }

    /// `a op b` for a comparison operator.
    pub(crate) fn compare(&self, heap: &mut Heap, a: ObjId, op: CmpOp, b: ObjId) -> Result<bool> {
        use std::cmp::Ordering::*;
        Ok(match op {
            CmpOp::Is => a == b,
            CmpOp::IsNot => a != b,
            CmpOp::Eq => self.equal(heap, a, b)?,
            CmpOp::NotEq => !self.equal(heap, a, b)?,
            CmpOp::Lt => self.order(heap, a, b, "<")? == Less,
            CmpOp::LtE => self.order(heap, a, b, "<=")? != Greater,
            CmpOp::Gt => self.order(heap, a, b, ">")? == Greater,
            CmpOp::GtE => self.order(heap, a, b, ">=")? != Less,
            CmpOp::In => self.contains(heap, b, a)?,
            CmpOp::NotIn => !self.contains(heap, b, a)?,
        })
    }

    /// `item in container`.
    pub(crate) fn contains(&self, heap: &Heap, container: ObjId, item: ObjId) -> Result<bool> {
        let native = self.side.borrow().natives.get(&container).copied();
        match native {
            Some(Native::Globals) => {
                let Kind::Str(name) = heap.kind(item) else {
                    return Ok(false);
                };
                return Ok(self.globals.borrow().get(name).is_some());
            }
            Some(Native::Range(start, stop, step)) => {
                let Some(i) = self.as_int(heap, item) else {
                    return Ok(false);
                };
                let n = range_len(start, stop, step);
                return Ok((i - start) % step == 0 && (0..n).contains(&((i - start) / step)));
            }
            None => {}
        }
        match heap.kind(container) {
            Kind::List(items) | Kind::Tuple(items) => {
                for &x in &items.clone() {
                    if self.equal(heap, x, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Dict { .. } => {
                self.check_key(heap, item)?;
                Ok(heap.dict_get(container, item).is_some())
            }
            Kind::Str(s) => match heap.kind(item) {
                Kind::Str(needle) => Ok(s.contains(needle.as_str())),
                _ => raise(
                    "TypeError",
                    format!(
                        "'in <string>' requires string as left operand, not {}",
                        self.type_name(heap, item)
                    ),
                ),
            },
            _ => raise(
                "TypeError",
                format!(
                    "argument of type '{}' is not iterable",
                    self.type_name(heap, container)
                ),
            ),
        }
    }

    /// Refuses a dict key the heap cannot take.
    pub(crate) fn check_key(&self, heap: &Heap, key: ObjId) -> Result<()> {
        match heap.kind(key) {
            Kind::None | Kind::Str(_) => Ok(()),
            Kind::Int(_) if !self.is_native(key) => Ok(()),
            Kind::List(_) | Kind::Dict { .. } => raise(
                "TypeError",
                format!("unhashable type: '{}'", self.type_name(heap, key)),
            ),
            _ => unsupported(
                0,
                format!("a dict key of type '{}'", self.type_name(heap, key)),
                "the subset's dict keys are None, bools, ints and strs",
            ),
        }
    }

    fn int_result(&self, heap: &mut Heap, value: Option<i64>, line: u32) -> Result<ObjId> {
        match value {
            Some(v) => Ok(self.int_obj(heap, v)),
            None => unsupported(
                line,
                "an int beyond 64 bits",
                "the subset's ints are 64-bit; CPython's are unbounded",
            ),
        }
    }

    /// `a op b`: a new reference.
    pub(crate) fn binop(
        &self,
        heap: &mut Heap,
        a: ObjId,
        op: BinOp,
        b: ObjId,
        line: u32,
    ) -> Result<ObjId> {
        if let (Some(x), Some(y)) = (self.as_int(heap, a), self.as_int(heap, b)) {
            let value = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::FloorDiv | BinOp::Mod => {
                    if y == 0 {
                        return raise("ZeroDivisionError", "integer division or modulo by zero");
                    }
                    let (q, r) = (x.div_euclid(y), x.rem_euclid(y));
                    // Python rounds the quotient down, and the remainder takes the divisor's sign.
                    let (q, r) = if y < 0 && r != 0 {
                        (q + 1, r + y)
                    } else {
                        (q, r)
                    };
                    if op == BinOp::FloorDiv {
                        Some(q)
                    } else {
                        Some(r)
                    }
                }
                BinOp::Pow => {
                    if y < 0 {
                        return unsupported(line, "a negative power", "it makes a float");
                    }
                    u32::try_from(y).ok().and_then(|y| x.checked_pow(y))
                }
                BinOp::LShift => u32::try_from(y)
                    .ok()
                    .and_then(|y| x.checked_shl(y))
                    .filter(|v| v >> y.min(63) == x),
                BinOp::RShift => Some(x >> y.clamp(0, 63)),
                BinOp::BitAnd => Some(x & y),
                BinOp::BitOr => Some(x | y),
                BinOp::BitXor => Some(x ^ y),
            };
            return self.int_result(heap, value, line);
        }
        match (op, heap.kind(a).clone(), heap.kind(b).clone()) {
            (BinOp::Add, Kind::Str(x), Kind::Str(y)) => Ok(self.new_str(heap, &(x + &y))),
            (BinOp::Add, Kind::List(x), Kind::List(y)) => {
                let items: Vec<ObjId> = x.into_iter().chain(y).collect();
                Ok(self.new_list(heap, &items))
            }
            (BinOp::Add, Kind::Tuple(x), Kind::Tuple(y)) => {
                let items: Vec<ObjId> = x.into_iter().chain(y).collect();
                Ok(self.new_tuple(heap, &items))
            }
            (BinOp::Mul, Kind::Str(s), Kind::Int(n)) if !self.is_native(b) => {
                Ok(self.new_str(heap, &s.repeat(n.max(0) as usize)))
            }
            (BinOp::Mul, Kind::List(x), Kind::Int(n)) if !self.is_native(b) => {
                let items: Vec<ObjId> = (0..n.max(0)).flat_map(|_| x.iter().copied()).collect();
                Ok(self.new_list(heap, &items))
            }
            (BinOp::Mul, Kind::Tuple(x), Kind::Int(n)) if !self.is_native(b) => {
                let items: Vec<ObjId> = (0..n.max(0)).flat_map(|_| x.iter().copied()).collect();
                Ok(self.new_tuple(heap, &items))
            }
            (BinOp::Mul, Kind::Int(_), Kind::List(_) | Kind::Tuple(_) | Kind::Str(_)) => {
                self.binop(heap, b, op, a, line)
            }
            (BinOp::Mod, Kind::Str(_), _) => unsupported(
                line,
                "`%` formatting of a str",
                "use an f-string or str() and +",
            ),
            _ => {
                let symbol = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::FloorDiv => "//",
                    BinOp::Mod => "%",
                    BinOp::Pow => "** or pow()",
                    BinOp::LShift => "<<",
                    BinOp::RShift => ">>",
                    BinOp::BitAnd => "&",
                    BinOp::BitOr => "|",
                    BinOp::BitXor => "^",
                };
                raise(
                    "TypeError",
                    format!(
                        "unsupported operand type(s) for {symbol}: '{}' and '{}'",
                        self.type_name(heap, a),
                        self.type_name(heap, b)
                    ),
                )
            }
        }
    }

    /// `a op= b`: a list extended in place stays the same object.
    pub(crate) fn binop_inplace(
        &self,
        heap: &mut Heap,
        a: ObjId,
        op: BinOp,
        b: ObjId,
        line: u32,
    ) -> Result<ObjId> {
        if op == BinOp::Add && matches!(heap.kind(a), Kind::List(_)) {
            let items = self.collect_items(heap, b)?;
            for &item in &items {
                heap.list_append(a, item);
            }
            Self::release(heap, items);
            heap.incref(a);
            return Ok(a);
        }
        self.binop(heap, a, op, b, line)
    }

    /// `op value`: a new reference.
    pub(crate) fn unary(&self, heap: &mut Heap, op: UnaryOp, value: ObjId) -> Result<ObjId> {
        match op {
            UnaryOp::Not => {
                let truth = self.truthy(heap, value)?;
                Ok(self.bool_obj(heap, !truth))
            }
            _ => match self.as_int(heap, value) {
                Some(i) => {
                    let result = match op {
                        UnaryOp::Neg => i.checked_neg(),
                        UnaryOp::Pos => Some(i),
                        _ => Some(!i),
                    };
                    self.int_result(heap, result, 0)
                }
                None => raise(
                    "TypeError",
                    format!(
                        "bad operand type for unary operator: '{}'",
                        self.type_name(heap, value)
                    ),
                ),
            },
        }
    }

    // -----------------------------------------------------------------------------------------
    // Attributes
    // -----------------------------------------------------------------------------------------

    fn no_attribute<T>(&self, heap: &Heap, obj: ObjId, name: &str) -> Result<T> {
        if let Some(info) = self.class_info(obj) {
            return raise(
                "AttributeError",
                format!("type object '{}' has no attribute '{name}'", info.name),
            );
        }
        if matches!(heap.kind(obj), Kind::Instance { class, .. } if *class == self.core.hidden.module)
        {
            return raise(
                "AttributeError",
                format!("module has no attribute '{name}'"),
            );
        }
        raise(
            "AttributeError",
            format!(
                "'{}' object has no attribute '{name}'",
                self.type_name(heap, obj)
            ),
        )
    }

    /// `obj.name`: a new reference.
    pub(crate) fn get_attr(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        name: &str,
        line: u32,
    ) -> Result<ObjId> {
        match self.load_method(heap, obj, name, line)? {
            Method::Bound(value) => Ok(value),
            Method::Function(function) => {
                // A function found on the class: a new bound method object.
                let method = self.alloc(heap, |heap, link| {
                    heap.new_instance_with(self.core.hidden.method, link)
                });
                heap.set_attr(method, "__func__", function);
                heap.set_attr(method, "__self__", obj);
                heap.decref(function);
                Ok(method)
            }
            Method::Builtin(kind) => {
                // A method of a builtin type, looked up without a call: a new builtin method.
                let method = self.alloc(heap, |heap, link| {
                    heap.new_instance_with(self.core.hidden.builtin, link)
                });
                heap.set_attr(method, "__self__", obj);
                self.side
                    .borrow_mut()
                    .builtins
                    .insert(method, Builtin::Method(kind));
                Ok(method)
            }
        }
    }

    /// `LOAD_METHOD obj.name` (see [`Method`]).
    pub(crate) fn load_method(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        name: &str,
        line: u32,
    ) -> Result<Method> {
        let found = |heap: &mut Heap, id: ObjId| {
            heap.incref(id);
            Ok(Method::Bound(id))
        };
        // Objects with a kind of their own first.
        match heap.kind(obj) {
            Kind::List(_) | Kind::Dict { .. } | Kind::Str(_) => {
                return match MethodKind::of(heap.kind(obj), name) {
                    Some(kind) => Ok(Method::Builtin(kind)),
                    None => self.no_attribute(heap, obj, name),
                };
            }
            Kind::Instance { .. } => {}
            _ => return self.no_attribute(heap, obj, name),
        }
        let Kind::Instance { class, .. } = heap.kind(obj).clone() else {
            unreachable!("checked above")
        };
        let hidden = &self.core.hidden;
        if class == hidden.module {
            let module = heap.get_attr(obj, "__name__").map(|n| self.str_of(heap, n));
            let module = module.transpose()?.unwrap_or_default();
            return match (module.as_str(), name) {
                ("gc", "garbage") => {
                    let garbage = match self.backend.try_borrow_mut() {
                        Ok(mut backend) => backend.garbage(heap),
                        Err(_) => {
                            return unsupported(
                                line,
                                "gc.garbage inside a collection",
                                "read it after the collection",
                            );
                        }
                    };
                    found(heap, garbage)
                }
                ("gc", "callbacks") => found(heap, self.core.gc_callbacks),
                (_, "__name__") => {
                    let id = heap.get_attr(obj, "__name__").expect("modules have names");
                    found(heap, id)
                }
                (module, name) => match self.core.module_attr(module, name) {
                    Some(id) => found(heap, id),
                    None => raise(
                        "AttributeError",
                        format!("module '{module}' has no attribute '{name}'"),
                    ),
                },
            };
        }
        if class == hidden.class {
            if name == "__name__"
                && let Some(info) = self.class_info(obj)
            {
                let id = self.new_str(heap, &info.name);
                return Ok(Method::Bound(id));
            }
            return match heap.get_attr(obj, name) {
                Some(id) => found(heap, id),
                None => self.no_attribute(heap, obj, name),
            };
        }
        if class == hidden.function && name == "__name__" {
            let code_name = self.side.borrow().funcs.get(&obj).map(|c| c.name.clone());
            if let Some(code_name) = code_name {
                let id = self.new_str(heap, &code_name);
                return Ok(Method::Bound(id));
            }
        }
        if let Some(id) = heap.get_attr(obj, name) {
            return found(heap, id);
        }
        if let Some(class_obj) = self.class_of(heap, obj)
            && let Some(value) = heap.get_attr(class_obj, name)
        {
            heap.incref(value);
            let is_function = self.side.borrow().funcs.contains_key(&value);
            return Ok(if is_function {
                Method::Function(value)
            } else {
                Method::Bound(value)
            });
        }
        self.no_attribute(heap, obj, name)
    }

    /// `obj.name = value` (`value` borrowed).
    pub(crate) fn set_attr(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        name: &str,
        value: ObjId,
        line: u32,
    ) -> Result<()> {
        let user_instance = match heap.kind(obj) {
            Kind::Instance { class, .. } => {
                let hidden = &self.core.hidden;
                let internal = [
                    hidden.function,
                    hidden.cell,
                    hidden.method,
                    hidden.builtin,
                    hidden.module,
                    hidden.list_iter,
                    hidden.tuple_iter,
                    hidden.dict_iter,
                    hidden.str_iter,
                ];
                !internal.contains(class)
            }
            _ => false,
        };
        if !user_instance {
            return raise(
                "AttributeError",
                format!(
                    "'{}' object has no attribute '{name}' and none can be set",
                    self.type_name(heap, obj)
                ),
            );
        }
        if self.class_info(obj).is_some() && name == "__del__" {
            return unsupported(
                line,
                "setting `__del__` on a class after it was made",
                "define __del__ in the class body",
            );
        }
        heap.set_attr(obj, name, value);
        Ok(())
    }

    /// `del obj.name`.
    pub(crate) fn del_attr(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        name: &str,
        line: u32,
    ) -> Result<()> {
        let _ = line;
        match heap.kind(obj) {
            Kind::Instance { .. } if heap.get_attr(obj, name).is_some() => {
                heap.del_attr(obj, name);
                Ok(())
            }
            _ => self.no_attribute(heap, obj, name),
        }
    }

    /// If `callable` is a bound method: its function and object (borrowed).
    pub(crate) fn bound_method(&self, heap: &Heap, callable: ObjId) -> Option<(ObjId, ObjId)> {
        match heap.kind(callable) {
            Kind::Instance { class, .. } if *class == self.core.hidden.method => Some((
                heap.get_attr(callable, "__func__")?,
                heap.get_attr(callable, "__self__")?,
            )),
            _ => None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Items and slices
    // -----------------------------------------------------------------------------------------

    fn index_of(&self, heap: &Heap, index: ObjId, len: usize, what: &str) -> Result<usize> {
        let Some(i) = self.as_int(heap, index) else {
            return raise(
                "TypeError",
                format!(
                    "{what} indices must be integers, not {}",
                    self.type_name(heap, index)
                ),
            );
        };
        let len = len as i64;
        let i = if i < 0 { i + len } else { i };
        if (0..len).contains(&i) {
            Ok(i as usize)
        } else {
            raise("IndexError", format!("{what} index out of range"))
        }
    }

    /// `obj[index]`: a new reference.
    pub(crate) fn get_item(&self, heap: &mut Heap, obj: ObjId, index: ObjId) -> Result<ObjId> {
        if let Some(Native::Globals) = self.side.borrow().natives.get(&obj) {
            let Kind::Str(name) = heap.kind(index) else {
                return raise("KeyError", self.repr_of(heap, index)?);
            };
            let found = self.globals.borrow().get(name);
            return match found {
                Some(id) => {
                    heap.incref(id);
                    Ok(id)
                }
                None => raise("KeyError", str_repr(name)),
            };
        }
        match heap.kind(obj).clone() {
            Kind::List(items) => {
                let i = self.index_of(heap, index, items.len(), "list")?;
                heap.incref(items[i]);
                Ok(items[i])
            }
            Kind::Tuple(items) => {
                let i = self.index_of(heap, index, items.len(), "tuple")?;
                heap.incref(items[i]);
                Ok(items[i])
            }
            Kind::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let i = self.index_of(heap, index, chars.len(), "string")?;
                Ok(self.new_str(heap, &chars[i].to_string()))
            }
            Kind::Dict { .. } => {
                self.check_key(heap, index)?;
                match heap.dict_get(obj, index) {
                    Some(v) => {
                        heap.incref(v);
                        Ok(v)
                    }
                    None => raise("KeyError", self.repr_of(heap, index)?),
                }
            }
            _ => {
                let native = self.side.borrow().natives.get(&obj).copied();
                if let Some(Native::Range(start, stop, step)) = native {
                    let n = range_len(start, stop, step) as usize;
                    let i = self.index_of(heap, index, n, "range object")?;
                    return Ok(self.int_obj(heap, start + i as i64 * step));
                }
                raise(
                    "TypeError",
                    format!(
                        "'{}' object is not subscriptable",
                        self.type_name(heap, obj)
                    ),
                )
            }
        }
    }

    /// `obj[index] = value` (`value` borrowed).
    pub(crate) fn set_item(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        index: ObjId,
        value: ObjId,
    ) -> Result<()> {
        match heap.kind(obj) {
            Kind::List(items) => {
                let i = self.index_of(heap, index, items.len(), "list assignment")?;
                heap.list_set(obj, i, value);
                Ok(())
            }
            Kind::Dict { .. } => {
                self.check_key(heap, index)?;
                heap.dict_set(obj, index, value);
                Ok(())
            }
            _ => raise(
                "TypeError",
                format!(
                    "'{}' object does not support item assignment",
                    self.type_name(heap, obj)
                ),
            ),
        }
    }

    /// `del obj[index]`.
    pub(crate) fn del_item(&self, heap: &mut Heap, obj: ObjId, index: ObjId) -> Result<()> {
        match heap.kind(obj) {
            Kind::List(items) => {
                let i = self.index_of(heap, index, items.len(), "list assignment")?;
                let removed = heap.list_splice(obj, i, i + 1, &[]);
                Self::release(heap, removed.into_iter().rev());
                Ok(())
            }
            Kind::Dict { .. } => {
                self.check_key(heap, index)?;
                if heap.dict_get(obj, index).is_none() {
                    return raise("KeyError", self.repr_of(heap, index)?);
                }
                heap.dict_del(obj, index);
                Ok(())
            }
            _ => raise(
                "TypeError",
                format!(
                    "'{}' object does not support item deletion",
                    self.type_name(heap, obj)
                ),
            ),
        }
    }

    /// The bounds of `obj[lower:upper]`, clamped as Python clamps them.
    pub(crate) fn slice_bounds(
        &self,
        heap: &mut Heap,
        frame: &mut crate::interp::Frame,
        obj: ObjId,
        lower: &Option<Box<crate::ast::Expr>>,
        upper: &Option<Box<crate::ast::Expr>>,
    ) -> Result<(usize, usize)> {
        let len = self.len_of(heap, obj)? as i64;
        let mut bound =
            |heap: &mut Heap, e: &Option<Box<crate::ast::Expr>>, default: i64| -> Result<i64> {
                let Some(e) = e else { return Ok(default) };
                let value = self.eval(heap, frame, e)?;
                let result = if heap.kind(value) == &Kind::None {
                    Ok(default)
                } else {
                    self.int_arg(heap, value, "slice indices")
                };
                heap.decref(value);
                let i = result?;
                Ok(if i < 0 { (i + len).max(0) } else { i.min(len) })
            };
        let start = bound(heap, lower, 0)?;
        let end = bound(heap, upper, len)?;
        Ok((start as usize, end.max(start) as usize))
    }

    /// `obj[start:end]`: a new reference.
    pub(crate) fn get_slice(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        start: usize,
        end: usize,
    ) -> Result<ObjId> {
        match heap.kind(obj).clone() {
            Kind::List(items) => Ok(self.new_list(heap, &items[start..end])),
            Kind::Tuple(items) => {
                if start == 0 && end == items.len() {
                    heap.incref(obj);
                    return Ok(obj);
                }
                Ok(self.new_tuple(heap, &items[start..end]))
            }
            Kind::Str(s) => {
                let text: String = s.chars().skip(start).take(end - start).collect();
                Ok(self.new_str(heap, &text))
            }
            _ => raise(
                "TypeError",
                format!(
                    "'{}' object is not subscriptable",
                    self.type_name(heap, obj)
                ),
            ),
        }
    }

    /// `obj[start:end] = value` (`value` borrowed).
    pub(crate) fn set_slice(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        start: usize,
        end: usize,
        value: ObjId,
    ) -> Result<()> {
        if !matches!(heap.kind(obj), Kind::List(_)) {
            return raise(
                "TypeError",
                format!(
                    "'{}' object does not support item assignment",
                    self.type_name(heap, obj)
                ),
            );
        }
        let items = self.collect_items(heap, value)?;
        let removed = heap.list_splice(obj, start, end, &items);
        Self::release(heap, items);
        Self::release(heap, removed.into_iter().rev());
        Ok(())
    }

    /// `del obj[start:end]`.
    pub(crate) fn del_slice(
        &self,
        heap: &mut Heap,
        obj: ObjId,
        start: usize,
        end: usize,
    ) -> Result<()> {
        if !matches!(heap.kind(obj), Kind::List(_)) {
            return raise(
                "TypeError",
                format!(
                    "'{}' object does not support item deletion",
                    self.type_name(heap, obj)
                ),
            );
        }
        let removed = heap.list_splice(obj, start, end, &[]);
        Self::release(heap, removed.into_iter().rev());
        Ok(())
    }

    /// The items of an iterable, as new references (for `list(x)`, `x + y`, unpacking).
    pub(crate) fn collect_items(&self, heap: &mut Heap, iterable: ObjId) -> Result<Vec<ObjId>> {
        if let Kind::List(items) | Kind::Tuple(items) = heap.kind(iterable) {
            let items = items.to_vec();
            for &i in &items {
                heap.incref(i);
            }
            return Ok(items);
        }
        let iterator = self.get_iter(heap, iterable, 0)?;
        let mut items = Vec::new();
        loop {
            match self.iter_next(heap, iterator) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => {
                    Self::release(heap, items);
                    self.side.borrow_mut().iters.remove(&iterator);
                    heap.decref(iterator);
                    return Err(e);
                }
            }
        }
        self.side.borrow_mut().iters.remove(&iterator);
        heap.decref(iterator);
        Ok(items)
    }

    /// `a, b = value`: the items, new references.
    pub(crate) fn unpack(&self, heap: &mut Heap, value: ObjId, n: usize) -> Result<Vec<ObjId>> {
        let items = self.collect_items(heap, value)?;
        if items.len() != n {
            let got = items.len();
            Self::release(heap, items);
            return if got > n {
                raise(
                    "ValueError",
                    format!("too many values to unpack (expected {n})"),
                )
            } else {
                raise(
                    "ValueError",
                    format!("not enough values to unpack (expected {n}, got {got})"),
                )
            };
        }
        Ok(items)
    }

    // -----------------------------------------------------------------------------------------
    // Iteration
    // -----------------------------------------------------------------------------------------

    /// `GET_ITER`: an iterator over `obj`, a new reference.
    pub(crate) fn get_iter(&self, heap: &mut Heap, obj: ObjId, line: u32) -> Result<ObjId> {
        let _ = line;
        if self.side.borrow().iters.contains_key(&obj) {
            heap.incref(obj);
            return Ok(obj);
        }
        let native = self.side.borrow().natives.get(&obj).copied();
        if let Some(Native::Range(start, stop, step)) = native {
            // range_iterator is not a GC type: an atom, and no count.
            let it = heap.new_int(start);
            self.side
                .borrow_mut()
                .iters
                .insert(it, IterState::Range(start, stop, step));
            return Ok(it);
        }
        let hidden = &self.core.hidden;
        let class = match heap.kind(obj) {
            Kind::List(_) => hidden.list_iter,
            Kind::Tuple(_) => hidden.tuple_iter,
            Kind::Dict { .. } => hidden.dict_iter,
            Kind::Str(_) => hidden.str_iter,
            _ => {
                return raise(
                    "TypeError",
                    format!("'{}' object is not iterable", self.type_name(heap, obj)),
                );
            }
        };
        let it = self.alloc(heap, |heap, link| heap.new_instance_with(class, link));
        heap.set_attr(it, "__seq__", obj);
        self.side.borrow_mut().iters.insert(it, IterState::Seq(0));
        Ok(it)
    }

    /// `FOR_ITER`: the next item (a new reference), or `None` once exhausted.
    pub(crate) fn iter_next(&self, heap: &mut Heap, it: ObjId) -> Result<Option<ObjId>> {
        let state = self.side.borrow().iters.get(&it).cloned();
        match state {
            Some(IterState::Range(next, stop, step)) => {
                if (step > 0 && next < stop) || (step < 0 && next > stop) {
                    self.side
                        .borrow_mut()
                        .iters
                        .insert(it, IterState::Range(next + step, stop, step));
                    Ok(Some(self.int_obj(heap, next)))
                } else {
                    Ok(None)
                }
            }
            Some(IterState::Seq(index)) => {
                let Some(seq) = heap.get_attr(it, "__seq__") else {
                    return Ok(None);
                };
                let item = match heap.kind(seq) {
                    Kind::List(items) | Kind::Tuple(items) => {
                        items.get(index).copied().inspect(|&i| heap.incref(i))
                    }
                    Kind::Dict { entries, .. } => entries
                        .get(index)
                        .map(|&(k, _)| k)
                        .inspect(|&k| heap.incref(k)),
                    Kind::Str(s) => s
                        .chars()
                        .nth(index)
                        .map(|c| self.new_str(heap, &c.to_string())),
                    _ => None,
                };
                match item {
                    Some(item) => {
                        self.side
                            .borrow_mut()
                            .iters
                            .insert(it, IterState::Seq(index + 1));
                        Ok(Some(item))
                    }
                    None => {
                        // listiter_next: the exhausted iterator lets go of its list at once.
                        heap.del_attr(it, "__seq__");
                        Ok(None)
                    }
                }
            }
            None => raise("TypeError", "not an iterator"),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Exceptions
    // -----------------------------------------------------------------------------------------

    /// Whether the class object `handler` catches an exception of class `raised`.
    pub(crate) fn exception_matches(
        &self,
        heap: &Heap,
        handler: ObjId,
        raised: &str,
    ) -> Result<bool> {
        let Some(info) = self.class_info(handler).filter(|c| c.exception) else {
            return raise(
                "TypeError",
                format!(
                    "catching classes that do not inherit from BaseException is not allowed (got \
                     '{}')",
                    self.type_name(heap, handler)
                ),
            );
        };
        let mut class = Some(raised);
        while let Some(name) = class {
            if name == &*info.name {
                return Ok(true);
            }
            class = EXCEPTIONS
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, parent)| *parent);
        }
        Ok(false)
    }

    /// The object `except ... as e` binds: a new exception instance. A new reference.
    pub(crate) fn exception_object(&self, heap: &mut Heap, e: &Exception) -> Result<ObjId> {
        let class = self
            .core
            .builtin(&e.class)
            .and_then(|c| self.class_info(c))
            .expect("raised exceptions are builtin classes");
        let args: Vec<ObjId> = if e.message.is_empty() {
            Vec::new()
        } else {
            vec![self.new_str(heap, &e.message)]
        };
        let object = self.alloc(heap, |heap, link| {
            heap.new_instance_with(class.class_id, link)
        });
        let tuple = self.new_tuple(heap, &args);
        Self::release(heap, args);
        heap.set_attr(object, "args", tuple);
        heap.decref(tuple);
        Ok(object)
    }

    /// `str(e)` of an exception instance.
    pub(crate) fn exception_message(&self, heap: &Heap, id: ObjId) -> Result<String> {
        match heap.get_attr(id, "args").map(|a| heap.kind(a).clone()) {
            Some(Kind::Tuple(items)) if items.is_empty() => Ok(String::new()),
            Some(Kind::Tuple(items)) if items.len() == 1 => self.str_of(heap, items[0]),
            Some(Kind::Tuple(_)) => self.repr_of(heap, heap.get_attr(id, "args").expect("checked")),
            _ => Ok(String::new()),
        }
    }

    /// What `raise value` raises.
    pub(crate) fn exception_from(&self, heap: &Heap, value: ObjId) -> Result<Exception> {
        if let Some(info) = self.class_info(value).filter(|c| c.exception) {
            return Ok(Exception::new(&info.name, ""));
        }
        if let Some(class) = self.class_of(heap, value)
            && let Some(info) = self.class_info(class).filter(|c| c.exception)
        {
            return Ok(Exception::new(
                &info.name,
                self.exception_message(heap, value)?,
            ));
        }
        raise("TypeError", "exceptions must derive from BaseException")
    }
}

/// How many values `range(start, stop, step)` has.
pub(crate) fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    }
}
