//! FT004: two `Py_mod_gil` entries of one slot array compiled in the same build.

use std::collections::HashSet;

use crate::context::FileContext;
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::fix::edits;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

use super::{statement_end, with_optional_fix, GIL_SLOT};

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

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let file = ctx.file;
    let configs = ctx.ft_configs();
    for sa in &ctx.index.slot_arrays {
        let gil: Vec<_> = sa.entries.iter().filter(|e| e.slot == GIL_SLOT).collect();
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
