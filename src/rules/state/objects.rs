//! What FT401 (through calls), FT406, FT409, FT410 and FT411 share: the project's
//! function summaries ([`Summaries`]) built once per run, and the per-object
//! questions asked of them (which functions touch which field of which object
//! struct, and which of those are the conflicting side of a race).
//!
//! The unit reported is the function a porter fixes: an entry point (method, slot,
//! getter, callback) or a function nothing in the project calls. A helper's
//! accesses are reported at the call in each such function that reaches it
//! unprotected, with the helper's own line as a related location.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::{is_foreign_context, StateAnalysis};
use crate::context::{ProjectContext, ProjectFile};
use crate::diagnostic::{Confidence, DeferredFix, Diagnostic, FixRequest, Related, Severity};
use crate::rule::Rule;
use crate::source::entry::Role;
use crate::source::index::Range;
use crate::source::preproc::BuildConfig;
use crate::source::summary::{AccessKind, FileFacts, FnId, SAccess, SBase, Summaries, Sym};

/// The project's summaries, built once per run.
pub(crate) struct SharedState {
    pub(crate) summaries: Summaries,
    /// Object struct → field → (type, pointer or array).
    fields: HashMap<String, HashMap<String, (String, bool)>>,
    /// Per (struct, field): every (function, access index) that touches it from a
    /// function that can run concurrently outside lifecycle code.
    touches: HashMap<Key, Vec<(FnId, usize)>>,
    /// Interned names of the Python object structs.
    python_object_syms: HashSet<Sym>,
    /// [`SharedState::field_is_exempt`] of every key an access has, answered once
    /// (each rule asks it of every access of every reported function).
    exempt: HashMap<Key, bool>,
    /// Per file, the free-threaded builds its settings target.
    pub(crate) configs: Vec<std::sync::Arc<[BuildConfig]>>,
}

/// (object struct, field), interned.
pub(crate) type Key = (Sym, Sym);

impl SharedState {
    pub(crate) fn of(project: &ProjectContext) -> Arc<SharedState> {
        project.memo.get(|| {
            let analysis = StateAnalysis::of(project);
            let facts: Vec<FileFacts> = project
                .files
                .par_iter()
                .map(|pf| FileFacts::extract(pf, super::entry_facts(pf)))
                .collect();
            let summaries = Summaries::build(facts);
            let mut fields: HashMap<String, HashMap<String, (String, bool)>> = HashMap::default();
            let mut python_objects = HashSet::default();
            for ff in &summaries.files {
                for st in &ff.structs {
                    for n in &st.names {
                        let m = fields.entry(n.clone()).or_default();
                        for (f, t, p) in &st.fields {
                            m.entry(f.clone()).or_insert((t.clone(), *p));
                        }
                        if st.python_object {
                            python_objects.insert(n.clone());
                        }
                    }
                }
            }
            // Every interned name that is a Python object struct (by marker or by the
            // `...Object` naming convention).
            let mut python_object_syms = HashSet::default();
            let mut sym = 0;
            loop {
                let n = summaries.name(sym);
                if n.is_empty() {
                    break;
                }
                if python_objects.contains(n)
                    || (n.ends_with("Object") && n != "PyObject" && n != "PyTypeObject")
                {
                    python_object_syms.insert(sym);
                }
                sym += 1;
            }
            let mut s = SharedState {
                summaries,
                fields,
                touches: HashMap::default(),
                python_object_syms,
                exempt: HashMap::default(),
                configs: project
                    .files
                    .iter()
                    .map(|pf| pf.context().ft_configs())
                    .collect(),
            };
            let entries = analysis.entries();
            let mut touches: HashMap<Key, Vec<(FnId, usize)>> = HashMap::default();
            for (fi, per_fn) in s.summaries.summary.iter().enumerate() {
                for (i, list) in per_fn.iter().enumerate() {
                    // The functions a porter fixes (entry points, or what nothing calls):
                    // a helper's accesses show through them.
                    if entries.role(fi, Some(i)) != Role::Concurrent
                        || entries.lifecycle[fi].contains(&i)
                        || !(entries.entry_points[fi].contains(&i)
                            || entries.unreached[fi].contains(&i))
                    {
                        continue;
                    }
                    let from = s.summaries.owner_checked_from[fi][i];
                    for (ai, a) in list.iter().enumerate() {
                        if from.is_some_and(|from| site(a).0 >= from) {
                            continue;
                        }
                        if let Some(k) = s.object_key(a) {
                            touches.entry(k).or_default().push(((fi, i), ai));
                        }
                    }
                }
            }
            s.touches = touches;
            let mut exempt = HashMap::default();
            for a in s.summaries.summary.iter().flatten().flatten() {
                if let Some(k) = s.object_key(a) {
                    exempt
                        .entry(k)
                        .or_insert_with(|| s.compute_field_is_exempt(k));
                }
            }
            s.exempt = exempt;
            s
        })
    }

    /// (object struct, field) for an access to per-object state of a Python object.
    pub(crate) fn object_key(&self, a: &SAccess) -> Option<Key> {
        if matches!(a.base, SBase::Global(_)) {
            return None;
        }
        let st = a.struct_type?;
        let field = a.field?;
        if !self.python_object_syms.contains(&st) {
            return None;
        }
        Some((st, field))
    }

    /// The struct and field names of a key.
    pub(crate) fn names(&self, k: Key) -> (&str, &str) {
        (self.summaries.name(k.0), self.summaries.name(k.1))
    }

    /// The declared type of a field and whether it is a pointer or array.
    pub(crate) fn field(&self, st: &str, field: &str) -> Option<&(String, bool)> {
        self.fields.get(st)?.get(field)
    }

    /// Fields that need no lock: atomics, locks, and library contexts FT407 covers.
    pub(crate) fn field_is_exempt(&self, key: Key) -> bool {
        match self.exempt.get(&key) {
            Some(&known) => known,
            None => self.compute_field_is_exempt(key),
        }
    }

    fn compute_field_is_exempt(&self, key: Key) -> bool {
        let (st, field) = self.names(key);
        self.field(st, field).is_some_and(|(t, _)| {
            t.contains("atomic")
                || crate::capi::is_pymutex_type(t)
                || is_foreign_context(t)
                || t.contains("mutex")
                || t.contains("once_flag")
        })
    }

    /// Other functions touching the same field, with their access.
    pub(crate) fn others<'s>(
        &'s self,
        key: &Key,
        me: FnId,
    ) -> impl Iterator<Item = (FnId, &'s SAccess)> + 's {
        self.touches
            .get(key)
            .into_iter()
            .flatten()
            .filter(move |(id, _)| *id != me)
            .map(|(id, ai)| (*id, &self.summaries.summary[id.0][id.1][*ai]))
    }

    pub(crate) fn fn_name(&self, id: FnId) -> &str {
        &self.summaries.function(id).name
    }
}

/// The functions reported: concurrent, not lifecycle, not run only under a caller's
/// lock, and an entry point or a function nothing calls (helpers are reported
/// through their callers).
pub(crate) fn reported_functions(
    project: &ProjectContext,
    rule: &'static Rule,
    objects: bool,
) -> Vec<(usize, usize)> {
    let analysis = StateAnalysis::of(project);
    let e = analysis.entries();
    let mut out = Vec::new();
    for (fi, pf) in project.files.iter().enumerate() {
        if !pf.settings.rule_enabled(rule, &pf.file.path) {
            continue;
        }
        for i in 0..pf.index.functions.len() {
            if e.role(fi, Some(i)) != Role::Concurrent {
                continue;
            }
            if objects && e.lifecycle[fi].contains(&i) {
                continue;
            }
            let guarded = if objects {
                &e.guarded[fi]
            } else {
                &e.guarded_by_mutex[fi]
            };
            if guarded.contains(&i) {
                continue;
            }
            if !(e.entry_points[fi].contains(&i) || e.unreached[fi].contains(&i)) {
                continue;
            }
            out.push((fi, i));
        }
    }
    out
}

/// Is this per-object access in a type the project confines to one thread?
pub(crate) fn confined(s: &SharedState, pf: &ProjectFile, st: &str) -> bool {
    let names = &pf.settings.thread_confined_types;
    !names.is_empty() && s.summaries.types.struct_named(st, names)
}

/// Compiled in some free-threaded build (`configs`: the file's, see [`SharedState::configs`]).
pub(crate) fn in_ft(pf: &ProjectFile, configs: &[BuildConfig], off: usize) -> bool {
    let c = pf.file.condition_at(off);
    configs.iter().any(|cfg| c.eval(cfg).maybe())
}

pub(crate) fn confidence(project: &ProjectContext, id: FnId) -> Confidence {
    let analysis = StateAnalysis::of(project);
    if analysis.entries().unreached[id.0].contains(&id.1) {
        Confidence::Likely
    } else {
        Confidence::Certain
    }
}

/// A related location at `range` of file `fi`.
pub(crate) fn related(project: &ProjectContext, fi: usize, range: Range, msg: String) -> Related {
    let pf = &project.files[fi];
    Related {
        path: pf.file.path.clone(),
        span: Some(pf.file.span(range.0, range.1)),
        message: msg,
    }
}

/// Where a summarised access shows in the reported function: the call it comes
/// through, or the access itself.
pub(crate) fn site(a: &SAccess) -> Range {
    a.via.unwrap_or(a.origin.1)
}

/// "through `resize`" for an access reached by a call, empty for a direct one.
pub(crate) fn through(s: &SharedState, a: &SAccess) -> String {
    match a.via_callee {
        Some(c) => format!(" through `{}`", s.fn_name(c)),
        None => String::new(),
    }
}

/// The related locations of a finding: where a helper does it, and one conflicting
/// function.
pub(crate) fn notes(
    project: &ProjectContext,
    s: &SharedState,
    a: &SAccess,
    conflict: Option<(FnId, &SAccess)>,
    conflict_msg: impl Fn(&str, &SAccess) -> String,
) -> Vec<Related> {
    let mut v = Vec::new();
    if a.via.is_some() {
        let (origin, range) = a.origin;
        v.push(related(
            project,
            origin.0,
            range,
            format!("`{}` {} it here", s.fn_name(origin), a.kind.verb()),
        ));
    }
    if let Some((id, other)) = conflict {
        v.push(related(
            project,
            id.0,
            site(other),
            conflict_msg(s.fn_name(id), other),
        ));
    }
    v
}

/// Adds the related locations and the per-object severity policy to a finding.
pub(crate) fn finish(
    d: Diagnostic,
    related: Vec<Related>,
    pf: &ProjectFile,
    severity: Severity,
    confidence: Confidence,
) -> Diagnostic {
    let mut d = d
        .with_severity(if pf.settings.objects_shared_between_threads {
            severity
        } else {
            Severity::Info
        })
        .with_confidence(confidence);
    for r in related {
        d = d.with_related(r);
    }
    d
}

/// Does this function change `key` itself (unprotected or not)?
pub(crate) fn changes_itself(s: &SharedState, list: &[SAccess], key: &Key) -> bool {
    list.iter()
        .any(|a| a.kind.changes() && s.object_key(a).as_ref() == Some(key))
}

/// Per-object accesses of a reported function that matter: on a Python object's
/// field, not exempt by the field's type, not in a thread-confined type, compiled
/// in a free-threaded build.
pub(crate) fn object_accesses<'s>(
    s: &'s SharedState,
    pf: &'s ProjectFile,
    id: FnId,
) -> impl Iterator<Item = (&'s SAccess, Key)> + 's {
    // In the order they appear in the function, so a finding points at the first.
    let mut list: Vec<&SAccess> = s.summaries.of(id).iter().collect();
    list.sort_by_key(|a| (site(a).0, rank(a.kind)));
    list.into_iter().filter_map(move |a| {
        let key = s.object_key(a)?;
        if s.field_is_exempt(key) || confined(s, pf, s.names(key).0) {
            return None;
        }
        if !in_ft(pf, &s.configs[id.0], site(a).0) {
            return None;
        }
        // After a check that this thread owns the object, nothing else runs on it.
        if s.summaries.owner_checked_from[id.0][id.1].is_some_and(|from| site(a).0 >= from) {
            return None;
        }
        Some((a, key))
    })
}

/// Pointer-like: a declared pointer or array, or an object reference.
pub(crate) fn pointer_field(s: &SharedState, key: &Key) -> bool {
    let (st, field) = s.names(*key);
    s.field(st, field)
        .is_some_and(|(t, p)| *p || super::is_object_type(t))
}

/// The kinds that leave another thread's plain read of the field wrong.
pub(crate) fn conflicting_change(k: AccessKind) -> bool {
    k.changes()
}

/// FT401 through the summaries: globals (file scope, `extern` of another file,
/// class statics, static locals of singleton accessors) changed by a concurrent
/// function through a helper that writes what a parameter points to
/// (`arena_alloc(&default_arena)`), by C++ container mutators
/// (`registry().types.emplace(...)`, `Tracker::instances.push_back(this)`), or
/// directly when the global is declared in another file. Direct writes of a
/// global declared in the same file are the classic FT401 check's.
pub(crate) fn global_findings(
    project: &ProjectContext,
    rule: &'static Rule,
    out: &mut Vec<Diagnostic>,
) {
    let s = SharedState::of(project);
    let analysis = StateAnalysis::of(project);
    let e = analysis.entries();
    let sum = &s.summaries;
    // Every concurrent function's changes of each global, for the conflicting side.
    let mut touches: HashMap<usize, Vec<(FnId, usize)>> = HashMap::default();
    for (fi, per_fn) in sum.summary.iter().enumerate() {
        for (i, list) in per_fn.iter().enumerate() {
            if e.role(fi, Some(i)) != Role::Concurrent {
                continue;
            }
            for (ai, a) in list.iter().enumerate() {
                if let (SBase::Global(g), true) = (&a.base, a.kind.changes()) {
                    touches.entry(*g).or_default().push(((fi, i), ai));
                }
            }
        }
    }
    for (fi, pf) in project.files.iter().enumerate() {
        if !pf.settings.rule_enabled(rule, &pf.file.path) {
            continue;
        }
        let ff = &sum.files[fi];
        for i in 0..ff.functions.len() {
            if e.role(fi, Some(i)) != Role::Concurrent || e.guarded_by_mutex[fi].contains(&i) {
                continue;
            }
            let id = (fi, i);
            let mut list: Vec<&SAccess> = sum.of(id).iter().collect();
            list.sort_by_key(|a| (site(a).0, rank(a.kind)));
            let found = list.into_iter().find(|a| {
                let SBase::Global(g) = a.base else {
                    return false;
                };
                let info = &sum.globals[g];
                if !info.mutable_state || !a.kind.changes() || a.protection.protects_global() {
                    return false;
                }
                // A name this file does not declare is a global only when a header of
                // the project declares it (else it is a local the parser could not see:
                // code fragments included into another function).
                if !info.in_header && !ff.globals.iter().any(|v| v.key == info.key) {
                    return false;
                }
                if !in_ft(pf, &s.configs[fi], site(a).0) {
                    return false;
                }
                match a.via_callee {
                    // Through a helper that only saw a parameter: reported in the
                    // function handing the global over (it runs concurrently).
                    Some(_) => {
                        let (oid, orange) = a.origin;
                        sum.function(oid)
                            .accesses
                            .iter()
                            .find(|x| x.range == orange)
                            .is_some_and(|x| {
                                !matches!(x.base, crate::source::summary::Base::Global(_))
                            })
                    }
                    None => {
                        let container = ff.functions[i]
                            .calls
                            .iter()
                            .any(|c| c.range == a.origin.1 && c.receiver.is_some());
                        let elsewhere = !ff.globals.iter().any(|v| v.key == info.key);
                        container || elsewhere
                    }
                }
            });
            let Some(a) = found else { continue };
            let SBase::Global(g) = a.base else { continue };
            let info = &sum.globals[g];
            let short = info.key.rsplit("::").next().unwrap_or(&info.key);
            let name = match info.key.rsplit_once("::") {
                Some((owner, var)) if info.file.is_some() => format!("{var}` of `{owner}()"),
                _ => short.to_owned(),
            };
            let what = match (a.field, a.kind) {
                (_, AccessKind::Mutate) => "mutates".to_owned(),
                (Some(f), k) => format!("{} the field `{}` of", k.verb(), sum.name(f)),
                (None, k) => k.verb().to_owned(),
            };
            let candidates = || {
                touches
                    .get(&g)
                    .into_iter()
                    .flatten()
                    .filter(|(oid, _)| *oid != id)
                    .map(|(oid, ai)| (*oid, &sum.summary[oid.0][oid.1][*ai]))
            };
            let conflict = candidates()
                .find(|(_, o)| !o.protection.protects_global())
                .or_else(|| candidates().next());
            let notes = notes(project, &s, a, conflict, |f, o| {
                format!("`{f}` {} `{name}` too", o.kind.verb())
            });
            let kind = if info.file.is_some() && info.key.contains("::") {
                "static"
            } else {
                "global"
            };
            let severity = if info.pointer || a.kind == AccessKind::Mutate {
                Severity::Error
            } else {
                Severity::Warning
            };
            let mut d = pf
                .context()
                .diagnostic(
                    rule,
                    site(a),
                    format!(
                        "`{}` {what} the {kind} `{name}`{} without synchronisation; it can run on many threads at once",
                        s.fn_name(id),
                        through(&s, a)
                    ),
                )
                .with_help(format!(
                    "guard every access to `{short}` with one lock (`static PyMutex {short}_lock;`, `std::mutex` with `std::lock_guard`), fill it once during module init, or make it `thread_local`"
                ))
                .with_severity(severity)
                .with_confidence(
                    // Through a helper, or a global of another file: judged on
                    // CPython's own tree, fewer than half of these were real races
                    // (startup-only code, benign statistics counters), so they are
                    // never certain; `--confidence certain` hides them.
                    if a.via_callee.is_some() || !ff.globals.iter().any(|v| v.key == info.key) {
                        Confidence::Likely
                    } else {
                        confidence(project, id)
                    },
                );
            for r in notes {
                d = d.with_related(r);
            }
            out.push(d);
        }
    }
}

/// At one place, the gravest access first: releasing or reallocating, then
/// writing, then reading.
fn rank(k: AccessKind) -> u8 {
    if k.invalidates() {
        0
    } else if k.changes() {
        1
    } else {
        2
    }
}

/// The conflicting function for a finding on `key`: an unprotected one that
/// `wanted` accepts, else any that `wanted` accepts, else any other function.
pub(crate) fn conflict<'s>(
    s: &'s SharedState,
    key: &Key,
    me: FnId,
    wanted: impl Fn(&SAccess) -> bool,
) -> Option<(FnId, &'s SAccess)> {
    s.others(key, me)
        .find(|(_, o)| wanted(o) && !o.protection.protects_object())
        .or_else(|| s.others(key, me).find(|(_, o)| wanted(o)))
        .or_else(|| s.others(key, me).next())
}

/// The unsafe fix: the whole method body in a critical section on its `self`
/// parameter, with a single way out (see [`crate::fix::critical_section::lock_body`]),
/// built when the run needs edits ([`DeferredFix`]).
pub(crate) fn with_lock_body_fix(
    project: &ProjectContext,
    id: FnId,
    d: Diagnostic,
    at: usize,
) -> Diagnostic {
    let pf = &project.files[id.0];
    let Some(base) = pf.index.functions.get(id.1).and_then(|f| f.params.first()) else {
        return d;
    };
    if !crate::source::privacy::is_identifier(&base.name) {
        return d;
    }
    // What refuses the fix without a tree is known now: no request (the text
    // output's "up to" count is then closer, and no parse is spent on it).
    let f = &pf.index.functions[id.1];
    let nested = pf
        .index
        .functions
        .iter()
        .enumerate()
        .any(|(j, g)| j != id.1 && f.range.0 <= g.range.0 && g.range.1 <= f.range.1);
    if !nested
        && !crate::fix::critical_section::lock_body_may_apply(
            &pf.file,
            f.range,
            f.body,
            f.has_error,
        )
    {
        return d;
    }
    d.with_deferred_fix(DeferredFix::new(
        pf.file.language == crate::source::Language::Cpp,
        FixRequest::LockBody {
            at,
            object: base.name.clone(),
            target_minor: pf.settings.target_minor,
        },
    ))
}
