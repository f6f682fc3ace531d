//! FT106: `PySequence_Fast_GET_ITEM`/`_ITEMS` on what may be a shared list.

use crate::capi;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::text;

pub static SEQUENCE_FAST_SHARED_LIST: Rule = Rule {
    code: "FT106",
    name: "sequence-fast-on-shared-list",
    severity: Severity::Warning,
    summary: "`PySequence_Fast_GET_ITEM`/`_ITEMS` on what may be a shared list.",
    doc: r#"## What it does
Finds `PySequence_Fast_GET_ITEM` and `PySequence_Fast_ITEMS` on the result of
`PySequence_Fast(x, ...)` when `x` is not private to the call. Findings are
`likely`: the rule cannot tell whether `x` is a list or a tuple.

## Why is this bad?
For a list, `PySequence_Fast` returns the list itself, not a copy. These macros do
no locking and no bounds checks: another thread can shrink the list or replace
items, and the loop reads freed items or past the end.

## Example
```c
PyObject *seq = PySequence_Fast(arg, "expected a sequence");
for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++)
    use(PySequence_Fast_GET_ITEM(seq, i));
```

## Use instead
Take a snapshot: `PyObject *seq = PySequence_Tuple(arg);` and use the tuple
accessors, or hold `Py_BEGIN_CRITICAL_SECTION(seq)` around the whole walk and read
the size inside it.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    for call in &ctx.index.calls {
        if !capi::reads_sequence_fast_items(&call.name) || call.function.is_none() {
            continue;
        }
        let Some(arg) = call.args.first() else {
            continue;
        };
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let privacy = an.container(*arg, call.range.0);
        if privacy.is_private() {
            continue;
        }
        let seq = text(ctx, *arg).trim();
        out.push(
            ctx.diagnostic(
                &SEQUENCE_FAST_SHARED_LIST,
                call.name_range,
                format!(
                    "`{}` on {}: for a list, `PySequence_Fast` returns the list itself, which other threads can change",
                    call.name,
                    privacy.describe(seq)
                ),
            )
            .with_help("snapshot with `PySequence_Tuple` and use tuple accessors, or hold `Py_BEGIN_CRITICAL_SECTION` on the sequence for the whole walk")
            .with_confidence(Confidence::Likely),
        );
    }
}
