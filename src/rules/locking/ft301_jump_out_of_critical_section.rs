//! FT301: `return`, `goto`, `break` or `continue` leaving a critical section or an allow-threads region.

use rustc_hash::FxHashMap as HashMap;
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
    let tree = Tree::new(root);
    // Each function's labels (start, name), found once: a region may hold many `goto`s.
    let mut labels_of: HashMap<usize, Vec<(usize, Option<&str>)>> = HashMap::default();
    let blocks = super::bare_thread_state_macros(ctx, TsRole::Attach);
    for r in an.regions.iter().filter(|r| r.end.is_some()) {
        let body = r.body();
        let kinds = [
            "return_statement",
            "goto_statement",
            "break_statement",
            "continue_statement",
        ];
        // A jump's text holds its keyword: a body whose text holds none has no
        // jump, unless error recovery made a keyword up (such trees are searched).
        let text = ctx.file.parse_text.get(body.0..body.1).unwrap_or("");
        if !tree.has_error_in(body)
            && !["return", "goto", "break", "continue"]
                .iter()
                .any(|k| text.contains(k))
        {
            continue;
        }
        for j in tree.nodes_in(body, &kinds) {
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
                    let labels = labels_of.entry(r.function).or_insert_with(|| {
                        let f = &ctx.index.functions[r.function];
                        tree.nodes_in(f.body, &["labeled_statement"])
                            .iter()
                            .map(|l| {
                                let name = l
                                    .child_by_field_name("label")
                                    .map(|n| ctx.file.node_text(n));
                                (l.start_byte(), name)
                            })
                            .collect()
                    });
                    !labels.iter().any(|(start, name)| {
                        *name == Some(label) && body.0 <= *start && *start <= body.1
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

/// The syntax tree with the root's children at hand: each region's search starts
/// at the top-level node around it (found by position) instead of stepping
/// through every top-level node before it.
struct Tree<'t> {
    root: Node<'t>,
    tops: Vec<Node<'t>>,
}

impl<'t> Tree<'t> {
    fn new(root: Node<'t>) -> Tree<'t> {
        let mut cursor = root.walk();
        let tops = root.children(&mut cursor).collect();
        Tree { root, tops }
    }

    /// Does a node overlapping `range` hold a syntax error (or a token error
    /// recovery inserted)?
    fn has_error_in(&self, range: (usize, usize)) -> bool {
        let first = self.tops.partition_point(|n| n.end_byte() <= range.0);
        self.tops[first..]
            .iter()
            .take_while(|n| n.start_byte() < range.1)
            .any(|n| n.has_error())
    }

    /// Nodes of `kinds` inside `range`, in source order: a walk down the nodes
    /// that overlap the range only.
    fn nodes_in(&self, range: (usize, usize), kinds: &[&str]) -> Vec<Node<'t>> {
        let overlaps = |n: Node| !(n.end_byte() <= range.0 || n.start_byte() >= range.1);
        let wanted = |n: Node| {
            n.start_byte() >= range.0 && n.end_byte() <= range.1 && kinds.contains(&n.kind())
        };
        let mut out = Vec::new();
        if !overlaps(self.root) {
            return out;
        }
        if wanted(self.root) {
            out.push(self.root);
        }
        // Siblings are in order: the first that reaches past the range's start,
        // then those that start before its end.
        let first = self.tops.partition_point(|n| n.end_byte() <= range.0);
        for &top in self.tops[first..].iter().take_while(|n| overlaps(**n)) {
            let mut c = top.walk();
            'walk: loop {
                let n = c.node();
                if wanted(n) {
                    out.push(n);
                }
                // Down to the first child that reaches past the range's start.
                if c.goto_first_child_for_byte(range.0).is_some() && overlaps(c.node()) {
                    continue;
                }
                // Then across, or up: a sibling that does not overlap starts past the range.
                loop {
                    if c.goto_next_sibling() && overlaps(c.node()) {
                        continue 'walk;
                    }
                    if !c.goto_parent() {
                        break 'walk;
                    }
                }
            }
        }
        out
    }
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
