//! FT405: module state changed at runtime.

use std::collections::{HashMap, HashSet};

use super::{field_type, is_object_type, Mentions, Scope};
use crate::capi::{self, ModuleApi};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::entry::WriteKind;
use crate::source::index::Declaration;

pub static MODULE_STATE_MUTATED: Rule = Rule {
    code: "FT405",
    name: "module-state-mutated-at-runtime",
    severity: Severity::Warning,
    summary: "A module-state field is changed at runtime without a lock.",
    doc: r#"## What it does
Finds writes to fields of module state (a pointer obtained from `PyModule_GetState`,
`PyType_GetModuleState`, or a helper returning one) in functions Python can call,
outside a lock or critical section. `Py_mod_exec`, `m_traverse`, `m_clear` and
`m_free` are not findings.

## Why is this bad?
One module object, and so one state struct, is shared by every thread. Its fields
are globals in all but name.

## Example
```c
static PyObject *set_default(PyObject *module, PyObject *value) {
    mod_state *st = get_state(module);
    Py_XSETREF(st->default_value, Py_NewRef(value));
    Py_RETURN_NONE;
}
```

## Use instead
Fill state in `Py_mod_exec` and treat it as read-only afterwards, or guard the field
with a `PyMutex` kept in the state:
```c
    PyMutex_Lock(&st->mutex);
    Py_XSETREF(st->default_value, Py_NewRef(value));
    PyMutex_Unlock(&st->mutex);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
"#,
    fix: FixAvailability::None,
};

/// FT405: module state fields changed at runtime.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    super::check_files(project, &MODULE_STATE_MUTATED, out, check_file);
}

fn check_file(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    // Getters: the C API ones and helpers of this file returning their result.
    let mut getters = Mentions::default();
    for (g, api) in capi::module_apis() {
        if matches!(api, ModuleApi::StateGetter { .. }) {
            getters.insert(g.to_owned());
        }
    }
    for _ in 0..2 {
        for f in &idx.functions {
            if f.returns.iter().any(|r| getters.in_text(s.text(*r))) {
                getters.insert(f.name.clone());
            }
        }
    }
    // `PyType_GetModuleByDef` returns the module, not its state.
    for (g, api) in capi::module_apis() {
        if api
            == (ModuleApi::StateGetter {
                returns_module: true,
            })
        {
            getters.remove(g);
        }
    }
    let from_getter = |text: &str| getters.in_text(text);
    // State variables per function: initialised or assigned from a getter.
    let mut state_vars: HashMap<(usize, &str), &Declaration> = HashMap::new();
    for d in &idx.decls {
        let (Some(f), Some(init)) = (d.function, d.init.as_ref().and_then(|i| i.expr())) else {
            continue;
        };
        if d.is_pointer && from_getter(init) {
            state_vars.insert((f, d.name.as_str()), d);
        }
    }
    for w in &s.facts.writes {
        let Some(f) = w.function else { continue };
        if w.kind == WriteKind::Assign && w.field.is_none() && from_getter(s.text(w.range)) {
            if let Some(d) = idx.decls_in(f).find(|d| d.name == w.base) {
                state_vars.insert((f, d.name.as_str()), d);
            }
        }
    }
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    for w in &s.facts.writes {
        let (Some(f), Some(field), true) = (w.function, w.field.as_deref(), w.arrow) else {
            continue;
        };
        let Some(d) = state_vars.get(&(f, w.base.as_str())) else {
            continue;
        };
        if !s.concurrent(Some(f)) || !s.in_ft(w.range.0) || s.locked(w.range.0, true, &[]) {
            continue;
        }
        if !reported.insert((f, field.to_owned())) {
            continue;
        }
        let fty = field_type(s, d.base_type(), field);
        if fty
            .as_deref()
            .is_some_and(|t| t.contains("atomic") || capi::is_pymutex_type(t))
        {
            continue;
        }
        let obj = fty.as_deref().is_some_and(is_object_type)
            || w.call.as_deref().is_some_and(capi::replaces_reference);
        out.push(
            s.ctx
                .diagnostic(
                    &MODULE_STATE_MUTATED,
                    w.range,
                    format!("`{}` changes module state `{}->{field}` at runtime; every thread shares the module", s.fn_name(f), w.base),
                )
                .with_help(format!(
                    "set `{field}` in `Py_mod_exec` and only read it afterwards; or add `PyMutex mutex;` to the state struct and hold `PyMutex_Lock(&{0}->mutex)` ... `PyMutex_Unlock(&{0}->mutex)` around every access",
                    w.base
                ))
                .with_severity(if obj { Severity::Error } else { Severity::Warning })
                .with_confidence(s.confidence(Some(f))),
        );
    }
}
