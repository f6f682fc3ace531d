//! FT607–FT608 — binding generators: each declares free-threading support its own
//! way, and each added that way in a known release.
//!
//! Declaration forms and minimum versions, and how they were checked (wheels from
//! PyPI unpacked and searched; crate sources from crates.io):
//!
//! | generator | declaration | first release | checked |
//! |---|---|---|---|
//! | Cython | `# cython: freethreading_compatible=True`, `compiler_directives`, `-X freethreading_compatible=True` | 3.1.0 | `Cython/Compiler/Options.py` has the directive in 3.1.0, not in 3.0.12 |
//! | pybind11 | `PYBIND11_MODULE(name, m, py::mod_gil_not_used())` | 2.13.0 | `mod_gil_not_used` in `pybind11.h` of 2.13.0, not 2.12.1 |
//! | nanobind | `nanobind_add_module(tgt FREE_THREADED ...)` | 2.2.0 | `FREE_THREADED` in `nanobind-config.cmake` of 2.2.0, not 2.1.0 |
//! | PyO3 | `#[pymodule(gil_used = false)]` / `.gil_used(false)` | 0.23 (CHANGELOG, PR #4588); default since 0.28.0 (CHANGELOG: "opt-out rather than opt-in", PR #5564; macro default `map_or(true)` in 0.27.2, `is_some_and` in 0.30.1) |
//! | SWIG | `swig -python -nogil` | 4.4.0 | `-nogil` in the 4.4.0 `swig` binary, not 4.3.1 |
//! | f2py | `--freethreading-compatible` | NumPy 2.1.0 | in `numpy/f2py/f2py2e.py` of 2.1.0, not 2.0.2 |

use std::sync::Arc;

use crate::build::{version, BuildFile, Generator, What};
use crate::config::Settings;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::project::{self, Module};
use crate::rules::{FixAvailability, ProjectFile, Rule};

pub static GENERATOR_UNDECLARED: Rule = Rule {
    code: "FT607",
    name: "generator-module-undeclared",
    severity: Severity::Error,
    summary: "A module made by a binding generator does not declare free-threading support.",
    doc: r#"## What it does
Finds modules whose binding generator is never told that the module supports free
threading:

- Cython `.pyx` without `# cython: freethreading_compatible=True` in its header, when the
  build passes the directive nowhere else (`cythonize(compiler_directives=...)`, meson
  `cython_args: ['-Xfreethreading_compatible=True']`, a `-X` command-line option);
- `PYBIND11_MODULE(name, m)` without `py::mod_gil_not_used()`;
- nanobind's `nanobind_add_module(...)` without `FREE_THREADED`;
- PyO3 `#[pymodule(gil_used = true)]` (reported as a warning: an explicit opt-out), or a
  `#[pymodule]` without `gil_used` when the PyO3 version in use is older than 0.28
  (older releases assume the GIL unless told otherwise);
- a Rust module written against the raw C API (`extern "C" fn PyInit_x`, as with
  `pyo3-ffi`) whose code never uses `Py_MOD_GIL_NOT_USED`;
- a SWIG `%module` when no build line passes `-nogil`;
- an f2py build line without `--freethreading-compatible`.

Build lines that come from variables or project-defined CMake functions are not seen;
a directive given there looks missing (a false positive you can suppress with
`per-file-ignores`).

## Why is this bad?
An undeclared module makes a free-threaded interpreter re-enable the GIL for the whole
process when it is imported.

## Example
```cpp
PYBIND11_MODULE(spam, m) { m.def("f", &f); }
```

## Use instead
```cpp
PYBIND11_MODULE(spam, m, py::mod_gil_not_used()) { m.def("f", &f); }
```
after reviewing the module for thread safety; likewise `FREE_THREADED`,
`gil_used = false`, `freethreading_compatible=True`, `-nogil`,
`--freethreading-compatible`.

## References
- Python free-threading guide, "Porting extension modules" (per-generator declarations).
- Cython 3.1 `freethreading_compatible`; pybind11 2.13 `mod_gil_not_used`; nanobind 2.2
  `FREE_THREADED`; PyO3 0.23 `gil_used` and 0.28 CHANGELOG; SWIG 4.4 `-nogil`; NumPy 2.1 f2py.
"#,
    fix: FixAvailability::None,
};

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

pub static RULES: &[&Rule] = &[&GENERATOR_UNDECLARED, &GENERATOR_TOO_OLD];

type Builds = [(BuildFile, Arc<Settings>)];

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

/// Runs FT607 and FT608.
pub fn check(
    build: &Builds,
    sources: &[ProjectFile],
    modules: &[Module],
    out: &mut Vec<Diagnostic>,
) {
    undeclared(build, sources, modules, out);
    too_old(build, modules, out);
}

fn undeclared(
    build: &Builds,
    sources: &[ProjectFile],
    modules: &[Module],
    out: &mut Vec<Diagnostic>,
) {
    let pyo3 = project::pyo3_version(build);
    for m in modules.iter().filter(|m| !m.declares) {
        let span = |range: (usize, usize)| -> Option<crate::diagnostic::Span> {
            if let Some((b, _)) = build.iter().find(|(b, _)| b.path == m.path) {
                return Some(b.span(range));
            }
            sources
                .iter()
                .find(|pf| pf.file.path == m.path)
                .map(|pf| pf.file.span(range.0, range.1))
        };
        let (msg, help, severity) = match m.kind {
            Generator::Cython => (
                format!("Cython module `{}` does not declare free-threading support", m.name),
                "add `# cython: freethreading_compatible=True` to the file header (or pass compiler_directives={\"freethreading_compatible\": True} / -Xfreethreading_compatible=True), after reviewing the module",
                Severity::Error,
            ),
            Generator::Pybind11 => (
                format!("PYBIND11_MODULE(`{}`) does not pass py::mod_gil_not_used()", m.name),
                "PYBIND11_MODULE(name, m, py::mod_gil_not_used()) (pybind11 2.13+)",
                Severity::Error,
            ),
            Generator::Nanobind => (
                format!("nanobind module `{}` is not built with FREE_THREADED", m.name),
                "nanobind_add_module(<target> FREE_THREADED ...) in CMake (nanobind 2.2+)",
                Severity::Error,
            ),
            Generator::PyO3 => {
                let explicit = build.iter().find(|(b, _)| b.path == m.path).is_some_and(|(b, _)| {
                    b.facts.iter().any(|f| f.range == m.range && matches!(f.what, What::PyO3Module { gil_used: Some(true), .. }))
                });
                let ffi = build.iter().find(|(b, _)| b.path == m.path).is_some_and(|(b, _)| {
                    b.facts.iter().any(|f| f.range == m.range && matches!(f.what, What::RustFfiModule { .. }))
                });
                if ffi {
                    (
                        format!("Rust module `{}` (raw C API) never uses Py_MOD_GIL_NOT_USED", m.name),
                        "add a {Py_mod_gil, Py_MOD_GIL_NOT_USED} slot to its PyModuleDef_Slot array",
                        Severity::Error,
                    )
                } else if explicit {
                    (
                        format!("#[pymodule] `{}` says gil_used = true: the module re-enables the GIL on free-threaded Python", m.name),
                        "set gil_used = false once the module is thread-safe",
                        Severity::Warning,
                    )
                } else {
                    let v = pyo3.as_ref().map(|v| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(".")).unwrap_or_else(|| "of unknown version".into());
                    (
                        format!("#[pymodule] `{}` has no gil_used option and PyO3 {v} assumes the GIL (free-threaded support is the default only from PyO3 0.28)", m.name),
                        "#[pymodule(gil_used = false)] (PyO3 0.23+), or upgrade to PyO3 0.28+",
                        Severity::Error,
                    )
                }
            }
            Generator::Swig => (
                format!("SWIG module `{}` is never generated with -nogil", m.name),
                "pass -nogil to swig (SWIG 4.4+), e.g. swig_opts=[\"-nogil\"] or set(CMAKE_SWIG_FLAGS -nogil)",
                Severity::Error,
            ),
            Generator::F2py => (
                "f2py is called without --freethreading-compatible".to_owned(),
                "add --freethreading-compatible to the f2py command (NumPy 2.1+)",
                Severity::Error,
            ),
            Generator::C | Generator::Cpp => continue,
        };
        let mut d = Diagnostic::new(&GENERATOR_UNDECLARED, &m.path, span(m.range), msg)
            .with_help(help)
            .with_severity(severity);
        if m.kind == Generator::PyO3 && pyo3.is_none() {
            d = d.with_confidence(Confidence::Likely);
        }
        out.push(d);
    }
}

fn too_old(build: &Builds, modules: &[Module], out: &mut Vec<Diagnostic>) {
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
