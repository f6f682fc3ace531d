//! "Is this container private here?" — the one intraprocedural analysis every
//! FT1xx/FT2xx/FT3xx rule asks before reporting, plus the model of
//! `Py_BEGIN_CRITICAL_SECTION` / `Py_BEGIN_ALLOW_THREADS` regions it relies on.
//!
//! A container expression is *private* at a use site when no other thread can
//! change it there: the keyword-arguments dict or args tuple/vector of the current
//! call, a container created in this function that has not escaped yet, an
//! immutable object, or one locked by an enclosing critical section on the same
//! expression. It is *shared* when it is a Python argument, a field, a global or
//! module state. Anything else (the result of an unknown call, a variable whose
//! origin is out of sight) is *unknown*, and rules report it with
//! [`Confidence::Likely`].

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use crate::capi::{self, CsRole, CsTarget, TsForm};
use crate::diagnostic::Confidence;
use crate::source::index::FileIndex;
use crate::source::index::{Function, Range};
use crate::source::preproc::BuildConfig;
use crate::source::SourceFile;

/// Why a container is private at a use site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Private {
    /// The keyword-arguments dict (or kwnames tuple) of the current call.
    Kwargs,
    /// The args tuple or the `PyObject *const *args` vector of the current call.
    Args,
    /// Created in this function and not escaped before the use.
    Fresh,
    /// A tuple (or another immutable object).
    Immutable,
    /// Inside `Py_BEGIN_CRITICAL_SECTION` on this very expression.
    Locked,
    /// Inside `if (PyUnstable_Object_IsUniquelyReferenced(x))`.
    Unique,
    /// Module state or a global, in code that only runs during module initialisation.
    ModuleInit,
}

/// Why a container may be changed by another thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// A Python argument (the args tuple is private, the objects in it are not).
    Argument(String),
    /// A struct field (`self->items`, module state).
    Field,
    /// A global or `static` variable.
    Global(String),
    /// A borrowed item of another container.
    Item,
    /// Created here but already stored somewhere or passed on (the line says where).
    Escaped(usize),
    /// The result of a call whose result may be shared (`PyObject_GetAttr`, ...).
    CallResult(String),
    /// A parameter of a helper: its callers decide (intraprocedural analysis).
    HelperParameter(String),
    /// The analysis cannot see where it comes from.
    Unknown,
}

/// The answer of [`Analysis::container`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privacy {
    Private(Private),
    Shared(Shared),
}

impl Privacy {
    pub fn is_private(&self) -> bool {
        matches!(self, Privacy::Private(_))
    }

    /// Created here and not escaped (what `PyList_SET_ITEM` needs; kwargs do not count).
    pub fn is_fresh(&self) -> bool {
        matches!(self, Privacy::Private(Private::Fresh))
    }

    /// How sure a diagnostic about a shared container is.
    pub fn confidence(&self) -> Confidence {
        match self {
            Privacy::Shared(Shared::Argument(_) | Shared::Field | Shared::Global(_)) => {
                Confidence::Certain
            }
            _ => Confidence::Likely,
        }
    }

    /// A phrase for messages: "`d`, a Python argument".
    pub fn describe(&self, expr: &str) -> String {
        match self {
            Privacy::Private(p) => format!("`{expr}` ({p:?})"),
            Privacy::Shared(s) => match s {
                Shared::Argument(_) => format!("`{expr}`, an object received from Python"),
                Shared::Field => format!("`{expr}`, a field other threads can reach"),
                Shared::Global(_) => format!("`{expr}`, a global shared by every thread"),
                Shared::Item => format!("`{expr}`, an item of another container"),
                Shared::Escaped(line) => {
                    format!("`{expr}`, which is visible to other code since line {line}")
                }
                Shared::CallResult(c) => format!("`{expr}`, returned by `{c}` (possibly shared)"),
                Shared::HelperParameter(_) => {
                    format!("`{expr}`, a parameter whose callers are not analysed")
                }
                Shared::Unknown => format!("`{expr}`, whose origin is not visible here"),
            },
        }
    }
}

/// Calls that return a new container nobody else has seen: the catalogue's
/// constructors, and a type's own `tp_alloc` slot called through the type.
fn is_constructor(callee: &str) -> bool {
    callee == "tp_alloc" || capi::is_constructor(callee)
}

/// Calls that do not let a container escape when it is their first argument.
fn keeps_private(callee: &str, position: usize) -> bool {
    // `assert(x)` and `Py_ssize_t(x)` (a C++ functional cast) look like calls.
    if capi::keeps_no_reference(callee)
        || matches!(callee, "assert" | "Py_ssize_t")
        || callee.contains("_Check")
        || callee.contains("_GET_SIZE")
    {
        return true;
    }
    position == 0 && capi::container_family(callee).is_some()
}

/// A critical section or a detached-thread-state region: the statements between a
/// BEGIN macro and its END in the same statement list.
#[derive(Debug, Clone)]
pub struct Region {
    pub kind: RegionKind,
    /// The BEGIN statement.
    pub begin: Range,
    /// The matching END statement, when there is one in the same list.
    pub end: Option<Range>,
    /// The normalised objects a critical section locks (one or two).
    pub objects: Vec<String>,
    /// The raw argument texts.
    pub object_texts: Vec<String>,
    /// The function it is in.
    pub function: usize,
}

impl Region {
    /// Bytes from the end of BEGIN to the start of END (or the end of its block).
    pub fn body(&self) -> Range {
        (self.begin.1, self.end.map(|e| e.0).unwrap_or(self.begin.1))
    }

    pub fn contains(&self, offset: usize) -> bool {
        let (s, e) = self.body();
        s <= offset && offset < e
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// `Py_BEGIN_CRITICAL_SECTION(x)` ... `Py_END_CRITICAL_SECTION()`.
    CriticalSection,
    /// `Py_BEGIN_CRITICAL_SECTION2(a, b)` ... `Py_END_CRITICAL_SECTION2()`.
    CriticalSection2,
    /// `Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST(seq)` (CPython-internal, copied by
    /// NumPy): locks `seq` when it is a list.
    SequenceFast,
    /// `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`.
    AllowThreads,
}

/// A region marker statement.
#[derive(Debug, Clone)]
pub struct Marker {
    pub macro_name: &'static str,
    pub range: Range,
    pub args: Vec<String>,
}

/// A pairing problem found while building regions.
#[derive(Debug, Clone)]
pub enum Mismatch {
    /// A BEGIN with no END in the same block.
    Unclosed(Marker),
    /// An END with no BEGIN in the same block.
    Unopened(Marker),
    /// BEGIN and END of different kinds (`..SECTION` closed by `..SECTION2`).
    WrongEnd { begin: Marker, end: Marker },
    /// BEGIN and END compiled under different `#if` conditions.
    DifferentConditions { begin: Marker, end: Marker },
    /// `Py_END_CRITICAL_SECTION(x)`: the END macros take no argument.
    EndWithArgument(Marker),
}

/// The region markers: every critical-section BEGIN/END macro, and
/// `Py_BEGIN_ALLOW_THREADS`/`Py_END_ALLOW_THREADS`.
fn markers() -> impl Iterator<Item = &'static str> {
    capi::critical_section_markers().map(|(n, _)| n).chain(
        capi::thread_state_calls()
            .filter(|(_, t)| t.form == TsForm::RegionMacro)
            .map(|(n, _)| n),
    )
}

/// The per-file analysis. Build once per rule family with [`Analysis::new`].
pub struct Analysis<'a> {
    pub file: &'a SourceFile,
    pub index: &'a FileIndex,
    /// The free-threaded builds the project targets, for this file's language.
    configs: Vec<BuildConfig>,
    pub regions: Vec<Region>,
    pub mismatches: Vec<Mismatch>,
    /// Functions referenced from file-scope initializers (method tables, slot
    /// arrays, static type objects): Python calls them directly.
    python_facing: HashSet<String>,
    /// Parameters a function's callers lock for it: Argument Clinic's
    /// `@critical_section`, and CPython's `*_lock_held` naming convention.
    caller_locked: HashMap<usize, Vec<String>>,
    /// Functions that only run while the module is being initialised
    /// (`PyInit_*`, `Py_mod_exec`/`Py_mod_create` and helpers only they call).
    init_only: HashSet<usize>,
}

impl<'a> Analysis<'a> {
    /// Analyses one file for the free-threaded builds `configs` (see
    /// `context::ft_configs`).
    pub fn new(file: &'a SourceFile, index: &'a FileIndex, configs: Vec<BuildConfig>) -> Self {
        let ctx = Unit { file, index };
        let mut python_facing = HashSet::new();
        for d in ctx.index.decls.iter().filter(|d| d.function.is_none()) {
            let Some(init) = &d.init else { continue };
            let (s, e) = init.range();
            let text = ctx.file.parse_text.get(s..e).unwrap_or("");
            python_facing.extend(identifiers(text).map(str::to_owned));
        }
        let caller_locked = caller_locked(ctx);
        let init_only = init_only(ctx);
        let mut a = Analysis {
            file,
            index,
            configs,
            regions: Vec::new(),
            mismatches: Vec::new(),
            python_facing,
            caller_locked,
            init_only,
        };
        a.build_regions();
        a.propagate_caller_locks();
        a
    }

    fn text(&self, r: Range) -> &'a str {
        self.file.parse_text.get(r.0..r.1).unwrap_or("")
    }

    /// Is `offset` compiled in some free-threaded build this project targets?
    pub fn compiled_in_ft(&self, offset: usize) -> bool {
        use crate::source::preproc::Truth;
        // The vendored pythoncapi-compat header implements the strong-reference
        // replacements with the old APIs under version guards we cannot evaluate.
        if self
            .file
            .path
            .file_name()
            .is_some_and(|n| n == "pythoncapi_compat.h")
        {
            return false;
        }
        let cond = self.file.condition_at(offset);
        self.configs.iter().any(|c| cond.eval(c) != Truth::False)
    }

    /// The innermost critical section whose body contains `offset`.
    pub fn critical_sections_at(&self, offset: usize) -> impl Iterator<Item = &Region> {
        self.regions
            .iter()
            .filter(move |r| r.kind != RegionKind::AllowThreads && r.contains(offset))
    }

    /// Is `expr` (normalised) locked by an enclosing critical section at `offset`?
    pub fn locked_at(&self, expr: &str, offset: usize) -> bool {
        // A locked object's own fields (`self->items` under a section on `self`) are
        // taken to be guarded by the same lock, as CPython's own code does.
        let root = expr.split("->").next().unwrap_or(expr);
        if self
            .critical_sections_at(offset)
            .any(|r| r.objects.iter().any(|o| o == expr || o == root))
        {
            return true;
        }
        let Some(fi) = self.index.function_at(offset) else {
            return false;
        };
        if self
            .caller_locked
            .get(&fi)
            .is_some_and(|params| params.iter().any(|p| p == expr || p == root))
        {
            return true;
        }
        // `textio *self = (textio *)op;` with `op` locked: follow one local alias.
        if !is_identifier(root) {
            return false;
        }
        let alias = self
            .index
            .decls_in(fi)
            .find(|d| d.name == root && !d.storage.is_static && d.name_range.0 < offset);
        let Some(init) = alias.and_then(|d| d.init.as_ref()) else {
            return false;
        };
        let target = normalize(self.text(init.range()));
        if !is_identifier(&target) || target == root {
            return false;
        }
        let rebound = self
            .index
            .assignments_in(fi)
            .any(|a| a.range.1 <= offset && normalize(&a.lhs_text) == root);
        !rebound && self.locked_at(&format!("{target}{}", &expr[root.len()..]), offset)
    }

    /// Is `at` inside `if (PyUnstable_Object_IsUniquelyReferenced(e)) { ... }`?
    fn unique_at(&self, e: &str, at: usize) -> bool {
        let root = self.file.tree.root_node();
        let Some(mut n) = root.descendant_for_byte_range(at, at) else {
            return false;
        };
        while let Some(p) = n.parent() {
            if p.kind() == "if_statement"
                && p.child_by_field_name("consequence")
                    .is_some_and(|c| c.id() == n.id())
            {
                let cond = p
                    .child_by_field_name("condition")
                    .map(|c| self.file.node_text(c))
                    .unwrap_or("");
                let c = normalize(cond);
                for f in capi::uniqueness_checks() {
                    if c.contains(&format!("{f}({e})")) && !c.contains(&format!("!{f}(")) {
                        return true;
                    }
                }
            }
            n = p;
        }
        false
    }

    /// Is the container written at `expr` private at `at`?
    pub fn container(&self, expr: Range, at: usize) -> Privacy {
        let e = normalize(self.text(expr));
        self.classify(&e, at, 0)
    }

    /// As [`Analysis::container`], for an expression given as text.
    pub fn container_text(&self, expr: &str, at: usize) -> Privacy {
        self.classify(&normalize(expr), at, 0)
    }

    fn classify(&self, e: &str, at: usize, depth: usize) -> Privacy {
        if self.locked_at(e, at) {
            return Privacy::Private(Private::Locked);
        }
        if self.unique_at(e, at) {
            return Privacy::Private(Private::Unique);
        }
        if depth > 4 || e.is_empty() {
            return Privacy::Shared(Shared::Unknown);
        }
        let idx = self.index;
        let Some(fi) = idx.function_at(at) else {
            return Privacy::Shared(Shared::Unknown);
        };
        if self.init_only.contains(&fi) {
            // Module state and globals are not shared before initialisation ends.
            return match self.classify_unlocked(e, fi, at, depth) {
                Privacy::Shared(Shared::Field | Shared::Global(_) | Shared::Escaped(_)) => {
                    Privacy::Private(Private::ModuleInit)
                }
                p => p,
            };
        }
        self.classify_unlocked(e, fi, at, depth)
    }

    fn classify_unlocked(&self, e: &str, fi: usize, at: usize, depth: usize) -> Privacy {
        let idx = self.index;
        let f = &idx.functions[fi];
        if let Some(callee) = call_name(e) {
            return classify_call_result(callee);
        }
        if let Some(callee) = pointer_call_name(e) {
            return classify_call_result(callee);
        }
        if e.contains("->") || e.contains('.') {
            // `self->list = PyList_New(n);` then filled in this function: still fresh.
            if let Some(def @ Definition::Value { rhs, .. }) = self.last_definition(fi, e, at) {
                let t = normalize(self.text(rhs));
                if call_name(&t).is_some_and(is_constructor) {
                    return self.classify_definition(fi, e, def, at, depth);
                }
            }
            return Privacy::Shared(Shared::Field);
        }
        if let Some(base) = e.strip_suffix(']').and_then(|x| x.split('[').next()) {
            // `args[0]`: an object taken from an args vector or array.
            return match self.classify(base, at, depth + 1) {
                Privacy::Private(Private::Args) => {
                    Privacy::Shared(Shared::Argument(base.to_owned()))
                }
                _ => Privacy::Shared(Shared::Item),
            };
        }
        if e.strip_prefix('*').is_some_and(is_identifier) {
            // `*ret = PyList_New(1); PyList_SET_ITEM(*ret, ...)`: an out-parameter being filled.
            return match self.last_definition(fi, e, at) {
                Some(p) => self.classify_definition(fi, e, p, at, depth),
                None => Privacy::Shared(Shared::Unknown),
            };
        }
        if !is_identifier(e) {
            return Privacy::Shared(Shared::Unknown);
        }
        // The last definition before the use decides.
        if let Some(p) = self.last_definition(fi, e, at) {
            return self.classify_definition(fi, e, p, at, depth);
        }
        if let Some(pos) = f.params.iter().position(|p| p.name == e) {
            return self.classify_parameter(fi, pos);
        }
        match idx.declaration_of(e, Some(fi)) {
            Some(d) if d.has_static_storage() => Privacy::Shared(Shared::Global(e.to_owned())),
            Some(d) if d.type_text.contains("PyTupleObject") => {
                Privacy::Private(Private::Immutable)
            }
            _ => Privacy::Shared(Shared::Unknown),
        }
    }

    /// The right-hand side (or out-parameter call) that last set `var` before `at`.
    fn last_definition(&self, fi: usize, var: &str, at: usize) -> Option<Definition> {
        let idx = self.index;
        let mut best: Option<Definition> = None;
        let mut consider = |d: Definition| {
            if best.as_ref().is_none_or(|b| b.pos() < d.pos()) {
                best = Some(d);
            }
        };
        for d in idx
            .decls_in(fi)
            .filter(|d| d.name == var && d.name_range.0 < at)
        {
            if d.storage.is_static {
                continue;
            }
            if let Some(init) = &d.init {
                let r = init.range();
                if !is_null(self.text(r)) {
                    consider(Definition::Value {
                        rhs: r,
                        at: d.name_range.0,
                    });
                }
            }
        }
        for a in idx.assignments_in(fi).filter(|a| a.range.1 <= at) {
            if a.operator == "=" && normalize(&a.lhs_text) == var && !is_null(self.text(a.rhs)) {
                consider(Definition::Value {
                    rhs: a.rhs,
                    at: a.range.0,
                });
            }
        }
        let amp = format!("&{var}");
        for c in idx.calls_in(fi).filter(|c| c.range.1 <= at) {
            if let Some(pos) = c.args.iter().position(|r| normalize(self.text(*r)) == amp) {
                consider(Definition::OutParam {
                    callee: c.name.clone(),
                    position: pos,
                    at: c.range.0,
                    first_arg: c.args.first().copied(),
                });
            }
        }
        best
    }

    fn classify_definition(
        &self,
        fi: usize,
        var: &str,
        def: Definition,
        at: usize,
        depth: usize,
    ) -> Privacy {
        match def {
            Definition::OutParam {
                callee, first_arg, ..
            } => {
                if capi::is_arg_parser(&callee) {
                    return Privacy::Shared(Shared::Argument(var.to_owned()));
                }
                if capi::stores_item_in_out_param(&callee) {
                    return match first_arg.map(|r| self.container(r, at)) {
                        Some(Privacy::Private(_)) => Privacy::Shared(Shared::Unknown),
                        _ => Privacy::Shared(Shared::Item),
                    };
                }
                Privacy::Shared(Shared::CallResult(callee))
            }
            Definition::Value { rhs, at: def_at } => {
                let text = normalize(self.text(rhs));
                if let Some(callee) = call_name(&text) {
                    if is_constructor(callee) || self.returns_fresh(callee, depth) {
                        return match self.escape_between(fi, var, def_at, at) {
                            Some(line) => Privacy::Shared(Shared::Escaped(line)),
                            None => Privacy::Private(Private::Fresh),
                        };
                    }
                    if callee == "PySequence_Fast" {
                        // The sequence is its argument (for a list): ask about it, locked
                        // at the use site or private where it was converted.
                        let inner = self.first_call_arg(rhs).map(|r| normalize(self.text(r)));
                        if inner.as_deref().is_some_and(|i| self.locked_at(i, at)) {
                            return Privacy::Private(Private::Locked);
                        }
                        return match inner.map(|i| self.classify(&i, def_at, depth + 1)) {
                            Some(Privacy::Private(p)) => Privacy::Private(p),
                            Some(s) => s,
                            None => Privacy::Shared(Shared::Unknown),
                        };
                    }
                    return classify_call_result(callee);
                }
                if let Some(callee) = pointer_call_name(&text) {
                    if is_constructor(callee) {
                        return match self.escape_between(fi, var, def_at, at) {
                            Some(line) => Privacy::Shared(Shared::Escaped(line)),
                            None => Privacy::Private(Private::Fresh),
                        };
                    }
                    return classify_call_result(callee);
                }
                if text.contains("->") || text.contains('.') {
                    return self.classify(&text, def_at, depth + 1);
                }
                if is_identifier(&text) && text != var {
                    return self.classify(&text, def_at, depth + 1);
                }
                Privacy::Shared(Shared::Unknown)
            }
        }
    }

    fn first_call_arg(&self, rhs: Range) -> Option<Range> {
        self.index
            .calls
            .iter()
            .find(|c| c.range.0 >= rhs.0 && c.range.1 <= rhs.1)
            .and_then(|c| c.args.first().copied())
    }

    /// The line where `var` first escapes between `from` and `to`, if it does.
    fn escape_between(&self, fi: usize, var: &str, from: usize, to: usize) -> Option<usize> {
        let idx = self.index;
        let line = |o: usize| self.file.lines.line_of(o) + 1;
        for c in idx
            .calls_in(fi)
            .filter(|c| c.range.0 > from && c.range.1 <= to)
        {
            for (pos, a) in c.args.iter().enumerate() {
                let t = strip_new_ref(normalize(self.text(*a)));
                if t == var
                    && !keeps_private(&c.name, pos)
                    && !self.helper_keeps_private(&c.name, pos)
                {
                    return Some(line(c.range.0));
                }
            }
        }
        for a in idx
            .assignments_in(fi)
            .filter(|a| a.range.0 > from && a.range.1 <= to)
        {
            let lhs = normalize(&a.lhs_text);
            let local = is_identifier(&lhs)
                && idx
                    .declaration_of(&lhs, Some(fi))
                    .is_some_and(|d| !d.has_static_storage());
            if !local && identifiers(self.text(a.rhs)).any(|w| w == var) {
                return Some(line(a.range.0));
            }
        }
        None
    }

    /// A function of this file whose every `return` gives a container it created
    /// and did not publish (or `NULL`).
    fn returns_fresh(&self, name: &str, depth: usize) -> bool {
        let idx = self.index;
        let Some(hi) = idx.function_named(name) else {
            return false;
        };
        let h = &idx.functions[hi];
        if depth > 2 || h.returns.is_empty() {
            return false;
        }
        h.returns.iter().all(|r| {
            let t = normalize(self.text(*r));
            is_null(&t) || (is_identifier(&t) && self.classify(&t, r.0, depth + 2).is_fresh())
        })
    }

    /// A function of this file that neither stores, returns nor passes on its
    /// parameter `pos` (other than as the first argument of a container API).
    fn helper_keeps_private(&self, name: &str, pos: usize) -> bool {
        let idx = self.index;
        let Some(hi) = idx.function_named(name) else {
            return false;
        };
        let h = &idx.functions[hi];
        let Some(p) = h.params.get(pos) else {
            return false;
        };
        let p = p.name.as_str();
        if p.is_empty()
            || h.returns
                .iter()
                .any(|r| strip_new_ref(normalize(self.text(*r))) == p)
        {
            return false;
        }
        let stored = idx
            .assignments_in(hi)
            .any(|a| strip_new_ref(normalize(self.text(a.rhs))) == p);
        let passed = idx.calls_in(hi).any(|c| {
            c.args.iter().enumerate().any(|(i, a)| {
                normalize(self.text(*a)) == p
                    && !keeps_private(&c.name, i)
                    && !(c.name == name && i == pos)
            })
        });
        !stored && !passed
    }

    fn classify_parameter(&self, fi: usize, pos: usize) -> Privacy {
        let f = &self.index.functions[fi];
        let p = &f.params[pos];
        if p.ty.contains("*const *") || p.ty.contains("* const *") || p.ty.contains("**") {
            return Privacy::Private(Private::Args);
        }
        if p.ty.contains("PyTupleObject") {
            return Privacy::Private(Private::Immutable);
        }
        match parameter_role(self.index, f, pos) {
            Role::Kwargs => Privacy::Private(Private::Kwargs),
            Role::Args => Privacy::Private(Private::Args),
            Role::Object if self.python_facing.contains(&f.name) => {
                Privacy::Shared(Shared::Argument(p.name.clone()))
            }
            Role::Object => Privacy::Shared(Shared::HelperParameter(p.name.clone())),
        }
    }

    /// A helper every caller of which (in this file) holds a lock on its first
    /// argument runs under that lock too. Two rounds reach helpers of helpers.
    fn propagate_caller_locks(&mut self) {
        let idx = self.index;
        let mut sites_of: HashMap<&str, Vec<&crate::source::index::Call>> = HashMap::new();
        for c in &idx.calls {
            if c.name == c.callee {
                sites_of.entry(c.name.as_str()).or_default().push(c);
            }
        }
        for _ in 0..2 {
            let mut found = Vec::new();
            for (fi, f) in idx.functions.iter().enumerate() {
                if self.caller_locked.contains_key(&fi) || self.python_facing.contains(&f.name) {
                    continue;
                }
                let Some(first) = f.params.first() else {
                    continue;
                };
                let mut sites = sites_of
                    .get(f.name.as_str())
                    .into_iter()
                    .flatten()
                    .peekable();
                if sites.peek().is_none() {
                    continue;
                }
                let all_locked = sites.all(|c| {
                    c.args
                        .first()
                        .is_some_and(|a| self.locked_at(&normalize(self.text(*a)), c.range.0))
                });
                if all_locked {
                    found.push((fi, first.name.clone()));
                }
            }
            if found.is_empty() {
                return;
            }
            for (fi, p) in found {
                self.caller_locked.insert(fi, vec![p]);
            }
        }
    }

    fn build_regions(&mut self) {
        let file = self.file;
        let mut seen_functions = HashSet::new();
        for m in markers() {
            for off in file.code_occurrences(m) {
                if let Some(fi) = self.index.function_at(off) {
                    seen_functions.insert(fi);
                }
            }
        }
        let mut fns: Vec<usize> = seen_functions.into_iter().collect();
        fns.sort_unstable();
        for fi in fns {
            let body = self.index.functions[fi].body;
            let Some(node) = file
                .tree
                .root_node()
                .descendant_for_byte_range(body.0, body.1)
            else {
                continue;
            };
            let mut stack = vec![node];
            let mut cursor = node.walk();
            while let Some(n) = stack.pop() {
                if matches!(
                    n.kind(),
                    "compound_statement" | "case_statement" | "translation_unit"
                ) {
                    self.pair_markers(fi, n);
                }
                stack.extend(n.named_children(&mut cursor));
            }
        }
    }

    fn pair_markers(&mut self, fi: usize, block: Node) {
        let mut cursor = block.walk();
        let mut open: Vec<(Marker, RegionKind)> = Vec::new();
        let stmts: Vec<Node> = block.named_children(&mut cursor).collect();
        for mut s in stmts {
            // `done: Py_END_CRITICAL_SECTION();`
            while s.kind() == "labeled_statement" {
                let Some(inner) = s.named_child(s.named_child_count().saturating_sub(1)) else {
                    break;
                };
                s = inner;
            }
            let Some(m) = marker(self.file.node_text(s), (s.start_byte(), s.end_byte())) else {
                continue;
            };
            let cs = capi::critical_section_macro(m.macro_name);
            if let Some(k) = region_kind(m.macro_name).filter(|_| is_begin(m.macro_name)) {
                open.push((m, k));
                continue;
            }
            if cs.is_some() && !m.args.is_empty() {
                self.mismatches.push(Mismatch::EndWithArgument(m.clone()));
            }
            let want = region_kind(m.macro_name).unwrap_or(RegionKind::AllowThreads);
            let is_cs = |k: RegionKind| k != RegionKind::AllowThreads;
            let Some(i) = open
                .iter()
                .rposition(|(_, k)| *k == want || (is_cs(*k) && is_cs(want)))
            else {
                self.mismatches.push(Mismatch::Unopened(m));
                continue;
            };
            let (begin, k) = open.remove(i);
            if k != want {
                self.mismatches.push(Mismatch::WrongEnd {
                    begin: begin.clone(),
                    end: m.clone(),
                });
            } else if self.file.condition_at(begin.range.0) != self.file.condition_at(m.range.0) {
                self.mismatches.push(Mismatch::DifferentConditions {
                    begin: begin.clone(),
                    end: m.clone(),
                });
            }
            self.regions.push(Region {
                kind: k,
                begin: begin.range,
                end: Some(m.range),
                objects: begin.args.iter().map(|a| normalize(a)).collect(),
                object_texts: begin.args.clone(),
                function: fi,
            });
        }
        for (m, _) in open {
            self.mismatches.push(Mismatch::Unclosed(m));
        }
    }
}

/// One parsed file and its index, as the private passes below read it.
#[derive(Clone, Copy)]
struct Unit<'a> {
    file: &'a SourceFile,
    index: &'a FileIndex,
}

/// Functions that only run during module initialisation.
fn init_only(ctx: Unit) -> HashSet<usize> {
    let idx = ctx.index;
    let mut set: HashSet<usize> = idx.module_inits.iter().map(|m| m.function).collect();
    for sa in &idx.slot_arrays {
        for e in sa
            .entries
            .iter()
            .filter(|e| matches!(e.slot.as_str(), "Py_mod_exec" | "Py_mod_create"))
        {
            if let Some(f) = idx.function_named(&crate::source::index::last_identifier(&e.value)) {
                set.insert(f);
            }
        }
    }
    // A worklist over the callees of init-only functions (a fixpoint over every
    // function, rescanning every call, was quadratic and worse on large files).
    let mut sites: HashMap<&str, Vec<&crate::source::index::Call>> = HashMap::new();
    for c in &idx.calls {
        sites.entry(c.name.as_str()).or_default().push(c);
    }
    let mut work: Vec<usize> = set.iter().copied().collect();
    while let Some(f) = work.pop() {
        for c in idx.calls_in(f) {
            let Some(gi) = idx.function_named(&c.name) else {
                continue;
            };
            if set.contains(&gi) {
                continue;
            }
            let g = &idx.functions[gi];
            let calls = sites.get(g.name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            if !calls
                .iter()
                .all(|c| c.function.is_some_and(|f| set.contains(&f)))
            {
                continue;
            }
            // Referenced anywhere else (a method table, a pointer)? Then not init-only.
            let mentions = ctx.file.code_occurrences(&g.name).len();
            if mentions <= calls.len() + 1 {
                set.insert(gi);
                work.push(gi);
            }
        }
    }
    set
}

/// Functions whose callers hold a critical section on some parameters.
fn caller_locked(ctx: Unit) -> HashMap<usize, Vec<String>> {
    let mut out = HashMap::new();
    let comments = &ctx.file.lexed.comments;
    for (fi, f) in ctx.index.functions.iter().enumerate() {
        let Some(first) = f.params.first() else {
            continue;
        };
        // `_Py_CRITICAL_SECTION_ASSERT_OBJECT_LOCKED(op)` states the caller's lock.
        let asserted: Vec<String> = ctx
            .index
            .calls_in(fi)
            .filter(|c| capi::asserts_object_locked(&c.name))
            .filter_map(|c| c.args.first())
            .map(|r| normalize(ctx.file.parse_text.get(r.0..r.1).unwrap_or("")))
            .collect();
        if !asserted.is_empty() {
            out.insert(fi, asserted);
            continue;
        }
        let lname = f.name.to_ascii_lowercase();
        if lname.ends_with("_lock_held")
            || lname.ends_with("_lockheld")
            || lname.ends_with("_locked")
        {
            out.insert(fi, vec![first.name.clone()]);
            continue;
        }
        let i = comments.partition_point(|c| c.end <= f.range.0);
        let Some(c) = i.checked_sub(1).and_then(|i| comments.get(i)) else {
            continue;
        };
        let text = ctx.file.text.get(c.start..c.end).unwrap_or("");
        if !text.contains("[clinic start generated code]") {
            continue;
        }
        let Some(pos) = text.find("@critical_section") else {
            continue;
        };
        let line = text[pos + "@critical_section".len()..]
            .lines()
            .next()
            .unwrap_or("");
        let mut names: Vec<String> = identifiers(line).map(str::to_owned).collect();
        if names.is_empty() {
            names.push(first.name.clone());
        }
        out.insert(fi, names);
    }
    out
}

#[derive(Debug, Clone)]
enum Definition {
    Value {
        rhs: Range,
        at: usize,
    },
    OutParam {
        callee: String,
        #[allow(dead_code)]
        position: usize,
        at: usize,
        first_arg: Option<Range>,
    },
}

impl Definition {
    fn pos(&self) -> usize {
        match self {
            Definition::Value { at, .. } | Definition::OutParam { at, .. } => *at,
        }
    }
}

fn classify_call_result(callee: &str) -> Privacy {
    if is_constructor(callee) {
        return Privacy::Private(Private::Fresh);
    }
    if capi::is_global_container(callee) {
        return Privacy::Shared(Shared::Global(callee.to_owned()));
    }
    if capi::reads_borrowed_item(callee) {
        return Privacy::Shared(Shared::Item);
    }
    Privacy::Shared(Shared::CallResult(callee.to_owned()))
}

/// What a parameter is to the Python call that lands here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Kwargs,
    Args,
    Object,
}

/// The role of parameter `pos` of `f`, from the `PyMethodDef` flags of the entries
/// that name it, else from the `tp_init`/`tp_new`/`tp_call`/vectorcall signature shape.
pub fn parameter_role(index: &FileIndex, f: &Function, pos: usize) -> Role {
    let flags: Vec<&str> = index
        .method_tables
        .iter()
        .flat_map(|t| t.entries.iter())
        .filter(|e| e.func == f.name)
        .map(|e| e.flags.as_str())
        .collect();
    if let Some(flags) = flags.first() {
        let has = |w: &str| identifiers(flags).any(|x| x == w);
        let method = has("METH_METHOD");
        let shift = usize::from(method);
        if has("METH_FASTCALL") {
            return match pos.checked_sub(shift) {
                Some(1) => Role::Args,
                Some(3) if has("METH_KEYWORDS") => Role::Kwargs,
                _ => Role::Object,
            };
        }
        if has("METH_VARARGS") || has("METH_KEYWORDS") {
            return match pos {
                1 => Role::Args,
                2 if has("METH_KEYWORDS") => Role::Kwargs,
                _ => Role::Object,
            };
        }
        return Role::Object;
    }
    let p = &f.params[pos];
    let lname = p.name.to_ascii_lowercase();
    let is_obj = p.ty.contains("PyObject") && p.ty.contains('*');
    if !is_obj {
        return Role::Object;
    }
    // Vectorcall: (callable, PyObject *const *args, size_t nargsf, PyObject *kwnames).
    if f.params.len() == 4 && pos == 3 && (lname == "kwnames" || lname.starts_with("kw")) {
        return Role::Kwargs;
    }
    // tp_init / tp_new / tp_call and PyCFunctionWithKeywords: (self-or-type, args, kwds).
    if f.params.len() == 3 {
        if pos == 2
            && matches!(
                lname.as_str(),
                "kw" | "kwds" | "kwargs" | "kwdict" | "keywords" | "kws" | "kwnames"
            )
        {
            return Role::Kwargs;
        }
        if pos == 1 && lname == "args" && f.params[2].name.to_ascii_lowercase().starts_with("kw") {
            return Role::Args;
        }
    }
    // Helpers that receive the call's keyword dict keep its name (`kwds`, `kwargs`).
    if matches!(lname.as_str(), "kwnames" | "kwds" | "kwargs") {
        return Role::Kwargs;
    }
    Role::Object
}

/// The region a marker opens or closes.
fn region_kind(name: &str) -> Option<RegionKind> {
    if let Some(cs) = capi::critical_section_macro(name) {
        return Some(match (cs.target, cs.arity) {
            (CsTarget::SequenceFast, _) => RegionKind::SequenceFast,
            (_, 2) => RegionKind::CriticalSection2,
            _ => RegionKind::CriticalSection,
        });
    }
    capi::thread_state_call(name)
        .filter(|t| t.form == TsForm::RegionMacro)
        .map(|_| RegionKind::AllowThreads)
}

/// A BEGIN marker (critical section, or `Py_BEGIN_ALLOW_THREADS`).
fn is_begin(name: &str) -> bool {
    capi::critical_section_macro(name).is_some_and(|cs| cs.role == CsRole::Begin)
        || capi::thread_state_call(name).is_some_and(|t| t.role == capi::TsRole::Detach)
}

fn marker(stmt: &str, range: Range) -> Option<Marker> {
    let t = stmt.trim_start();
    let name = markers().find(|m| {
        t.starts_with(*m)
            && !t[m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })?;
    let rest = t[name.len()..].trim_start();
    let mut args = Vec::new();
    if let Some(inner) = rest.strip_prefix('(') {
        let close = matching_paren(inner)?;
        let inner = &inner[..close];
        args = split_args(inner)
            .into_iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().to_owned())
            .collect();
    }
    Some(Marker {
        macro_name: name,
        range,
        args,
    })
}

fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a call's argument text at top-level commas.
pub fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Normalises an expression for comparison: no blanks, no casts, no outer parentheses.
pub fn normalize(text: &str) -> String {
    let mut s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    loop {
        let before = s.len();
        if s.starts_with('(') {
            if let Some(close) = matching_paren(&s[1..]) {
                let inner = &s[1..=close];
                if close + 2 == s.len() {
                    s = inner.to_owned();
                } else if looks_like_type(inner) {
                    s = s[close + 2..].to_owned();
                }
            }
        }
        for kw in ["static_cast<", "reinterpret_cast<", "const_cast<"] {
            if let Some(rest) = s.strip_prefix(kw) {
                if let Some(close) = rest.find(">(") {
                    let inner = &rest[close + 2..];
                    if inner.ends_with(')') && matching_paren(inner) == Some(inner.len() - 1) {
                        s = inner[..inner.len() - 1].to_owned();
                    }
                }
            }
        }
        for w in [
            "_PyObject_CAST(",
            "_PyObject_CAST_CONST(",
            "_Py_CAST(PyObject*,",
        ] {
            if let Some(rest) = s.strip_prefix(w) {
                if rest.ends_with(')') && matching_paren(rest) == Some(rest.len() - 1) {
                    s = rest[..rest.len() - 1].to_owned();
                }
            }
        }
        s = strip_inner_casts(&s);
        if s.len() == before {
            return s;
        }
    }
}

/// `((Obj*)self)->items` → `self->items`.
fn strip_inner_casts(s: &str) -> String {
    let mut out = s.to_owned();
    let mut from = 0;
    while let Some(i) = out[from..].find("((").map(|i| i + from) {
        let Some(ty_end) = matching_paren(&out[i + 2..]).map(|c| i + 2 + c) else {
            break;
        };
        let ty = &out[i + 2..ty_end];
        let rest = &out[ty_end + 1..];
        let id_len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        // Not `f((T)x)`: there the outer parentheses are the call's.
        let after_callee = out[..i]
            .bytes()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b')' || c == b']');
        if !after_callee && looks_like_type(ty) && id_len > 0 && rest[id_len..].starts_with(')') {
            let ident = rest[..id_len].to_owned();
            out.replace_range(i..ty_end + 1 + id_len + 1, &ident);
        }
        from = i + 1;
        if from >= out.len() {
            break;
        }
    }
    out
}

/// `Py_NewRef(x)` and `Py_XNewRef(x)` are `x` for escape purposes.
fn strip_new_ref(mut s: String) -> String {
    for w in capi::new_ref_calls() {
        let inner = s.strip_prefix(w).and_then(|r| r.strip_prefix('('));
        if let Some(inner) = inner.and_then(|r| r.strip_suffix(')')) {
            s = normalize(inner);
        }
    }
    s
}

fn looks_like_type(s: &str) -> bool {
    s.ends_with('*')
        && s.trim_end_matches('*')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        || matches!(s, "void" | "Py_ssize_t" | "int")
}

/// The callee of a normalised call expression `name(...)`.
pub fn call_name(e: &str) -> Option<&str> {
    let open = e.find('(')?;
    let name = &e[..open];
    if !is_identifier(name)
        || !e.ends_with(')')
        || matching_paren(&e[open + 1..]) != Some(e.len() - open - 2)
    {
        return None;
    }
    Some(name)
}

/// The field called in `type->tp_alloc(type, 0)` or `Py_TYPE(o)->tp_new(...)`.
fn pointer_call_name(e: &str) -> Option<&str> {
    if !e.ends_with(')') {
        return None;
    }
    let open = e.rfind("->").map(|i| i + 2)?;
    let rest = &e[open..];
    let paren = rest.find('(')?;
    let name = &rest[..paren];
    (is_identifier(name) && matching_paren(&rest[paren + 1..]) == Some(rest.len() - paren - 2))
        .then_some(name)
}

pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

fn is_null(t: &str) -> bool {
    matches!(normalize(t).as_str(), "NULL" | "0" | "nullptr")
}

/// The identifiers of a text, in order.
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.as_bytes()[0].is_ascii_digit())
}

/// Does `text` mention identifier `word`?
pub fn mentions(text: &str, word: &str) -> bool {
    identifiers(text).any(|w| w == word)
}

/// The enclosing syntax node of a given kind, from the node at `offset`.
pub fn ancestor_of_kind<'t>(root: Node<'t>, offset: usize, kinds: &[&str]) -> Option<Node<'t>> {
    let mut n = root.descendant_for_byte_range(offset, offset)?;
    loop {
        if kinds.contains(&n.kind()) {
            return Some(n);
        }
        n = n.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_casts_parens_and_blanks() {
        assert_eq!(normalize("((PyObject *) self)->dict"), "self->dict");
        assert_eq!(normalize("( list )"), "list");
        assert_eq!(normalize("_PyObject_CAST(op)"), "op");
        assert_eq!(normalize("reinterpret_cast<Obj *>(self)"), "self");
        assert_eq!(normalize("(a)->b"), "(a)->b");
        assert_eq!(normalize("f(((Obj *)self)->items, 0)"), "f(self->items,0)");
        assert_eq!(
            normalize("PyList_New((Py_ssize_t)count)"),
            "PyList_New((Py_ssize_t)count)"
        );
    }

    #[test]
    fn call_names() {
        assert_eq!(call_name("PyList_New(0)"), Some("PyList_New"));
        assert_eq!(call_name("f(a)->x"), None);
        assert_eq!(
            pointer_call_name("type->tp_alloc(type,0)"),
            Some("tp_alloc")
        );
        assert_eq!(pointer_call_name("self->items"), None);
    }

    #[test]
    fn markers_and_arguments() {
        let m = marker("Py_BEGIN_CRITICAL_SECTION2(a, f(b, c));", (0, 1)).expect("a marker");
        assert_eq!(m.macro_name, "Py_BEGIN_CRITICAL_SECTION2");
        assert_eq!(m.args, vec!["a".to_owned(), "f(b, c)".to_owned()]);
        assert!(marker("Py_BEGIN_CRITICAL_SECTION_OTHER(m);", (0, 1)).is_none());
        assert!(marker("Py_END_ALLOW_THREADS", (0, 1)).is_some_and(|m| m.args.is_empty()));
    }
}
