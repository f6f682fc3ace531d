//! The project-wide pass: resolves calls across files and computes every function's
//! summary bottom-up (a worklist to a fixed point, so recursion and cycles
//! terminate), working only on the per-file [`FileFacts`].

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::facts::{AccessKind, Arg, Base, CallSite, FileFacts, Protection};
use super::types::TypeModel;
use crate::source::index::Range;

/// A function of the project: (file, index in that file's facts).
pub type FnId = (usize, usize);

/// An interned name (a field or struct name): see [`Summaries::name`].
pub type Sym = u32;

/// A small multiplicative hasher for the summary keys (the default SipHash was a
/// visible share of a CPython-sized run).
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxSet<T> = std::collections::HashSet<T, BuildHasherDefault<Fx>>;

/// Names interned once per run.
#[derive(Default)]
struct Interner {
    names: Vec<String>,
    ids: HashMap<String, Sym>,
}

impl Interner {
    fn get(&mut self, s: &str) -> Sym {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = self.names.len() as Sym;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), id);
        id
    }
}

/// What a summarised access starts from, resolved project-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SBase {
    Param(usize),
    This,
    /// Index into [`Summaries::globals`].
    Global(usize),
}

/// One access a function performs, directly or through the functions it calls.
#[derive(Debug, Clone)]
pub struct SAccess {
    pub base: SBase,
    /// The field's name ([`Summaries::name`]).
    pub field: Option<Sym>,
    pub kind: AccessKind,
    pub protection: Protection,
    pub lazy: bool,
    /// The struct the base points to, as the accessing function declares it
    /// ([`Summaries::name`]).
    pub struct_type: Option<Sym>,
    /// Where the access itself happens.
    pub origin: (FnId, Range),
    /// The call in this function through which it happens (`None`: directly here).
    pub via: Option<Range>,
    /// The function called there.
    pub via_callee: Option<FnId>,
}

/// A variable with static storage, merged over its declarations across files.
#[derive(Debug, Clone)]
pub struct GlobalInfo {
    pub key: String,
    /// `Some(file)` for file-local statics.
    pub file: Option<usize>,
    /// Some declaration can hold shared state and none is thread-local/atomic/const.
    pub mutable_state: bool,
    pub pointer: bool,
    /// Some header of the project declares it (so other files can name it).
    pub in_header: bool,
    /// A definition or declaration (file, range).
    pub decl: (usize, Range),
}

/// Every function's summary, the project's globals and its type model.
pub struct Summaries {
    pub files: Vec<FileFacts>,
    pub globals: Vec<GlobalInfo>,
    /// Per file, per function.
    pub summary: Vec<Vec<Vec<SAccess>>>,
    /// Per file, per function: the resolved callees of each call site (same order as
    /// `FnFacts::calls`).
    pub callees: Vec<Vec<Vec<Vec<FnId>>>>,
    pub types: TypeModel,
    /// Per file, per function: where it first checks that the current thread owns
    /// the object (`if (!pysqlite_check_thread(self)) return NULL;`, directly or
    /// through a function that does): what follows runs on the owner thread only.
    pub owner_checked_from: Vec<Vec<Option<usize>>>,
    names: Vec<String>,
}

/// Bound on the accesses kept per function (distinct keys); a function past it keeps
/// the first ones. Keeps amalgamations linear.
const MAX_ACCESSES: usize = 256;
/// Bound on how often one function is recomputed.
const MAX_ROUNDS: usize = 20;

/// What tells two summarised accesses apart: the protection only by what the rules
/// ask of it (safe for an object, safe for a global, detached), so variants that
/// differ in an irrelevant way are kept once.
type Key = (SBase, Option<Sym>, AccessKind, (bool, bool, bool), bool);

/// Per function: the interned struct each parameter points to, and its class.
type ParamSyms = (Vec<Option<Sym>>, Option<Sym>);

impl Summaries {
    pub fn build(files: Vec<FileFacts>) -> Summaries {
        // Globals: file-local by (file, key), others by key.
        let mut globals: Vec<GlobalInfo> = Vec::new();
        let mut local_ids: HashMap<(usize, String), usize> = HashMap::default();
        let mut extern_ids: HashMap<String, usize> = HashMap::default();
        for (fi, ff) in files.iter().enumerate() {
            for g in &ff.globals {
                let id = if g.file_local {
                    *local_ids.entry((fi, g.key.clone())).or_insert_with(|| {
                        globals.push(GlobalInfo {
                            key: g.key.clone(),
                            file: Some(fi),
                            mutable_state: true,
                            pointer: false,
                            in_header: false,
                            decl: (fi, g.range),
                        });
                        globals.len() - 1
                    })
                } else {
                    *extern_ids.entry(g.key.clone()).or_insert_with(|| {
                        globals.push(GlobalInfo {
                            key: g.key.clone(),
                            file: None,
                            mutable_state: true,
                            pointer: false,
                            in_header: false,
                            decl: (fi, g.range),
                        });
                        globals.len() - 1
                    })
                };
                let info = &mut globals[id];
                info.mutable_state &= !g.safe;
                info.pointer |= g.pointer;
                info.in_header |= g.in_header && !g.file_local;
            }
        }
        let resolve_global = |fi: usize, key: &str| -> Option<usize> {
            local_ids
                .get(&(fi, key.to_owned()))
                .or_else(|| extern_ids.get(key))
                .copied()
        };

        // Functions by name.
        let mut local_fns: Vec<HashMap<&str, usize>> = Vec::with_capacity(files.len());
        let mut global_fns: HashMap<&str, Vec<FnId>> = HashMap::default();
        let mut any_fns: HashMap<&str, Vec<FnId>> = HashMap::default();
        let mut methods: HashMap<&str, Vec<FnId>> = HashMap::default();
        for (fi, ff) in files.iter().enumerate() {
            let mut m = HashMap::default();
            for (i, f) in ff.functions.iter().enumerate() {
                m.entry(f.name.as_str()).or_insert(i);
                if !f.is_static {
                    global_fns.entry(f.name.as_str()).or_default().push((fi, i));
                }
                any_fns.entry(f.name.as_str()).or_default().push((fi, i));
                if f.class.is_some() {
                    let short = f.name.rsplit("::").next().unwrap_or(&f.name);
                    methods.entry(short).or_default().push((fi, i));
                }
            }
            local_fns.push(m);
        }
        let resolve = |fi: usize, c: &CallSite| -> Vec<FnId> {
            if c.receiver.is_some() {
                let Some(cands) = methods.get(c.name.as_str()) else {
                    return Vec::new();
                };
                if let Some(t) = &c.receiver_type {
                    let typed: Vec<FnId> = cands
                        .iter()
                        .copied()
                        .filter(|(f, i)| files[*f].functions[*i].class.as_deref() == Some(t))
                        .collect();
                    if !typed.is_empty() {
                        return typed;
                    }
                }
                return if cands.len() == 1 {
                    cands.clone()
                } else {
                    Vec::new()
                };
            }
            if let Some(i) = local_fns[fi].get(c.name.as_str()) {
                return vec![(fi, *i)];
            }
            if let Some(ids) = global_fns.get(c.name.as_str()) {
                return ids.clone();
            }
            match any_fns.get(c.name.as_str()) {
                Some(ids) if ids.len() == 1 => ids.clone(),
                _ => Vec::new(),
            }
        };
        let callees: Vec<Vec<Vec<Vec<FnId>>>> = files
            .iter()
            .enumerate()
            .map(|(fi, ff)| {
                ff.functions
                    .iter()
                    .map(|f| f.calls.iter().map(|c| resolve(fi, c)).collect())
                    .collect()
            })
            .collect();
        let mut callers: HashMap<FnId, Vec<FnId>> = HashMap::default();
        for (fi, per_fn) in callees.iter().enumerate() {
            for (i, sites) in per_fn.iter().enumerate() {
                for ids in sites {
                    for id in ids {
                        callers.entry(*id).or_default().push((fi, i));
                    }
                }
            }
        }

        // Ownership checks: a function that compares thread ids, or one that tests the
        // result of calling such a function; a worklist up the callers.
        let mut checker: HashSet<FnId> = HashSet::default();
        let mut work: Vec<FnId> = Vec::new();
        for (fi, ff) in files.iter().enumerate() {
            for (i, f) in ff.functions.iter().enumerate() {
                if f.checks_thread {
                    checker.insert((fi, i));
                    work.push((fi, i));
                }
            }
        }
        while let Some(id) = work.pop() {
            for c in callers.get(&id).into_iter().flatten() {
                if checker.contains(c) {
                    continue;
                }
                let f = &files[c.0].functions[c.1];
                let tests_it = f
                    .calls
                    .iter()
                    .enumerate()
                    .any(|(ci, site)| site.in_condition && callees[c.0][c.1][ci].contains(&id));
                if tests_it {
                    checker.insert(*c);
                    work.push(*c);
                }
            }
        }
        let owner_checked_from: Vec<Vec<Option<usize>>> = files
            .iter()
            .enumerate()
            .map(|(fi, ff)| {
                ff.functions
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        f.calls
                            .iter()
                            .enumerate()
                            .filter(|(ci, site)| {
                                site.in_condition
                                    && callees[fi][i][*ci].iter().any(|c| checker.contains(c))
                            })
                            .map(|(_, site)| site.range.1)
                            .min()
                    })
                    .collect()
            })
            .collect();
        let mut interner = Interner::default();
        // Per function: the struct each parameter points to, and its class.
        let param_syms: Vec<Vec<ParamSyms>> = files
            .iter()
            .map(|ff| {
                ff.functions
                    .iter()
                    .map(|f| {
                        let params = f
                            .param_types
                            .iter()
                            .map(|t| t.as_deref().map(|t| interner.get(t)))
                            .collect();
                        (params, f.class.as_deref().map(|c| interner.get(c)))
                    })
                    .collect()
            })
            .collect();
        let sbase = |fi: usize, b: &Base| -> Option<SBase> {
            Some(match b {
                Base::Param(i) => SBase::Param(*i),
                Base::This => SBase::This,
                Base::Global(k) => SBase::Global(resolve_global(fi, k)?),
            })
        };
        let struct_of = |fi: usize, i: usize, b: &SBase| -> Option<Sym> {
            let (params, class) = &param_syms[fi][i];
            match b {
                SBase::Param(p) => params.get(*p).copied().flatten(),
                SBase::This => *class,
                SBase::Global(_) => None,
            }
        };

        // Direct accesses.
        let mut summary: Vec<Vec<Vec<SAccess>>> = Vec::with_capacity(files.len());
        for (fi, ff) in files.iter().enumerate() {
            let mut per_fn = Vec::with_capacity(ff.functions.len());
            for (i, f) in ff.functions.iter().enumerate() {
                let list: Vec<SAccess> = f
                    .accesses
                    .iter()
                    .filter(|a| {
                        // After an ownership check only the owner thread runs.
                        owner_checked_from[fi][i].is_none_or(|from: usize| a.range.0 < from)
                    })
                    .filter_map(|a| {
                        let base = sbase(fi, &a.base)?;
                        Some(SAccess {
                            struct_type: struct_of(fi, i, &base),
                            base,
                            field: a.field.as_deref().map(|n| interner.get(n)),
                            kind: a.kind,
                            protection: a.protection,
                            lazy: a.lazy,
                            origin: ((fi, i), a.range),
                            via: None,
                            via_callee: None,
                        })
                    })
                    .take(MAX_ACCESSES)
                    .collect();
                per_fn.push(list);
            }
            summary.push(per_fn);
        }
        let mut keys: Vec<Vec<FxSet<Key>>> = summary
            .iter()
            .map(|per_fn| {
                per_fn
                    .iter()
                    .map(|list| list.iter().map(key).collect())
                    .collect()
            })
            .collect();
        // Per call edge, how much of the callee's summary this caller has taken in:
        // summaries only grow, so a recomputation looks at the new part only.
        let mut taken: Vec<Vec<Vec<Vec<usize>>>> = callees
            .iter()
            .map(|per_fn| {
                per_fn
                    .iter()
                    .map(|sites| sites.iter().map(|c| vec![0; c.len()]).collect())
                    .collect()
            })
            .collect();

        // Field names that calls pass (`resize(self->buf)`), interned up front so the
        // fixed point only reads the interner.
        for ff in &files {
            for f in &ff.functions {
                for c in &f.calls {
                    for a in c.args.iter().chain(c.receiver.iter()) {
                        if let Arg::Field(_, name) = a {
                            interner.get(name);
                        }
                    }
                }
            }
        }
        let interner = interner;
        let field_sym = |n: &str| interner.ids.get(n).copied();
        // Bottom-up to a fixed point: a function is recomputed when a callee grew.
        let mut work: Vec<FnId> = Vec::new();
        for (fi, ff) in files.iter().enumerate() {
            for i in (0..ff.functions.len()).rev() {
                work.push((fi, i));
            }
        }
        let mut rounds: HashMap<FnId, usize> = HashMap::default();
        let mut queued: HashSet<FnId> = work.iter().copied().collect();
        while let Some(id) = work.pop() {
            queued.remove(&id);
            let r = rounds.entry(id).or_default();
            if *r >= MAX_ROUNDS {
                continue;
            }
            *r += 1;
            let (fi, i) = id;
            let f = &files[fi].functions[i];
            let mut added: Vec<SAccess> = Vec::new();
            let my_keys = &mut keys[fi][i];
            for (ci, site) in f.calls.iter().enumerate() {
                if owner_checked_from[fi][i].is_some_and(|from| site.range.0 >= from) {
                    continue;
                }
                for (k, callee) in callees[fi][i][ci].iter().enumerate() {
                    let from = taken[fi][i][ci][k];
                    let theirs = &summary[callee.0][callee.1];
                    taken[fi][i][ci][k] = theirs.len();
                    for a in &theirs[from.min(theirs.len())..] {
                        if my_keys.len() >= MAX_ACCESSES {
                            break;
                        }
                        let Some(s) = substitute(fi, i, site, a, &sbase, &struct_of, &field_sym)
                        else {
                            continue;
                        };
                        let s = SAccess {
                            via: Some(site.range),
                            via_callee: Some(*callee),
                            ..s
                        };
                        if my_keys.insert(key(&s)) {
                            added.push(s);
                        }
                    }
                }
            }
            if added.is_empty() {
                continue;
            }
            summary[fi][i].extend(added);
            for c in callers.get(&id).into_iter().flatten() {
                if queued.insert(*c) {
                    work.push(*c);
                }
            }
        }
        let types = TypeModel::build(&files);
        Summaries {
            files,
            globals,
            summary,
            callees,
            types,
            owner_checked_from,
            names: interner.names,
        }
    }

    /// The text of an interned name.
    pub fn name(&self, s: Sym) -> &str {
        self.names.get(s as usize).map(String::as_str).unwrap_or("")
    }

    pub fn of(&self, id: FnId) -> &[SAccess] {
        self.summary
            .get(id.0)
            .and_then(|f| f.get(id.1))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn function(&self, id: FnId) -> &super::facts::FnFacts {
        &self.files[id.0].functions[id.1]
    }
}

fn key(a: &SAccess) -> Key {
    let p = a.protection;
    (
        a.base,
        a.field,
        a.kind,
        (p.protects_object(), p.protects_global(), p.detached),
        a.lazy,
    )
}

/// The callee's access `a` as the caller sees it through `site`, or `None` when it
/// touches nothing the caller shares (a fresh object, a local, an expression).
fn substitute(
    fi: usize,
    i: usize,
    site: &CallSite,
    a: &SAccess,
    sbase: &impl Fn(usize, &Base) -> Option<SBase>,
    struct_of: &impl Fn(usize, usize, &SBase) -> Option<Sym>,
    field_sym: &impl Fn(&str) -> Option<Sym>,
) -> Option<SAccess> {
    let arg = match &a.base {
        // A global is reported in the function that names it, or that hands its
        // address to the helper changing it (that function runs on every thread its
        // callers run on): it does not travel further up.
        SBase::Global(_) => return None,
        SBase::Param(p) => site.args.get(*p)?,
        SBase::This => site.receiver.as_ref()?,
    };
    let (base, field, kind, struct_type) = match arg {
        Arg::Base(b) => {
            let b = sbase(fi, b)?;
            let st = struct_of(fi, i, &b).or(a.struct_type);
            // A helper handing a field on is, to its callers, a read of it.
            let kind = if a.kind == AccessKind::Pass {
                AccessKind::Read
            } else {
                a.kind
            };
            (b, a.field, kind, st)
        }
        Arg::Field(b, f) => {
            let b = sbase(fi, b)?;
            // The callee works on what the field holds: its changes mutate that.
            let kind = if a.field.is_none() {
                a.kind
            } else if a.kind.changes() {
                AccessKind::Mutate
            } else {
                AccessKind::Read
            };
            let st = struct_of(fi, i, &b);
            (b, Some(field_sym(f)?), kind, st)
        }
        Arg::Fresh | Arg::Other => return None,
    };
    // Loads of globals matter to no rule: a helper reading through `&global` adds nothing.
    if matches!(base, SBase::Global(_)) && !kind.changes() {
        return None;
    }
    Some(SAccess {
        base,
        field,
        kind,
        protection: a.protection.union(site.protection),
        lazy: a.lazy,
        struct_type,
        origin: a.origin,
        via: a.via,
        via_callee: a.via_callee,
    })
}
