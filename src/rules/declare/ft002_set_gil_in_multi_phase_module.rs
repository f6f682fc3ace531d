//! FT002: `PyUnstable_Module_SetGIL` in a multi-phase module, where it does nothing.

use std::collections::HashSet;

use crate::context::FileContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};
use crate::source::index::InitStyle;

use super::SET_GIL;
use crate::capi;

pub static SET_GIL_IN_MULTI_PHASE: Rule = Rule {
    code: "FT002",
    name: "set-gil-in-multi-phase-module",
    severity: Severity::Error,
    summary:
        "`PyUnstable_Module_SetGIL` is called in a multi-phase module, where it has no effect.",
    doc: r#"## What it does
Finds calls to `PyUnstable_Module_SetGIL` in a module that uses multi-phase
initialization: in its `Py_mod_exec` or `Py_mod_create` function, or on the path of
a `PyInit_*` that returns `PyModuleDef_Init`.

## Why is this bad?
For multi-phase modules the interpreter decides about the GIL from the `Py_mod_gil`
slot when it creates the module object, before `Py_mod_exec` runs. A later call does
not undo that decision, so the module still re-enables the GIL.

## Example
```c
static int exec_module(PyObject *m) {
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
    return 0;
}
```

## Use instead
Declare the slot and drop the call:
```c
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
```

## References
- C API reference: `PyUnstable_Module_SetGIL` ("during the module's initialization function when using single-phase initialization").
- SimpleITK moved from this call to a static slot for this reason.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let idx = ctx.index;
    // Functions that run for multi-phase modules: exec/create slots and multi-phase init paths.
    let mut multi_phase_fns: HashSet<usize> = HashSet::new();
    for sa in &idx.slot_arrays {
        for e in &sa.entries {
            if capi::module_slot(&e.slot).is_some_and(|s| s.runs_code_once) {
                if let Some(f) =
                    idx.function_named(&crate::source::index::last_identifier(&e.value))
                {
                    multi_phase_fns.extend(idx.reachable_from(f));
                }
            }
        }
    }
    for mi in &idx.module_inits {
        if matches!(
            mi.style,
            InitStyle::MultiPhase { .. } | InitStyle::Export { .. }
        ) {
            multi_phase_fns.extend(mi.init_path.iter().copied());
        }
    }
    for call in idx.calls.iter().filter(|c| c.name == SET_GIL) {
        let Some(f) = call.function else { continue };
        if !multi_phase_fns.contains(&f) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &SET_GIL_IN_MULTI_PHASE,
                call.range,
                format!("`{SET_GIL}` has no effect in `{}`: this module uses multi-phase initialization", idx.functions[f].name),
            )
            .with_help("declare `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` in the module's slot array instead"),
        );
    }
}
