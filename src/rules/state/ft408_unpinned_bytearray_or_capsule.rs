//! FT408: bytearray internals or capsule fields used on a possibly shared object.

use super::Scope;
use crate::capi::{self, RawInternals};
use crate::context::ProjectContext;
use crate::diagnostic::Confidence;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::entry::WriteKind;

pub static UNPINNED_BUFFER: Rule = Rule {
    code: "FT408",
    name: "unpinned-bytearray-or-capsule",
    severity: Severity::Warning,
    summary: "A `bytearray`'s internal buffer or a capsule's pointer is used on a possibly shared object.",
    doc: r#"## What it does
Finds `PyByteArray_AS_STRING`/`PyByteArray_AsString` on a bytearray this function
did not create, and `PyCapsule_SetPointer`/`SetContext`/`SetName`/`SetDestructor` on
a capsule it did not create, outside a critical section or lock.

## Why is this bad?
Another thread can resize a shared bytearray, which frees the buffer the raw pointer
points into. Capsule fields are not synchronised at all.

## Example
```c
char *p = PyByteArray_AS_STRING(arg);
memcpy(out, p, n);
```

## Use instead
Pin the buffer with the buffer protocol (`PyObject_GetBuffer` ... `PyBuffer_Release`),
which makes a resize fail while the view exists, or hold a critical section on the
object for the whole use.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- CPython thread-safety annotations for `PyByteArray_AsString`.
"#,
    fix: FixAvailability::None,
};

/// FT408: bytearray internals and capsule setters on objects this function did not create.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    super::check_files(project, &UNPINNED_BUFFER, out, check_file);
}

fn check_file(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    for c in &idx.calls {
        let Some(kind) = capi::raw_internals_accessor(&c.name) else {
            continue;
        };
        let creators: Vec<&str> = capi::fresh_holder_constructors(kind).collect();
        let (what, help) = match kind {
            RawInternals::ByteArrayBuffer => (
                "a bytearray's internal buffer",
                "pin it with `PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE)` ... `PyBuffer_Release(&view)` (a resize then fails), or hold `Py_BEGIN_CRITICAL_SECTION(obj)` for the whole use",
            ),
            RawInternals::CapsuleFields => (
                "a capsule's fields",
                "set capsule fields only before the capsule is published, or guard every get and set with one `PyMutex`",
            ),
        };
        let Some(f) = c.function else { continue };
        if !s.concurrent(Some(f)) || !s.in_ft(c.range.0) || s.locked(c.range.0, true, &[]) {
            continue;
        }
        let Some(arg) = c.args.first().map(|a| s.text(*a).trim()) else {
            continue;
        };
        let arg = arg.rsplit(')').next().unwrap_or(arg).trim();
        // Fresh: created in this function.
        let fresh = idx.decls.iter().any(|d| {
            d.function == Some(f)
                && d.name == arg
                && d.init
                    .as_ref()
                    .and_then(|i| i.expr())
                    .is_some_and(|t| creators.iter().any(|k| t.contains(k)))
        }) || s.facts.writes.iter().any(|w| {
            w.function == Some(f)
                && w.base == arg
                && w.field.is_none()
                && creators.iter().any(|k| s.text(w.range).contains(k))
        }) || returned_by_call(s, f, arg);
        if fresh {
            continue;
        }
        out.push(
            s.ctx
                .diagnostic(&UNPINNED_BUFFER, c.range, format!("`{}` uses {what} of `{arg}`, which other threads may share, without pinning or locking", c.name))
                .with_help(help)
                .with_confidence(Confidence::Likely),
        );
    }
}

/// `arg` holds what a call in `f` returned (`str = PyObject_CallObject(...)`): a new
/// reference this function owns, usually not shared yet.
fn returned_by_call(s: &Scope, f: usize, arg: &str) -> bool {
    let idx = s.ctx.index;
    let from_call = |text: &str| text.contains('(') && !text.trim_start().starts_with('(');
    idx.decls.iter().any(|d| {
        d.function == Some(f)
            && d.name == arg
            && d.init
                .as_ref()
                .and_then(|i| i.expr())
                .is_some_and(from_call)
    }) || s.facts.writes.iter().any(|w| {
        w.function == Some(f)
            && w.base == arg
            && w.field.is_none()
            && w.kind == WriteKind::Assign
            && s.text(w.range).split_once('=').is_some_and(|(_, rhs)| {
                from_call(rhs)
                    && idx.calls.iter().any(|c| {
                        c.function == Some(f) && w.range.0 <= c.range.0 && c.range.1 <= w.range.1
                    })
            })
    })
}
