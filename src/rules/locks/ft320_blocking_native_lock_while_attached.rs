//! FT320: a native (non-Python) lock acquired while the thread is attached.

use std::collections::HashSet;

use super::in_ft;
use crate::capi::{self, Lock, LockPrimitive, LockRole};
use crate::context::FileContext;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::entry::GuardKind;

pub static BLOCKING_NATIVE_LOCK: Rule = Rule {
    code: "FT320",
    name: "blocking-native-lock-while-attached",
    severity: Severity::Warning,
    summary: "A non-Python lock is acquired while the thread is attached to the interpreter.",
    doc: r#"## What it does
Finds blocking acquisitions of locks the interpreter does not know about —
`pthread_mutex_lock`, `pthread_cond_wait`, `sem_wait`, `std::mutex::lock`,
`std::lock_guard`/`std::unique_lock`/`std::scoped_lock`, `WaitForSingleObject`,
`EnterCriticalSection`, `PyThread_acquire_lock(lock, WAIT_LOCK)` — outside
`Py_BEGIN_ALLOW_THREADS` in functions that use the C API (so run attached).

## Why is this bad?
A thread blocked on such a lock stays attached. If the holder needs something only
attached threads can give — a stop-the-world pause for garbage collection, or the GIL
in a default build — both wait for ever. `PyMutex` detaches while it waits, so it
cannot deadlock this way.

## Example
```c
pthread_mutex_lock(&table_lock);
PyObject *v = PyDict_GetItemWithError(table, key);
```

## Use instead
```c
static PyMutex table_lock = {0};
PyMutex_Lock(&table_lock);
```
or release the thread state around the wait (`Py_BEGIN_ALLOW_THREADS` ...
`Py_END_ALLOW_THREADS`) when no C API is called while the lock is held.

## References
- CPython howto *C API Extension Support for Free Threading*, "Thread State and GIL APIs".
- Python free-threading guide: `PyMutex` releases the thread state while blocked.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let Some(facts) = super::lock_facts(ctx) else {
        return;
    };
    let idx = ctx.index;
    let detached = |off: usize| facts.guards_at(off).any(|g| g.kind == GuardKind::Detached);
    let mut sites: Vec<((usize, usize), String, Option<usize>)> = Vec::new();
    for c in &idx.calls {
        let blocking = match c.name.as_str() {
            // native: blocking acquisitions of POSIX and Windows locks (not the C API).
            "pthread_mutex_lock"
            | "pthread_cond_wait"
            | "pthread_cond_timedwait"
            | "sem_wait"
            | "WaitForSingleObject"
            | "WaitForMultipleObjects"
            | "EnterCriticalSection"
            | "AcquireSRWLockExclusive"
            | "AcquireSRWLockShared"
            | "pthread_rwlock_rdlock"
            | "pthread_rwlock_wrlock" => true,
            // The untimed legacy acquire (`lock, waitflag`) waits when told to.
            n if is_legacy_acquire(n, c.args.len()) => c.args.get(1).is_some_and(|a| {
                let t = ctx.file.parse_text[a.0..a.1].trim();
                t == "WAIT_LOCK" || t == "1"
            }),
            "lock" => (c.callee.contains('.') || c.callee.contains("->")) && c.callee != "lock",
            _ => false,
        };
        if blocking {
            sites.push((c.range, format!("`{}`", c.callee), c.function));
        }
    }
    for (range, t) in &facts.scoped_locks {
        sites.push((
            *range,
            format!("`{t}`"),
            crate::source::entry::fn_at(idx, range.0),
        ));
    }
    if sites.is_empty() {
        return;
    }
    // Functions that run attached: they call the C API or take/return Python objects.
    let mut attached_fn: HashSet<usize> = idx
        .calls
        .iter()
        .filter(|c| uses_c_api(&c.name))
        .filter_map(|c| c.function)
        .collect();
    for (i, f) in idx.functions.iter().enumerate() {
        if f.specifiers.contains("PyObject") || f.params.iter().any(|p| p.ty.contains("PyObject")) {
            attached_fn.insert(i);
        }
    }
    for (range, what, f) in sites {
        let Some(f) = f else { continue };
        if !attached_fn.contains(&f) || detached(range.0) || !in_ft(ctx, range.0) {
            continue;
        }
        // Certain when the C API is called while the native lock is held.
        let held_api = idx.calls.iter().any(|c| {
            c.function == Some(f)
                && c.range.0 > range.1
                && uses_c_api(&c.name)
                && facts
                    .guards_at(c.range.0)
                    .any(|g| g.range.0 <= range.0 && g.kind == GuardKind::Mutex)
        });
        out.push(
            ctx.diagnostic(&BLOCKING_NATIVE_LOCK, range, format!("{what} blocks on a lock the interpreter does not know about while this thread is attached"))
                .with_help("use a `PyMutex` (it detaches while it waits): `static PyMutex lock = {0};` with `PyMutex_Lock(&lock);` ... `PyMutex_Unlock(&lock);`; or wrap the wait in `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS` and call no C API while holding it")
                .with_confidence(if held_api { Confidence::Certain } else { Confidence::Likely }),
        );
    }
}

/// `PyThread_acquire_lock(lock, waitflag)`: the legacy lock's acquire whose second
/// argument says whether to wait (the `_timed` form takes a timeout there).
fn is_legacy_acquire(name: &str, args: usize) -> bool {
    let acquire = Lock {
        primitive: LockPrimitive::PyThreadLock,
        role: LockRole::Acquire,
    };
    args == 2 && capi::lock_call(name) == Some(acquire)
}

/// Calls a function that needs an attached thread state.
fn uses_c_api(name: &str) -> bool {
    (name.starts_with("Py") || name.starts_with("_Py")) && !capi::callable_detached(name)
}
