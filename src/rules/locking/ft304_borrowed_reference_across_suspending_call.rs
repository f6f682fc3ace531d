//! FT304: a borrowed item used across a call that can suspend the critical section.

use std::collections::HashSet;

use crate::capi::{self, Container};
use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::{normalize, RegionKind};

pub static BORROWED_ACROSS_SUSPEND: Rule = Rule {
    code: "FT304",
    name: "borrowed-reference-across-suspending-call",
    severity: Severity::Error,
    summary:
        "A borrowed item is used after a call that can suspend the critical section protecting it.",
    doc: r#"## What it does
Inside a critical section, finds a borrowed reference taken from a container
(`PyDict_Next` keys and values, `PyList_GET_ITEM`, `PyDict_GetItem*` results) that is
passed to or used after a call that can run Python code or block:
`PyObject_Call*`, `PyObject_RichCompare*`, `PyObject_Hash`, `PyObject_GetAttr*`,
`PyObject_Str`, `Py_DECREF`, `PyMutex_Lock` and similar. Items made strong with
`Py_INCREF`/`Py_NewRef` before the call are not reported.

## Why is this bad?
A critical section is released while its thread blocks or runs code that detaches
(a `__hash__` or `__eq__` can). Another thread can then change the container and
free the item the loop still holds.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(d);
while (PyDict_Next(d, &pos, &key, &value)) {
    int eq = PyObject_RichCompareBool(key, target, Py_EQ);
    ...
}
Py_END_CRITICAL_SECTION();
```

## Use instead
```c
    Py_INCREF(key);
    int eq = PyObject_RichCompareBool(key, target, Py_EQ);
    Py_DECREF(key);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections" (suspension).
- C API reference: `PyDict_Next`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    if an.regions.is_empty() {
        return;
    }
    let idx = ctx.index;
    let text = |r: (usize, usize)| ctx.file.parse_text.get(r.0..r.1).unwrap_or("");
    let mut reported = HashSet::new();
    for r in an
        .regions
        .iter()
        .filter(|r| r.kind != RegionKind::AllowThreads && r.end.is_some())
    {
        let body = r.body();
        let in_body = |o: usize| body.0 <= o && o < body.1;
        // (variable, where it was borrowed, from what)
        let mut borrowed: Vec<(String, usize, String)> = Vec::new();
        for c in idx.calls.iter().filter(|c| in_body(c.range.0)) {
            // `PyDict_Next`: every `&var` argument after the container and the position.
            if capi::iterates_borrowed_items(&c.name) {
                for a in c.args.iter().skip(2) {
                    if let Some(v) = normalize(text(*a)).strip_prefix('&') {
                        borrowed.push((v.to_owned(), c.range.1, c.name.clone()));
                    }
                }
            } else if borrows_mutable_item(&c.name) {
                let target = idx
                    .assignments
                    .iter()
                    .find(|a| {
                        a.rhs.0 <= c.range.0
                            && c.range.1 <= a.rhs.1
                            && normalize(text(a.rhs)) == normalize(text(c.range))
                    })
                    .map(|a| normalize(&a.lhs_text))
                    .or_else(|| {
                        idx.decls
                            .iter()
                            .find(|d| {
                                d.init.as_ref().is_some_and(|i| {
                                    normalize(text(i.range())) == normalize(text(c.range))
                                        && i.range().0 <= c.range.0
                                        && c.range.1 <= i.range().1
                                })
                            })
                            .map(|d| d.name.clone())
                    });
                if let Some(v) = target {
                    borrowed.push((v, c.range.1, c.name.clone()));
                }
            }
        }
        for (var, from, api) in &borrowed {
            let strong_at = idx
                .calls
                .iter()
                .filter(|c| in_body(c.range.0) && c.range.0 > *from)
                .filter(|c| capi::is_incref(&c.name))
                .filter(|c| c.args.first().is_some_and(|a| normalize(text(*a)) == *var))
                .map(|c| c.range.0)
                .min()
                .unwrap_or(usize::MAX);
            let uses: Vec<usize> = ctx
                .file
                .code_occurrences(var)
                .into_iter()
                .filter(|o| in_body(*o) && *o > *from)
                .collect();
            for s in idx.calls.iter().filter(|c| {
                in_body(c.range.0)
                    && c.range.0 > *from
                    && c.range.0 < strong_at
                    && capi::may_suspend_critical_sections(&c.name)
            }) {
                // Decrementing the borrowed item itself is a different bug; skip it here.
                if s.args.first().is_some_and(|a| normalize(text(*a)) == *var)
                    && capi::is_decref(&s.name)
                    && !capi::replaces_reference(&s.name)
                {
                    continue;
                }
                if !uses.iter().any(|u| *u >= s.range.0)
                    || !reported.insert(s.range.0)
                    || !an.compiled_in_ft(s.range.0)
                {
                    continue;
                }
                out.push(
                    ctx.diagnostic(
                        &BORROWED_ACROSS_SUSPEND,
                        s.name_range,
                        format!(
                            "`{var}` (borrowed from `{api}`) is used across `{}`, which can run Python code and suspend the critical section on `{}`",
                            s.name,
                            r.object_texts.join("`, `")
                        ),
                    )
                    .with_help(format!("take a strong reference first (`Py_INCREF({var})`) and release it afterwards"))
                    .with_confidence(Confidence::Likely),
                );
            }
        }
    }
}

/// APIs returning a borrowed item of a container another thread can change
/// (`PyList_GET_ITEM`, `PyDict_GetItem*`, `PySequence_Fast_GET_ITEM`): tuple items
/// stay put while the tuple lives.
fn borrows_mutable_item(name: &str) -> bool {
    capi::reads_borrowed_item(name) && capi::container_family(name) != Some(Container::Tuple)
}
