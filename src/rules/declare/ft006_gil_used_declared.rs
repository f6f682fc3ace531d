//! FT006: a module that explicitly declares `Py_MOD_GIL_USED`.

use crate::context::FileContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

use super::SET_GIL;
use crate::capi::{GIL_SLOT, GIL_USED};

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

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let idx = ctx.index;
    let slot_uses = idx
        .slot_arrays
        .iter()
        .flat_map(|s| &s.entries)
        .filter(|e| e.slot == GIL_SLOT && e.value.contains(GIL_USED))
        .map(|e| e.range);
    let call_uses = idx
        .calls
        .iter()
        .filter(|c| c.name == SET_GIL)
        .filter(|c| {
            c.args
                .get(1)
                .is_some_and(|a| ctx.file.text[a.0..a.1].contains(GIL_USED))
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
