//! FT108: a borrowed reference stored in a static, a global or a struct field.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{cached_sites, replacement_advice};

pub static BORROWED_CACHED: Rule = Rule {
    code: "FT108",
    name: "borrowed-reference-cached",
    severity: Severity::Error,
    summary: "A borrowed reference is stored in a static, a global or a struct field without taking a reference.",
    doc: r#"## What it does
Finds a borrowed reference (from `PyList_GetItem`, `PyDict_GetItem*`,
`PyWeakref_GetObject`, `PyImport_AddModule`, `PySys_GetObject`, ...) assigned to a
`static` or global variable or to a struct field, when the function never
increments that variable's reference count afterwards.

## Why is this bad?
The stored pointer outlives the call that borrowed it. Whoever owns the object can
drop it at any time; without the GIL that happens concurrently, and every later
use of the cache reads freed memory.

## Example
```c
static PyObject *json_loads;
json_loads = PyDict_GetItemString(PyModule_GetDict(json), "loads");
```

## Use instead
Store a strong reference (`PyObject_GetAttrString(json, "loads")`, or
`PyDict_GetItemStringRef`) and release it when the module is freed.

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
"#,
    fix: FixAvailability::None,
};

/// The sites are found by `super::cached_sites`, which FT101–FT105 consult too.
pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let sites = cached_sites(ctx);
    for site in &sites.0 {
        let call = &ctx.index.calls[site.call];
        out.push(
            ctx.diagnostic(
                &BORROWED_CACHED,
                site.range,
                format!("`{}` keeps the borrowed result of `{}` beyond this call; its owner can free it at any time", site.lhs, call.name),
            )
            .with_help(format!("store a strong reference: {}", replacement_advice(site.api, ctx.settings.target_minor))),
        );
    }
}
