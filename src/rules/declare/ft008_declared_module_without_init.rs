//! FT008: the build declares an extension module whose init function was not found.

use std::path::Path;

use crate::build::scope::{self, Declared};
use crate::context::BuildContext;
use crate::diagnostic::{Confidence, Diagnostic};
use crate::rule::Severity;
use crate::rules::{project, FixAvailability, Rule};

pub static DECLARED_MODULE_WITHOUT_INIT: Rule = Rule {
    code: "FT008",
    name: "declared-module-without-init",
    severity: Severity::Warning,
    summary: "The build declares an extension module whose init function ftaudit cannot find.",
    doc: r#"## What it does
Reports an extension module a build file declares (`Extension("pkg._speedups", ...)`,
meson `py.extension_module('_speedups', ...)`, CMake `Python_add_library`,
`pybind11_add_module`, `nanobind_add_module`) when none of the C/C++ files checked
defines its init function (`PyInit__speedups`, `PYBIND11_MODULE(_speedups, m)`,
`NB_MODULE(...)`).

## Why is this bad?
The declaration rules (FT001–FT005) can only check a module whose init function
they see. When it is spelled in a way ftaudit cannot resolve (a macro from a header
that is not part of the run, a generated file, a name built at compile time), the
module is not checked at all, and "no finding" would mean nothing. The readiness
summary counts such modules as declared by the build, never as absent.

The confidence is *likely*: the init may come from a generator ftaudit does not
know, or from sources that are not in the sdist.

## Example
```python
Extension("pkg._speedups", sources=["src/speedups.c"])
```
```c
/* src/speedups.c: the name comes from a header outside the project */
PyMODINIT_FUNC MODULE_INIT_FUNC(void) { ... }
```

## Use instead
Check the module by hand (or with `ftaudit verify`), or spell the init function
where ftaudit can read it: `PyMODINIT_FUNC PyInit__speedups(void)`, or a macro
defined in the same file or a header the project includes.

## References
- README: "Build scope" (how ftaudit reads the build's source lists).
- FT001 (a module that does not declare free-threading support).
"#,
    fix: FixAvailability::None,
};

/// Sources that make a module a generator's (Cython, SWIG, f2py, Rust, Python):
/// their init functions are generated and checked through the generator.
fn generated(d: &Declared) -> bool {
    d.decl.sources.iter().any(|s| {
        let ext = Path::new(&s.path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        matches!(
            ext.as_str(),
            "pyx" | "py" | "i" | "swg" | "f" | "f90" | "f95" | "pyf" | "rs" | "pxd" | "cu"
        )
    })
}

fn is_module_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
}

/// The last component of a dotted module name.
fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Names of the modules the build files declare (as written).
pub fn declared_module_names(ctx: &BuildContext) -> Vec<String> {
    let builds: Vec<&crate::build::BuildFile> = ctx.builds.iter().map(|(b, _)| b).collect();
    let mut names: Vec<String> = scope::declared_modules(&builds)
        .into_iter()
        .map(|d| d.decl.name)
        .filter(|n| is_module_name(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Modules the build declares whose init function no checked file defines.
pub fn modules_without_init(ctx: &BuildContext) -> Vec<Declared> {
    let builds: Vec<&crate::build::BuildFile> = ctx.builds.iter().map(|(b, _)| b).collect();
    let found = project::modules(ctx);
    let files: Vec<String> = ctx
        .project
        .files
        .iter()
        .map(|pf| scope::normalize(&pf.file.path).display().to_string())
        .collect();
    let mut out: Vec<Declared> = Vec::new();
    for d in scope::declared_modules(&builds) {
        let name = &d.decl.name;
        if d.custom_target || d.decl.generated || !is_module_name(name) || generated(&d) {
            continue;
        }
        // Only a module whose sources are here: otherwise there is nothing to look in.
        let present = d.decl.sources.iter().any(|s| {
            let base = s
                .base
                .as_deref()
                .map(Path::new)
                .unwrap_or(d.dir.as_path())
                .join(&s.path);
            let want = scope::normalize(&base).display().to_string();
            if s.path.contains(['*', '?', '[']) {
                !files.is_empty()
            } else {
                files
                    .iter()
                    .any(|f| *f == want || f.ends_with(&format!("/{}", s.path)))
            }
        });
        if !present {
            continue;
        }
        if found
            .iter()
            .any(|m| m.name == short(name) || m.name == *name)
        {
            continue;
        }
        if out.iter().any(|o| o.decl.name == *name) {
            continue;
        }
        out.push(d);
    }
    out
}

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    for d in modules_without_init(ctx) {
        let Some((b, _)) = ctx.builds.iter().find(|(b, _)| b.path == d.build_file) else {
            continue;
        };
        let name = &d.decl.name;
        let init = format!("PyInit_{}", short(name));
        // Spelled out in a file that did not parse there: say so, it is actionable.
        let unparsed = ctx
            .project
            .files
            .iter()
            .find(|pf| !pf.file.code_occurrences(&init).is_empty());
        let message = match unparsed {
            Some(pf) => format!(
                "the build declares extension module `{name}`; `{init}` appears in {}, but that part of the file did not parse cleanly (see `--show-parse-errors`), so its declaration of free-threading support was not checked",
                pf.file.path.display()
            ),
            None => format!(
                "the build declares extension module `{name}`, but no checked file defines its init function (`{init}`): its declaration of free-threading support was not checked"
            ),
        };
        let mut diag = Diagnostic::new(
            &DECLARED_MODULE_WITHOUT_INIT,
            &b.path,
            Some(b.span(d.decl.range)),
            message,
        );
        diag.confidence = Confidence::Likely;
        diag.module = Some(short(name).to_owned());
        out.push(diag);
    }
}
