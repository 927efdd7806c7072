//! From source to [`Program`]: parse with `rustpython-parser`, check every construct against the
//! subset, and resolve every name, as CPython's symtable and compiler do.
//!
//! Two passes over each function, as in CPython:
//!
//! 1. [`Symbols::collect`] finds what each scope binds, declares `global` and reads;
//! 2. [`resolve`] decides, scope by scope from the outside in, which names are locals, which
//!    are cells (a local that an inner function reads), which are free (read from an enclosing
//!    function) and which are globals;
//!
//! then [`Compiler`] builds the tree, giving each local a slot in the order CPython's compiler
//! does (`co_varnames`: parameters, then locals as it meets them; cells and free variables after
//! them, each group sorted by name), because that is the order a frame releases them in.
//!
//! A construct outside the subset stops here, before anything runs, with its line and what it
//! is ([`Unsupported`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::rc::Rc;

use rustpython_parser::ast::{self, Ranged};

use crate::ast::{
    BinOp, CmpOp, Code, CodeKind, ConstId, Constant, Conversion, Expr, ExprKind, FPart, Handler,
    Name, Program, Stmt, StmtKind, Target, UnaryOp,
};

/// A construct the subset leaves out, or source that does not parse.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Unsupported {
    /// The line it is on.
    pub line: u32,
    /// What it is: "`with` statement", "a float", ...
    pub construct: String,
    /// Why, or what to write instead, when there is something useful to say.
    pub why: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} is not supported", self.line, self.construct)?;
        if !self.why.is_empty() {
            write!(f, ": {}", self.why)?;
        }
        Ok(())
    }
}

/// A syntax error: the parser's message and line.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SyntaxError {
    /// The line.
    pub line: u32,
    /// The parser's message.
    pub message: String,
}

/// Why a script cannot run at all.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CompileError {
    /// The source does not parse.
    Syntax(SyntaxError),
    /// The source uses something outside the subset.
    Unsupported(Unsupported),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Syntax(e) => write!(f, "line {}: SyntaxError: {}", e.line, e.message),
            CompileError::Unsupported(e) => e.fmt(f),
        }
    }
}

/// Parses and compiles `source`.
///
/// # Errors
/// A syntax error, or the first construct outside the subset.
pub fn compile(source: &str, path: &str) -> Result<Program, CompileError> {
    let lines = LineIndex::new(source);
    let suite = <ast::Suite as rustpython_parser::Parse>::parse(source, path).map_err(|e| {
        CompileError::Syntax(SyntaxError {
            line: lines.line(u32::from(e.offset)),
            message: e.error.to_string(),
        })
    })?;
    let symbols = Symbols::collect_module(&suite, &lines).map_err(CompileError::Unsupported)?;
    let mut scopes = HashMap::new();
    resolve(&symbols, &[], &mut scopes);
    let mut compiler = Compiler {
        lines,
        scopes,
        constants: Vec::new(),
        const_index: HashMap::new(),
    };
    let module = compiler
        .code(
            "<module>",
            CodeKind::Module,
            0,
            &[],
            &suite,
            ModuleKey::MODULE,
            1,
        )
        .map_err(CompileError::Unsupported)?;
    Ok(Program {
        module: Rc::new(module),
        constants: compiler.constants,
    })
}

/// Byte offsets to line numbers.
struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        for (i, byte) in source.bytes().enumerate() {
            if byte == b'\n' {
                starts.push(i as u32 + 1);
            }
        }
        LineIndex { starts }
    }

    fn line(&self, offset: u32) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }
}

/// A scope's identity: the offset of the node that makes it (the module is 0 and a sentinel).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct ModuleKey(u32, u8);

impl ModuleKey {
    const MODULE: ModuleKey = ModuleKey(u32::MAX, 0);
}

fn key_of(node: &impl Ranged, tag: u8) -> ModuleKey {
    ModuleKey(u32::from(node.range().start()), tag)
}

fn unsupported(line: u32, construct: &str, why: &str) -> Unsupported {
    Unsupported {
        line,
        construct: construct.to_string(),
        why: why.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: what each scope binds and reads
// ---------------------------------------------------------------------------------------------

/// What one scope binds, declares and reads, and its inner scopes.
#[derive(Debug, Default)]
struct Symbols {
    key: Option<ModuleKey>,
    kind: Option<CodeKind>,
    /// Names bound here (parameters included).
    bound: HashSet<String>,
    /// Names declared `global`.
    globals: HashSet<String>,
    /// Names read here.
    reads: HashSet<String>,
    /// The scopes inside this one.
    inner: Vec<Symbols>,
}

impl Symbols {
    fn collect_module(body: &[ast::Stmt], lines: &LineIndex) -> Result<Symbols, Unsupported> {
        let mut symbols = Symbols {
            key: Some(ModuleKey::MODULE),
            kind: Some(CodeKind::Module),
            ..Symbols::default()
        };
        for stmt in body {
            symbols.stmt(stmt, lines)?;
        }
        Ok(symbols)
    }

    fn new_function(key: ModuleKey, kind: CodeKind, params: Vec<String>) -> Symbols {
        Symbols {
            key: Some(key),
            kind: Some(kind),
            bound: params.into_iter().collect(),
            ..Symbols::default()
        }
    }

    fn stmt(&mut self, stmt: &ast::Stmt, lines: &LineIndex) -> Result<(), Unsupported> {
        let line = lines.line(u32::from(stmt.range().start()));
        match stmt {
            ast::Stmt::FunctionDef(def) => {
                self.bind(def.name.as_str());
                let params = params_of(&def.args, line)?;
                let mut inner = Symbols::new_function(key_of(def, 0), CodeKind::Function, params);
                for s in &def.body {
                    inner.stmt(s, lines)?;
                }
                self.inner.push(inner);
            }
            ast::Stmt::ClassDef(class) => {
                self.bind(class.name.as_str());
                if self.kind != Some(CodeKind::Module) {
                    return Err(unsupported(
                        line,
                        "a class statement inside a function or a class",
                        "define classes at the top level of the script",
                    ));
                }
                for base in &class.bases {
                    self.expr(base, lines)?;
                }
                let mut inner = Symbols::new_function(key_of(class, 0), CodeKind::Class, vec![]);
                for s in &class.body {
                    inner.stmt(s, lines)?;
                }
                self.inner.push(inner);
            }
            ast::Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.expr(v, lines)?;
                }
            }
            ast::Stmt::Delete(d) => {
                for t in &d.targets {
                    self.target(t, lines)?;
                }
            }
            ast::Stmt::Assign(a) => {
                self.expr(&a.value, lines)?;
                for t in &a.targets {
                    self.target(t, lines)?;
                }
            }
            ast::Stmt::AugAssign(a) => {
                self.expr(&a.value, lines)?;
                self.target(&a.target, lines)?;
                if let ast::Expr::Name(n) = a.target.as_ref() {
                    self.reads.insert(n.id.to_string());
                }
            }
            ast::Stmt::For(f) => {
                self.expr(&f.iter, lines)?;
                self.target(&f.target, lines)?;
                self.stmts(&f.body, lines)?;
                self.stmts(&f.orelse, lines)?;
            }
            ast::Stmt::While(w) => {
                self.expr(&w.test, lines)?;
                self.stmts(&w.body, lines)?;
                self.stmts(&w.orelse, lines)?;
            }
            ast::Stmt::If(i) => {
                self.expr(&i.test, lines)?;
                self.stmts(&i.body, lines)?;
                self.stmts(&i.orelse, lines)?;
            }
            ast::Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.expr(e, lines)?;
                }
            }
            ast::Stmt::Try(t) => {
                self.stmts(&t.body, lines)?;
                for ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
                    if let Some(class) = &h.type_ {
                        self.expr(class, lines)?;
                    }
                    if let Some(name) = &h.name {
                        self.bind(name.as_str());
                    }
                    self.stmts(&h.body, lines)?;
                }
                self.stmts(&t.orelse, lines)?;
            }
            ast::Stmt::Assert(a) => {
                self.expr(&a.test, lines)?;
                if let Some(m) = &a.msg {
                    self.expr(m, lines)?;
                }
            }
            ast::Stmt::Import(i) => {
                for alias in &i.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.bind(bound.as_str());
                }
            }
            ast::Stmt::Global(g) => {
                for name in &g.names {
                    self.globals.insert(name.to_string());
                }
            }
            ast::Stmt::Expr(e) => self.expr(&e.value, lines)?,
            // Everything else is refused by the compiler, with its name.
            _ => {}
        }
        Ok(())
    }

    fn stmts(&mut self, body: &[ast::Stmt], lines: &LineIndex) -> Result<(), Unsupported> {
        body.iter().try_for_each(|s| self.stmt(s, lines))
    }

    fn bind(&mut self, name: &str) {
        self.bound.insert(name.to_string());
    }

    fn target(&mut self, target: &ast::Expr, lines: &LineIndex) -> Result<(), Unsupported> {
        match target {
            ast::Expr::Name(n) => self.bind(n.id.as_str()),
            ast::Expr::Tuple(t) => {
                for e in &t.elts {
                    self.target(e, lines)?;
                }
            }
            ast::Expr::List(t) => {
                for e in &t.elts {
                    self.target(e, lines)?;
                }
            }
            other => self.expr(other, lines)?,
        }
        Ok(())
    }

    fn expr(&mut self, expr: &ast::Expr, lines: &LineIndex) -> Result<(), Unsupported> {
        match expr {
            ast::Expr::Name(n) => {
                self.reads.insert(n.id.to_string());
            }
            ast::Expr::Lambda(l) => {
                let line = lines.line(u32::from(l.range().start()));
                let params = params_of(&l.args, line)?;
                let mut inner = Symbols::new_function(key_of(l, 0), CodeKind::Function, params);
                inner.expr(&l.body, lines)?;
                self.inner.push(inner);
            }
            ast::Expr::ListComp(c) => self.comprehension(c, &c.elt, &c.generators, lines)?,
            ast::Expr::GeneratorExp(c) => self.comprehension(c, &c.elt, &c.generators, lines)?,
            other => {
                let mut result = Ok(());
                for_each_child(other, &mut |child| {
                    if result.is_ok() {
                        result = self.expr(child, lines);
                    }
                });
                result?;
            }
        }
        Ok(())
    }

    fn comprehension(
        &mut self,
        node: &impl Ranged,
        elt: &ast::Expr,
        generators: &[ast::Comprehension],
        lines: &LineIndex,
    ) -> Result<(), Unsupported> {
        // The first iterable is evaluated outside, in this scope; the rest inside.
        if let Some(first) = generators.first() {
            self.expr(&first.iter, lines)?;
        }
        let mut inner =
            Symbols::new_function(key_of(node, 1), CodeKind::Function, vec![".0".to_string()]);
        for (i, generator) in generators.iter().enumerate() {
            if i > 0 {
                inner.expr(&generator.iter, lines)?;
            }
            inner.target(&generator.target, lines)?;
            for test in &generator.ifs {
                inner.expr(test, lines)?;
            }
        }
        inner.expr(elt, lines)?;
        inner.bind(".result");
        self.inner.push(inner);
        Ok(())
    }
}

/// Calls `f` on each direct sub-expression of `expr` (not for names, lambdas and
/// comprehensions, which [`Symbols::expr`] handles itself).
fn for_each_child(expr: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    match expr {
        ast::Expr::BoolOp(e) => e.values.iter().for_each(f),
        ast::Expr::BinOp(e) => {
            f(&e.left);
            f(&e.right);
        }
        ast::Expr::UnaryOp(e) => f(&e.operand),
        ast::Expr::IfExp(e) => {
            f(&e.test);
            f(&e.body);
            f(&e.orelse);
        }
        ast::Expr::Dict(e) => {
            for (k, v) in e.keys.iter().zip(&e.values) {
                if let Some(k) = k {
                    f(k);
                }
                f(v);
            }
        }
        ast::Expr::Compare(e) => {
            f(&e.left);
            e.comparators.iter().for_each(f);
        }
        ast::Expr::Call(e) => {
            f(&e.func);
            e.args.iter().for_each(&mut *f);
            e.keywords.iter().for_each(|k| f(&k.value));
        }
        ast::Expr::FormattedValue(e) => {
            f(&e.value);
            if let Some(spec) = &e.format_spec {
                f(spec);
            }
        }
        ast::Expr::JoinedStr(e) => e.values.iter().for_each(f),
        ast::Expr::Attribute(e) => f(&e.value),
        ast::Expr::Subscript(e) => {
            f(&e.value);
            f(&e.slice);
        }
        ast::Expr::Starred(e) => f(&e.value),
        ast::Expr::List(e) => e.elts.iter().for_each(f),
        ast::Expr::Tuple(e) => e.elts.iter().for_each(f),
        ast::Expr::Set(e) => e.elts.iter().for_each(f),
        ast::Expr::Slice(e) => {
            for part in [&e.lower, &e.upper, &e.step].into_iter().flatten() {
                f(part);
            }
        }
        _ => {}
    }
}

/// The parameter names of a `def` or a `lambda`: plain positional ones only.
fn params_of(args: &ast::Arguments, line: u32) -> Result<Vec<String>, Unsupported> {
    if !args.posonlyargs.is_empty() || !args.kwonlyargs.is_empty() {
        return Err(unsupported(
            line,
            "a positional-only or keyword-only parameter",
            "the subset's functions take plain positional parameters",
        ));
    }
    if args.vararg.is_some() || args.kwarg.is_some() {
        return Err(unsupported(
            line,
            "`*args` or `**kwargs`",
            "the subset's functions take plain positional parameters",
        ));
    }
    if args.args.iter().any(|a| a.default.is_some()) {
        return Err(unsupported(
            line,
            "a default parameter value",
            "pass every argument explicitly",
        ));
    }
    Ok(args.args.iter().map(|a| a.def.arg.to_string()).collect())
}

// ---------------------------------------------------------------------------------------------
// Pass 2: locals, cells, free variables
// ---------------------------------------------------------------------------------------------

/// How one scope's names resolve.
#[derive(Debug, Default)]
struct Scope {
    /// Locals that are not cells (function scopes only).
    fast: HashSet<String>,
    /// Locals that inner functions read: cells (sorted).
    cells: BTreeSet<String>,
    /// Names read from an enclosing function (sorted).
    free: BTreeSet<String>,
}

/// Resolves `symbols` and every scope inside it; `enclosing` holds the locals of the enclosing
/// function scopes, innermost last. Returns the names this scope needs from its enclosing
/// functions (its free variables and those of its inner scopes that pass through it).
fn resolve(
    symbols: &Symbols,
    enclosing: &[HashSet<String>],
    scopes: &mut HashMap<ModuleKey, Scope>,
) -> BTreeSet<String> {
    let kind = symbols.kind.expect("every scope has a kind");
    let is_function = kind == CodeKind::Function;
    let locals: HashSet<String> = if is_function {
        symbols
            .bound
            .iter()
            .filter(|n| !symbols.globals.contains(*n))
            .cloned()
            .collect()
    } else {
        HashSet::new()
    };
    // Class bodies are not visible to the functions inside them, as in Python.
    let mut inner_env: Vec<HashSet<String>> = enclosing.to_vec();
    if is_function {
        inner_env.push(locals.clone());
    }
    let mut needed_by_inner = BTreeSet::new();
    for inner in &symbols.inner {
        needed_by_inner.extend(resolve(inner, &inner_env, scopes));
    }
    let mut cells = BTreeSet::new();
    let mut free = BTreeSet::new();
    for name in &needed_by_inner {
        if locals.contains(name) {
            cells.insert(name.clone());
        } else if !symbols.globals.contains(name) {
            free.insert(name.clone());
        }
    }
    if is_function {
        for name in &symbols.reads {
            if !locals.contains(name)
                && !symbols.globals.contains(name)
                && enclosing.iter().any(|env| env.contains(name))
            {
                free.insert(name.clone());
            }
        }
    }
    // A name free in an inner scope but bound nowhere enclosing is a global: drop it.
    free.retain(|name| enclosing.iter().any(|env| env.contains(name)));
    scopes.insert(
        symbols.key.expect("every scope has a key"),
        Scope {
            fast: locals
                .difference(&cells.iter().cloned().collect())
                .cloned()
                .collect(),
            cells,
            free: free.clone(),
        },
    );
    free
}

// ---------------------------------------------------------------------------------------------
// Pass 3: the tree
// ---------------------------------------------------------------------------------------------

struct Compiler {
    lines: LineIndex,
    scopes: HashMap<ModuleKey, Scope>,
    constants: Vec<Constant>,
    const_index: HashMap<ConstKey, ConstId>,
}

/// Constants are shared by value within a script (CPython shares them within a code object and
/// interns the strs that look like names across all of them).
#[derive(Clone, PartialEq, Eq, Hash)]
enum ConstKey {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<ConstId>),
}

/// The state of the code object being compiled.
struct Unit {
    kind: CodeKind,
    slots: Vec<String>,
    slot_of: HashMap<String, usize>,
    /// Cells then free variables, each sorted: the `Deref` numbers.
    derefs: Vec<String>,
    scope_key: ModuleKey,
}

impl Compiler {
    #[allow(clippy::too_many_arguments)]
    fn code(
        &mut self,
        name: &str,
        kind: CodeKind,
        line: u32,
        params: &[String],
        body: &[ast::Stmt],
        key: ModuleKey,
        first_line: u32,
    ) -> Result<Code, Unsupported> {
        let _ = line;
        let mut unit = self.unit(kind, params, key);
        let mut stmts = Vec::new();
        for stmt in body {
            stmts.push(self.stmt(&mut unit, stmt)?);
        }
        Ok(self.finish(name, unit, params.len(), stmts, first_line))
    }

    fn unit(&self, kind: CodeKind, params: &[String], key: ModuleKey) -> Unit {
        let scope = &self.scopes[&key];
        let derefs: Vec<String> = scope
            .cells
            .iter()
            .chain(scope.free.iter())
            .cloned()
            .collect();
        let mut unit = Unit {
            kind,
            slots: Vec::new(),
            slot_of: HashMap::new(),
            derefs,
            scope_key: key,
        };
        for p in params {
            unit.slot_of.insert(p.clone(), unit.slots.len());
            unit.slots.push(p.clone());
        }
        unit
    }

    fn finish(
        &mut self,
        name: &str,
        mut unit: Unit,
        params: usize,
        body: Vec<Stmt>,
        line: u32,
    ) -> Code {
        let scope = &self.scopes[&unit.scope_key];
        let cells = scope.cells.len();
        // Cells that are parameters live in the parameter's slot (MAKE_CELL turns the
        // argument into a cell in place); the others, and the free variables, follow the
        // locals, in sorted order.
        let mut deref_slots = Vec::new();
        for name in unit.derefs.clone() {
            match unit.slot_of.get(&name) {
                Some(&slot) if slot < params => deref_slots.push(slot),
                _ => {
                    deref_slots.push(unit.slots.len());
                    unit.slots.push(name);
                }
            }
        }
        Code {
            name: name.to_string(),
            kind: unit.kind,
            params,
            slot_names: unit.slots,
            deref_slots,
            cells,
            closure_from: Vec::new(),
            body,
            line,
        }
    }

    fn line(&self, node: &impl Ranged) -> u32 {
        self.lines.line(u32::from(node.range().start()))
    }

    /// Where `name` lives in `unit`, for a load or a store.
    fn name(&self, unit: &mut Unit, name: &str) -> Name {
        let scope = &self.scopes[&unit.scope_key];
        if let Some(k) = unit.derefs.iter().position(|n| n == name) {
            return Name::Deref(k);
        }
        if unit.kind == CodeKind::Function && scope.fast.contains(name) {
            let next = unit.slots.len();
            let slot = *unit.slot_of.entry(name.to_string()).or_insert(next);
            if slot == next {
                unit.slots.push(name.to_string());
            }
            return Name::Fast(slot);
        }
        Name::Global(Rc::from(name))
    }

    fn constant(&mut self, value: Constant) -> ConstId {
        let key = match &value {
            Constant::None => ConstKey::None,
            Constant::Bool(b) => ConstKey::Bool(*b),
            Constant::Int(i) => ConstKey::Int(*i),
            Constant::Str(s) => ConstKey::Str(s.clone()),
            Constant::Tuple(items) => ConstKey::Tuple(items.clone()),
        };
        if let Some(&id) = self.const_index.get(&key) {
            return id;
        }
        let id = self.constants.len();
        self.constants.push(value);
        self.const_index.insert(key, id);
        id
    }

    fn stmts(&mut self, unit: &mut Unit, body: &[ast::Stmt]) -> Result<Vec<Stmt>, Unsupported> {
        body.iter().map(|s| self.stmt(unit, s)).collect()
    }

    fn stmt(&mut self, unit: &mut Unit, stmt: &ast::Stmt) -> Result<Stmt, Unsupported> {
        let line = self.line(stmt);
        let kind = match stmt {
            ast::Stmt::Expr(e) => StmtKind::Expr(self.expr(unit, &e.value)?),
            ast::Stmt::Assign(a) => {
                let value = self.expr(unit, &a.value)?;
                let targets = a
                    .targets
                    .iter()
                    .map(|t| self.target(unit, t))
                    .collect::<Result<_, _>>()?;
                StmtKind::Assign(targets, value)
            }
            ast::Stmt::AugAssign(a) => {
                let target = self.target(unit, &a.target)?;
                if matches!(target, Target::Tuple(_) | Target::Slice(..)) {
                    return Err(unsupported(line, "augmented assignment to this target", ""));
                }
                let op = self.binop(&a.op, line)?;
                let value = self.expr(unit, &a.value)?;
                StmtKind::AugAssign(target, op, value)
            }
            ast::Stmt::Delete(d) => StmtKind::Delete(
                d.targets
                    .iter()
                    .map(|t| self.target(unit, t))
                    .collect::<Result<_, _>>()?,
            ),
            ast::Stmt::If(i) => StmtKind::If(
                self.expr(unit, &i.test)?,
                self.stmts(unit, &i.body)?,
                self.stmts(unit, &i.orelse)?,
            ),
            ast::Stmt::While(w) => StmtKind::While(
                self.expr(unit, &w.test)?,
                self.stmts(unit, &w.body)?,
                self.stmts(unit, &w.orelse)?,
            ),
            ast::Stmt::For(f) => {
                let iter = self.expr(unit, &f.iter)?;
                let target = self.target(unit, &f.target)?;
                StmtKind::For(
                    target,
                    iter,
                    self.stmts(unit, &f.body)?,
                    self.stmts(unit, &f.orelse)?,
                )
            }
            ast::Stmt::Break(_) => StmtKind::Break,
            ast::Stmt::Continue(_) => StmtKind::Continue,
            ast::Stmt::Pass(_) => StmtKind::Pass,
            ast::Stmt::Global(_) => StmtKind::Pass,
            ast::Stmt::Return(r) => {
                if unit.kind != CodeKind::Function {
                    return Err(unsupported(line, "`return` outside a function", ""));
                }
                StmtKind::Return(r.value.as_ref().map(|v| self.expr(unit, v)).transpose()?)
            }
            ast::Stmt::FunctionDef(def) => {
                if !def.decorator_list.is_empty() {
                    return Err(unsupported(line, "a decorator", ""));
                }
                let params = params_of(&def.args, line)?;
                let code = self.function(
                    unit,
                    def.name.as_str(),
                    &params,
                    FunctionBody::Stmts(&def.body),
                    key_of(def, 0),
                    line,
                )?;
                let target = Target::Name(self.name(unit, def.name.as_str()));
                StmtKind::Def(target, code)
            }
            ast::Stmt::ClassDef(class) => {
                if !class.decorator_list.is_empty() {
                    return Err(unsupported(line, "a class decorator", ""));
                }
                if !class.keywords.is_empty() {
                    return Err(unsupported(line, "a metaclass or class keyword", ""));
                }
                for base in &class.bases {
                    let is_object = matches!(base, ast::Expr::Name(n) if n.id.as_str() == "object");
                    if !is_object {
                        return Err(unsupported(
                            line,
                            "a base class",
                            "the subset's classes derive from object only (no inheritance)",
                        ));
                    }
                }
                let key = key_of(class, 0);
                let mut inner = self.unit(CodeKind::Class, &[], key);
                let mut body = Vec::new();
                for s in &class.body {
                    body.push(self.stmt(&mut inner, s)?);
                }
                let code = self.finish(class.name.as_str(), inner, 0, body, line);
                let target = Target::Name(self.name(unit, class.name.as_str()));
                StmtKind::Class(target, Rc::new(code))
            }
            ast::Stmt::Import(i) => {
                let [alias] = i.names.as_slice() else {
                    return Err(unsupported(
                        line,
                        "importing several modules in one statement",
                        "write one `import` per module",
                    ));
                };
                let module = alias.name.to_string();
                if !["gc", "sys", "weakref"].contains(&module.as_str()) {
                    return Err(unsupported(
                        line,
                        &format!("`import {module}`"),
                        "the subset has the modules gc, sys and weakref only",
                    ));
                }
                let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                StmtKind::Import(module, Target::Name(self.name(unit, bound.as_str())))
            }
            ast::Stmt::ImportFrom(_) => {
                return Err(unsupported(
                    line,
                    "`from ... import ...`",
                    "write `import gc` and use `gc.collect()`",
                ));
            }
            ast::Stmt::Try(t) => {
                if !t.finalbody.is_empty() {
                    return Err(unsupported(line, "a `finally` clause", ""));
                }
                let body = self.stmts(unit, &t.body)?;
                let mut handlers = Vec::new();
                for ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
                    let class = h.type_.as_ref().map(|c| self.expr(unit, c)).transpose()?;
                    let name = h
                        .name
                        .as_ref()
                        .map(|n| Target::Name(self.name(unit, n.as_str())));
                    handlers.push(Handler {
                        class,
                        name,
                        body: self.stmts(unit, &h.body)?,
                    });
                }
                let orelse = self.stmts(unit, &t.orelse)?;
                StmtKind::Try(body, handlers, orelse)
            }
            ast::Stmt::Raise(r) => {
                if r.cause.is_some() {
                    return Err(unsupported(line, "`raise ... from ...`", ""));
                }
                StmtKind::Raise(r.exc.as_ref().map(|e| self.expr(unit, e)).transpose()?)
            }
            ast::Stmt::Assert(a) => StmtKind::Assert(
                self.expr(unit, &a.test)?,
                a.msg.as_ref().map(|m| self.expr(unit, m)).transpose()?,
            ),
            ast::Stmt::Nonlocal(_) => {
                return Err(unsupported(
                    line,
                    "a `nonlocal` statement",
                    "keep shared state in a list or an attribute",
                ));
            }
            ast::Stmt::With(_) | ast::Stmt::AsyncWith(_) => {
                return Err(unsupported(
                    line,
                    "a `with` statement",
                    "the subset has no context managers",
                ));
            }
            ast::Stmt::AsyncFunctionDef(_) | ast::Stmt::AsyncFor(_) => {
                return Err(unsupported(line, "async code", ""));
            }
            ast::Stmt::Match(_) => return Err(unsupported(line, "a `match` statement", "")),
            ast::Stmt::AnnAssign(_) => {
                return Err(unsupported(line, "an annotated assignment", ""));
            }
            ast::Stmt::TryStar(_) => return Err(unsupported(line, "`except*`", "")),
            ast::Stmt::TypeAlias(_) => return Err(unsupported(line, "a `type` statement", "")),
        };
        Ok(Stmt { line, kind })
    }

    fn function(
        &mut self,
        unit: &mut Unit,
        name: &str,
        params: &[String],
        body: FunctionBody<'_>,
        key: ModuleKey,
        line: u32,
    ) -> Result<Rc<Code>, Unsupported> {
        let mut inner = self.unit(CodeKind::Function, params, key);
        let stmts = match body {
            FunctionBody::Stmts(body) => self.stmts(&mut inner, body)?,
            FunctionBody::Lambda(expr) => {
                let value = self.expr(&mut inner, expr)?;
                vec![Stmt {
                    line,
                    kind: StmtKind::Return(Some(value)),
                }]
            }
        };
        let mut code = self.finish(name, inner, params.len(), stmts, line);
        code.closure_from = self.closure_from(unit, &code, key);
        Ok(Rc::new(code))
    }

    /// For each free variable of `code` (made by `key` inside `unit`), its `Deref` number in
    /// `unit`.
    fn closure_from(&self, unit: &Unit, code: &Code, key: ModuleKey) -> Vec<usize> {
        let scope = &self.scopes[&key];
        let _ = code;
        scope
            .free
            .iter()
            .map(|name| {
                unit.derefs
                    .iter()
                    .position(|n| n == name)
                    .expect("a free variable is a cell or free in the enclosing scope")
            })
            .collect()
    }

    fn target(&mut self, unit: &mut Unit, target: &ast::Expr) -> Result<Target, Unsupported> {
        let line = self.line(target);
        Ok(match target {
            ast::Expr::Name(n) => Target::Name(self.name(unit, n.id.as_str())),
            ast::Expr::Attribute(a) => Target::Attr(
                Box::new(self.expr(unit, &a.value)?),
                Rc::from(a.attr.as_str()),
            ),
            ast::Expr::Subscript(s) => {
                let value = Box::new(self.expr(unit, &s.value)?);
                if let ast::Expr::Slice(slice) = s.slice.as_ref() {
                    if slice.step.is_some() {
                        return Err(unsupported(line, "a slice with a step", ""));
                    }
                    let lower = self.opt_expr(unit, &slice.lower)?;
                    let upper = self.opt_expr(unit, &slice.upper)?;
                    Target::Slice(value, lower, upper)
                } else {
                    Target::Item(value, Box::new(self.expr(unit, &s.slice)?))
                }
            }
            ast::Expr::Tuple(t) => Target::Tuple(
                t.elts
                    .iter()
                    .map(|e| self.target(unit, e))
                    .collect::<Result<_, _>>()?,
            ),
            ast::Expr::List(t) => Target::Tuple(
                t.elts
                    .iter()
                    .map(|e| self.target(unit, e))
                    .collect::<Result<_, _>>()?,
            ),
            ast::Expr::Starred(_) => {
                return Err(unsupported(line, "a starred assignment target", ""));
            }
            _ => return Err(unsupported(line, "this assignment target", "")),
        })
    }

    fn opt_expr(
        &mut self,
        unit: &mut Unit,
        expr: &Option<Box<ast::Expr>>,
    ) -> Result<Option<Box<Expr>>, Unsupported> {
        expr.as_ref()
            .map(|e| self.expr(unit, e).map(Box::new))
            .transpose()
    }

    fn binop(&self, op: &ast::Operator, line: u32) -> Result<BinOp, Unsupported> {
        Ok(match op {
            ast::Operator::Add => BinOp::Add,
            ast::Operator::Sub => BinOp::Sub,
            ast::Operator::Mult => BinOp::Mul,
            ast::Operator::FloorDiv => BinOp::FloorDiv,
            ast::Operator::Mod => BinOp::Mod,
            ast::Operator::Pow => BinOp::Pow,
            ast::Operator::LShift => BinOp::LShift,
            ast::Operator::RShift => BinOp::RShift,
            ast::Operator::BitAnd => BinOp::BitAnd,
            ast::Operator::BitOr => BinOp::BitOr,
            ast::Operator::BitXor => BinOp::BitXor,
            ast::Operator::Div => {
                return Err(unsupported(
                    line,
                    "true division `/`",
                    "it makes a float, and the subset has no floats; use `//`",
                ));
            }
            ast::Operator::MatMult => return Err(unsupported(line, "the `@` operator", "")),
        })
    }

    fn constant_of(&mut self, value: &ast::Constant, line: u32) -> Result<ConstId, Unsupported> {
        let constant = match value {
            ast::Constant::None => Constant::None,
            ast::Constant::Bool(b) => Constant::Bool(*b),
            ast::Constant::Str(s) => Constant::Str(s.clone()),
            ast::Constant::Int(i) => match i64::try_from(i) {
                Ok(i) => Constant::Int(i),
                Err(_) => {
                    return Err(unsupported(
                        line,
                        "an int beyond 64 bits",
                        "the subset's ints are 64-bit",
                    ));
                }
            },
            ast::Constant::Tuple(items) => {
                let ids = items
                    .iter()
                    .map(|c| self.constant_of(c, line))
                    .collect::<Result<_, _>>()?;
                Constant::Tuple(ids)
            }
            ast::Constant::Float(_) => {
                return Err(unsupported(line, "a float", "the subset has ints only"));
            }
            ast::Constant::Complex { .. } => {
                return Err(unsupported(line, "a complex number", ""));
            }
            ast::Constant::Bytes(_) => return Err(unsupported(line, "a bytes literal", "")),
            ast::Constant::Ellipsis => return Err(unsupported(line, "`...`", "")),
        };
        Ok(self.constant(constant))
    }

    /// A tuple display whose items are all constants is one constant, as CPython folds it.
    fn folded_tuple(
        &mut self,
        elts: &[ast::Expr],
        line: u32,
    ) -> Result<Option<ConstId>, Unsupported> {
        let mut ids = Vec::new();
        for e in elts {
            match e {
                ast::Expr::Constant(c) => ids.push(self.constant_of(&c.value, line)?),
                ast::Expr::Tuple(t) => match self.folded_tuple(&t.elts, line)? {
                    Some(id) => ids.push(id),
                    None => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        Ok(Some(self.constant(Constant::Tuple(ids))))
    }

    fn exprs(&mut self, unit: &mut Unit, exprs: &[ast::Expr]) -> Result<Vec<Expr>, Unsupported> {
        exprs.iter().map(|e| self.expr(unit, e)).collect()
    }

    fn keywords(
        &mut self,
        unit: &mut Unit,
        keywords: &[ast::Keyword],
        line: u32,
    ) -> Result<Vec<(Rc<str>, Expr)>, Unsupported> {
        keywords
            .iter()
            .map(|k| match &k.arg {
                Some(name) => Ok((Rc::from(name.as_str()), self.expr(unit, &k.value)?)),
                None => Err(unsupported(line, "`**` in a call", "")),
            })
            .collect()
    }

    fn expr(&mut self, unit: &mut Unit, expr: &ast::Expr) -> Result<Expr, Unsupported> {
        let line = self.line(expr);
        let kind = match expr {
            ast::Expr::Constant(c) => ExprKind::Const(self.constant_of(&c.value, line)?),
            ast::Expr::Name(n) => ExprKind::Name(self.name(unit, n.id.as_str())),
            ast::Expr::Attribute(a) => ExprKind::Attr(
                Box::new(self.expr(unit, &a.value)?),
                Rc::from(a.attr.as_str()),
            ),
            ast::Expr::Call(c) => {
                if c.args.iter().any(|a| matches!(a, ast::Expr::Starred(_))) {
                    return Err(unsupported(line, "`*` in a call", ""));
                }
                if let ast::Expr::Attribute(a) = c.func.as_ref() {
                    let obj = Box::new(self.expr(unit, &a.value)?);
                    let args = self.exprs(unit, &c.args)?;
                    let kwargs = self.keywords(unit, &c.keywords, line)?;
                    ExprKind::CallMethod(obj, Rc::from(a.attr.as_str()), args, kwargs)
                } else {
                    let func = Box::new(self.expr(unit, &c.func)?);
                    let args = self.exprs(unit, &c.args)?;
                    let kwargs = self.keywords(unit, &c.keywords, line)?;
                    ExprKind::Call(func, args, kwargs)
                }
            }
            ast::Expr::BinOp(b) => ExprKind::BinOp(
                Box::new(self.expr(unit, &b.left)?),
                self.binop(&b.op, line)?,
                Box::new(self.expr(unit, &b.right)?),
            ),
            ast::Expr::UnaryOp(u) => {
                let op = match u.op {
                    ast::UnaryOp::Not => UnaryOp::Not,
                    ast::UnaryOp::USub => UnaryOp::Neg,
                    ast::UnaryOp::UAdd => UnaryOp::Pos,
                    ast::UnaryOp::Invert => UnaryOp::Invert,
                };
                // `-5` is a constant in CPython (folded).
                if let (UnaryOp::Neg, ast::Expr::Constant(c)) = (op, u.operand.as_ref())
                    && let ast::Constant::Int(i) = &c.value
                    && let Ok(i) = i64::try_from(i)
                {
                    ExprKind::Const(self.constant(Constant::Int(-i)))
                } else {
                    ExprKind::Unary(op, Box::new(self.expr(unit, &u.operand)?))
                }
            }
            ast::Expr::Compare(c) => {
                let left = Box::new(self.expr(unit, &c.left)?);
                let mut rest = Vec::new();
                for (op, right) in c.ops.iter().zip(&c.comparators) {
                    let op = match op {
                        ast::CmpOp::Eq => CmpOp::Eq,
                        ast::CmpOp::NotEq => CmpOp::NotEq,
                        ast::CmpOp::Lt => CmpOp::Lt,
                        ast::CmpOp::LtE => CmpOp::LtE,
                        ast::CmpOp::Gt => CmpOp::Gt,
                        ast::CmpOp::GtE => CmpOp::GtE,
                        ast::CmpOp::Is => CmpOp::Is,
                        ast::CmpOp::IsNot => CmpOp::IsNot,
                        ast::CmpOp::In => CmpOp::In,
                        ast::CmpOp::NotIn => CmpOp::NotIn,
                    };
                    rest.push((op, self.expr(unit, right)?));
                }
                ExprKind::Compare(left, rest)
            }
            ast::Expr::BoolOp(b) => ExprKind::BoolOp(
                matches!(b.op, ast::BoolOp::And),
                self.exprs(unit, &b.values)?,
            ),
            ast::Expr::IfExp(i) => ExprKind::IfExp(
                Box::new(self.expr(unit, &i.test)?),
                Box::new(self.expr(unit, &i.body)?),
                Box::new(self.expr(unit, &i.orelse)?),
            ),
            ast::Expr::List(l) => {
                if l.elts.iter().any(|e| matches!(e, ast::Expr::Starred(_))) {
                    return Err(unsupported(line, "`*` in a list display", ""));
                }
                ExprKind::List(self.exprs(unit, &l.elts)?)
            }
            ast::Expr::Tuple(t) => {
                if t.elts.iter().any(|e| matches!(e, ast::Expr::Starred(_))) {
                    return Err(unsupported(line, "`*` in a tuple display", ""));
                }
                match self.folded_tuple(&t.elts, line)? {
                    Some(id) => ExprKind::Const(id),
                    None => ExprKind::Tuple(self.exprs(unit, &t.elts)?),
                }
            }
            ast::Expr::Dict(d) => {
                let mut items = Vec::new();
                for (k, v) in d.keys.iter().zip(&d.values) {
                    let Some(k) = k else {
                        return Err(unsupported(line, "`**` in a dict display", ""));
                    };
                    let key = self.expr(unit, k)?;
                    let value = self.expr(unit, v)?;
                    items.push((key, value));
                }
                ExprKind::Dict(items)
            }
            ast::Expr::Subscript(s) => {
                let value = Box::new(self.expr(unit, &s.value)?);
                if let ast::Expr::Slice(slice) = s.slice.as_ref() {
                    if slice.step.is_some() {
                        return Err(unsupported(line, "a slice with a step", ""));
                    }
                    let lower = self.opt_expr(unit, &slice.lower)?;
                    let upper = self.opt_expr(unit, &slice.upper)?;
                    ExprKind::Slice(value, lower, upper)
                } else {
                    ExprKind::Subscript(value, Box::new(self.expr(unit, &s.slice)?))
                }
            }
            ast::Expr::JoinedStr(j) => ExprKind::FString(self.fstring(unit, &j.values, line)?),
            ast::Expr::FormattedValue(_) => {
                ExprKind::FString(self.fstring(unit, std::slice::from_ref(expr), line)?)
            }
            ast::Expr::Lambda(l) => {
                let params = params_of(&l.args, line)?;
                let code = self.function(
                    unit,
                    "<lambda>",
                    &params,
                    FunctionBody::Lambda(&l.body),
                    key_of(l, 0),
                    line,
                )?;
                ExprKind::Lambda(code)
            }
            ast::Expr::ListComp(c) => {
                self.comprehension(unit, c, "<listcomp>", &c.elt, &c.generators, line)?
            }
            ast::Expr::GeneratorExp(c) => {
                self.comprehension(unit, c, "<genexpr>", &c.elt, &c.generators, line)?
            }
            ast::Expr::Set(_) | ast::Expr::SetComp(_) => {
                return Err(unsupported(
                    line,
                    "a set",
                    "the subset has lists, tuples and dicts",
                ));
            }
            ast::Expr::DictComp(_) => {
                return Err(unsupported(
                    line,
                    "a dict comprehension",
                    "build the dict in a loop",
                ));
            }
            ast::Expr::NamedExpr(_) => {
                return Err(unsupported(line, "the walrus operator `:=`", ""));
            }
            ast::Expr::Await(_) => return Err(unsupported(line, "`await`", "")),
            ast::Expr::Yield(_) | ast::Expr::YieldFrom(_) => {
                return Err(unsupported(line, "a generator (`yield`)", ""));
            }
            ast::Expr::Starred(_) => return Err(unsupported(line, "`*` unpacking", "")),
            ast::Expr::Slice(_) => return Err(unsupported(line, "a slice outside `[...]`", "")),
        };
        Ok(Expr { line, kind })
    }

    fn fstring(
        &mut self,
        unit: &mut Unit,
        values: &[ast::Expr],
        line: u32,
    ) -> Result<Vec<FPart>, Unsupported> {
        let mut parts = Vec::new();
        for value in values {
            match value {
                ast::Expr::Constant(c) => match &c.value {
                    ast::Constant::Str(s) => parts.push(FPart::Text(s.clone())),
                    _ => return Err(unsupported(line, "this part of an f-string", "")),
                },
                ast::Expr::FormattedValue(f) => {
                    let conversion = match f.conversion {
                        ast::ConversionFlag::None | ast::ConversionFlag::Str => Conversion::Str,
                        ast::ConversionFlag::Repr => Conversion::Repr,
                        ast::ConversionFlag::Ascii => {
                            return Err(unsupported(line, "`!a` in an f-string", ""));
                        }
                    };
                    let spec = match f.format_spec.as_deref() {
                        None => None,
                        Some(ast::Expr::JoinedStr(j)) => {
                            let mut text = String::new();
                            for v in &j.values {
                                match v {
                                    ast::Expr::Constant(c) => match &c.value {
                                        ast::Constant::Str(s) => text.push_str(s),
                                        _ => {
                                            return Err(unsupported(line, "this format spec", ""));
                                        }
                                    },
                                    _ => {
                                        return Err(unsupported(
                                            line,
                                            "a computed format spec",
                                            "",
                                        ));
                                    }
                                }
                            }
                            Some(text)
                        }
                        Some(_) => return Err(unsupported(line, "this format spec", "")),
                    };
                    parts.push(FPart::Value(
                        Box::new(self.expr(unit, &f.value)?),
                        conversion,
                        spec,
                    ));
                }
                ast::Expr::JoinedStr(j) => parts.extend(self.fstring(unit, &j.values, line)?),
                _ => return Err(unsupported(line, "this part of an f-string", "")),
            }
        }
        Ok(parts)
    }

    fn comprehension(
        &mut self,
        unit: &mut Unit,
        node: &impl Ranged,
        name: &str,
        elt: &ast::Expr,
        generators: &[ast::Comprehension],
        line: u32,
    ) -> Result<ExprKind, Unsupported> {
        let first = generators.first().expect("a comprehension has a generator");
        if generators.iter().any(|g| g.is_async) {
            return Err(unsupported(line, "an async comprehension", ""));
        }
        let iter = Box::new(self.expr(unit, &first.iter)?);
        let key = key_of(node, 1);
        let params = vec![".0".to_string()];
        let mut inner = self.unit(CodeKind::Function, &params, key);
        // The body, as CPython 3.11 compiles it: result = []; for target in .0: [if ...:]
        // result.append(elt); return result. Nested generators nest the loops.
        let result = self.name(&mut inner, ".result");
        let body = self.comprehension_loop(&mut inner, generators, 0, elt, &result, line)?;
        let stmts = vec![
            Stmt {
                line,
                kind: StmtKind::Assign(
                    vec![Target::Name(result.clone())],
                    Expr {
                        line,
                        kind: ExprKind::List(Vec::new()),
                    },
                ),
            },
            body,
            Stmt {
                line,
                kind: StmtKind::Return(Some(Expr {
                    line,
                    kind: ExprKind::Name(result),
                })),
            },
        ];
        let mut code = self.finish(name, inner, 1, stmts, line);
        code.closure_from = self.closure_from(unit, &code, key);
        Ok(ExprKind::Comprehension(Rc::new(code), iter))
    }

    fn comprehension_loop(
        &mut self,
        unit: &mut Unit,
        generators: &[ast::Comprehension],
        index: usize,
        elt: &ast::Expr,
        result: &Name,
        line: u32,
    ) -> Result<Stmt, Unsupported> {
        let generator = &generators[index];
        let iter = if index == 0 {
            Expr {
                line,
                kind: ExprKind::Name(Name::Fast(0)),
            }
        } else {
            self.expr(unit, &generator.iter)?
        };
        let target = self.target(unit, &generator.target)?;
        let mut inner = if index + 1 < generators.len() {
            self.comprehension_loop(unit, generators, index + 1, elt, result, line)?
        } else {
            let value = self.expr(unit, elt)?;
            Stmt {
                line,
                kind: StmtKind::Expr(Expr {
                    line,
                    kind: ExprKind::CallMethod(
                        Box::new(Expr {
                            line,
                            kind: ExprKind::Name(result.clone()),
                        }),
                        Rc::from("append"),
                        vec![value],
                        Vec::new(),
                    ),
                }),
            }
        };
        for test in generator.ifs.iter().rev() {
            let test = self.expr(unit, test)?;
            inner = Stmt {
                line,
                kind: StmtKind::If(test, vec![inner], Vec::new()),
            };
        }
        Ok(Stmt {
            line,
            kind: StmtKind::For(target, iter, vec![inner], Vec::new()),
        })
    }
}

enum FunctionBody<'a> {
    Stmts(&'a [ast::Stmt]),
    Lambda(&'a ast::Expr),
}
