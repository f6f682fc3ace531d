//! FT608: a binding generator pinned below the release that can declare free threading.

use crate::build::{version, Generator, What};
use crate::context::BuildContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

pub static GENERATOR_TOO_OLD: Rule = Rule {
    code: "FT608",
    name: "generator-too-old-for-free-threading",
    severity: Severity::Error,
    summary: "The build pins a binding generator below the release that supports free threading.",
    doc: r#"## What it does
Reads build requirements (`[build-system] requires`, `setup_requires`, `Cargo.toml`,
`Cargo.lock`) and reports a generator whose allowed versions all lie below the first
release that can declare free-threading support: Cython 3.1.0, pybind11 2.13.0,
nanobind 2.2.0, PyO3 0.23, SWIG 4.4.0 (the `swig` PyPI package), NumPy 2.1.0 (only when
the project calls f2py).

Only upper bounds are read (`<3.1`, `==3.0.11`, `~=3.0.5`, Cargo `0.22`); a lower bound
alone is fine.

## Why is this bad?
With an older generator the module cannot declare support at all (or, for Cython 3.0,
is built with known free-threading bugs), so it re-enables the GIL on import.

## Example
```toml
requires = ["setuptools", "Cython<3.1"]
```

## Use instead
```toml
requires = ["setuptools", "Cython>=3.1"]
```

## References
- See FT607 for how each release was checked.
"#,
    fix: FixAvailability::None,
};

const MINIMUMS: [(&str, &[u64], &str); 6] = [
    (
        "cython",
        &[3, 1, 0],
        "Cython 3.1.0 added the freethreading_compatible directive",
    ),
    (
        "pybind11",
        &[2, 13, 0],
        "pybind11 2.13.0 added py::mod_gil_not_used()",
    ),
    (
        "nanobind",
        &[2, 2, 0],
        "nanobind 2.2.0 added nanobind_add_module(... FREE_THREADED)",
    ),
    (
        "pyo3",
        &[0, 23],
        "PyO3 0.23 added #[pymodule(gil_used = false)]",
    ),
    ("swig", &[4, 4, 0], "SWIG 4.4.0 added -nogil"),
    (
        "numpy",
        &[2, 1, 0],
        "NumPy 2.1.0 added f2py --freethreading-compatible",
    ),
];

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let build = ctx.builds;
    let modules = project::modules(ctx);
    let uses_f2py = modules.iter().any(|m| m.kind == Generator::F2py);
    for (b, f) in project::facts(build) {
        let (name, capped, shown) = match &f.what {
            What::Requirement { name, spec } => {
                let Some((_, min, _)) = MINIMUMS.iter().find(|(n, _, _)| n == name) else {
                    continue;
                };
                let capped = if name == "pyo3" {
                    version::cargo_caps_below(spec, min)
                } else {
                    version::pep440_caps_below(spec, min)
                };
                (name.as_str(), capped, spec.clone())
            }
            What::Locked { name, version: v } => {
                let Some((_, min, _)) = MINIMUMS.iter().find(|(n, _, _)| n == name) else {
                    continue;
                };
                (name.as_str(), version::below(v, min), v.clone())
            }
            _ => continue,
        };
        if !capped || (name == "numpy" && !uses_f2py) {
            continue;
        }
        let Some((_, _, why)) = MINIMUMS.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        out.push(
            Diagnostic::new(&GENERATOR_TOO_OLD, &b.path, Some(b.span(f.range)), format!("`{name}` is limited to `{shown}`: {why}; older releases cannot declare free-threading support"))
                .with_help("raise the upper bound"),
        );
    }
}
