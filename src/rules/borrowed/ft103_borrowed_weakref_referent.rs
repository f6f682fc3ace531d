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

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyWeakref_GetRef`.
"#,
    fix: FixAvailability::None,
};

/// The getters of this rule are the catalogue's borrowed getters of its family
/// ([`super::rule_of`]).
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    super::check_borrowed_calls(ctx, &BORROWED_WEAKREF, out);
}
