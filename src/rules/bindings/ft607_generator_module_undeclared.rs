//! FT607: a module made by a binding generator that never declares free-threading support.

use crate::build::{BuildFile, Generator, What};
use crate::context::BuildContext;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::project::{self, Module};
use crate::rules::{FixAvailability, ProjectFile, Rule};
use crate::settings::Settings;
use std::sync::Arc;

type Builds = [(BuildFile, Arc<Settings>)];

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

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let modules = project::modules(ctx);
    undeclared(ctx.builds, ctx.project.files, &modules, out);
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
