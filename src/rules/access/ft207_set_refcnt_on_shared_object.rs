//! FT207: `Py_SET_REFCNT` on an object other threads may hold.

use crate::capi::{self, RefCountOp};
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::{Privacy, Private, Shared};

use super::text;

pub static SET_REFCNT_SHARED: Rule = Rule {
    code: "FT207",
    name: "set-refcnt-on-shared-object",
    severity: Severity::Warning,
    summary: "`Py_SET_REFCNT` on an object other threads may hold.",
    doc: r#"## What it does
Finds `Py_SET_REFCNT(x, n)` when `x` was not created in this function (or has
already been published), outside deallocation and finalisation functions, where
an object is briefly resurrected on purpose. Objects whose origin is not visible
are reported as `likely`.

## Why is this bad?
In the free-threaded build the count is split between the owning thread and a
shared counter that other threads update atomically. Overwriting it while another
thread holds or takes a reference loses their updates: the object is freed too
early or never. Hand-made immortalisation has the same problem.

## Example
```c
Py_SET_REFCNT(cached, 1 << 30);   /* "make it immortal" */
```

## Use instead
Keep a strong reference instead of editing the count. For immortalisation use
`PyUnstable_SetImmortal` (3.15; pythoncapi-compat provides it on 3.13+), and only on
objects not yet visible to other threads.

## References
- C API reference: `Py_SET_REFCNT`, `PyUnstable_SetImmortal`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::refcount_op(&c.name) == Some(RefCountOp::Set))
    {
        let (Some(arg), Some(fi)) = (call.args.first(), call.function) else {
            continue;
        };
        let fname = ctx.index.functions[fi].name.to_ascii_lowercase();
        // Deallocators and finalisers resurrect the object they own on purpose.
        if ["dealloc", "finalize", "finalise", "_del", "resurrect"]
            .iter()
            .any(|w| fname.contains(w))
        {
            continue;
        }
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_fresh() || matches!(p, Privacy::Private(Private::ModuleInit | Private::Unique)) {
            continue;
        }
        // An object this function just made (`PyUnicode_FromString`, `PyObject_Malloc`, `Foo_New`).
        if let Privacy::Shared(Shared::CallResult(c)) = &p {
            if c.contains("From")
                || c.ends_with("New")
                || c.ends_with("Malloc")
                || c.starts_with("PyObject_Call")
            {
                continue;
            }
        }
        let x = text(ctx, *arg).trim();
        let what = match &p {
            Privacy::Private(_) => format!("`{x}`"),
            _ => p.describe(x),
        };
        out.push(
            ctx.diagnostic(&SET_REFCNT_SHARED, call.name_range, format!("`Py_SET_REFCNT` overwrites the reference count of {what}, which other threads may update concurrently"))
                .with_help("keep a strong reference instead; to immortalise, use `PyUnstable_SetImmortal` on an object not yet published")
                .with_confidence(match &p {
                    Privacy::Private(_) => Confidence::Likely,
                    _ => p.confidence(),
                }),
        );
    }
}
