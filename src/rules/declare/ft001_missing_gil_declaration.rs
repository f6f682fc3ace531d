//! FT001: a module that never declares GIL-free support in a free-threaded build.

use crate::context::{FileContext, ProjectContext};
use crate::diagnostic::{Applicability, Confidence, DeferredFix, Diagnostic, Fix, FixRequest};
use crate::fix::edits;
use crate::rule::Severity;
use crate::rules::{FixAvailability, ProjectFile, Rule};
use crate::source::index::{FileIndex, InitStyle, ModuleInit, SlotArray, SlotsRef};
use crate::source::SourceFile;

use super::{coverage, statement_end, SET_GIL, SET_GIL_GUARD};

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
For single-phase init the `PyUnstable_Module_SetGIL` call goes right after the
module's `NULL` check (an `if` testing the module, alone or in a `||` chain, whose
branch leaves), never before it; when the module is used before any check, the
call tests the module itself. For multi-phase init the `Py_mod_gil` slot goes
before the sentinel, under `#ifdef Py_mod_gil`.

## References
- CPython howto *C API Extension Support for Free Threading*, "Identifying the Free-Threaded Build" and "Module Initialization".
- C API reference: `Py_mod_gil`, `PyUnstable_Module_SetGIL`.
"#,
    fix: FixAvailability::Unsafe,
};

/// Reports each module entry point that declares nothing in some free-threaded
/// build, unless another entry point of the same module declares (that is FT005).
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let cov = coverage(project);
    for entry in &cov.entries {
        let pf = &project.files[entry.file];
        let init = &pf.index.module_inits[entry.init];
        let ctx = pf.context();
        if !ctx.enabled(&MISSING_GIL_DECLARATION) {
            continue;
        }
        let Some(c) = &entry.coverage else {
            // We could not follow how this module is created; if nothing in the whole
            // project declares anything, it cannot be declared either.
            if matches!(init.style, InitStyle::Unknown) && !cov.project_declares_anything {
                out.push(untraceable(&ctx, pf, init));
            }
            continue;
        };
        if c.missing.is_empty() || cov.declared_modules.contains(&init.module) {
            continue;
        }
        let func = &pf.index.functions[init.function];
        out.push(
            missing_declaration(&ctx, pf, init)
                .with_module(&init.module)
                .with_init(&func.name),
        );
    }
}

fn untraceable(ctx: &FileContext, pf: &ProjectFile, init: &ModuleInit) -> Diagnostic {
    let func = &pf.index.functions[init.function];
    ctx.diagnostic(
        &MISSING_GIL_DECLARATION,
        func.name_range,
        format!(
            "module `{}` is created in a way ftaudit cannot follow, and nothing in the project declares `Py_mod_gil` or calls `{SET_GIL}`, so importing it re-enables the GIL",
            init.module
        ),
    )
    .with_confidence(Confidence::Likely)
    .with_module(&init.module)
    .with_help("declare GIL-free support where the module object is created")
}

fn missing_declaration(ctx: &FileContext, pf: &ProjectFile, init: &ModuleInit) -> Diagnostic {
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
            // Placed on the syntax tree: built in the file's own phase, or (for an
            // init found later, through a header's macros) when the run needs edits.
            let request = FixRequest::SetGil { create: call.range };
            match pf.prepared_fix(&request) {
                Some(Some(f)) => d.with_fix(f),
                Some(None) => d,
                None => d.with_deferred_fix(DeferredFix::new(
                    ctx.file.language == crate::source::Language::Cpp,
                    request,
                )),
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

/// After `m = PyModule_Create(...)` and its `if (m == NULL) ...` check, insert the
/// call (found on the syntax tree by [`crate::fix::declare::after_module_created`]);
/// with no check before the module is used, the call tests `m` itself.
pub(crate) fn set_gil_fix(file: &SourceFile, create: (usize, usize)) -> Option<Fix> {
    let place = crate::fix::declare::after_module_created(file, create)?;
    let var = &place.var;
    let indent = edits::indentation(file, place.indent_from).to_owned();
    let call = if place.guard_null {
        format!("{indent}if ({var} != NULL) {{ {SET_GIL}({var}, Py_MOD_GIL_NOT_USED); }}")
    } else {
        format!("{indent}{SET_GIL}({var}, Py_MOD_GIL_NOT_USED);")
    };
    let lines = vec![SET_GIL_GUARD.to_owned(), call, "#endif".to_owned()];
    Some(Fix {
        applicability: Applicability::Unsafe,
        message: "Declare `Py_MOD_GIL_NOT_USED` (a claim: review the module first)".into(),
        edits: vec![edits::insert_lines_after(file, place.insert_after, &lines)],
    })
}
