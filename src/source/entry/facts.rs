//! Per-file [`Facts`] for the shared-state rules: function references, writes,
//! field uses, branches and lock / critical-section / detached regions.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use tree_sitter::Node;

use super::classify::fn_at;
use super::locks::{lock_call, lock_macros, pair_events, LockCall};
use super::syntax::{has, lvalue, slot_of, strip_wrappers, Context};
use crate::capi::{self, TsForm, TsRole};
use crate::source::index::grammar::{Grammar, Kind};
use crate::source::index::{Ancestors, FileIndex, Looked, PartVisitor, Range, Visitor};
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

/// Per name, the (slot, module definition) pairs already kept. Names and slots
/// are the file's text (or static slot names): asked for every identifier used
/// as a value, the map copies nothing.
type SeenRefs<'f> = std::collections::HashMap<&'f str, Vec<(Option<&'f str>, bool)>, NameHasher>;

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
enum RefFilter<'a, 'f> {
    /// Names of every function of the project.
    Names(&'a HashSet<&'a str>),
    /// Every identifier used as a value, before the project's function names are
    /// known (applied later by [`Facts::retain_refs`]). Only the first of each
    /// (name, slot, module definition) is kept: that is all the call graph
    /// reads of a reference ([`super::classify`]), and the set stays small.
    AnyName(SeenRefs<'f>),
}

/// Collects [`Facts::build_local`]'s facts during the index's walk of the tree
/// ([`FileIndex::build_visiting`]) instead of a walk of their own: the walk shows
/// it every node (it is the walk's [`Visitor`]), then [`finish`] with the
/// complete index.
///
/// [`finish`]: LocalFactsBuilder::finish
pub struct LocalFactsBuilder<'f> {
    walk: FactsWalk<'f, 'static>,
}

impl<'f> LocalFactsBuilder<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        LocalFactsBuilder {
            walk: FactsWalk::new(file, RefFilter::AnyName(Default::default())),
        }
    }

    pub fn finish(self, index: &FileIndex) -> Facts {
        self.walk.finish(index)
    }
}

/// One node of a pre-order walk, with its ancestors and the index so far (every
/// function that starts before the node is in it, which is all that [`fn_at`]
/// reads).
impl<'t> Visitor<'t> for LocalFactsBuilder<'_> {
    fn visit(
        &mut self,
        node: Node<'t>,
        kind: Kind,
        looked: &Looked<'t>,
        ancestors: &Ancestors<'t>,
        index: &FileIndex,
    ) {
        self.walk.visit(index, node, kind, looked, ancestors);
    }
}

/// The facts of a walk in parallel parts: each part's, appended in order, are
/// the facts of the whole walk.
impl PartVisitor<'_> for LocalFactsBuilder<'_> {
    fn part(&self) -> Self {
        LocalFactsBuilder::new(self.walk.file)
    }

    fn append(&mut self, next: Self, functions: usize) {
        self.walk.append(next.walk, functions);
    }
}

/// A branch around a walk's node ([`FactsWalk::branch`]).
struct OpenBranch {
    /// The branch node's id and its depth among the ancestors of its descendants.
    node: usize,
    depth: usize,
    /// Its condition node's id.
    condition: usize,
    /// Its index in [`Facts::branches`].
    branch: usize,
}

/// The state of one walk collecting [`Facts`]: the file, its grammar's table, the
/// reference filter and what is collected so far.
struct FactsWalk<'f, 'a> {
    file: &'f SourceFile,
    g: &'static Grammar,
    filter: RefFilter<'a, 'f>,
    facts: Facts,
    /// The branches around the walk's node, innermost last. A branch's
    /// condition's identifiers are collected as the walk passes them (a walk of
    /// each condition of its own cost as much as the rest of the facts).
    open_branches: Vec<OpenBranch>,
    /// The calls around the walk's node, innermost last: the call node's id, its
    /// depth among a node's ancestors, and its `function` node's id.
    open_calls: Vec<(usize, usize, usize)>,
    context: Context<'f>,
}

impl Facts {
    /// Walks `file`'s tree once. `functions` are the names of every function in the
    /// project: only identifiers naming one of them are kept as references.
    pub fn build(file: &SourceFile, index: &FileIndex, functions: &HashSet<&str>) -> Facts {
        FactsWalk::new(file, RefFilter::Names(functions)).build(index)
    }

    /// [`Facts::build`] before the project's function names are known: every
    /// identifier used as a value is a candidate reference (the first of each
    /// name, slot and module definition), for [`Facts::retain_refs`] to narrow
    /// once every file is read.
    pub fn build_local(file: &SourceFile, index: &FileIndex) -> Facts {
        FactsWalk::new(file, RefFilter::AnyName(Default::default())).build(index)
    }

    /// Keeps the function references whose name `keep` accepts.
    pub fn retain_refs(&mut self, keep: impl Fn(&str) -> bool) {
        self.refs.retain(|r| keep(&r.name));
        self.refs.shrink_to_fit();
    }

    /// The guards around `offset`.
    pub fn guards_at(&self, offset: usize) -> impl Iterator<Item = &Guard> {
        self.guards
            .iter()
            .filter(move |g| g.range.0 <= offset && offset < g.range.1)
    }
}

impl<'f, 'a> FactsWalk<'f, 'a> {
    fn new(file: &'f SourceFile, filter: RefFilter<'a, 'f>) -> Self {
        FactsWalk {
            file,
            g: Grammar::of(file.language),
            filter,
            facts: Facts::default(),
            open_branches: Vec::new(),
            open_calls: Vec::new(),
            context: Context::default(),
        }
    }

    /// Appends the facts of the walk of the part that follows; its function
    /// indices count from `functions`.
    fn append(&mut self, next: FactsWalk<'f, 'a>, functions: usize) {
        let shift = |f: Option<usize>| f.map(|f| f + functions);
        let Facts {
            refs,
            writes,
            fields,
            branches,
            guards,
            scoped_locks,
        } = next.facts;
        let refs = refs.into_iter().map(|r| FnRef {
            function: shift(r.function),
            ..r
        });
        match (&mut self.filter, next.filter) {
            (RefFilter::AnyName(seen), RefFilter::AnyName(next_seen)) => {
                // The first reference of each (name, slot, module definition)
                // of the file: those of the next part that are not known yet.
                for r in refs {
                    let known = seen.get(r.name.as_str()).is_some_and(|keys| {
                        keys.iter()
                            .any(|&(slot, m)| slot == r.slot.as_deref() && m == r.in_module_def)
                    });
                    if !known {
                        self.facts.refs.push(r);
                    }
                }
                for (name, keys) in next_seen {
                    let known = seen.entry(name).or_default();
                    for key in keys {
                        if !known.contains(&key) {
                            known.push(key);
                        }
                    }
                }
            }
            _ => self.facts.refs.extend(refs),
        }
        self.facts.writes.extend(writes.into_iter().map(|w| Write {
            function: shift(w.function),
            ..w
        }));
        self.facts
            .fields
            .extend(fields.into_iter().map(|u| FieldUse {
                function: shift(u.function),
                ..u
            }));
        self.facts.branches.extend(branches);
        self.facts.guards.extend(guards);
        self.facts.scoped_locks.extend(scoped_locks);
    }

    /// Walks the file's tree on its own (for callers without an index walk).
    fn build(mut self, index: &FileIndex) -> Facts {
        let root = self.file.tree.root_node();
        let mut cursor = root.walk();
        let mut ancestors = Ancestors::default();
        loop {
            let node = cursor.node();
            let kind = self.g.kind(node);
            let looked = Looked::up(self.g, node, kind);
            self.visit(index, node, kind, &looked, &ancestors);
            if cursor.goto_first_child() {
                ancestors.push(node, kind);
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
        self.finish(index)
    }

    /// What follows the walk: the guards of calls to lock helpers, and file order.
    fn finish(mut self, index: &FileIndex) -> Facts {
        self.call_guards(index);
        let facts = &mut self.facts;
        // A condition's identifiers, in the order a walk of the condition of its
        // own found them (it popped later children first; identifiers have no
        // children).
        for b in &mut facts.branches {
            b.idents.reverse();
        }
        // The walk pops later siblings first: put everything in file order.
        facts.refs.sort_by_key(|r| r.offset);
        facts.writes.sort_by_key(|w| w.range.0);
        facts.fields.sort_by_key(|u| u.range.0);
        facts.branches.sort_by_key(|b| b.condition.0);
        self.facts
    }

    /// One node of a pre-order walk. Every kind matched is a named kind.
    fn visit(
        &mut self,
        index: &FileIndex,
        node: Node,
        kind: Kind,
        looked: &Looked,
        anc: &Ancestors,
    ) {
        let (file, g) = (self.file, self.g);
        if anc.kinds().last() == Some(&Kind::InitializerList) {
            self.context.list_child(node, kind, anc.nodes());
        }
        let depth = anc.nodes().len();
        match kind {
            Kind::Identifier => {
                self.condition_identifier(node, anc);
                self.identifier(index, node, anc);
            }
            Kind::AssignmentExpression => {
                let kind = match looked.operator.map(|o| file.node_text(o)) {
                    Some("=") | None => WriteKind::Assign,
                    Some(_) => WriteKind::Compound,
                };
                if let Some(left) = looked.left {
                    self.write(index, left, kind, None, node);
                }
            }
            Kind::UpdateExpression => {
                if let Some(arg) = node.child_by_field_id(g.f.argument) {
                    self.write(index, arg, WriteKind::Update, None, node);
                }
            }
            Kind::CallExpression => {
                if let Some(f) = looked.function {
                    let nodes = anc.nodes();
                    self.leave_calls(nodes);
                    self.open_calls.push((node.id(), nodes.len(), f.id()));
                    self.call(index, node, f);
                }
            }
            Kind::FieldExpression => self.field_use(index, node),
            Kind::IfStatement
            | Kind::WhileStatement
            | Kind::ConditionalExpression
            | Kind::ForStatement
            | Kind::DoStatement => self.branch(node, kind, anc),
            Kind::Declaration => {
                let decl_type = looked.type_.map(|t| file.node_text(t));
                self.context.scope(node, depth, Some(decl_type));
                if let Some(ty) = looked.type_ {
                    self.scoped_lock(node, ty, anc.nodes());
                }
            }
            Kind::FunctionDefinition | Kind::CompoundStatement => {
                self.context.scope(node, depth, None);
            }
            Kind::InitializerList => self.context.list(node, depth),
            _ => {}
        }
    }

    /// An identifier in the conditions of the branches around it.
    fn condition_identifier(&mut self, node: Node, anc: &Ancestors) {
        let anc = anc.nodes();
        self.leave_branches(anc);
        for b in &self.open_branches {
            // A field's node is a child of its node in the walk (only hidden
            // nodes, which a walk does not show, can lie between them).
            let cond = anc.get(b.depth + 1).copied().unwrap_or(node);
            if cond.id() == b.condition {
                let name = self.file.node_text(node).to_owned();
                self.facts.branches[b.branch].idents.push(name);
            }
        }
    }

    fn identifier(&mut self, index: &FileIndex, node: Node, anc: &Ancestors) {
        let (file, g) = (self.file, self.g);
        let name = file.node_text(node);
        if let RefFilter::Names(names) = &self.filter {
            if !names.contains(name) {
                return;
            }
        }
        let Some(&parent_kind) = anc.kinds().last() else {
            return;
        };
        if parent_kind.is_declarator() || parent_kind == Kind::ParameterDeclaration {
            return;
        }
        if parent_kind == Kind::CallExpression {
            // The parent call's `function`, as the walk looked it up.
            let nodes = anc.nodes();
            self.leave_calls(nodes);
            if self
                .open_calls
                .last()
                .is_some_and(|&(_, depth, f)| depth + 1 == nodes.len() && f == node.id())
            {
                return;
            }
        }
        let (slot, in_module_def) = slot_of(file, g, node, anc, &mut self.context);
        if let RefFilter::AnyName(seen) = &mut self.filter {
            let key = (slot, in_module_def);
            match seen.get_mut(name) {
                Some(kinds) if kinds.contains(&key) => return,
                Some(kinds) => kinds.push(key),
                None => {
                    seen.insert(name, vec![key]);
                }
            }
        }
        self.facts.refs.push(FnRef {
            name: name.to_owned(),
            offset: node.start_byte(),
            function: fn_at(index, node.start_byte()),
            slot: slot.map(str::to_owned),
            in_module_def,
        });
    }

    fn write(
        &mut self,
        index: &FileIndex,
        target: Node,
        kind: WriteKind,
        call: Option<String>,
        stmt: Node,
    ) {
        let Some(lv) = lvalue(self.file, self.g, target) else {
            return;
        };
        self.facts.writes.push(Write {
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

    /// Forgets the calls the walk has left: those not among the ancestors `anc`
    /// of its node.
    fn leave_calls(&mut self, anc: &[Node]) {
        while let Some(&(id, depth, _)) = self.open_calls.last() {
            if anc.get(depth).is_some_and(|a| a.id() == id) {
                break;
            }
            self.open_calls.pop();
        }
    }

    /// A call whose `function` is `f`.
    fn call(&mut self, index: &FileIndex, node: Node, f: Node) {
        let (file, g) = (self.file, self.g);
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
        let Some(args) = node.child_by_field_id(g.f.arguments) else {
            return;
        };
        let mut c = args.walk();
        let Some(arg) = args
            .named_children(&mut c)
            .filter(|a| g.kind(*a) != Kind::Comment)
            .nth(pos)
        else {
            return;
        };
        self.write(index, arg, WriteKind::Call, Some(name), node);
    }

    fn field_use(&mut self, index: &FileIndex, node: Node) {
        let (file, g) = (self.file, self.g);
        let (Some(arg), Some(field)) = (
            node.child_by_field_id(g.f.argument),
            node.child_by_field_id(g.f.field),
        ) else {
            return;
        };
        let arg = strip_wrappers(g, arg);
        if !matches!(g.kind(arg), Kind::Identifier | Kind::This) {
            return;
        }
        // (An `->` operator is in the node's text.)
        let arrow = has(file.node_text(node), b"->");
        self.facts.fields.push(FieldUse {
            base: file.node_text(arg).to_owned(),
            field: file.node_text(field).to_owned(),
            arrow,
            range: (node.start_byte(), node.end_byte()),
            function: fn_at(index, node.start_byte()),
        });
    }

    /// A branch, whose condition's identifiers the walk collects next
    /// ([`FactsWalk::condition_identifier`]).
    fn branch(&mut self, node: Node, kind: Kind, anc: &Ancestors) {
        let g = self.g;
        let Some(cond) = node.child_by_field_id(g.f.condition) else {
            return;
        };
        let body = node
            .child_by_field_id(g.f.consequence)
            .or_else(|| node.child_by_field_id(g.f.body));
        let Some(body) = body else { return };
        self.facts.branches.push(Branch {
            statement: kind != Kind::ConditionalExpression,
            condition: (cond.start_byte(), cond.end_byte()),
            idents: Vec::new(),
            body: (body.start_byte(), body.end_byte()),
        });
        let anc = anc.nodes();
        self.leave_branches(anc);
        self.open_branches.push(OpenBranch {
            node: node.id(),
            depth: anc.len(),
            condition: cond.id(),
            branch: self.facts.branches.len() - 1,
        });
    }

    /// Forgets the branches the walk has left: those not among the ancestors
    /// `anc` of its node (a pre-order walk does not come back).
    fn leave_branches(&mut self, anc: &[Node]) {
        while let Some(b) = self.open_branches.last() {
            if anc.get(b.depth).is_some_and(|a| a.id() == b.node) {
                break;
            }
            self.open_branches.pop();
        }
    }

    /// `std::lock_guard<std::mutex> g(m);` holds `m` to the end of its block.
    fn scoped_lock(&mut self, node: Node, ty: Node, anc: &[Node]) {
        let t = self.file.node_text(ty);
        if !["lock_guard", "scoped_lock", "unique_lock"]
            .iter()
            .any(|k| t.contains(k))
        {
            return;
        }
        let Some(block) = anc.last().copied() else {
            return;
        };
        self.facts
            .scoped_locks
            .push(((node.start_byte(), node.end_byte()), t.to_owned()));
        self.facts.guards.push(Guard {
            range: (node.start_byte(), block.end_byte()),
            kind: GuardKind::Mutex,
            arg: String::new(),
        });
    }

    /// Lock/unlock call pairs within one function, and detached regions.
    fn call_guards(&mut self, index: &FileIndex) {
        let file = self.file;
        // `Py_BEGIN_ALLOW_THREADS` and friends are used without parentheses: find
        // them as words. The file's word index answers each (the file's checks
        // build it anyway), where a pass over every identifier of the text cost
        // more than the rest of the facts' finish.
        let mut events: Vec<(usize, usize, LockCall, String)> = Vec::new();
        for (word, t) in capi::thread_state_calls()
            .filter(|(_, t)| matches!(t.form, TsForm::RegionMacro | TsForm::BareMacro))
        {
            let ev = if t.role == TsRole::Detach {
                LockCall::Begin(GuardKind::Detached)
            } else {
                LockCall::End(GuardKind::Detached)
            };
            for off in file.code_occurrences(word) {
                events.push((off, off + word.len(), ev.clone(), String::new()));
            }
        }
        // In offset order, as one pass over the text found them: `pair_events`
        // sorts stably, and a call can start where a word does.
        events.sort_by_key(|e| e.0);
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
        let (mut guards, lock_helpers, unlock_helpers) = pair_events(index, events.clone());
        // Helpers that only lock (`setup()`) or only unlock (`teardown()`) act as lock
        // and unlock calls where they are called (without any, the events and
        // so the guards stay the same).
        if !lock_helpers.is_empty() || !unlock_helpers.is_empty() {
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
            guards = pair_events(index, events).0;
        }
        self.facts.guards.extend(guards);
    }
}
