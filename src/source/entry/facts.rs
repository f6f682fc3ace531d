//! Per-file [`Facts`] for the shared-state rules: function references, writes,
//! field uses, branches and lock / critical-section / detached regions.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use tree_sitter::Node;

use super::classify::fn_at;
use super::locks::{lock_call, lock_macros, pair_events, LockCall};
use super::syntax::{lvalue, slot_of, strip_wrappers};
use crate::capi::{self, TsForm, TsRole};
use crate::source::index::{FileIndex, Range};
use crate::source::SourceFile;

/// A function name used as a value (not called): `{"get", get_impl, METH_O}`,
/// `.tp_dealloc = foo_dealloc`, `Py_AtExit(cleanup)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldUse {
    pub base: String,
    pub field: String,
    pub arrow: bool,
    pub range: Range,
    pub function: Option<usize>,
}

/// An `if` statement (or `while`) whose condition names identifiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Branch {
    /// `if`, `while`, `for` or `do` (a statement), not a `?:` expression.
    pub statement: bool,
    pub condition: Range,
    pub idents: Vec<String>,
    pub body: Range,
}

/// A region of code that holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Guard {
    pub range: Range,
    pub kind: GuardKind,
    /// The lock's argument text (`&st->mutex`, `self`), empty when unknown.
    pub arg: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuardKind {
    /// A mutex (`PyMutex`, pthread, Windows, C++ scoped locks, project lock macros).
    Mutex,
    /// `Py_BEGIN_CRITICAL_SECTION(obj)` ... `Py_END_CRITICAL_SECTION()`.
    CriticalSection,
    /// `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS` (detached, not a lock).
    Detached,
}

/// Facts about one file for the shared-state rules, collected in one walk.
#[derive(Debug, Default, Serialize, Deserialize)]
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

/// Per name, the (slot, module definition) pairs already kept.
type SeenRefs =
    std::cell::RefCell<std::collections::HashMap<String, Vec<(Option<String>, bool)>, NameHasher>>;

/// A multiply-rotate hash for short identifiers (asked once per identifier of
/// the file; SipHash's resistance to chosen keys is not needed for a file's own
/// names, which only cost time if they collide).
#[derive(Default, Clone, Copy)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl std::hash::BuildHasher for NameHasher {
    type Hasher = NameHasher;
    fn build_hasher(&self) -> NameHasher {
        NameHasher(0)
    }
}

/// Which identifiers [`Facts::build_with`] keeps as function references.
enum RefFilter<'a> {
    /// Names of every function of the project.
    Names(&'a HashSet<&'a str>),
    /// Every identifier used as a value, before the project's function names are
    /// known (applied later by [`Facts::retain_refs`]). Only the first of each
    /// (name, slot, module definition) is kept: that is all the call graph
    /// reads of a reference ([`super::classify`]), and the set stays small.
    AnyName(SeenRefs),
}

/// Collects [`Facts::build_local`]'s facts during the index's walk of the tree
/// ([`FileIndex::build_visiting`]) instead of a walk of their own: [`visit`] every
/// node the walk shows, then [`finish`] with the complete index.
///
/// [`visit`]: LocalFactsBuilder::visit
/// [`finish`]: LocalFactsBuilder::finish
pub struct LocalFactsBuilder<'f> {
    file: &'f SourceFile,
    facts: Facts,
    filter: RefFilter<'static>,
}

impl<'f> LocalFactsBuilder<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        LocalFactsBuilder {
            file,
            facts: Facts::default(),
            filter: RefFilter::AnyName(Default::default()),
        }
    }

    /// One node of a pre-order walk, with its ancestors and the index so far
    /// (every function that starts before the node is in it, which is all that
    /// [`fn_at`] reads).
    pub fn visit(&mut self, node: Node, ancestors: &[Node], index: &FileIndex) {
        if node.is_named() {
            self.facts
                .visit(self.file, index, &self.filter, node, ancestors);
        }
    }

    pub fn finish(mut self, index: &FileIndex) -> Facts {
        self.facts.finish(self.file, index);
        self.facts
    }
}

impl Facts {
    /// Walks `file`'s tree once. `functions` are the names of every function in the
    /// project: only identifiers naming one of them are kept as references.
    pub fn build(file: &SourceFile, index: &FileIndex, functions: &HashSet<&str>) -> Facts {
        Facts::build_with(file, index, &RefFilter::Names(functions))
    }

    /// [`Facts::build`] before the project's function names are known: every
    /// identifier used as a value is a candidate reference (the first of each
    /// name, slot and module definition), for [`Facts::retain_refs`] to narrow
    /// once every file is read.
    pub fn build_local(file: &SourceFile, index: &FileIndex) -> Facts {
        Facts::build_with(file, index, &RefFilter::AnyName(Default::default()))
    }

    /// Keeps the function references whose name `keep` accepts.
    pub fn retain_refs(&mut self, keep: impl Fn(&str) -> bool) {
        self.refs.retain(|r| keep(&r.name));
        self.refs.shrink_to_fit();
    }

    fn build_with(file: &SourceFile, index: &FileIndex, functions: &RefFilter) -> Facts {
        let mut facts = Facts::default();
        let root = file.tree.root_node();
        let mut cursor = root.walk();
        // Ancestors of the cursor's node (tree-sitter's `parent()` is not O(1)).
        let mut ancestors: Vec<Node> = Vec::new();
        loop {
            let node = cursor.node();
            if node.is_named() {
                facts.visit(file, index, functions, node, &ancestors);
            }
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
        facts.finish(file, index);
        facts
    }

    /// What follows the walk: the guards of calls to lock helpers, and file order.
    fn finish(&mut self, file: &SourceFile, index: &FileIndex) {
        self.call_guards(file, index);
        // The walk pops later siblings first: put everything in file order.
        self.refs.sort_by_key(|r| r.offset);
        self.writes.sort_by_key(|w| w.range.0);
        self.fields.sort_by_key(|u| u.range.0);
        self.branches.sort_by_key(|b| b.condition.0);
    }

    fn visit(
        &mut self,
        file: &SourceFile,
        index: &FileIndex,
        functions: &RefFilter,
        node: Node,
        anc: &[Node],
    ) {
        match crate::source::node_kind(file.language, node) {
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
        functions: &RefFilter,
        node: Node,
        anc: &[Node],
    ) {
        let name = file.node_text(node);
        if let RefFilter::Names(names) = functions {
            if !names.contains(name) {
                return;
            }
        }
        let Some(parent) = anc.last().copied() else {
            return;
        };
        let parent_kind = crate::source::node_kind(file.language, parent);
        if parent_kind.ends_with("declarator") || parent_kind == "parameter_declaration" {
            return;
        }
        if parent_kind == "call_expression"
            && parent
                .child_by_field_name("function")
                .is_some_and(|f| f.id() == node.id())
        {
            return;
        }
        let (slot, in_module_def) = slot_of(file, node, anc);
        if let RefFilter::AnyName(seen) = functions {
            let mut seen = seen.borrow_mut();
            let key = (slot.clone(), in_module_def);
            match seen.get_mut(name) {
                Some(kinds) if kinds.contains(&key) => return,
                Some(kinds) => kinds.push(key),
                None => {
                    seen.insert(name.to_owned(), vec![key]);
                }
            }
        }
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
            .trim();
        let Some(pos) = written_arg(name) else {
            return;
        };
        let name = name.to_owned();
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
        let words: Vec<(&str, bool)> = capi::thread_state_calls()
            .filter(|(_, t)| matches!(t.form, TsForm::RegionMacro | TsForm::BareMacro))
            .map(|(word, t)| (word, t.role == TsRole::Detach))
            .collect();
        // One pass over the file's identifiers for every word (in offset order;
        // `pair_events` orders events by offset anyway).
        for (word, off) in file.code_identifiers(|id| words.iter().any(|(w, _)| *w == id)) {
            let begin = words.iter().any(|(w, b)| *w == word && *b);
            let ev = if begin {
                LockCall::Begin(GuardKind::Detached)
            } else {
                LockCall::End(GuardKind::Detached)
            };
            events.push((off, off + word.len(), ev, String::new()));
        }
        let macros = lock_macros(file);
        for c in &index.calls {
            let Some(kind) = macros
                .get(&c.name)
                .cloned()
                .or_else(|| lock_call(&c.name, &c.callee))
            else {
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
