//! FT101: `PyList_GetItem`/`PyList_GET_ITEM` on a list other threads can reach.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

pub static BORROWED_LIST_ITEM: Rule = Rule {
    code: "FT101",
    name: "borrowed-list-item",
    severity: Severity::Error,
    summary:
        "`PyList_GetItem`/`PyList_GET_ITEM` borrows an item of a list other threads can change.",
    doc: r#"## What it does
Finds `PyList_GetItem` and `PyList_GET_ITEM` on a list that is not private to the
current call: a list received from Python, a field, a global, or a list that has
already been stored somewhere. Lists created in the function and not yet shared,
and lists locked by an enclosing `Py_BEGIN_CRITICAL_SECTION` on the same
expression, are not reported. When the origin of the list is not visible (a
helper's parameter, the result of an unknown call) the finding is `likely`.

## Why is this bad?
The result is a borrowed reference: the list owns the item. Without the GIL
another thread can replace or remove the item between the call and its use, drop
the last reference and free it; the caller then reads freed memory.

## Example
```c
static PyObject *first(PyObject *self, PyObject *list) {
    PyObject *item = PyList_GetItem(list, 0);
    return PyObject_Repr(item);
}
```

## Use instead
```c
    PyObject *item = PyList_GetItemRef(list, 0);   /* strong reference */
    if (item == NULL) return NULL;
    PyObject *r = PyObject_Repr(item);
    Py_DECREF(item);
    return r;
```
`PyList_GetItemRef` was added in 3.13; pythoncapi-compat provides it for older
versions.

## Fix
`--fix` rewrites `PyList_GetItem(l, i)`, when the result is stored in a local pointer
declared in the same block (`PyObject *v = ...;` or `v = ...;` after
`PyObject *v;`), into `PyList_GetItemRef(l, i)`, and releases the new reference with
`Py_XDECREF(v)` on every way out of that block: before each `return`, `goto`,
`break` or `continue` that leaves it, and at its end. A `goto` to a cleanup label
inside the block keeps the release on the statements after the label, and
`return Py_NewRef(v)` becomes `return v`. Both return `NULL` with `IndexError` for a bad index. `PyList_GET_ITEM` gets the same rewrite as an unsafe fix only: the macro never fails, `PyList_GetItemRef` can (an index another thread made stale), so check the code after it handles `NULL`.

It is safe when every use of `v` stays in the block; unsafe when `v` is copied
into another variable or field (the copy stays borrowed: review it), or when the
project's minimum Python is older than 3.13 and no `pythoncapi_compat.h` is found
next to the file (with the header, the fix includes it after `Python.h`). There
is no fix when `v` is assigned again, its address is taken, a `return` uses it in
another way, a label after it can be reached from before it, or the function has
preprocessor conditionals.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyList_GetItemRef`.
"#,
    fix: FixAvailability::Sometimes,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_LIST_ITEM, out);
}
