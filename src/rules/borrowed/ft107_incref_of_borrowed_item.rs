//! FT107: `Py_NewRef(PyList_GetItem(...))` and friends: a reference taken too late.

use crate::capi::{self, BorrowedFamily};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::Call;

use super::{incref_sites, replacement_advice, text};

pub static INCREF_OF_BORROWED: Rule = Rule {
    code: "FT107",
    name: "incref-of-borrowed-item",
    severity: Severity::Error,
    summary: "Taking a reference to a borrowed item after the fact (`Py_NewRef(PyList_GetItem(...))`) is not a fix.",
    doc: r#"## What it does
Finds `Py_NewRef`, `Py_XNewRef`, `Py_INCREF` and `Py_XINCREF` applied directly to
the result of `PyList_GetItem`, `PyList_GET_ITEM` or a `PyDict_GetItem*` call on a
container that is not private.

## Why is this bad?
The item can be freed between the borrowing call and the increment: taking the
reference afterwards narrows the window but does not close it. Only an API that
returns a strong reference does.

## Example
```c
PyObject *item = Py_XNewRef(PyList_GetItem(list, i));
```

## Use instead
```c
PyObject *item = PyList_GetItemRef(list, i);
```
For `Py_XNewRef(PyList_GetItem(l, i))` the fix is offered as safe (both return
`NULL` with `IndexError` for a bad index). For `Py_NewRef(...)` and the unchecked
macro `PyList_GET_ITEM` it is unsafe: the replacement can return `NULL` where the
old code never did, so review the caller's `NULL` handling. Dict lookups have no
one-expression replacement (`PyDict_GetItemRef` uses an out-parameter).

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
"#,
    fix: FixAvailability::Sometimes,
};

/// The sites are found by `super::incref_sites`, which FT101/FT102 consult too.
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let sites = incref_sites(ctx);
    for site in &sites.0 {
        let outer = &ctx.index.calls[site.outer];
        let inner = &ctx.index.calls[site.inner];
        let container = inner
            .args
            .first()
            .map(|r| text(ctx, *r).trim())
            .unwrap_or("");
        let mut d = ctx
            .diagnostic(
                &INCREF_OF_BORROWED,
                outer.range,
                format!(
                    "`{}` of a borrowed `{}` result: the item can be freed before the reference is taken ({})",
                    outer.name,
                    inner.name,
                    site.privacy.describe(container)
                ),
            )
            .with_help(replacement_advice(site.api, ctx.settings.target_minor))
            .with_confidence(site.privacy.confidence());
        if let Some(fix) = list_item_ref_fix(ctx, outer, inner) {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

fn list_item_ref_fix(ctx: &FileContext, outer: &Call, inner: &Call) -> Option<Fix> {
    if !capi::is_new_ref(&outer.name) || inner.args.len() != 2 {
        return None;
    }
    let getter = capi::borrowed_getter(&inner.name)?;
    if getter.family != BorrowedFamily::ListItem || ctx.settings.target_minor < getter.since.minor()
    {
        return None;
    }
    let replacement = getter.replacement;
    // Both the `X` increment and the checked getter return NULL for a bad index,
    // as the replacement does; anything else may now see a NULL it never saw.
    let safe = capi::accepts_null(&outer.name) && !capi::indexes_unchecked(&inner.name);
    let content = format!(
        "{replacement}({}, {})",
        text(ctx, inner.args[0]).trim(),
        text(ctx, inner.args[1]).trim()
    );
    Some(Fix {
        applicability: if safe {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        message: if safe {
            format!("Use `{replacement}`")
        } else {
            format!("Use `{replacement}` (it can return NULL with IndexError: check the caller handles NULL)")
        },
        edits: vec![Edit {
            span: ctx.file.span(outer.range.0, outer.range.1),
            content,
        }],
    })
}
