//! FT402: a static cache filled on first use at runtime.

use super::{Scope, StaticWrite, StaticWriteKind, StaticWrites};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static LAZY_INIT_AT_RUNTIME: Rule = Rule {
    code: "FT402",
    name: "lazy-init-at-runtime",
    severity: Severity::Warning,
    summary: "A static cache is filled on first use by code that can run on many threads.",
    doc: r#"## What it does
Finds one-time initialisation in functions Python can call: a write to a static
variable inside an `if` that tests the same variable, such as
`if (cache == NULL) cache = ...;` or `if (!initialized) { ...; initialized = 1; }`,
including lazily imported modules and attributes kept in statics. A C++
function-local `static T x = init();` is not reported: the language makes that
initialiser thread-safe.

## Why is this bad?
Two threads can both see the empty cache and both fill it. The loser's object leaks
or, worse, is released while the winner's pointer is in use; an `initialized` flag
can become visible before the data it guards.

## Example
```c
static PyObject *decimal_type;

static PyObject *to_decimal(PyObject *mod, PyObject *arg) {
    if (decimal_type == NULL) {
        decimal_type = _PyImport_GetModuleAttrString("decimal", "Decimal");
    }
    return PyObject_CallOneArg(decimal_type, arg);
}
```

## Use instead
Fill the cache in `Py_mod_exec` (preferably in module state). If it must stay lazy,
check and fill it under a `static PyMutex`; in C++ use a function-local static or
`std::call_once`.
```c
static PyMutex decimal_lock = {0};

    PyMutex_Lock(&decimal_lock);
    if (decimal_type == NULL) {
        decimal_type = _PyImport_GetModuleAttrString("decimal", "Decimal");
    }
    PyMutex_Unlock(&decimal_lock);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
- Python free-threading guide, "Making global caches thread-safe" (single-initialisation).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    StaticWrites::report(project, &LAZY_INIT_AT_RUNTIME, out, report);
}

fn report(s: &Scope, sw: &StaticWrite, out: &mut Vec<Diagnostic>) {
    if sw.kind != StaticWriteKind::LazyInit {
        return;
    }
    let (w, d) = (&s.facts.writes[sw.write], &s.ctx.index.decls[sw.decl]);
    let Some(f) = w.function else { return };
    let fname = s.fn_name(f);
    let name = &d.name;
    let where_ = sw.storage(s);
    out.push(
        s.ctx
            .diagnostic(&LAZY_INIT_AT_RUNTIME, w.range, format!("`{fname}` fills the {where_} `{name}` on first use; two threads can both see it empty"))
            .with_help(format!(
                "fill `{name}` in module init (`Py_mod_exec`) instead; or check and fill it under a lock: `static PyMutex {name}_lock = {{0}};` with `PyMutex_Lock(&{name}_lock); if (...) {{ ... }} PyMutex_Unlock(&{name}_lock);` (C++: a function-local static or std::call_once)"
            ))
            .with_severity(if sw.pointerish { Severity::Error } else { Severity::Warning })
            .with_confidence(s.confidence(Some(f))),
    );
}
