//! FT503: `PyObject_Init` on memory from outside the object domain.

use crate::capi;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{allocations, storage_key, text, Domain};

pub static OBJECT_OUTSIDE_DOMAIN: Rule = Rule {
    code: "FT503",
    name: "object-outside-object-domain",
    severity: Severity::Error,
    summary: "A Python object is initialised in memory from `malloc` or `PyMem_*`.",
    doc: r#"## What it does
Finds `PyObject_Init`, `PyObject_InitVar` (and the upper-case macros) on memory
allocated with `malloc`, `calloc` or a `PyMem_*` function.

## Why is this bad?
Every Python object must come from the object domain in the free-threaded build:
the garbage collector finds objects by walking that heap, and objects elsewhere
are never seen (or are freed into the wrong heap).

## Example
```c
PyObject *op = PyMem_Malloc(type->tp_basicsize);
PyObject_Init(op, type);
```

## Use instead
```c
PyObject *op = PyObject_New(PyObject, type);   /* or type->tp_alloc(type, 0) */
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let allocs = allocations(ctx);
    for call in &ctx.index.calls {
        if !capi::is_object_init(&call.name) {
            continue;
        }
        let (Some(fi), Some(arg)) = (call.function, call.args.first()) else {
            continue;
        };
        let key = storage_key(text(ctx, *arg), fi);
        let Some(a) = allocs
            .0
            .iter()
            .filter(|a| a.key == key && a.call(ctx).range.0 < call.range.0)
            .max_by_key(|a| a.call(ctx).range.0)
        else {
            continue;
        };
        if a.domain == Domain::Object || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &OBJECT_OUTSIDE_DOMAIN,
                call.name_range,
                format!("`{}` makes an object of memory from `{}` (line {}), outside the object domain", call.name, a.call(ctx).name, ctx.file.lines.line_of(a.call(ctx).range.0) + 1),
            )
            .with_help("allocate objects with `PyObject_New`/`PyObject_NewVar`, `PyObject_Malloc`, or the type's `tp_alloc`"),
        );
    }
}
