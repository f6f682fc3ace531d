//! FT705 `binary-reenables-gil`: A module shipped for a free-threaded interpreter does not declare GIL-free support, so importing it re-enables the GIL.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static BINARY_REENABLES_GIL: Rule = Rule {
    code: "FT705",
    name: "binary-reenables-gil",
    severity: Severity::Error,
    summary: "A module shipped for a free-threaded interpreter does not declare GIL-free support, so importing it re-enables the GIL.",
    doc: r#"## What it does
For each module entry point of a binary tagged or named for a free-threaded
interpreter:
- multi-phase (`PyInit_*` imports `PyModuleDef_Init`): finds the `PyModuleDef` whose
  `m_name` is the module's name, follows its `m_slots` pointer (through ELF dynamic
  relocations, PE addresses or Mach-O chained fixups) and reads the slot array for
  `{Py_mod_gil, Py_MOD_GIL_NOT_USED}`;
- single-phase (`PyModule_Create2`): checks that the binary imports
  `PyUnstable_Module_SetGIL`.

An explicit `Py_MOD_GIL_USED` is reported as a warning (it is a deliberate choice).
When the definition cannot be found (an `m_name` that is not the module's name,
arm64e authenticated pointers, 3.15 `PyModExport_*`) the answer is "unknown" and nothing
is reported; `--output-format json` lists it under `binaries`. For single-phase
modules the argument of `PyUnstable_Module_SetGIL` is not read.

## Why is this bad?
Importing a module without the declaration turns the GIL back on for the whole
process (with a `RuntimeWarning`), so the free-threaded wheel gives users no free
threading at all.

## Example
A `cp313t` wheel whose module's slot array is `{Py_mod_exec, exec}, {0, NULL}`.

## Use instead
Declare support in the source once the module is thread-safe (see FT001), and
rebuild.

## References
- CPython howto *C API Extension Support for Free Threading*, "Module Initialization".
- C API reference: `Py_mod_gil`, `PyUnstable_Module_SetGIL`.
"#,
    fix: FixAvailability::None,
};
