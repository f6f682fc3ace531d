//! FT320–FT339 — lock misuse: blocking on native locks while attached, `PyMutex`
//! copied or left uninitialised, unlocked on only some paths, `PyMutex_IsLocked`
//! as a decision, and the legacy `PyThread_type_lock`.

use std::collections::HashSet;

use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::entry::{Facts, GuardKind};
use crate::source::index::Init;

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

pub static RULES: &[&Rule] = &[
    &BLOCKING_NATIVE_LOCK,
    &PYMUTEX_COPIED_OR_UNINITIALISED,
    &PYMUTEX_UNLOCK_MISSING,
    &PYMUTEX_ISLOCKED_DECISION,
    &PYTHREAD_LOCK,
];

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !RULES.iter().any(|r| ctx.enabled(r)) {
        return;
    }
    let has = |w: &str| ctx.file.text.contains(w);
    if ![
        "PyMutex",
        "pthread_",
        "mutex",
        "lock_guard",
        "scoped_lock",
        "unique_lock",
        "WaitFor",
        "EnterCritical",
        "PyThread_",
        "sem_wait",
    ]
    .iter()
    .any(|w| has(w))
    {
        return;
    }
    let facts = Facts::build(ctx.file, ctx.index, &HashSet::new());
    blocking_native(ctx, &facts, out);
    mutex_copies(ctx, out);
    unlock_missing(ctx, out);
    is_locked(ctx, &facts, out);
    pythread_lock(ctx, out);
}

fn in_ft(ctx: &FileContext, off: usize) -> bool {
    let c = ctx.file.condition_at(off);
    ctx.ft_configs().iter().any(|cfg| c.eval(cfg).maybe())
}

/// Calls a function that needs an attached thread state.
fn uses_c_api(name: &str) -> bool {
    (name.starts_with("Py") || name.starts_with("_Py"))
        && !name.starts_with("PyMutex_")
        && !name.starts_with("PyThread_")
        && !name.starts_with("Py_BEGIN_ALLOW")
        && !name.starts_with("Py_END_ALLOW")
        && !name.starts_with("PyMem_Raw")
}

fn blocking_native(ctx: &FileContext, facts: &Facts, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&BLOCKING_NATIVE_LOCK) {
        return;
    }
    let idx = ctx.index;
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
    let detached = |off: usize| facts.guards_at(off).any(|g| g.kind == GuardKind::Detached);
    let mut sites: Vec<((usize, usize), String, Option<usize>)> = Vec::new();
    for c in &idx.calls {
        let member = c.callee.contains('.') || c.callee.contains("->");
        let blocking = match c.name.as_str() {
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
            "PyThread_acquire_lock" => c.args.get(1).is_some_and(|a| {
                let t = ctx.file.parse_text[a.0..a.1].trim();
                t == "WAIT_LOCK" || t == "1"
            }),
            "lock" => member && c.callee != "lock",
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

fn mutex_copies(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&PYMUTEX_COPIED_OR_UNINITIALISED) {
        return;
    }
    let idx = ctx.index;
    // Structs that hold a PyMutex by value.
    let holders: HashSet<&str> = idx
        .structs
        .iter()
        .filter(|s| s.fields.iter().any(|(_, t)| t.trim() == "PyMutex"))
        .flat_map(|s| s.names.iter().map(String::as_str))
        .collect();
    for d in &idx.decls {
        if d.is_pointer || d.is_array {
            continue;
        }
        let ty = d.base_type();
        let is_mutex = ty == "PyMutex";
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
            }) || t.contains("sizeof(PyMutex)")
        };
        match c.name.as_str() {
            "memcpy" | "memmove" if size_of_holder(&arg_text(2)) => {
                out.push(
                    ctx.diagnostic(&PYMUTEX_COPIED_OR_UNINITIALISED, c.range, "this copy duplicates a `PyMutex`".to_owned())
                        .with_help("copy the other fields one by one and leave the mutex alone (a copied locked mutex stays locked)"),
                );
            }
            "malloc" | "PyMem_Malloc" | "PyMem_RawMalloc" | "PyObject_Malloc" | "realloc"
            | "PyMem_Realloc" => {
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
                        && matches!(m.name.as_str(), "memset" | "bzero" | "ZeroMemory")
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

fn unlock_missing(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&PYMUTEX_UNLOCK_MISSING) {
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
        if lock.name != "PyMutex_Lock" {
            continue;
        }
        let Some(f) = lock.function else { continue };
        let m = arg(lock);
        let Some(unlock) = idx.calls[i + 1..]
            .iter()
            .find(|c| c.function == Some(f) && c.name == "PyMutex_Unlock" && arg(c) == m)
        else {
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

fn is_locked(ctx: &FileContext, facts: &Facts, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&PYMUTEX_ISLOCKED_DECISION) {
        return;
    }
    let idx = ctx.index;
    for c in idx.calls.iter().filter(|c| c.name == "PyMutex_IsLocked") {
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

fn pythread_lock(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&PYTHREAD_LOCK) {
        return;
    }
    for c in ctx
        .index
        .calls
        .iter()
        .filter(|c| c.name == "PyThread_allocate_lock")
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
