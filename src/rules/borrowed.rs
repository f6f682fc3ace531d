//! FT1xx — borrowed references.
//!
//! An API that returns a borrowed reference into a container hands out a pointer
//! the container still owns. With the GIL nobody could change the container before
//! the caller took its own reference; without it another thread can remove the item
//! and free it in between. These rules report such calls when the container can be
//! reached by another thread (see [`crate::source::privacy`]) and name the
//! strong-reference replacement for the project's minimum Python version.

use crate::context::FileAnalysis as Analysis;
use crate::diagnostic::{Applicability, Confidence, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::Call;
use crate::source::privacy::{normalize, Privacy, Shared};

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

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
- C API reference: `PyList_GetItemRef`.
"#,
    fix: FixAvailability::None,
};

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

pub static SEQUENCE_FAST_SHARED_LIST: Rule = Rule {
    code: "FT106",
    name: "sequence-fast-on-shared-list",
    severity: Severity::Warning,
    summary: "`PySequence_Fast_GET_ITEM`/`_ITEMS` on what may be a shared list.",
    doc: r#"## What it does
Finds `PySequence_Fast_GET_ITEM` and `PySequence_Fast_ITEMS` on the result of
`PySequence_Fast(x, ...)` when `x` is not private to the call. Findings are
`likely`: the rule cannot tell whether `x` is a list or a tuple.

## Why is this bad?
For a list, `PySequence_Fast` returns the list itself, not a copy. These macros do
no locking and no bounds checks: another thread can shrink the list or replace
items, and the loop reads freed items or past the end.

## Example
```c
PyObject *seq = PySequence_Fast(arg, "expected a sequence");
for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++)
    use(PySequence_Fast_GET_ITEM(seq, i));
```

## Use instead
Take a snapshot: `PyObject *seq = PySequence_Tuple(arg);` and use the tuple
accessors, or hold `Py_BEGIN_CRITICAL_SECTION(seq)` around the whole walk and read
the size inside it.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

pub static INCREF_OF_BORROWED: Rule = Rule {
    code: "FT107",
    name: "incref-of-borrowed-item",
    severity: Severity::Error,
    summary: "Taking a reference to a borrowed item after the fact (`Py_NewRef(PyList_GetItem(...))`) is not a fix.",
    doc: r#"## What it does
Finds `Py_NewRef`, `Py_XNewRef`, `Py_INCREF` and `Py_XINCREF` applied directly to
the result of `PyList_GetItem`, `PyList_GET_ITEM` or a `PyDict_GetItem*` call on a
container that is not private.

## Why is this bad?
The item can be freed between the borrowing call and the increment: taking the
reference afterwards narrows the window but does not close it. Only an API that
returns a strong reference does.

## Example
```c
PyObject *item = Py_XNewRef(PyList_GetItem(list, i));
```

## Use instead
```c
PyObject *item = PyList_GetItemRef(list, i);
```
For `Py_XNewRef(PyList_GetItem(l, i))` the fix is offered as safe (both return
`NULL` with `IndexError` for a bad index). For `Py_NewRef(...)` and the unchecked
macro `PyList_GET_ITEM` it is unsafe: the replacement can return `NULL` where the
old code never did, so review the caller's `NULL` handling. Dict lookups have no
one-expression replacement (`PyDict_GetItemRef` uses an out-parameter).

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
"#,
    fix: FixAvailability::Sometimes,
};

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

pub static RULES: &[&Rule] = &[
    &BORROWED_LIST_ITEM,
    &BORROWED_DICT_ITEM,
    &BORROWED_WEAKREF,
    &BORROWED_GLOBAL_LOOKUP,
    &BORROWED_CELL,
    &SEQUENCE_FAST_SHARED_LIST,
    &INCREF_OF_BORROWED,
    &BORROWED_CACHED,
];

/// A borrowed-reference API and its strong replacement.
pub struct BorrowedApi {
    pub name: &'static str,
    pub rule: &'static Rule,
    /// Which argument is the container, for APIs whose safety depends on it.
    pub container: Option<usize>,
    pub replacement: &'static str,
    /// Minor version of 3.x that added the replacement (0: every version).
    pub added: u32,
    /// pythoncapi-compat provides the replacement for older versions.
    pub compat: bool,
}

/// Every borrowed-reference API these rules know.
pub const BORROWED_APIS: &[BorrowedApi] = &[
    BorrowedApi {
        name: "PyList_GetItem",
        rule: &BORROWED_LIST_ITEM,
        container: Some(0),
        replacement: "PyList_GetItemRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyList_GET_ITEM",
        rule: &BORROWED_LIST_ITEM,
        container: Some(0),
        replacement: "PyList_GetItemRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyDict_GetItem",
        rule: &BORROWED_DICT_ITEM,
        container: Some(0),
        replacement: "PyDict_GetItemRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyDict_GetItemWithError",
        rule: &BORROWED_DICT_ITEM,
        container: Some(0),
        replacement: "PyDict_GetItemRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyDict_GetItemString",
        rule: &BORROWED_DICT_ITEM,
        container: Some(0),
        replacement: "PyDict_GetItemStringRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyDict_SetDefault",
        rule: &BORROWED_DICT_ITEM,
        container: Some(0),
        replacement: "PyDict_SetDefaultRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyWeakref_GetObject",
        rule: &BORROWED_WEAKREF,
        container: None,
        replacement: "PyWeakref_GetRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyWeakref_GET_OBJECT",
        rule: &BORROWED_WEAKREF,
        container: None,
        replacement: "PyWeakref_GetRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyImport_AddModule",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PyImport_AddModuleRef",
        added: 13,
        compat: true,
    },
    BorrowedApi {
        name: "PyImport_AddModuleObject",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PyImport_GetModule",
        added: 7,
        compat: false,
    },
    BorrowedApi {
        name: "PySys_GetObject",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PySys_GetOptionalAttrString",
        added: 15,
        compat: true,
    },
    BorrowedApi {
        name: "PyEval_GetBuiltins",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PyEval_GetFrameBuiltins",
        added: 13,
        compat: false,
    },
    BorrowedApi {
        name: "PyEval_GetGlobals",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PyEval_GetFrameGlobals",
        added: 13,
        compat: false,
    },
    BorrowedApi {
        name: "PyEval_GetLocals",
        rule: &BORROWED_GLOBAL_LOOKUP,
        container: None,
        replacement: "PyEval_GetFrameLocals",
        added: 13,
        compat: false,
    },
    BorrowedApi {
        name: "PyCell_GET",
        rule: &BORROWED_CELL,
        container: None,
        replacement: "PyCell_Get",
        added: 0,
        compat: false,
    },
];

/// The borrowed API named `name`, if any.
pub fn borrowed_api(name: &str) -> Option<&'static BorrowedApi> {
    BORROWED_APIS.iter().find(|a| a.name == name)
}

/// "use `X` (added in 3.13; pythoncapi-compat provides it for 3.9)" for this project.
pub fn replacement_advice(api: &BorrowedApi, target_minor: u32) -> String {
    let r = api.replacement;
    if api.added == 0 {
        return format!("use `{r}`, which returns a strong reference (available in every version)");
    }
    if target_minor >= api.added {
        return format!(
            "use `{r}` (added in 3.{}), which returns a strong reference",
            api.added
        );
    }
    if api.compat {
        format!(
            "use `{r}` (added in 3.{}; your minimum is 3.{target_minor}, so include pythoncapi_compat.h, which provides it)",
            api.added
        )
    } else {
        format!(
            "use `{r}` (added in 3.{}; not in pythoncapi-compat, so keep the old call under `#if PY_VERSION_HEX < 0x030{:X}0000` for 3.{target_minor})",
            api.added, api.added
        )
    }
}

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !RULES.iter().any(|r| ctx.enabled(r)) {
        return;
    }
    let an = Analysis::new(ctx);
    let mut reported_calls = Vec::new();
    cached_borrowed(&an, out, &mut reported_calls);
    incref_of_borrowed(&an, out, &mut reported_calls);
    borrowed_calls(&an, out, &reported_calls);
    sequence_fast(&an, out);
}

fn text<'a>(an: &Analysis<'a, '_>, r: (usize, usize)) -> &'a str {
    an.ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// The privacy of the container argument of `call`, or `None` when it is private.
fn shared_container(an: &Analysis, call: &Call, api: &BorrowedApi) -> Option<Privacy> {
    let Some(pos) = api.container else {
        return Some(Privacy::Shared(Shared::Global(String::new())));
    };
    let arg = *call.args.get(pos)?;
    let p = an.container(arg, call.range.0);
    (!p.is_private()).then_some(p)
}

fn borrowed_calls(an: &Analysis, out: &mut Vec<Diagnostic>, skip: &[usize]) {
    let ctx = an.ctx;
    for call in &ctx.index.calls {
        let Some(api) = borrowed_api(&call.name) else {
            continue;
        };
        if !ctx.enabled(api.rule) || skip.contains(&call.range.0) || call.function.is_none() {
            continue;
        }
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let Some(privacy) = shared_container(an, call, api) else {
            continue;
        };
        let advice = replacement_advice(api, ctx.settings.target_minor);
        let message = match api.container {
            Some(pos) => {
                let c = call.args.get(pos).map(|r| text(an, *r).trim()).unwrap_or("");
                format!(
                    "`{}` returns a borrowed reference into {}; another thread can remove and free it",
                    call.name,
                    privacy.describe(c)
                )
            }
            None if api.rule.code == "FT103" => format!(
                "`{}` returns a borrowed reference to a referent another thread can free at once (removed in 3.15)",
                call.name
            ),
            None => format!("`{}` returns a borrowed reference that another thread can free", call.name),
        };
        let confidence = if api.container.is_some() {
            privacy.confidence()
        } else {
            Confidence::Certain
        };
        out.push(
            ctx.diagnostic(api.rule, call.name_range, message)
                .with_help(advice)
                .with_confidence(confidence),
        );
    }
}

/// FT107: `Py_NewRef(PyList_GetItem(l, i))` and friends.
fn incref_of_borrowed(an: &Analysis, out: &mut Vec<Diagnostic>, reported: &mut Vec<usize>) {
    let ctx = an.ctx;
    if !ctx.enabled(&INCREF_OF_BORROWED) {
        return;
    }
    for outer in &ctx.index.calls {
        if !matches!(
            outer.name.as_str(),
            "Py_NewRef" | "Py_XNewRef" | "Py_INCREF" | "Py_XINCREF"
        ) || outer.args.len() != 1
        {
            continue;
        }
        let arg = outer.args[0];
        let Some(inner) = ctx
            .index
            .calls
            .iter()
            .find(|c| normalize(text(an, c.range)) == normalize(text(an, arg)))
        else {
            continue;
        };
        let Some(api) = borrowed_api(&inner.name) else {
            continue;
        };
        if !matches!(api.rule.code, "FT101" | "FT102") || !an.compiled_in_ft(outer.range.0) {
            continue;
        }
        let Some(privacy) = shared_container(an, inner, api) else {
            continue;
        };
        reported.push(inner.range.0);
        let mut d = ctx
            .diagnostic(
                &INCREF_OF_BORROWED,
                outer.range,
                format!(
                    "`{}` of a borrowed `{}` result: the item can be freed before the reference is taken ({})",
                    outer.name,
                    inner.name,
                    privacy.describe(inner.args.first().map(|r| text(an, *r).trim()).unwrap_or(""))
                ),
            )
            .with_help(replacement_advice(api, ctx.settings.target_minor))
            .with_confidence(privacy.confidence());
        if let Some(fix) = list_item_ref_fix(an, outer, inner) {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

fn list_item_ref_fix(an: &Analysis, outer: &Call, inner: &Call) -> Option<Fix> {
    if !matches!(outer.name.as_str(), "Py_NewRef" | "Py_XNewRef") || inner.args.len() != 2 {
        return None;
    }
    if !matches!(inner.name.as_str(), "PyList_GetItem" | "PyList_GET_ITEM")
        || an.ctx.settings.target_minor < 13
    {
        return None;
    }
    let safe = outer.name == "Py_XNewRef" && inner.name == "PyList_GetItem";
    let content = format!(
        "PyList_GetItemRef({}, {})",
        text(an, inner.args[0]).trim(),
        text(an, inner.args[1]).trim()
    );
    Some(Fix {
        applicability: if safe {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        message: if safe {
            "Use `PyList_GetItemRef`".into()
        } else {
            "Use `PyList_GetItemRef` (it can return NULL with IndexError: check the caller handles NULL)".into()
        },
        edits: vec![Edit {
            span: an.ctx.file.span(outer.range.0, outer.range.1),
            content,
        }],
    })
}

/// FT108: a borrowed result stored in a static/global or a field.
fn cached_borrowed(an: &Analysis, out: &mut Vec<Diagnostic>, reported: &mut Vec<usize>) {
    let ctx = an.ctx;
    if !ctx.enabled(&BORROWED_CACHED) {
        return;
    }
    for a in &ctx.index.assignments {
        let Some(fi) = a.function else { continue };
        if a.operator != "=" {
            continue;
        }
        // The call must lie inside the right-hand side (calls are sorted by offset),
        // be a borrowed-reference API, and be the whole right-hand side.
        let calls = &ctx.index.calls;
        let first = calls.partition_point(|c| c.range.0 < a.rhs.0);
        let inside = calls[first..].iter().take_while(|c| c.range.0 < a.rhs.1);
        let mut candidates =
            inside.filter(|c| c.range.1 <= a.rhs.1 && borrowed_api(&c.name).is_some());
        let rhs = normalize(text(an, a.rhs));
        let Some(call) = candidates.find(|c| normalize(text(an, c.range)) == rhs) else {
            continue;
        };
        let Some(api) = borrowed_api(&call.name) else {
            continue;
        };
        let lhs = normalize(&a.lhs_text);
        // `local.field` (a struct on the stack) is not a cache; `self->field` and `global.field` are.
        let base = lhs.split(['-', '.']).next().unwrap_or("");
        let local_struct = !lhs.contains("->")
            && ctx
                .index
                .declaration_of(base, Some(fi))
                .is_some_and(|d| d.function == Some(fi) && !d.has_static_storage());
        let is_field = (lhs.contains("->") || lhs.contains('.')) && !local_struct;
        let is_static = crate::source::privacy::is_identifier(&lhs)
            && ctx
                .index
                .declaration_of(&lhs, Some(fi))
                .is_some_and(|d| d.has_static_storage());
        if !(is_field || is_static) || !an.compiled_in_ft(a.range.0) {
            continue;
        }
        let f = &ctx.index.functions[fi];
        let later =
            ctx.index.calls.iter().filter(|c| {
                c.function == Some(fi) && c.range.0 > a.range.1 && c.range.0 < f.range.1
            });
        let increfed = later
            .filter(|c| {
                matches!(
                    c.name.as_str(),
                    "Py_INCREF" | "Py_XINCREF" | "Py_NewRef" | "Py_XNewRef"
                )
            })
            .any(|c| {
                c.args
                    .first()
                    .is_some_and(|r| normalize(text(an, *r)) == lhs)
            });
        if increfed {
            continue;
        }
        reported.push(call.range.0);
        out.push(
            ctx.diagnostic(
                &BORROWED_CACHED,
                a.range,
                format!("`{lhs}` keeps the borrowed result of `{}` beyond this call; its owner can free it at any time", call.name),
            )
            .with_help(format!("store a strong reference: {}", replacement_advice(api, ctx.settings.target_minor))),
        );
    }
}

/// FT106: `PySequence_Fast_GET_ITEM(seq, i)` where `seq` may be a shared list.
fn sequence_fast(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&SEQUENCE_FAST_SHARED_LIST) {
        return;
    }
    for call in &ctx.index.calls {
        if !matches!(
            call.name.as_str(),
            "PySequence_Fast_GET_ITEM" | "PySequence_Fast_ITEMS"
        ) || call.function.is_none()
        {
            continue;
        }
        let Some(arg) = call.args.first() else {
            continue;
        };
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let privacy = an.container(*arg, call.range.0);
        if privacy.is_private() {
            continue;
        }
        let seq = text(an, *arg).trim();
        out.push(
            ctx.diagnostic(
                &SEQUENCE_FAST_SHARED_LIST,
                call.name_range,
                format!(
                    "`{}` on {}: for a list, `PySequence_Fast` returns the list itself, which other threads can change",
                    call.name,
                    privacy.describe(seq)
                ),
            )
            .with_help("snapshot with `PySequence_Tuple` and use tuple accessors, or hold `Py_BEGIN_CRITICAL_SECTION` on the sequence for the whole walk")
            .with_confidence(Confidence::Likely),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_depends_on_the_minimum_version() {
        let list = borrowed_api("PyList_GetItem").expect("known");
        assert!(replacement_advice(list, 13).contains("`PyList_GetItemRef` (added in 3.13)"));
        let old = replacement_advice(list, 9);
        assert!(
            old.contains("pythoncapi_compat.h") && old.contains("3.9"),
            "{old}"
        );
        let frame = borrowed_api("PyEval_GetGlobals").expect("known");
        let no_compat = replacement_advice(frame, 10);
        assert!(
            no_compat.contains("not in pythoncapi-compat") && no_compat.contains("0x030D0000"),
            "{no_compat}"
        );
        let sys = borrowed_api("PySys_GetObject").expect("known");
        assert!(replacement_advice(sys, 13).contains("3.15"));
        assert!(
            replacement_advice(borrowed_api("PyCell_GET").expect("known"), 9)
                .contains("every version")
        );
    }
}
