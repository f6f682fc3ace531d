//! Per-file facts for function summaries: plain data extracted from one parsed file
//! (and its entry-point [`Facts`]), with no tree-sitter types or borrows, so that a
//! cache can store it and the project-wide pass can run on it alone.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::{Deserialize, Serialize};

use crate::capi::{self, AllocOp};
use crate::source::entry::{Facts, GuardKind, WriteKind};
use crate::source::index::{FileIndex, Range};
use crate::source::privacy::closing_paren;
use crate::source::ParsedFile;

/// What an access does to the storage it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AccessKind {
    /// Loaded.
    Read,
    /// Handed to a call (by value or address): the callee may read or change what it points to.
    Pass,
    /// Assigned.
    Write,
    /// Read-modify-write: `+=`, `++`.
    Update,
    /// An object reference replaced or cleared: `Py_SETREF`, `Py_CLEAR`, assignment of an object pointer.
    Replace,
    /// A buffer reallocated: `p->buf = PyMem_Realloc(p->buf, n)`, `PyMem_RESIZE`.
    Realloc,
    /// Released: `PyMem_Free(p->buf)`, `free(p)`, `Py_DECREF(p->obj)`.
    Free,
    /// Contents changed in place: element stores, C++ container mutators
    /// (`insert`, `erase`, `push_back`, `operator[]`, `emplace`, `clear`), or a callee
    /// writing through the pointer.
    Mutate,
}

impl AccessKind {
    /// Does it change the storage (or what it owns)?
    pub fn changes(self) -> bool {
        !matches!(self, AccessKind::Read | AccessKind::Pass)
    }

    /// Does it leave other readers with a dangling pointer (reallocation, release, replacement)?
    pub fn invalidates(self) -> bool {
        matches!(
            self,
            AccessKind::Replace | AccessKind::Realloc | AccessKind::Free
        )
    }

    /// Words for messages: "reallocates", "frees", ...
    pub fn verb(self) -> &'static str {
        match self {
            AccessKind::Read => "reads",
            AccessKind::Pass => "passes on",
            AccessKind::Write => "writes",
            AccessKind::Update => "updates (read-modify-write)",
            AccessKind::Replace => "replaces",
            AccessKind::Realloc => "reallocates",
            AccessKind::Free => "frees",
            AccessKind::Mutate => "mutates",
        }
    }
}

/// What protects one access (several may hold at once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Protection {
    /// A critical section is held (and not released by a detached region).
    pub critical_section: bool,
    /// A mutex is held (`PyMutex`, `PyThread` lock, pthread/Windows, C++ scoped locks,
    /// the file's own lock macros and inline helpers).
    pub mutex: bool,
    /// The access is an atomic operation (`_Py_atomic_*`, C11 `atomic_*`, `__atomic_*`,
    /// `std::atomic` members).
    pub atomic: bool,
    /// Inside a one-time initialiser (`std::call_once`, `pthread_once`, `PyOnceFlag`).
    pub once: bool,
    /// The thread is detached (`Py_BEGIN_ALLOW_THREADS`): critical sections are released.
    pub detached: bool,
}

impl Protection {
    pub fn union(self, o: Protection) -> Protection {
        Protection {
            critical_section: (self.critical_section || o.critical_section)
                && !(self.detached || o.detached),
            mutex: self.mutex || o.mutex,
            atomic: self.atomic || o.atomic,
            once: self.once || o.once,
            detached: self.detached || o.detached,
        }
    }

    /// Safe for per-object state: a critical section, a mutex, an atomic or a one-time init.
    pub fn protects_object(self) -> bool {
        self.critical_section || self.mutex || self.atomic || self.once
    }

    /// Safe for global state: a mutex, an atomic or a one-time init (a critical
    /// section on an instance does not serialise other instances).
    pub fn protects_global(self) -> bool {
        self.mutex || self.atomic || self.once
    }
}

/// What an access starts from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Base {
    /// The function's parameter at this position (or a local cast from it:
    /// `FooObject *self = (FooObject *)op;`).
    Param(usize),
    /// C++ `this` (explicit, or a member named without it).
    This,
    /// A variable with static storage: file scope, `extern`, class static (by its
    /// last name), or a function's `static` local (`function::name`).
    Global(String),
}

/// One access in a function body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub base: Base,
    /// The first field reached from the base (`buf` in `self->buf[i]`), if any.
    pub field: Option<String>,
    pub kind: AccessKind,
    pub protection: Protection,
    /// A fill under a test of the same storage for emptiness:
    /// `if (self->index == NULL) self->index = build();`.
    pub lazy: bool,
    pub range: Range,
}

/// An argument (or receiver) of a call, as the callee's summary needs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arg {
    /// A base itself (`self`, `(PyObject *)self`, `&default_arena`, `this`).
    Base(Base),
    /// A field of a base (`self->buf`, `&self->state`): the callee works on what it holds.
    Field(Base, String),
    /// An object this function allocated and has not published yet.
    Fresh,
    Other,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSite {
    /// The called name (last identifier): `resize`, `add`, `push_back`.
    pub name: String,
    /// For `x.f(...)`/`x->f(...)`: the receiver, which is `this` in the callee.
    pub receiver: Option<Arg>,
    /// The receiver's declared type when known (`Solver` for `self->solver->add`).
    pub receiver_type: Option<String>,
    pub args: Vec<Arg>,
    pub protection: Protection,
    pub range: Range,
    /// The call sits in an `if`/`while` condition (`if (!check_thread(self)) return NULL;`)
    /// or in a returned expression.
    pub in_condition: bool,
}

/// One function's direct facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnFacts {
    pub name: String,
    pub is_static: bool,
    /// The C++ class it is a member of (`Solver` for `Solver::add` or a method
    /// defined in the class body).
    pub class: Option<String>,
    pub range: Range,
    pub name_range: Range,
    /// Per parameter: the struct it points to when it is (or is cast to) a pointer to
    /// a struct (`BufObject` for `BufObject *self`, or `PyObject *op` cast to it).
    pub param_types: Vec<Option<String>>,
    pub accesses: Vec<Access>,
    pub calls: Vec<CallSite>,
    /// A singleton accessor returns this static storage (`static Registry &registry()
    /// { static Registry r; return r; }`).
    pub returns_static: Option<String>,
    /// The body asserts that the caller holds the object's critical section.
    pub asserts_locked: bool,
    /// The body compares the current thread with a recorded owner
    /// (`if (PyThread_get_thread_ident() != self->thread_ident)`): an ownership check.
    pub checks_thread: bool,
}

/// A variable with static storage declared in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalVar {
    /// The name accesses use (`count` for `Foo::count`, `f::cache` for a static local).
    pub key: String,
    /// `static` at file scope or a static local: visible only in this file.
    pub file_local: bool,
    /// A definition or `extern` declaration that can hold shared state (not const,
    /// thread-local, atomic, or a lock/once type).
    pub mutable_state: bool,
    /// Thread-local, atomic or const: never shared mutable state, whatever other
    /// declarations say.
    pub safe: bool,
    pub pointer: bool,
    /// Declared in a header (`extern struct arena default_arena;` in `arena.h`).
    pub in_header: bool,
    pub range: Range,
}

/// A struct or class with its fields, for field types and C++ members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructFacts {
    pub names: Vec<String>,
    /// (name, type, is a pointer or array).
    pub fields: Vec<(String, String, bool)>,
    /// Starts with `PyObject_HEAD` (or an `ob_base` member): a Python object.
    pub python_object: bool,
    pub range: Range,
}

/// An extension type declared in this file: a static `PyTypeObject` or a `PyType_Spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDecl {
    /// The variable (`Buf_Type`, `buf_spec`).
    pub var: String,
    /// `tp_name`/`name`: `"mod.Buf"`.
    pub py_name: Option<String>,
    /// The struct in `sizeof(...)` of the basic size.
    pub object_struct: Option<String>,
    /// (slot, function) for the functions it names directly or through its
    /// slot array, method table and getset table.
    pub functions: Vec<(String, String)>,
    pub range: Range,
}

/// Everything the summaries need from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub functions: Vec<FnFacts>,
    pub globals: Vec<GlobalVar>,
    pub structs: Vec<StructFacts>,
    pub types: Vec<TypeDecl>,
}

/// C++ container members that change the container.
const MUTATORS: [&str; 22] = [
    "insert",
    "insert_or_assign",
    "erase",
    "push_back",
    "push_front",
    "pop_back",
    "pop_front",
    "emplace",
    "emplace_back",
    "emplace_front",
    "emplace_hint",
    "try_emplace",
    "clear",
    "resize",
    "reserve",
    "assign",
    "swap",
    "merge",
    "extract",
    "splice",
    "shrink_to_fit",
    "remove",
];

/// `x.f` or `x->f`: a callee that is a member (asked of every call).
fn is_member(callee: &str) -> bool {
    let b = callee.as_bytes();
    b.contains(&b'.') || b.windows(2).any(|w| w == b"->")
}

/// Calls whose arguments are touched atomically.
fn is_atomic_call(name: &str) -> bool {
    capi::is_atomic(name)
        || name.starts_with("_Py_atomic_")
        || name.starts_with("__atomic_")
        || name.starts_with("__sync_")
        || name.starts_with("atomic_")
        || name.starts_with("Interlocked")
}

/// One-time initialisers: their callback runs once, under their own lock.
fn is_once_call(name: &str) -> bool {
    matches!(
        name,
        "call_once" | "pthread_once" | "InitOnceExecuteOnce" | "_PyOnceFlag_CallOnce"
    )
}

/// Calls that return the current thread's identity.
fn is_thread_id_call(name: &str) -> bool {
    matches!(
        name,
        "PyThread_get_thread_ident"
            | "PyThread_get_thread_native_id"
            | "pthread_self"
            | "GetCurrentThreadId"
            | "get_id"
            | "thrd_current"
    )
}

/// `std::atomic` member operations.
fn is_atomic_member(name: &str) -> bool {
    matches!(
        name,
        "load"
            | "store"
            | "exchange"
            | "fetch_add"
            | "fetch_sub"
            | "fetch_or"
            | "fetch_and"
            | "compare_exchange_weak"
            | "compare_exchange_strong"
    )
}

/// Allocations whose result no other thread can see yet.
fn is_allocation(text: &str) -> bool {
    const WORDS: [&str; 10] = [
        "_New(",
        "_NEW(",
        "tp_alloc",
        "GenericNew",
        "GenericAlloc",
        "_GC_New",
        "PyType_GenericAlloc",
        "new ",
        "make_unique",
        "make_shared",
    ];
    // One pass over the text, asked of every local's initialiser (ten substring
    // searches each cost more than the short texts they search).
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        WORDS
            .iter()
            .any(|w| w.as_bytes()[0] == b[i] && b[i..].starts_with(w.as_bytes()))
    })
}

/// The last name of a qualified name: `count` for `Tracker::count`. Asked of every
/// base, argument and callee: most names have no `:`, and a byte test answers
/// those without building a substring searcher.
fn last_name(s: &str) -> &str {
    if !s.as_bytes().contains(&b':') {
        return s;
    }
    s.rsplit("::").next().unwrap_or(s)
}

/// Names that are not variables: all-caps macros and C keywords the index may hand us.
fn is_macro_like(name: &str) -> bool {
    name.len() > 1
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn strip_type(t: &str) -> String {
    t.trim()
        .trim_start_matches("const ")
        .trim_start_matches("struct ")
        .trim_end_matches(['*', '&', ' '])
        .trim()
        .to_owned()
}

/// Expression text without casts, parentheses, `&` and `*`.
fn strip_expr(t: &str) -> &str {
    if is_bare(t) {
        return t;
    }
    let mut s = t.trim();
    loop {
        let before = s;
        s = s.trim_start_matches(['&', '*']).trim();
        if s.starts_with('(') {
            // A cast `(T *)x` or a parenthesised expression `(x)`.
            if let Some(close) = closing_paren(s) {
                let inner = &s[1..close];
                let rest = s[close + 1..].trim();
                if rest.is_empty() {
                    s = inner.trim();
                } else if !inner.contains(['(', ')']) {
                    s = rest;
                }
            }
        }
        for cast in ["reinterpret_cast<", "static_cast<", "const_cast<"] {
            if let Some(r) = s.strip_prefix(cast) {
                if let Some(open) = r.find(">(") {
                    let r2 = &r[open + 1..];
                    if let Some(close) = closing_paren(r2) {
                        if r2[close + 1..].trim().is_empty() {
                            s = r2[1..close].trim();
                        }
                    }
                }
            }
        }
        if s == before {
            return s;
        }
    }
}

/// `s.trim()`, without decoding characters when both ends are plain ASCII:
/// names and expressions are trimmed again at each step of their mapping.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&b))
            if a.is_ascii()
                && b.is_ascii()
                && !char::from(a).is_whitespace()
                && !char::from(b).is_whitespace() =>
        {
            s
        }
        _ => s.trim(),
    }
}

/// Nothing for [`strip_expr`] to take off: no blank at either end, and no `&`,
/// `*`, `(` or cast keyword in front. Asked of every argument of the file, most
/// of which are bare (`self`, `n`, `obj->items`).
fn is_bare(t: &str) -> bool {
    let (Some(&first), Some(&last)) = (t.as_bytes().first(), t.as_bytes().last()) else {
        return false;
    };
    first.is_ascii()
        && last.is_ascii()
        && !char::from(first).is_whitespace()
        && !char::from(last).is_whitespace()
        && !matches!(first, b'&' | b'*' | b'(')
        && !["reinterpret_cast<", "static_cast<", "const_cast<"]
            .iter()
            .any(|c| t.starts_with(c))
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        && !s.as_bytes()[0].is_ascii_digit()
}

/// The type a cast expression converts to: `(T *)x`, `reinterpret_cast<T *>(x)`.
fn cast_type(init: &str) -> Option<String> {
    let t = init.trim();
    for cast in ["reinterpret_cast<", "static_cast<", "const_cast<"] {
        if let Some(i) = t.find(cast) {
            let r = &t[i + cast.len()..];
            return r.find('>').map(|e| strip_type(&r[..e]));
        }
    }
    let r = t.strip_prefix('(')?;
    let close = closing_paren(t)?;
    Some(strip_type(&r[..close - 1]))
}

/// `a->b.c` → (`a`, `b`); `registry().items` → (`registry()`, `items`): the root
/// of a member chain and its first field, when every field is a name. Slices of
/// `expr`: asked for every argument and callee of the file, so nothing is copied.
fn chain(expr: &str) -> Option<(&str, Option<&str>)> {
    let s = strip_expr(expr);
    let b = s.as_bytes();
    let (mut root, mut first) = (None, None);
    // Each part, trimmed: the root, then fields that must all be names.
    fn part<'s>(p: &'s str, root: &mut Option<&'s str>, first: &mut Option<&'s str>) -> bool {
        let p = trim(p);
        if root.is_none() {
            *root = Some(p);
        } else if !is_ident(p) {
            return false;
        } else if first.is_none() {
            *first = Some(p);
        }
        true
    }
    let (mut i, mut start, mut depth) = (0, 0, 0);
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        let sep = match b[i] {
            b'.' if depth == 0 => 1,
            b'-' if depth == 0 && b.get(i + 1) == Some(&b'>') => 2,
            _ => 0,
        };
        if sep > 0 {
            if !part(&s[start..i], &mut root, &mut first) {
                return None;
            }
            i += sep;
            start = i;
            continue;
        }
        i += 1;
    }
    if !part(&s[start..], &mut root, &mut first) {
        return None;
    }
    Some((root?, first))
}

/// What a function's body knows about its names.
struct Scope<'a> {
    params: HashMap<&'a str, usize>,
    /// Locals cast from a parameter: `self` → 0.
    aliases: HashMap<String, usize>,
    /// Locals bound to static storage (`auto &r = registry();`, `T *p = &global;`).
    global_aliases: HashMap<String, String>,
    fresh: HashSet<String>,
    locals: HashSet<&'a str>,
    static_locals: HashSet<&'a str>,
    class_fields: HashSet<&'a str>,
    class: Option<&'a str>,
    /// File-scope names as written (`Tracker::instances`).
    qualified_globals: &'a HashSet<String>,
    fn_name: &'a str,
    globals: &'a HashSet<&'a str>,
    singletons: &'a HashMap<String, String>,
}

impl Scope<'_> {
    fn base(&self, root: &str) -> Option<Base> {
        let root = trim(root);
        if root == "this" {
            return Some(Base::This);
        }
        if let Some(call) = root.strip_suffix("()") {
            let name = last_name(call);
            return self.singletons.get(name).map(|k| Base::Global(k.clone()));
        }
        if !is_ident(root) {
            return None;
        }
        let short = last_name(root);
        if let Some(i) = self.aliases.get(short) {
            return Some(Base::Param(*i));
        }
        if let Some(i) = self.params.get(short) {
            return Some(Base::Param(*i));
        }
        if let Some(k) = self.global_aliases.get(short) {
            return Some(Base::Global(k.clone()));
        }
        if self.static_locals.contains(short) {
            return Some(Base::Global(format!("{}::{short}", self.fn_name)));
        }
        if self.locals.contains(short) || self.fresh.contains(short) {
            return None;
        }
        if self.class_fields.contains(short) && !root.contains("::") {
            return None; // handled by the caller as `this->field`
        }
        if is_macro_like(short) {
            return None;
        }
        self.globals
            .contains(short)
            .then(|| Base::Global(short.to_owned()))
    }

    /// A base and field for `root` followed by `fields`, with C++ implicit members.
    fn target(&self, root: &str, field: Option<&str>) -> Option<(Base, Option<String>)> {
        let short = trim(last_name(trim(root)));
        // A class static defined at file scope (`std::vector<T *> Tracker::instances;`).
        if self
            .class
            .filter(|_| !self.qualified_globals.is_empty())
            .is_some_and(|c| self.qualified_globals.contains(&format!("{c}::{short}")))
            && !self.locals.contains(short)
            && !self.params.contains_key(short)
        {
            return Some((Base::Global(short.to_owned()), field.map(str::to_owned)));
        }
        if self.class_fields.contains(short)
            && !self.locals.contains(short)
            && !self.params.contains_key(short)
            && !root.contains("::")
        {
            return Some((Base::This, Some(short.to_owned())));
        }
        let b = self.base(root)?;
        Some((b, field.map(str::to_owned)))
    }

    fn arg(&self, text: &str) -> Arg {
        let t = strip_expr(text);
        if self.fresh.contains(t) {
            return Arg::Fresh;
        }
        match chain(t) {
            Some((root, field)) => match self.target(root, field) {
                Some((b, None)) => Arg::Base(b),
                Some((b, Some(f))) => Arg::Field(b, f),
                None => Arg::Other,
            },
            None => Arg::Other,
        }
    }
}

/// Ranges asked, once per call of a function, whether one of them contains a
/// range: sorted by start, with the furthest end of each prefix, so that each
/// question is one binary search (a scan of every condition per call made huge
/// functions quadratic).
struct Enclosing {
    starts: Vec<usize>,
    furthest_end: Vec<usize>,
}

impl Enclosing {
    fn new(ranges: impl Iterator<Item = Range>) -> Enclosing {
        let mut ranges: Vec<Range> = ranges.collect();
        ranges.sort_unstable();
        let mut end = 0;
        Enclosing {
            starts: ranges.iter().map(|r| r.0).collect(),
            furthest_end: ranges
                .iter()
                .map(|r| {
                    end = end.max(r.1);
                    end
                })
                .collect(),
        }
    }

    /// Does one of the ranges start at or before `r` and end at or after it?
    fn contains(&self, r: Range) -> bool {
        let k = self.starts.partition_point(|&s| s <= r.0);
        k > 0 && self.furthest_end[k - 1] >= r.1
    }
}

/// Guards and branches of one function, to answer "what protects this offset".
struct Regions<'a> {
    facts: &'a Facts,
    /// Indices into `facts.guards` starting inside the function.
    guards: Vec<usize>,
    /// Atomic / once call argument ranges.
    atomic: Vec<Range>,
    once: Vec<Range>,
    asserts_locked: bool,
}

impl Regions<'_> {
    fn protection(&self, off: usize) -> Protection {
        let mut p = Protection::default();
        for &g in &self.guards {
            let g = &self.facts.guards[g];
            if g.range.0 <= off && off < g.range.1 {
                match g.kind {
                    GuardKind::Mutex => p.mutex = true,
                    GuardKind::CriticalSection => p.critical_section = true,
                    GuardKind::Detached => p.detached = true,
                }
            }
        }
        if self.asserts_locked {
            p.critical_section = true;
        }
        if p.detached {
            p.critical_section = false;
        }
        p.atomic = self.atomic.iter().any(|r| r.0 <= off && off < r.1);
        p.once = self.once.iter().any(|r| r.0 <= off && off < r.1);
        p
    }
}

/// Does `cond` test `var` for being unset (`!x`, `x == NULL`, `x == 0`, `NULL == x`)?
#[cfg(test)]
fn tests_empty(cond: &str, var: &str) -> bool {
    tests_empty_in(&squeeze(cond), var)
}

/// A condition as [`tests_empty_in`] reads it: no blanks, no parentheses. Built
/// once per branch, since every write in the branch's body asks about it.
fn squeeze(cond: &str) -> String {
    cond.chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '(' && *ch != ')')
        .collect()
}

/// Does the squeezed condition `c` test `var` for being unset?
fn tests_empty_in(c: &str, var: &str) -> bool {
    let v: std::borrow::Cow<str> = if var.contains(char::is_whitespace) {
        var.chars()
            .filter(|ch| !ch.is_whitespace())
            .collect::<String>()
            .into()
    } else {
        var.into()
    };
    let v = v.as_ref();
    let ends = |i: usize| {
        c.as_bytes()
            .get(i)
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-' || *b == b'.'))
    };
    let negated = c
        .match_indices(&format!("!{v}"))
        .any(|(i, m)| ends(i + m.len()));
    if negated {
        return true;
    }
    // `v==NULL`, `NULL==v`, ...: at every occurrence of `v` (overlapping ones too,
    // as a search for the whole comparison would find them), what follows or precedes.
    const AFTER: [&str; 6] = ["==NULL", "==0", "==nullptr", "==-1", "==false", "==Py_None"];
    const BEFORE: [&str; 3] = ["NULL==", "0==", "nullptr=="];
    let mut from = 0;
    while let Some(p) = c[from..].find(v) {
        let i = from + p;
        let (before, after) = (&c[..i], &c[i + v.len()..]);
        if AFTER.iter().any(|k| after.starts_with(k)) || BEFORE.iter().any(|k| before.ends_with(k))
        {
            return true;
        }
        match c[i..].chars().next() {
            Some(ch) => from = i + ch.len_utf8(),
            None => break,
        }
    }
    false
}

impl FileFacts {
    /// Extracts the facts of one file. `facts` is the file's entry-point [`Facts`]
    /// (only its file-local parts are read: writes, field uses, branches, guards).
    pub fn extract(pf: &ParsedFile, facts: &Facts) -> FileFacts {
        let idx = &pf.index;
        let text = pf.file.parse_text.as_str();
        let get = |r: Range| text.get(r.0..r.1).unwrap_or("");
        let mut out = FileFacts {
            structs: structs(pf),
            globals: globals(idx, is_header(&pf.file.path)),
            types: types(pf),
            ..Default::default()
        };
        let global_names: HashSet<&str> = idx
            .decls
            .iter()
            .filter(|d| d.function.is_none())
            .map(|d| last_name(&d.name))
            .collect();
        // Identifiers that may name a global of another file (`extern` in a header):
        // every write/field base not declared locally; the project pass keeps those
        // some file defines.
        let mut maybe_globals = global_names.clone();
        for w in &facts.writes {
            maybe_globals.insert(w.base.as_str());
        }
        for u in &facts.fields {
            maybe_globals.insert(u.base.as_str());
        }
        for c in &idx.calls {
            if let Some((root, _)) = chain(&c.callee) {
                if is_ident(root) {
                    maybe_globals.insert(last_name(root));
                }
            }
        }
        let qualified_globals: HashSet<String> = idx
            .decls
            .iter()
            .filter(|d| d.function.is_none() && d.name.contains("::"))
            .map(|d| d.name.clone())
            .collect();
        let fn_names: HashSet<&str> = idx.functions.iter().map(|f| f.name.as_str()).collect();
        maybe_globals.retain(|n| !fn_names.contains(n));
        // Singleton accessors of this file (the project pass adds other files').
        let singletons = singleton_accessors(pf);

        // Per-function lists, built once (the per-offset questions stay local).
        let n = idx.functions.len();
        let mut writes_by: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, w) in facts.writes.iter().enumerate() {
            if let Some(f) = w.function.filter(|f| *f < n) {
                writes_by[f].push(i);
            }
        }
        let mut fields_by: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, u) in facts.fields.iter().enumerate() {
            if let Some(f) = u.function.filter(|f| *f < n) {
                fields_by[f].push(i);
            }
        }
        let mut guards_by: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, g) in facts.guards.iter().enumerate() {
            if let Some(f) = idx.function_at(g.range.0).filter(|f| *f < n) {
                guards_by[f].push(i);
            }
        }
        let mut branches_by: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, b) in facts.branches.iter().enumerate() {
            if let Some(f) = idx.function_at(b.condition.0).filter(|f| *f < n) {
                branches_by[f].push(i);
            }
        }
        let class_of = |f: usize| -> Option<String> {
            let func = &idx.functions[f];
            if let Some((class, _)) = func.name.rsplit_once("::") {
                return Some(class.rsplit("::").next().unwrap_or(class).to_owned());
            }
            out.structs
                .iter()
                .filter(|s| s.range.0 <= func.range.0 && func.range.1 <= s.range.1)
                .min_by_key(|s| s.range.1 - s.range.0)
                .and_then(|s| s.names.first().cloned())
        };
        let mut functions = Vec::with_capacity(n);
        for (fi, func) in idx.functions.iter().enumerate() {
            let class = class_of(fi);
            let class_fields: HashSet<&str> = class
                .as_deref()
                .and_then(|c| out.structs.iter().find(|s| s.names.iter().any(|n| n == c)))
                .map(|s| s.fields.iter().map(|(n, _, _)| n.as_str()).collect())
                .unwrap_or_default();
            let params: HashMap<&str, usize> = func
                .params
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.name.is_empty())
                .map(|(i, p)| (p.name.as_str(), i))
                .collect();
            let mut param_types: Vec<Option<String>> = func
                .params
                .iter()
                .map(|p| p.ty.contains('*').then(|| strip_type(&p.ty)))
                .collect();
            let mut scope = Scope {
                params,
                aliases: HashMap::default(),
                global_aliases: HashMap::default(),
                fresh: HashSet::default(),
                locals: HashSet::default(),
                static_locals: HashSet::default(),
                class_fields,
                class: class.as_deref(),
                qualified_globals: &qualified_globals,
                fn_name: &func.name,
                globals: &maybe_globals,
                singletons: &singletons,
            };
            for d in idx.decls_in(fi) {
                if d.storage.is_static {
                    scope.static_locals.insert(d.name.as_str());
                    continue;
                }
                let init = d.init.as_ref().and_then(|i| i.expr()).unwrap_or("");
                if is_allocation(init) {
                    scope.fresh.insert(d.name.clone());
                    continue;
                }
                scope.locals.insert(d.name.as_str());
                if d.is_pointer || d.specifiers.contains('&') || init.contains('&') {
                    let s = strip_expr(init);
                    if let Some(i) = scope.params.get(s).copied() {
                        // `FooObject *self = (FooObject *)op;`
                        scope.aliases.insert(d.name.clone(), i);
                        let ty = match strip_type(d.base_type()).as_str() {
                            // `auto *self = reinterpret_cast<T *>(op);`, `auto *self = (T *)op;`
                            "auto" => cast_type(init).unwrap_or_else(|| "auto".into()),
                            t => t.to_owned(),
                        };
                        if param_types[i]
                            .as_deref()
                            .is_none_or(|t| t == "PyObject" || t == "void")
                        {
                            param_types[i] = Some(ty);
                        }
                        continue;
                    }
                }
                // `auto &r = registry();`, `T *a = &default_arena;`
                if let Some(Base::Global(k)) = scope.base(strip_expr(init)) {
                    if d.is_pointer
                        || d.specifiers.contains('&')
                        || init.trim_start().starts_with('&')
                        || init.contains("()")
                    {
                        scope.global_aliases.insert(d.name.clone(), k);
                    }
                }
            }
            // Locals later assigned an allocation: `copy = PyObject_New(...)`.
            for &wi in &writes_by[fi] {
                let w = &facts.writes[wi];
                if w.field.is_none() && !w.subscript && w.kind == WriteKind::Assign {
                    let t = get(w.range);
                    if is_allocation(t) && scope.locals.contains(w.base.as_str()) {
                        scope.fresh.insert(w.base.clone());
                    }
                }
            }
            let calls: Vec<&crate::source::index::Call> = idx.calls_in(fi).collect();
            // The function's reallocating calls, for the assignments that store their result.
            let reallocs: Vec<Range> = calls
                .iter()
                .filter(|c| capi::allocator(&c.name).is_some_and(|a| a.op == AllocOp::Realloc))
                .map(|c| c.range)
                .collect();
            let mut regions = Regions {
                facts,
                guards: guards_by[fi].clone(),
                atomic: Vec::new(),
                once: Vec::new(),
                asserts_locked: false,
            };
            for c in &calls {
                if is_atomic_call(&c.name) || (is_member(&c.callee) && is_atomic_member(&c.name)) {
                    regions.atomic.push(c.range);
                }
                if is_once_call(&c.name) {
                    regions.once.push(c.range);
                }
                if capi::asserts_object_locked(&c.name) {
                    regions.asserts_locked = true;
                }
            }
            let mut ff = FnFacts {
                name: func.name.clone(),
                is_static: func.specifiers.split_whitespace().any(|w| w == "static"),
                class: class.clone(),
                range: func.range,
                name_range: func.name_range,
                asserts_locked: regions.asserts_locked,
                calls: Vec::with_capacity(calls.len()),
                ..Default::default()
            };
            // Flag-then-fill: `if (!ct->realized) { ct->a = ...; ct->realized = 1; }`
            // makes every write of `ct->` in the body part of the publication. Built
            // when a branch first asks.
            let field_writes = std::cell::OnceCell::new();
            let field_writes = || -> &Vec<(Range, &str, String)> {
                field_writes.get_or_init(|| {
                    writes_by[fi]
                        .iter()
                        .map(|&wi| &facts.writes[wi])
                        .filter_map(|w| {
                            let f = w.field.as_ref()?;
                            let sep = if w.arrow { "->" } else { "." };
                            Some((w.range, w.base.as_str(), format!("{}{sep}{f}", w.base)))
                        })
                        .collect()
                })
            };
            let squeezed: Vec<std::cell::OnceCell<String>> =
                vec![Default::default(); branches_by[fi].len()];
            let lazy_at = |range: Range, target: &str, base: &str| -> bool {
                branches_by[fi].iter().zip(&squeezed).any(|(&bi, c)| {
                    let b = &facts.branches[bi];
                    if !(b.statement && b.body.0 <= range.0 && range.1 <= b.body.1) {
                        return false;
                    }
                    let cond = c.get_or_init(|| squeeze(get(b.condition)));
                    tests_empty_in(cond, target)
                        || field_writes().iter().any(|(r, wb, t)| {
                            *wb == base
                                && b.body.0 <= r.0
                                && r.1 <= b.body.1
                                && tests_empty_in(cond, t)
                        })
                })
            };
            // Writes.
            for &wi in &writes_by[fi] {
                let w = &facts.writes[wi];
                let (base, field) = if w.base == "this" {
                    (Base::This, w.field.clone())
                } else {
                    let root = w.base.as_str();
                    match scope.target(root, w.field.as_deref()) {
                        Some(t) => t,
                        None => continue,
                    }
                };
                // A parameter or alias itself reassigned is a local copy.
                if matches!(base, Base::Param(_)) && field.is_none() && w.kind != WriteKind::Call {
                    continue;
                }
                let stmt = get(w.range);
                let rhs = stmt.split_once('=').map(|(_, r)| r).unwrap_or("");
                let kind = match w.kind {
                    WriteKind::Update | WriteKind::Compound => AccessKind::Update,
                    WriteKind::Call => match w.call.as_deref() {
                        Some(c) if capi::replaces_reference(c) => AccessKind::Replace,
                        Some(c) if capi::allocator(c).is_some_and(|a| a.op == AllocOp::Realloc) => {
                            AccessKind::Realloc
                        }
                        _ => AccessKind::Mutate,
                    },
                    WriteKind::Assign if w.subscript => AccessKind::Mutate,
                    WriteKind::Assign => {
                        let realloc = reallocs
                            .iter()
                            .any(|r| r.0 >= w.range.0 && r.1 <= w.range.1)
                            || rhs.contains("realloc(");
                        if realloc {
                            AccessKind::Realloc
                        } else {
                            AccessKind::Write
                        }
                    }
                };
                // For field writes through a pointer the field is the storage; for a
                // base without a field (a global) the variable is.
                let target_text = match (&base, &field) {
                    (Base::This, Some(f)) if !stmt.contains("this") => f.clone(),
                    (_, Some(f)) => {
                        let sep = if w.arrow { "->" } else { "." };
                        format!("{}{sep}{f}", w.base)
                    }
                    (_, None) => w.base.clone(),
                };
                let lazy = matches!(kind, AccessKind::Write | AccessKind::Replace)
                    && !w.subscript
                    && lazy_at(w.range, &target_text, &w.base);
                ff.accesses.push(Access {
                    base,
                    field,
                    kind,
                    protection: regions.protection(w.range.0),
                    lazy,
                    range: w.range,
                });
            }
            // Writes through a pointer parameter: `*p = v`, `Py_SETREF(*p, v)` change
            // what the caller passed (`set_ptr(&self->text, v)` replaces `self->text`).
            for a in idx.assignments_in(fi) {
                let lhs = a.lhs_text.trim();
                let Some(name) = lhs.strip_prefix('*').map(str::trim) else {
                    continue;
                };
                if let Some(&p) = scope.params.get(name) {
                    let kind = if a.operator == "=" {
                        AccessKind::Write
                    } else {
                        AccessKind::Update
                    };
                    ff.accesses.push(Access {
                        base: Base::Param(p),
                        field: None,
                        kind,
                        protection: regions.protection(a.range.0),
                        lazy: false,
                        range: a.range,
                    });
                }
            }
            for c in &calls {
                if !capi::replaces_reference(&c.name) {
                    continue;
                }
                let Some(first) = c.args.first() else {
                    continue;
                };
                let t = get(*first).trim();
                let Some(name) = t.strip_prefix('*').map(str::trim) else {
                    continue;
                };
                if let Some(&p) = scope.params.get(name) {
                    ff.accesses.push(Access {
                        base: Base::Param(p),
                        field: None,
                        kind: AccessKind::Replace,
                        protection: regions.protection(c.range.0),
                        lazy: false,
                        range: c.range,
                    });
                }
            }
            // Reads of fields (and arguments passed on). Per function, the calls by
            // start and the arguments by their range without casts and `&`, so that
            // each field use is one lookup (huge functions made this quadratic).
            // (The arguments without casts are kept for the calls below, which map
            // each to a base: `strip_expr` of an argument is the argument's own.)
            let mut stripped_args: Vec<&str> = Vec::new();
            let mut whole_args: Vec<Range> = Vec::new();
            for c in &calls {
                for a in &c.args {
                    let t = get(*a);
                    let st = strip_expr(t);
                    let start = a.0 + (st.as_ptr() as usize - t.as_ptr() as usize);
                    whole_args.push((start, start + st.len()));
                    stripped_args.push(st);
                }
            }
            let call_at: HashMap<usize, &str> = if fields_by[fi].is_empty() {
                HashMap::default()
            } else {
                whole_args.sort_unstable();
                calls
                    .iter()
                    .map(|c| (c.range.0, c.callee.as_str()))
                    .collect()
            };
            for &ui in &fields_by[fi] {
                let u = &facts.fields[ui];
                // `instances.push_back` as a callee names a method, not a field.
                if call_at
                    .get(&u.range.0)
                    .is_some_and(|callee| get(u.range).trim() == callee.trim())
                {
                    continue;
                }
                let Some((base, field)) = scope.target(&u.base, Some(&u.field)) else {
                    continue;
                };
                // Loads of globals matter to no rule (their writes do): not kept.
                if matches!(base, Base::Global(_)) {
                    continue;
                }
                let passed = whole_args.binary_search(&u.range).is_ok();
                ff.accesses.push(Access {
                    base,
                    field,
                    kind: if passed {
                        AccessKind::Pass
                    } else {
                        AccessKind::Read
                    },
                    protection: regions.protection(u.range.0),
                    lazy: false,
                    range: u.range,
                });
            }
            // Calls: arguments for the callee's summary, frees and container mutators.
            let tested = Enclosing::new(
                (branches_by[fi]
                    .iter()
                    .map(|&bi| facts.branches[bi].condition))
                .chain(func.returns.iter().copied()),
            );
            let mut stripped_args = stripped_args.into_iter();
            // The same arguments recur through a function (`self`, `args`, `NULL`):
            // each text is mapped once.
            let mut arg_of: HashMap<&str, Arg> = HashMap::default();
            for c in &calls {
                let protection = regions.protection(c.range.0);
                let args: Vec<Arg> = stripped_args
                    .by_ref()
                    .take(c.args.len())
                    .map(|t| arg_of.entry(t).or_insert_with(|| scope.arg(t)).clone())
                    .collect();
                if let Some(a) = capi::allocator(&c.name) {
                    if a.op == AllocOp::Realloc {
                        // `PyMem_Realloc(b->buf, n)`: whatever the result is stored in,
                        // the old block is gone.
                        if let Some(Arg::Field(b, f)) = args.first() {
                            ff.accesses.push(Access {
                                base: b.clone(),
                                field: Some(f.clone()),
                                kind: AccessKind::Realloc,
                                protection,
                                lazy: false,
                                range: c.range,
                            });
                        }
                    }
                    if a.op == AllocOp::Free {
                        if let Some(Arg::Field(b, f)) = args.first() {
                            ff.accesses.push(Access {
                                base: b.clone(),
                                field: Some(f.clone()),
                                kind: AccessKind::Free,
                                protection,
                                lazy: false,
                                range: c.range,
                            });
                        } else if let Some(Arg::Base(b @ Base::Param(_))) = args.first() {
                            ff.accesses.push(Access {
                                base: b.clone(),
                                field: None,
                                kind: AccessKind::Free,
                                protection,
                                lazy: false,
                                range: c.range,
                            });
                        }
                    }
                }
                let member = is_member(&c.callee);
                let (receiver, receiver_type) = if member {
                    let recv_text = c
                        .callee
                        .rsplit_once("->")
                        .map(|(r, _)| r)
                        .into_iter()
                        .chain(c.callee.rsplit_once('.').map(|(r, _)| r))
                        .max_by_key(|r| r.len())
                        .unwrap_or("");
                    let arg = scope.arg(recv_text);
                    let ty = match &arg {
                        Arg::Field(Base::This, f) => field_type(&out.structs, class.as_deref(), f),
                        Arg::Field(Base::Param(i), f) => {
                            field_type(&out.structs, param_types[*i].as_deref(), f)
                        }
                        _ => None,
                    };
                    (Some(arg), ty)
                } else {
                    (None, None)
                };
                if member && !MUTATORS.contains(&c.name.as_str()) {
                    // `constraints_.size()`: a read of the member (a project method's
                    // own summary, when it resolves, says more).
                    if let Some(Arg::Field(b @ Base::This, f)) = &receiver {
                        ff.accesses.push(Access {
                            base: b.clone(),
                            field: Some(f.clone()),
                            kind: AccessKind::Read,
                            protection,
                            lazy: false,
                            range: c.range,
                        });
                    }
                }
                if member && MUTATORS.contains(&c.name.as_str()) {
                    let target = match &receiver {
                        Some(Arg::Field(b, f)) => Some((b.clone(), Some(f.clone()))),
                        Some(Arg::Base(b @ Base::Global(_))) => Some((b.clone(), None)),
                        _ => None,
                    };
                    if let Some((base, field)) = target {
                        ff.accesses.push(Access {
                            base,
                            field,
                            kind: AccessKind::Mutate,
                            protection,
                            lazy: false,
                            range: c.range,
                        });
                    }
                }
                // Trailing arguments that name nothing shared carry no information.
                let mut args = args;
                while matches!(args.last(), Some(Arg::Other)) {
                    args.pop();
                }
                args.shrink_to_fit();
                // Tested: in an `if`/`while` condition, or returned for the caller to test
                // (`return check_thread(c) && check_open(c);`).
                let in_condition = tested.contains(c.range);
                if in_condition && is_thread_id_call(&c.name) {
                    ff.checks_thread = true;
                }
                ff.calls.push(CallSite {
                    name: c.name.clone(),
                    receiver,
                    receiver_type,
                    args,
                    protection,
                    range: c.range,
                    in_condition,
                });
            }
            // A singleton accessor: `return r;` of a static local or global.
            for r in &func.returns {
                let t = strip_expr(get(*r));
                if scope.static_locals.contains(t) {
                    ff.returns_static = Some(format!("{}::{t}", func.name));
                } else if global_names.contains(t) && !scope.locals.contains(t) {
                    ff.returns_static = Some(t.to_owned());
                }
            }
            ff.param_types = param_types;
            ff.accesses.shrink_to_fit();
            ff.calls.shrink_to_fit();
            functions.push(ff);
        }
        out.functions = functions;
        out
    }
}

/// The declared type of `field` in struct `ty` (by any of its names).
fn field_type(structs: &[StructFacts], ty: Option<&str>, field: &str) -> Option<String> {
    let ty = ty?;
    structs
        .iter()
        .find(|s| s.names.iter().any(|n| n == ty))?
        .fields
        .iter()
        .find(|(n, _, _)| n == field)
        .map(|(_, t, _)| strip_type(t))
}

/// Functions of this file returning a static (`static Registry &registry()`), by name.
fn singleton_accessors(pf: &ParsedFile) -> HashMap<String, String> {
    let idx = &pf.index;
    let text = pf.file.parse_text.as_str();
    let mut out = HashMap::default();
    for (fi, f) in idx.functions.iter().enumerate() {
        if !f.params.is_empty() && !f.params.iter().all(|p| p.name.is_empty()) {
            continue;
        }
        for r in &f.returns {
            let t = strip_expr(text.get(r.0..r.1).unwrap_or(""));
            if idx.decls_in(fi).any(|d| d.storage.is_static && d.name == t) {
                let short = f.name.rsplit("::").next().unwrap_or(&f.name).to_owned();
                out.insert(short, format!("{}::{t}", f.name));
            }
        }
    }
    out
}

fn structs(pf: &ParsedFile) -> Vec<StructFacts> {
    let text = pf.file.parse_text.as_str();
    pf.index
        .structs
        .iter()
        .map(|st| {
            let body = text.get(st.range.0..st.range.1).unwrap_or("");
            let head = body
                .find('{')
                .map(|o| body[o + 1..].trim_start())
                .unwrap_or("");
            let first_field = st.fields.first().map(|(n, _)| n.as_str());
            let python_object = capi::object_header_markers()
                .any(|m| head.starts_with(m) || first_field == Some(m));
            let fields = st
                .fields
                .iter()
                .map(|(n, t)| {
                    let pointer = pointer_field(body, n);
                    (n.clone(), t.clone(), pointer)
                })
                .collect();
            StructFacts {
                names: st.names.clone(),
                fields,
                python_object,
                range: st.range,
            }
        })
        .collect()
}

/// Is `name` declared as a pointer or array in the struct body (`*name`, `name[`)?
fn pointer_field(body: &str, name: &str) -> bool {
    let b = body.as_bytes();
    body.match_indices(name).any(|(i, _)| {
        let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        if (i > 0 && id(b[i - 1])) || b.get(i + name.len()).is_some_and(|c| id(*c)) {
            return false;
        }
        let before = body[..i].trim_end();
        let after = body[i + name.len()..].trim_start();
        before.ends_with('*') || after.starts_with('[')
    })
}

/// A header other files include for its declarations (not a `.c.h` fragment such as
/// Argument Clinic's or generated code, which is part of one `.c` file).
fn is_header(path: &std::path::Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.ends_with(".c.h")
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "h" | "hh" | "hpp" | "hxx"))
}

fn globals(idx: &FileIndex, header: bool) -> Vec<GlobalVar> {
    idx.decls
        .iter()
        .filter(|d| d.has_static_storage())
        .map(|d| {
            let short = last_name(&d.name);
            let key = match d.function {
                Some(f) => format!("{}::{short}", idx.functions[f].name),
                None => short.to_owned(),
            };
            let ty = d.base_type();
            let sync = capi::static_is_not_state(ty)
                || ty.starts_with("std::atomic")
                || ty.starts_with("std::mutex")
                || matches!(
                    ty,
                    "pthread_mutex_t"
                        | "pthread_once_t"
                        | "std::once_flag"
                        | "std::recursive_mutex"
                        | "CRITICAL_SECTION"
                        | "SRWLOCK"
                        | "INIT_ONCE"
                );
            let safe = d.storage.thread_local
                || d.storage.atomic
                || d.storage.is_const
                || d.specifiers.contains("constexpr")
                || d.specifiers.contains("Py_TSS")
                || sync;
            GlobalVar {
                key,
                file_local: d.function.is_some() || d.storage.is_static,
                mutable_state: !safe,
                safe,
                pointer: d.is_pointer || ty.starts_with("PyObject"),
                in_header: header,
                range: d.range,
            }
        })
        .collect()
}

/// Static `PyTypeObject`s and `PyType_Spec`s of the file, with the functions they name.
fn types(pf: &ParsedFile) -> Vec<TypeDecl> {
    use crate::source::index::Init;
    let idx = &pf.index;
    let mut out = Vec::new();
    // Functions named in a braced list, with the designator or slot macro before them.
    fn collect(init: &Init, slot: &str, out: &mut Vec<(String, String)>) {
        match init {
            Init::Expr { text, .. } => {
                let t = strip_expr(text);
                if is_ident(t) && !is_macro_like(t) {
                    out.push((slot.to_owned(), t.to_owned()));
                }
            }
            Init::List { items, .. } => {
                // `{Py_tp_new, Foo_new}`
                let first = items.first().and_then(|i| i.value.expr()).unwrap_or("");
                let pair_slot = first.trim().starts_with("Py_").then(|| first.trim());
                for (k, it) in items.iter().enumerate() {
                    let s = match (&it.designator, pair_slot) {
                        (Some(d), _) => d.trim_start_matches('.').to_owned(),
                        (None, Some(p)) if k == 1 => p.to_owned(),
                        _ => slot.to_owned(),
                    };
                    collect(&it.value, &s, out);
                }
            }
        }
    }
    let tables: HashMap<&str, &crate::source::index::Declaration> = idx
        .decls
        .iter()
        .filter(|d| d.function.is_none() && d.is_array)
        .map(|d| (d.name.as_str(), d))
        .collect();
    for d in idx.decls.iter().filter(|d| d.function.is_none()) {
        let ty = d.base_type();
        if ty != "PyTypeObject" && ty != "PyType_Spec" {
            continue;
        }
        let Some(init) = &d.init else { continue };
        let mut functions = Vec::new();
        collect(init, "", &mut functions);
        // Follow slot arrays, method and getset tables named in the initializer.
        let mut named: Vec<(String, String)> = Vec::new();
        for (slot, name) in &functions {
            if let Some(t) = tables.get(name.as_str()) {
                if let Some(ti) = &t.init {
                    let mut inner = Vec::new();
                    collect(ti, slot, &mut inner);
                    named.extend(inner);
                }
            }
        }
        functions.retain(|(_, n)| !tables.contains_key(n.as_str()));
        functions.extend(named);
        let text = pf
            .file
            .parse_text
            .get(init.range().0..init.range().1)
            .unwrap_or("");
        let object_struct = text.find("sizeof(").and_then(|i| {
            let r = &text[i + 7..];
            r.find(')').map(|e| strip_type(&r[..e]))
        });
        let py_name = text.find('"').and_then(|i| {
            text[i + 1..]
                .find('"')
                .map(|e| text[i + 1..i + 1 + e].to_owned())
        });
        out.push(TypeDecl {
            var: d.name.clone(),
            py_name,
            object_struct,
            functions,
            range: d.range,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_casts_and_address_of() {
        assert_eq!(strip_expr("(PyObject *)self"), "self");
        assert_eq!(strip_expr("&self->zst"), "self->zst");
        assert_eq!(strip_expr("reinterpret_cast<Foo *>(op)"), "op");
        assert_eq!(strip_expr("(x)"), "x");
        assert_eq!(strip_expr("f(x)"), "f(x)");
    }

    #[test]
    fn chains() {
        assert_eq!(chain("self->items.data"), Some(("self", Some("items"))));
        assert_eq!(chain("registry().map"), Some(("registry()", Some("map"))));
        assert_eq!(chain(" (T *)op "), Some(("op", None)));
        assert_eq!(chain("self->f(x).g"), None);
    }

    #[test]
    fn empty_tests() {
        assert!(tests_empty("self->index == NULL", "self->index"));
        assert!(tests_empty("!ct->realized", "ct->realized"));
        assert!(!tests_empty("!ct->realized_more", "ct->realized"));
        assert!(!tests_empty("self->index", "self->index"));
    }
}
