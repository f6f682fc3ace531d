//! FT007: thread-state calls compiled out of free-threaded builds only.

use std::collections::HashSet;

use crate::capi;
use crate::context::FileContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};
use crate::source::preproc::BuildConfig;

pub static THREAD_STATE_COMPILED_OUT: Rule = Rule {
    code: "FT007",
    name: "thread-state-compiled-out",
    severity: Severity::Error,
    summary: "Thread-state calls are compiled out only for free-threaded builds.",
    doc: r#"## What it does
Finds `Py_BEGIN_ALLOW_THREADS`/`Py_END_ALLOW_THREADS`, `Py_BLOCK_THREADS`,
`Py_UNBLOCK_THREADS`, `PyGILState_Ensure`/`Release` and
`PyEval_SaveThread`/`RestoreThread` that are compiled in the GIL build but not in the
free-threaded one (typically inside `#ifndef Py_GIL_DISABLED`).

## Why is this bad?
These APIs are about the thread state, not just the GIL, and the free-threaded build
still needs them. A thread created outside Python must attach with
`PyGILState_Ensure` before it touches any object; long blocking work should detach
so that stop-the-world pauses (garbage collection) do not wait for it.

## Example
```c
#ifndef Py_GIL_DISABLED
    Py_BEGIN_ALLOW_THREADS
#endif
    rc = blocking_read(fd, buf, n);
#ifndef Py_GIL_DISABLED
    Py_END_ALLOW_THREADS
#endif
```

## Use instead
```c
    Py_BEGIN_ALLOW_THREADS
    rc = blocking_read(fd, buf, n);
    Py_END_ALLOW_THREADS
```

## References
- CPython howto, "Thread State and GIL APIs".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let file = ctx.file;
    let configs = ctx.ft_configs();
    let gil = BuildConfig::gil(13).for_language(file.language);
    // One finding per function and condition: a BEGIN/END pair under one guard is one mistake.
    let mut seen: HashSet<(Option<usize>, String)> = HashSet::new();
    // Every thread-state call compiled in the GIL build only: free-threaded builds
    // still need them all. (The condition is asked first: most calls are compiled
    // in both builds, and telling code from comments costs more.)
    let gil_only = |offset: usize| {
        let cond = file.condition_at(offset);
        cond.eval(&gil).maybe() && configs.iter().all(|c| cond.eval(c).is_false())
    };
    let mut hits: Vec<(usize, &str)> = capi::thread_state_calls()
        .flat_map(|(api, _)| {
            file.code_occurrences_where(api, gil_only)
                .into_iter()
                .map(move |o| (o, api))
        })
        .collect();
    hits.sort();
    for (offset, api) in hits {
        let cond = file.condition_at(offset);
        let func = ctx.index.function_at(offset);
        if !seen.insert((func, cond.to_string())) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &THREAD_STATE_COMPILED_OUT,
                (offset, offset + api.len()),
                format!("`{api}` is compiled out of free-threaded builds, which still need it"),
            )
            .with_help("remove the `Py_GIL_DISABLED` condition: thread-state APIs are required on free-threaded builds too"),
        );
    }
}
