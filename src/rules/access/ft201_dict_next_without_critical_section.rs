//! FT201: `PyDict_Next` over a shared dict without a critical section.

use crate::capi;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::text;

pub static DICT_NEXT_UNLOCKED: Rule = Rule {
    code: "FT201",
    name: "dict-next-without-critical-section",
    severity: Severity::Error,
    summary:
        "`PyDict_Next` iterates a dict other threads can change, outside a critical section on it.",
    doc: r#"## What it does
Finds `PyDict_Next(d, ...)` when `d` is not private to the call and the call is not
inside `Py_BEGIN_CRITICAL_SECTION(d)` (or `Py_BEGIN_CRITICAL_SECTION2` naming `d`).
The keyword-arguments dict of the call and dicts created in the function that have
not been shared yet are not reported.

## Why is this bad?
`PyDict_Next` does not lock the dict. If another thread inserts or deletes while the
loop runs, the position becomes meaningless, and the borrowed keys and values can
be freed while the loop uses them.

## Example
```c
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
```

## Use instead
```c
Py_BEGIN_CRITICAL_SECTION(self->dict);
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
Py_END_CRITICAL_SECTION();
```
Do not `return` or `goto` out of the section, and take strong references to keys and
values that are used after a call that may run Python code (FT304). Iterating over
a snapshot (`PyDict_Items(d)`) is the alternative.

## References
- CPython howto *C API Extension Support for Free Threading*, "`PyDict_Next`".
- C API reference: `PyDict_Next`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::iterates_borrowed_items(&c.name) && c.function.is_some())
    {
        let Some(arg) = call.args.first() else {
            continue;
        };
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_private() {
            continue;
        }
        let d = text(ctx, *arg).trim();
        out.push(
            ctx.diagnostic(&DICT_NEXT_UNLOCKED, call.name_range, format!("`{}` over {} without a critical section on it", call.name, p.describe(d)))
                .with_help(format!("wrap the whole loop in `Py_BEGIN_CRITICAL_SECTION({d});` ... `Py_END_CRITICAL_SECTION();`, or iterate over `PyDict_Items({d})`"))
                .with_confidence(p.confidence()),
        );
    }
}
