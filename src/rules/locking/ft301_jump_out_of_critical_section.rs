//! FT301: `return`, `goto`, `break` or `continue` leaving a critical section or an allow-threads region.

use tree_sitter::Node;

use super::end_statement;
use crate::capi::TsRole;
use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::RegionKind;

pub static JUMP_OUT_OF_REGION: Rule = Rule {
    code: "FT301",
    name: "jump-out-of-critical-section",
    severity: Severity::Error,
    summary: "`return`, `goto`, `break` or `continue` leaves a critical section or an allow-threads region without its END macro.",
    doc: r#"## What it does
Finds `return`, `goto` to a label outside the region, and `break`/`continue` that
target a loop or `switch` outside the region, between `Py_BEGIN_CRITICAL_SECTION`
and `Py_END_CRITICAL_SECTION` (or the `2` forms), and between
`Py_BEGIN_ALLOW_THREADS` and `Py_END_ALLOW_THREADS` unless `Py_BLOCK_THREADS` comes
first.

## Why is this bad?
The END macro releases the lock (or re-attaches the thread state). Jumping past it
leaves the object locked forever — the next thread that needs it deadlocks — or
returns to Python without a thread state. On GIL builds the critical-section
macros are only braces, so tests there do not notice.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(self);
if (self->closed) {
    return NULL;
}
Py_END_CRITICAL_SECTION();
```

## Use instead
```c
PyObject *res = NULL;
Py_BEGIN_CRITICAL_SECTION(self);
if (!self->closed) {
    res = do_work(self);
}
Py_END_CRITICAL_SECTION();
return res;
```
Or `goto` a label placed just before `Py_END_CRITICAL_SECTION()`.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- C API reference: `Py_BEGIN_CRITICAL_SECTION`, `Py_BEGIN_ALLOW_THREADS`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    if an.regions.is_empty() {
        return;
    }
    let root = ctx.file.tree.root_node();
    let blocks = super::bare_thread_state_macros(ctx, TsRole::Attach);
    for r in an.regions.iter().filter(|r| r.end.is_some()) {
        let body = r.body();
        let kinds = [
            "return_statement",
            "goto_statement",
            "break_statement",
            "continue_statement",
        ];
        for j in nodes_in(root, body, &kinds) {
            if !an.compiled_in_ft(j.start_byte()) || unreachable(j) {
                continue;
            }
            let leaves = match j.kind() {
                "return_statement" => true,
                "goto_statement" => {
                    let label = j
                        .child_by_field_name("label")
                        .map(|l| ctx.file.node_text(l))
                        .unwrap_or("");
                    let f = &ctx.index.functions[r.function];
                    !nodes_in(root, f.body, &["labeled_statement"])
                        .iter()
                        .any(|l| {
                            l.child_by_field_name("label")
                                .is_some_and(|n| ctx.file.node_text(n) == label)
                                && body.0 <= l.start_byte()
                                && l.start_byte() <= body.1
                        })
                }
                k => {
                    let targets: &[&str] = if k == "break_statement" {
                        &[
                            "for_statement",
                            "while_statement",
                            "do_statement",
                            "switch_statement",
                            "for_range_loop",
                        ]
                    } else {
                        &[
                            "for_statement",
                            "while_statement",
                            "do_statement",
                            "for_range_loop",
                        ]
                    };
                    let mut t = j.parent();
                    while let Some(p) = t {
                        if targets.contains(&p.kind()) {
                            break;
                        }
                        t = p.parent();
                    }
                    t.is_none_or(|t| t.start_byte() < body.0)
                }
            };
            if !leaves {
                continue;
            }
            let reattached = blocks.iter().any(|b| {
                body.0 <= *b
                    && *b < j.start_byte()
                    && crate::source::privacy::ancestor_of_kind(root, *b, &["compound_statement"])
                        .is_some_and(|blk| {
                            blk.start_byte() <= j.start_byte() && j.end_byte() <= blk.end_byte()
                        })
            });
            if r.kind == RegionKind::AllowThreads && reattached {
                continue;
            }
            let what = j.kind().trim_end_matches("_statement");
            let msg = if r.kind == RegionKind::AllowThreads {
                format!("`{what}` leaves the `Py_BEGIN_ALLOW_THREADS` region without re-attaching the thread state (`Py_END_ALLOW_THREADS` or `Py_BLOCK_THREADS`)")
            } else {
                format!(
                    "`{what}` leaves the critical section on `{}` without `{}`: the lock is never released",
                    r.object_texts.join("`, `"),
                    end_statement(r.kind)
                )
            };
            out.push(
                ctx.diagnostic(&JUMP_OUT_OF_REGION, (j.start_byte(), j.end_byte()), msg)
                    .with_help(format!(
                        "store the result, and jump to a label just before `{}` instead",
                        end_statement(r.kind)
                    )),
            );
        }
    }
}

/// Nodes of `kinds` inside `range`.
fn nodes_in<'t>(root: Node<'t>, range: (usize, usize), kinds: &[&str]) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let Some(top) = root.descendant_for_byte_range(range.0, range.1.max(range.0)) else {
        return out;
    };
    let mut n = top;
    while n.start_byte() > range.0 || n.end_byte() < range.1 {
        match n.parent() {
            Some(p) => n = p,
            None => break,
        }
    }
    let mut stack = vec![n];
    let mut cursor = n.walk();
    while let Some(x) = stack.pop() {
        if x.end_byte() <= range.0 || x.start_byte() >= range.1 {
            continue;
        }
        if kinds.contains(&x.kind()) && x.start_byte() >= range.0 && x.end_byte() <= range.1 {
            out.push(x);
        }
        stack.extend(x.children(&mut cursor));
    }
    out.sort_by_key(|n| n.start_byte());
    out
}

/// A statement right after an unconditional jump in the same block never runs.
fn unreachable(stmt: Node) -> bool {
    let mut prev = stmt.prev_named_sibling();
    while let Some(p) = prev.filter(|p| p.kind() == "comment") {
        prev = p.prev_named_sibling();
    }
    prev.is_some_and(|p| {
        matches!(
            p.kind(),
            "return_statement" | "goto_statement" | "break_statement" | "continue_statement"
        )
    })
}
