//! FT003: a GIL declaration compiled in builds whose headers do not define it.

use crate::context::FileContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};
use crate::source::index::SlotArrayKind;
use crate::source::preproc::BuildConfig;
use crate::source::SourceFile;

use super::{guard_fix, with_optional_fix, GIL_SLOT, SET_GIL, SET_GIL_GUARD};

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

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
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
        for e in sa.entries.iter().filter(|e| e.slot == GIL_SLOT) {
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
