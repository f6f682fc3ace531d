//! FT205: `ob_refcnt` read or written directly.

use crate::capi::{self, FieldHazard};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::ancestor_of_kind;

use super::is_assignment_target;

pub static OB_REFCNT: Rule = Rule {
    code: "FT205",
    name: "ob-refcnt-access",
    severity: Severity::Error,
    summary: "`->ob_refcnt` does not exist in the free-threaded `PyObject`.",
    doc: r#"## What it does
Finds `x->ob_refcnt` and `x.ob_refcnt` in code compiled for a free-threaded build.

## Why is this bad?
The free-threaded object header splits the reference count into a thread-local and
a shared part; there is no `ob_refcnt` member, so the code does not compile.

## Example
```c
if (obj->ob_refcnt > 1) { ... }
```

## Use instead
```c
if (Py_REFCNT(obj) > 1) { ... }
```
Reads are fixed safely with `Py_REFCNT(x)`. Writes (`x->ob_refcnt = n`) become
`Py_SET_REFCNT(x, n)` as an unsafe fix (it ignores immortal objects); increments
are left to you.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
- C API reference: `Py_REFCNT`, `Py_SET_REFCNT`.
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let root = ctx.file.tree.root_node();
    // `ob_refcnt`: the object header's fields the free-threaded layout lacks.
    let absent = capi::struct_fields().filter(|f| f.hazard == FieldHazard::AbsentOnFreeThreaded);
    let offsets = absent.flat_map(|f| ctx.file.code_occurrences(f.name));
    for off in offsets {
        let Some(fe) = ancestor_of_kind(root, off, &["field_expression", "field_declaration"])
        else {
            continue;
        };
        if fe.kind() != "field_expression" || !an.compiled_in_ft(off) {
            continue;
        }
        let Some(base) = fe.child_by_field_name("argument") else {
            continue;
        };
        let arrow = ctx
            .file
            .parse_text
            .get(base.end_byte()..off)
            .is_some_and(|s| s.trim() == "->");
        let base_text = ctx.file.node_text(base);
        let parent = fe.parent();
        let parent_kind = parent.map(|p| p.kind()).unwrap_or("");
        let fix = if !arrow {
            None
        } else if is_assignment_target(fe) {
            parent
                .filter(|p| {
                    ctx.file.node_text(*p).contains('=')
                        && p.child_by_field_name("operator")
                            .is_some_and(|o| ctx.file.node_text(o) == "=")
                })
                .and_then(|p| {
                    let rhs = p.child_by_field_name("right")?;
                    Some(Fix {
                        applicability: Applicability::Unsafe,
                        message: "Use `Py_SET_REFCNT` (it leaves immortal objects alone)".into(),
                        edits: vec![Edit {
                            span: ctx.file.span(p.start_byte(), p.end_byte()),
                            content: format!(
                                "Py_SET_REFCNT({}, {})",
                                base_text.trim(),
                                ctx.file.node_text(rhs).trim()
                            ),
                        }],
                    })
                })
        } else if matches!(parent_kind, "update_expression" | "pointer_expression") {
            None
        } else {
            Some(Fix {
                applicability: Applicability::Safe,
                message: "Use `Py_REFCNT`".into(),
                edits: vec![Edit {
                    span: ctx.file.span(fe.start_byte(), fe.end_byte()),
                    content: format!("Py_REFCNT({})", base_text.trim()),
                }],
            })
        };
        let mut d = ctx
            .diagnostic(&OB_REFCNT, (fe.start_byte(), fe.end_byte()), format!("`{}` does not compile on the free-threaded build: `PyObject` has no `ob_refcnt` there", ctx.file.node_text(fe)))
            .with_help("use `Py_REFCNT(x)` to read and `Py_SET_REFCNT(x, n)` to write");
        if let Some(f) = fix {
            d = d.with_fix(f);
        }
        out.push(d);
    }
}
