//! FT218: the fields of `PyThreadState` read or written directly.

use std::collections::HashSet;

use crate::capi;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{compiled_in_ft, is_cpython_module, is_written};

pub static THREAD_STATE_INTERNALS: Rule = Rule {
    code: "FT218",
    name: "thread-state-internals",
    severity: Severity::Warning,
    summary: "Fields of `PyThreadState` are read or written directly (`tstate->cframe`, `tstate->datastack_top`).",
    doc: r#"## What it does
Finds `->field` on a `PyThreadState *` (a variable or parameter of that type, or
the result of `PyThreadState_Get()`, `PyThreadState_GET()`,
`PyThreadState_GetUnchecked()` or `_PyThreadState_UncheckedGet()`). One finding
per field and function. Such code usually saves and restores the interpreter's
frame and data-stack pointers to switch C stacks (stackful coroutines), or
reads the recursion counters.

## Why is this bad?
The struct is not part of the stable or even the unstable API and changes
between versions; on a free-threaded build it is the first part of a larger
private `_PyThreadStateImpl`. More importantly, other threads read it there: a
stop-the-world pause and the garbage collector walk every thread's frames and
data stack, and can do so while this thread swaps the pointers, so a
half-restored state crashes the collector. The thread's status, its eval
breaker and its reference-count bookkeeping live next to these fields and are
updated atomically by other threads.

## Example
```c
saved->frame = tstate->cframe->current_frame;
saved->top = tstate->datastack_top;
```

## Use instead
Public accessors where they exist: `PyThreadState_GetInterpreter`,
`PyThreadState_GetFrame`, `PyThreadState_GetID`, `PyThreadState_GetDict`,
`Py_EnterRecursiveCall` for recursion depth, `PyErr_GetRaisedException` and
`PyErr_GetHandledException` for the exception state, `PyContext_CopyCurrent`
for the context. Stack switching needs the interpreter's cooperation: use a
maintained library that tracks each CPython version's free-threaded layout
instead of a copy of it.

## References
- C API reference: "Thread State and the Global Interpreter Lock",
  `PyThreadState_GetFrame`, `PyThreadState_GetInterpreter`.
- CPython `Include/internal/pycore_tstate.h`: `_PyThreadStateImpl`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if is_cpython_module(ctx) {
        return;
    }
    let pt = ctx.file.parse_text.as_str();
    // Offsets just past expressions that are thread states.
    let mut ends: Vec<(usize, Option<usize>)> = Vec::new();
    for c in ctx
        .index
        .calls
        .iter()
        .filter(|c| capi::returns_thread_state(&c.name))
    {
        ends.push((c.range.1, c.function));
    }
    let mut names: HashSet<(&str, Option<usize>)> = HashSet::new();
    for d in ctx
        .index
        .decls
        .iter()
        .filter(|d| d.is_pointer && d.base_type() == "PyThreadState")
    {
        names.insert((d.name.as_str(), d.function));
    }
    for (fi, f) in ctx.index.functions.iter().enumerate() {
        for p in f.params.iter().filter(|p| {
            p.ty.contains("PyThreadState") && p.ty.contains('*') && !p.ty.contains("**")
        }) {
            names.insert((p.name.as_str(), Some(fi)));
        }
    }
    for (name, scope) in &names {
        for off in ctx.file.code_occurrences(name) {
            let f = ctx.index.function_at(off);
            // A local or parameter only in its own function; a file-scope one anywhere.
            if scope.is_some() && f != *scope {
                continue;
            }
            ends.push((off + name.len(), f));
        }
    }
    let mut seen: HashSet<(Option<usize>, String)> = HashSet::new();
    ends.sort_unstable();
    for (end, f) in ends {
        let Some(f) = f else { continue };
        let rest = &pt[end..];
        let Some(after) = rest.trim_start().strip_prefix("->") else {
            continue;
        };
        let field_at = end
            + (rest.len() - rest.trim_start().len())
            + 2
            + (after.len() - after.trim_start().len());
        let field: String = pt[field_at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if field.is_empty() || !seen.insert((Some(f), field.clone())) || !compiled_in_ft(ctx, end) {
            continue;
        }
        let written = super::field_expression_at(ctx, field_at).is_some_and(is_written);
        let help = match capi::thread_state_field_replacement(&field) {
            Some(r) => format!("use `{r}` instead of the field"),
            None => "there is no public API for this field; do not copy the interpreter's thread state (stack switching needs a library that follows each CPython version)".to_owned(),
        };
        out.push(
            ctx.diagnostic(&THREAD_STATE_INTERNALS, (field_at, field_at + field.len()), format!(
                "`{field}` of the thread state is {} directly; it is private, laid out differently on free-threaded builds, and read there by other threads during garbage collection",
                if written { "written" } else { "read" }
            ))
            .with_help(help),
        );
    }
}
