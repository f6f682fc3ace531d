//! FT401: a static variable written at runtime without synchronisation.

use super::{Scope, StaticWrite, StaticWriteKind, StaticWrites};
use crate::context::ProjectContext;
use crate::diagnostic::{Applicability, DeferredFix, Diagnostic, Fix, FixRequest, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::SourceFile;

pub static GLOBAL_WRITTEN_AT_RUNTIME: Rule = Rule {
    code: "FT401",
    name: "global-written-at-runtime",
    severity: Severity::Error,
    summary: "A mutable static variable is written by code that can run on many threads at once.",
    doc: r#"## What it does
Finds non-`const` variables with static storage — file-scope and function-local
`static`s, C++ namespace-scope variables and class-static members — that are written
(assigned, incremented, filled by `memcpy`/`snprintf`, replaced with `Py_SETREF`) in a
function Python can call: a method, a type slot, a getter/setter, a callback, or
anything those call. Writes are not findings when the function runs only during
module initialisation (`PyInit_*`, `Py_mod_exec`, `Py_mod_create` and what only they
call), when the variable is thread-local or atomic, when the write sits between a
lock and its unlock (`PyMutex`, pthread, Windows, C++ scoped locks), or when it is
compiled only without free threading (`#ifndef Py_GIL_DISABLED`).

Through the function summaries it also finds globals changed less visibly: through
a helper that only sees a pointer (`arena_alloc(&default_arena)` where
`arena_alloc` updates `a->used`), a global of another file declared `extern`,
and C++ containers mutated with `insert`, `erase`, `push_back`, `emplace`,
`clear`... — including singletons reached through an accessor
(`registry().types.emplace(...)` on the `static Registry r;` that `registry()`
returns) and class statics (`Tracker::instances.push_back(this)` in a
constructor). These are reported once per function, with notes for the helper's
line and one other function that changes the same global; `std::call_once`
bodies, thread-local and atomic variables and data filled only during module
initialisation stay quiet. Because the analysis cannot tell startup-only or benign
statistics code from a real race here, these findings are marked *likely*, never
*certain* (`--confidence certain` hides them).

Severity follows what can go wrong: `PyObject *` and other pointers are errors
(use-after-free, double free), other data warnings, counters that are only
incremented are informational (lost updates).

## Why is this bad?
The GIL used to serialise every call into the extension, so a global behaved like
a private variable. Without it two threads can write the same global at once: a
cached `PyObject *` is replaced while another thread still uses it, or a reference
is leaked or released twice.

## Example
```c
static PyObject *last_result;

static PyObject *compute(PyObject *module, PyObject *arg) {
    Py_XSETREF(last_result, Py_NewRef(arg));
    Py_RETURN_NONE;
}
```

## Use instead
Move the write into module initialisation (or into module state), make the variable
`thread_local` or atomic, or guard every access with one lock:
```c
static PyMutex last_result_lock = {0};

    PyMutex_Lock(&last_result_lock);
    Py_XSETREF(last_result, Py_NewRef(arg));
    PyMutex_Unlock(&last_result_lock);
```
## Fix
A C counter that is only ever incremented (`calls++`, `calls += n`) and whose address
is never taken gets an unsafe fix: its declaration becomes `static _Atomic long
calls`, so each increment is one atomic read-modify-write and each read an atomic
load. It is unsafe because MSVC compiles C11 atomics only with
`/experimental:c11atomics`. C++ variables and other writes get no fix.

ftaudit cannot see callers in other projects: a function nothing in the project
calls or refers to is assumed to run on any thread (reported as *likely*).

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
- Python free-threading guide, "Dealing with global state".
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    StaticWrites::report(project, &GLOBAL_WRITTEN_AT_RUNTIME, out, report);
    super::objects::global_findings(project, &GLOBAL_WRITTEN_AT_RUNTIME, out);
}

fn report(s: &Scope, sw: &StaticWrite, out: &mut Vec<Diagnostic>) {
    let StaticWriteKind::Global { counter } = sw.kind else {
        return;
    };
    let (w, d) = (&s.facts.writes[sw.write], &s.ctx.index.decls[sw.decl]);
    let Some(f) = w.function else { return };
    let fname = s.fn_name(f);
    let name = &d.name;
    let where_ = sw.storage(s);
    let severity = if sw.pointerish {
        Severity::Error
    } else if counter {
        Severity::Info
    } else {
        Severity::Warning
    };
    let help = if counter {
        format!("make `{name}` atomic (`_Atomic` / `std::atomic`, or `_Py_atomic_add_*`), or `thread_local` if each thread may keep its own count")
    } else {
        format!(
            "move the write into module init (or module state); or make `{name}` `thread_local`; or guard every access with one lock: `static PyMutex {name}_lock = {{0}};` then `PyMutex_Lock(&{name}_lock); ... PyMutex_Unlock(&{name}_lock);`"
        )
    };
    let diag = s
        .ctx
        .diagnostic(&GLOBAL_WRITTEN_AT_RUNTIME, w.range, format!("`{fname}` writes the {where_} `{name}` without synchronisation; it can run on many threads at once"))
        .with_help(help)
        .with_severity(severity)
        .with_confidence(s.confidence(Some(f)));
    // A counter only ever incremented becomes a C11 atomic (see
    // [`counter_fix`]), built when the run needs edits.
    out.push(if counter {
        diag.with_deferred_fix(DeferredFix::new(
            s.ctx.file.language == crate::source::Language::Cpp,
            FixRequest::AtomicCounter {
                name_at: d.name_range.0,
                name: name.clone(),
            },
        ))
    } else {
        diag
    });
}

/// The counter declared at `name_at` as a C11 atomic (see
/// [`crate::fix::statics::counter_to_atomic`]).
pub(crate) fn counter_fix(file: &SourceFile, name_at: usize, name: &str) -> Option<Fix> {
    let edits = crate::fix::statics::counter_to_atomic(file, name_at, name)?;
    Some(Fix {
        applicability: Applicability::Unsafe,
        message: format!("Make `{name}` a C11 `_Atomic` counter (MSVC needs /experimental:c11atomics; check every reader accepts an atomic load)"),
        edits,
    })
}
