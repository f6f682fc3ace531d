//! FT802: importing the module raised an exception (found by [`crate::runtime::verdict`]).

use crate::rule::{FixAvailability, Rule, Severity};

pub static IMPORT_RAISED: Rule = Rule {
    code: "FT802",
    name: "import-raised",
    severity: Severity::Error,
    summary: "Importing the module raised an exception.",
    doc: r#"## What it does
Reports a module whose import ends with an exception in the free-threaded interpreter, with
the exception type and message and, when the exception came out of another module imported
along the way, the module it came from.

## Why is this bad?
A module that cannot be imported cannot be used. Some failures are specific to free-threaded
builds: CPython rejects a slot array with two `Py_mod_gil` entries with a `SystemError`, and
an extension may depend on a module that is not available for the free-threaded build.

## Example
```c
static PyModuleDef_Slot toast_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};
```

## Use instead
```c
static PyModuleDef_Slot toast_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};
```

## References
- Python HOWTO "C API Extension Support for Free Threading".
- Static counterpart of the duplicate slot: FT004.
"#,
    fix: FixAvailability::None,
};
