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

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyImport_AddModuleRef`, `PySys_GetOptionalAttrString`, `PyEval_GetFrameGlobals`.
"#,
    fix: FixAvailability::None,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_GLOBAL_LOOKUP, out);
}
