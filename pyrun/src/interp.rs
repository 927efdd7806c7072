//! The interpreter: statements and expressions evaluated on a pyheap [`Heap`], with CPython
//! 3.11's timing of reference drops.
//!
//! Every value is an object of the heap, and every [`ObjId`] the evaluator holds is a reference
//! it owns: [`Interp::eval`] returns a new reference, and whoever receives one gives it up
//! ([`Heap::decref`]) exactly when CPython's bytecode would. That is what makes `__del__` run,
//! and weakref callbacks fire, at the same line of output as in CPython:
//!
//! | CPython 3.11                                  | here                                      |
//! |-----------------------------------------------|-------------------------------------------|
//! | `STORE_FAST`: store, then `Py_XDECREF(old)`   | [`Interp::store`]: the same order         |
//! | `BINARY_OP`: result, then left, then right    | [`Interp::eval`], `BinOp`                 |
//! | `CALL` of a Python function: the arguments become the frame's locals; on return the locals go in `co_localsplusnames` order, then the function | [`Interp::call_function`] |
//! | `CALL` of a builtin: result, then the callable, then the arguments in order | [`Interp::call_value`] |
//! | `STORE_ATTR`: set, then the value, then the object | [`Interp::store`], `Attr`          |
//!
//! The interpreter itself is shared ([`Rc`]) and works through `&self`: the heap calls back into
//! it (a `__del__`, a weakref callback, a `gc.callbacks` function, through pyheap's
//! [`Runtime`](pyheap::Runtime)) while it is itself in the middle of a statement, so its state
//! lives in cells, borrowed only between two calls into the heap.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

use pyheap::{GcLink, Heap, Kind, ObjId};

use crate::ast::{
    BinOp, CmpOp, Code, Constant, Conversion, Expr, ExprKind, FPart, Name, Program, Stmt, StmtKind,
    Target,
};
use crate::backend::Backend;
use crate::error::{Error, Exception, Result, Stop, raise, unsupported};
use crate::objects::{Core, Side};

/// The limits a run is held to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Statements and loop iterations executed, at most.
    pub max_steps: u64,
    /// Objects alive at once, at most.
    pub max_objects: usize,
    /// Python calls nested, at most.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Every shipped script runs in under 200,000 steps, and the debug build that
            // `cargo xtask run` uses takes about a microsecond a step: an endless loop is stopped
            // after some ten seconds, while a loop of a million iterations still runs.
            max_steps: 10_000_000,
            max_objects: 5_000_000,
            max_depth: 400,
        }
    }
}

/// The module's globals, in insertion order (a dict's order: CPython releases them in this order
/// at exit).
#[derive(Default)]
pub(crate) struct Globals {
    entries: Vec<Option<(Rc<str>, ObjId)>>,
    index: HashMap<Rc<str>, usize>,
}

impl Globals {
    pub(crate) fn get(&self, name: &str) -> Option<ObjId> {
        self.index
            .get(name)
            .and_then(|&i| self.entries[i].as_ref().map(|(_, id)| *id))
    }

    /// Stores `value` (a reference the globals now own) and returns the old value's reference.
    fn set(&mut self, name: &Rc<str>, value: ObjId) -> Option<ObjId> {
        match self.index.get(name) {
            Some(&i) => self.entries[i]
                .as_mut()
                .map(|(_, old)| std::mem::replace(old, value)),
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push(Some((name.clone(), value)));
                None
            }
        }
    }

    fn remove(&mut self, name: &str) -> Option<ObjId> {
        let i = self.index.remove(name)?;
        self.entries[i].take().map(|(_, id)| id)
    }

    /// Takes every entry out, in order.
    fn drain(&mut self) -> Vec<ObjId> {
        self.index.clear();
        self.entries.drain(..).flatten().map(|(_, id)| id).collect()
    }
}

/// What ends the execution of a block early.
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
    Return(ObjId),
}

/// One call's locals.
pub(crate) struct Frame {
    pub(crate) code: Rc<Code>,
    pub(crate) slots: Vec<Option<ObjId>>,
    /// A class body's namespace, in order.
    pub(crate) ns: Option<Vec<(Rc<str>, ObjId)>>,
}

/// The interpreter (see the module docs).
pub struct Interp {
    pub(crate) path: String,
    pub(crate) limits: Limits,
    pub(crate) backend: RefCell<Box<dyn Backend>>,
    /// `gc.get_threshold()` and `gc.isenabled()`, readable while the backend is busy collecting.
    pub(crate) mirror: Cell<([i32; 3], bool)>,
    pub(crate) globals: RefCell<Globals>,
    pub(crate) consts: Vec<ObjId>,
    pub(crate) core: Core,
    pub(crate) side: RefCell<Side>,
    pub(crate) out: RefCell<Box<dyn Write>>,
    pub(crate) err: RefCell<Box<dyn Write>>,
    pub(crate) steps: Cell<u64>,
    pub(crate) depth: Cell<usize>,
    /// A stop raised inside code the heap called (a `__del__`, a callback), to be carried out
    /// once the heap returns.
    pub(crate) stop: RefCell<Option<Stop>>,
    pub(crate) program: Rc<Code>,
}

/// The hook the heap calls inside an allocation: the backend's `link`, or nothing while the
/// backend is busy (a collection is running: CPython's `collecting` flag).
struct Link<'a>(Option<&'a mut dyn Backend>);

impl GcLink for Link<'_> {
    fn gc_link(&mut self, heap: &mut Heap) {
        if let Some(backend) = self.0.as_mut() {
            backend.link(heap);
        }
    }
}

impl Interp {
    /// Makes the interpreter for `program` on `heap`: the start-up objects (small ints, `True`
    /// and `False`, the builtins, the modules) and the program's constants, then counts 0.
    pub(crate) fn new(
        heap: &mut Heap,
        program: Program,
        backend: Box<dyn Backend>,
        limits: Limits,
        path: &str,
        out: Box<dyn Write>,
        err: Box<dyn Write>,
    ) -> Rc<Interp> {
        let mirror = (backend.thresholds(), backend.isenabled());
        let mut backend = backend;
        let (core, mut side) = Core::new(heap, &mut *backend);
        let mut consts = Vec::with_capacity(program.constants.len());
        for constant in &program.constants {
            let id = match constant {
                Constant::None => {
                    heap.incref(heap.none());
                    heap.none()
                }
                Constant::Bool(b) => core.bool_new(heap, *b),
                Constant::Int(i) => core.int_new(heap, *i),
                Constant::Str(s) => side.intern(heap, s),
                Constant::Tuple(items) => {
                    let items: Vec<ObjId> = items.iter().map(|&i| consts[i]).collect();
                    let id = heap.new_tuple(&items);
                    // A constant tuple of atoms is untracked once a collection has seen it;
                    // CPython's are made at compile time, long before the script's collections.
                    heap.maybe_untrack_tuple(id);
                    id
                }
            };
            consts.push(id);
        }
        // Start-up made objects; CPython's start-up does too, and the scripts measure from a
        // `gc.collect(); gc.freeze()` of their own. Here start-up leaves the counts at 0.
        *heap.gc_counts_mut() = [0, 0, 0];
        let interp = Rc::new(Interp {
            path: path.to_string(),
            limits,
            backend: RefCell::new(backend),
            mirror: Cell::new(mirror),
            globals: RefCell::new(Globals::default()),
            consts,
            core,
            side: RefCell::new(side),
            out: RefCell::new(out),
            err: RefCell::new(err),
            steps: Cell::new(0),
            depth: Cell::new(0),
            stop: RefCell::new(None),
            program: program.module,
        });
        heap.set_runtime(interp.clone());
        interp
    }

    /// Runs the module. `Ok` when it ran to the end; an uncaught exception or a stop otherwise.
    pub(crate) fn run_module(&self, heap: &mut Heap) -> Result<()> {
        let code = self.program.clone();
        let mut frame = Frame {
            slots: vec![None; code.slot_names.len()],
            code: code.clone(),
            ns: None,
        };
        match self.block(heap, &mut frame, &code.body)? {
            Flow::Normal => Ok(()),
            Flow::Return(value) => {
                heap.decref(value);
                Ok(())
            }
            Flow::Break | Flow::Continue => Ok(()),
        }
    }

    /// What CPython does at exit that a script can see: the module's globals are released in
    /// the order they were made (the module dict's `dict_dealloc`), then a full collection runs
    /// without callbacks (`_PyGC_CollectNoFail`).
    pub(crate) fn shutdown(&self, heap: &mut Heap) -> Result<()> {
        let values = self.globals.borrow_mut().drain();
        for value in values {
            heap.decref(value);
            self.check_stop()?;
        }
        if let Ok(mut backend) = self.backend.try_borrow_mut() {
            backend.collect_at_exit(heap);
        }
        self.check_stop()?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Bookkeeping
    // -----------------------------------------------------------------------------------------

    /// Counts one step, and checks the limits and a stop raised inside the heap.
    fn step(&self, heap: &Heap) -> Result<()> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > self.limits.max_steps {
            return Err(Error::Stop(Stop::StepLimit(self.limits.max_steps)));
        }
        if heap.live_objects() > self.limits.max_objects {
            return Err(Error::Stop(Stop::HeapLimit(self.limits.max_objects)));
        }
        self.check_stop()
    }

    /// Carries out a stop that code run by the heap raised.
    pub(crate) fn check_stop(&self) -> Result<()> {
        match self.stop.borrow_mut().take() {
            Some(stop) => Err(Error::Stop(stop)),
            None => Ok(()),
        }
    }

    /// Runs `make` with the allocation hook: the backend's, or none while it is collecting.
    pub(crate) fn alloc<R>(
        &self,
        heap: &mut Heap,
        make: impl FnOnce(&mut Heap, &mut dyn GcLink) -> R,
    ) -> R {
        let result = match self.backend.try_borrow_mut() {
            Ok(mut backend) => {
                let result = make(heap, &mut Link(Some(&mut **backend)));
                self.mirror.set((backend.thresholds(), backend.isenabled()));
                result
            }
            Err(_) => make(heap, &mut Link(None)),
        };
        self.side.borrow_mut().maybe_purge(heap);
        result
    }

    /// A new empty list, through the allocation hook.
    pub(crate) fn new_list(&self, heap: &mut Heap, items: &[ObjId]) -> ObjId {
        let list = self.alloc(heap, |heap, link| heap.new_list_with(link));
        for &item in items {
            heap.list_append(list, item);
        }
        list
    }

    /// A new tuple of `items` (borrowed), through the allocation hook.
    pub(crate) fn new_tuple(&self, heap: &mut Heap, items: &[ObjId]) -> ObjId {
        self.alloc(heap, |heap, link| heap.new_tuple_with(items, link))
    }

    /// A new dict, through the allocation hook.
    pub(crate) fn new_dict(&self, heap: &mut Heap) -> ObjId {
        self.alloc(heap, |heap, link| heap.new_dict_with(link))
    }

    /// Writes `text` to the script's standard output.
    pub(crate) fn write_out(&self, text: &str) {
        let _ = self.out.borrow_mut().write_all(text.as_bytes());
    }

    /// Writes `text` to the script's standard error (after flushing standard output, so that
    /// the two interleave as they happened).
    pub(crate) fn write_err(&self, text: &str) {
        let _ = self.out.borrow_mut().flush();
        let _ = self.err.borrow_mut().write_all(text.as_bytes());
    }

    /// Gives up every reference in `ids`, in order.
    pub(crate) fn release(heap: &mut Heap, ids: impl IntoIterator<Item = ObjId>) {
        for id in ids {
            heap.decref(id);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    pub(crate) fn block(&self, heap: &mut Heap, frame: &mut Frame, body: &[Stmt]) -> Result<Flow> {
        for stmt in body {
            match self.stmt(heap, frame, stmt) {
                Ok(Flow::Normal) => {}
                Ok(flow) => return Ok(flow),
                Err(Error::Raise(mut e)) => {
                    if e.line == 0 {
                        e.line = stmt.line;
                        e.function = frame.code.name.clone();
                    }
                    return Err(Error::Raise(e));
                }
                Err(Error::Stop(Stop::Unsupported(mut u))) => {
                    if u.line == 0 {
                        u.line = stmt.line;
                    }
                    return Err(Error::Stop(Stop::Unsupported(u)));
                }
                Err(stop) => return Err(stop),
            }
        }
        Ok(Flow::Normal)
    }

    fn stmt(&self, heap: &mut Heap, frame: &mut Frame, stmt: &Stmt) -> Result<Flow> {
        self.step(heap)?;
        let result = self.stmt_kind(heap, frame, stmt);
        self.check_stop()?;
        result
    }

    fn stmt_kind(&self, heap: &mut Heap, frame: &mut Frame, stmt: &Stmt) -> Result<Flow> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let value = self.eval(heap, frame, e)?;
                heap.decref(value);
            }
            StmtKind::Assign(targets, value) => {
                let value = self.eval(heap, frame, value)?;
                // `a = b = v`: DUP_TOP for all but the last target.
                for (i, target) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        heap.incref(value);
                    }
                    self.store(heap, frame, target, value)?;
                }
            }
            StmtKind::AugAssign(target, op, value) => {
                self.aug_assign(heap, frame, target, *op, value)?
            }
            StmtKind::Delete(targets) => {
                for target in targets {
                    self.delete(heap, frame, target, stmt.line)?;
                }
            }
            StmtKind::If(test, body, orelse) => {
                let branch = if self.test(heap, frame, test)? {
                    body
                } else {
                    orelse
                };
                return self.block(heap, frame, branch);
            }
            StmtKind::While(test, body, orelse) => loop {
                if !self.test(heap, frame, test)? {
                    return self.block(heap, frame, orelse);
                }
                match self.block(heap, frame, body)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal | Flow::Continue => {}
                }
                self.step(heap)?;
            },
            StmtKind::For(target, iter, body, orelse) => {
                return self.for_loop(heap, frame, target, iter, body, orelse);
            }
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Pass => {}
            StmtKind::Return(value) => {
                let value = match value {
                    Some(v) => self.eval(heap, frame, v)?,
                    None => self.none(heap),
                };
                return Ok(Flow::Return(value));
            }
            StmtKind::Def(target, code) => {
                let function = self.make_function(heap, frame, code)?;
                self.store(heap, frame, target, function)?;
            }
            StmtKind::Class(target, code) => {
                let class = self.make_class(heap, code, stmt.line)?;
                self.store(heap, frame, target, class)?;
            }
            StmtKind::Import(module, target) => {
                let id = self.core.module(module);
                heap.incref(id);
                self.store(heap, frame, target, id)?;
            }
            StmtKind::Try(body, handlers, orelse) => {
                return self.try_stmt(heap, frame, body, handlers, orelse);
            }
            StmtKind::Raise(exc) => {
                return Err(Error::Raise(self.raise_stmt(heap, frame, exc.as_ref())?));
            }
            StmtKind::Assert(test, message) => {
                if !self.test(heap, frame, test)? {
                    let text = match message {
                        Some(m) => {
                            let value = self.eval(heap, frame, m)?;
                            let text = self.str_of(heap, value)?;
                            heap.decref(value);
                            text
                        }
                        None => String::new(),
                    };
                    return raise("AssertionError", text);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn for_loop(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        target: &Target,
        iter: &Expr,
        body: &[Stmt],
        orelse: &[Stmt],
    ) -> Result<Flow> {
        let iterable = self.eval(heap, frame, iter)?;
        let iterator = self.get_iter(heap, iterable, iter.line);
        heap.decref(iterable);
        let iterator = iterator?;
        let result = (|| {
            loop {
                let Some(item) = self.iter_next(heap, iterator)? else {
                    return self.block(heap, frame, orelse);
                };
                self.store(heap, frame, target, item)?;
                match self.block(heap, frame, body)? {
                    Flow::Break => return Ok(Flow::Normal),
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal | Flow::Continue => {}
                }
                self.step(heap)?;
            }
        })();
        self.side.borrow_mut().iters.remove(&iterator);
        heap.decref(iterator);
        result
    }

    fn try_stmt(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        body: &[Stmt],
        handlers: &[crate::ast::Handler],
        orelse: &[Stmt],
    ) -> Result<Flow> {
        let mut exception = match self.block(heap, frame, body) {
            Ok(Flow::Normal) => return self.block(heap, frame, orelse),
            Ok(flow) => return Ok(flow),
            Err(Error::Raise(e)) => e,
            Err(stop) => return Err(stop),
        };
        for handler in handlers {
            let matches = match &handler.class {
                None => true,
                Some(class) => {
                    let class = self.eval(heap, frame, class)?;
                    let matches = self.exception_matches(heap, class, &exception.class);
                    heap.decref(class);
                    matches?
                }
            };
            if !matches {
                continue;
            }
            if let Some(name) = &handler.name {
                let object = self.exception_object(heap, &exception)?;
                self.store(heap, frame, name, object)?;
            }
            let flow = self.block(heap, frame, &handler.body);
            // CPython deletes the name at the end of the handler (`del e`), and the exception
            // goes with its traceback, letting go of the frames it kept.
            if let Some(name) = &handler.name {
                self.delete(heap, frame, name, 0).ok();
            }
            Self::release(heap, exception.take_frames());
            return flow;
        }
        Err(Error::Raise(exception))
    }

    fn raise_stmt(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        exc: Option<&Expr>,
    ) -> Result<Exception> {
        let Some(exc) = exc else {
            return unsupported(0, "a bare `raise`", "raise an exception by name");
        };
        let value = self.eval(heap, frame, exc)?;
        let exception = self.exception_from(heap, value);
        heap.decref(value);
        exception
    }

    fn aug_assign(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        target: &Target,
        op: BinOp,
        value: &Expr,
    ) -> Result<()> {
        match target {
            Target::Name(name) => {
                let current = self.load(heap, frame, name)?;
                let right = self.eval(heap, frame, value)?;
                let result = self.binop_inplace(heap, current, op, right, value.line);
                heap.decref(current);
                heap.decref(right);
                self.store(heap, frame, target, result?)
            }
            Target::Attr(obj, attr) => {
                let obj = self.eval(heap, frame, obj)?;
                let current = match self.get_attr(heap, obj, attr, value.line) {
                    Ok(c) => c,
                    Err(e) => {
                        heap.decref(obj);
                        return Err(e);
                    }
                };
                let right = self.eval(heap, frame, value)?;
                let result = self.binop_inplace(heap, current, op, right, value.line);
                heap.decref(current);
                heap.decref(right);
                let result = result?;
                let stored = self.set_attr(heap, obj, attr, result, value.line);
                heap.decref(result);
                heap.decref(obj);
                stored
            }
            Target::Item(obj, index) => {
                let obj = self.eval(heap, frame, obj)?;
                let index = self.eval(heap, frame, index)?;
                let current = self.get_item(heap, obj, index);
                let current = match current {
                    Ok(c) => c,
                    Err(e) => {
                        heap.decref(obj);
                        heap.decref(index);
                        return Err(e);
                    }
                };
                let right = self.eval(heap, frame, value)?;
                let result = self.binop_inplace(heap, current, op, right, value.line);
                heap.decref(current);
                heap.decref(right);
                let result = result?;
                let stored = self.set_item(heap, obj, index, result);
                heap.decref(result);
                heap.decref(obj);
                heap.decref(index);
                stored
            }
            Target::Slice(..) | Target::Tuple(_) => {
                unsupported(value.line, "augmented assignment to this target", "")
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Names and targets
    // -----------------------------------------------------------------------------------------

    /// The value of `name`, a new reference.
    pub(crate) fn load(&self, heap: &mut Heap, frame: &Frame, name: &Name) -> Result<ObjId> {
        match name {
            Name::Fast(slot) => match frame.slots[*slot] {
                Some(id) => {
                    heap.incref(id);
                    Ok(id)
                }
                None => raise(
                    "UnboundLocalError",
                    format!(
                        "cannot access local variable '{}' where it is not associated with a value",
                        frame.code.slot_names[*slot]
                    ),
                ),
            },
            Name::Deref(k) => {
                let cell =
                    frame.slots[frame.code.deref_slots[*k]].expect("cells are made at entry");
                match heap.get_attr(cell, "cell_contents") {
                    Some(id) => {
                        heap.incref(id);
                        Ok(id)
                    }
                    None => raise(
                        "NameError",
                        format!(
                            "cannot access free variable '{}' where it is not associated with a \
                             value in enclosing scope",
                            frame.code.slot_names[frame.code.deref_slots[*k]]
                        ),
                    ),
                }
            }
            Name::Global(name) => {
                if let Some(ns) = &frame.ns
                    && let Some((_, id)) = ns.iter().find(|(n, _)| n == name)
                {
                    heap.incref(*id);
                    return Ok(*id);
                }
                let found = self.globals.borrow().get(name);
                let found = found.or_else(|| self.core.builtin(name));
                match found {
                    Some(id) => {
                        heap.incref(id);
                        Ok(id)
                    }
                    None => raise("NameError", format!("name '{name}' is not defined")),
                }
            }
        }
    }

    /// Stores `value` (a reference, given to the target) into `target`.
    pub(crate) fn store(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        target: &Target,
        value: ObjId,
    ) -> Result<()> {
        match target {
            Target::Name(Name::Fast(slot)) => {
                if let Some(old) = frame.slots[*slot].replace(value) {
                    heap.decref(old);
                }
            }
            Target::Name(Name::Deref(k)) => {
                let cell =
                    frame.slots[frame.code.deref_slots[*k]].expect("cells are made at entry");
                heap.set_attr(cell, "cell_contents", value);
                heap.decref(value);
            }
            Target::Name(Name::Global(name)) => {
                let old = match &mut frame.ns {
                    Some(ns) => match ns.iter_mut().find(|(n, _)| n == name) {
                        Some((_, slot)) => Some(std::mem::replace(slot, value)),
                        None => {
                            ns.push((name.clone(), value));
                            None
                        }
                    },
                    None => self.globals.borrow_mut().set(name, value),
                };
                if let Some(old) = old {
                    heap.decref(old);
                }
            }
            Target::Attr(obj, attr) => {
                let obj = match self.eval(heap, frame, obj) {
                    Ok(obj) => obj,
                    Err(e) => {
                        heap.decref(value);
                        return Err(e);
                    }
                };
                let result = self.set_attr(heap, obj, attr, value, 0);
                heap.decref(value);
                heap.decref(obj);
                result?;
            }
            Target::Item(obj, index) => {
                let obj = self.eval(heap, frame, obj)?;
                let index = self.eval(heap, frame, index)?;
                let result = self.set_item(heap, obj, index, value);
                heap.decref(value);
                heap.decref(obj);
                heap.decref(index);
                result?;
            }
            Target::Slice(obj, lower, upper) => {
                let obj = self.eval(heap, frame, obj)?;
                let (start, end) = self.slice_bounds(heap, frame, obj, lower, upper)?;
                let result = self.set_slice(heap, obj, start, end, value);
                heap.decref(value);
                heap.decref(obj);
                result?;
            }
            Target::Tuple(targets) => {
                let items = self.unpack(heap, value, targets.len());
                heap.decref(value);
                let items = items?;
                let mut rest = items.into_iter();
                for target in targets {
                    let item = rest.next().expect("unpack checked the length");
                    if let Err(e) = self.store(heap, frame, target, item) {
                        Self::release(heap, rest);
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// `del target`.
    fn delete(&self, heap: &mut Heap, frame: &mut Frame, target: &Target, line: u32) -> Result<()> {
        match target {
            Target::Name(Name::Fast(slot)) => match frame.slots[*slot].take() {
                Some(old) => heap.decref(old),
                None => {
                    return raise(
                        "UnboundLocalError",
                        format!(
                            "cannot access local variable '{}' where it is not associated with a \
                             value",
                            frame.code.slot_names[*slot]
                        ),
                    );
                }
            },
            Target::Name(Name::Deref(k)) => {
                let cell =
                    frame.slots[frame.code.deref_slots[*k]].expect("cells are made at entry");
                if heap.get_attr(cell, "cell_contents").is_none() {
                    return raise("NameError", "free variable referenced before assignment");
                }
                heap.del_attr(cell, "cell_contents");
            }
            Target::Name(Name::Global(name)) => {
                let old = match &mut frame.ns {
                    Some(ns) => ns
                        .iter()
                        .position(|(n, _)| n == name)
                        .map(|i| ns.remove(i).1),
                    None => self.globals.borrow_mut().remove(name),
                };
                match old {
                    Some(old) => heap.decref(old),
                    None => return raise("NameError", format!("name '{name}' is not defined")),
                }
            }
            Target::Attr(obj, attr) => {
                let obj = self.eval(heap, frame, obj)?;
                let result = self.del_attr(heap, obj, attr, line);
                heap.decref(obj);
                result?;
            }
            Target::Item(obj, index) => {
                let obj = self.eval(heap, frame, obj)?;
                let index = self.eval(heap, frame, index)?;
                let result = self.del_item(heap, obj, index);
                heap.decref(obj);
                heap.decref(index);
                result?;
            }
            Target::Slice(obj, lower, upper) => {
                let obj = self.eval(heap, frame, obj)?;
                let bounds = self.slice_bounds(heap, frame, obj, lower, upper);
                let result = bounds.and_then(|(start, end)| self.del_slice(heap, obj, start, end));
                heap.decref(obj);
                result?;
            }
            Target::Tuple(targets) => {
                for target in targets {
                    self.delete(heap, frame, target, line)?;
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    /// Evaluates `expr` to a truth value, giving up the value.
    fn test(&self, heap: &mut Heap, frame: &mut Frame, expr: &Expr) -> Result<bool> {
        let value = self.eval(heap, frame, expr)?;
        let truth = self.truthy(heap, value);
        heap.decref(value);
        truth
    }

    /// Evaluates `expr`: a new reference.
    pub(crate) fn eval(&self, heap: &mut Heap, frame: &mut Frame, expr: &Expr) -> Result<ObjId> {
        let line = expr.line;
        match &expr.kind {
            ExprKind::Const(id) => {
                let id = self.consts[*id];
                heap.incref(id);
                Ok(id)
            }
            ExprKind::Name(name) => self.load(heap, frame, name),
            ExprKind::Attr(obj, attr) => {
                let obj = self.eval(heap, frame, obj)?;
                let value = self.get_attr(heap, obj, attr, line);
                heap.decref(obj);
                value
            }
            ExprKind::Call(func, args, kwargs) => {
                let func = self.eval(heap, frame, func)?;
                let args = match self.eval_all(heap, frame, args) {
                    Ok(args) => args,
                    Err(e) => {
                        heap.decref(func);
                        return Err(e);
                    }
                };
                let kwargs = match self.eval_kwargs(heap, frame, kwargs) {
                    Ok(kw) => kw,
                    Err(e) => {
                        heap.decref(func);
                        Self::release(heap, args);
                        return Err(e);
                    }
                };
                self.call_value(heap, func, args, kwargs, line)
            }
            ExprKind::CallMethod(obj, name, args, kwargs) => {
                self.call_method_expr(heap, frame, obj, name, args, kwargs, line)
            }
            ExprKind::BinOp(left, op, right) => {
                let left = self.eval(heap, frame, left)?;
                let right = match self.eval(heap, frame, right) {
                    Ok(r) => r,
                    Err(e) => {
                        heap.decref(left);
                        return Err(e);
                    }
                };
                let result = self.binop(heap, left, *op, right, line);
                heap.decref(left);
                heap.decref(right);
                result
            }
            ExprKind::Unary(op, operand) => {
                let value = self.eval(heap, frame, operand)?;
                let result = self.unary(heap, *op, value);
                heap.decref(value);
                result
            }
            ExprKind::Compare(left, rest) => self.compare_chain(heap, frame, left, rest),
            ExprKind::BoolOp(is_and, values) => {
                let mut value = self.eval(heap, frame, &values[0])?;
                for next in &values[1..] {
                    let truth = self.truthy(heap, value)?;
                    if truth != *is_and {
                        return Ok(value);
                    }
                    heap.decref(value);
                    value = self.eval(heap, frame, next)?;
                }
                Ok(value)
            }
            ExprKind::IfExp(test, body, orelse) => {
                if self.test(heap, frame, test)? {
                    self.eval(heap, frame, body)
                } else {
                    self.eval(heap, frame, orelse)
                }
            }
            ExprKind::List(items) => {
                let items = self.eval_all(heap, frame, items)?;
                let list = self.new_list(heap, &items);
                Self::release(heap, items);
                Ok(list)
            }
            ExprKind::Tuple(items) => {
                let items = self.eval_all(heap, frame, items)?;
                let tuple = self.new_tuple(heap, &items);
                Self::release(heap, items);
                Ok(tuple)
            }
            ExprKind::Dict(items) => {
                let mut pairs = Vec::new();
                for (k, v) in items {
                    let key = self.eval(heap, frame, k);
                    let key = match key {
                        Ok(key) => key,
                        Err(e) => {
                            Self::release(heap, pairs.into_iter().flat_map(|(k, v)| [k, v]));
                            return Err(e);
                        }
                    };
                    let value = match self.eval(heap, frame, v) {
                        Ok(value) => value,
                        Err(e) => {
                            heap.decref(key);
                            Self::release(heap, pairs.into_iter().flat_map(|(k, v)| [k, v]));
                            return Err(e);
                        }
                    };
                    pairs.push((key, value));
                }
                let dict = self.new_dict(heap);
                let mut result = Ok(dict);
                for &(key, value) in &pairs {
                    if let Err(e) = self.set_item(heap, dict, key, value) {
                        result = Err(e);
                        break;
                    }
                }
                Self::release(heap, pairs.into_iter().flat_map(|(k, v)| [k, v]));
                if result.is_err() {
                    heap.decref(dict);
                }
                result
            }
            ExprKind::Subscript(obj, index) => {
                let obj = self.eval(heap, frame, obj)?;
                let index = match self.eval(heap, frame, index) {
                    Ok(i) => i,
                    Err(e) => {
                        heap.decref(obj);
                        return Err(e);
                    }
                };
                let value = self.get_item(heap, obj, index);
                heap.decref(obj);
                heap.decref(index);
                value
            }
            ExprKind::Slice(obj, lower, upper) => {
                let obj = self.eval(heap, frame, obj)?;
                let bounds = self.slice_bounds(heap, frame, obj, lower, upper);
                let value = bounds.and_then(|(start, end)| self.get_slice(heap, obj, start, end));
                heap.decref(obj);
                value
            }
            ExprKind::FString(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        FPart::Text(t) => text.push_str(t),
                        FPart::Value(value, conversion, spec) => {
                            let value = self.eval(heap, frame, value)?;
                            let piece = match conversion {
                                Conversion::Str => self.str_of(heap, value),
                                Conversion::Repr => self.repr_of(heap, value),
                            };
                            let is_int =
                                matches!(heap.kind(value), Kind::Int(_)) && !self.is_native(value);
                            heap.decref(value);
                            let piece = piece?;
                            match spec {
                                None => text.push_str(&piece),
                                Some(spec) => {
                                    text.push_str(&format_spec(&piece, spec, is_int, line)?)
                                }
                            }
                        }
                    }
                }
                Ok(self.new_str(heap, &text))
            }
            ExprKind::Comprehension(code, iter) => {
                let function = self.make_function(heap, frame, code)?;
                let iterable = match self.eval(heap, frame, iter) {
                    Ok(it) => it,
                    Err(e) => {
                        heap.decref(function);
                        return Err(e);
                    }
                };
                let iterator = self.get_iter(heap, iterable, line);
                heap.decref(iterable);
                let iterator = match iterator {
                    Ok(it) => it,
                    Err(e) => {
                        heap.decref(function);
                        return Err(e);
                    }
                };
                let result = self.call_value(heap, function, vec![iterator], Vec::new(), line);
                self.side.borrow_mut().iters.remove(&iterator);
                result
            }
            ExprKind::Lambda(code) => self.make_function(heap, frame, code),
        }
    }

    pub(crate) fn eval_all(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        exprs: &[Expr],
    ) -> Result<Vec<ObjId>> {
        let mut values = Vec::with_capacity(exprs.len());
        for e in exprs {
            match self.eval(heap, frame, e) {
                Ok(v) => values.push(v),
                Err(err) => {
                    Self::release(heap, values);
                    return Err(err);
                }
            }
        }
        Ok(values)
    }

    fn eval_kwargs(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        kwargs: &[(Rc<str>, Expr)],
    ) -> Result<Vec<(Rc<str>, ObjId)>> {
        let mut values = Vec::new();
        for (name, e) in kwargs {
            match self.eval(heap, frame, e) {
                Ok(v) => values.push((name.clone(), v)),
                Err(err) => {
                    Self::release(heap, values.into_iter().map(|(_, v)| v));
                    return Err(err);
                }
            }
        }
        Ok(values)
    }

    fn compare_chain(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        left: &Expr,
        rest: &[(CmpOp, Expr)],
    ) -> Result<ObjId> {
        let mut left = self.eval(heap, frame, left)?;
        for (i, (op, right)) in rest.iter().enumerate() {
            let right = match self.eval(heap, frame, right) {
                Ok(r) => r,
                Err(e) => {
                    heap.decref(left);
                    return Err(e);
                }
            };
            let outcome = self.compare(heap, left, *op, right);
            heap.decref(left);
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    heap.decref(right);
                    return Err(e);
                }
            };
            if !outcome || i + 1 == rest.len() {
                heap.decref(right);
                return Ok(self.bool_obj(heap, outcome));
            }
            left = right;
        }
        unreachable!("a comparison has at least one operator")
    }

    #[allow(clippy::too_many_arguments)]
    fn call_method_expr(
        &self,
        heap: &mut Heap,
        frame: &mut Frame,
        obj: &Expr,
        name: &Rc<str>,
        args: &[Expr],
        kwargs: &[(Rc<str>, Expr)],
        line: u32,
    ) -> Result<ObjId> {
        let obj = self.eval(heap, frame, obj)?;
        // LOAD_METHOD: a function found on the class is called with the object as its first
        // argument, and no bound method is made; a method of a builtin type likewise.
        let method = self.load_method(heap, obj, name, line);
        let method = match method {
            Ok(m) => m,
            Err(e) => {
                heap.decref(obj);
                return Err(e);
            }
        };
        let args_values = match self.eval_all(heap, frame, args) {
            Ok(a) => a,
            Err(e) => {
                heap.decref(obj);
                if let crate::objects::Method::Bound(m) = method {
                    heap.decref(m);
                }
                return Err(e);
            }
        };
        let kwargs = match self.eval_kwargs(heap, frame, kwargs) {
            Ok(kw) => kw,
            Err(e) => {
                heap.decref(obj);
                Self::release(heap, args_values);
                return Err(e);
            }
        };
        match method {
            crate::objects::Method::Function(function) => {
                let mut all = Vec::with_capacity(args_values.len() + 1);
                all.push(obj);
                all.extend(args_values);
                self.call_value(heap, function, all, kwargs, line)
            }
            crate::objects::Method::Builtin(method) => {
                let result =
                    self.call_builtin_method(heap, method, obj, &args_values, &kwargs, line);
                heap.decref(obj);
                Self::release(heap, args_values);
                Self::release(heap, kwargs.into_iter().map(|(_, v)| v));
                result
            }
            crate::objects::Method::Bound(callable) => {
                heap.decref(obj);
                self.call_value(heap, callable, args_values, kwargs, line)
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Calls
    // -----------------------------------------------------------------------------------------

    /// Calls `callable` with `args` and `kwargs`, all references given to the call; returns a
    /// new reference.
    pub(crate) fn call_value(
        &self,
        heap: &mut Heap,
        callable: ObjId,
        args: Vec<ObjId>,
        kwargs: Vec<(Rc<str>, ObjId)>,
        line: u32,
    ) -> Result<ObjId> {
        let code = self.side.borrow().funcs.get(&callable).cloned();
        if let Some(code) = code {
            if !kwargs.is_empty() {
                Self::release(heap, kwargs.into_iter().map(|(_, v)| v));
                Self::release(heap, args);
                heap.decref(callable);
                return unsupported(
                    line,
                    "a keyword argument to a Python function",
                    "pass arguments by position",
                );
            }
            return self.call_function(heap, callable, &code, args);
        }
        if let Some((function, this)) = self.bound_method(heap, callable) {
            // A bound method: call the function with the object first.
            heap.incref(function);
            heap.incref(this);
            heap.decref(callable);
            let mut all = Vec::with_capacity(args.len() + 1);
            all.push(this);
            all.extend(args);
            return self.call_value(heap, function, all, kwargs, line);
        }
        // Builtins, classes, weakrefs: the callable and the arguments are let go after the call,
        // the callable first (CPython's CALL for a callable that is not a Python function).
        let result = self.call_other(heap, callable, &args, &kwargs, line);
        heap.decref(callable);
        Self::release(heap, args);
        Self::release(heap, kwargs.into_iter().map(|(_, v)| v));
        result
    }

    /// Calls the Python function `function` (a reference given to the call) running `code`,
    /// with `args` (given to it: they become its first locals).
    pub(crate) fn call_function(
        &self,
        heap: &mut Heap,
        function: ObjId,
        code: &Rc<Code>,
        args: Vec<ObjId>,
    ) -> Result<ObjId> {
        if args.len() != code.params {
            let given = args.len();
            Self::release(heap, args);
            heap.decref(function);
            return raise(
                "TypeError",
                format!(
                    "{}() takes {} positional argument{} but {} {} given",
                    code.name,
                    code.params,
                    if code.params == 1 { "" } else { "s" },
                    given,
                    if given == 1 { "was" } else { "were" }
                ),
            );
        }
        let depth = self.depth.get() + 1;
        if depth > self.limits.max_depth {
            Self::release(heap, args);
            heap.decref(function);
            return Err(Error::Stop(Stop::TooDeep(self.limits.max_depth)));
        }
        self.depth.set(depth);
        let mut frame = Frame {
            code: code.clone(),
            slots: vec![None; code.slot_names.len()],
            ns: None,
        };
        for (slot, arg) in args.into_iter().enumerate() {
            frame.slots[slot] = Some(arg);
        }
        // MAKE_CELL for each cell, then COPY_FREE_VARS from the closure.
        for k in 0..code.cells {
            let slot = code.deref_slots[k];
            let cell = self.new_cell(heap);
            if let Some(arg) = frame.slots[slot].take() {
                heap.set_attr(cell, "cell_contents", arg);
                heap.decref(arg);
            }
            frame.slots[slot] = Some(cell);
        }
        if code.deref_slots.len() > code.cells {
            let closure = heap
                .get_attr(function, "__closure__")
                .expect("a function with free variables has a closure");
            for (i, k) in (code.cells..code.deref_slots.len()).enumerate() {
                let Kind::Tuple(cells) = heap.kind(closure) else {
                    unreachable!("__closure__ is a tuple")
                };
                let cell = cells[i];
                heap.incref(cell);
                frame.slots[code.deref_slots[k]] = Some(cell);
            }
        }
        let result = self.block(heap, &mut frame, &code.body);
        self.depth.set(depth - 1);
        let held: Vec<ObjId> = frame
            .slots
            .iter_mut()
            .filter_map(Option::take)
            .chain([function])
            .collect();
        let result = match result {
            // The traceback keeps the frame, and so its locals, until the exception is handled.
            Err(Error::Raise(mut e)) => {
                e.frames.push(held);
                Err(Error::Raise(e))
            }
            // The frame is cleared: its slots in order, then the function.
            other => {
                Self::release(heap, held);
                other
            }
        };
        match result? {
            Flow::Return(value) => Ok(value),
            _ => Ok(self.none(heap)),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Definitions
    // -----------------------------------------------------------------------------------------

    /// `MAKE_FUNCTION`: the closure tuple of the cells it captures (`BUILD_TUPLE`), then the
    /// function object. A new reference.
    fn make_function(&self, heap: &mut Heap, frame: &Frame, code: &Rc<Code>) -> Result<ObjId> {
        let closure = if code.closure_from.is_empty() {
            None
        } else {
            let cells: Vec<ObjId> = code
                .closure_from
                .iter()
                .map(|&k| frame.slots[frame.code.deref_slots[k]].expect("cells are made at entry"))
                .collect();
            Some(self.new_tuple(heap, &cells))
        };
        let function = self.alloc(heap, |heap, link| {
            heap.new_instance_with(self.core.hidden.function, link)
        });
        if let Some(closure) = closure {
            heap.set_attr(function, "__closure__", closure);
            heap.decref(closure);
        }
        self.side.borrow_mut().funcs.insert(function, code.clone());
        Ok(function)
    }

    /// Runs a class body and makes the class. A new reference.
    fn make_class(&self, heap: &mut Heap, code: &Rc<Code>, line: u32) -> Result<ObjId> {
        let mut frame = Frame {
            code: code.clone(),
            slots: vec![None; code.slot_names.len()],
            ns: Some(Vec::new()),
        };
        let flow = self.block(heap, &mut frame, &code.body);
        let ns = frame.ns.take().unwrap_or_default();
        if let Err(e) = flow {
            Self::release(heap, ns.into_iter().map(|(_, v)| v));
            return Err(e);
        }
        let special = ns.iter().map(|(name, _)| name.clone()).find(|name| {
            name.starts_with("__")
                && name.ends_with("__")
                && ![
                    "__init__",
                    "__del__",
                    "__module__",
                    "__qualname__",
                    "__doc__",
                ]
                .contains(&&**name)
        });
        if let Some(name) = special {
            Self::release(heap, ns.into_iter().map(|(_, v)| v));
            return unsupported(
                line,
                format!("a class defining `{name}`"),
                "the subset's classes may define __init__, __del__ and ordinary methods",
            );
        }
        let finalizer = ns
            .iter()
            .find(|(n, _)| &**n == "__del__")
            .map(|&(_, f)| pyheap::Finalizer::new([pyheap::Action::Call(f)]));
        let class = self.define_class(heap, &code.name, finalizer);
        for (name, value) in ns {
            heap.set_attr(class, &name, value);
            heap.decref(value);
        }
        Ok(class)
    }
}

/// `format(value, spec)` for the specs the subset takes: fill, alignment and width
/// (`>5`, `<10`, `^3`, `05`).
fn format_spec(text: &str, spec: &str, is_int: bool, line: u32) -> Result<String> {
    let mut chars = spec.chars().peekable();
    let mut fill = ' ';
    let mut align = None;
    let rest: String = {
        let all: Vec<char> = spec.chars().collect();
        if all.len() >= 2 && matches!(all[1], '<' | '>' | '^') {
            fill = all[0];
            align = Some(all[1]);
            all[2..].iter().collect()
        } else if !all.is_empty() && matches!(all[0], '<' | '>' | '^') {
            align = Some(all[0]);
            all[1..].iter().collect()
        } else {
            chars.by_ref().collect()
        }
    };
    let (zero, digits) = match rest.strip_prefix('0') {
        Some(d) if !d.is_empty() => (true, d.to_string()),
        _ => (false, rest.clone()),
    };
    let width: usize = if digits.is_empty() {
        0
    } else {
        match digits.parse() {
            Ok(w) => w,
            Err(_) => {
                return unsupported(
                    line,
                    format!("the format spec `{spec}`"),
                    "use a width, with `<`, `>` or `^`",
                );
            }
        }
    };
    let len = text.chars().count();
    if len >= width {
        return Ok(text.to_string());
    }
    let pad = width - len;
    if zero && align.is_none() {
        fill = '0';
    }
    let align = align.unwrap_or(if is_int { '>' } else { '<' });
    let padding = |n: usize| fill.to_string().repeat(n);
    Ok(match align {
        '>' => format!("{}{text}", padding(pad)),
        '^' => format!("{}{text}{}", padding(pad / 2), padding(pad - pad / 2)),
        _ => format!("{text}{}", padding(pad)),
    })
}

impl pyheap::Runtime for Interp {
    fn call(
        &self,
        heap: &mut Heap,
        callable: ObjId,
        args: &[ObjId],
    ) -> std::result::Result<(), String> {
        for &arg in args {
            heap.incref(arg);
        }
        heap.incref(callable);
        match self.call_value(heap, callable, args.to_vec(), Vec::new(), 0) {
            Ok(value) => {
                heap.decref(value);
                Ok(())
            }
            Err(Error::Raise(mut e)) => {
                Self::release(heap, e.take_frames());
                let what = self.describe_callable(heap, callable);
                self.write_err(&format!(
                    "Exception ignored in: {what}\nTraceback (most recent call last):\n  File \"{}\", line {}, in {}\n{e}\n",
                    self.path, e.line, e.function
                ));
                Err(e.to_string())
            }
            Err(Error::Stop(stop)) => {
                let message = stop.to_string();
                self.stop.borrow_mut().get_or_insert(stop);
                Err(message)
            }
        }
    }
}
