//! FT321: a `PyMutex` copied, or created without zero-initialisation.

use std::collections::HashSet;

use super::in_ft;
use crate::capi::{self, AllocOp, LockPrimitive};
use crate::context::FileContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::index::Init;

pub static PYMUTEX_COPIED_OR_UNINITIALISED: Rule = Rule {
    code: "FT321",
    name: "pymutex-copied-or-uninitialised",
    severity: Severity::Error,
    summary: "A `PyMutex` is copied, or created without being zero-initialised.",
    doc: r#"## What it does
Finds a `PyMutex` (or a struct holding one) that is copied — initialised from another
variable, assigned, or `memcpy`'d — and one that starts with garbage: an automatic
`PyMutex` without an initialiser, or a struct holding one allocated with `malloc`/
`PyMem_Malloc` and never cleared.

## Why is this bad?
A `PyMutex` must start as all zero bytes and must stay where it is: a copy of a locked
mutex is locked for ever, and garbage bits look like a held lock or parked waiters.

## Example
```c
PyMutex m;
state_t *st = PyMem_Malloc(sizeof(state_t));   /* state_t holds a PyMutex */
```

## Use instead
```c
PyMutex m = {0};
state_t *st = PyMem_Calloc(1, sizeof(state_t));
```

## References
- C API reference, *Synchronization primitives*: `PyMutex` must be zero-initialised and not copied or moved.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !super::mentions_locks(ctx) {
        return;
    }
    let idx = ctx.index;
    // Structs that hold a PyMutex by value.
    let holders: HashSet<&str> = idx
        .structs
        .iter()
        .filter(|s| {
            s.fields
                .iter()
                .any(|(_, t)| capi::is_pymutex_type(t.trim()))
        })
        .flat_map(|s| s.names.iter().map(String::as_str))
        .collect();
    for d in &idx.decls {
        if d.is_pointer || d.is_array {
            continue;
        }
        let ty = d.base_type();
        let is_mutex = capi::is_pymutex_type(ty);
        if !is_mutex && !holders.contains(ty) {
            continue;
        }
        if !in_ft(ctx, d.range.0) {
            continue;
        }
        match &d.init {
            None if is_mutex && d.function.is_some() && !d.storage.is_static => {
                out.push(
                    ctx.diagnostic(
                        &PYMUTEX_COPIED_OR_UNINITIALISED,
                        d.range,
                        format!("the local `PyMutex {}` is not zero-initialised", d.name),
                    )
                    .with_help(format!("write `PyMutex {} = {{0}};`", d.name)),
                );
            }
            Some(Init::Expr { text, .. })
                if !text.trim_start().starts_with('{') && !text.contains('(') =>
            {
                out.push(
                    ctx.diagnostic(&PYMUTEX_COPIED_OR_UNINITIALISED, d.range, format!("`{}` copies a `PyMutex` from `{}`", d.name, text.trim()))
                        .with_help("a `PyMutex` must not be copied or moved: share a pointer to it, or start the new one at `{0}`"),
                );
            }
            _ => {}
        }
    }
    for c in &idx.calls {
        let arg_text = |i: usize| {
            c.args
                .get(i)
                .map(|a| ctx.file.parse_text[a.0..a.1].to_owned())
                .unwrap_or_default()
        };
        let size_of_holder = |t: &str| {
            holders.iter().any(|h| {
                t.contains(&format!("sizeof({h})")) || t.contains(&format!("sizeof(struct {h})"))
            }) || t.contains(&format!(
                "sizeof({})",
                capi::lock_type_name(LockPrimitive::PyMutex)
            ))
        };
        match c.name.as_str() {
            // libc: copies (not the C API).
            "memcpy" | "memmove" if size_of_holder(&arg_text(2)) => {
                out.push(
                    ctx.diagnostic(&PYMUTEX_COPIED_OR_UNINITIALISED, c.range, "this copy duplicates a `PyMutex`".to_owned())
                        .with_help("copy the other fields one by one and leave the mutex alone (a copied locked mutex stays locked)"),
                );
            }
            n if allocates_unzeroed(n) => {
                let text: String = c
                    .args
                    .iter()
                    .map(|a| &ctx.file.parse_text[a.0..a.1])
                    .collect::<Vec<_>>()
                    .join(",");
                if !size_of_holder(&text) {
                    continue;
                }
                // The variable receiving the allocation, then a later memset of it.
                let target = idx
                    .decls
                    .iter()
                    .find(|d| {
                        d.function == c.function
                            && d.init.as_ref().is_some_and(|i| {
                                i.range().0 <= c.range.0 && c.range.1 <= i.range().1
                            })
                    })
                    .map(|d| d.name.as_str());
                let cleared = idx.calls.iter().any(|m| {
                    m.function == c.function
                        && m.range.0 > c.range.0
                        && CLEARS.contains(&m.name.as_str())
                        && target.is_none_or(|t| {
                            m.args
                                .first()
                                .is_some_and(|a| ctx.file.parse_text[a.0..a.1].contains(t))
                        })
                });
                if cleared || !in_ft(ctx, c.range.0) {
                    continue;
                }
                out.push(
                    ctx.diagnostic(&PYMUTEX_COPIED_OR_UNINITIALISED, c.range, format!("`{}` leaves the `PyMutex` inside this allocation uninitialised", c.name))
                        .with_help("allocate with `PyMem_Calloc(1, size)` (or `calloc`), or `memset` the struct to zero before first use"),
                );
            }
            _ => {}
        }
    }
}

/// Allocators that do not zero memory: the C API's mallocs and reallocs in every
/// domain, and libc's.
fn allocates_unzeroed(name: &str) -> bool {
    // libc: the C library's allocators (not the C API).
    const LIBC: [&str; 2] = ["malloc", "realloc"];
    LIBC.contains(&name)
        || capi::allocator(name).is_some_and(|a| matches!(a.op, AllocOp::Alloc | AllocOp::Realloc))
}

/// libc (and Windows) calls that zero memory (not the C API).
const CLEARS: [&str; 3] = ["memset", "bzero", "ZeroMemory"];
