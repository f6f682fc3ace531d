//! FT803: the interpreter died while importing the module (found by [`crate::runtime::verdict`]).

use crate::rule::{FixAvailability, Rule, Severity};

pub static IMPORT_CRASHED: Rule = Rule {
    code: "FT803",
    name: "import-crashed",
    severity: Severity::Error,
    summary: "The interpreter died (a signal or an exit) while importing the module.",
    doc: r#"## What it does
Reports an import that ended the interpreter process: killed by a signal (`SIGSEGV`,
`SIGABRT`, ...) or exiting before the import finished. The finding names the module that was
being loaded at that moment and quotes CPython's fatal-error line when there is one.

## Why is this bad?
A crash at import usually means the binary does not match the interpreter: a module
compiled without `Py_GIL_DISABLED` (on Windows it must be defined by hand), against another
version's headers, or for the limited API, reads object headers with the wrong layout. It
can also be an initialisation bug that only shows when the GIL is off.

## Example
```c
static int crash_exec(PyObject *m) { abort(); }
```

## Use instead
Build the module for the free-threaded interpreter it runs on (the `t` suffix in its file
name, compiler flags from that interpreter's `sysconfig`) and fix the initialisation code.

## References
- Python HOWTO "C API Extension Support for Free Threading", sections on building and on
  the limited API.
"#,
    fix: FixAvailability::None,
};
