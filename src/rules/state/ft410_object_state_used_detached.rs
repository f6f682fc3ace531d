//! FT410: per-object state used while the thread is detached, without a lock held
//! across the region.

use super::objects::{self, reported_functions, SharedState};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::summary::AccessKind;

pub static OBJECT_STATE_USED_DETACHED: Rule = Rule {
    code: "FT410",
    name: "object-state-used-detached",
    severity: Severity::Error,
    summary: "Per-object state is used between `Py_BEGIN_ALLOW_THREADS` and `Py_END_ALLOW_THREADS` without a lock held across.",
    doc: r#"## What it does
Finds methods that use a field of `self` — write it, hand it (or a pointer into it)
to a call, or read a field another method changes — while the thread is detached
(`Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`, `PyEval_SaveThread`), unless a
mutex (`PyMutex`, a `PyThread` lock, pthread, C++ scoped locks, the file's own lock
macros) is held across the whole region. Uses made by helpers called inside the
region count too. Library contexts (`z_stream`, `EVP_*`, ...) are FT407's.

A critical section does not help here: detaching releases it, so another thread
can take the object while this one is still working on its state.

## Why is this bad?
With the GIL, a method that released it around a long computation still had the
object to itself, because the extension usually refused concurrent use or the
caller never shared the object. Without the GIL two threads can run
`hash_update(self->state, ...)` on the same object at once and corrupt it.

## Example
```c
static PyObject *Hash_update(HashObject *self, PyObject *data) {
    Py_BEGIN_ALLOW_THREADS
    hash_update(self->state, buf, len);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
```

## Use instead
Hold a mutex stored in the object across the detached region:
```c
    Py_BEGIN_ALLOW_THREADS
    PyMutex_Lock(&self->mutex);
    hash_update(self->state, buf, len);
    PyMutex_Unlock(&self->mutex);
    Py_END_ALLOW_THREADS
```
(`PyMutex_Lock` detaches by itself while it waits, so it may also be taken before
`Py_BEGIN_ALLOW_THREADS`.)

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections" (they are suspended when the thread detaches).
- CPython's `_hashlib`, `_bz2` and `_lzma` hold a `PyMutex` across their detached work.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let s = SharedState::of(project);
    for id in reported_functions(project, &OBJECT_STATE_USED_DETACHED, true) {
        let pf = &project.files[id.0];
        let found = objects::object_accesses(&s, pf, id).find(|(a, key)| {
            let p = a.protection;
            if !p.detached || p.mutex || p.atomic || p.once {
                return false;
            }
            a.kind.changes()
                || (a.kind == AccessKind::Pass && objects::pointer_field(&s, key))
                || s.others(key, id).any(|(_, o)| o.kind.changes())
        });
        let Some((a, key)) = found else { continue };
        let name = s.fn_name(id);
        let (st_name, field_name) = s.names(key);
        let conflict = objects::conflict(&s, &key, id, |o| o.kind.changes());
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
                &OBJECT_STATE_USED_DETACHED,
                objects::site(a),
                format!(
                    "`{name}` {} the field `{}` of `{}`{} while detached, with no lock held across the region; another thread can use the same object",
                    a.kind.verb(),
                    field_name,
                    st_name,
                    objects::through(&s, a)
                ),
            )
            .with_help(
                "hold a `PyMutex` stored in the object across the detached region (a critical section is released while detached)",
            );
        out.push(objects::finish(
            d,
            notes,
            pf,
            Severity::Error,
            objects::confidence(project, id),
        ));
    }
}
