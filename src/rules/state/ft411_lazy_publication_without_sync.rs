//! FT411: a field of `self` filled on first use without an atomic or a lock.

use super::objects::{self, reported_functions, SharedState};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::summary::AccessKind;

pub static LAZY_PUBLICATION_WITHOUT_SYNC: Rule = Rule {
    code: "FT411",
    name: "lazy-publication-without-sync",
    severity: Severity::Warning,
    summary: "A field of `self` is filled on first use (`if (!self->x) self->x = ...`) without an atomic or a lock.",
    doc: r#"## What it does
Finds lazy publication of per-object state in methods Python can call: a field
assigned under a test of that same field for emptiness, such as
`if (self->index == NULL) self->index = build(self);`, or the flag-then-fill
pattern `if (!ct->realized) { fill fields; ct->realized = 1; }`, done directly or
in a helper, without a critical section, a mutex, an atomic store or a one-time
initialiser (`std::call_once`, `PyOnceFlag`). The note names another function that
reads the field.

## Why is this bad?
Two threads can both see the field empty and both build it (one result leaks or is
freed while the other thread uses it), and a reader on a third thread can see the
flag set before the fields it guards are written, because plain stores may become
visible in any order.

## Example
```c
static PyObject *Table_lookup(TableObject *self, PyObject *key) {
    if (self->index == NULL) {
        self->index = build_index(self);
    }
    return index_find(self->index, key);
}
```

## Use instead
Build under the object's critical section (readers take it too), or publish with
an atomic compare-and-swap:
```c
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->index == NULL) {
        self->index = build_index(self);
    }
    res = index_find(self->index, key);
    Py_END_CRITICAL_SECTION();
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- `_PyOnceFlag_CallOnce` and `_Py_atomic_compare_exchange_ptr` in CPython's own lazy caches.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let s = SharedState::of(project);
    for id in reported_functions(project, &LAZY_PUBLICATION_WITHOUT_SYNC, true) {
        let pf = &project.files[id.0];
        let found = objects::object_accesses(&s, pf, id).find(|(a, _)| {
            a.lazy
                && matches!(a.kind, AccessKind::Write | AccessKind::Replace)
                && !a.protection.protects_object()
        });
        let Some((a, key)) = found else { continue };
        let name = s.fn_name(id);
        let (st_name, field_name) = s.names(key);
        let reader = objects::conflict(&s, &key, id, |o| !o.kind.changes());
        let notes = objects::notes(project, &s, a, reader, |f, o| {
            let how = if o.protection.protects_object() {
                "under its own lock, which this function does not take"
            } else {
                "without synchronisation"
            };
            format!("`{f}` {} `{}` {how}", o.kind.verb(), field_name)
        });
        let d = pf
            .context()
            .diagnostic(
                &LAZY_PUBLICATION_WITHOUT_SYNC,
                objects::site(a),
                format!(
                    "`{name}` fills the field `{}` of `{}` on first use{} without an atomic or a lock; two threads can both fill it, and readers can see it half-built",
                    field_name,
                    st_name,
                    objects::through(&s, a)
                ),
            )
            .with_help(format!(
                "fill and read `{}` under `Py_BEGIN_CRITICAL_SECTION(self);` ... `Py_END_CRITICAL_SECTION();`, or publish it with `_Py_atomic_compare_exchange_ptr` and read it with `_Py_atomic_load_ptr`",
                field_name
            ));
        out.push(objects::finish(
            d,
            notes,
            pf,
            Severity::Warning,
            objects::confidence(project, id),
        ));
    }
}
