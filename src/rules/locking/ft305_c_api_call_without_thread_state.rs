//! FT305: a C-API call while the thread state is released.

use crate::capi::{self, TsRole};
use crate::context::{FileAnalysis, FileContext};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};
use crate::source::privacy::RegionKind;

pub static API_WITHOUT_THREAD_STATE: Rule = Rule {
    code: "FT305",
    name: "c-api-call-without-thread-state",
    severity: Severity::Error,
    summary: "A C-API call between `Py_BEGIN_ALLOW_THREADS` and `Py_END_ALLOW_THREADS`.",
    doc: r#"## What it does
Finds calls to `Py*`/`_Py*` functions and macros between `Py_BEGIN_ALLOW_THREADS`
and `Py_END_ALLOW_THREADS` (outside `Py_BLOCK_THREADS` ... `Py_UNBLOCK_THREADS`),
except those documented as callable without an attached thread state:
`PyMem_Raw*`, `PyMutex_*`, `PyThread_*`, `PyTime_*Raw` and plain arithmetic macros
(`Py_MIN`, `Py_ARRAY_LENGTH`, ...).

## Why is this bad?
Between these macros the thread is detached. The C API may then race with other
threads and with the stop-the-world phases of the garbage collector; with the GIL
it was merely forbidden, without it objects can change under the call.

## Example
```c
Py_BEGIN_ALLOW_THREADS
n = read(fd, buf, size);
if (n < 0) PyErr_SetFromErrno(PyExc_OSError);
Py_END_ALLOW_THREADS
```

## Use instead
```c
Py_BEGIN_ALLOW_THREADS
n = read(fd, buf, size);
Py_END_ALLOW_THREADS
if (n < 0) return PyErr_SetFromErrno(PyExc_OSError);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Thread State and GIL APIs".
- C API reference: "Thread State and the Global Interpreter Lock".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = FileAnalysis::new(ctx);
    if an.regions.is_empty() {
        return;
    }
    let blocks = super::bare_thread_state_macros(ctx, TsRole::Attach);
    let unblocks = super::bare_thread_state_macros(ctx, TsRole::Detach);
    let root = ctx.file.tree.root_node();
    let mut needs_state: rustc_hash::FxHashMap<&str, bool> = Default::default();
    for r in an
        .regions
        .iter()
        .filter(|r| r.kind == RegionKind::AllowThreads && r.end.is_some())
    {
        let body = r.body();
        // Stretches where the thread is attached again: Py_BLOCK_THREADS up to
        // Py_UNBLOCK_THREADS, or up to the end of the block it is in.
        let attached: Vec<(usize, usize)> = blocks
            .iter()
            .filter(|b| body.0 <= **b && **b < body.1)
            .map(|b| {
                let block_end =
                    crate::source::privacy::ancestor_of_kind(root, *b, &["compound_statement"])
                        .map(|n| n.end_byte())
                        .unwrap_or(body.1);
                let unblock = unblocks
                    .iter()
                    .copied()
                    .find(|u| u > b)
                    .unwrap_or(usize::MAX);
                (*b, unblock.min(block_end))
            })
            .collect();
        // The calls of the region (the index's calls are sorted by offset).
        let calls = &ctx.index.calls;
        let from = calls.partition_point(|c| c.range.0 < body.0);
        let to = calls.partition_point(|c| c.range.0 < body.1);
        for c in calls.get(from..to).unwrap_or_default() {
            // Asked once per name: the answer searches the whole file.
            let api = c.callee == c.name
                && *needs_state
                    .entry(c.name.as_str())
                    .or_insert_with(|| is_thread_state_api(ctx, &c.name));
            if !api
                || attached
                    .iter()
                    .any(|(s, e)| *s <= c.range.0 && c.range.0 < *e)
            {
                continue;
            }
            if !an.compiled_in_ft(c.range.0) {
                continue;
            }
            out.push(
                ctx.diagnostic(
                    &API_WITHOUT_THREAD_STATE,
                    c.name_range,
                    format!("`{}` is called between `Py_BEGIN_ALLOW_THREADS` and `Py_END_ALLOW_THREADS` (line {}), without a thread state", c.name, ctx.file.lines.line_of(r.end.map(|e| e.0).unwrap_or(body.1)) + 1),
                )
                .with_help("move the call after `Py_END_ALLOW_THREADS`, or wrap it in `Py_BLOCK_THREADS` ... `Py_UNBLOCK_THREADS`"),
            );
        }
    }
}

/// A C-API function or macro (called by its bare name) that needs an attached
/// thread state.
fn is_thread_state_api(ctx: &FileContext, name: &str) -> bool {
    // Private functions: only the families that plainly touch objects or exceptions.
    // The name tests come first: most calls in a detached region are to the C
    // library, and the tests below search the whole file.
    if capi::callable_detached(name)
        || !(name.starts_with("Py") || capi::private_needs_thread_state(name))
    {
        return false;
    }
    // A function or function pointer this file defines (`Py_AcceptEx` in overlapped.c) is not the C API.
    let pointer_declarator = ctx.file.parse_text.contains(&format!("*{name})"))
        || ctx.file.parse_text.contains(&format!("* {name})"));
    !(pointer_declarator
        || ctx.index.function_named(name).is_some()
        || ctx.index.decls.iter().any(|d| d.name == name))
}
