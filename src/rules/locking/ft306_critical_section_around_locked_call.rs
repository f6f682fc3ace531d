//! FT306: a critical section around one call that locks the object itself.

use crate::capi;
use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::{normalize, RegionKind};

pub static REDUNDANT_SECTION: Rule = Rule {
    code: "FT306",
    name: "critical-section-around-locked-call",
    severity: Severity::Info,
    summary: "A critical section around a single call that already locks the object.",
    doc: r#"## What it does
Finds a critical section on `x` whose body is a single statement with a single
call of a list, dict or set API that locks `x` itself (`PyList_Append(x, ...)`,
`PyDict_SetItem(x, ...)`, ...).

## Why is this bad?
It is not a correctness problem. The public list, dict and set APIs take the
object's lock internally, so the extra section only costs time.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(list);
rc = PyList_Append(list, item);
Py_END_CRITICAL_SECTION();
```

## Use instead
```c
rc = PyList_Append(list, item);
```
Keep the section when it protects several steps that must happen together, or
`PyDict_Next`.

## References
- C API reference: "Critical Sections" (built-in types lock internally).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    if an.regions.is_empty() {
        return;
    }
    let root = ctx.file.tree.root_node();
    for r in an
        .regions
        .iter()
        .filter(|r| r.kind == RegionKind::CriticalSection && r.end.is_some())
    {
        let body = r.body();
        let calls: Vec<_> = ctx
            .index
            .calls
            .iter()
            .filter(|c| body.0 <= c.range.0 && c.range.0 < body.1)
            .collect();
        let [call] = calls.as_slice() else { continue };
        if !capi::locks_own_container(&call.name) {
            continue;
        }
        if call.args.first().is_none_or(|a| {
            normalize(ctx.file.parse_text.get(a.0..a.1).unwrap_or("")) != r.objects[0]
        }) {
            continue;
        }
        let Some(block) = crate::source::privacy::ancestor_of_kind(
            root,
            r.begin.0,
            &["compound_statement", "case_statement"],
        ) else {
            continue;
        };
        let mut cursor = block.walk();
        let stmts = block
            .named_children(&mut cursor)
            .filter(|s| s.kind() != "comment" && body.0 <= s.start_byte() && s.end_byte() <= body.1)
            .count();
        if stmts != 1 || !an.compiled_in_ft(r.begin.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &REDUNDANT_SECTION,
                r.begin,
                format!(
                    "`{}` already locks `{}`: this critical section around it only adds cost",
                    call.name, r.object_texts[0]
                ),
            )
            .with_help(format!("call `{}` without the critical section", call.name)),
        );
    }
}
