//! FT301–FT319 — critical sections and thread state.
//!
//! `Py_BEGIN_CRITICAL_SECTION` and `Py_BEGIN_ALLOW_THREADS` open a C scope in the
//! free-threaded build that only the matching END closes; on GIL builds the
//! critical-section macros are just braces, so mistakes there are invisible until
//! the code runs without the GIL. Regions are modelled by
//! [`crate::source::privacy::Analysis`] over each block's statement list.
//! (FT320–FT339 belong to the lock-misuse rules in another file.)

use std::collections::HashSet;

use tree_sitter::Node;

use crate::context::FileAnalysis as Analysis;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::{normalize, Mismatch, Region, RegionKind};

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

pub static BORROWED_ACROSS_SUSPEND: Rule = Rule {
    code: "FT304",
    name: "borrowed-reference-across-suspending-call",
    severity: Severity::Error,
    summary:
        "A borrowed item is used after a call that can suspend the critical section protecting it.",
    doc: r#"## What it does
Inside a critical section, finds a borrowed reference taken from a container
(`PyDict_Next` keys and values, `PyList_GET_ITEM`, `PyDict_GetItem*` results) that is
passed to or used after a call that can run Python code or block:
`PyObject_Call*`, `PyObject_RichCompare*`, `PyObject_Hash`, `PyObject_GetAttr*`,
`PyObject_Str`, `Py_DECREF`, `PyMutex_Lock` and similar. Items made strong with
`Py_INCREF`/`Py_NewRef` before the call are not reported.

## Why is this bad?
A critical section is released while its thread blocks or runs code that detaches
(a `__hash__` or `__eq__` can). Another thread can then change the container and
free the item the loop still holds.

## Example
```c
Py_BEGIN_CRITICAL_SECTION(d);
while (PyDict_Next(d, &pos, &key, &value)) {
    int eq = PyObject_RichCompareBool(key, target, Py_EQ);
    ...
}
Py_END_CRITICAL_SECTION();
```

## Use instead
```c
    Py_INCREF(key);
    int eq = PyObject_RichCompareBool(key, target, Py_EQ);
    Py_DECREF(key);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections" (suspension).
- C API reference: `PyDict_Next`.
"#,
    fix: FixAvailability::None,
};

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

pub static RULES: &[&Rule] = &[
    &JUMP_OUT_OF_REGION,
    &MISMATCHED_REGION,
    &NESTED_SECTION,
    &BORROWED_ACROSS_SUSPEND,
    &API_WITHOUT_THREAD_STATE,
    &REDUNDANT_SECTION,
];

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !RULES.iter().any(|r| ctx.enabled(r)) {
        return;
    }
    let an = Analysis::new(ctx);
    if an.regions.is_empty() && an.mismatches.is_empty() {
        return;
    }
    jumps(&an, out);
    mismatches(&an, out);
    nested(&an, out);
    borrowed_across_suspend(&an, out);
    without_thread_state(&an, out);
    redundant(&an, out);
}

fn end_name(r: &Region) -> &'static str {
    match r.kind {
        RegionKind::CriticalSection => "Py_END_CRITICAL_SECTION()",
        RegionKind::CriticalSection2 => "Py_END_CRITICAL_SECTION2()",
        RegionKind::SequenceFast => "Py_END_CRITICAL_SECTION_SEQUENCE_FAST()",
        RegionKind::AllowThreads => "Py_END_ALLOW_THREADS",
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

fn jumps(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&JUMP_OUT_OF_REGION) {
        return;
    }
    let root = ctx.file.tree.root_node();
    let blocks = ctx.file.code_occurrences("Py_BLOCK_THREADS");
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
                    end_name(r)
                )
            };
            out.push(
                ctx.diagnostic(&JUMP_OUT_OF_REGION, (j.start_byte(), j.end_byte()), msg)
                    .with_help(format!(
                        "store the result, and jump to a label just before `{}` instead",
                        end_name(r)
                    )),
            );
        }
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

fn mismatches(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&MISMATCHED_REGION) {
        return;
    }
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

fn nested(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&NESTED_SECTION) {
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

/// Calls that can run arbitrary Python code or block, and so suspend critical sections.
fn suspends(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "PyObject_Call",
        "PyObject_Vectorcall",
        "PyObject_RichCompare",
        "PyObject_GetAttr",
        "PyObject_SetAttr",
        "PyObject_GetItem",
        "PyObject_SetItem",
        "PyObject_Str",
        "PyObject_Repr",
        "PyObject_Hash",
        "PyObject_IsTrue",
        "PyObject_Format",
        "PyNumber_",
        "PyIter_Next",
        "PyEval_",
        "PyMutex_Lock",
        "PyThread_acquire_lock",
        "PyImport_",
    ];
    matches!(
        name,
        "Py_DECREF"
            | "Py_XDECREF"
            | "Py_CLEAR"
            | "Py_SETREF"
            | "Py_XSETREF"
            | "PyDict_SetItem"
            | "PyDict_DelItem"
            | "PyObject_Print"
    ) || PREFIXES.iter().any(|p| name.starts_with(p))
}

fn borrowed_across_suspend(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&BORROWED_ACROSS_SUSPEND) {
        return;
    }
    let idx = ctx.index;
    let text = |r: (usize, usize)| ctx.file.parse_text.get(r.0..r.1).unwrap_or("");
    let mut reported = HashSet::new();
    for r in an
        .regions
        .iter()
        .filter(|r| r.kind != RegionKind::AllowThreads && r.end.is_some())
    {
        let body = r.body();
        let in_body = |o: usize| body.0 <= o && o < body.1;
        // (variable, where it was borrowed, from what)
        let mut borrowed: Vec<(String, usize, String)> = Vec::new();
        for c in idx.calls.iter().filter(|c| in_body(c.range.0)) {
            match c.name.as_str() {
                "PyDict_Next" => {
                    for a in c.args.iter().skip(2) {
                        if let Some(v) = normalize(text(*a)).strip_prefix('&') {
                            borrowed.push((v.to_owned(), c.range.1, "PyDict_Next".into()));
                        }
                    }
                }
                "PyList_GET_ITEM"
                | "PyList_GetItem"
                | "PyDict_GetItem"
                | "PyDict_GetItemWithError"
                | "PyDict_GetItemString"
                | "PySequence_Fast_GET_ITEM" => {
                    let target = idx
                        .assignments
                        .iter()
                        .find(|a| {
                            a.rhs.0 <= c.range.0
                                && c.range.1 <= a.rhs.1
                                && normalize(text(a.rhs)) == normalize(text(c.range))
                        })
                        .map(|a| normalize(&a.lhs_text))
                        .or_else(|| {
                            idx.decls
                                .iter()
                                .find(|d| {
                                    d.init.as_ref().is_some_and(|i| {
                                        normalize(text(i.range())) == normalize(text(c.range))
                                            && i.range().0 <= c.range.0
                                            && c.range.1 <= i.range().1
                                    })
                                })
                                .map(|d| d.name.clone())
                        });
                    if let Some(v) = target {
                        borrowed.push((v, c.range.1, c.name.clone()));
                    }
                }
                _ => {}
            }
        }
        for (var, from, api) in &borrowed {
            let strong_at = idx
                .calls
                .iter()
                .filter(|c| in_body(c.range.0) && c.range.0 > *from)
                .filter(|c| {
                    matches!(
                        c.name.as_str(),
                        "Py_INCREF" | "Py_XINCREF" | "Py_NewRef" | "Py_XNewRef"
                    )
                })
                .filter(|c| c.args.first().is_some_and(|a| normalize(text(*a)) == *var))
                .map(|c| c.range.0)
                .min()
                .unwrap_or(usize::MAX);
            let uses: Vec<usize> = ctx
                .file
                .code_occurrences(var)
                .into_iter()
                .filter(|o| in_body(*o) && *o > *from)
                .collect();
            for s in idx.calls.iter().filter(|c| {
                in_body(c.range.0)
                    && c.range.0 > *from
                    && c.range.0 < strong_at
                    && suspends(&c.name)
            }) {
                // Decrementing the borrowed item itself is a different bug; skip it here.
                if s.args.first().is_some_and(|a| normalize(text(*a)) == *var)
                    && s.name.contains("DECREF")
                {
                    continue;
                }
                if !uses.iter().any(|u| *u >= s.range.0)
                    || !reported.insert(s.range.0)
                    || !an.compiled_in_ft(s.range.0)
                {
                    continue;
                }
                out.push(
                    ctx.diagnostic(
                        &BORROWED_ACROSS_SUSPEND,
                        s.name_range,
                        format!(
                            "`{var}` (borrowed from `{api}`) is used across `{}`, which can run Python code and suspend the critical section on `{}`",
                            s.name,
                            r.object_texts.join("`, `")
                        ),
                    )
                    .with_help(format!("take a strong reference first (`Py_INCREF({var})`) and release it afterwards"))
                    .with_confidence(Confidence::Likely),
                );
            }
        }
    }
}

/// Functions and macros documented (or obviously safe) to use without an attached thread state.
fn allowed_detached(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "PyMem_Raw",
        "PyMutex_",
        "PyThread_",
        "_PyThread_",
        "Py_BEGIN_",
        "Py_END_",
        "_Py_BEGIN_SUPPRESS",
        "_Py_END_SUPPRESS",
        "PyEvent_",
        "_PyEvent_",
        "_PyMutex_",
        "_PyRawMutex_",
        "_PyOnceFlag_",
        "_Py_atomic_",
        "_Py_IsMainThread",
        "_PyTime_",
    ];
    const NAMES: &[&str] = &[
        "Py_BLOCK_THREADS",
        "Py_UNBLOCK_THREADS",
        "Py_ARRAY_LENGTH",
        "Py_MIN",
        "Py_MAX",
        "Py_ABS",
        "Py_UNUSED",
        "Py_SAFE_DOWNCAST",
        "Py_CHARMASK",
        "Py_MEMCPY",
        "Py_CLAMP",
        "Py_STRINGIFY",
        "Py_SIZE_ROUND_UP",
        "Py_SIZE_ROUND_DOWN",
        "_Py_SIZE_ROUND_UP",
        "PyTime_MonotonicRaw",
        "PyTime_PerfCounterRaw",
        "PyTime_TimeRaw",
        "Py_IS_NAN",
        "Py_IS_INFINITY",
        "Py_IS_FINITE",
        "_Py_RVALUE",
        "Py_EncodeLocale",
        "Py_DecodeLocale",
        "_Py_EncodeLocaleRaw",
        "_Py_DecodeLocaleEx",
        "Py_ssize_t",
        "Py_UCS4",
        "Py_hash_t",
        "_Py_STATIC_CAST",
        "_Py_CAST",
        "Py_LL",
        "Py_ULL",
        "Py_FatalError",
        "PyTraceMalloc_Track",
        "PyTraceMalloc_Untrack",
        "PyOS_InputHook",
        "PyOS_snprintf",
        "PyOS_vsnprintf",
        "PyOS_mystrnicmp",
        "PyOS_mystrcmp",
        // Pointer arithmetic on immutable objects the caller keeps alive.
        "Py_REFCNT",
        "Py_TYPE",
        "PyBytes_AS_STRING",
        "PyBytes_GET_SIZE",
        "PyTuple_GET_SIZE",
        "PyTuple_GET_ITEM",
        "PyUnicode_DATA",
        "PyUnicode_KIND",
        "PyUnicode_GET_LENGTH",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A C-API function or macro that needs an attached thread state.
fn is_thread_state_api(ctx: &FileContext, c: &crate::source::index::Call) -> bool {
    let name = c.name.as_str();
    if c.callee != c.name || allowed_detached(name) {
        return false;
    }
    // A function or function pointer this file defines (`Py_AcceptEx` in overlapped.c) is not the C API.
    let pointer_declarator = ctx.file.parse_text.contains(&format!("*{name})"))
        || ctx.file.parse_text.contains(&format!("* {name})"));
    if pointer_declarator
        || ctx.index.function_named(name).is_some()
        || ctx.index.decls.iter().any(|d| d.name == name)
    {
        return false;
    }
    if name.starts_with("Py") {
        return true;
    }
    // Private functions: only the families that plainly touch objects or exceptions.
    const PRIVATE: &[&str] = &[
        "_PyObject_",
        "_PyErr_",
        "_PyUnicode_",
        "_PyBytes_",
        "_PyList_",
        "_PyDict_",
        "_PyTuple_",
        "_PyLong_",
        "_PyType_",
    ];
    PRIVATE.iter().any(|p| name.starts_with(p))
}

fn without_thread_state(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&API_WITHOUT_THREAD_STATE) {
        return;
    }
    let blocks = ctx.file.code_occurrences("Py_BLOCK_THREADS");
    let unblocks = ctx.file.code_occurrences("Py_UNBLOCK_THREADS");
    let root = ctx.file.tree.root_node();
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
        for c in ctx
            .index
            .calls
            .iter()
            .filter(|c| body.0 <= c.range.0 && c.range.0 < body.1)
        {
            if !is_thread_state_api(ctx, c)
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

/// APIs that lock their first argument internally.
const SELF_LOCKING: &[&str] = &[
    "PyList_Append",
    "PyList_Insert",
    "PyList_SetItem",
    "PyList_GetItemRef",
    "PyList_SetSlice",
    "PyList_Sort",
    "PyList_Reverse",
    "PyList_AsTuple",
    "PyList_Extend",
    "PyList_Clear",
    "PyDict_SetItem",
    "PyDict_SetItemString",
    "PyDict_DelItem",
    "PyDict_DelItemString",
    "PyDict_GetItemRef",
    "PyDict_GetItemStringRef",
    "PyDict_Contains",
    "PyDict_ContainsString",
    "PyDict_SetDefaultRef",
    "PyDict_Pop",
    "PyDict_PopString",
    "PyDict_Clear",
    "PyDict_Update",
    "PyDict_Merge",
    "PyDict_Copy",
    "PyDict_Keys",
    "PyDict_Values",
    "PyDict_Items",
    "PySet_Add",
    "PySet_Discard",
    "PySet_Contains",
    "PySet_Pop",
    "PySet_Clear",
];

fn redundant(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&REDUNDANT_SECTION) {
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
        if !SELF_LOCKING.contains(&call.name.as_str()) {
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
