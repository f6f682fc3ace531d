//! FT103: `PyWeakref_GetObject`/`PyWeakref_GET_OBJECT`.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

pub static BORROWED_WEAKREF: Rule = Rule {
    code: "FT103",
    name: "borrowed-weakref-referent",
    severity: Severity::Error,
    summary: "`PyWeakref_GetObject`/`PyWeakref_GET_OBJECT` returns a borrowed referent that may die at once.",
    doc: r#"## What it does
Finds every use of `PyWeakref_GetObject` and `PyWeakref_GET_OBJECT`.

## Why is this bad?
The referent is only kept alive by others; another thread can drop the last strong
reference right after the call returns, before the caller can take its own. Both
APIs are deprecated since 3.13 and removed in 3.15, so the code also stops
compiling there.

## Example
```c
PyObject *obj = PyWeakref_GetObject(ref);
if (obj == Py_None) { ... }
```

## Use instead
```c
PyObject *obj;
if (PyWeakref_GetRef(ref, &obj) < 0) return NULL;
if (obj == NULL) { /* dead */ }
else { ...; Py_DECREF(obj); }
```
Note the dead-referent test changes from `Py_None` to `NULL`. `PyWeakref_GetRef` was
added in 3.13; pythoncapi-compat provides it for older versions.

## Fix
`--fix` rewrites `PyWeakref_GetObject(ref)`, when the result is stored in a local pointer
declared in the same block (`PyObject *v = ...;` or `v = ...;` after
`PyObject *v;`), into `PyWeakref_GetRef(ref, &v)`, and releases the new reference with
`Py_XDECREF(v)` on every way out of that block: before each `return`, `goto`,
`break` or `continue` that leaves it, and at its end. A `goto` to a cleanup label
inside the block keeps the release on the statements after the label, and
`return Py_NewRef(v)` becomes `return v`. A dead referent gave `Py_None`; the fix stores a new reference to `None` in that case, so the code after it sees what it saw before. `PyWeakref_GET_OBJECT` gets the same rewrite as an unsafe fix only (the macro never fails; the function checks its argument and can).

It is safe when every use of `v` stays in the block; unsafe when `v` is copied
into another variable or field (the copy stays borrowed: review it), or when the
project's minimum Python is older than 3.13 and no `pythoncapi_compat.h` is found
next to the file (with the header, the fix includes it after `Python.h`). There
is no fix when `v` is assigned again, its address is taken, a `return` uses it in
another way, a label after it can be reached from before it, or the function has
preprocessor conditionals.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyWeakref_GetRef`.
"#,
    fix: FixAvailability::Sometimes,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_WEAKREF, out);
}
