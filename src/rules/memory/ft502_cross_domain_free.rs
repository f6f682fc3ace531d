//! FT502: a block freed by another domain than the one that allocated it.

use std::collections::HashMap;

use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{allocations, storage_key, text, Allocation, Domain};

pub static CROSS_DOMAIN_FREE: Rule = Rule {
    code: "FT502",
    name: "cross-domain-free",
    severity: Severity::Error,
    summary: "Memory is freed by a different allocator domain than the one that allocated it.",
    doc: r#"## What it does
Finds a pointer allocated with one domain (`malloc`, `PyMem_Raw*`, `PyMem_*`,
`PyObject_*`) and freed with another (`free`, `PyMem_RawFree`, `PyMem_Free`,
`PyObject_Free`). Locals are matched within a function; struct fields
(`self->buf`) across the file.

## Why is this bad?
Each domain has its own allocator; in the free-threaded build the object and raw
domains use separate heaps. Freeing a block into the wrong one corrupts memory.

## Example
```c
self->buf = PyMem_Malloc(n);
...
PyObject_Free(self->buf);
```

## Use instead
```c
PyMem_Free(self->buf);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
- C API reference: "Memory Management" (allocator domains).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let allocs = allocations(ctx);
    let mut by_key: HashMap<&str, Vec<&Allocation>> = HashMap::new();
    for a in &allocs.0 {
        by_key.entry(a.key.as_str()).or_default().push(a);
    }
    for call in &ctx.index.calls {
        let (Some(fd), Some(fi), Some(arg)) = (
            Domain::of_call(&call.name, true),
            call.function,
            call.args.first(),
        ) else {
            continue;
        };
        let key = storage_key(text(ctx, *arg), fi);
        let Some(sources) = by_key.get(key.as_str()) else {
            continue;
        };
        let domains: Vec<Domain> = sources.iter().map(|a| a.domain).collect();
        // Only when every allocation of this pointer disagrees with the free.
        if domains.contains(&fd) || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let Some(first) = sources.first() else {
            continue;
        };
        let line = ctx.file.lines.line_of(first.call(ctx).range.0) + 1;
        out.push(
            ctx.diagnostic(
                &CROSS_DOMAIN_FREE,
                call.name_range,
                format!(
                    "`{}` frees `{}`, allocated by `{}` (line {line}) from {}",
                    call.name,
                    text(ctx, *arg).trim(),
                    first.call(ctx).name,
                    first.domain.name()
                ),
            )
            .with_help(format!("free it with `{}`", first.domain.free_for()))
            .with_confidence(if key.starts_with("->") {
                Confidence::Likely
            } else {
                Confidence::Certain
            }),
        );
    }
}
