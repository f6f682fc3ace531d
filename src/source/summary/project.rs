//! The project-wide pass: resolves calls across files and computes every function's
//! summary bottom-up (a worklist to a fixed point, so recursion and cycles
//! terminate), working only on the per-file [`FileFacts`].

use std::collections::{HashMap, HashSet};

use super::facts::{AccessKind, Arg, Base, CallSite, FileFacts, Protection};
use super::types::TypeModel;
use crate::source::index::Range;

/// A function of the project: (file, index in that file's facts).
pub type FnId = (usize, usize);

/// What a summarised access starts from, resolved project-wide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    pub field: Option<String>,
    pub kind: AccessKind,
    pub protection: Protection,
    pub lazy: bool,
    /// The struct the base points to, as the accessing function declares it.
    pub struct_type: Option<String>,
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
}

/// Bound on the accesses kept per function (distinct keys); a function past it keeps
/// the first ones. Keeps amalgamations linear.
const MAX_ACCESSES: usize = 400;
/// Bound on how often one function is recomputed.
const MAX_ROUNDS: usize = 20;

type Key = (SBase, Option<String>, AccessKind, Protection, bool);

impl Summaries {
    pub fn build(files: Vec<FileFacts>) -> Summaries {
        // Globals: file-local by (file, key), others by key.
        let mut globals: Vec<GlobalInfo> = Vec::new();
        let mut local_ids: HashMap<(usize, String), usize> = HashMap::new();
        let mut extern_ids: HashMap<String, usize> = HashMap::new();
        for (fi, ff) in files.iter().enumerate() {
            for g in &ff.globals {
                let id = if g.file_local {
                    *local_ids.entry((fi, g.key.clone())).or_insert_with(|| {
                        globals.push(GlobalInfo {
                            key: g.key.clone(),
                            file: Some(fi),
                            mutable_state: true,
                            pointer: false,
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
                            decl: (fi, g.range),
                        });
                        globals.len() - 1
                    })
                };
                let info = &mut globals[id];
                info.mutable_state &= !g.safe;
                info.pointer |= g.pointer;
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
        let mut global_fns: HashMap<&str, Vec<FnId>> = HashMap::new();
        let mut any_fns: HashMap<&str, Vec<FnId>> = HashMap::new();
        let mut methods: HashMap<&str, Vec<FnId>> = HashMap::new();
        for (fi, ff) in files.iter().enumerate() {
            let mut m = HashMap::new();
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
                return if cands.len() == 1 { cands.clone() } else { Vec::new() };
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
        let mut callers: HashMap<FnId, Vec<FnId>> = HashMap::new();
        for (fi, per_fn) in callees.iter().enumerate() {
            for (i, sites) in per_fn.iter().enumerate() {
                for ids in sites {
                    for id in ids {
                        callers.entry(*id).or_default().push((fi, i));
                    }
                }
            }
        }

        let sbase = |fi: usize, b: &Base| -> Option<SBase> {
            Some(match b {
                Base::Param(i) => SBase::Param(*i),
                Base::This => SBase::This,
                Base::Global(k) => SBase::Global(resolve_global(fi, k)?),
            })
        };
        let struct_of = |fi: usize, i: usize, b: &SBase| -> Option<String> {
            let f = &files[fi].functions[i];
            match b {
                SBase::Param(p) => f.param_types.get(*p).cloned().flatten(),
                SBase::This => f.class.clone(),
                SBase::Global(_) => None,
            }
        };

        // Direct accesses.
        let mut summary: Vec<Vec<Vec<SAccess>>> = files
            .iter()
            .enumerate()
            .map(|(fi, ff)| {
                ff.functions
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        f.accesses
                            .iter()
                            .filter_map(|a| {
                                let base = sbase(fi, &a.base)?;
                                Some(SAccess {
                                    struct_type: struct_of(fi, i, &base),
                                    base,
                                    field: a.field.clone(),
                                    kind: a.kind,
                                    protection: a.protection,
                                    lazy: a.lazy,
                                    origin: ((fi, i), a.range),
                                    via: None,
                                    via_callee: None,
                                })
                            })
                            .take(MAX_ACCESSES)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut keys: HashMap<FnId, HashSet<Key>> = HashMap::new();
        for (fi, per_fn) in summary.iter().enumerate() {
            for (i, list) in per_fn.iter().enumerate() {
                keys.insert((fi, i), list.iter().map(key).collect());
            }
        }

        // Bottom-up to a fixed point: a function is recomputed when a callee grew.
        let mut work: Vec<FnId> = Vec::new();
        for (fi, ff) in files.iter().enumerate() {
            for i in (0..ff.functions.len()).rev() {
                work.push((fi, i));
            }
        }
        let mut rounds: HashMap<FnId, usize> = HashMap::new();
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
            let my_keys = keys.entry(id).or_default();
            for (ci, site) in f.calls.iter().enumerate() {
                for callee in &callees[fi][i][ci] {
                    for a in &summary[callee.0][callee.1] {
                        if my_keys.len() + added.len() >= MAX_ACCESSES {
                            break;
                        }
                        let Some(s) = substitute(fi, i, site, a, &sbase, &struct_of) else {
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
        // Ownership checks: a function that compares thread ids, or one that tests the
        // result of calling such a function; a worklist up the callers.
        let mut checker: HashSet<FnId> = HashSet::new();
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
                let tests_it = f.calls.iter().enumerate().any(|(ci, site)| {
                    site.in_condition && callees[c.0][c.1][ci].contains(&id)
                });
                if tests_it {
                    checker.insert(*c);
                    work.push(*c);
                }
            }
        }
        let owner_checked_from = files
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
        Summaries {
            files,
            globals,
            summary,
            callees,
            types,
            owner_checked_from,
        }
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
    (
        a.base.clone(),
        a.field.clone(),
        a.kind,
        a.protection,
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
    struct_of: &impl Fn(usize, usize, &SBase) -> Option<String>,
) -> Option<SAccess> {
    let arg = match &a.base {
        SBase::Global(_) => {
            return Some(SAccess {
                protection: a.protection.union(site.protection),
                ..a.clone()
            })
        }
        SBase::Param(p) => site.args.get(*p)?,
        SBase::This => site.receiver.as_ref()?,
    };
    let (base, field, kind, struct_type) = match arg {
        Arg::Base(b) => {
            let b = sbase(fi, b)?;
            let st = struct_of(fi, i, &b).or_else(|| a.struct_type.clone());
            (b, a.field.clone(), a.kind, st)
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
            (b, Some(f.clone()), kind, st)
        }
        Arg::Fresh | Arg::Other => return None,
    };
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
