//! FT0xx — declaring free-threading support.
//!
//! A module that does not declare `Py_MOD_GIL_NOT_USED` makes a free-threaded
//! interpreter turn the GIL back on for the whole process when it is imported.
//! These rules check each module entry point (`PyInit_*`, `PyModExport_*`) in every
//! free-threaded build the project targets, and the guards around the declarations.

use std::collections::{BTreeSet, HashSet};

use crate::config::Settings;
use crate::diagnostic::{Applicability, Confidence, Diagnostic, Fix, Severity};
use crate::fix::edits;
use crate::rules::{ft_configs, FileContext, FixAvailability, ProjectFile, Rule};
use crate::source::index::{FileIndex, InitStyle, ModuleInit, SlotArray, SlotArrayKind, SlotsRef};
use crate::source::preproc::BuildConfig;
use crate::source::SourceFile;

pub static MISSING_GIL_DECLARATION: Rule = Rule {
    code: "FT001",
    name: "missing-gil-declaration",
    severity: Severity::Error,
    summary: "A module does not declare that it can run without the GIL.",
    doc: r#"## What it does
Finds extension modules that never tell the interpreter they are safe without the
GIL, in any free-threaded build the project targets:

- a multi-phase module (`PyInit_x` returns `PyModuleDef_Init(&def)`) whose slot array
  has no `Py_mod_gil` entry, or which has no slot array at all;
- a 3.15 `PyModExport_x` whose `PySlot` array has no `Py_mod_gil` entry;
- a single-phase module (`PyInit_x` calls `PyModule_Create`) whose init path never
  calls `PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)`.

An entry that is compiled out of every free-threaded build (for example inside
`#ifndef Py_GIL_DISABLED`) does not count; neither does a mention in a comment.

## Why is this bad?
A module that says nothing is assumed to need the GIL. When a free-threaded
interpreter imports it, it re-enables the GIL for the whole process and prints a
`RuntimeWarning` that is easy to miss: every other extension loses free threading
because of this one.

## Example
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
    {0, NULL}
};
```

## Use instead
Once the module has been reviewed for thread safety:
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};
```
For single-phase init, after the module is created:
```c
#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
```
The fix is marked unsafe: a declaration is a claim about the whole module, so it is
applied only with `--unsafe-fixes`, never as a side effect.

## References
- CPython howto *C API Extension Support for Free Threading*, "Identifying the Free-Threaded Build" and "Module Initialization".
- C API reference: `Py_mod_gil`, `PyUnstable_Module_SetGIL`.
"#,
    fix: FixAvailability::Unsafe,
};

pub static SET_GIL_IN_MULTI_PHASE: Rule = Rule {
    code: "FT002",
    name: "set-gil-in-multi-phase-module",
    severity: Severity::Error,
    summary:
        "`PyUnstable_Module_SetGIL` is called in a multi-phase module, where it has no effect.",
    doc: r#"## What it does
Finds calls to `PyUnstable_Module_SetGIL` in a module that uses multi-phase
initialization: in its `Py_mod_exec` or `Py_mod_create` function, or on the path of
a `PyInit_*` that returns `PyModuleDef_Init`.

## Why is this bad?
For multi-phase modules the interpreter decides about the GIL from the `Py_mod_gil`
slot when it creates the module object, before `Py_mod_exec` runs. A later call does
not undo that decision, so the module still re-enables the GIL.

## Example
```c
static int exec_module(PyObject *m) {
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
    return 0;
}
```

## Use instead
Declare the slot and drop the call:
```c
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
```

## References
- C API reference: `PyUnstable_Module_SetGIL` ("during the module's initialization function when using single-phase initialization").
- SimpleITK moved from this call to a static slot for this reason.
"#,
    fix: FixAvailability::None,
};

pub static UNGUARDED_DECLARATION: Rule = Rule {
    code: "FT003",
    name: "unguarded-gil-declaration",
    severity: Severity::Error,
    summary: "A GIL declaration is compiled in builds that do not define it.",
    doc: r#"## What it does
Finds declarations that break the build somewhere:

- `PyUnstable_Module_SetGIL` compiled in a GIL build. The function only exists in
  free-threaded builds without the limited API, so it needs
  `#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)`. A plain
  `#ifdef Py_GIL_DISABLED` is reported as a warning: under 3.15's abi3t
  (`Py_TARGET_ABI3T`) `Py_GIL_DISABLED` is always defined but the function is not.
- A `{Py_mod_gil, ...}` slot compiled for Python older than 3.13 (when the project
  supports it), or for a limited-API build older than 3.13. The howto's
  `#if PY_VERSION_HEX >= 0x030D0000` guard is true for an abi3 build on 3.13
  headers, where `Py_mod_gil` is not defined.

## Why is this bad?
The extension fails to compile for part of its build matrix, and the usual result is
that someone removes the declaration to get the build green again.

## Example
```c
PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
```

## Use instead
```c
#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
```
and for slots, `#ifdef Py_mod_gil`, which is exactly "the header defines it".
The fix (wrapping the line in the guard) is safe.

## References
- C API reference: `Py_mod_gil` is defined only when `Py_LIMITED_API` is unset or at least 3.13.
- CPython howto, "Module Initialization".
"#,
    fix: FixAvailability::Safe,
};

pub static DUPLICATE_GIL_SLOT: Rule = Rule {
    code: "FT004",
    name: "duplicate-gil-slot",
    severity: Severity::Error,
    summary: "A slot array has more than one `Py_mod_gil` entry in the same build.",
    doc: r#"## What it does
Finds a second `Py_mod_gil` entry in one slot array when both are compiled in the
same build. Entries in exclusive `#if`/`#else` branches are fine.

## Why is this bad?
The interpreter rejects a module definition with several `Py_mod_gil` slots: the
import fails with `SystemError`.

## Example
```c
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
```

## Use instead
Keep one entry. The fix deletes the duplicate line; it is safe when both entries
give the same value.

## References
- C API reference: "Multiple `Py_mod_gil` slots may not be specified in one module definition."
"#,
    fix: FixAvailability::Sometimes,
};

pub static PARTIAL_GIL_DECLARATION: Rule = Rule {
    code: "FT005",
    name: "partial-gil-declaration",
    severity: Severity::Error,
    summary: "A module declares GIL-free support in some free-threaded builds but not in others.",
    doc: r#"## What it does
Checks each free-threaded build the project targets (3.13t, 3.14t, 3.15t and 3.15
abi3t, from the minimum version on) and each init path of a module (`PyInit_*` and
`PyModExport_*`), and reports a module whose declaration is present in some of them
but missing in others. Typical causes: the declaration only under
`#ifdef Py_TARGET_ABI3T`, only in the `PyModExport_*` path, or under a version guard
that excludes 3.13.

## Why is this bad?
The wheels built for the missing builds re-enable the GIL on import, while the
others do not. Testing one build does not reveal it.

## Example
```c
#ifdef Py_TARGET_ABI3T
PyMODEXPORT_FUNC PyModExport_spam(void) { return spam_slots; }  /* declares Py_mod_gil */
#else
PyMODINIT_FUNC PyInit_spam(void) { return PyModuleDef_Init(&spam_def); }  /* does not */
#endif
```

## Use instead
Declare on every path: the `PyModuleDef_Slot` array used by `PyInit_spam` needs its
own `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` entry.

## References
- PEP 793 / PEP 803 (`PyModExport_*`, abi3t).
- siphashc's abi3t port, where review found exactly this.
"#,
    fix: FixAvailability::None,
};

pub static GIL_USED_DECLARED: Rule = Rule {
    code: "FT006",
    name: "gil-used-declared",
    severity: Severity::Info,
    summary: "A module explicitly declares that it needs the GIL.",
    doc: r#"## What it does
Reports `Py_MOD_GIL_USED` in a `Py_mod_gil` slot or a `PyUnstable_Module_SetGIL` call.

## Why is this bad?
It is not wrong — it is an honest statement — but importing the module re-enables
the GIL in a free-threaded interpreter, which is worth knowing before shipping a `t`
wheel.

## Example
```c
    {Py_mod_gil, Py_MOD_GIL_USED},
```

## Use instead
Port the module (see the other rule families), then declare `Py_MOD_GIL_NOT_USED`.

## References
- C API reference: `Py_MOD_GIL_USED`.
"#,
    fix: FixAvailability::None,
};

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

pub static RULES: &[&Rule] = &[
    &MISSING_GIL_DECLARATION,
    &SET_GIL_IN_MULTI_PHASE,
    &UNGUARDED_DECLARATION,
    &DUPLICATE_GIL_SLOT,
    &PARTIAL_GIL_DECLARATION,
    &GIL_USED_DECLARED,
    &THREAD_STATE_COMPILED_OUT,
];

const SET_GIL: &str = "PyUnstable_Module_SetGIL";
const SET_GIL_GUARD: &str = "#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)";

// ---------------------------------------------------------------------------
// Per-file checks

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    set_gil_in_multi_phase(ctx, out);
    unguarded_declarations(ctx, out);
    duplicate_gil_slots(ctx, out);
    gil_used_declared(ctx, out);
    thread_state_compiled_out(ctx, out);
}

fn set_gil_in_multi_phase(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&SET_GIL_IN_MULTI_PHASE) {
        return;
    }
    let idx = ctx.index;
    // Functions that run for multi-phase modules: exec/create slots and multi-phase init paths.
    let mut multi_phase_fns: HashSet<usize> = HashSet::new();
    for sa in &idx.slot_arrays {
        for e in &sa.entries {
            if matches!(e.slot.as_str(), "Py_mod_exec" | "Py_mod_create") {
                if let Some(f) =
                    idx.function_named(&crate::source::index::last_identifier(&e.value))
                {
                    multi_phase_fns.extend(idx.reachable_from(f));
                }
            }
        }
    }
    for mi in &idx.module_inits {
        if matches!(
            mi.style,
            InitStyle::MultiPhase { .. } | InitStyle::Export { .. }
        ) {
            multi_phase_fns.extend(mi.init_path.iter().copied());
        }
    }
    for call in idx.calls.iter().filter(|c| c.name == SET_GIL) {
        let Some(f) = call.function else { continue };
        if !multi_phase_fns.contains(&f) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &SET_GIL_IN_MULTI_PHASE,
                call.range,
                format!("`{SET_GIL}` has no effect in `{}`: this module uses multi-phase initialization", idx.functions[f].name),
            )
            .with_help("declare `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` in the module's slot array instead"),
        );
    }
}

fn unguarded_declarations(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&UNGUARDED_DECLARATION) {
        return;
    }
    let file = ctx.file;
    let lang = file.language;
    let gil = BuildConfig::gil(13).for_language(lang);
    let abi3t = BuildConfig::abi3t(15).for_language(lang);
    let abi3t_file = builds_abi3t(file);
    for call in ctx.index.calls.iter().filter(|c| c.name == SET_GIL) {
        let cond = file.condition_at(call.range.0);
        let fix = guard_fix(file, call.range, SET_GIL_GUARD);
        if cond.eval(&gil).is_true() {
            let d = ctx
                .diagnostic(
                    &UNGUARDED_DECLARATION,
                    call.range,
                    format!("`{SET_GIL}` is compiled in GIL builds, where it does not exist"),
                )
                .with_help(format!("guard it with `{SET_GIL_GUARD}`"));
            out.push(with_optional_fix(d, fix));
        } else if abi3t_file && cond.eval(&abi3t).is_true() {
            let d = ctx
                .diagnostic(
                    &UNGUARDED_DECLARATION,
                    call.range,
                    format!("`{SET_GIL}` is compiled in limited-API (abi3t) builds, where it is not declared"),
                )
                .with_severity(Severity::Warning)
                .with_help("add `&& !defined(Py_LIMITED_API)` to its `Py_GIL_DISABLED` guard");
            out.push(d);
        }
    }
    let old = BuildConfig::gil(12).for_language(lang);
    // Only a limited API older than 3.13 lacks `Py_mod_gil`.
    let abi3 = limited_api_minor(file)
        .filter(|m| *m < 13)
        .map(|m| BuildConfig::limited(13, m).for_language(lang));
    for sa in ctx
        .index
        .slot_arrays
        .iter()
        .filter(|s| s.kind == SlotArrayKind::ModuleDefSlot)
    {
        for e in sa.entries.iter().filter(|e| e.slot == "Py_mod_gil") {
            let cond = file.condition_at(e.range.0);
            let message = if ctx.settings.target_minor < 13 && cond.eval(&old).is_true() {
                format!(
                    "the `Py_mod_gil` slot is compiled for Python 3.{} (the project's minimum), which does not define it",
                    ctx.settings.target_minor
                )
            } else if let Some(abi3) = abi3.as_ref().filter(|a| cond.eval(a).is_true()) {
                format!("the `Py_mod_gil` slot is compiled in the file's limited-API build ({}), which does not define it", abi3.name)
            } else {
                continue;
            };
            let fix = if cond.is_unconditional() {
                guard_fix(file, e.range, "#ifdef Py_mod_gil")
            } else {
                None
            };
            let d = ctx
                .diagnostic(&UNGUARDED_DECLARATION, e.range, message)
                .with_help("guard the entry with `#ifdef Py_mod_gil`");
            out.push(with_optional_fix(d, fix));
        }
    }
}

/// Does the file build for 3.15's abi3t (mentions `Py_TARGET_ABI3T`)? Only then is
/// `PyUnstable_Module_SetGIL` under a bare `Py_GIL_DISABLED` guard a problem.
fn builds_abi3t(file: &SourceFile) -> bool {
    file.lexed
        .directives
        .iter()
        .any(|d| d.arg.contains("Py_TARGET_ABI3T"))
}

/// The oldest limited API the file asks for with `#define Py_LIMITED_API [value]`
/// (a bare define means the 3.2 stable ABI), as a 3.x minor version.
fn limited_api_minor(file: &SourceFile) -> Option<u32> {
    use crate::source::lex::DirectiveKind;
    file.lexed
        .directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
        .filter_map(|d| d.arg.strip_prefix("Py_LIMITED_API"))
        .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
        .map(|rest| {
            let v = crate::source::preproc::parse_expr(rest.trim());
            match v {
                crate::source::preproc::PExpr::Int(hex) if hex >= 0x0300_0000 => {
                    ((hex >> 16) & 0xFF) as u32
                }
                _ => 2,
            }
        })
        .min()
}

fn with_optional_fix(d: Diagnostic, fix: Option<Fix>) -> Diagnostic {
    match fix {
        Some(f) => d.with_fix(f),
        None => d,
    }
}

/// Wraps the statement or slot entry at `range` in `open` ... `#endif`, when it owns its lines.
fn guard_fix(file: &SourceFile, range: (usize, usize), open: &str) -> Option<Fix> {
    let end = statement_end(file, range.1);
    if !edits::owns_lines(file, range.0, end) || !file.condition_at(range.0).is_unconditional() {
        return None;
    }
    Some(Fix {
        applicability: Applicability::Safe,
        message: format!("Wrap in `{open}`"),
        edits: edits::wrap_in_directive(file, range.0, end, open, "#endif"),
    })
}

/// Extends a call's range over a following `;` or `,`.
fn statement_end(file: &SourceFile, end: usize) -> usize {
    let rest = &file.text[end..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if trimmed.starts_with(';') || trimmed.starts_with(',') {
        end + (rest.len() - trimmed.len()) + 1
    } else {
        end
    }
}

fn duplicate_gil_slots(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&DUPLICATE_GIL_SLOT) {
        return;
    }
    let file = ctx.file;
    let configs = ctx.ft_configs();
    for sa in &ctx.index.slot_arrays {
        let gil: Vec<_> = sa
            .entries
            .iter()
            .filter(|e| e.slot == "Py_mod_gil")
            .collect();
        let mut reported = HashSet::new();
        for (i, later) in gil.iter().enumerate() {
            for earlier in &gil[..i] {
                let (ca, cb) = (
                    file.condition_at(earlier.range.0),
                    file.condition_at(later.range.0),
                );
                let clash = configs.iter().find(|cfg| {
                    ca.eval(cfg).maybe() && cb.eval(cfg).maybe() && ca.compatible_with(cb, cfg)
                });
                let Some(cfg) = clash else { continue };
                if !reported.insert(later.range) {
                    continue;
                }
                let same_value = earlier.value == later.value;
                let fix =
                    (edits::owns_lines(file, later.range.0, statement_end(file, later.range.1)))
                        .then(|| Fix {
                            applicability: if same_value {
                                Applicability::Safe
                            } else {
                                Applicability::Unsafe
                            },
                            message: "Remove the duplicate `Py_mod_gil` entry".into(),
                            edits: vec![edits::delete_lines(
                                file,
                                later.range.0,
                                statement_end(file, later.range.1),
                            )],
                        });
                let (line, _) = file.lines.position(&file.text, earlier.range.0);
                let d = ctx
                    .diagnostic(
                        &DUPLICATE_GIL_SLOT,
                        later.range,
                        format!("second `Py_mod_gil` slot in `{}` (the first is on line {line}); both are compiled for {}", sa.name, cfg.name),
                    )
                    .with_help("keep one `Py_mod_gil` entry per slot array")
                    .with_builds([cfg.name.as_str()]);
                out.push(with_optional_fix(d, fix));
            }
        }
    }
}

fn gil_used_declared(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&GIL_USED_DECLARED) {
        return;
    }
    let idx = ctx.index;
    let slot_uses = idx
        .slot_arrays
        .iter()
        .flat_map(|s| &s.entries)
        .filter(|e| e.slot == "Py_mod_gil" && e.value.contains("Py_MOD_GIL_USED"))
        .map(|e| e.range);
    let call_uses = idx
        .calls
        .iter()
        .filter(|c| c.name == SET_GIL)
        .filter(|c| {
            c.args
                .get(1)
                .is_some_and(|a| ctx.file.text[a.0..a.1].contains("Py_MOD_GIL_USED"))
        })
        .map(|c| c.range);
    for range in slot_uses.chain(call_uses).collect::<Vec<_>>() {
        out.push(
            ctx.diagnostic(
                &GIL_USED_DECLARED,
                range,
                "the module declares `Py_MOD_GIL_USED`: importing it re-enables the GIL",
            )
            .with_help("once the module is thread-safe, declare `Py_MOD_GIL_NOT_USED`"),
        );
    }
}

const THREAD_STATE_APIS: [&str; 8] = [
    "Py_BEGIN_ALLOW_THREADS",
    "Py_END_ALLOW_THREADS",
    "Py_BLOCK_THREADS",
    "Py_UNBLOCK_THREADS",
    "PyGILState_Ensure",
    "PyGILState_Release",
    "PyEval_SaveThread",
    "PyEval_RestoreThread",
];

fn thread_state_compiled_out(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.enabled(&THREAD_STATE_COMPILED_OUT) {
        return;
    }
    let file = ctx.file;
    let configs = ctx.ft_configs();
    let gil = BuildConfig::gil(13).for_language(file.language);
    // One finding per function and condition: a BEGIN/END pair under one guard is one mistake.
    let mut seen: HashSet<(Option<usize>, String)> = HashSet::new();
    let mut hits: Vec<(usize, &str)> = THREAD_STATE_APIS
        .iter()
        .flat_map(|api| {
            file.code_occurrences(api)
                .into_iter()
                .map(move |o| (o, *api))
        })
        .collect();
    hits.sort();
    for (offset, api) in hits {
        let cond = file.condition_at(offset);
        if !cond.eval(&gil).maybe() || !configs.iter().all(|c| cond.eval(c).is_false()) {
            continue;
        }
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

// ---------------------------------------------------------------------------
// Project check: is every module declared in every free-threaded build?

/// Where a module's declaration would be looked for, and what was found.
struct Coverage<'a> {
    declared: BTreeSet<String>,
    missing: Vec<&'a BuildConfig>,
}

pub fn check_project(files: &[ProjectFile], _settings: &Settings, out: &mut Vec<Diagnostic>) {
    // Every module entry point, with its coverage across builds.
    struct Entry<'a> {
        pf: &'a ProjectFile,
        init: &'a ModuleInit,
        configs: Vec<BuildConfig>,
    }
    let mut entries: Vec<Entry> = Vec::new();
    for pf in files {
        for init in &pf.index.module_inits {
            let configs = ft_configs(&pf.settings, &pf.file);
            entries.push(Entry { pf, init, configs });
        }
    }
    let mut results = Vec::new();
    for e in &entries {
        let cov = coverage(e.pf, e.init, &e.configs, files);
        results.push(cov);
    }
    // Does any file of the project mention a declaration at all (in code)?
    let project_declares_anything = files.iter().any(|pf| {
        !pf.file.code_occurrences(SET_GIL).is_empty()
            || !pf.file.code_occurrences("Py_mod_gil").is_empty()
    });
    let declared_modules: HashSet<&str> = entries
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.as_ref().is_some_and(|c| !c.declared.is_empty()))
        .map(|(e, _)| e.init.module.as_str())
        .collect();
    for (e, cov) in entries.iter().zip(results) {
        let Some(cov) = cov else {
            // We could not follow how this module is created; if nothing in the whole
            // project declares anything, it cannot be declared either.
            if matches!(e.init.style, InitStyle::Unknown) && !project_declares_anything {
                let ctx = FileContext::new(&e.pf.file, &e.pf.index, &e.pf.settings);
                if ctx.enabled(&MISSING_GIL_DECLARATION) {
                    let func = &e.pf.index.functions[e.init.function];
                    out.push(
                        ctx.diagnostic(
                            &MISSING_GIL_DECLARATION,
                            func.name_range,
                            format!(
                                "module `{}` is created in a way ftaudit cannot follow, and nothing in the project declares `Py_mod_gil` or calls `{SET_GIL}`, so importing it re-enables the GIL",
                                e.init.module
                            ),
                        )
                        .with_confidence(Confidence::Likely)
                        .with_module(&e.init.module)
                        .with_help("declare GIL-free support where the module object is created"),
                    );
                }
            }
            continue;
        };
        if cov.missing.is_empty() {
            continue;
        }
        let ctx = FileContext::new(&e.pf.file, &e.pf.index, &e.pf.settings);
        let missing: Vec<&str> = cov.missing.iter().map(|c| c.name.as_str()).collect();
        let func = &e.pf.index.functions[e.init.function];
        if declared_modules.contains(e.init.module.as_str()) {
            if !ctx.enabled(&PARTIAL_GIL_DECLARATION) {
                continue;
            }
            let declared: Vec<&str> = cov.declared.iter().map(String::as_str).collect();
            let msg = if declared.is_empty() {
                format!(
                    "module `{}` declares GIL-free support on another init path but not in `{}` (used for {})",
                    e.init.module,
                    func.name,
                    missing.join(", ")
                )
            } else {
                format!(
                    "module `{}` declares GIL-free support for {} but not for {}",
                    e.init.module,
                    declared.join(", "),
                    missing.join(", ")
                )
            };
            out.push(
                ctx.diagnostic(&PARTIAL_GIL_DECLARATION, func.name_range, msg)
                    .with_module(&e.init.module)
                    .with_init(&func.name)
                    .with_builds(&missing)
                    .with_help("declare `Py_MOD_GIL_NOT_USED` on every init path and for every build you ship"),
            );
            continue;
        }
        if !ctx.enabled(&MISSING_GIL_DECLARATION) {
            continue;
        }
        out.push(
            missing_declaration(&ctx, e.init, files)
                .with_module(&e.init.module)
                .with_init(&func.name),
        );
    }
}

/// Declared / missing builds for one module entry point; `None` when it cannot be told.
fn coverage<'a>(
    pf: &ProjectFile,
    init: &ModuleInit,
    configs: &'a [BuildConfig],
    files: &[ProjectFile],
) -> Option<Coverage<'a>> {
    let file = &pf.file;
    let func = &pf.index.functions[init.function];
    // abi3t builds can only use `PyModExport_*`; `PyModExport_*` is only called from 3.15 on.
    let is_export = matches!(init.style, InitStyle::Export { .. });
    let active: Vec<&BuildConfig> = configs
        .iter()
        .filter(|c| {
            if is_export {
                c.minor >= 15
            } else {
                !c.is_abi3t()
            }
        })
        .filter(|c| file.condition_at(func.range.0).eval(c).maybe())
        .collect();
    // Offsets of declarations, in the file that holds them.
    let declarations: Vec<(&SourceFile, usize)> = match &init.style {
        InitStyle::MultiPhase { def } => {
            let (def_file, def) = find_module_def(pf, def.as_deref()?, files)?;
            match &def.slots {
                SlotsRef::None => vec![],
                SlotsRef::Name(n) => {
                    let (sf, sa) = find_slot_array(def_file, n, files)?;
                    gil_entries(sa).map(|o| (sf, o)).collect()
                }
                SlotsRef::Other(_) => return None,
            }
        }
        InitStyle::Export { slots } => {
            let (sf, sa) = find_slot_array(pf, slots.as_deref()?, files)?;
            gil_entries(sa).map(|o| (sf, o)).collect()
        }
        InitStyle::SinglePhase { .. } => pf
            .index
            .calls
            .iter()
            .filter(|c| {
                c.name == SET_GIL && c.function.is_some_and(|f| init.init_path.contains(&f))
            })
            .map(|c| (file, c.range.0))
            .collect(),
        InitStyle::Unknown => return None,
    };
    let mut declared = BTreeSet::new();
    let mut missing = Vec::new();
    for cfg in active {
        let init_cond = file.condition_at(func.range.0);
        let ok = declarations.iter().any(|(sf, off)| {
            let c = sf.condition_at(*off);
            c.eval(cfg).maybe() && (!std::ptr::eq(*sf, file) || c.compatible_with(init_cond, cfg))
        });
        if ok {
            declared.insert(cfg.name.clone());
        } else {
            missing.push(cfg);
        }
    }
    Some(Coverage { declared, missing })
}

fn gil_entries(sa: &SlotArray) -> impl Iterator<Item = usize> + '_ {
    // An explicit `Py_MOD_GIL_USED` is a declaration too (FT006 reports it).
    sa.entries
        .iter()
        .filter(|e| e.slot == "Py_mod_gil")
        .map(|e| e.range.0)
}

fn find_module_def<'a>(
    pf: &'a ProjectFile,
    name: &str,
    files: &'a [ProjectFile],
) -> Option<(&'a ProjectFile, &'a crate::source::index::ModuleDef)> {
    if let Some(d) = pf.index.module_def(name) {
        return Some((pf, d));
    }
    files
        .iter()
        .find_map(|f| f.index.module_def(name).map(|d| (f, d)))
}

fn find_slot_array<'a>(
    pf: &'a ProjectFile,
    name: &str,
    files: &'a [ProjectFile],
) -> Option<(&'a SourceFile, &'a SlotArray)> {
    if let Some(s) = pf.index.slot_array(name) {
        return Some((&pf.file, s));
    }
    files
        .iter()
        .find_map(|f| f.index.slot_array(name).map(|s| (&f.file, s)))
}

fn missing_declaration(ctx: &FileContext, init: &ModuleInit, files: &[ProjectFile]) -> Diagnostic {
    let idx: &FileIndex = ctx.index;
    let func = &idx.functions[init.function];
    let module = &init.module;
    let consequence = "so importing it re-enables the GIL";
    match &init.style {
        InitStyle::SinglePhase { create_call, .. } => {
            let call = &idx.calls[*create_call];
            let d = ctx
                .diagnostic(
                    &MISSING_GIL_DECLARATION,
                    call.range,
                    format!("single-phase module `{module}` never calls `{SET_GIL}(m, Py_MOD_GIL_NOT_USED)`, {consequence}"),
                )
                .with_help(format!("after creating the module, call `{SET_GIL}(m, Py_MOD_GIL_NOT_USED)` under `{SET_GIL_GUARD}`"));
            match set_gil_fix(ctx, call.range) {
                Some(f) => d.with_fix(f),
                None => d,
            }
        }
        InitStyle::Export { slots } => {
            let name = slots.clone().unwrap_or_default();
            let target = idx.slot_array(&name);
            let range = target.map(|s| s.range).unwrap_or(func.name_range);
            let d = ctx
                .diagnostic(&MISSING_GIL_DECLARATION, range, format!("module `{module}`: `PySlot` array `{name}` has no `Py_mod_gil` entry, {consequence}"))
                .with_help("add `PySlot_STATIC_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),` before `PySlot_END`");
            match target.and_then(|s| slot_fix(ctx, s, "PySlot_STATIC_DATA(Py_mod_gil, Py_MOD_GIL_NOT_USED),", false)) {
                Some(f) => d.with_fix(f),
                None => d,
            }
        }
        InitStyle::MultiPhase { def } => {
            let def_name = def.clone().unwrap_or_default();
            let local_def = idx.module_def(&def_name);
            let slots = local_def.and_then(|d| match &d.slots {
                SlotsRef::Name(n) => idx.slot_array(n),
                _ => None,
            });
            let remote = local_def.is_none() || (slots.is_none() && matches!(local_def.map(|d| &d.slots), Some(SlotsRef::Name(_))));
            let help = "after reviewing the module for thread safety, add `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` under `#ifdef Py_mod_gil`";
            if let Some(sa) = slots {
                let d = ctx
                    .diagnostic(&MISSING_GIL_DECLARATION, sa.range, format!("module `{module}`: slot array `{}` has no `Py_mod_gil` entry, {consequence}", sa.name))
                    .with_help(help);
                return match slot_fix(ctx, sa, "{Py_mod_gil, Py_MOD_GIL_NOT_USED},", true) {
                    Some(f) => d.with_fix(f),
                    None => d,
                };
            }
            if let (Some(d), false) = (local_def, remote) {
                return ctx
                    .diagnostic(&MISSING_GIL_DECLARATION, d.range, format!("module `{module}`: `{}` has no slot array, so it cannot declare `Py_mod_gil`; {consequence}", d.name))
                    .with_help("give the definition an `m_slots` array containing `{Py_mod_gil, Py_MOD_GIL_NOT_USED}`");
            }
            let _ = files;
            ctx.diagnostic(&MISSING_GIL_DECLARATION, func.name_range, format!("module `{module}` does not declare `Py_mod_gil`, {consequence}"))
                .with_help(help)
        }
        InitStyle::Unknown => ctx.diagnostic(&MISSING_GIL_DECLARATION, func.name_range, format!("module `{module}` does not declare GIL-free support")),
    }
    .with_confidence(Confidence::Certain)
}

/// Inserts a `Py_mod_gil` entry before the sentinel of a slot array.
fn slot_fix(ctx: &FileContext, sa: &SlotArray, entry: &str, guarded: bool) -> Option<Fix> {
    let file = ctx.file;
    let sentinel = sa.sentinel?;
    if !edits::owns_lines(file, sentinel.0, statement_end(file, sentinel.1)) {
        return None;
    }
    let indent = edits::indentation(file, sentinel.0).to_owned();
    let mut lines = vec![];
    if guarded {
        lines.push("#ifdef Py_mod_gil".to_owned());
    }
    lines.push(format!("{indent}{entry}"));
    if guarded {
        lines.push("#endif".to_owned());
    }
    Some(Fix {
        applicability: Applicability::Unsafe,
        message: "Declare `Py_MOD_GIL_NOT_USED` (a claim: review the module first)".into(),
        edits: vec![edits::insert_lines_before(file, sentinel.0, &lines)],
    })
}

/// After `m = PyModule_Create(...)` and its `if (m == NULL) ...` check, insert the call.
fn set_gil_fix(ctx: &FileContext, create: (usize, usize)) -> Option<Fix> {
    let file = ctx.file;
    let text = &file.text;
    let line_start = edits::line_start(file, create.0);
    let before = &text[line_start..create.0];
    // `m = PyModule_Create(` or `PyObject *m = PyModule_Create(`
    let var = before.trim_end().strip_suffix('=')?.trim_end();
    let var = var
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?
        .to_owned();
    if var.is_empty() {
        return None;
    }
    let stmt_end = create.1 + text[create.1..].find(';')? + 1;
    let mut insert_after = stmt_end;
    // Skip a following NULL check: `if (m == NULL) return NULL;` or `if (!m) { ... }` on one or more lines.
    let check_start = skip_blanks_and_comments(text, stmt_end);
    let trimmed = &text[check_start..];
    let is_check = trimmed.starts_with("if") && {
        let head: String = trimmed.chars().take(80).collect();
        head.contains(&format!("!{var}"))
            || head.contains(&format!("{var} == NULL"))
            || head.contains(&format!("NULL == {var}"))
    };
    if is_check {
        let end = check_statement_end(&text[check_start..])?;
        insert_after = check_start + end;
    }
    let indent = edits::indentation(file, create.0).to_owned();
    let lines = vec![
        SET_GIL_GUARD.to_owned(),
        format!("{indent}{SET_GIL}({var}, Py_MOD_GIL_NOT_USED);"),
        "#endif".to_owned(),
    ];
    Some(Fix {
        applicability: Applicability::Unsafe,
        message: "Declare `Py_MOD_GIL_NOT_USED` (a claim: review the module first)".into(),
        edits: vec![edits::insert_lines_after(
            file,
            insert_after.saturating_sub(1),
            &lines,
        )],
    })
}

/// The first offset at or after `i` that is not white space or a comment.
fn skip_blanks_and_comments(text: &str, mut i: usize) -> usize {
    loop {
        let rest = &text[i..];
        let t = rest.trim_start();
        i += rest.len() - t.len();
        if t.starts_with("//") {
            i += t.find('\n').unwrap_or(t.len());
        } else if t.starts_with("/*") {
            i += t.find("*/").map(|k| k + 2).unwrap_or(t.len());
        } else {
            return i;
        }
    }
}

/// Length of an `if (...) stmt;` or `if (...) { ... }` statement at the start of `s`.
fn check_statement_end(s: &str) -> Option<usize> {
    let open = s.find('(')?;
    let mut depth = 0;
    let mut i = open;
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let after = &s[i + 1..];
    let t = after.trim_start();
    let base = i + 1 + (after.len() - t.len());
    if t.starts_with('{') {
        let mut depth = 0;
        for (j, c) in t.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(base + j + 1);
                    }
                }
                _ => {}
            }
        }
        None
    } else {
        Some(base + t.find(';')? + 1)
    }
}
