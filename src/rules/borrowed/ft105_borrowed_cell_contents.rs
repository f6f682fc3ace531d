//! FT105: `PyCell_GET`.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

pub static BORROWED_CELL: Rule = Rule {
    code: "FT105",
    name: "borrowed-cell-contents",
    severity: Severity::Warning,
    summary: "`PyCell_GET` borrows the contents of a cell another thread can set.",
    doc: r#"## What it does
Finds the `PyCell_GET` macro.

## Why is this bad?
A cell can be rebound by any thread running the closure. `PyCell_GET` reads the
pointer without taking a reference, so the object can be freed while in use.

## Example
```c
PyObject *v = PyCell_GET(cell);
```

## Use instead
```c
PyObject *v = PyCell_Get(cell);   /* strong reference, available in every version */
Py_XDECREF(v);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
"#,
    fix: FixAvailability::None,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_CELL, out);
}
