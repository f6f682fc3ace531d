//! FT409: a field read outside a critical section while another function
//! reallocates, frees or replaces it.

use super::objects::{self, reported_functions, SharedState};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::summary::AccessKind;

pub static READER_OF_INVALIDATED_FIELD: Rule = Rule {
    code: "FT409",
    name: "reader-of-invalidated-field",
    severity: Severity::Error,
    summary: "A method reads a field of `self` without a lock while another method reallocates, frees or replaces it.",
    doc: r#"## What it does
Finds the reading side of a per-object race: a method, getter or slot of an
extension type that reads a field of the object (or hands it to a call, or takes a
new reference to it) outside a critical section or lock, while another function
that can run on the same object changes that field — reallocates a buffer
(`PyMem_Realloc`, `PyMem_Resize`), frees it, replaces an object reference
(`Py_SETREF`, `Py_CLEAR`, assignment) or writes it. Accesses made by helpers count
for the method that calls them: `tobytes` reading `self->buf` through `view(self)`
is reported at the call to `view`, and the note names the conflicting function.

Buffers and object pointers are errors (the reader can use freed memory); plain
scalars are warnings (a stale or torn value). Lifecycle slots (`tp_new`,
`tp_dealloc`, `tp_clear`, `tp_traverse`, finalizers, `tp_init`), objects the
function just allocated, atomics and fields of types listed in
`thread-confined-types` are not findings; with `objects-shared-between-threads =
false` the rule reports at *info* severity.

## Why is this bad?
Without the GIL, `count` can run on one thread while `append` on another
reallocates `self->buf`: the reader walks freed memory.

## Example
```c
static PyObject *Buf_count(BufObject *self, PyObject *x) {
    return PyLong_FromSsize_t(count_in(self->buf, self->len, x));
}
static PyObject *Buf_append(BufObject *self, PyObject *x) {
    Py_BEGIN_CRITICAL_SECTION(self);
    grow(self, self->len + 1);   /* PyMem_Realloc(self->buf, ...) */
    Py_END_CRITICAL_SECTION();
    ...
}
```

## Use instead
Read under the same critical section the writer holds:
```c
static PyObject *Buf_count(BufObject *self, PyObject *x) {
    Py_ssize_t n;
    Py_BEGIN_CRITICAL_SECTION(self);
    n = count_in(self->buf, self->len, x);
    Py_END_CRITICAL_SECTION();
    return PyLong_FromSsize_t(n);
}
```

## Fix
With `--unsafe-fixes`, the reader's whole body runs in
`Py_BEGIN_CRITICAL_SECTION(self)` ... `Py_END_CRITICAL_SECTION()` with one way out,
as FT406's fix does for writers. It is unsafe because it changes the locking: it
only helps when the writers hold the same section, and calls in the body that run
Python code can suspend it. Bodies that already hold a critical section, have
preprocessor conditionals, or return from inside a nested loop or `switch` get no fix.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- CPython's `bytearray`, `array` and `_io` buffers take the object's critical section in readers as well as writers.
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let s = SharedState::of(project);
    for id in reported_functions(project, &READER_OF_INVALIDATED_FIELD, true) {
        let pf = &project.files[id.0];
        let list = s.summaries.of(id);
        let found = objects::object_accesses(&s, pf, id).find_map(|(a, key)| {
            if !matches!(a.kind, AccessKind::Read | AccessKind::Pass)
                || a.protection.protects_object()
                // Detached use is FT410's.
                || a.protection.detached
                || objects::changes_itself(&s, list, &key)
            {
                return None;
            }
            // Another function that invalidates the field (best), or writes it.
            let writer = s
                .others(&key, id)
                .find(|(_, o)| o.kind.invalidates() && !o.lazy)
                .or_else(|| {
                    s.others(&key, id)
                        .find(|(_, o)| objects::conflicting_change(o.kind) && !o.lazy)
                })?;
            Some((a, key, writer))
        });
        let Some((a, key, (wid, w))) = found else {
            continue;
        };
        let pointer = objects::pointer_field(&s, &key);
        let severity = if pointer && w.kind.invalidates() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let name = s.fn_name(id);
        let (st_name, field_name) = s.names(key);
        let writer = s.fn_name(wid).to_owned();
        let notes = objects::notes(project, &s, a, Some((wid, w)), |f, o| {
            format!("`{f}` {} `{}` here", o.kind.verb(), field_name)
        });
        let d = pf
            .context()
            .diagnostic(
                &READER_OF_INVALIDATED_FIELD,
                objects::site(a),
                format!(
                    "`{name}` reads the field `{}` of `{}`{} outside a critical section while `{writer}` {} it",
                    field_name,
                    st_name,
                    objects::through(&s, a),
                    w.kind.verb()
                ),
            )
            .with_help(format!(
                "read `{}` inside `Py_BEGIN_CRITICAL_SECTION(self);` ... `Py_END_CRITICAL_SECTION();`, the lock `{writer}` must hold too (or copy it out under that lock)",
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
