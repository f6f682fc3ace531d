//! FT1xx — borrowed references.
//!
//! An API that returns a borrowed reference into a container hands out a pointer
//! the container still owns. With the GIL nobody could change the container before
//! the caller took its own reference; without it another thread can remove the item
//! and free it in between. These rules report such calls when the container can be
//! reached by another thread (see [`crate::source::privacy`]) and name the
//! strong-reference replacement for the project's minimum Python version.
//!
//! FT101–FT105 report the borrowing call itself, unless FT107 (an increment
//! wrapped around it) or FT108 (its result cached in a static or a field) already
//! reports the same call more precisely: the sites those two rules would report
//! are computed here once per file (`incref_sites`, `cached_sites`) and
//! consulted by both sides, so no rule depends on another having run first.

use std::collections::HashMap;
use std::sync::Arc;

use crate::capi::{self, BorrowedFamily, BorrowedGetter, Since};
use crate::diagnostic::{Confidence, Diagnostic};
use crate::rules::{FileContext, Rule};
use crate::source::index::{Call, Range};
use crate::source::privacy::{is_identifier, normalize, Privacy, Shared};

pub mod ft101_borrowed_list_item;
pub mod ft102_borrowed_dict_item;
pub mod ft103_borrowed_weakref_referent;
pub mod ft104_borrowed_global_lookup;
pub mod ft105_borrowed_cell_contents;
pub mod ft106_sequence_fast_on_shared_list;
pub mod ft107_incref_of_borrowed_item;
pub mod ft108_borrowed_reference_cached;

pub use ft101_borrowed_list_item::BORROWED_LIST_ITEM;
pub use ft102_borrowed_dict_item::BORROWED_DICT_ITEM;
pub use ft103_borrowed_weakref_referent::BORROWED_WEAKREF;
pub use ft104_borrowed_global_lookup::BORROWED_GLOBAL_LOOKUP;
pub use ft105_borrowed_cell_contents::BORROWED_CELL;
pub use ft106_sequence_fast_on_shared_list::SEQUENCE_FAST_SHARED_LIST;
pub use ft107_incref_of_borrowed_item::INCREF_OF_BORROWED;
pub use ft108_borrowed_reference_cached::BORROWED_CACHED;

/// The rule that reports the getters of a borrowed-reference family. The getters
/// themselves, their replacements and versions are the catalogue's
/// ([`capi::BORROWED_GETTERS`]).
pub(super) fn rule_of(family: BorrowedFamily) -> &'static Rule {
    match family {
        BorrowedFamily::ListItem => &BORROWED_LIST_ITEM,
        BorrowedFamily::DictItem => &BORROWED_DICT_ITEM,
        BorrowedFamily::Weakref => &BORROWED_WEAKREF,
        BorrowedFamily::GlobalLookup => &BORROWED_GLOBAL_LOOKUP,
        BorrowedFamily::Cell => &BORROWED_CELL,
    }
}

/// "use `X` (added in 3.13; pythoncapi-compat provides it for 3.9)" for this project.
pub fn replacement_advice(getter: &BorrowedGetter, target_minor: u32) -> String {
    let r = getter.replacement;
    let Since::V3(added) = getter.since else {
        return format!("use `{r}`, which returns a strong reference (available in every version)");
    };
    if target_minor >= added {
        return format!("use `{r}` (added in 3.{added}), which returns a strong reference");
    }
    if getter.compat {
        format!(
            "use `{r}` (added in 3.{added}; your minimum is 3.{target_minor}, so include pythoncapi_compat.h, which provides it)"
        )
    } else {
        format!(
            "use `{r}` (added in 3.{added}; not in pythoncapi-compat, so keep the old call under `#if PY_VERSION_HEX < 0x030{added:X}0000` for 3.{target_minor})"
        )
    }
}

/// The text of a byte range of the file being checked.
pub(super) fn text<'a>(ctx: &FileContext<'a>, r: Range) -> &'a str {
    ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// The privacy of the container argument of `call`, or `None` when it is private.
/// APIs without a container (weak references, interpreter state) are always shared.
pub(super) fn shared_container(
    ctx: &FileContext,
    call: &Call,
    getter: &BorrowedGetter,
) -> Option<Privacy> {
    let Some(pos) = getter.container_arg else {
        return Some(Privacy::Shared(Shared::Global(String::new())));
    };
    let arg = *call.args.get(pos)?;
    let p = ctx.privacy().container(arg, call.range.0);
    (!p.is_private()).then_some(p)
}

/// Reports the calls of `rule`'s borrowed-reference APIs on shared containers
/// (FT101–FT105 differ only in which APIs they cover).
///
/// A call that FT107 or FT108 reports (when enabled for this file) is left to
/// them: the increment or the cache is the thing to fix, and one finding per
/// call is enough.
pub(super) fn check_borrowed_calls(
    ctx: &FileContext,
    rule: &'static Rule,
    out: &mut Vec<Diagnostic>,
) {
    let increfs = ctx.enabled(&INCREF_OF_BORROWED).then(|| incref_sites(ctx));
    let caches = ctx.enabled(&BORROWED_CACHED).then(|| cached_sites(ctx));
    let reported_elsewhere = |offset: usize| {
        increfs
            .as_ref()
            .is_some_and(|s| s.reports_call_at(ctx, offset))
            || caches
                .as_ref()
                .is_some_and(|s| s.reports_call_at(ctx, offset))
    };
    let an = ctx.privacy();
    for call in &ctx.index.calls {
        let Some(api) = capi::borrowed_getter(&call.name) else {
            continue;
        };
        if rule_of(api.family) != rule
            || call.function.is_none()
            || reported_elsewhere(call.range.0)
        {
            continue;
        }
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let Some(privacy) = shared_container(ctx, call, api) else {
            continue;
        };
        let advice = replacement_advice(api, ctx.settings.target_minor);
        let message = match api.container_arg {
            Some(pos) => {
                let c = call.args.get(pos).map(|r| text(ctx, *r).trim()).unwrap_or("");
                format!(
                    "`{}` returns a borrowed reference into {}; another thread can remove and free it",
                    call.name,
                    privacy.describe(c)
                )
            }
            None if api.family == BorrowedFamily::Weakref => format!(
                "`{}` returns a borrowed reference to a referent another thread can free at once (removed in 3.15)",
                call.name
            ),
            None => format!("`{}` returns a borrowed reference that another thread can free", call.name),
        };
        let confidence = if api.container_arg.is_some() {
            privacy.confidence()
        } else {
            Confidence::Certain
        };
        let container = api
            .container_arg
            .and_then(|pos| call.args.get(pos))
            .map(|r| text(ctx, *r).trim())
            .unwrap_or("");
        let mut d = ctx
            .diagnostic(rule, call.name_range, message)
            .with_help(advice)
            .with_confidence(confidence);
        if matches!(privacy, Privacy::Shared(Shared::Global(_) | Shared::Field))
            && ctx.privacy().filled_only_at_init(container)
        {
            // Immutable after initialisation: nothing removes items while others read.
            d.message = format!(
                "`{}` returns a borrowed reference into `{container}`, which only module initialisation (or a lifecycle slot) fills and which is never handed out: immutable afterwards, so safe unless code outside this file changes it",
                call.name
            );
            d = d
                .with_severity(crate::diagnostic::Severity::Info)
                .with_confidence(Confidence::Likely);
        }
        // Offered for immutable containers too: a strong reference is never wrong,
        // and keeps the code right if the container is later changed at runtime.
        if let Some(fix) = strong_ref_fix(ctx, call, api) {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

/// The borrowed → strong rewrite of `call` (see [`crate::fix::strong_ref`]).
pub(super) fn strong_ref_fix(
    ctx: &FileContext,
    call: &Call,
    api: &BorrowedGetter,
) -> Option<crate::diagnostic::Fix> {
    use crate::fix::strong_ref;
    let since = api.since.minor();
    let compat = if api.compat || ctx.settings.target_minor >= since {
        strong_ref::compat_for(ctx.file, ctx.settings.target_minor, since)
    } else {
        return None;
    };
    strong_ref::strong_ref_fix(
        ctx.file,
        &strong_ref::BorrowedCall {
            name: &call.name,
            range: call.range,
            name_range: call.name_range,
            args: &call.args,
        },
        &compat,
    )
}

/// `Py_NewRef(PyList_GetItem(l, i))` and friends on a shared container: what
/// FT107 reports. Indices are into the file's `index.calls`.
pub(super) struct IncrefSite {
    /// The increment (`Py_NewRef`, `Py_XNewRef`, `Py_INCREF`, `Py_XINCREF`).
    pub outer: usize,
    /// The borrowing call it wraps.
    pub inner: usize,
    pub api: &'static BorrowedGetter,
    pub privacy: Privacy,
}

/// Every [`IncrefSite`] of a file, in the order of the increments.
pub(super) struct IncrefSites(pub Vec<IncrefSite>);

impl IncrefSites {
    fn reports_call_at(&self, ctx: &FileContext, offset: usize) -> bool {
        self.0
            .iter()
            .any(|s| ctx.index.calls[s.inner].range.0 == offset)
    }
}

/// The file's [`IncrefSites`], computed once.
pub(super) fn incref_sites(ctx: &FileContext) -> Arc<IncrefSites> {
    ctx.memo.get(|| IncrefSites(find_incref_sites(ctx)))
}

fn find_incref_sites(ctx: &FileContext) -> Vec<IncrefSite> {
    let an = ctx.privacy();
    let calls = &ctx.index.calls;
    let list_or_dict = |c: &Call| {
        capi::borrowed_getter(&c.name).is_some_and(|api| {
            matches!(
                api.family,
                BorrowedFamily::ListItem | BorrowedFamily::DictItem
            )
        })
    };
    // The increment's argument names the first call of the file with the same
    // normalised text, which must be a list or dict getter: so only arguments
    // that some such getter spells can make a site. The getters' texts, each
    // with its first getter, are built on first need; the calls before that
    // getter are normalised only when they could spell the same text (never
    // shorter than it), and once each (normalising every call of the file, or
    // every call once per increment, cost more than the rest of the rule).
    let mut getter_texts: Option<HashMap<String, usize>> = None;
    let mut normalised: Vec<Option<String>> = Vec::new();
    let mut sites = Vec::new();
    for (outer_index, outer) in calls.iter().enumerate() {
        if !capi::is_incref(&outer.name) || outer.args.len() != 1 {
            continue;
        }
        let getter_texts = getter_texts.get_or_insert_with(|| {
            let mut m = HashMap::new();
            for (i, c) in calls.iter().enumerate().filter(|(_, c)| list_or_dict(c)) {
                m.entry(normalize(text(ctx, c.range))).or_insert(i);
            }
            m
        });
        if getter_texts.is_empty() {
            break;
        }
        let arg = normalize(text(ctx, outer.args[0]));
        let Some(&getter_index) = getter_texts.get(&arg) else {
            continue;
        };
        if normalised.is_empty() {
            normalised.resize(calls.len(), None);
        }
        let first_same = (0..getter_index).find(|&i| {
            let r = calls[i].range;
            r.1.saturating_sub(r.0) >= arg.len()
                && *normalised[i].get_or_insert_with(|| normalize(text(ctx, r))) == arg
        });
        let inner_index = first_same.unwrap_or(getter_index);
        let inner = &calls[inner_index];
        let Some(api) = capi::borrowed_getter(&inner.name) else {
            continue;
        };
        if !list_or_dict(inner) || !an.compiled_in_ft(outer.range.0) {
            continue;
        }
        let Some(privacy) = shared_container(ctx, inner, api) else {
            continue;
        };
        sites.push(IncrefSite {
            outer: outer_index,
            inner: inner_index,
            api,
            privacy,
        });
    }
    sites
}

/// A borrowed result stored in a static, a global or a struct field and never
/// increfed afterwards: what FT108 reports.
pub(super) struct CachedSite {
    /// The assignment's byte range.
    pub range: Range,
    /// The borrowing call (an index into the file's `index.calls`).
    pub call: usize,
    pub api: &'static BorrowedGetter,
    /// The normalised target (`self->cache`, `json_loads`).
    pub lhs: String,
}

/// Every [`CachedSite`] of a file, in the order of the assignments.
pub(super) struct CachedSites(pub Vec<CachedSite>);

impl CachedSites {
    fn reports_call_at(&self, ctx: &FileContext, offset: usize) -> bool {
        self.0
            .iter()
            .any(|s| ctx.index.calls[s.call].range.0 == offset)
    }
}

/// The file's [`CachedSites`], computed once.
pub(super) fn cached_sites(ctx: &FileContext) -> Arc<CachedSites> {
    ctx.memo.get(|| CachedSites(find_cached_sites(ctx)))
}

fn find_cached_sites(ctx: &FileContext) -> Vec<CachedSite> {
    let an = ctx.privacy();
    let mut sites = Vec::new();
    for a in &ctx.index.assignments {
        let Some(fi) = a.function else { continue };
        if a.operator != "=" {
            continue;
        }
        // The call must lie inside the right-hand side (calls are sorted by offset),
        // be a borrowed-reference API, and be the whole right-hand side.
        let calls = &ctx.index.calls;
        let first = calls.partition_point(|c| c.range.0 < a.rhs.0);
        // Normalised only when a getter lies inside (most right-hand sides hold none).
        let rhs = std::cell::OnceCell::new();
        let Some(call_index) = calls[first..]
            .iter()
            .take_while(|c| c.range.0 < a.rhs.1)
            .position(|c| {
                c.range.1 <= a.rhs.1
                    && capi::borrowed_getter(&c.name).is_some()
                    && normalize(text(ctx, c.range))
                        == *rhs.get_or_init(|| normalize(text(ctx, a.rhs)))
            })
            .map(|i| first + i)
        else {
            continue;
        };
        let call = &calls[call_index];
        let Some(api) = capi::borrowed_getter(&call.name) else {
            continue;
        };
        let lhs = normalize(&a.lhs_text);
        // `local.field` (a struct on the stack) is not a cache; `self->field` and `global.field` are.
        let base = lhs.split(['-', '.']).next().unwrap_or("");
        let local_struct = !lhs.contains("->")
            && ctx
                .index
                .declaration_of(base, Some(fi))
                .is_some_and(|d| d.function == Some(fi) && !d.has_static_storage());
        let is_field = (lhs.contains("->") || lhs.contains('.')) && !local_struct;
        let is_static = is_identifier(&lhs)
            && ctx
                .index
                .declaration_of(&lhs, Some(fi))
                .is_some_and(|d| d.has_static_storage());
        if !(is_field || is_static) || !an.compiled_in_ft(a.range.0) {
            continue;
        }
        let f = &ctx.index.functions[fi];
        let later = calls
            .iter()
            .filter(|c| c.function == Some(fi) && c.range.0 > a.range.1 && c.range.0 < f.range.1);
        let increfed = later.filter(|c| capi::is_incref(&c.name)).any(|c| {
            c.args
                .first()
                .is_some_and(|r| normalize(text(ctx, *r)) == lhs)
        });
        if increfed {
            continue;
        }
        sites.push(CachedSite {
            range: a.range,
            call: call_index,
            api,
            lhs,
        });
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::registry;
    use crate::settings::Settings;
    use crate::source::index::FileIndex;
    use crate::source::{Language, SourceFile};

    /// (code, line) of the FT1xx findings on `src` with `ignore` applied.
    fn findings(src: &str, ignore: &[&str]) -> Vec<(&'static str, usize)> {
        let path = std::path::Path::new("t.c");
        let file =
            SourceFile::from_bytes(path, Language::C, src.as_bytes().to_vec()).expect("parses");
        let index = FileIndex::build(&file);
        let settings = Settings {
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        };
        let ctx = FileContext::new(&file, &index, &settings);
        let mut out = Vec::new();
        for (rule, check) in registry::file_checks() {
            if rule.code.starts_with("FT1") && ctx.enabled(rule) {
                check(&ctx, &mut out);
            }
        }
        let mut found: Vec<_> = out
            .iter()
            .map(|d| (d.rule.code, d.span.map_or(0, |s| s.start_line)))
            .collect();
        found.sort();
        found
    }

    const WRAPPED: &str = r#"#include <Python.h>
static PyObject *shared_list;
static PyObject *shared_dict;
static PyObject *cache;
static PyObject *get(PyObject *self, PyObject *arg) {
    PyObject *item = Py_XNewRef(PyList_GetItem(shared_list, 0));
    cache = PyDict_GetItemString(shared_dict, "k");
    return item;
}
"#;

    /// FT107/FT108 report the wrapped or cached call; FT101/FT102 report it only
    /// when those rules are off, so each call gets one finding either way.
    #[test]
    fn wrapped_and_cached_calls_are_reported_once() {
        assert_eq!(findings(WRAPPED, &[]), [("FT107", 6), ("FT108", 7)]);
        assert_eq!(findings(WRAPPED, &["FT107"]), [("FT101", 6), ("FT108", 7)]);
        assert_eq!(
            findings(WRAPPED, &["FT107", "FT108"]),
            [("FT101", 6), ("FT102", 7)]
        );
    }

    /// Every borrowed getter of the catalogue has its rule, and each of FT101–FT105
    /// covers at least one getter.
    #[test]
    fn every_borrowed_family_maps_to_its_rule() {
        for rule in [
            &BORROWED_LIST_ITEM,
            &BORROWED_DICT_ITEM,
            &BORROWED_WEAKREF,
            &BORROWED_GLOBAL_LOOKUP,
            &BORROWED_CELL,
        ] {
            assert!(
                capi::BORROWED_GETTERS
                    .iter()
                    .any(|(_, g)| rule_of(g.family) == rule),
                "{}",
                rule.code
            );
        }
        assert_eq!(
            rule_of(
                capi::borrowed_getter("PyDict_SetDefault")
                    .expect("known")
                    .family
            ),
            &BORROWED_DICT_ITEM
        );
    }

    #[test]
    fn advice_depends_on_the_minimum_version() {
        let getter = |n: &str| capi::borrowed_getter(n).expect("known");
        let list = getter("PyList_GetItem");
        assert!(replacement_advice(list, 13).contains("`PyList_GetItemRef` (added in 3.13)"));
        let old = replacement_advice(list, 9);
        assert!(
            old.contains("pythoncapi_compat.h") && old.contains("3.9"),
            "{old}"
        );
        let frame = getter("PyEval_GetGlobals");
        let no_compat = replacement_advice(frame, 10);
        assert!(
            no_compat.contains("not in pythoncapi-compat") && no_compat.contains("0x030D0000"),
            "{no_compat}"
        );
        let sys = getter("PySys_GetObject");
        assert!(replacement_advice(sys, 13).contains("3.15"));
        assert!(replacement_advice(getter("PyCell_GET"), 9).contains("every version"));
    }
}
