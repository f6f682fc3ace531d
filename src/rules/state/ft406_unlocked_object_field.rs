//! FT406: a `self->` field written outside a critical section.

use std::collections::{HashMap, HashSet};

use super::{field_type, is_foreign_context, is_object_type, object_method, self_type, Scope};
use crate::capi;
use crate::context::ProjectContext;
use crate::diagnostic::Confidence;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::entry::WriteKind;

pub static UNLOCKED_SELF_FIELD: Rule = Rule {
    code: "FT406",
    name: "unlocked-object-field",
    severity: Severity::Warning,
    summary:
        "A method or slot changes (or hands out) a field of `self` outside a critical section.",
    doc: r#"## What it does
Finds methods, getters/setters and slots of extension types that write a field of
`self` — especially `Py_SETREF`/`Py_XSETREF`/`Py_CLEAR` of an object field and
read-modify-write of C fields — outside `Py_BEGIN_CRITICAL_SECTION(self)` or a lock.
It also reports the other half: a reader returning `Py_NewRef(self->field)` outside
a critical section while another method replaces that field.
`tp_new`, `tp_init`, `tp_dealloc`, `tp_traverse`, `tp_clear` (and helpers only they
call) are not findings: no other thread can see the object there.

Projects whose objects are documented as not shareable between threads (NumPy's
policy for arrays) can set `objects-shared-between-threads = false` in
`[tool.ftaudit]`: this rule then reports at *info* severity. The setting never
affects the global-state rules.

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
- simplejson and msgpack took per-object critical sections when porting.
"#,
    fix: FixAvailability::Sometimes,
};

/// FT406: `self->` fields written (or handed out while written) outside a critical section.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    super::check_files(project, &UNLOCKED_SELF_FIELD, out, check_file);
}

fn check_file(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    let shared = s.ctx.settings.objects_shared_between_threads;
    let mut writers: HashMap<String, String> = HashMap::new();
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    let mut self_cache: HashMap<usize, Vec<String>> = HashMap::new();
    for w in &s.facts.writes {
        let (Some(f), Some(field), true) = (w.function, w.field.as_deref(), w.arrow) else {
            continue;
        };
        if !object_method(s, f) {
            continue;
        }
        let names = self_cache.entry(f).or_insert_with(|| s.self_names(f));
        if !names.contains(&w.base) {
            continue;
        }
        let fty = self_type(s, f, &w.base)
            .and_then(|t| field_type(s, &t, field))
            .or_else(|| any_field_type(s, field).map(str::to_owned));
        if fty.as_deref().is_some_and(|t| {
            t.contains("atomic") || capi::is_pymutex_type(t) || is_foreign_context(t)
        }) {
            continue;
        }
        writers
            .entry(field.to_owned())
            .or_insert_with(|| s.fn_name(f).to_owned());
        if !s.in_ft(w.range.0)
            || s.locked(w.range.0, true, &[])
            || !reported.insert((f, field.to_owned()))
        {
            continue;
        }
        let obj = fty.as_deref().is_some_and(is_object_type)
            || w.call.as_deref().is_some_and(capi::replaces_reference);
        let rmw = matches!(w.kind, WriteKind::Update | WriteKind::Compound);
        let what = if obj {
            "replaces the object field"
        } else if rmw {
            "updates (read-modify-write)"
        } else {
            "writes"
        };
        let mut severity = if obj {
            Severity::Error
        } else {
            Severity::Warning
        };
        if !shared {
            severity = Severity::Info;
        }
        let d = s
            .ctx
            .diagnostic(&UNLOCKED_SELF_FIELD, w.range, format!("`{}` {what} `{}->{field}` outside a critical section; another thread can use the same object", s.fn_name(f), w.base))
            .with_help(format!("wrap the body in `Py_BEGIN_CRITICAL_SECTION({0});` ... `Py_END_CRITICAL_SECTION();` (and readers of `{field}` too), or hold a `PyMutex` stored in the object", w.base))
            .with_severity(severity)
            .with_confidence(s.confidence(Some(f)));
        out.push(with_lock_body_fix(s, d, w.range.0, &w.base));
    }
    // Readers handing out a field that some method replaces.
    for c in &idx.calls {
        if !capi::is_incref(&c.name) {
            continue;
        }
        let Some(f) = c.function else { continue };
        if !object_method(s, f) {
            continue;
        }
        let Some(arg) = c.args.first().map(|a| s.text(*a).trim()) else {
            continue;
        };
        let Some((base, field)) = arg.split_once("->") else {
            continue;
        };
        let (base, field) = (base.trim().trim_start_matches('(').trim(), field.trim());
        let names = self_cache.entry(f).or_insert_with(|| s.self_names(f));
        if !names.iter().any(|n| n == base) {
            continue;
        }
        let Some(writer) = writers.get(field) else {
            continue;
        };
        if writer == s.fn_name(f)
            || !s.in_ft(c.range.0)
            || s.locked(c.range.0, true, &[])
            || !reported.insert((f, field.to_owned()))
        {
            continue;
        }
        let d = s
            .ctx
            .diagnostic(&UNLOCKED_SELF_FIELD, c.range, format!("`{}` takes a new reference to `{base}->{field}` outside a critical section while `{writer}` replaces it", s.fn_name(f)))
            .with_help(format!("read the field inside `Py_BEGIN_CRITICAL_SECTION({base});` ... `Py_END_CRITICAL_SECTION();`, the same lock the writer holds"))
            .with_severity(if shared { Severity::Warning } else { Severity::Info })
            .with_confidence(Confidence::Likely);
        out.push(with_lock_body_fix(s, d, c.range.0, base));
    }
}

/// The unsafe fix: the whole method body in a critical section on `base`, with a
/// single way out (see [`crate::fix::critical_section::lock_body`]).
fn with_lock_body_fix(s: &Scope, d: Diagnostic, at: usize, base: &str) -> Diagnostic {
    if !crate::source::privacy::is_identifier(base) {
        return d;
    }
    let fix = crate::fix::critical_section::lock_body_fix(
        s.ctx.file,
        s.ctx.settings.target_minor,
        at,
        base,
    );
    match fix {
        Some(f) => d.with_fix(f),
        None => d,
    }
}

/// Every field of every struct in the file with that name (when the struct is unknown).
fn any_field_type<'a>(s: &'a Scope, field: &str) -> Option<&'a str> {
    s.ctx
        .index
        .structs
        .iter()
        .flat_map(|st| st.fields.iter())
        .find(|(n, _)| n == field)
        .map(|(_, t)| t.as_str())
}
