//! FT303: a critical section nested in one on another object.

use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::RegionKind;

pub static NESTED_SECTION: Rule = Rule {
    code: "FT303",
    name: "nested-critical-section-on-other-object",
    severity: Severity::Warning,
    summary: "A critical section nested inside another one on a different object.",
    doc: r#"## What it does
Finds `Py_BEGIN_CRITICAL_SECTION(b)` inside a critical section on `a` when `b` is a
different expression.

## Why is this bad?
Entering the inner section may suspend the outer one: only the innermost section's
locks are guaranteed to be held. Code that relies on holding both `a` and `b`
does not.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(a);
Py_BEGIN_CRITICAL_SECTION(b);
merge(a, b);
Py_END_CRITICAL_SECTION();
Py_END_CRITICAL_SECTION();
```

## Use instead
```c
Py_BEGIN_CRITICAL_SECTION2(a, b);
merge(a, b);
Py_END_CRITICAL_SECTION2();
```

## References
- C API reference: "Critical Sections" (`Py_BEGIN_CRITICAL_SECTION2`).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    if an.regions.is_empty() {
        return;
    }
    for inner in an
        .regions
        .iter()
        .filter(|r| r.kind != RegionKind::AllowThreads)
    {
        let Some(outer) = an
            .regions
            .iter()
            .filter(|o| o.kind != RegionKind::AllowThreads && o.contains(inner.begin.0))
            .max_by_key(|o| o.begin.0)
        else {
            continue;
        };
        if inner.objects.iter().all(|o| outer.objects.contains(o))
            || !an.compiled_in_ft(inner.begin.0)
        {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &NESTED_SECTION,
                inner.begin,
                format!(
                    "critical section on `{}` nested in one on `{}` (line {}): entering it may suspend the outer one",
                    inner.object_texts.join("`, `"),
                    outer.object_texts.join("`, `"),
                    ctx.file.lines.line_of(outer.begin.0) + 1
                ),
            )
            .with_help("lock both at once with `Py_BEGIN_CRITICAL_SECTION2(a, b)`"),
        );
    }
}
