//! FT324: a legacy `PyThread_type_lock` where a `PyMutex` would do.

use super::in_ft;
use crate::capi::{self, Lock, LockPrimitive, LockRole};
use crate::context::FileContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static PYTHREAD_LOCK: Rule = Rule {
    code: "FT324",
    name: "pythread-lock-instead-of-pymutex",
    severity: Severity::Info,
    summary: "A `PyThread_type_lock` is allocated where a `PyMutex` would do.",
    doc: r#"## What it does
Finds `PyThread_allocate_lock` calls.

## Why is this bad?
Not a bug. The legacy lock needs an allocation, can fail, must be freed, and does not
detach while waiting unless wrapped by hand. `PyMutex` (3.13+) is one byte, needs no
allocation and detaches while it blocks.

## Example
```c
self->lock = PyThread_allocate_lock();
PyThread_acquire_lock(self->lock, WAIT_LOCK);
```

## Use instead
```c
PyMutex lock;            /* a field: objects are zeroed by tp_alloc */
PyMutex_Lock(&self->lock);
```

## References
- C API reference, *Synchronization primitives*: `PyMutex`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !super::mentions_locks(ctx) {
        return;
    }
    for c in ctx
        .index
        .calls
        .iter()
        .filter(|c| is_legacy_allocation(&c.name))
    {
        if !in_ft(ctx, c.range.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(&PYTHREAD_LOCK, c.range, "`PyThread_allocate_lock` allocates a legacy lock; a `PyMutex` needs no allocation".to_owned())
                .with_help("replace the `PyThread_type_lock` with a zero-initialised `PyMutex` and `PyMutex_Lock`/`PyMutex_Unlock` (3.13+)"),
        );
    }
}

/// `PyThread_allocate_lock`: allocates a legacy lock.
fn is_legacy_allocation(name: &str) -> bool {
    let allocate = Lock {
        primitive: LockPrimitive::PyThreadLock,
        role: LockRole::Allocate,
    };
    capi::lock_call(name) == Some(allocate)
}
