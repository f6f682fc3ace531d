//! FT406: a `self->` field written outside a critical section.

use super::objects::{self, reported_functions, SharedState};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::summary::AccessKind;

pub static UNLOCKED_SELF_FIELD: Rule = Rule {
    code: "FT406",
    name: "unlocked-object-field",
    severity: Severity::Warning,
    summary:
        "A method or slot changes a field of `self` outside a critical section, directly or through helpers.",
    doc: r#"## What it does
Finds methods, getters/setters and slots of extension types that change per-object
state outside `Py_BEGIN_CRITICAL_SECTION(self)` or a lock: write a field, update it
(`+=`, `++`), replace an object field (`Py_SETREF`/`Py_XSETREF`/`Py_CLEAR`,
assignment), reallocate or free a buffer, or mutate a container it holds (C++
`push_back`, `insert`, `erase`, ...). Changes made by helpers count for the method
that calls them — `append` calling `resize(self, n)`, which reallocates
`self->buf`, is reported at the call, with a note pointing at the helper's line —
and so do C++ members changed through member functions (`self->solver->add(c)`).
There is one finding per method, at its first unprotected change, with a note
naming another method that uses the same field. Reading the other side of such a
race is FT409; use while detached is FT410; first-use fills are FT411.

`tp_new`, `tp_init`, `tp_dealloc`, `tp_traverse`, `tp_clear` (and helpers only they
call), objects the method has just allocated, atomics, `PyMutex`/library-context
fields, code after an ownership check (`if (!check_thread(self)) return NULL;`) and
functions every caller of which holds a lock are not findings: no other thread can
use the object there. Locks taken through the file's own macros
(`#define ENTER_X(o) PyThread_acquire_lock((o)->lock, 1)`) count.

Projects whose objects are documented as not shareable between threads (NumPy's
policy for arrays) can set `objects-shared-between-threads = false` in
`[tool.ftaudit]`: this rule then reports at *info* severity; types confined to one
thread by design can be listed in `thread-confined-types` and are skipped. The
settings never affect the global-state rules.

## Why is this bad?
One instance can be used from two threads. If one replaces `self->value` while the
other returns it, the second can hand out an object that was just released.

## Example
```c
static PyObject *Box_set(BoxObject *self, PyObject *value) {
    Py_XSETREF(self->value, Py_NewRef(value));
    Py_RETURN_NONE;
}
```

## Use instead
```c
static PyObject *Box_set(BoxObject *self, PyObject *value) {
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->value, Py_NewRef(value));
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}
```
Readers take the same critical section around `Py_NewRef(self->value)`.

## Fix
With `--unsafe-fixes`, the method's whole body is wrapped in
`Py_BEGIN_CRITICAL_SECTION(self)` ... `Py_END_CRITICAL_SECTION()`, with every
`return` turned into "record the value, leave the section" and the return made after
it. It is unsafe because it changes the locking: readers of the field need the same
section, and calls in the body that run Python code can suspend it. Bodies that
already hold a critical section, have preprocessor conditionals, or return from
inside a nested loop or `switch` get no fix.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- msgpack took per-object critical sections when porting.
"#,
    fix: FixAvailability::Sometimes,
};

/// FT406: per-object state changed outside a critical section, directly or through
/// helpers; one finding per function.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let s = SharedState::of(project);
    for id in reported_functions(project, &UNLOCKED_SELF_FIELD, true) {
        let pf = &project.files[id.0];
        let Some((a, key)) = objects::object_accesses(&s, pf, id).find(|(a, _)| {
            a.kind.changes()
                && !a.lazy
                && !a.protection.protects_object()
                // Detached use is FT410's.
                && !a.protection.detached
        }) else {
            continue;
        };
        let name = s.fn_name(id);
        let (st_name, field_name) = s.names(key);
        let obj = matches!(a.kind, AccessKind::Replace)
            || s.field(st_name, field_name)
                .is_some_and(|(t, _)| super::is_object_type(t));
        let severity = if obj
            || matches!(a.kind, AccessKind::Realloc | AccessKind::Free)
            || (matches!(a.kind, AccessKind::Write | AccessKind::Mutate)
                && objects::pointer_field(&s, &key))
        {
            Severity::Error
        } else {
            Severity::Warning
        };
        // One conflicting function: prefer one that changes the field too, else a reader.
        let conflict = objects::conflict(&s, &key, id, |o| o.kind.changes());
        let what = if obj && a.kind == AccessKind::Write {
            "replaces"
        } else {
            a.kind.verb()
        };
        let notes = objects::notes(project, &s, a, conflict, |f, o| {
            format!(
                "`{f}` {} `{}` of the same object",
                o.kind.verb(),
                field_name
            )
        });
        let d = pf
            .context()
            .diagnostic(
                &UNLOCKED_SELF_FIELD,
                objects::site(a),
                format!(
                    "`{name}` {what} the field `{}` of `{}`{} outside a critical section; another thread can use the same object",
                    field_name,
                    st_name,
                    objects::through(&s, a)
                ),
            )
            .with_help(format!(
                "wrap the body in `Py_BEGIN_CRITICAL_SECTION(self);` ... `Py_END_CRITICAL_SECTION();` (and the other functions using `{}` too), or hold a `PyMutex` stored in the object",
                field_name
            ));
        let d = objects::with_lock_body_fix(project, id, d, objects::site(a).0);
        out.push(objects::finish(
            d,
            notes,
            pf,
            severity,
            objects::confidence(project, id),
        ));
    }
}
