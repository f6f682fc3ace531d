//! FT801: the GIL is enabled after importing the module (found by [`crate::runtime::verdict`]).

use crate::rule::{FixAvailability, Rule, Severity};

pub static GIL_ENABLED_AT_IMPORT: Rule = Rule {
    code: "FT801",
    name: "gil-enabled-at-import",
    severity: Severity::Error,
    summary: "Importing the module turned the GIL back on in a free-threaded interpreter.",
    doc: r#"## What it does
Imports the module in a fresh free-threaded interpreter and reports when the GIL is enabled
afterwards. The finding quotes CPython's `RuntimeWarning` and names the module that caused
it, which is not always the one you asked for: when module `a` imports module `b` during its
initialisation and `b` has not declared support, the finding on `a` names `b` and the chain of
imports that led to it.

## Why is this bad?
When an extension module that has not declared free-threading support is loaded, CPython
switches the GIL on for the whole process, for the rest of its life. Everything keeps
working, so nothing fails: the program just runs with the GIL again, and the only trace is a
warning that is easy to miss among other output. One undeclared dependency silently undoes
the point of the free-threaded build.

## Example
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
    {0, NULL}
};
```

## Use instead
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};
```
Single-phase modules call `PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)` after creating
the module. Declare support only after reviewing the module for thread safety
(`ftaudit check` finds the usual hazards).

## References
- Python HOWTO "C API Extension Support for Free Threading", section on module initialisation.
- `PYTHON_GIL` and `-X gil` in the CPython command-line documentation: `PYTHON_GIL=0` keeps
  the GIL off regardless, which is why `ftaudit verify` removes it from the environment of
  the interpreters it starts.
- Static counterparts: FT001, FT005, FT006.
"#,
    fix: FixAvailability::None,
};
