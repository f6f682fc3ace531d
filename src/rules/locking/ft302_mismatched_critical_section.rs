//! FT302: BEGIN/END macros that do not pair up.

use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::Mismatch;

pub static MISMATCHED_REGION: Rule = Rule {
    code: "FT302",
    name: "mismatched-critical-section",
    severity: Severity::Error,
    summary: "BEGIN/END macros that do not pair up in the same block (or under the same `#if`).",
    doc: r#"## What it does
Finds a `Py_BEGIN_CRITICAL_SECTION[2]` or `Py_BEGIN_ALLOW_THREADS` without its END
in the same block, an END without a BEGIN, `Py_BEGIN_CRITICAL_SECTION` closed by
`Py_END_CRITICAL_SECTION2` (or the reverse), an END macro given an argument, and a
pair whose BEGIN and END sit under different preprocessor conditions.

## Why is this bad?
The macros open and close a C scope, so they must pair up in one block. A mismatch
fails to compile in some configuration — often only the free-threaded one — or
releases the wrong kind of lock.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(a);
...
Py_END_CRITICAL_SECTION(a);   /* the END macros take no argument */
```

## Use instead
```c
Py_BEGIN_CRITICAL_SECTION(a);
...
Py_END_CRITICAL_SECTION();
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    for m in &an.mismatches {
        let (range, msg, conf) = match m {
            Mismatch::Unclosed(b) => (
                b.range,
                format!("`{}` has no matching END in the same block", b.macro_name),
                Confidence::Certain,
            ),
            Mismatch::Unopened(e) => (
                e.range,
                format!("`{}` has no matching BEGIN in the same block", e.macro_name),
                Confidence::Certain,
            ),
            Mismatch::WrongEnd { begin, end } => (
                end.range,
                format!("`{}` closes a `{}`", end.macro_name, begin.macro_name),
                Confidence::Certain,
            ),
            Mismatch::DifferentConditions { begin, end } => (
                end.range,
                format!(
                    "`{}` and its `{}` (line {}) are compiled under different `#if` conditions",
                    end.macro_name,
                    begin.macro_name,
                    ctx.file.lines.line_of(begin.range.0) + 1
                ),
                Confidence::Likely,
            ),
            Mismatch::EndWithArgument(e) => (
                e.range,
                format!(
                    "`{}` takes no argument (`{}()`)",
                    e.macro_name, e.macro_name
                ),
                Confidence::Certain,
            ),
        };
        if !an.compiled_in_ft(range.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(&MISMATCHED_REGION, range, msg)
                .with_help("BEGIN and END must pair up in the same C block, under the same preprocessor conditions")
                .with_confidence(conf),
        );
    }
}
