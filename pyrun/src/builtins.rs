//! The builtin functions, the methods of lists, dicts and strs, and the modules `gc`, `sys` and
//! `weakref`: each what CPython 3.11's does, including the containers it makes (a `gc.get_count()`
//! makes a 3-tuple, `gc.set_threshold(...)` its argument tuple, `C(x)` its argument tuple), since
//! those move `gc.get_count()` and so decide when collections happen.
//!
//! The `gc` functions are lab 04's (through [`Backend`](crate::backend::Backend)), except
//! `gc.is_tracked` and `gc.is_finalized`, which read the heap.

use std::rc::Rc;

use pyheap::{Action, Callback, Heap, Kind, ObjId};

use crate::error::{Result, raise, unsupported};
use crate::interp::Interp;
use crate::objects::Native;

/// A builtin callable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Builtin {
    Print,
    Len,
    Id,
    Range,
    Str,
    Repr,
    Int,
    Bool,
    List,
    Tuple,
    Dict,
    Sum,
    Min,
    Max,
    Abs,
    All,
    Any,
    Globals,
    Hasattr,
    Getattr,
    Setattr,
    Isinstance,
    Sorted,
    GcCollect,
    GcGetCount,
    GcGetThreshold,
    GcSetThreshold,
    GcEnable,
    GcDisable,
    GcIsEnabled,
    GcGetStats,
    GcIsTracked,
    GcIsFinalized,
    GcSetDebug,
    GcGetDebug,
    GcFreeze,
    GcUnfreeze,
    GcGetFreezeCount,
    GcGetObjects,
    SysGetrefcount,
    WeakrefRef,
    /// A module constant (`gc.DEBUG_SAVEALL`): an int, not a callable.
    Constant(i64),
    /// A method of a list, dict or str, bound to its object (`kept.append`).
    Method(MethodKind),
}

/// The builtins, by name.
pub(crate) const BUILTINS: &[(&str, Builtin)] = &[
    ("print", Builtin::Print),
    ("len", Builtin::Len),
    ("id", Builtin::Id),
    ("range", Builtin::Range),
    ("str", Builtin::Str),
    ("repr", Builtin::Repr),
    ("int", Builtin::Int),
    ("bool", Builtin::Bool),
    ("list", Builtin::List),
    ("tuple", Builtin::Tuple),
    ("dict", Builtin::Dict),
    ("sum", Builtin::Sum),
    ("min", Builtin::Min),
    ("max", Builtin::Max),
    ("abs", Builtin::Abs),
    ("all", Builtin::All),
    ("any", Builtin::Any),
    ("globals", Builtin::Globals),
    ("hasattr", Builtin::Hasattr),
    ("getattr", Builtin::Getattr),
    ("setattr", Builtin::Setattr),
    ("isinstance", Builtin::Isinstance),
    ("sorted", Builtin::Sorted),
];

/// The modules and their attributes.
pub(crate) const MODULES: &[(&str, &[(&str, Builtin)])] = &[
    (
        "gc",
        &[
            ("collect", Builtin::GcCollect),
            ("get_count", Builtin::GcGetCount),
            ("get_threshold", Builtin::GcGetThreshold),
            ("set_threshold", Builtin::GcSetThreshold),
            ("enable", Builtin::GcEnable),
            ("disable", Builtin::GcDisable),
            ("isenabled", Builtin::GcIsEnabled),
            ("get_stats", Builtin::GcGetStats),
            ("is_tracked", Builtin::GcIsTracked),
            ("is_finalized", Builtin::GcIsFinalized),
            ("set_debug", Builtin::GcSetDebug),
            ("get_debug", Builtin::GcGetDebug),
            ("freeze", Builtin::GcFreeze),
            ("unfreeze", Builtin::GcUnfreeze),
            ("get_freeze_count", Builtin::GcGetFreezeCount),
            ("get_objects", Builtin::GcGetObjects),
            ("DEBUG_STATS", Builtin::Constant(1)),
            ("DEBUG_COLLECTABLE", Builtin::Constant(2)),
            ("DEBUG_UNCOLLECTABLE", Builtin::Constant(4)),
            ("DEBUG_SAVEALL", Builtin::Constant(32)),
            ("DEBUG_LEAK", Builtin::Constant(38)),
        ],
    ),
    ("sys", &[("getrefcount", Builtin::SysGetrefcount)]),
    ("weakref", &[("ref", Builtin::WeakrefRef)]),
];

impl Builtin {
    /// Its `__name__`.
    pub(crate) fn name(self) -> &'static str {
        if let Builtin::Method(m) = self {
            return m.name();
        }
        BUILTINS
            .iter()
            .chain(MODULES.iter().flat_map(|(_, attrs)| attrs.iter()))
            .find(|(_, b)| *b == self)
            .map_or("?", |(n, _)| n)
    }
}

/// A method of a builtin type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MethodKind {
    ListAppend,
    ListExtend,
    ListPop,
    ListClear,
    ListCount,
    ListIndex,
    ListInsert,
    ListRemove,
    ListCopy,
    DictGet,
    DictPop,
    DictClear,
    StrJoin,
    StrStartswith,
    StrEndswith,
    StrUpper,
    StrLower,
    StrStrip,
}

const LIST_METHODS: &[(&str, MethodKind)] = &[
    ("append", MethodKind::ListAppend),
    ("extend", MethodKind::ListExtend),
    ("pop", MethodKind::ListPop),
    ("clear", MethodKind::ListClear),
    ("count", MethodKind::ListCount),
    ("index", MethodKind::ListIndex),
    ("insert", MethodKind::ListInsert),
    ("remove", MethodKind::ListRemove),
    ("copy", MethodKind::ListCopy),
];
const DICT_METHODS: &[(&str, MethodKind)] = &[
    ("get", MethodKind::DictGet),
    ("pop", MethodKind::DictPop),
    ("clear", MethodKind::DictClear),
];
const STR_METHODS: &[(&str, MethodKind)] = &[
    ("join", MethodKind::StrJoin),
    ("startswith", MethodKind::StrStartswith),
    ("endswith", MethodKind::StrEndswith),
    ("upper", MethodKind::StrUpper),
    ("lower", MethodKind::StrLower),
    ("strip", MethodKind::StrStrip),
];

impl MethodKind {
    /// The method `name` of an object of `kind`, if the subset has it.
    pub(crate) fn of(kind: &Kind, name: &str) -> Option<MethodKind> {
        let table = match kind {
            Kind::List(_) => LIST_METHODS,
            Kind::Dict { .. } => DICT_METHODS,
            Kind::Str(_) => STR_METHODS,
            _ => return None,
        };
        table.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    fn name(self) -> &'static str {
        LIST_METHODS
            .iter()
            .chain(DICT_METHODS)
            .chain(STR_METHODS)
            .find(|(_, m)| *m == self)
            .map_or("?", |(n, _)| n)
    }
}

impl Interp {
    /// Calls what is neither a Python function nor a bound method: a builtin, a class, a
    /// weakref. Arguments borrowed; returns a new reference.
    pub(crate) fn call_other(
        &self,
        heap: &mut Heap,
        callable: ObjId,
        args: &[ObjId],
        kwargs: &[(Rc<str>, ObjId)],
        line: u32,
    ) -> Result<ObjId> {
        let builtin = self.side.borrow().builtins.get(&callable).copied();
        if let Some(builtin) = builtin {
            if let Builtin::Method(kind) = builtin {
                let this = heap
                    .get_attr(callable, "__self__")
                    .expect("a builtin method is bound to its object");
                return self.call_builtin_method(heap, kind, this, args, kwargs, line);
            }
            return self.call_builtin(heap, builtin, args, kwargs, line);
        }
        if let Some(info) = self.class_info(callable) {
            if !kwargs.is_empty() {
                return unsupported(
                    line,
                    "a keyword argument to a class",
                    "pass arguments by position",
                );
            }
            return self.instantiate(heap, callable, &info, args, line);
        }
        if let Kind::WeakRef { referent, .. } = heap.kind(callable) {
            if !args.is_empty() {
                return raise("TypeError", "weakref() takes no arguments");
            }
            return Ok(match referent {
                Some(r) => {
                    let r = *r;
                    heap.incref(r);
                    r
                }
                None => self.none(heap),
            });
        }
        raise(
            "TypeError",
            format!(
                "'{}' object is not callable",
                self.type_name(heap, callable)
            ),
        )
    }

    /// `C(args)`: CPython packs the arguments in a tuple (`_PyObject_MakeTpCall`), allocates
    /// the instance, calls `__init__`, then lets the tuple go.
    fn instantiate(
        &self,
        heap: &mut Heap,
        class: ObjId,
        info: &crate::objects::ClassInfo,
        args: &[ObjId],
        line: u32,
    ) -> Result<ObjId> {
        if &*info.name == "object" {
            return unsupported(line, "object()", "");
        }
        let tuple = self.new_tuple(heap, args);
        let obj = self.alloc(heap, |heap, link| {
            heap.new_instance_with(info.class_id, link)
        });
        if info.exception {
            heap.set_attr(obj, "args", tuple);
            heap.decref(tuple);
            return Ok(obj);
        }
        let init = heap.get_attr(class, "__init__");
        let result = match init {
            Some(init) => {
                heap.incref(init);
                heap.incref(obj);
                let mut all = vec![obj];
                for &a in args {
                    heap.incref(a);
                    all.push(a);
                }
                match self.call_value(heap, init, all, Vec::new(), line) {
                    Ok(value) => {
                        let is_none = heap.kind(value) == &Kind::None;
                        let name = self.type_name(heap, value);
                        heap.decref(value);
                        if is_none {
                            Ok(obj)
                        } else {
                            Err(format!("__init__() should return None, not '{name}'"))
                                .or_else(|m| raise("TypeError", m))
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            None if !args.is_empty() => {
                raise("TypeError", format!("{}() takes no arguments", info.name))
            }
            None => Ok(obj),
        };
        if result.is_err() {
            heap.decref(obj);
        }
        heap.decref(tuple);
        result
    }

    fn no_kwargs(&self, name: &str, kwargs: &[(Rc<str>, ObjId)]) -> Result<()> {
        if kwargs.is_empty() {
            Ok(())
        } else {
            raise("TypeError", format!("{name}() takes no keyword arguments"))
        }
    }

    fn arity(&self, name: &str, args: &[ObjId], min: usize, max: usize) -> Result<()> {
        if (min..=max).contains(&args.len()) {
            return Ok(());
        }
        if min == max {
            let plural = if min == 1 { "" } else { "s" };
            if min == 0 {
                return raise(
                    "TypeError",
                    format!("{name}() takes no arguments ({} given)", args.len()),
                );
            }
            return raise(
                "TypeError",
                format!(
                    "{name}() takes exactly {min} argument{plural} ({} given)",
                    args.len()
                ),
            );
        }
        raise(
            "TypeError",
            format!(
                "{name} expected at most {max} arguments, got {}",
                args.len()
            ),
        )
    }

    /// A tuple of ints, a new reference (`gc.get_count()`, `gc.get_threshold()`).
    fn int_tuple(&self, heap: &mut Heap, values: &[i64]) -> ObjId {
        let items: Vec<ObjId> = values.iter().map(|&v| self.int_obj(heap, v)).collect();
        let tuple = self.new_tuple(heap, &items);
        Self::release(heap, items);
        tuple
    }

    /// The backend, or an unsupported-construct stop while it is collecting (code run by a
    /// collection, a `__del__` or a callback, calling a `gc` function that needs it).
    fn with_backend<R>(
        &self,
        line: u32,
        what: &str,
        f: impl FnOnce(&mut dyn crate::backend::Backend) -> R,
    ) -> Result<R> {
        match self.backend.try_borrow_mut() {
            Ok(mut backend) => {
                let result = f(&mut **backend);
                self.mirror.set((backend.thresholds(), backend.isenabled()));
                Ok(result)
            }
            Err(_) => unsupported(
                line,
                format!(
                    "{what} during a collection (in a __del__, a weakref callback or a gc callback)"
                ),
                "call it outside the collection",
            ),
        }
    }

    #[allow(clippy::too_many_lines)]
    fn call_builtin(
        &self,
        heap: &mut Heap,
        builtin: Builtin,
        args: &[ObjId],
        kwargs: &[(Rc<str>, ObjId)],
        line: u32,
    ) -> Result<ObjId> {
        let name = builtin.name();
        if !matches!(
            builtin,
            Builtin::Print | Builtin::GcCollect | Builtin::GcGetObjects
        ) {
            self.no_kwargs(name, kwargs)?;
        }
        match builtin {
            Builtin::Print => {
                let mut sep = " ".to_string();
                let mut end = "\n".to_string();
                for (key, value) in kwargs {
                    let text = match heap.kind(*value) {
                        Kind::Str(s) => s.clone(),
                        Kind::None => continue,
                        _ => return raise("TypeError", format!("{key} must be None or a string")),
                    };
                    match &**key {
                        "sep" => sep = text,
                        "end" => end = text,
                        "flush" => {}
                        other => {
                            return unsupported(
                                line,
                                format!("print(..., {other}=...)"),
                                "print writes to standard output only",
                            );
                        }
                    }
                }
                let mut text = String::new();
                for (i, &a) in args.iter().enumerate() {
                    if i > 0 {
                        text.push_str(&sep);
                    }
                    text.push_str(&self.str_of(heap, a)?);
                }
                text.push_str(&end);
                self.write_out(&text);
                Ok(self.none(heap))
            }
            Builtin::Len => {
                self.arity(name, args, 1, 1)?;
                let n = self.len_of(heap, args[0])?;
                Ok(self.int_obj(heap, n as i64))
            }
            Builtin::Id => {
                self.arity(name, args, 1, 1)?;
                let address = self.address(args[0]);
                Ok(self.int_obj(heap, address))
            }
            Builtin::Range => {
                self.arity(name, args, 1, 3)?;
                let ints = args
                    .iter()
                    .map(|&a| self.int_arg(heap, a, "range()"))
                    .collect::<Result<Vec<_>>>()?;
                let (start, stop, step) = match ints.as_slice() {
                    [stop] => (0, *stop, 1),
                    [start, stop] => (*start, *stop, 1),
                    [start, stop, step] => (*start, *stop, *step),
                    _ => unreachable!("arity checked"),
                };
                if step == 0 {
                    return raise("ValueError", "range() arg 3 must not be zero");
                }
                // range is not a GC type: an atom standing for it.
                let id = heap.new_int(start);
                self.side
                    .borrow_mut()
                    .natives
                    .insert(id, Native::Range(start, stop, step));
                Ok(id)
            }
            Builtin::Str => {
                self.arity(name, args, 0, 1)?;
                let text = match args.first() {
                    Some(&a) => {
                        if let Kind::Str(_) = heap.kind(a) {
                            heap.incref(a);
                            return Ok(a);
                        }
                        self.str_of(heap, a)?
                    }
                    None => String::new(),
                };
                Ok(self.new_str(heap, &text))
            }
            Builtin::Repr => {
                self.arity(name, args, 1, 1)?;
                let text = self.repr_of(heap, args[0])?;
                Ok(self.new_str(heap, &text))
            }
            Builtin::Int => {
                self.arity(name, args, 0, 1)?;
                let Some(&a) = args.first() else {
                    return Ok(self.int_obj(heap, 0));
                };
                if let Some(i) = self.as_int(heap, a) {
                    return Ok(self.int_obj(heap, i));
                }
                match heap.kind(a) {
                    Kind::Str(s) => match s.trim().parse::<i64>() {
                        Ok(i) => Ok(self.int_obj(heap, i)),
                        Err(_) => raise(
                            "ValueError",
                            format!(
                                "invalid literal for int() with base 10: {}",
                                crate::objects::str_repr(s)
                            ),
                        ),
                    },
                    _ => raise(
                        "TypeError",
                        format!(
                            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                            self.type_name(heap, a)
                        ),
                    ),
                }
            }
            Builtin::Bool => {
                self.arity(name, args, 0, 1)?;
                let truth = match args.first() {
                    Some(&a) => self.truthy(heap, a)?,
                    None => false,
                };
                Ok(self.bool_obj(heap, truth))
            }
            Builtin::List => {
                self.arity(name, args, 0, 1)?;
                let items = match args.first() {
                    Some(&a) => self.collect_items(heap, a)?,
                    None => Vec::new(),
                };
                let list = self.new_list(heap, &items);
                Self::release(heap, items);
                Ok(list)
            }
            Builtin::Tuple => {
                self.arity(name, args, 0, 1)?;
                if let Some(&a) = args.first()
                    && matches!(heap.kind(a), Kind::Tuple(_))
                {
                    heap.incref(a);
                    return Ok(a);
                }
                let items = match args.first() {
                    Some(&a) => self.collect_items(heap, a)?,
                    None => Vec::new(),
                };
                let tuple = self.new_tuple(heap, &items);
                Self::release(heap, items);
                Ok(tuple)
            }
            Builtin::Dict => {
                self.arity(name, args, 0, 0)?;
                Ok(self.new_dict(heap))
            }
            Builtin::Sum
            | Builtin::Min
            | Builtin::Max
            | Builtin::All
            | Builtin::Any
            | Builtin::Sorted => {
                let items = if args.len() == 1 {
                    self.collect_items(heap, args[0])?
                } else if matches!(builtin, Builtin::Min | Builtin::Max) && args.len() > 1 {
                    for &a in args {
                        heap.incref(a);
                    }
                    args.to_vec()
                } else {
                    return raise(
                        "TypeError",
                        format!("{name}() takes exactly one argument ({} given)", args.len()),
                    );
                };
                let result = self.reduce(heap, builtin, &items);
                Self::release(heap, items);
                result
            }
            Builtin::Abs => {
                self.arity(name, args, 1, 1)?;
                let i = self.int_arg(heap, args[0], "abs()")?;
                match i.checked_abs() {
                    Some(v) => Ok(self.int_obj(heap, v)),
                    None => unsupported(line, "an int beyond 64 bits", ""),
                }
            }
            Builtin::Globals => {
                self.arity(name, args, 0, 0)?;
                heap.incref(self.core.globals_proxy);
                Ok(self.core.globals_proxy)
            }
            Builtin::Hasattr | Builtin::Getattr => {
                self.arity(
                    name,
                    args,
                    2,
                    if builtin == Builtin::Getattr { 3 } else { 2 },
                )?;
                let Kind::Str(attr) = heap.kind(args[1]).clone() else {
                    return raise("TypeError", "attribute name must be string");
                };
                match self.get_attr(heap, args[0], &attr, line) {
                    Ok(value) if builtin == Builtin::Getattr => Ok(value),
                    Ok(value) => {
                        heap.decref(value);
                        Ok(self.bool_obj(heap, true))
                    }
                    Err(crate::error::Error::Raise(e)) if e.class == "AttributeError" => {
                        if builtin == Builtin::Hasattr {
                            Ok(self.bool_obj(heap, false))
                        } else if let Some(&default) = args.get(2) {
                            heap.incref(default);
                            Ok(default)
                        } else {
                            Err(crate::error::Error::Raise(e))
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            Builtin::Setattr => {
                self.arity(name, args, 3, 3)?;
                let Kind::Str(attr) = heap.kind(args[1]).clone() else {
                    return raise("TypeError", "attribute name must be string");
                };
                self.set_attr(heap, args[0], &attr, args[2], line)?;
                Ok(self.none(heap))
            }
            Builtin::Isinstance => {
                self.arity(name, args, 2, 2)?;
                let Some(info) = self.class_info(args[1]) else {
                    return unsupported(
                        line,
                        "isinstance() with a builtin type",
                        "the subset checks instances of its own classes only",
                    );
                };
                let is = &*info.name == "object" || self.class_of(heap, args[0]) == Some(args[1]);
                Ok(self.bool_obj(heap, is))
            }
            Builtin::GcCollect => {
                let mut generation = 2;
                if let Some(&a) = args.first() {
                    generation = self.int_arg(heap, a, "collect()")?;
                }
                for (key, value) in kwargs {
                    if &**key != "generation" {
                        return raise(
                            "TypeError",
                            format!("collect() got an unexpected keyword argument '{key}'"),
                        );
                    }
                    generation = self.int_arg(heap, *value, "collect()")?;
                }
                // gc.collect() while a collection runs returns 0 at once (`gcstate->collecting`).
                let found = match self.backend.try_borrow_mut() {
                    Ok(mut backend) => backend.collect(heap, generation),
                    Err(_) => Ok(0),
                };
                self.check_stop()?;
                match found {
                    Ok(n) => Ok(self.int_obj(heap, n as i64)),
                    Err(message) => raise("ValueError", message.trim_start_matches("ValueError: ")),
                }
            }
            Builtin::GcGetCount => {
                self.arity(name, args, 0, 0)?;
                let counts = heap.gc_counts().map(|c| c as i64);
                Ok(self.int_tuple(heap, &counts))
            }
            Builtin::GcGetThreshold => {
                self.arity(name, args, 0, 0)?;
                let thresholds = self.mirror.get().0.map(i64::from);
                Ok(self.int_tuple(heap, &thresholds))
            }
            Builtin::GcSetThreshold => {
                self.arity("set_threshold", args, 1, 3)?;
                // METH_VARARGS: the arguments arrive in a tuple.
                let tuple = self.new_tuple(heap, args);
                let ints = args
                    .iter()
                    .map(|&a| self.int_arg(heap, a, "set_threshold()"))
                    .collect::<Result<Vec<_>>>();
                let ints = match ints {
                    Ok(i) => i,
                    Err(e) => {
                        heap.decref(tuple);
                        return Err(e);
                    }
                };
                let c =
                    |i: i64| i32::try_from(i).unwrap_or(if i < 0 { i32::MIN } else { i32::MAX });
                let result = self.with_backend(line, "gc.set_threshold()", |b| {
                    b.set_threshold(
                        c(ints[0]),
                        ints.get(1).copied().map(c),
                        ints.get(2).copied().map(c),
                    );
                });
                heap.decref(tuple);
                result?;
                Ok(self.none(heap))
            }
            Builtin::GcEnable | Builtin::GcDisable => {
                self.arity(name, args, 0, 0)?;
                self.with_backend(line, "gc.enable() or gc.disable()", |b| {
                    b.set_enabled(builtin == Builtin::GcEnable);
                })?;
                Ok(self.none(heap))
            }
            Builtin::GcIsEnabled => {
                self.arity(name, args, 0, 0)?;
                let enabled = self.mirror.get().1;
                Ok(self.bool_obj(heap, enabled))
            }
            Builtin::GcGetStats => {
                self.arity(name, args, 0, 0)?;
                let stats = self.with_backend(line, "gc.get_stats()", |b| b.stats())?;
                let list = self.new_list(heap, &[]);
                for generation in stats {
                    let dict = self.new_dict(heap);
                    for (key, value) in ["collections", "collected", "uncollectable"]
                        .iter()
                        .zip(generation)
                    {
                        let key = self.side.borrow_mut().intern(heap, key);
                        let value = self.int_obj(heap, value as i64);
                        heap.dict_set(dict, key, value);
                        heap.decref(key);
                        heap.decref(value);
                    }
                    heap.list_append(list, dict);
                    heap.decref(dict);
                }
                Ok(list)
            }
            Builtin::GcIsTracked | Builtin::GcIsFinalized => {
                self.arity(name, args, 1, 1)?;
                let a = args[0];
                let answer = heap.is_gc(a)
                    && if builtin == Builtin::GcIsTracked {
                        heap.is_tracked(a)
                    } else {
                        heap.is_finalized(a)
                    };
                Ok(self.bool_obj(heap, answer))
            }
            Builtin::GcSetDebug => {
                self.arity(name, args, 1, 1)?;
                let flags = self.int_arg(heap, args[0], "set_debug()")?;
                let flags = u32::try_from(flags).unwrap_or(0);
                let result = match self.backend.try_borrow_mut() {
                    Ok(mut backend) => {
                        backend.set_debug(heap, flags);
                        Ok(())
                    }
                    Err(_) => unsupported(line, "gc.set_debug() during a collection", ""),
                };
                result?;
                Ok(self.none(heap))
            }
            Builtin::GcGetDebug => {
                self.arity(name, args, 0, 0)?;
                let flags = self.with_backend(line, "gc.get_debug()", |b| b.debug())?;
                Ok(self.int_obj(heap, i64::from(flags)))
            }
            Builtin::GcFreeze | Builtin::GcUnfreeze => {
                self.arity(name, args, 0, 0)?;
                let result = match self.backend.try_borrow_mut() {
                    Ok(mut backend) => {
                        if builtin == Builtin::GcFreeze {
                            backend.freeze(heap);
                        } else {
                            backend.unfreeze(heap);
                        }
                        Ok(())
                    }
                    Err(_) => unsupported(line, "gc.freeze() during a collection", ""),
                };
                result?;
                Ok(self.none(heap))
            }
            Builtin::GcGetFreezeCount => {
                self.arity(name, args, 0, 0)?;
                let n = match self.backend.try_borrow() {
                    Ok(backend) => backend.freeze_count(heap),
                    Err(_) => {
                        return unsupported(line, "gc.get_freeze_count() during a collection", "");
                    }
                };
                Ok(self.int_obj(heap, n as i64))
            }
            Builtin::GcGetObjects => {
                self.arity(name, args, 0, 1)?;
                let mut generation = args.first().copied();
                for (key, value) in kwargs {
                    if &**key != "generation" {
                        return raise(
                            "TypeError",
                            format!("get_objects() got an unexpected keyword argument '{key}'"),
                        );
                    }
                    generation = Some(*value);
                }
                let generation = match generation {
                    None => None,
                    Some(g) if heap.kind(g) == &Kind::None => None,
                    Some(g) => Some(self.int_arg(heap, g, "get_objects()")? as isize),
                };
                let result = match self.backend.try_borrow_mut() {
                    Ok(mut backend) => backend.get_objects(heap, generation),
                    Err(_) => return unsupported(line, "gc.get_objects() during a collection", ""),
                };
                self.check_stop()?;
                match result {
                    Ok(list) => Ok(list),
                    Err(message) => raise("ValueError", message.trim_start_matches("ValueError: ")),
                }
            }
            Builtin::SysGetrefcount => {
                self.arity(name, args, 1, 1)?;
                // The argument's reference from the caller's stack is the one CPython's count
                // includes ("one more than you expect").
                let count = heap.refcount(args[0]);
                Ok(self.int_obj(heap, count as i64))
            }
            Builtin::WeakrefRef => {
                if args.is_empty() || args.len() > 2 {
                    return raise(
                        "TypeError",
                        format!("__new__ expected at most 2 arguments, got {}", args.len()),
                    );
                }
                let referent = args[0];
                let is_instance = matches!(heap.kind(referent), Kind::Instance { .. })
                    && !self.side.borrow().builtins.contains_key(&referent);
                if !is_instance {
                    return raise(
                        "TypeError",
                        format!(
                            "cannot create weak reference to '{}' object",
                            self.type_name(heap, referent)
                        ),
                    );
                }
                let callback = match args.get(1) {
                    Some(&cb) if heap.kind(cb) != &Kind::None => {
                        Some(Callback::new([Action::Call(cb)]))
                    }
                    _ => None,
                };
                // Calling the type packs the arguments in a tuple (`_PyObject_MakeTpCall`).
                let tuple = self.new_tuple(heap, args);
                let wr = self.alloc(heap, |heap, link| {
                    heap.new_weakref_with(referent, callback, link)
                });
                heap.decref(tuple);
                Ok(wr)
            }
            Builtin::Constant(_) | Builtin::Method(_) => {
                raise("TypeError", "'int' object is not callable")
            }
        }
    }

    fn reduce(&self, heap: &mut Heap, builtin: Builtin, items: &[ObjId]) -> Result<ObjId> {
        match builtin {
            Builtin::Sum => {
                let mut total: i64 = 0;
                for &i in items {
                    let v = self.int_arg(heap, i, "sum()")?;
                    total = match total.checked_add(v) {
                        Some(t) => t,
                        None => return unsupported(0, "an int beyond 64 bits", ""),
                    };
                }
                Ok(self.int_obj(heap, total))
            }
            Builtin::All | Builtin::Any => {
                let want = builtin == Builtin::Any;
                for &i in items {
                    if self.truthy(heap, i)? == want {
                        return Ok(self.bool_obj(heap, want));
                    }
                }
                Ok(self.bool_obj(heap, !want))
            }
            Builtin::Min | Builtin::Max => {
                let Some(&first) = items.first() else {
                    return raise(
                        "ValueError",
                        format!("{}() arg is an empty sequence", builtin.name()),
                    );
                };
                let mut best = first;
                let op = if builtin == Builtin::Min {
                    crate::ast::CmpOp::Lt
                } else {
                    crate::ast::CmpOp::Gt
                };
                for &i in &items[1..] {
                    if self.compare(heap, i, op, best)? {
                        best = i;
                    }
                }
                heap.incref(best);
                Ok(best)
            }
            Builtin::Sorted => {
                let mut sorted: Vec<ObjId> = Vec::with_capacity(items.len());
                for &item in items {
                    // Insertion keeps equal items in order, as Python's stable sort does.
                    let mut at = sorted.len();
                    while at > 0
                        && self.compare(heap, item, crate::ast::CmpOp::Lt, sorted[at - 1])?
                    {
                        at -= 1;
                    }
                    sorted.insert(at, item);
                }
                Ok(self.new_list(heap, &sorted))
            }
            _ => unreachable!("reduce is called for the reducing builtins"),
        }
    }

    /// `this.method(args)` for a method of a builtin type. Arguments borrowed.
    pub(crate) fn call_builtin_method(
        &self,
        heap: &mut Heap,
        kind: MethodKind,
        this: ObjId,
        args: &[ObjId],
        kwargs: &[(Rc<str>, ObjId)],
        line: u32,
    ) -> Result<ObjId> {
        let name = kind.name();
        self.no_kwargs(name, kwargs)?;
        let result = match kind {
            MethodKind::ListAppend => {
                self.arity(name, args, 1, 1)?;
                heap.list_append(this, args[0]);
                Ok(self.none(heap))
            }
            MethodKind::ListExtend => {
                self.arity(name, args, 1, 1)?;
                let items = self.collect_items(heap, args[0])?;
                for &item in &items {
                    heap.list_append(this, item);
                }
                Self::release(heap, items);
                Ok(self.none(heap))
            }
            MethodKind::ListPop => {
                self.arity(name, args, 0, 1)?;
                let len = heap.len(this);
                if len == 0 {
                    return raise("IndexError", "pop from empty list");
                }
                let index = match args.first() {
                    Some(&a) => self.int_arg(heap, a, "pop()")?,
                    None => -1,
                };
                let index = if index < 0 { index + len as i64 } else { index };
                if !(0..len as i64).contains(&index) {
                    return raise("IndexError", "pop index out of range");
                }
                let index = index as usize;
                let mut removed = heap.list_splice(this, index, index + 1, &[]);
                Ok(removed.pop().expect("one item was removed"))
            }
            MethodKind::ListClear => {
                self.arity(name, args, 0, 0)?;
                heap.clear(this);
                Ok(self.none(heap))
            }
            MethodKind::ListCount | MethodKind::ListIndex => {
                self.arity(name, args, 1, 1)?;
                let Kind::List(items) = heap.kind(this).clone() else {
                    unreachable!("a list method")
                };
                let mut count = 0;
                for (i, &item) in items.iter().enumerate() {
                    if self.equal(heap, item, args[0])? {
                        if kind == MethodKind::ListIndex {
                            return Ok(self.int_obj(heap, i as i64));
                        }
                        count += 1;
                    }
                }
                if kind == MethodKind::ListIndex {
                    let shown = self.repr_of(heap, args[0])?;
                    return raise("ValueError", format!("{shown} is not in list"));
                }
                Ok(self.int_obj(heap, count))
            }
            MethodKind::ListInsert => {
                self.arity(name, args, 2, 2)?;
                let len = heap.len(this) as i64;
                let i = self.int_arg(heap, args[0], "insert()")?;
                let i = if i < 0 { (i + len).max(0) } else { i.min(len) } as usize;
                let removed = heap.list_splice(this, i, i, &[args[1]]);
                debug_assert!(removed.is_empty());
                Ok(self.none(heap))
            }
            MethodKind::ListRemove => {
                self.arity(name, args, 1, 1)?;
                let Kind::List(items) = heap.kind(this).clone() else {
                    unreachable!("a list method")
                };
                for (i, &item) in items.iter().enumerate() {
                    if self.equal(heap, item, args[0])? {
                        let removed = heap.list_splice(this, i, i + 1, &[]);
                        Self::release(heap, removed);
                        return Ok(self.none(heap));
                    }
                }
                raise("ValueError", "list.remove(x): x not in list")
            }
            MethodKind::ListCopy => {
                self.arity(name, args, 0, 0)?;
                let Kind::List(items) = heap.kind(this).clone() else {
                    unreachable!("a list method")
                };
                Ok(self.new_list(heap, &items))
            }
            MethodKind::DictGet => {
                self.arity(name, args, 1, 2)?;
                self.check_key(heap, args[0])?;
                let found = heap.dict_get(this, args[0]).or(args.get(1).copied());
                Ok(match found {
                    Some(v) => {
                        heap.incref(v);
                        v
                    }
                    None => self.none(heap),
                })
            }
            MethodKind::DictPop => {
                self.arity(name, args, 1, 2)?;
                self.check_key(heap, args[0])?;
                match heap.dict_get(this, args[0]) {
                    Some(v) => {
                        heap.incref(v);
                        heap.dict_del(this, args[0]);
                        Ok(v)
                    }
                    None => match args.get(1) {
                        Some(&default) => {
                            heap.incref(default);
                            Ok(default)
                        }
                        None => raise("KeyError", self.repr_of(heap, args[0])?),
                    },
                }
            }
            MethodKind::DictClear => {
                self.arity(name, args, 0, 0)?;
                heap.clear(this);
                Ok(self.none(heap))
            }
            MethodKind::StrJoin => {
                self.arity(name, args, 1, 1)?;
                let Kind::Str(sep) = heap.kind(this).clone() else {
                    unreachable!("a str method")
                };
                let items = self.collect_items(heap, args[0])?;
                let mut parts = Vec::new();
                for &item in &items {
                    match heap.kind(item) {
                        Kind::Str(s) => parts.push(s.clone()),
                        _ => {
                            let t = self.type_name(heap, item);
                            Self::release(heap, items);
                            return raise(
                                "TypeError",
                                format!("sequence item: expected str instance, {t} found"),
                            );
                        }
                    }
                }
                Self::release(heap, items);
                Ok(self.new_str(heap, &parts.join(&sep)))
            }
            MethodKind::StrStartswith | MethodKind::StrEndswith => {
                self.arity(name, args, 1, 1)?;
                let (Kind::Str(s), Kind::Str(fix)) =
                    (heap.kind(this).clone(), heap.kind(args[0]).clone())
                else {
                    return raise("TypeError", format!("{name} first arg must be str"));
                };
                let answer = if kind == MethodKind::StrStartswith {
                    s.starts_with(&fix)
                } else {
                    s.ends_with(&fix)
                };
                Ok(self.bool_obj(heap, answer))
            }
            MethodKind::StrUpper | MethodKind::StrLower | MethodKind::StrStrip => {
                self.arity(name, args, 0, 0)?;
                let Kind::Str(s) = heap.kind(this).clone() else {
                    unreachable!("a str method")
                };
                let text = match kind {
                    MethodKind::StrUpper => s.to_uppercase(),
                    MethodKind::StrLower => s.to_lowercase(),
                    _ => s.trim().to_string(),
                };
                Ok(self.new_str(heap, &text))
            }
        };
        if this == self.core.gc_callbacks {
            self.sync_callbacks(heap, line)?;
        }
        result
    }

    /// Tells the backend what `gc.callbacks` holds now.
    fn sync_callbacks(&self, heap: &mut Heap, line: u32) -> Result<()> {
        let Kind::List(items) = heap.kind(self.core.gc_callbacks).clone() else {
            unreachable!("gc.callbacks is a list")
        };
        self.with_backend(line, "changing gc.callbacks", |b| b.set_callbacks(&items))
    }
}
