//! The project call graph: which functions run concurrently and which run once,
//! and the [`EntryMap`] that records it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::facts::{Facts, GuardKind, Write, WriteKind};
use super::{is_lifecycle_slot, Role, LIFECYCLE_SLOTS};
use crate::capi;
use crate::source::index::FileIndex;
use crate::source::ParsedFile;

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

/// Per-file facts, owned or borrowed, indexed as `facts[fi]`.
struct FactsOf<'a, F>(&'a [F]);

impl<F: std::borrow::Borrow<Facts>> std::ops::Index<usize> for FactsOf<'_, F> {
    type Output = Facts;
    fn index(&self, i: usize) -> &Facts {
        self.0[i].borrow()
    }
}

/// Builds the call graph over all `files` and classifies every function.
pub fn classify<P: std::ops::Deref<Target = ParsedFile>, F: std::borrow::Borrow<Facts>>(
    files: &[P],
    facts: &[F],
) -> EntryMap {
    let facts = FactsOf(facts);
    // Flatten (file, function) into ids.
    let mut base = Vec::with_capacity(files.len());
    let mut total = 0;
    for pf in files {
        base.push(total);
        total += pf.index.functions.len();
    }
    let mut global: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut local: Vec<HashMap<&str, [usize; 1]>> = Vec::with_capacity(files.len());
    for (fi, pf) in files.iter().enumerate() {
        let mut m = HashMap::default();
        for (i, f) in pf.index.functions.iter().enumerate() {
            m.entry(f.name.as_str()).or_insert([base[fi] + i]);
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
    let mut any: HashMap<&str, Vec<usize>> = HashMap::default();
    for (fi, pf) in files.iter().enumerate() {
        for (i, f) in pf.index.functions.iter().enumerate() {
            any.entry(f.name.as_str()).or_default().push(base[fi] + i);
        }
    }
    // The definitions a name used in file `fi` may be (borrowed: asked once per
    // call of the project, most of them to functions defined nowhere in it).
    let resolve = |fi: usize, name: &str| -> &[usize] {
        if let Some(id) = local[fi].get(name) {
            return id;
        }
        if let Some(ids) = global.get(name) {
            return ids;
        }
        match any.get(name) {
            Some(ids) if ids.len() == 1 => ids,
            _ => &[],
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
            let ids = resolve(fi, &c.name);
            if ids.is_empty() {
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
            for &id in ids {
                callers[id].push(base[fi] + caller);
                callees[base[fi] + caller].push(id);
                sites[id].push((base[fi] + caller, guard));
            }
        }
    }

    let mut once_roots: Vec<usize> = Vec::new();
    let mut runtime_roots: HashSet<usize> = HashSet::default();
    let mut lifecycle: Vec<HashSet<usize>> = vec![HashSet::default(); files.len()];
    let mut entry_points: Vec<HashSet<usize>> = vec![HashSet::default(); files.len()];
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
            for &id in ids {
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
    let mut once: HashSet<usize> = HashSet::default();
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
    let mut unreached = vec![HashSet::default(); files.len()];
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
        let mut v = vec![HashSet::default(); files.len()];
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
/// call reads its function's, not the whole file's (quadratic on large files);
/// and, per function, once, the locals holding fresh objects (asked per call).
struct Locals<'a> {
    decls: Vec<Vec<&'a crate::source::index::Declaration>>,
    writes: Vec<Vec<&'a Write>>,
    fresh: Vec<std::cell::OnceCell<FreshLocals<'a>>>,
}

/// The locals of one function that hold a freshly allocated object: declared with
/// an allocating initializer, or assigned one (the end of the first such assignment).
#[derive(Default)]
struct FreshLocals<'a> {
    declared: HashSet<&'a str>,
    assigned: HashMap<&'a str, usize>,
}

impl<'a> Locals<'a> {
    fn of(pf: &'a ParsedFile, facts: &'a Facts) -> Self {
        let n = pf.index.functions.len();
        let mut l = Locals {
            decls: vec![Vec::new(); n],
            writes: vec![Vec::new(); n],
            fresh: (0..n).map(|_| std::cell::OnceCell::new()).collect(),
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

    fn fresh_in(&self, pf: &'a ParsedFile, f: usize) -> Option<&FreshLocals<'a>> {
        let cell = self.fresh.get(f)?;
        Some(cell.get_or_init(|| {
            let fresh = |t: &str| ALLOCATORS.iter().any(|k| t.contains(k));
            let mut out = FreshLocals::default();
            for d in &self.decls[f] {
                if d.init.as_ref().and_then(|i| i.expr()).is_some_and(fresh) {
                    out.declared.insert(d.name.as_str());
                }
            }
            for w in &self.writes[f] {
                if w.field.is_none()
                    && w.kind == WriteKind::Assign
                    && pf
                        .file
                        .parse_text
                        .get(w.range.0..w.range.1)
                        .is_some_and(fresh)
                {
                    let end = out.assigned.entry(w.base.as_str()).or_insert(w.range.1);
                    *end = (*end).min(w.range.1);
                }
            }
            out
        }))
    }
}

fn first_arg_is_fresh<'a>(
    pf: &'a ParsedFile,
    locals: &Locals<'a>,
    c: &crate::source::index::Call,
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
    let Some(fresh) = locals.fresh_in(pf, caller) else {
        return false;
    };
    fresh.declared.contains(name)
        || fresh
            .assigned
            .get(name)
            .is_some_and(|&end| end <= c.range.0)
}
