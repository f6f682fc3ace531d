//! FT202: `PyList_SET_ITEM`/`PyTuple_SET_ITEM` on a container this function did not just create.

use crate::capi::{self, Container};
use crate::diagnostic::{Applicability, Confidence, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::Call;
use crate::source::privacy::{Privacy, Private};

use super::text;

pub static SET_ITEM_ON_SHARED: Rule = Rule {
    code: "FT202",
    name: "set-item-macro-on-shared-container",
    severity: Severity::Error,
    summary: "`PyList_SET_ITEM`/`PyTuple_SET_ITEM` on a container that is not freshly created.",
    doc: r#"## What it does
Finds `PyList_SET_ITEM` and `PyTuple_SET_ITEM` whose target was not created in this
function, or was already stored somewhere or passed to other code before the call.

## Why is this bad?
These macros write the item slot without locking and without releasing the old
item. They are meant for filling a container nobody else can see yet. On a shared
list another thread can read or resize it during the write; a shared tuple must
never change at all.

## Example
```c
PyList_SET_ITEM(self->items, i, Py_NewRef(v));
```

## Use instead
```c
if (PyList_SetItem(self->items, i, Py_NewRef(v)) < 0) return NULL;
```
`PyList_SetItem` locks the list and releases the old item.

## Fix
With `--unsafe-fixes`, `PyList_SET_ITEM(l, i, v);` as a statement becomes
`(void)PyList_SetItem(l, i, v);`. It is unsafe: the function releases the item it
replaces, which the macro left alone (a leak before, or a double release if the code
released the old item by hand), and it fails for an index out of range. Tuples get no
fix: build a new tuple instead.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::is_item_initializer(&c.name))
    {
        let Some(arg) = call.args.first() else {
            continue;
        };
        if call.function.is_none() || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_fresh()
            || matches!(
                p,
                Privacy::Private(Private::Locked | Private::Unique | Private::ModuleInit)
            )
        {
            continue;
        }
        let c = text(ctx, *arg).trim();
        let what = match &p {
            Privacy::Private(_) => format!("`{c}`, which this function did not create"),
            _ => p.describe(c),
        };
        let help = if capi::operated_container(&call.name) == Some(Container::List) {
            "use `PyList_SetItem` (it locks the list and releases the old item)"
        } else {
            "build a new tuple instead: a tuple others can see must not change"
        };
        let d = ctx
            .diagnostic(
                &SET_ITEM_ON_SHARED,
                call.name_range,
                format!("`{}` writes into {}", call.name, what),
            )
            .with_help(help)
            .with_confidence(if matches!(p, Privacy::Private(_)) {
                Confidence::Certain
            } else {
                p.confidence()
            });
        out.push(match set_item_fix(ctx, call) {
            Some(f) => d.with_fix(f),
            None => d,
        });
    }
}

/// `PyList_SET_ITEM(l, i, v);` as a statement → `(void)PyList_SetItem(l, i, v);`:
/// the function locks the list and checks the index. Unsafe: it also releases
/// the item it replaces (the macro leaked it, or the code released it by hand
/// before — a double release now), and it fails for a bad index.
fn set_item_fix(ctx: &FileContext, call: &Call) -> Option<Fix> {
    let replacement = crate::capi::fixes::locking_item_setter(&call.name)?;
    let node =
        crate::fix::scope::node_of_kind(ctx.file, call.range.0, call.range.1, "call_expression")?;
    if node.parent()?.kind() != "expression_statement" || call.args.len() != 3 {
        return None;
    }
    Some(Fix {
        applicability: Applicability::Unsafe,
        message: format!(
            "Use `{replacement}` (it locks the list and releases the item it replaces: check the old item is not released by hand as well)"
        ),
        edits: vec![
            Edit {
                span: ctx.file.span(call.range.0, call.range.0),
                content: "(void)".into(),
            },
            Edit {
                span: ctx.file.span(call.name_range.0, call.name_range.1),
                content: replacement.to_owned(),
            },
        ],
    })
}
