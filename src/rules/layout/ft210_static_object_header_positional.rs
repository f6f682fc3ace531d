//! FT210: a static object's header written field by field.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{closing, compiled_in_ft, text, top_level_items};

pub static STATIC_OBJECT_HEADER_POSITIONAL: Rule = Rule {
    code: "FT210",
    name: "static-object-header-positional",
    severity: Severity::Error,
    summary: "A static object's header is initialised field by field (`{_PyObject_EXTRA_INIT 1, &T}`, `.ob_refcnt = 1`).",
    doc: r#"## What it does
Finds object headers spelled out by hand in an initializer instead of with
`PyObject_HEAD_INIT`: the private `_PyObject_EXTRA_INIT` macro followed by a
reference count and a type, a static `PyObject` or `PyVarObject` (or a struct
starting with one) initialised as `{1, &Some_Type}`, and `.ob_refcnt = ...`
designators.

## Why is this bad?
The default build's `PyObject` starts with `ob_refcnt` and `ob_type`, so
`{1, &T}` fills them. The free-threaded header starts with other fields
(`ob_tid`, `ob_flags`, `ob_mutex`, `ob_gc_bits`, `ob_ref_local`, `ob_ref_shared`)
and has no `ob_refcnt`: the positional form puts the count and the type into
the wrong fields (or does not compile), and the object is then neither immortal
nor of the right type. Static objects must also be immortal there, which only
`PyObject_HEAD_INIT` arranges.

## Example
```c
static PyObject Unset = {_PyObject_EXTRA_INIT 1, &Unset_Type};
```

## Use instead
```c
static PyObject Unset = PyObject_HEAD_INIT(&Unset_Type);
```
In a struct that starts with `PyObject_HEAD`, write `{PyObject_HEAD_INIT(&T), ...}`;
for a variable-size header, `PyVarObject_HEAD_INIT(&T, size)`. The fix rewrites
`{_PyObject_EXTRA_INIT n, &T}` and `{n, &T}` to `PyObject_HEAD_INIT(&T)`; it is
unsafe because the object becomes immortal (its count is no longer `n`).

## References
- C API reference: `PyObject_HEAD_INIT`, "Common Object Structures".
- CPython `Include/object.h`: the free-threaded `struct _object`.
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let pt = ctx.file.parse_text.as_str();
    let mut reported: Vec<usize> = Vec::new();
    // `{_PyObject_EXTRA_INIT 1, &T}`: the macro only ever precedes a header.
    for off in ctx.file.code_occurrences("_PyObject_EXTRA_INIT") {
        let Some(open) = pt[..off].trim_end().strip_suffix('{').map(str::len) else {
            continue;
        };
        if !compiled_in_ft(ctx, off) || reported.contains(&open) {
            continue;
        }
        let Some(close) = closing(pt, open) else {
            continue;
        };
        reported.push(open);
        let inner = &pt[off + "_PyObject_EXTRA_INIT".len()..close];
        report(ctx, (open, close + 1), top_level_items(inner), out);
    }
    // `static PyObject x = {1, &T};` and `{{1, &T}, 0, ...}` without the macro.
    for d in ctx
        .index
        .decls
        .iter()
        .filter(|d| d.has_static_storage() && !d.is_array && !d.is_pointer)
    {
        let Some(init) = &d.init else { continue };
        let Some(header) = header_list(ctx, d.base_type(), init) else {
            continue;
        };
        if reported.contains(&header.0) || !compiled_in_ft(ctx, header.0) {
            continue;
        }
        reported.push(header.0);
        let inner = text(ctx, (header.0 + 1, header.1 - 1));
        report(ctx, header, top_level_items(inner), out);
    }
    // `.ob_refcnt = 1` designators (FT205 reports `x->ob_refcnt` expressions).
    for off in ctx.file.code_occurrences("ob_refcnt") {
        let designator = pt[..off].trim_end().ends_with('.')
            && pt[off + "ob_refcnt".len()..].trim_start().starts_with('=')
            && !pt[off + "ob_refcnt".len()..].trim_start().starts_with("==");
        let before = pt[..off].trim_end().trim_end_matches('.');
        let in_list = before.ends_with('{') || before.ends_with(',');
        if !designator || !in_list || !compiled_in_ft(ctx, off) {
            continue;
        }
        out.push(
            ctx.diagnostic(&STATIC_OBJECT_HEADER_POSITIONAL, (off - 1, off + "ob_refcnt".len()), "the initializer sets `.ob_refcnt`, which the free-threaded `PyObject` does not have")
                .with_help("initialise the header with `PyObject_HEAD_INIT(&Type)`"),
        );
    }
}

/// The braced header `{n, &T}` of a static object's initializer: the list itself
/// for a `PyObject`, or its first element when that is such a list.
fn header_list(
    ctx: &FileContext,
    ty: &str,
    init: &crate::source::index::Init,
) -> Option<(usize, usize)> {
    let items = init.items();
    let is_header = |items: &[crate::source::index::InitItem], null_type: bool| {
        items.len() == 2
            && items.iter().all(|i| i.designator.is_none())
            && items[0].value.expr().is_some_and(is_count)
            && items[1]
                .value
                .expr()
                .is_some_and(|t| is_type_ref(t) && (null_type || t.trim() != "NULL"))
    };
    if matches!(ty, "PyObject" | "PyVarObject") && is_header(items, true) {
        let r = init.range();
        return Some(r);
    }
    let first = items.first()?;
    if first.designator.is_some() {
        return None;
    }
    let inner = first.value.items();
    // Nested, the type must be named: `{{0, NULL}, ...}` is any struct's zero.
    if is_header(inner, false) {
        // `{{1, &T}, 0}`: a `PyVarObject`, or a struct starting with `PyObject_HEAD`.
        let r = first.value.range();
        return text(ctx, r).starts_with('{').then_some(r);
    }
    None
}

/// A literal reference count (`1`, `1L`, `_Py_IMMORTAL_REFCNT`).
fn is_count(e: &str) -> bool {
    let e = e.trim();
    e.trim_end_matches(['L', 'l', 'U', 'u'])
        .bytes()
        .all(|b| b.is_ascii_digit())
        && !e.is_empty()
        || e.contains("REFCNT")
}

/// `&Foo_Type`, `&PyType_Type`, `NULL`: what fills `ob_type`.
fn is_type_ref(e: &str) -> bool {
    let name = e.trim().trim_start_matches('&').trim();
    let ident = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ident && (name.to_ascii_lowercase().ends_with("type") || name == "NULL")
}

fn report(ctx: &FileContext, list: (usize, usize), items: Vec<&str>, out: &mut Vec<Diagnostic>) {
    let mut d = ctx
        .diagnostic(
            &STATIC_OBJECT_HEADER_POSITIONAL,
            list,
            format!(
                "`{}` writes the object header field by field; the free-threaded header has other fields first",
                text(ctx, list).split_whitespace().collect::<Vec<_>>().join(" ")
            ),
        )
        .with_help("use `PyObject_HEAD_INIT(&Type)` (or `PyVarObject_HEAD_INIT(&Type, size)`)");
    if let [count, ty] = items.as_slice() {
        if is_count(count) && is_type_ref(ty) && ty.trim() != "NULL" {
            d = d.with_fix(Fix {
                applicability: Applicability::Unsafe,
                message: "Use `PyObject_HEAD_INIT` (the object becomes immortal)".into(),
                edits: vec![Edit {
                    span: ctx.file.span(list.0, list.1),
                    content: format!("PyObject_HEAD_INIT({})", ty.trim()),
                }],
            });
        }
    }
    out.push(d);
}
