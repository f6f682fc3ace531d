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

## Fix
`--fix` rewrites `PyDict_GetItem*(d, k)` / `PyDict_SetDefault(d, k, def)`, when the result is stored in a local pointer
declared in the same block (`PyObject *v = ...;` or `v = ...;` after
`PyObject *v;`), into `PyDict_GetItemRef(d, k, &v)` (`PyDict_GetItemStringRef`, `PyDict_SetDefaultRef`), and releases the new reference with
`Py_XDECREF(v)` on every way out of that block: before each `return`, `goto`,
`break` or `continue` that leaves it, and at its end. A `goto` to a cleanup label
inside the block keeps the release on the statements after the label, and
`return Py_NewRef(v)` becomes `return v`. The out-parameter is `NULL` on error and for a missing key, as the old result was; for `PyDict_GetItem` and `PyDict_GetItemString`, which swallowed lookup errors, the fix clears the error (`PyErr_Clear()`) to keep that behaviour — review whether you would rather report it. (3.13's
`PyDict_GetItem` also prints the swallowed error as "Exception ignored"; the
fixed code clears it silently.)

It is safe when every use of `v` stays in the block; unsafe when `v` is copied
into another variable or field (the copy stays borrowed: review it), or when the
project's minimum Python is older than 3.13 and no `pythoncapi_compat.h` is found
next to the file (with the header, the fix includes it after `Python.h`). There
is no fix when `v` is assigned again, its address is taken, a `return` uses it in
another way, a label after it can be reached from before it, or the function has
preprocessor conditionals.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyDict_GetItemRef`, `PyDict_SetDefaultRef`.
"#,
    fix: FixAvailability::Sometimes,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_DICT_ITEM, out);
}
