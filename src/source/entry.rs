//! Entry-point and shared-state analysis: which functions can run on many threads at
//! once, which storage they touch, and which of those accesses are already guarded.
//!
//! A function *runs concurrently* ([`Role::Concurrent`]) when Python code can call it
//! on any thread: it is referenced from a `PyMethodDef` table, a type slot (static
//! `PyTypeObject` fields, positional or designated, `PyType_Slot` arrays), a
//! `PyGetSetDef`/`PyMemberDef` table, a buffer/number/sequence/mapping slot struct,
//! a `Py_mod_*` slot other than exec/create, or it is passed as a callback to any
//! function; or it is called by such a function. A function *runs once*
//! ([`Role::Once`]) when it is `PyInit_*`/`PyModExport_*`, a `Py_mod_exec` or
//! `Py_mod_create` slot, a module's `m_traverse`/`m_clear`/`m_free`, or is called
//! only from functions that run once. A function nothing in the project refers to
//! (a clinic wrapper named in a `#define`, an exported C API) counts as concurrent.
//!
//! Calls are followed across the files of one project: a name resolves to the
//! function of the same file first, then to any non-`static` function of that name.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::index::{FileIndex, Range};
use super::SourceFile;
use crate::capi::{self, CsRole, CsTarget, LockRole, TsForm, TsRole};
use crate::source::ParsedFile;

/// Whether a function can run on many threads at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs only during module initialisation or teardown.
    Once,
    /// Reachable from Python on any thread.
    Concurrent,
}

/// Type slots that run while no other thread can see the object (or during
/// garbage collection): writes to the object's own fields there are not races.
pub const LIFECYCLE_SLOTS: [&str; 10] = [
    "new", "init", "dealloc", "traverse", "clear", "finalize", "alloc", "free", "del", "is_gc",
];

/// `PyTypeObject` fields by position when the initializer has no designators
/// (position 0 is `PyVarObject_HEAD_INIT(...)`).
const TYPE_FIELDS: [&str; 49] = [
    "ob_base",
    "tp_name",
    "tp_basicsize",
    "tp_itemsize",
    "tp_dealloc",
    "tp_vectorcall_offset",
    "tp_getattr",
    "tp_setattr",
    "tp_as_async",
    "tp_repr",
    "tp_as_number",
    "tp_as_sequence",
    "tp_as_mapping",
    "tp_hash",
    "tp_call",
    "tp_str",
    "tp_getattro",
    "tp_setattro",
    "tp_as_buffer",
    "tp_flags",
    "tp_doc",
    "tp_traverse",
    "tp_clear",
    "tp_richcompare",
    "tp_weaklistoffset",
    "tp_iter",
    "tp_iternext",
    "tp_methods",
    "tp_members",
    "tp_getset",
    "tp_base",
    "tp_dict",
    "tp_descr_get",
    "tp_descr_set",
    "tp_dictoffset",
    "tp_init",
    "tp_alloc",
    "tp_new",
    "tp_free",
    "tp_is_gc",
    "tp_bases",
    "tp_mro",
    "tp_cache",
    "tp_subclasses",
    "tp_weaklist",
    "tp_del",
    "tp_version_tag",
    "tp_finalize",
    "tp_vectorcall",
];

/// Is a slot name (`tp_dealloc`, `Py_tp_new`, `m_clear`) a lifecycle slot?
pub fn is_lifecycle_slot(slot: &str) -> bool {
    let s = slot.trim_start_matches("Py_");
    let Some(rest) = s.strip_prefix("tp_") else {
        return false;
    };
    LIFECYCLE_SLOTS.contains(&rest)
}

/// A function name used as a value (not called): `{"get", get_impl, METH_O}`,
/// `.tp_dealloc = foo_dealloc`, `Py_AtExit(cleanup)`.
#[derive(Debug, Clone)]
pub struct FnRef {
    pub name: String,
    pub offset: usize,
    /// The function the reference sits in, if any.
    pub function: Option<usize>,
    /// The slot or field it fills: `tp_dealloc`, `Py_tp_new`, `Py_mod_exec`, `m_clear`.
    pub slot: Option<String>,
    /// It sits in a `PyModuleDef` initializer (`m_traverse`, `m_clear`, `m_free`).
    pub in_module_def: bool,
}

/// How a storage location is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// `x = v`
    Assign,
    /// `x += v`, `x |= v`, ...
    Compound,
    /// `x++`, `--x`
    Update,
    /// Passed to a function that writes through it (`memcpy`, `Py_SETREF`, ...).
    Call,
}

/// A write to an lvalue rooted at an identifier: `x = ...`, `x[i]++`, `p->f = ...`,
/// `Py_SETREF(p->f, ...)`.
#[derive(Debug, Clone)]
pub struct Write {
    /// The identifier the lvalue starts from (`x`, `p`).
    pub base: String,
    /// The first field reached through `->` or `.` from the base, if any.
    pub field: Option<String>,
    /// The first access is `->` (a pointer to the stored object).
    pub arrow: bool,
    /// The lvalue has an array subscript (element write).
    pub subscript: bool,
    pub kind: WriteKind,
    /// The writing call's name for [`WriteKind::Call`].
    pub call: Option<String>,
    /// The whole statement expression (assignment, update, call).
    pub range: Range,
    pub function: Option<usize>,
}

/// `p->f` (or `p.f`) read or written, with `p` an identifier.
#[derive(Debug, Clone)]
pub struct FieldUse {
    pub base: String,
    pub field: String,
    pub arrow: bool,
    pub range: Range,
    pub function: Option<usize>,
}

/// An `if` statement (or `while`) whose condition names identifiers.
#[derive(Debug, Clone)]
pub struct Branch {
    /// `if`, `while`, `for` or `do` (a statement), not a `?:` expression.
    pub statement: bool,
    pub condition: Range,
    pub idents: Vec<String>,
    pub body: Range,
}

/// A region of code that holds a lock.
#[derive(Debug, Clone)]
pub struct Guard {
    pub range: Range,
    pub kind: GuardKind,
    /// The lock's argument text (`&st->mutex`, `self`), empty when unknown.
    pub arg: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    /// A mutex (`PyMutex`, pthread, Windows, C++ scoped locks, project lock macros).
    Mutex,
    /// `Py_BEGIN_CRITICAL_SECTION(obj)` ... `Py_END_CRITICAL_SECTION()`.
    CriticalSection,
    /// `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS` (detached, not a lock).
    Detached,
}

/// Facts about one file for the shared-state rules, collected in one walk.
#[derive(Debug, Default)]
pub struct Facts {
    pub refs: Vec<FnRef>,
    pub writes: Vec<Write>,
    pub fields: Vec<FieldUse>,
    pub branches: Vec<Branch>,
    pub guards: Vec<Guard>,
    /// C++ scoped lock declarations (`std::lock_guard<std::mutex> g(m);`): range and type.
    pub scoped_locks: Vec<(Range, String)>,
}

/// Calls whose argument at the given position is written through: libc and its
/// `PyOS_` wrappers (`Py_CLEAR` and `Py_SETREF` come from the C-API catalogue).
const WRITING_CALLS: [(&str, usize); 37] = [
    ("memcpy", 0),
    ("memmove", 0),
    ("memset", 0),
    ("bzero", 0),
    ("strcpy", 0),
    ("strncpy", 0),
    ("strcat", 0),
    ("strncat", 0),
    ("sprintf", 0),
    ("snprintf", 0),
    ("vsprintf", 0),
    ("vsnprintf", 0),
    ("PyOS_snprintf", 0),
    ("PyOS_vsnprintf", 0),
    ("strftime", 0),
    ("wcscpy", 0),
    ("wcsncpy", 0),
    ("wcscat", 0),
    ("swprintf", 0),
    ("fgets", 0),
    ("getcwd", 0),
    ("gethostname", 0),
    ("read", 1),
    ("pread", 1),
    ("fread", 0),
    ("readlink", 1),
    ("realpath", 1),
    ("stat", 1),
    ("lstat", 1),
    ("fstat", 1),
    ("strerror_r", 1),
    ("strcpy_s", 0),
    ("sprintf_s", 0),
    ("_snprintf", 0),
    ("memcpy_s", 0),
    ("strlcpy", 0),
    ("strlcat", 0),
];

/// The argument a call writes through, if it is a known writing call.
pub fn written_arg(call_name: &str) -> Option<usize> {
    if capi::replaces_reference(call_name) {
        return Some(0);
    }
    WRITING_CALLS
        .iter()
        .find(|(n, _)| *n == call_name)
        .map(|(_, i)| *i)
}

impl Facts {
    /// Walks `file`'s tree once. `functions` are the names of every function in the
    /// project: only identifiers naming one of them are kept as references.
    pub fn build(file: &SourceFile, index: &FileIndex, functions: &HashSet<&str>) -> Facts {
        let mut facts = Facts::default();
        let root = file.tree.root_node();
        let mut cursor = root.walk();
        // Ancestors of the cursor's node (tree-sitter's `parent()` is not O(1)).
        let mut ancestors: Vec<Node> = Vec::new();
        loop {
            let node = cursor.node();
            facts.visit(file, index, functions, node, &ancestors);
            if cursor.goto_first_child() {
                ancestors.push(node);
                continue;
            }
            let mut done = false;
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    done = true;
                    break;
                }
                ancestors.pop();
            }
            if done {
                break;
            }
        }
        facts.call_guards(file, index);
        // The walk pops later siblings first: put everything in file order.
        facts.refs.sort_by_key(|r| r.offset);
        facts.writes.sort_by_key(|w| w.range.0);
        facts.fields.sort_by_key(|u| u.range.0);
        facts.branches.sort_by_key(|b| b.condition.0);
        facts
    }

    fn visit(
        &mut self,
        file: &SourceFile,
        index: &FileIndex,
        functions: &HashSet<&str>,
        node: Node,
        anc: &[Node],
    ) {
        match node.kind() {
            "identifier" => self.identifier(file, index, functions, node, anc),
            "assignment_expression" => {
                let kind = match node
                    .child_by_field_name("operator")
                    .map(|o| file.node_text(o))
                {
                    Some("=") | None => WriteKind::Assign,
                    Some(_) => WriteKind::Compound,
                };
                if let Some(left) = node.child_by_field_name("left") {
                    self.write(file, index, left, kind, None, node);
                }
            }
            "update_expression" => {
                if let Some(arg) = node.child_by_field_name("argument") {
                    self.write(file, index, arg, WriteKind::Update, None, node);
                }
            }
            "call_expression" => self.call(file, index, node),
            "field_expression" => self.field_use(file, index, node),
            "if_statement"
            | "while_statement"
            | "conditional_expression"
            | "for_statement"
            | "do_statement" => self.branch(file, node),
            "declaration" => self.scoped_lock(file, node, anc),
            _ => {}
        }
    }

    fn identifier(
        &mut self,
        file: &SourceFile,
        index: &FileIndex,
        functions: &HashSet<&str>,
        node: Node,
        anc: &[Node],
    ) {
        let name = file.node_text(node);
        if !functions.contains(name) {
            return;
        }
        let Some(parent) = anc.last().copied() else {
            return;
        };
        if parent.kind().ends_with("declarator") || parent.kind() == "parameter_declaration" {
            return;
        }
        if parent.kind() == "call_expression"
            && parent
                .child_by_field_name("function")
                .is_some_and(|f| f.id() == node.id())
        {
            return;
        }
        let (slot, in_module_def) = slot_of(file, node, anc);
        self.refs.push(FnRef {
            name: name.to_owned(),
            offset: node.start_byte(),
            function: fn_at(index, node.start_byte()),
            slot,
            in_module_def,
        });
    }

    fn write(
        &mut self,
        file: &SourceFile,
        index: &FileIndex,
        target: Node,
        kind: WriteKind,
        call: Option<String>,
        stmt: Node,
    ) {
        let Some(lv) = lvalue(file, target) else {
            return;
        };
        self.writes.push(Write {
            base: lv.base,
            field: lv.field,
            arrow: lv.arrow,
            subscript: lv.subscript,
            kind,
            call,
            range: (stmt.start_byte(), stmt.end_byte()),
            function: fn_at(index, stmt.start_byte()),
        });
    }

    fn call(&mut self, file: &SourceFile, index: &FileIndex, node: Node) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let name = file
            .node_text(f)
            .rsplit([':', '.', '>'])
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let Some(pos) = written_arg(&name) else {
            return;
        };
        let Some(args) = node.child_by_field_name("arguments") else {
            return;
        };
        let mut c = args.walk();
        let Some(arg) = args
            .named_children(&mut c)
            .filter(|a| a.kind() != "comment")
            .nth(pos)
        else {
            return;
        };
        self.write(file, index, arg, WriteKind::Call, Some(name), node);
    }

    fn field_use(&mut self, file: &SourceFile, index: &FileIndex, node: Node) {
        let (Some(arg), Some(field)) = (
            node.child_by_field_name("argument"),
            node.child_by_field_name("field"),
        ) else {
            return;
        };
        let arg = strip_wrappers(arg);
        if arg.kind() != "identifier" && arg.kind() != "this" {
            return;
        }
        let arrow = node
            .child_by_field_name("operator")
            .is_some_and(|o| file.node_text(o) == "->")
            || file.node_text(node).contains("->");
        self.fields.push(FieldUse {
            base: file.node_text(arg).to_owned(),
            field: file.node_text(field).to_owned(),
            arrow,
            range: (node.start_byte(), node.end_byte()),
            function: fn_at(index, node.start_byte()),
        });
    }

    fn branch(&mut self, file: &SourceFile, node: Node) {
        let Some(cond) = node.child_by_field_name("condition") else {
            return;
        };
        let body = node
            .child_by_field_name("consequence")
            .or_else(|| node.child_by_field_name("body"));
        let Some(body) = body else { return };
        let mut idents = Vec::new();
        let mut stack = vec![cond];
        let mut c = cond.walk();
        while let Some(n) = stack.pop() {
            if n.kind() == "identifier" {
                idents.push(file.node_text(n).to_owned());
            }
            stack.extend(n.children(&mut c));
        }
        self.branches.push(Branch {
            statement: node.kind() != "conditional_expression",
            condition: (cond.start_byte(), cond.end_byte()),
            idents,
            body: (body.start_byte(), body.end_byte()),
        });
    }

    /// `std::lock_guard<std::mutex> g(m);` holds `m` to the end of its block.
    fn scoped_lock(&mut self, file: &SourceFile, node: Node, anc: &[Node]) {
        let Some(ty) = node.child_by_field_name("type") else {
            return;
        };
        let t = file.node_text(ty);
        if !["lock_guard", "scoped_lock", "unique_lock"]
            .iter()
            .any(|k| t.contains(k))
        {
            return;
        }
        let Some(block) = anc.last().copied() else {
            return;
        };
        self.scoped_locks
            .push(((node.start_byte(), node.end_byte()), t.to_owned()));
        self.guards.push(Guard {
            range: (node.start_byte(), block.end_byte()),
            kind: GuardKind::Mutex,
            arg: String::new(),
        });
    }

    /// Lock/unlock call pairs within one function, and detached regions.
    fn call_guards(&mut self, file: &SourceFile, index: &FileIndex) {
        // `Py_BEGIN_ALLOW_THREADS` and friends are used without parentheses: find them as words.
        let mut events: Vec<(usize, usize, LockCall, String)> = Vec::new();
        let words = capi::thread_state_calls()
            .filter(|(_, t)| matches!(t.form, TsForm::RegionMacro | TsForm::BareMacro));
        for (word, t) in words {
            let begin = t.role == TsRole::Detach;
            if !file.parse_text.contains(word) {
                continue;
            }
            for off in file.code_occurrences(word) {
                let ev = if begin {
                    LockCall::Begin(GuardKind::Detached)
                } else {
                    LockCall::End(GuardKind::Detached)
                };
                events.push((off, off + word.len(), ev, String::new()));
            }
        }
        for c in &index.calls {
            let Some(kind) = lock_call(&c.name, &c.callee) else {
                continue;
            };
            let arg = c
                .args
                .first()
                .map(|a| file.parse_text[a.0..a.1].trim().to_owned())
                .unwrap_or_default();
            events.push((c.range.0, c.range.1, kind, arg));
        }
        let (_, lock_helpers, unlock_helpers) = pair_events(index, events.clone());
        // Helpers that only lock (`setup()`) or only unlock (`teardown()`) act as lock
        // and unlock calls where they are called.
        for c in &index.calls {
            let Some(f) = index.function_named(&c.name) else {
                continue;
            };
            if lock_helpers.contains(&f) {
                events.push((
                    c.range.0,
                    c.range.1,
                    LockCall::Begin(GuardKind::Mutex),
                    String::new(),
                ));
            } else if unlock_helpers.contains(&f) {
                events.push((
                    c.range.0,
                    c.range.1,
                    LockCall::End(GuardKind::Mutex),
                    String::new(),
                ));
            }
        }
        let (guards, _, _) = pair_events(index, events);
        self.guards.extend(guards);
    }

    /// The guards around `offset`.
    pub fn guards_at(&self, offset: usize) -> impl Iterator<Item = &Guard> {
        self.guards
            .iter()
            .filter(move |g| g.range.0 <= offset && offset < g.range.1)
    }
}

#[derive(Clone)]
enum LockCall {
    Begin(GuardKind),
    End(GuardKind),
}

type Event = (usize, usize, LockCall, String);

/// Pairs lock and unlock events per function. Returns the guarded regions and the
/// functions that lock without unlocking (lock helpers) or unlock without locking
/// (unlock helpers: their code before the unlock runs under the caller's lock).
fn pair_events(
    index: &FileIndex,
    mut events: Vec<Event>,
) -> (Vec<Guard>, HashSet<usize>, HashSet<usize>) {
    events.sort_by_key(|e| e.0);
    let mut guards = Vec::new();
    let mut lock_helpers = HashSet::new();
    let mut unlock_helpers = HashSet::new();
    let mut open: Vec<(usize, GuardKind, String, Option<usize>)> = Vec::new();
    for (start, end, kind, arg) in events {
        let function = fn_at(index, start);
        match kind {
            LockCall::Begin(k) => open.push((start, k, arg, function)),
            LockCall::End(k) => match open.iter().rposition(|o| o.1 == k && o.3 == function) {
                Some(pos) => {
                    let (start, kind, arg, _) = open.remove(pos);
                    guards.push(Guard {
                        range: (start, end),
                        kind,
                        arg,
                    });
                }
                None => {
                    if let (Some(f), GuardKind::Mutex) = (function, k) {
                        unlock_helpers.insert(f);
                        guards.push(Guard {
                            range: (index.functions[f].body.0, end),
                            kind: k,
                            arg,
                        });
                    }
                }
            },
        }
    }
    // A lock never released in its function holds to the end of the function.
    for (start, kind, arg, f) in open {
        let end = f.map(|f| index.functions[f].range.1).unwrap_or(start);
        if let (Some(f), GuardKind::Mutex) = (f, kind) {
            lock_helpers.insert(f);
        }
        guards.push(Guard {
            range: (start, end),
            kind,
            arg,
        });
    }
    (guards, lock_helpers, unlock_helpers)
}

/// Classifies lock, unlock, critical-section and detach calls.
fn lock_call(name: &str, callee: &str) -> Option<LockCall> {
    use GuardKind::*;
    use LockCall::*;
    if let Some(cs) = capi::critical_section_macro(name) {
        // A `_MUTEX`/`_MUT` section locks a `PyMutex`: a mutex guard that the plain
        // END closes. Assertions are not regions.
        return match (cs.role, cs.target) {
            (CsRole::Begin, CsTarget::Mutex) => Some(Begin(Mutex)),
            (CsRole::Begin, _) => Some(Begin(CriticalSection)),
            (CsRole::End, _) => Some(End(CriticalSection)),
            (CsRole::AssertHeld, _) => None,
        };
    }
    if let Some(t) = capi::thread_state_call(name).filter(|t| t.form == TsForm::Function) {
        return Some(match t.role {
            TsRole::Detach => Begin(Detached),
            TsRole::Attach => End(Detached),
        });
    }
    if let Some(lock) = capi::lock_call(name) {
        return match lock.role {
            LockRole::Acquire => Some(Begin(Mutex)),
            LockRole::Release => Some(End(Mutex)),
            LockRole::Query | LockRole::Allocate | LockRole::Free => None,
        };
    }
    let r = match name {
        "pthread_mutex_lock"
        | "EnterCriticalSection"
        | "AcquireSRWLockExclusive"
        | "AcquireSRWLockShared"
        | "pthread_rwlock_wrlock"
        | "pthread_rwlock_rdlock"
        | "pthread_spin_lock" => Begin(Mutex),
        "pthread_mutex_unlock"
        | "LeaveCriticalSection"
        | "ReleaseSRWLockExclusive"
        | "ReleaseSRWLockShared"
        | "pthread_rwlock_unlock"
        | "pthread_spin_unlock" => End(Mutex),
        _ => {
            let lower = name.to_ascii_lowercase();
            if lower.contains("allocate")
                || lower.contains("islocked")
                || lower.contains("free")
                || lower.contains("init")
            {
                return None;
            }
            let member = callee.contains('.') || callee.contains("->");
            if (member && lower == "unlock")
                || lower.contains("unlock")
                || lower.starts_with("release_lock")
                || (name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    && (lower.starts_with("leave_")
                        || lower.starts_with("release_")
                        || lower.ends_with("_unlock")))
            {
                End(Mutex)
            } else if (member && lower == "lock")
                || lower.ends_with("_lock")
                || lower.starts_with("lock_")
                || lower.starts_with("acquire_lock")
                || (name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    && (lower.starts_with("enter_")
                        || lower.starts_with("acquire_")
                        || lower.ends_with("_lock")))
            {
                Begin(Mutex)
            } else {
                return None;
            }
        }
    };
    Some(r)
}

struct LValue {
    base: String,
    field: Option<String>,
    arrow: bool,
    subscript: bool,
}

fn strip_wrappers(mut n: Node) -> Node {
    loop {
        match n.kind() {
            "parenthesized_expression" => match n.named_child(0) {
                Some(c) => n = c,
                None => return n,
            },
            "cast_expression" => match n.child_by_field_name("value") {
                Some(c) => n = c,
                None => return n,
            },
            _ => return n,
        }
    }
}

/// The identifier an lvalue is rooted at: `x`, `x[i]`, `x.f`, `p->f[i]`, `&x`, `(T*)&x`.
/// `*p = v` writes the pointee, not `p`: no lvalue.
fn lvalue(file: &SourceFile, n: Node) -> Option<LValue> {
    let mut n = strip_wrappers(n);
    if n.kind() == "pointer_expression" && n.child(0).is_some_and(|o| file.node_text(o) == "&") {
        n = strip_wrappers(n.child_by_field_name("argument")?);
    }
    let mut field = None;
    let mut arrow = false;
    let mut subscript = false;
    loop {
        n = strip_wrappers(n);
        match n.kind() {
            "identifier" | "qualified_identifier" => {
                let text = file.node_text(n);
                let base = text.rsplit("::").next().unwrap_or(text).to_owned();
                return Some(LValue {
                    base,
                    field,
                    arrow,
                    subscript,
                });
            }
            "this" => {
                return Some(LValue {
                    base: "this".into(),
                    field,
                    arrow: true,
                    subscript,
                })
            }
            "field_expression" => {
                field = n
                    .child_by_field_name("field")
                    .map(|f| file.node_text(f).to_owned());
                arrow = file.node_text(n).contains("->")
                    && n.child_by_field_name("operator")
                        .is_none_or(|o| file.node_text(o) == "->");
                n = n.child_by_field_name("argument")?;
            }
            "subscript_expression" => {
                subscript = true;
                n = n.child_by_field_name("argument")?;
            }
            _ => return None,
        }
    }
}

/// The slot a function reference fills, and whether it sits in a `PyModuleDef`.
/// `anc` are the node's ancestors, innermost last.
fn slot_of(file: &SourceFile, node: Node, anc: &[Node]) -> (Option<String>, bool) {
    let mut n = node;
    let mut i = anc.len();
    while i > 0
        && matches!(
            anc[i - 1].kind(),
            "cast_expression" | "parenthesized_expression" | "pointer_expression"
        )
    {
        n = anc[i - 1];
        i -= 1;
    }
    let Some(parent) = i.checked_sub(1).map(|j| anc[j]) else {
        return (None, false);
    };
    let decl_type = enclosing_decl_type(file, &anc[..i]);
    let in_module_def = decl_type.is_some_and(|t| t.trim_start_matches("struct ") == "PyModuleDef");
    match parent.kind() {
        "initializer_pair" => {
            let d = parent
                .child_by_field_name("designator")
                .map(|d| file.node_text(d).trim_start_matches('.').trim());
            (d.map(str::to_owned), in_module_def)
        }
        // Slot pairs and type objects are short lists; skip huge data tables.
        "initializer_list" if parent.named_child_count() <= 80 => {
            let mut c = parent.walk();
            let items: Vec<Node> = parent
                .named_children(&mut c)
                .filter(|i| i.kind() != "comment")
                .collect();
            let Some(pos) = items.iter().position(|i| i.id() == n.id()) else {
                return (None, in_module_def);
            };
            // `{Py_tp_dealloc, f}`, `{Py_mod_exec, f}`, `{Py_bf_getbuffer, f}`
            if pos == 1 {
                let first = file.node_text(items[0]).trim();
                if first.starts_with("Py_")
                    && first.chars().nth(3).is_some_and(|c| c.is_ascii_lowercase())
                {
                    return (Some(first.to_owned()), in_module_def);
                }
            }
            let is_type = decl_type
                .is_some_and(|t| t.trim_start_matches("struct ") == "PyTypeObject")
                && i >= 2
                && anc[i - 2].kind() == "init_declarator";
            if is_type {
                let shift = usize::from(file.node_text(items[0]).starts_with("PyObject_HEAD_INIT"));
                let field = pos.checked_sub(shift).and_then(|p| TYPE_FIELDS.get(p));
                return (field.map(|f| (*f).to_owned()), in_module_def);
            }
            (None, in_module_def)
        }
        "assignment_expression" => {
            let left = parent.child_by_field_name("left");
            let field = left
                .filter(|l| l.kind() == "field_expression")
                .and_then(|l| l.child_by_field_name("field"))
                .map(|f| file.node_text(f).to_owned());
            (field, false)
        }
        _ => (None, in_module_def),
    }
}

fn enclosing_decl_type<'a>(file: &'a SourceFile, anc: &[Node]) -> Option<&'a str> {
    for n in anc.iter().rev() {
        if n.kind() == "declaration" {
            return n.child_by_field_name("type").map(|t| file.node_text(t));
        }
        if n.kind() == "function_definition" || n.kind() == "compound_statement" {
            return None;
        }
    }
    None
}

/// The project-wide classification of every function.
pub struct EntryMap {
    /// Per file (in the order given), per function of that file's index.
    pub roles: Vec<Vec<Role>>,
    /// Functions that fill a lifecycle slot (`tp_new`, `tp_dealloc`, ...), per file.
    pub lifecycle: Vec<HashSet<usize>>,
    /// Functions referenced as a method, slot or callback, per file.
    pub entry_points: Vec<HashSet<usize>>,
    /// Functions nothing in the project calls or refers to, per file: assumed
    /// concurrent (called from elsewhere), with less confidence.
    pub unreached: Vec<HashSet<usize>>,
    /// Functions every call site of which holds a lock or critical section (Argument
    /// Clinic's `@critical_section` wrappers call `_impl` functions this way), per file.
    pub guarded: Vec<HashSet<usize>>,
    /// The same, counting only mutexes (which also protect globals).
    pub guarded_by_mutex: Vec<HashSet<usize>>,
}

impl EntryMap {
    pub fn role(&self, file: usize, function: Option<usize>) -> Role {
        match function {
            Some(f) => self
                .roles
                .get(file)
                .and_then(|r| r.get(f))
                .copied()
                .unwrap_or(Role::Concurrent),
            // File-scope code (initializers) runs at load time.
            None => Role::Once,
        }
    }
}

/// Builds the call graph over all `files` and classifies every function.
pub fn classify<P: std::ops::Deref<Target = ParsedFile>>(files: &[P], facts: &[Facts]) -> EntryMap {
    // Flatten (file, function) into ids.
    let mut base = Vec::with_capacity(files.len());
    let mut total = 0;
    for pf in files {
        base.push(total);
        total += pf.index.functions.len();
    }
    let mut global: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut local: Vec<HashMap<&str, usize>> = Vec::with_capacity(files.len());
    for (fi, pf) in files.iter().enumerate() {
        let mut m = HashMap::new();
        for (i, f) in pf.index.functions.iter().enumerate() {
            m.entry(f.name.as_str()).or_insert(base[fi] + i);
            let is_static = f.specifiers.split_whitespace().any(|w| w == "static");
            if !is_static {
                global
                    .entry(f.name.as_str())
                    .or_default()
                    .push(base[fi] + i);
            }
        }
        local.push(m);
    }
    // Every definition by name, for `static` functions of a file that includes another
    // (Argument Clinic's `clinic/*.c.h` call `static` `_impl` functions of the `.c`).
    let mut any: HashMap<&str, Vec<usize>> = HashMap::new();
    for (fi, pf) in files.iter().enumerate() {
        for (i, f) in pf.index.functions.iter().enumerate() {
            any.entry(f.name.as_str()).or_default().push(base[fi] + i);
        }
    }
    let resolve = |fi: usize, name: &str| -> Vec<usize> {
        if let Some(id) = local[fi].get(name) {
            return vec![*id];
        }
        if let Some(ids) = global.get(name) {
            return ids.clone();
        }
        match any.get(name) {
            Some(ids) if ids.len() == 1 => ids.clone(),
            _ => Vec::new(),
        }
    };

    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); total];
    // Per callee: (caller, how the call site is guarded: 0 none, 1 critical section, 2 mutex).
    let mut sites: Vec<Vec<(usize, u8)>> = vec![Vec::new(); total];
    for (fi, pf) in files.iter().enumerate() {
        let locals = Locals::of(pf, &facts[fi]);
        for c in &pf.index.calls {
            let Some(caller) = c.function else { continue };
            if c.callee.contains("->") || c.callee.contains('.') {
                continue;
            }
            let guard = facts[fi]
                .guards_at(c.range.0)
                .map(|g| match g.kind {
                    GuardKind::Mutex => 2u8,
                    // One module object per interpreter: a critical section on it serialises
                    // callers like a global lock (syslog's `@critical_section module`).
                    GuardKind::CriticalSection if is_module_arg(&g.arg) => 2,
                    GuardKind::CriticalSection => 1,
                    GuardKind::Detached => 0,
                })
                .max()
                .unwrap_or(0);
            // `deque_extend_impl(new_deque, ...)` on an object this caller just allocated.
            let guard = if guard == 0 && first_arg_is_fresh(pf, &locals, c, caller) {
                1
            } else {
                guard
            };
            for id in resolve(fi, &c.name) {
                callers[id].push(base[fi] + caller);
                callees[base[fi] + caller].push(id);
                sites[id].push((base[fi] + caller, guard));
            }
        }
    }

    let mut once_roots: Vec<usize> = Vec::new();
    let mut runtime_roots: HashSet<usize> = HashSet::new();
    let mut lifecycle: Vec<HashSet<usize>> = vec![HashSet::new(); files.len()];
    let mut entry_points: Vec<HashSet<usize>> = vec![HashSet::new(); files.len()];
    for (fi, pf) in files.iter().enumerate() {
        for (i, f) in pf.index.functions.iter().enumerate() {
            if capi::module_entry_point(&f.name).is_some() {
                once_roots.push(base[fi] + i);
            }
        }
        for r in &facts[fi].refs {
            let ids = resolve(fi, &r.name);
            if ids.is_empty() {
                continue;
            }
            let slot = r.slot.as_deref().unwrap_or("");
            // `Py_mod_exec`/`Py_mod_create`, and the `PyModuleDef` fields.
            let once = capi::module_slot(slot).is_some_and(|s| s.runs_code_once)
                || matches!(slot, "m_traverse" | "m_clear" | "m_free")
                || (r.in_module_def && r.slot.is_none());
            for id in ids {
                if once {
                    once_roots.push(id);
                    continue;
                }
                runtime_roots.insert(id);
                let (f2, i2) = locate(&base, id);
                entry_points[f2].insert(i2);
                if is_lifecycle_slot(slot) {
                    lifecycle[f2].insert(i2);
                }
            }
        }
    }

    // Functions reachable from once-roots, then pruned to those whose every caller runs once.
    let mut once: HashSet<usize> = HashSet::new();
    let mut stack = once_roots.clone();
    while let Some(id) = stack.pop() {
        if once.insert(id) {
            stack.extend(callees[id].iter().copied());
        }
    }
    let roots: HashSet<usize> = once_roots.iter().copied().collect();
    // A worklist: removing a function can only disqualify its callees. (Rescanning
    // the whole set per round was quadratic on long call chains.)
    let mut work: Vec<usize> = once.iter().copied().collect();
    while let Some(id) = work.pop() {
        let disqualified = runtime_roots.contains(&id)
            || (!roots.contains(&id) && callers[id].iter().any(|c| !once.contains(c)))
            || (!roots.contains(&id) && callers[id].is_empty());
        if disqualified && once.remove(&id) {
            work.extend(callees[id].iter().copied().filter(|c| once.contains(c)));
        }
    }

    let mut roles = Vec::with_capacity(files.len());
    for (fi, pf) in files.iter().enumerate() {
        let mut r = vec![Role::Concurrent; pf.index.functions.len()];
        for (i, f) in pf.index.functions.iter().enumerate() {
            if once.contains(&(base[fi] + i)) {
                r[i] = Role::Once;
            }
            // C++ constructors and destructors see the object before/after anyone else.
            if let Some((class, method)) = f.name.rsplit_once("::") {
                let class = class.rsplit("::").next().unwrap_or(class);
                if method == class || method.starts_with('~') {
                    lifecycle[fi].insert(i);
                }
            }
            // Name fallback for lifecycle slots set up where we cannot see them.
            if !entry_points[fi].contains(&i) || lifecycle[fi].contains(&i) {
                let lower = f.name.to_ascii_lowercase();
                if LIFECYCLE_SLOTS.iter().any(|s| {
                    lower.ends_with(&format!("_{s}")) || lower.ends_with(&format!("_tp_{s}"))
                }) {
                    lifecycle[fi].insert(i);
                }
            }
        }
        roles.push(r);
    }
    // Helpers called only from lifecycle slots (`foo_init_fields` from `foo_new`) are lifecycle too.
    // A worklist: adding a function can only qualify its callees.
    let mut work: Vec<usize> = (0..total).rev().collect();
    while let Some(id) = work.pop() {
        let (fi, i) = locate(&base, id);
        if lifecycle[fi].contains(&i) || entry_points[fi].contains(&i) || callers[id].is_empty() {
            continue;
        }
        let all = callers[id].iter().all(|c| {
            let (cf, ci) = locate(&base, *c);
            lifecycle[cf].contains(&ci)
        });
        if all {
            lifecycle[fi].insert(i);
            work.extend(callees[id].iter().copied());
        }
    }
    let mut unreached = vec![HashSet::new(); files.len()];
    for (fi, pf) in files.iter().enumerate() {
        for i in 0..pf.index.functions.len() {
            let id = base[fi] + i;
            if callers[id].is_empty() && !entry_points[fi].contains(&i) && !roots.contains(&id) {
                unreached[fi].insert(i);
            }
        }
    }
    // Greatest fixpoint, so that recursion (`deque_extendleft_impl` calling itself)
    // and cycles among guarded helpers keep their callers' guard.
    // A call from a lifecycle slot (`deque_init` calling `deque_append_lock_held`) touches
    // an object no other thread uses yet: as good as a critical section on it.
    let lifecycle_ids: HashSet<usize> = lifecycle
        .iter()
        .enumerate()
        .flat_map(|(fi, set)| set.iter().map(|i| base[fi] + i).collect::<Vec<_>>())
        .collect();
    for list in sites.iter_mut() {
        for (caller, g) in list.iter_mut() {
            if *g == 0 && lifecycle_ids.contains(caller) {
                *g = 1;
            }
        }
    }
    let guarded_ids = |level: u8| -> HashSet<usize> {
        let mut set: HashSet<usize> = (0..total)
            .filter(|id| !runtime_roots.contains(id) && !sites[*id].is_empty())
            .collect();
        // A worklist: removing a function can only disqualify its callees.
        let mut work: Vec<usize> = set.iter().copied().collect();
        while let Some(id) = work.pop() {
            let unguarded = sites[id]
                .iter()
                .any(|(caller, g)| *g < level && !set.contains(caller));
            if unguarded && set.remove(&id) {
                work.extend(callees[id].iter().copied().filter(|c| set.contains(c)));
            }
        }
        set
    };
    let split = |ids: HashSet<usize>| -> Vec<HashSet<usize>> {
        let mut v = vec![HashSet::new(); files.len()];
        for id in ids {
            let (f, i) = locate(&base, id);
            v[f].insert(i);
        }
        v
    };
    let mut guarded = split(guarded_ids(1));
    // CPython's naming convention: `*_lock_held` / `*_locked` run with the caller's lock.
    for (fi, pf) in files.iter().enumerate() {
        for (i, f) in pf.index.functions.iter().enumerate() {
            if f.name.ends_with("_lock_held")
                || f.name.ends_with("_locked")
                || f.name.ends_with("_LockHeld")
            {
                guarded[fi].insert(i);
            }
        }
    }
    let guarded_by_mutex = split(guarded_ids(2));
    EntryMap {
        roles,
        lifecycle,
        entry_points,
        unreached,
        guarded,
        guarded_by_mutex,
    }
}

fn locate(base: &[usize], id: usize) -> (usize, usize) {
    // Files without functions share their base with the next file: take the last.
    let f = base.partition_point(|b| *b <= id).saturating_sub(1);
    (f, id - base[f])
}

/// The function containing `offset` (functions are in file order and do not nest).
pub fn fn_at(index: &FileIndex, offset: usize) -> Option<usize> {
    let i = index.functions.partition_point(|f| f.range.0 <= offset);
    let f = i.checked_sub(1)?;
    (offset < index.functions[f].range.1).then_some(f)
}

/// Is a critical-section argument the module object (`module`, `(PyObject *)mod`)?
pub fn is_module_arg(arg: &str) -> bool {
    let a = arg.rsplit(')').next().unwrap_or(arg).trim();
    matches!(a, "module" | "mod" | "m" | "self_module")
}

/// Allocation calls whose result no other thread can see yet.
const ALLOCATORS: [&str; 7] = [
    "_New",
    "tp_alloc",
    "_new",
    "Alloc",
    "GenericNew",
    "_copy",
    "new_",
];

/// Is the call's first argument a local of `caller` that holds a freshly allocated object?
/// Declarations and writes of a file by function, so that a question about one
/// call reads its function's, not the whole file's (quadratic on large files).
struct Locals<'a> {
    decls: Vec<Vec<&'a super::index::Declaration>>,
    writes: Vec<Vec<&'a Write>>,
}

impl<'a> Locals<'a> {
    fn of(pf: &'a ParsedFile, facts: &'a Facts) -> Self {
        let n = pf.index.functions.len();
        let mut l = Locals {
            decls: vec![Vec::new(); n],
            writes: vec![Vec::new(); n],
        };
        for d in &pf.index.decls {
            if let Some(v) = d.function.and_then(|f| l.decls.get_mut(f)) {
                v.push(d);
            }
        }
        for w in &facts.writes {
            if let Some(v) = w.function.and_then(|f| l.writes.get_mut(f)) {
                v.push(w);
            }
        }
        l
    }
}

fn first_arg_is_fresh(
    pf: &ParsedFile,
    locals: &Locals,
    c: &super::index::Call,
    caller: usize,
) -> bool {
    let Some(a) = c.args.first() else {
        return false;
    };
    let text = pf.file.parse_text.get(a.0..a.1).unwrap_or("");
    let name = text.rsplit(')').next().unwrap_or(text).trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return false;
    }
    let fresh = |t: &str| ALLOCATORS.iter().any(|k| t.contains(k));
    let no_locals = (Vec::new(), Vec::new());
    let (decls, writes) = match (locals.decls.get(caller), locals.writes.get(caller)) {
        (Some(d), Some(w)) => (d, w),
        _ => (&no_locals.0, &no_locals.1),
    };
    let declared = decls
        .iter()
        .any(|d| d.name == name && d.init.as_ref().and_then(|i| i.expr()).is_some_and(fresh));
    declared
        || writes.iter().any(|w| {
            w.base == name
                && w.field.is_none()
                && w.kind == WriteKind::Assign
                && w.range.1 <= c.range.0
                && pf
                    .file
                    .parse_text
                    .get(w.range.0..w.range.1)
                    .is_some_and(fresh)
        })
}
