//! FT211: reading CPython's private GC header.

use crate::capi::{self, PrivateLayout};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{compiled_in_ft, define_occurrences, is_cpython_module};

pub static GC_HEADER_ACCESS: Rule = Rule {
    code: "FT211",
    name: "gc-header-access",
    severity: Severity::Error,
    summary: "Code reads the GC header in front of an object (`(PyGC_Head *)o - 1`, `_gc_next`, `_PyObject_GC_IS_TRACKED`).",
    doc: r#"## What it does
Finds code that reaches into the garbage collector's per-object header: casts to
`PyGC_Head *`, hand-written copies of the header (structs with `_gc_next` and
`_gc_prev`, or the older `gc_next`/`gc_prev`/`gc_refs`), uses of those fields, and
CPython's private GC macros (`_Py_AS_GC`, `_PyGC_REFS`, `_PyGCHead_NEXT`,
`_PyObject_GC_IS_TRACKED`, `_PyObject_GC_MAY_BE_TRACKED`), in code and in the
file's own `#define`s. This is usually a trackedness test.

## Why is this bad?
The default build keeps a `PyGC_Head` (two words linking the object into a
generation list) just before every GC object. The free-threaded build has no
such lists: the collector finds objects by walking the GC heap, and records
"tracked" in a bit of the object header (`ob_gc_bits`). The words in front of
an object there are the managed dict and weakref pointers, or nothing at all,
so a mirror of `PyGC_Head` reads unrelated memory and a test such as
`_gc_next != 0` answers at random.

## Example
```c
#define IS_TRACKED(o) (((PyGC_Head *)(o) - 1)->_gc_next != 0)
```

## Use instead
```c
#define IS_TRACKED(o) PyObject_GC_IsTracked(o)
```
`PyObject_GC_IsTracked` (3.9) and `PyObject_GC_IsFinalized` answer on every
build. The fix replaces `_PyObject_GC_IS_TRACKED(o)` with it when the project
targets 3.9 or later.

## References
- C API reference: `PyObject_GC_IsTracked`, "Supporting Cyclic Garbage Collection".
- CPython `InternalDocs/garbage_collector.md`, "Free-threaded build".
"#,
    fix: FixAvailability::Sometimes,
};

/// (start, end, what is used, the `#define` it sits in).
type Hit = (usize, usize, String, Option<(usize, usize)>);

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if is_cpython_module(ctx) {
        return;
    }
    let pt = ctx.file.parse_text.as_str();
    // One finding per line, and one per struct for a copy of the header.
    let mut groups: Vec<usize> = Vec::new();
    let root = ctx.file.tree.root_node();
    let mut hits: Vec<Hit> = Vec::new();
    // CPython's private GC macros, then the header's fields, from the catalogue.
    let macros = capi::private_macros(PrivateLayout::GcHeader).map(|m| (m.name, true));
    let fields = capi::gc_header_fields().map(|f| (f, false));
    for (word, is_macro) in macros.chain(fields) {
        for off in ctx.file.code_occurrences(word) {
            // Fields count only as fields: `->_gc_next`, `.gc_refs`, or declared in a struct.
            if !is_macro && !is_field(ctx, off) {
                continue;
            }
            hits.push((off, off + word.len(), describe(word, is_macro), None));
        }
        for (off, directive) in define_occurrences(ctx, word) {
            hits.push((
                off,
                off + word.len(),
                describe(word, is_macro),
                Some(directive),
            ));
        }
    }
    for off in ctx.file.code_occurrences("PyGC_Head") {
        // A cast (`(PyGC_Head *)o - 1`), not the sizing declarations of Argument Clinic.
        let rest = pt[off + "PyGC_Head".len()..].trim_start();
        if rest.starts_with('*') && rest[1..].trim_start().starts_with(')') {
            hits.push((off, off + 9, "a cast to `PyGC_Head *`".into(), None));
        }
    }
    for (off, directive) in define_occurrences(ctx, "PyGC_Head") {
        hits.push((off, off + 9, "`PyGC_Head`".into(), Some(directive)));
    }
    hits.sort_by_key(|h| h.0);
    for (start, end, what, directive) in hits {
        let group = match crate::source::privacy::ancestor_of_kind(
            root,
            start,
            &["field_declaration_list"],
        ) {
            Some(list) if directive.is_none() => list.start_byte(),
            _ => ctx.file.lines.line_start(ctx.file.lines.line_of(start)),
        };
        if groups.contains(&group) || !compiled_in_ft(ctx, start) {
            continue;
        }
        groups.push(group);
        let place = if directive.is_some() {
            "this macro uses"
        } else {
            "this code uses"
        };
        let mut d = ctx
            .diagnostic(
                &GC_HEADER_ACCESS,
                (start, end),
                format!("{place} {what}, which depends on the default build's GC header; free-threaded builds have no such header in front of objects"),
            )
            .with_help("test trackedness with `PyObject_GC_IsTracked(o)` (3.9) instead of reading the header");
        if let Some(fix) = tracked_fix(ctx, start, end) {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

fn describe(word: &str, is_macro: bool) -> String {
    if is_macro {
        format!("CPython's private macro `{word}`")
    } else {
        format!("the GC header field `{word}`")
    }
}

/// `->_gc_next`, `.gc_refs`, or a field declaration inside a struct.
fn is_field(ctx: &FileContext, off: usize) -> bool {
    let before = ctx.file.parse_text[..off].trim_end();
    if before.ends_with("->") || before.ends_with('.') {
        return true;
    }
    let root = ctx.file.tree.root_node();
    crate::source::privacy::ancestor_of_kind(root, off, &["field_declaration"]).is_some()
}

/// `_PyObject_GC_IS_TRACKED(o)` → `PyObject_GC_IsTracked(o)`: a private GC macro
/// with a public equivalent the project's target version has.
fn tracked_fix(ctx: &FileContext, start: usize, end: usize) -> Option<Fix> {
    let word = ctx.file.text.get(start..end)?;
    let public = capi::private_macro(word)
        .filter(|m| m.reads == PrivateLayout::GcHeader)?
        .public?;
    if ctx.settings.target_minor < public.since {
        return None;
    }
    if !ctx.file.text[end..].trim_start().starts_with('(') {
        return None;
    }
    Some(Fix {
        applicability: Applicability::Safe,
        message: format!("Use `{}`", public.name),
        edits: vec![Edit {
            span: ctx.file.span(start, end),
            content: public.name.into(),
        }],
    })
}
