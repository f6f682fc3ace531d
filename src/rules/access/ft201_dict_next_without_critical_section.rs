//! FT201: `PyDict_Next` over a shared dict without a critical section.

use crate::capi;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::{Call, Range};

use super::text;

pub static DICT_NEXT_UNLOCKED: Rule = Rule {
    code: "FT201",
    name: "dict-next-without-critical-section",
    severity: Severity::Error,
    summary:
        "`PyDict_Next` iterates a dict other threads can change, outside a critical section on it.",
    doc: r#"## What it does
Finds `PyDict_Next(d, ...)` when `d` is not private to the call and the call is not
inside `Py_BEGIN_CRITICAL_SECTION(d)` (or `Py_BEGIN_CRITICAL_SECTION2` naming `d`).
The keyword-arguments dict of the call and dicts created in the function that have
not been shared yet are not reported.

## Why is this bad?
`PyDict_Next` does not lock the dict. If another thread inserts or deletes while the
loop runs, the position becomes meaningless, and the borrowed keys and values can
be freed while the loop uses them.

## Example
```c
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
```

## Use instead
```c
Py_BEGIN_CRITICAL_SECTION(self->dict);
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
Py_END_CRITICAL_SECTION();
```
Do not `return` or `goto` out of the section, and take strong references to keys and
values that are used after a call that may run Python code (FT304). Iterating over
a snapshot (`PyDict_Items(d)`) is the alternative.

## Fix
`--fix` wraps the loop whose condition calls `PyDict_Next` in
`Py_BEGIN_CRITICAL_SECTION(d);` ... `Py_END_CRITICAL_SECTION();` when `d` is a
plain name or field chain (the macro evaluates it again) and the loop is a
statement of its own lines in a block. The wrap is safe when nothing jumps out
of the loop. A `return`, or a `goto`/`break`/`continue` that leaves the loop, is
turned into "remember the exit, `break`", and the jump is made after
`Py_END_CRITICAL_SECTION()` (the return value is kept in a temporary): this
fix is unsafe, review it. No fix when such a jump sits in a nested loop or
`switch`, when a `goto` enters the loop from outside, or when the function has
preprocessor conditionals. A loop that walks two dicts in its condition locks both
with `Py_BEGIN_CRITICAL_SECTION2(a, b)`. Before 3.13 the macros come from `pythoncapi_compat.h`
(included after `Python.h` when the project has it; otherwise the fix is unsafe).

## References
- CPython howto *C API Extension Support for Free Threading*, "`PyDict_Next`".
- C API reference: `PyDict_Next`.
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::iterates_borrowed_items(&c.name) && c.function.is_some())
    {
        let Some(arg) = call.args.first() else {
            continue;
        };
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_private() {
            continue;
        }
        let d = text(ctx, *arg).trim();
        let mut diag = ctx.diagnostic(&DICT_NEXT_UNLOCKED, call.name_range, format!("`{}` over {} without a critical section on it", call.name, p.describe(d)))
                .with_help(format!("wrap the whole loop in `Py_BEGIN_CRITICAL_SECTION({d});` ... `Py_END_CRITICAL_SECTION();`, or iterate over `PyDict_Items({d})`"))
                .with_confidence(p.confidence());
        if let Some(fix) = lock_loop_fix(ctx, call, *arg) {
            diag = diag.with_fix(fix);
        }
        out.push(diag);
    }
}

/// Wraps the loop whose condition iterates in a critical section on the container
/// (see [`crate::fix::critical_section`]).
fn lock_loop_fix(ctx: &FileContext, call: &Call, arg: Range) -> Option<Fix> {
    use crate::fix::{critical_section, scope};
    let file = ctx.file;
    let container = file.text.get(arg.0..arg.1)?.trim();
    // Evaluated once more by the macro: only plain names and field chains.
    let is_plain = |e: &str| {
        !e.is_empty()
            && e.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '>' | '.'))
    };
    if !is_plain(container) {
        return None;
    }
    let node = scope::node_of_kind(file, call.range.0, call.range.1, "call_expression")?;
    let function = scope::enclosing_function(node)?;
    let lp = scope::ancestors(node).find(|a| {
        matches!(
            a.kind(),
            "while_statement" | "for_statement" | "do_statement"
        )
    })?;
    let cond = lp.child_by_field_name("condition")?;
    if !scope::within(node, cond) {
        return None;
    }
    // Two containers walked in one loop (`PyDict_Next(a, ...) && PyDict_Next(b, ...)`)
    // are locked together.
    let mut objects = vec![container];
    for c in ctx.index.calls.iter().filter(|c| {
        capi::iterates_borrowed_items(&c.name)
            && c.range.0 >= cond.start_byte()
            && c.range.1 <= cond.end_byte()
    }) {
        let other = c
            .args
            .first()
            .and_then(|a| file.text.get(a.0..a.1))
            .map(str::trim)?;
        if !objects.contains(&other) {
            objects.push(other);
        }
    }
    if objects.len() > 2 || !objects.iter().all(|o| is_plain(o)) {
        return None;
    }
    let wrapped = critical_section::wrap(file, function, lp, lp, &objects)?;
    let message = if wrapped.rewrote_jumps {
        format!(
            "Lock `{}` around the loop; the `return`/`goto` out of it now leaves the section first",
            objects.join("` and `")
        )
    } else {
        format!("Lock `{}` around the loop", objects.join("` and `"))
    };
    critical_section::section_fix(
        file,
        ctx.settings.target_minor,
        wrapped,
        message,
        Applicability::Safe,
    )
}
