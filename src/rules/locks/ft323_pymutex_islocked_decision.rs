//! FT323: `PyMutex_IsLocked` deciding what the program does.

use super::in_ft;
use crate::capi::LockRole;
use crate::context::FileContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static PYMUTEX_ISLOCKED_DECISION: Rule = Rule {
    code: "FT323",
    name: "pymutex-islocked-decision",
    severity: Severity::Warning,
    summary: "`PyMutex_IsLocked` decides what the program does.",
    doc: r#"## What it does
Finds `PyMutex_IsLocked` in the condition of an `if`, `while`, `for` or `do`
outside `assert`. Reporting the state (a `locked()` method, a `repr`) is not a finding.

## Why is this bad?
The answer is stale as soon as it is returned: another thread can lock or unlock
the mutex right after. It is meant for assertions only.

## Example
```c
if (!PyMutex_IsLocked(&m)) {
    PyMutex_Lock(&m);
}
```

## Use instead
Lock unconditionally, or keep an explicit owner record; use `PyMutex_IsLocked`
only in `assert(PyMutex_IsLocked(&m));`.

## References
- C API reference, *Synchronization primitives*: `PyMutex_IsLocked`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let Some(facts) = super::lock_facts(ctx) else {
        return;
    };
    let idx = ctx.index;
    for c in idx
        .calls
        .iter()
        .filter(|c| super::is_pymutex(&c.name, LockRole::Query))
    {
        let decides = facts
            .branches
            .iter()
            .any(|b| b.statement && b.condition.0 <= c.range.0 && c.range.1 <= b.condition.1);
        if !decides {
            continue;
        }
        let in_assert = idx.calls.iter().any(|a| {
            a.range.0 < c.range.0
                && c.range.1 <= a.range.1
                && a.name.to_ascii_lowercase().contains("assert")
        });
        if in_assert || !in_ft(ctx, c.range.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &PYMUTEX_ISLOCKED_DECISION,
                c.range,
                "`PyMutex_IsLocked` is stale as soon as it returns; do not decide on it".to_owned(),
            )
            .with_help("lock unconditionally; keep `PyMutex_IsLocked` for `assert(...)`"),
        );
    }
}
