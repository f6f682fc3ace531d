//! FT4xx — shared state: globals, lazy-init caches, static buffers, non-reentrant
//! libc calls, module state, per-object state, foreign library contexts, bytearray
//! and capsule pointers.
//!
//! With the GIL, only one thread ran extension code at a time, so a `static` cache
//! or a `self->` field needed no lock. Without it, every function that Python can
//! call (see [`crate::source::entry`]) may run on many threads at once. These rules
//! find the state such functions write without a lock, thread-local storage, atomics
//! or a critical section.
//!
//! Every rule here is a project check: which functions run concurrently needs the
//! cross-file call graph. That graph, the per-file [`Facts`] it is built from and the
//! project's Python object structs are one [`StateAnalysis`], built once per run in
//! the project memo; each rule then looks at every file through a [`Scope`].
//! FT401–FT403 classify the same writes to static storage, so that classification
//! ([`StaticWrites`]) is shared too: each variable is reported once per function,
//! under the rule its first unsafe write calls for.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::capi;
use crate::context::{FileContext, ProjectContext, ProjectFile};
use crate::diagnostic::{Confidence, Diagnostic};
use crate::rule::Rule;
use crate::source::entry::{classify, EntryMap, Facts, GuardKind, Role, WriteKind};
use crate::source::index::{Declaration, Range};
use crate::source::preproc::BuildConfig;

pub mod ft401_global_written_at_runtime;
pub mod ft402_lazy_init_at_runtime;
pub mod ft403_static_scratch_buffer;
pub mod ft404_non_reentrant_libc_call;
pub mod ft405_module_state_mutated_at_runtime;
pub mod ft406_unlocked_object_field;
pub mod ft407_foreign_context_without_lock;
pub mod ft408_unpinned_bytearray_or_capsule;
pub mod ft409_reader_of_invalidated_field;
pub mod ft410_object_state_used_detached;
pub mod ft411_lazy_publication_without_sync;
pub(crate) mod objects;

pub use ft401_global_written_at_runtime::GLOBAL_WRITTEN_AT_RUNTIME;
pub use ft402_lazy_init_at_runtime::LAZY_INIT_AT_RUNTIME;
pub use ft403_static_scratch_buffer::STATIC_SCRATCH_BUFFER;
pub use ft404_non_reentrant_libc_call::NON_REENTRANT_CALL;
pub use ft405_module_state_mutated_at_runtime::MODULE_STATE_MUTATED;
pub use ft406_unlocked_object_field::UNLOCKED_SELF_FIELD;
pub use ft407_foreign_context_without_lock::FOREIGN_CONTEXT_UNLOCKED;
pub use ft408_unpinned_bytearray_or_capsule::UNPINNED_BUFFER;
pub use ft409_reader_of_invalidated_field::READER_OF_INVALIDATED_FIELD;
pub use ft410_object_state_used_detached::OBJECT_STATE_USED_DETACHED;
pub use ft411_lazy_publication_without_sync::LAZY_PUBLICATION_WITHOUT_SYNC;

/// Native lock and once types whose statics are not state (the C API's own, such as
/// `PyMutex` and `Py_tss_t`, come from [`capi::static_is_not_state`]).
// native: POSIX, C++ and Windows synchronisation types (not the C API).
const NATIVE_SYNC_TYPES: [&str; 8] = [
    "pthread_mutex_t",
    "pthread_once_t",
    "std::mutex",
    "std::once_flag",
    "std::recursive_mutex",
    "CRITICAL_SECTION",
    "SRWLOCK",
    "INIT_ONCE",
];

/// The project checks that read the entry-point [`Facts`] of every file (through
/// [`StateAnalysis`]): the pipeline computes those facts in each file's own phase,
/// while its syntax tree is alive, when one of these is selected.
pub static ENTRY_FACT_RULES: [&Rule; 12] = [
    &crate::rules::layout::STATIC_TYPE_MODIFIED_AT_RUNTIME,
    &GLOBAL_WRITTEN_AT_RUNTIME,
    &LAZY_INIT_AT_RUNTIME,
    &STATIC_SCRATCH_BUFFER,
    &NON_REENTRANT_CALL,
    &MODULE_STATE_MUTATED,
    &UNLOCKED_SELF_FIELD,
    &FOREIGN_CONTEXT_UNLOCKED,
    &UNPINNED_BUFFER,
    &READER_OF_INVALIDATED_FIELD,
    &OBJECT_STATE_USED_DETACHED,
    &LAZY_PUBLICATION_WITHOUT_SYNC,
];

/// A file's entry-point facts, computed in its own phase (see [`ENTRY_FACT_RULES`]).
fn entry_facts(pf: &ProjectFile) -> &Facts {
    match &pf.entry {
        Some(f) => f,
        None => panic!(
            "entry-point facts of {} were not computed in its own phase",
            pf.file.path.display()
        ),
    }
}

/// What every FT4xx rule reads about the whole project, built once per run. FT216
/// (layout) reads its entry-point map too, so the map is built once for both.
pub(crate) struct StateAnalysis {
    entries: EntryMap,
    /// Struct names of Python objects across the project (`PyObject_HEAD` first).
    object_types: HashSet<String>,
}

impl StateAnalysis {
    fn build(files: &[ProjectFile]) -> StateAnalysis {
        let facts: Vec<&Facts> = files.iter().map(entry_facts).collect();
        let entries = classify(files, &facts);
        let object_types = python_object_types(files);
        StateAnalysis {
            entries,
            object_types,
        }
    }

    /// The project's analysis, built on first use.
    pub(crate) fn of(project: &ProjectContext) -> Arc<StateAnalysis> {
        project.memo.get(|| StateAnalysis::build(project.files))
    }

    /// Which functions run concurrently, once, or in lifecycle slots.
    pub(crate) fn entries(&self) -> &EntryMap {
        &self.entries
    }
}

/// Runs `check` on every file for which `rule` is enabled, in parallel, and appends
/// the findings in file order.
fn check_files(
    project: &ProjectContext,
    rule: &Rule,
    out: &mut Vec<Diagnostic>,
    check: impl Fn(&Scope, &mut Vec<Diagnostic>) + Sync,
) {
    let per_file = map_files(
        project,
        |pf| pf.settings.rule_enabled(rule, &pf.file.path),
        |s| {
            let mut v = Vec::new();
            check(s, &mut v);
            v
        },
    );
    out.extend(per_file.into_iter().flatten());
}

/// `f` of every file's [`Scope`], in parallel, in file order; the default value for
/// the files `wanted` leaves out.
fn map_files<T: Send + Default>(
    project: &ProjectContext,
    wanted: impl Fn(&ProjectFile) -> bool + Sync,
    f: impl Fn(&Scope) -> T + Sync,
) -> Vec<T> {
    let analysis = StateAnalysis::of(project);
    project
        .files
        .par_iter()
        .enumerate()
        .map(|(fi, pf)| {
            if !wanted(pf) {
                return T::default();
            }
            let ctx = pf.context();
            let s = Scope::new(
                &ctx,
                entry_facts(pf),
                &analysis.entries,
                fi,
                &analysis.object_types,
            );
            f(&s)
        })
        .collect()
}

/// What every check of one file needs.
struct Scope<'a> {
    ctx: &'a FileContext<'a>,
    facts: &'a Facts,
    entries: &'a EntryMap,
    fi: usize,
    configs: std::sync::Arc<[BuildConfig]>,
    self_cache: std::cell::RefCell<HashMap<usize, Vec<String>>>,
    /// Struct names of Python objects across the project (`PyObject_HEAD` first).
    object_types: &'a HashSet<String>,
}

impl<'a> Scope<'a> {
    fn new(
        ctx: &'a FileContext<'a>,
        facts: &'a Facts,
        entries: &'a EntryMap,
        fi: usize,
        object_types: &'a HashSet<String>,
    ) -> Scope<'a> {
        Scope {
            ctx,
            facts,
            entries,
            fi,
            configs: ctx.ft_configs(),
            self_cache: Default::default(),
            object_types,
        }
    }

    /// Does a parameter or an automatic local of function `f` named `name` shadow a
    /// global? (Asked per write; the per-function index keeps it cheap, where sets of
    /// every function's names were built for every file by every rule.)
    fn shadows(&self, f: usize, name: &str) -> bool {
        let idx = self.ctx.index;
        idx.functions
            .get(f)
            .is_some_and(|func| func.params.iter().any(|p| p.name == name))
            || idx
                .decls_in(f)
                .any(|d| !d.storage.is_static && d.name == name)
    }

    /// Compiled in some free-threaded build.
    fn in_ft(&self, off: usize) -> bool {
        let c = self.ctx.file.condition_at(off);
        self.configs.iter().any(|cfg| c.eval(cfg).maybe())
    }

    fn concurrent(&self, f: Option<usize>) -> bool {
        f.is_some() && self.entries.role(self.fi, f) == Role::Concurrent
    }

    fn confidence(&self, f: Option<usize>) -> Confidence {
        match f {
            Some(f) if self.entries.unreached[self.fi].contains(&f) => Confidence::Likely,
            _ => Confidence::Certain,
        }
    }

    fn lifecycle(&self, f: usize) -> bool {
        self.entries.lifecycle[self.fi].contains(&f)
    }

    /// Held under a lock (or, when `objects` is set, any critical section), here or
    /// at every call site of the enclosing function.
    fn locked(&self, off: usize, objects: bool, self_names: &[String]) -> bool {
        if let Some(f) = crate::source::entry::fn_at(self.ctx.index, off) {
            let by_callers = if objects {
                &self.entries.guarded
            } else {
                &self.entries.guarded_by_mutex
            };
            if by_callers[self.fi].contains(&f) {
                return true;
            }
        }
        // For globals, a critical section counts only on the module object or on some
        // other shared object, not on the instance the method was called for.
        let first = crate::source::entry::fn_at(self.ctx.index, off)
            .and_then(|f| self.ctx.index.functions[f].params.first())
            .map(|p| p.name.as_str())
            .filter(|n| !n.is_empty());
        let on_instance = |arg: &str| {
            !crate::source::entry::is_module_arg(arg)
                && (self_names.iter().any(|n| mentions(arg, n))
                    || first.is_some_and(|n| mentions(arg, n)))
        };
        self.facts.guards_at(off).any(|g| match g.kind {
            GuardKind::Mutex => true,
            GuardKind::CriticalSection => objects || !on_instance(&g.arg),
            GuardKind::Detached => false,
        })
    }

    fn fn_name(&self, f: usize) -> &str {
        &self.ctx.index.functions[f].name
    }

    fn text(&self, r: Range) -> &str {
        self.ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
    }

    /// `self`, the first parameter, and locals cast from it (cached).
    fn self_names(&self, f: usize) -> Vec<String> {
        if let Some(v) = self.self_cache.borrow().get(&f) {
            return v.clone();
        }
        let v = self.compute_self_names(f);
        self.self_cache.borrow_mut().insert(f, v.clone());
        v
    }

    fn is_object_struct(&self, ty: &str) -> bool {
        let t = ty
            .trim_end_matches('*')
            .trim()
            .trim_start_matches("struct ")
            .trim();
        self.object_types.contains(t)
            || (t.ends_with("Object") && t != "PyObject" && t != "PyTypeObject")
    }

    fn compute_self_names(&self, f: usize) -> Vec<String> {
        let func = &self.ctx.index.functions[f];
        let Some(first) = func.params.first() else {
            return vec![];
        };
        if first.name.is_empty() || !first.ty.contains('*') {
            return vec![];
        }
        let base_ty = first
            .ty
            .trim_end_matches('*')
            .trim()
            .trim_start_matches("struct ")
            .trim();
        let mut names = Vec::new();
        if self.is_object_struct(base_ty) {
            names.push(first.name.clone());
        }
        if base_ty == "PyObject" || self.is_object_struct(base_ty) {
            for d in self
                .ctx
                .index
                .decls
                .iter()
                .filter(|d| d.function == Some(f) && d.is_pointer)
            {
                let Some(init) = d.init.as_ref().and_then(|i| i.expr()) else {
                    continue;
                };
                // `FooObject *self = (FooObject *)op;` but not `state *st = get_state(module);`
                // A freshly allocated object (`PyObject_New(T, type)`, `type->tp_alloc(type, 0)`) is not shared yet.
                let fresh = ["_New", "tp_alloc", "Alloc", "_new"]
                    .iter()
                    .any(|k| init.contains(k));
                if mentions(init, &first.name)
                    && self.is_object_struct(d.base_type())
                    && !fresh
                    && !init.to_ascii_lowercase().contains("state")
                {
                    names.push(d.name.clone());
                }
            }
        }
        // A C++ member function of a Python object class.
        if let Some((class, _)) = func.name.rsplit_once("::") {
            if self.is_object_struct(class) {
                names.push("this".into());
            }
        }
        names
    }
}

/// Does `text` contain `word` as a whole identifier?
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let b = text.as_bytes();
        let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let before = i > 0 && id(b[i - 1]);
        let after = b.get(i + word.len()).is_some_and(|c| id(*c));
        !before && !after
    })
}

/// Names looked for as whole identifiers in many texts ([`mentions`] of any of
/// them). A name that is one identifier is found by looking the identifiers of
/// the text up (those that start with a byte and have a length some name has),
/// where a search per name read the text once per name; any other name
/// (`Foo::get`) is still searched for.
#[derive(Default)]
struct Mentions {
    identifiers: HashSet<String>,
    /// Bit `b % 64` set: some identifier starts with byte `b`.
    first_bytes: u64,
    /// Bit `n` set: some identifier is `n` bytes long (bit 63: 63 or more).
    lengths: u64,
    others: Vec<String>,
}

impl Mentions {
    fn insert(&mut self, name: String) {
        let b = name.as_bytes();
        if !b.is_empty() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            self.first_bytes |= 1 << (b[0] % 64);
            self.lengths |= 1 << b.len().min(63);
            self.identifiers.insert(name);
        } else if !self.others.contains(&name) {
            self.others.push(name);
        }
    }

    fn remove(&mut self, name: &str) {
        self.identifiers.remove(name);
        self.others.retain(|n| n != name);
    }

    /// Does `text` mention one of the names?
    fn in_text(&self, text: &str) -> bool {
        let b = text.as_bytes();
        let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let mut i = 0;
        while i < b.len() {
            if !id(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && id(b[i]) {
                i += 1;
            }
            if self.first_bytes & (1 << (b[start] % 64)) != 0
                && self.lengths & (1 << (i - start).min(63)) != 0
                && self.identifiers.contains(&text[start..i])
            {
                return true;
            }
        }
        self.others.iter().any(|n| mentions(text, n))
    }
}

fn is_object_type(ty: &str) -> bool {
    let t = ty
        .trim()
        .trim_start_matches("const ")
        .trim_start_matches("struct ");
    t.starts_with("PyObject") || (t.starts_with("Py") && t.ends_with("Object"))
}

fn is_state_candidate(d: &Declaration) -> bool {
    d.has_static_storage()
        && !d.storage.is_const
        && !d.storage.thread_local
        && !d.storage.atomic
        && !d.specifiers.contains("constexpr")
        && !d.specifiers.contains("Py_TSS")
        && !capi::static_is_not_state(d.base_type())
        && !NATIVE_SYNC_TYPES.contains(&d.base_type())
        && !d.base_type().starts_with("std::atomic")
        && !d.base_type().starts_with("std::mutex")
}

/// Types of foreign library contexts that are not reentrant.
fn is_foreign_context(ty: &str) -> bool {
    let t = ty
        .trim()
        .trim_start_matches("struct ")
        .trim_end_matches('*')
        .trim();
    matches!(
        t,
        "z_stream" | "z_streamp" | "bz_stream" | "lzma_stream" | "XML_Parser" | "sqlite3" | "SSL"
    ) || t.ends_with("_CTX")
        || t.ends_with("_ctx")
        || t.ends_with("CCtx")
        || t.ends_with("DCtx")
        || t.ends_with("_CStream")
        || t.ends_with("_DStream")
        || t.starts_with("EVP_")
}

/// The declared type of `field` in struct `ty` (searched in this file).
fn field_type(s: &Scope, ty: &str, field: &str) -> Option<String> {
    let st = s
        .ctx
        .index
        .structs
        .iter()
        .find(|st| st.names.iter().any(|n| n == ty))?;
    st.fields
        .iter()
        .find(|(n, _)| n == field)
        .map(|(_, t)| t.clone())
}

/// The type a `self` name points to, for field lookups.
fn self_type(s: &Scope, f: usize, name: &str) -> Option<String> {
    let func = &s.ctx.index.functions[f];
    if let Some(p) = func.params.iter().find(|p| p.name == name) {
        return Some(
            p.ty.trim_end_matches('*')
                .trim()
                .trim_start_matches("struct ")
                .to_owned(),
        );
    }
    s.ctx
        .index
        .decls
        .iter()
        .find(|d| d.function == Some(f) && d.name == name)
        .map(|d| d.base_type().to_owned())
}

/// Is this function a candidate for per-object checks: concurrent, not a lifecycle slot.
fn object_method(s: &Scope, f: usize) -> bool {
    s.concurrent(Some(f)) && !s.lifecycle(f)
}

/// Names of structs that are Python objects: their body starts with one of the
/// catalogue's header markers (`PyObject_HEAD`, `PyObject_VAR_HEAD`) or their
/// first member is one (`ob_base`).
fn python_object_types(files: &[ProjectFile]) -> HashSet<String> {
    let mut out = HashSet::new();
    for pf in files {
        for st in &pf.index.structs {
            let text = pf.file.parse_text.get(st.range.0..st.range.1).unwrap_or("");
            let Some(open) = text.find('{') else { continue };
            let head = text[open + 1..].trim_start();
            let first_field = st.fields.first().map(|(n, _)| n.as_str());
            if capi::object_header_markers().any(|m| head.starts_with(m) || first_field == Some(m))
            {
                out.extend(st.names.iter().cloned());
            }
        }
    }
    out
}

/// How FT401–FT403 report one unsynchronised write to static storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaticWriteKind {
    /// FT402: the whole variable filled under a test of it for emptiness.
    LazyInit,
    /// FT403: a static character buffer (or other plain data) written through a call.
    ScratchBuffer,
    /// FT401: anything else. `counter` when every unsafe write of the variable in
    /// this file increments it (and it is not a pointer).
    Global { counter: bool },
}

/// One write to static storage from concurrent code, without synchronisation.
struct StaticWrite {
    /// Index into the file's [`Facts::writes`].
    write: usize,
    /// Index into the file's `FileIndex::decls`: the variable written.
    decl: usize,
    kind: StaticWriteKind,
    /// The variable holds a pointer or a Python object.
    pointerish: bool,
}

impl StaticWrite {
    /// "static local" or "static variable", for messages.
    fn storage(&self, s: &Scope) -> &'static str {
        if s.ctx.index.decls[self.decl].function.is_some() {
            "static local"
        } else {
            "static variable"
        }
    }
}

/// The unsynchronised writes to static storage of every file (empty for files where
/// none of FT401–FT403 is enabled), the first per (function, variable) only.
struct StaticWrites(Vec<Vec<StaticWrite>>);

impl StaticWrites {
    /// The project's static writes, classified on first use.
    fn of(project: &ProjectContext) -> Arc<StaticWrites> {
        project.memo.get(|| {
            let rules = [
                &GLOBAL_WRITTEN_AT_RUNTIME,
                &LAZY_INIT_AT_RUNTIME,
                &STATIC_SCRATCH_BUFFER,
            ];
            let wanted = |pf: &ProjectFile| {
                rules
                    .iter()
                    .any(|r| pf.settings.rule_enabled(r, &pf.file.path))
            };
            StaticWrites(map_files(project, wanted, static_writes))
        })
    }

    /// Runs `report` on the static writes of every file for which `rule` is enabled.
    fn report(
        project: &ProjectContext,
        rule: &Rule,
        out: &mut Vec<Diagnostic>,
        report: impl Fn(&Scope, &StaticWrite, &mut Vec<Diagnostic>) + Sync,
    ) {
        let writes = StaticWrites::of(project);
        check_files(project, rule, out, |s, out| {
            for w in &writes.0[s.fi] {
                report(s, w, out);
            }
        });
    }
}

/// Writes to static storage from concurrent code in one file, classified.
fn static_writes(s: &Scope) -> Vec<StaticWrite> {
    let idx = s.ctx.index;
    // File-scope statics by name (C++ `Foo::count` also as `count`), static locals by (function, name).
    let mut globals: HashMap<&str, usize> = HashMap::new();
    let mut locals: HashMap<(usize, &str), usize> = HashMap::new();
    for (i, d) in idx
        .decls
        .iter()
        .enumerate()
        .filter(|(_, d)| is_state_candidate(d))
    {
        let short = d.name.rsplit("::").next().unwrap_or(&d.name);
        match d.function {
            None => {
                globals.entry(short).or_insert(i);
            }
            Some(f) => {
                locals.insert((f, short), i);
            }
        }
    }
    // Variables declared thread-local, atomic or const anywhere at file scope win over a
    // plain declaration of the same name (`extern` + definition).
    for d in idx.decls.iter().filter(|d| {
        d.function.is_none() && (d.storage.thread_local || d.storage.atomic || d.storage.is_const)
    }) {
        globals.remove(d.name.as_str());
    }
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    let mut unsafe_writes: Vec<(usize, usize)> = Vec::new();
    for (wi, w) in s.facts.writes.iter().enumerate() {
        let Some(f) = w.function else { continue };
        if w.arrow && w.field.is_some() {
            continue; // `p->f`: the pointee, not the pointer variable
        }
        let decl = match locals.get(&(f, w.base.as_str())) {
            Some(d) => *d,
            None => {
                if s.shadows(f, &w.base) {
                    continue;
                }
                let Some(d) = globals.get(w.base.as_str()) else {
                    continue;
                };
                *d
            }
        };
        if !s.concurrent(Some(f))
            || !s.in_ft(w.range.0)
            || s.locked(w.range.0, false, &s.self_names(f))
        {
            continue;
        }
        unsafe_writes.push((wi, decl));
    }
    // Counters: every unsafe write increments.
    let mut non_counter: HashSet<&str> = HashSet::new();
    for (wi, di) in &unsafe_writes {
        if !matches!(
            s.facts.writes[*wi].kind,
            WriteKind::Update | WriteKind::Compound
        ) {
            non_counter.insert(idx.decls[*di].name.as_str());
        }
    }
    let mut found = Vec::new();
    for (wi, di) in unsafe_writes {
        let (w, d) = (&s.facts.writes[wi], &idx.decls[di]);
        let Some(f) = w.function else { continue };
        if !reported.insert((f, d.name.clone())) {
            continue;
        }
        let ty = d.base_type();
        // `if (x == NULL) x = ...;`, `if (!inited) { ...; inited = 1; }`: a whole-variable
        // assignment under a test of that variable for emptiness.
        let lazy = w.kind == WriteKind::Assign
            && !w.subscript
            && w.field.is_none()
            && s.facts.branches.iter().any(|b| {
                b.body.0 <= w.range.0
                    && w.range.1 <= b.body.1
                    && b.idents.iter().any(|i| i == &w.base)
                    && tests_empty(s.text(b.condition), &w.base)
            });
        let scratch = !d.is_pointer
            && ((d.is_array && (CHAR_TYPES.contains(&ty) || capi::is_character_type(ty)))
                || (!d.is_array
                    && w.kind == WriteKind::Call
                    && w.call.as_deref() != Some("memset")
                    && !is_object_type(ty)
                    && !w.call.as_deref().is_some_and(capi::replaces_reference)));
        let pointerish = d.is_pointer || is_object_type(ty);
        let kind = if lazy {
            StaticWriteKind::LazyInit
        } else if scratch {
            StaticWriteKind::ScratchBuffer
        } else {
            StaticWriteKind::Global {
                counter: !non_counter.contains(d.name.as_str()) && !pointerish,
            }
        };
        found.push(StaticWrite {
            write: wi,
            decl: di,
            kind,
            pointerish,
        });
    }
    found
}
/// Element types of character buffers in C, C++ and Windows (the C API's `Py_UCS*`
/// come from [`capi::is_character_type`]).
// native: C, C++ and Windows character types (not the C API).
const CHAR_TYPES: [&str; 9] = [
    "char",
    "wchar_t",
    "unsigned char",
    "signed char",
    "uint8_t",
    "TCHAR",
    "WCHAR",
    "char16_t",
    "char32_t",
];

/// Does `cond` test `var` for being unset: `!var`, `var == NULL`, `var == 0`, `NULL == var`?
/// (`if (x) x = 0;` resets, it does not initialise.)
fn tests_empty(cond: &str, var: &str) -> bool {
    let c: String = cond
        .chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '(' && *ch != ')')
        .collect();
    let negated = c.contains(&format!("!{var}"));
    let compared = ["==NULL", "==0", "==nullptr", "==-1", "==false", "==Py_None"]
        .iter()
        .any(|k| c.contains(&format!("{var}{k}")))
        || ["NULL==", "0==", "nullptr=="]
            .iter()
            .any(|k| c.contains(&format!("{k}{var}")));
    negated || compared
}
