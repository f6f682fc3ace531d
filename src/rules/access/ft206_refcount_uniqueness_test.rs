//! FT206: `Py_REFCNT(x) == 1` taken as proof that nobody else holds `x`.

use crate::capi::{self, RefCountOp};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::text;

pub static REFCNT_UNIQUENESS: Rule = Rule {
    code: "FT206",
    name: "refcount-uniqueness-test",
    severity: Severity::Warning,
    summary: "`Py_REFCNT(x) == 1` is used to decide that nobody else holds an object.",
    doc: r#"## What it does
Finds comparisons of `Py_REFCNT(x)` with `1` (`== 1`, `!= 1`, `<= 1`, `> 1`, `< 2`,
`>= 2`) outside `assert(...)`.

## Why is this bad?
In the free-threaded build the count is split between the owning thread and a
shared counter; a count of one read by one thread does not prove another thread
holds no reference, so an in-place mutation guarded by it can race.

## Example
```c
if (Py_REFCNT(s) == 1) { /* resize in place */ }
```

## Use instead
```c
if (PyUnstable_Object_IsUniquelyReferenced(s)) { ... }
```
Added in 3.14; pythoncapi-compat provides it (with a correct 3.13t emulation). Its
answer can differ from the old test, so review the branch.

## References
- C API reference: `PyUnstable_Object_IsUniquelyReferenced`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let root = ctx.file.tree.root_node();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::refcount_op(&c.name) == Some(RefCountOp::Read))
    {
        let Some(node) = root.descendant_for_byte_range(call.range.0, call.range.1) else {
            continue;
        };
        let mut n = node;
        while n.kind() != "call_expression" {
            let Some(p) = n.parent() else { break };
            n = p;
        }
        let Some(bin) = n.parent().filter(|p| p.kind() == "binary_expression") else {
            continue;
        };
        let (Some(op), Some(l), Some(r)) = (
            bin.child_by_field_name("operator"),
            bin.child_by_field_name("left"),
            bin.child_by_field_name("right"),
        ) else {
            continue;
        };
        let op = ctx.file.node_text(op);
        let other = if l.id() == n.id() {
            ctx.file.node_text(r)
        } else {
            ctx.file.node_text(l)
        };
        let uniq = matches!(
            (op, other.trim()),
            ("==" | "!=" | "<=" | ">", "1") | ("<" | ">=", "2")
        );
        if !uniq || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let in_assert = ctx.index.calls.iter().any(|c| {
            c.range.0 <= call.range.0
                && call.range.1 <= c.range.1
                && (c.name == "assert" || c.name.ends_with("ASSERT") || c.name.contains("assert"))
        });
        if in_assert || call.function.is_none() {
            continue;
        }
        let subject = call
            .args
            .first()
            .map(|r| text(ctx, *r).trim())
            .unwrap_or("");
        out.push(
            ctx.diagnostic(&REFCNT_UNIQUENESS, (bin.start_byte(), bin.end_byte()), format!("`{}` does not prove `{subject}` is unshared on the free-threaded build", ctx.file.node_text(bin)))
                .with_help("use `PyUnstable_Object_IsUniquelyReferenced` (3.14; pythoncapi-compat provides it)"),
        );
    }
}
