//! FT322: a `return` between `PyMutex_Lock` and its `PyMutex_Unlock`.

use super::{in_ft, is_pymutex};
use crate::capi::LockRole;
use crate::context::FileContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static PYMUTEX_UNLOCK_MISSING: Rule = Rule {
    code: "FT322",
    name: "pymutex-not-unlocked-on-return",
    severity: Severity::Error,
    summary: "A function returns while still holding a `PyMutex` it locked.",
    doc: r#"## What it does
Finds a `return` between `PyMutex_Lock(m)` and the matching `PyMutex_Unlock(m)` of the
same function, typically on an error path.

## Why is this bad?
The mutex stays locked, and the next thread that needs it waits for ever. `PyMutex`
is not reentrant, so even the same thread deadlocks.

## Example
```c
PyMutex_Lock(&cache_lock);
if (key == NULL) {
    return NULL;
}
PyMutex_Unlock(&cache_lock);
```

## Use instead
Unlock on every path, usually with one exit:
```c
PyMutex_Lock(&cache_lock);
if (key == NULL) {
    goto done;
}
...
done:
PyMutex_Unlock(&cache_lock);
```

## References
- C API reference, *Synchronization primitives*: `PyMutex_Lock`, `PyMutex_Unlock`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !super::mentions_locks(ctx) {
        return;
    }
    let idx = ctx.index;
    let arg = |c: &crate::source::index::Call| {
        c.args
            .first()
            .map(|a| ctx.file.parse_text[a.0..a.1].replace(char::is_whitespace, ""))
            .unwrap_or_default()
    };
    for (i, lock) in idx.calls.iter().enumerate() {
        if !is_pymutex(&lock.name, LockRole::Acquire) {
            continue;
        }
        let Some(f) = lock.function else { continue };
        let m = arg(lock);
        let Some(unlock) = idx.calls[i + 1..].iter().find(|c| {
            c.function == Some(f) && is_pymutex(&c.name, LockRole::Release) && arg(c) == m
        }) else {
            continue;
        };
        for r in &idx.functions[f].returns {
            if r.0 > lock.range.1 && r.1 < unlock.range.0 && in_ft(ctx, r.0) {
                out.push(
                    ctx.diagnostic(&PYMUTEX_UNLOCK_MISSING, *r, format!("this return leaves `{m}` locked (locked on line {})", ctx.file.span(lock.range.0, lock.range.1).start_line))
                        .with_help(format!("call `PyMutex_Unlock({m})` before returning, or jump to one exit that unlocks")),
                );
            }
        }
    }
}
