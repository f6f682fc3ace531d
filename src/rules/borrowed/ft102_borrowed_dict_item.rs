//! FT102: `PyDict_GetItem*`/`PyDict_SetDefault` on a dict other threads can reach.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

pub static BORROWED_DICT_ITEM: Rule = Rule {
    code: "FT102",
    name: "borrowed-dict-item",
    severity: Severity::Error,
    summary:
        "`PyDict_GetItem*`/`PyDict_SetDefault` borrows a value of a dict other threads can change.",
    doc: r#"## What it does
Finds `PyDict_GetItem`, `PyDict_GetItemWithError`, `PyDict_GetItemString` and
`PyDict_SetDefault` on a dict that is not private to the current call. The
keyword-arguments dict of the call (from the `PyMethodDef` flags or the
`tp_init`/`tp_new`/`tp_call` signature), dicts created in the function and not yet
shared, and dicts locked by an enclosing critical section are not reported.

## Why is this bad?
The value is borrowed from the dict. Another thread can overwrite or delete the key
and free the value before the caller uses it.

## Example
```c
PyObject *v = PyDict_GetItemString(self->options, "mode");
```

## Use instead
```c
PyObject *v;
if (PyDict_GetItemStringRef(self->options, "mode", &v) < 0) return NULL;
/* v is a strong reference or NULL */
Py_XDECREF(v);
```
`PyDict_GetItemRef`, `PyDict_GetItemStringRef` and `PyDict_SetDefaultRef` were added
in 3.13; pythoncapi-compat provides them for older versions. Unlike
`PyDict_GetItem`, they report errors instead of swallowing them.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyDict_GetItemRef`, `PyDict_SetDefaultRef`.
"#,
    fix: FixAvailability::None,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_DICT_ITEM, out);
}
