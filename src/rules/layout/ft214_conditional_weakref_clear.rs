//! FT214: `PyObject_ClearWeakRefs` only when the weakref list looks non-empty.

use tree_sitter::Node;

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::compiled_in_ft;

pub static CONDITIONAL_WEAKREF_CLEAR: Rule = Rule {
    code: "FT214",
    name: "conditional-weakref-clear",
    severity: Severity::Warning,
    summary:
        "`PyObject_ClearWeakRefs` is called only if the object's weakref list field is non-NULL.",
    doc: r#"## What it does
Finds `if (self->weakreflist != NULL) PyObject_ClearWeakRefs(...)` (and
`if (self->weakreflist)`, or any field named like a weakref list) when the `if`
does nothing else.

## Why is this bad?
The test reads the weakref list without the lock that guards it. On a
free-threaded build, weak references to the object can be created and destroyed
by other threads (a dying weakref unlinks itself from the list under that lock)
while the deallocator runs, so the plain read is a data race, and a stale `NULL`
skips the clearing and leaves weak references pointing at freed memory.
`PyObject_ClearWeakRefs` reads the list atomically and returns at once when it
is empty, so the test saves nothing; CPython's own types clear unconditionally
on free-threaded builds.

## Example
```c
if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs((PyObject *)self);
```

## Use instead
```c
PyObject_ClearWeakRefs((PyObject *)self);
```
The fix removes the test. It is safe when the file sets `tp_weaklistoffset` (or
`Py_TPFLAGS_MANAGED_WEAKREF`, or a `__weaklistoffset__` member), unsafe otherwise:
`PyObject_ClearWeakRefs` raises `SystemError` for a type without weakref
support, which the test used to hide.

## References
- C API reference: `PyObject_ClearWeakRefs`, "Weak Reference Support".
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let root = ctx.file.tree.root_node();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| c.name == "PyObject_ClearWeakRefs")
    {
        let Some(node) = root.descendant_for_byte_range(call.range.0, call.range.1) else {
            continue;
        };
        let Some(stmt) = statement_of(node) else {
            continue;
        };
        let Some(if_stmt) = guarding_if(stmt) else {
            continue;
        };
        let Some(cond) = if_stmt.child_by_field_name("condition") else {
            continue;
        };
        let cond_text = ctx.file.node_text(cond);
        let Some(field) = weakref_null_test(cond_text) else {
            continue;
        };
        if !compiled_in_ft(ctx, call.range.0) {
            continue;
        }
        let t = &ctx.file.text;
        let supports = [
            "tp_weaklistoffset",
            "Py_TPFLAGS_MANAGED_WEAKREF",
            "__weaklistoffset__",
        ]
        .iter()
        .any(|w| t.contains(w));
        let fix = Fix {
            applicability: if supports {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            },
            message: "Call `PyObject_ClearWeakRefs` unconditionally".into(),
            edits: vec![Edit {
                span: ctx.file.span(if_stmt.start_byte(), if_stmt.end_byte()),
                content: ctx.file.text[stmt.start_byte()..stmt.end_byte()].to_owned(),
            }],
        };
        let head_end = cond.end_byte();
        out.push(
            ctx.diagnostic(&CONDITIONAL_WEAKREF_CLEAR, (if_stmt.start_byte(), head_end), format!("`PyObject_ClearWeakRefs` runs only if `{field}` is non-NULL; that unlocked read races with weak references created or dying on other threads"))
                .with_help("call `PyObject_ClearWeakRefs` unconditionally: it checks the list itself, under its lock")
                .with_fix(fix),
        );
    }
}

/// The expression statement a call is the whole of.
fn statement_of(call: Node) -> Option<Node> {
    let mut n = call;
    while n.kind() != "call_expression" {
        n = n.parent()?;
    }
    let stmt = n.parent().filter(|p| p.kind() == "expression_statement")?;
    (stmt.named_child_count() == 1).then_some(stmt)
}

/// The `if` (without `else`) whose whole body is `stmt`.
fn guarding_if(stmt: Node) -> Option<Node> {
    let mut body = stmt;
    let mut parent = stmt.parent()?;
    if parent.kind() == "compound_statement" {
        let mut c = parent.walk();
        let statements = parent
            .named_children(&mut c)
            .filter(|n| n.kind() != "comment")
            .count();
        if statements != 1 {
            return None;
        }
        body = parent;
        parent = parent.parent()?;
    }
    if parent.kind() != "if_statement" || parent.child_by_field_name("alternative").is_some() {
        return None;
    }
    parent
        .child_by_field_name("consequence")
        .is_some_and(|c| c.id() == body.id())
        .then_some(parent)
}

/// `(x->weakreflist != NULL)`, `(x->weakreflist)`, `(NULL != x->wr)`: the field
/// expression tested, when the condition is only that test.
fn weakref_null_test(cond: &str) -> Option<String> {
    let c: String = cond.chars().filter(|c| !c.is_whitespace()).collect();
    let c = c.trim_start_matches('(').trim_end_matches(')');
    if c.contains("&&") || c.contains("||") || c.contains("==") || c.starts_with('!') {
        return None;
    }
    let subject = c
        .strip_suffix("!=NULL")
        .or_else(|| c.strip_suffix("!=0"))
        .or_else(|| c.strip_suffix("!=nullptr"))
        .or_else(|| c.strip_prefix("NULL!="))
        .unwrap_or(c);
    let last = subject
        .rsplit(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .next()
        .unwrap_or("");
    let l = last.to_ascii_lowercase();
    (l.contains("weakref") || l.contains("weaklist") || l == "wr_list").then(|| subject.to_owned())
}
