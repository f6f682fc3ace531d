//! FT202: `PyList_SET_ITEM`/`PyTuple_SET_ITEM` on a container this function did not just create.

use crate::capi::{self, Container};
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
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

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
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
        out.push(
            ctx.diagnostic(
                &SET_ITEM_ON_SHARED,
                call.name_range,
                format!("`{}` writes into {}", call.name, what),
            )
            .with_help(help)
            .with_confidence(if matches!(p, Privacy::Private(_)) {
                Confidence::Certain
            } else {
                p.confidence()
            }),
        );
    }
}
