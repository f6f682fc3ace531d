//! Whole-file passes: functions that run only during module initialisation, and
//! parameters their callers lock.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::text::{identifiers, normalize};
use super::Analysis;
use crate::capi;
use crate::source::index::FileIndex;
use crate::source::SourceFile;

impl Analysis<'_> {
    /// A helper every caller of which (in this file) holds a lock on its first
    /// argument runs under that lock too. Two rounds reach helpers of helpers.
    pub(super) fn propagate_caller_locks(&mut self) {
        let idx = self.index;
        let mut sites_of: HashMap<&str, Vec<&crate::source::index::Call>> = HashMap::default();
        for c in &idx.calls {
            if c.name == c.callee {
                sites_of.entry(c.name.as_str()).or_default().push(c);
            }
        }
        for _ in 0..2 {
            let mut found = Vec::new();
            for (fi, f) in idx.functions.iter().enumerate() {
                if self.caller_locked.contains_key(&fi)
                    || self.python_facing.contains(f.name.as_str())
                {
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
}

/// One parsed file and its index, as the private passes below read it.
#[derive(Clone, Copy)]
pub(super) struct Unit<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) index: &'a FileIndex,
}

/// Functions that only run during module initialisation.
pub(super) fn init_only(ctx: Unit) -> HashSet<usize> {
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
    let mut sites: HashMap<&str, Vec<&crate::source::index::Call>> = HashMap::default();
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
pub(super) fn caller_locked(ctx: Unit) -> HashMap<usize, Vec<String>> {
    let mut out = HashMap::default();
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
