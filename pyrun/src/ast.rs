//! The program as the interpreter runs it: the parser's tree, checked against the subset and
//! with every name resolved to where it lives (a slot of the frame, a cell, a global), as
//! CPython's compiler resolves them into `LOAD_FAST`, `LOAD_DEREF` and `LOAD_GLOBAL`.
//!
//! ```text
//!   def make_callback(name):          Code "make_callback": params [name]
//!       def callback(ref):              name is captured: a cell (MAKE_CELL), cell 0
//!           print("callback", name)   Code "callback": params [ref], free [name]
//!       return callback                 print: Global; name: Deref(0)
//! ```

use std::rc::Rc;

/// The index of a constant in [`Program::constants`].
pub type ConstId = usize;

/// A whole script: its module code and its constants.
#[derive(Debug)]
pub struct Program {
    /// The module's code (`<module>`).
    pub module: Rc<Code>,
    /// Every constant of every code object, in the order the compiler met them. The interpreter
    /// makes each one object before the script runs, as CPython's code objects hold theirs.
    pub constants: Vec<Constant>,
}

/// A constant of the source.
#[derive(Clone, PartialEq, Debug)]
pub enum Constant {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An int that fits in 64 bits.
    Int(i64),
    /// A str.
    Str(String),
    /// A tuple of constants, `(1, 2)`: one object, made once.
    Tuple(Vec<ConstId>),
}

/// What kind of code a [`Code`] is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CodeKind {
    /// The module: names are globals.
    Module,
    /// A class body: names go to the class's namespace.
    Class,
    /// A function (or a comprehension, which CPython 3.11 runs as a function of its own).
    Function,
}

/// One code object: a function, a class body or the module.
#[derive(Debug)]
pub struct Code {
    /// `__name__` (`<module>`, `<listcomp>`, ...).
    pub name: String,
    /// What kind of code it is.
    pub kind: CodeKind,
    /// How many positional parameters it takes (the first slots).
    pub params: usize,
    /// The names of the slots, in CPython's `co_localsplusnames` order: parameters, the other
    /// locals in the order the compiler met them, then cells, then free variables. A frame's
    /// slots are released in this order when it returns.
    pub slot_names: Vec<String>,
    /// For each cell or free variable (the `Deref` numbers), its slot.
    pub deref_slots: Vec<usize>,
    /// How many of the `Deref` numbers are this code's own cells (made at each call, before
    /// the body runs); the rest are free variables, taken from the function's closure.
    pub cells: usize,
    /// For each free variable, the `Deref` number of the same variable in the code that
    /// defines this one: what goes into the closure tuple, in order.
    pub closure_from: Vec<usize>,
    /// The body.
    pub body: Vec<Stmt>,
    /// The line of the `def` (or 1 for the module).
    pub line: u32,
}

/// Where a name lives.
#[derive(Clone, Debug)]
pub enum Name {
    /// A slot of the frame (`LOAD_FAST`).
    Fast(usize),
    /// A cell, by `Deref` number (`LOAD_DEREF`).
    Deref(usize),
    /// A global or a builtin (`LOAD_GLOBAL`); in the module and class bodies, the module's or
    /// class's namespace first (`LOAD_NAME`).
    Global(Rc<str>),
}

/// A statement and its line.
#[derive(Debug)]
pub struct Stmt {
    /// Its first line in the source.
    pub line: u32,
    /// What it does.
    pub kind: StmtKind,
}

/// What a statement does.
#[derive(Debug)]
pub enum StmtKind {
    /// An expression whose value is dropped.
    Expr(Expr),
    /// `a = b = value`.
    Assign(Vec<Target>, Expr),
    /// `target op= value`.
    AugAssign(Target, BinOp, Expr),
    /// `del a, b[0], c.x`.
    Delete(Vec<Target>),
    /// `if`/`elif`/`else`.
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `while test: ... else: ...`.
    While(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `for target in iter: ... else: ...`.
    For(Target, Expr, Vec<Stmt>, Vec<Stmt>),
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `return value`.
    Return(Option<Expr>),
    /// `pass`, and `global` (resolved already).
    Pass,
    /// `def name(...)`: makes the function and binds it.
    Def(Target, Rc<Code>),
    /// `class name: ...`: runs the body in a new namespace and binds the class.
    Class(Target, Rc<Code>),
    /// `import gc` (or `import gc as g`).
    Import(String, Target),
    /// `try: ... except T as e: ... else: ...`.
    Try(Vec<Stmt>, Vec<Handler>, Vec<Stmt>),
    /// `raise`, `raise E`, `raise E("message")`.
    Raise(Option<Expr>),
    /// `assert test, message`.
    Assert(Expr, Option<Expr>),
}

/// One `except` clause.
#[derive(Debug)]
pub struct Handler {
    /// The exception class it catches (`None`: a bare `except:`).
    pub class: Option<Expr>,
    /// Where `as name` binds the exception.
    pub name: Option<Target>,
    /// The body.
    pub body: Vec<Stmt>,
}

/// Something a value can be stored into (or deleted from).
#[derive(Debug)]
pub enum Target {
    /// A name.
    Name(Name),
    /// `obj.attr`.
    Attr(Box<Expr>, Rc<str>),
    /// `obj[index]`.
    Item(Box<Expr>, Box<Expr>),
    /// `obj[lower:upper]`.
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// `a, b` (unpacking).
    Tuple(Vec<Target>),
}

/// An expression and its line.
#[derive(Debug)]
pub struct Expr {
    /// The line it starts on.
    pub line: u32,
    /// What it computes.
    pub kind: ExprKind,
}

/// What an expression computes.
#[derive(Debug)]
pub enum ExprKind {
    /// A constant.
    Const(ConstId),
    /// A name's value.
    Name(Name),
    /// `obj.attr`.
    Attr(Box<Expr>, Rc<str>),
    /// `f(args, key=value)`.
    Call(Box<Expr>, Vec<Expr>, Vec<(Rc<str>, Expr)>),
    /// `obj.method(args)`: CPython 3.11's `LOAD_METHOD`, which makes no bound method object.
    CallMethod(Box<Expr>, Rc<str>, Vec<Expr>, Vec<(Rc<str>, Expr)>),
    /// `a op b`.
    BinOp(Box<Expr>, BinOp, Box<Expr>),
    /// `not a`, `-a`, `+a`.
    Unary(UnaryOp, Box<Expr>),
    /// `a < b < c`, `a is b`, `a in b`, ...
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    /// `a and b and c` (`true`) or `a or b` (`false`).
    BoolOp(bool, Vec<Expr>),
    /// `body if test else orelse`.
    IfExp(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `(a, b)` with an item that is not a constant.
    Tuple(Vec<Expr>),
    /// `{k: v}`.
    Dict(Vec<(Expr, Expr)>),
    /// `obj[index]`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `obj[lower:upper]`.
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    /// An f-string: its pieces, joined.
    FString(Vec<FPart>),
    /// A list comprehension or a generator expression (run eagerly, into a list): CPython 3.11
    /// makes a function of it and calls it with an iterator over `iter`.
    Comprehension(Rc<Code>, Box<Expr>),
    /// `lambda params: body`.
    Lambda(Rc<Code>),
}

/// One piece of an f-string.
#[derive(Debug)]
pub enum FPart {
    /// Text as written.
    Text(String),
    /// `{value}`, `{value!r}`, `{value:>5}`.
    Value(Box<Expr>, Conversion, Option<String>),
}

/// `!s`, `!r` or nothing in an f-string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Conversion {
    /// `str()`.
    Str,
    /// `repr()`.
    Repr,
}

/// A binary operator of the subset.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `//`.
    FloorDiv,
    /// `%`.
    Mod,
    /// `**`.
    Pow,
    /// `<<`, `>>`, `&`, `|`, `^`.
    LShift,
    /// `>>`.
    RShift,
    /// `&`.
    BitAnd,
    /// `|`.
    BitOr,
    /// `^`.
    BitXor,
}

/// A unary operator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnaryOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
    /// `+`.
    Pos,
    /// `~`.
    Invert,
}

/// A comparison operator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtE,
    /// `>`.
    Gt,
    /// `>=`.
    GtE,
    /// `is`.
    Is,
    /// `is not`.
    IsNot,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
}
