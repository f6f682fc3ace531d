//! FT104: borrowed references from `sys.modules`, `sys` or the current frame.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

pub static BORROWED_GLOBAL_LOOKUP: Rule = Rule {
    code: "FT104",
    name: "borrowed-global-lookup",
    severity: Severity::Warning,
    summary: "A borrowed reference from `sys.modules`, `sys` or the current frame.",
    doc: r#"## What it does
Finds `PyImport_AddModule`, `PyImport_AddModuleObject`, `PySys_GetObject`,
`PyEval_GetBuiltins`, `PyEval_GetGlobals` and `PyEval_GetLocals`.

## Why is this bad?
Each returns a reference borrowed from interpreter-wide state (`sys.modules`, the
`sys` module's attributes) or from the current frame. Another thread can replace
the entry and free the object while the caller still uses it. The frame APIs are
less exposed, but are deprecated since 3.13.

## Example
```c
PyObject *path = PySys_GetObject("path");
```

## Use instead
| Instead of | Use | Added | pythoncapi-compat |
|---|---|---|---|
| `PyImport_AddModule` | `PyImport_AddModuleRef` | 3.13 | yes |
| `PyImport_AddModuleObject` | `PyImport_GetModule` or `PyImport_AddModuleRef` | 3.7 / 3.13 | n/a / yes |
| `PySys_GetObject` | `PySys_GetOptionalAttrString` | 3.15 | yes |
| `PyEval_GetBuiltins/Globals/Locals` | `PyEval_GetFrameBuiltins/Globals/Locals` | 3.13 | no |

## Fix
`--fix` rewrites `PyImport_AddModule(name)`, when the result is stored in a local pointer
declared in the same block (`PyObject *v = ...;` or `v = ...;` after
`PyObject *v;`), into `PyImport_AddModuleRef(name)`, and releases the new reference with
`Py_XDECREF(v)` on every way out of that block: before each `return`, `goto`,
`break` or `continue` that leaves it, and at its end. A `goto` to a cleanup label
inside the block keeps the release on the statements after the label, and
`return Py_NewRef(v)` becomes `return v`. Both return `NULL` with an exception on error. Other getters of this family get no fix.

It is safe when every use of `v` stays in the block; unsafe when `v` is copied
into another variable or field (the copy stays borrowed: review it), or when the
project's minimum Python is older than 3.13 and no `pythoncapi_compat.h` is found
next to the file (with the header, the fix includes it after `Python.h`). There
is no fix when `v` is assigned again, its address is taken, a `return` uses it in
another way, a label after it can be reached from before it, or the function has
preprocessor conditionals.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyImport_AddModuleRef`, `PySys_GetOptionalAttrString`, `PyEval_GetFrameGlobals`.
"#,
    fix: FixAvailability::Sometimes,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_GLOBAL_LOOKUP, out);
}
