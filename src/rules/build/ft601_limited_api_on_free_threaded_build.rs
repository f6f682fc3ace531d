//! FT601: the limited API requested for every interpreter, free-threaded ones included.

use crate::build::What;
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::{FixAvailability, ProjectFile, Rule};
use crate::settings::Settings;

use super::{diag, Builds};
use crate::rules::project;

pub static LIMITED_API: Rule = Rule {
    code: "FT601",
    name: "limited-api-on-free-threaded-build",
    severity: Severity::Error,
    summary: "The limited API / stable ABI is requested unconditionally, so no free-threaded wheel can be built.",
    doc: r#"## What it does
Finds build settings that ask for the limited C API (stable ABI, `abi3`) for every
interpreter, with no exception for free-threaded ones:

- setuptools `Extension(..., py_limited_api=True)`, `define_macros=[("Py_LIMITED_API", ...)]`,
  a `-DPy_LIMITED_API` flag, `options={"bdist_wheel": {"py_limited_api": "cp39"}}`,
  `[bdist_wheel] py_limited_api` in `setup.cfg`, `py-limited-api = true` in
  `[tool.setuptools] ext-modules`;
- meson `py.extension_module(..., limited_api: '3.9')` and meson-python `limited-api = true`;
- CMake `Python_add_library(... USE_SABI 3.9 ...)` or a `Py_LIMITED_API` compile definition
  outside any `if()`;
- `#define Py_LIMITED_API` in a C/C++ source when the define is compiled in a
  free-threaded build (its `#if` guards do not exclude `Py_GIL_DISABLED`);
- scikit-build-core `wheel.py-api = "cp39"` and PyO3 `abi3` features (reported as
  information: these tools drop the request on free-threaded interpreters themselves).

A value computed in `setup.py` (any expression other than the literal `True`), or a
setting inside an `if` block, is treated as conditional and not reported.
nanobind's `STABLE_ABI` is not reported: nanobind's CMake code turns it off when the
interpreter's ABI is free-threaded (checked in `nanobind-config.cmake`, nanobind 2.2).

## Why is this bad?
Before 3.15 the free-threaded build has no limited API: `Python.h` stops with
`#error` when `Py_LIMITED_API` and `Py_GIL_DISABLED` are both defined, so a
free-threaded wheel cannot be built at all. From 3.15 the free-threaded stable ABI is
`abi3t`, which has its own requirements; plain `abi3` wheels never load on a `t`
interpreter.

## Example
```python
Extension("spam", ["spam.c"], py_limited_api=True)
```

## Use instead
```python
import sysconfig
Extension("spam", ["spam.c"],
          py_limited_api=not sysconfig.get_config_var("Py_GIL_DISABLED"))
```
and build separate `cp31Xt` wheels; on 3.15 consider `abi3t`.

## References
- CPython howto *C API Extension Support for Free Threading*, "Limited C API and Stable ABI".
- CPython PR #117762 (the `#error` in `Python.h`).
- meson-python guide "Targeting the CPython Limited C API" (recommends making it opt-in for free-threaded builds).
- scikit-build-core 0.9.4 release notes (stable ABI skipped on free-threaded Python).
"#,
    fix: FixAvailability::None,
};

/// Build settings (and C/C++ defines) that request the limited API unconditionally.
pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    limited_api(ctx.builds, ctx.project.settings, out);
    limited_api_in_sources(ctx.project.files, out);
}

fn limited_api(build: &Builds, settings: &Settings, out: &mut Vec<Diagnostic>) {
    for (b, f) in project::facts(build) {
        let What::LimitedApi {
            how,
            fix,
            ignored_on_ft,
        } = &f.what
        else {
            continue;
        };
        let abi3t = settings.target_minor >= 15;
        let d = if *ignored_on_ft {
            diag(&LIMITED_API, b, f.range, format!("{how} requests the stable ABI; the tool drops it on free-threaded interpreters and builds a version-specific module"))
                .with_severity(Severity::Info)
        } else if abi3t {
            diag(&LIMITED_API, b, f.range, format!("{how} requests abi3 unconditionally: abi3 wheels never load on a free-threaded interpreter; use abi3t (3.15+) for those builds"))
        } else {
            diag(&LIMITED_API, b, f.range, format!("{how} requests the limited API unconditionally: free-threaded 3.13t/3.14t has no limited API, so no free-threaded wheel can be built"))
        };
        out.push(d.with_help(fix.clone()));
    }
}

/// `#define Py_LIMITED_API` in a C/C++ source that is compiled in a free-threaded
/// 3.14 build (its `#if` conditions evaluate to true there). Unknown conditions stay quiet.
fn limited_api_in_sources(sources: &[ProjectFile], out: &mut Vec<Diagnostic>) {
    use crate::source::lex::DirectiveKind;
    use crate::source::preproc::{BuildConfig, Truth};
    for pf in sources {
        let cfg = BuildConfig::free_threaded(14).for_language(pf.file.language);
        for d in &pf.file.lexed.directives {
            if d.kind != DirectiveKind::Define
                || d.arg.split_whitespace().next() != Some("Py_LIMITED_API")
            {
                continue;
            }
            if pf.file.condition_at(d.start).eval(&cfg) != Truth::True {
                continue;
            }
            out.push(
                Diagnostic::new(
                    &LIMITED_API,
                    &pf.file.path,
                    Some(pf.file.span(d.start, d.end)),
                    "`#define Py_LIMITED_API` is compiled in free-threaded builds, where Python.h stops with #error before 3.15",
                )
                .with_help("guard it: #if !defined(Py_GIL_DISABLED) ... #endif (or define it from the build only for GIL interpreters)"),
            );
        }
    }
}
