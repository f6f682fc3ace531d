//! FT005: a module declared in some free-threaded builds or init paths but not others.

use crate::context::ProjectContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

use super::coverage;

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

/// Reports each module entry point that misses a build while the module declares
/// support elsewhere (in another build or on another init path).
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let cov = coverage(project);
    for entry in &cov.entries {
        let pf = &project.files[entry.file];
        let init = &pf.index.module_inits[entry.init];
        let Some(c) = &entry.coverage else { continue };
        if c.missing.is_empty() || !cov.declared_modules.contains(&init.module) {
            continue;
        }
        let ctx = pf.context();
        if !ctx.enabled(&PARTIAL_GIL_DECLARATION) {
            continue;
        }
        let func = &pf.index.functions[init.function];
        let missing: Vec<&str> = c.missing.iter().map(String::as_str).collect();
        let declared: Vec<&str> = c.declared.iter().map(String::as_str).collect();
        let msg = if declared.is_empty() {
            format!(
                "module `{}` declares GIL-free support on another init path but not in `{}` (used for {})",
                init.module,
                func.name,
                missing.join(", ")
            )
        } else {
            format!(
                "module `{}` declares GIL-free support for {} but not for {}",
                init.module,
                declared.join(", "),
                missing.join(", ")
            )
        };
        out.push(
            ctx.diagnostic(&PARTIAL_GIL_DECLARATION, func.name_range, msg)
                .with_module(&init.module)
                .with_init(&func.name)
                .with_builds(&missing)
                .with_help(
                    "declare `Py_MOD_GIL_NOT_USED` on every init path and for every build you ship",
                ),
        );
    }
}
