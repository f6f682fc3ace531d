//! FT6xx — build configuration, CI and packaging (the howto's "Building
//! Extensions"), plus the project readiness summary printed after the findings.
//!
//! These rules read [`crate::build::BuildFile`] facts, not C syntax trees; they run
//! once per project ([`check_build`]) because most questions ("does any module declare
//! support?", "does CI test 3.14t?") need every file. Binding-generator declarations
//! are in `bindings.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::build::{version, BuildFile, Generator, What};
use crate::config::Settings;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::project::{self, Module};
use crate::rules::{bindings, FixAvailability, ProjectFile, Rule, FAMILIES};

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

pub static WINDOWS_GIL_DISABLED: Rule = Rule {
    code: "FT602",
    name: "windows-py-gil-disabled-undefined",
    severity: Severity::Warning,
    summary: "A Windows build for a free-threaded interpreter may not define Py_GIL_DISABLED=1.",
    doc: r#"## What it does
Finds builds that can compile for a free-threaded interpreter on Windows without
defining `Py_GIL_DISABLED=1`:

- a project that builds extensions with setuptools while its build requirements pin
  setuptools below 75.7.0, the first release whose vendored distutils defines the macro
  on Windows for free-threaded interpreters (checked by comparing
  `setuptools/_distutils/command/build_ext.py` in the 75.6.0 and 75.7.0 wheels; the
  change is pypa/distutils PR #310, for setuptools issue #4662);
- a project that builds extensions with meson while pinning meson below 1.5.0, the first
  release whose Python dependency adds `-DPy_GIL_DISABLED` on Windows for free-threaded
  interpreters (checked in `mesonbuild/dependencies/python.py` of the 1.5.0 and 1.4.1 wheels;
  meson PR #13338);
- CMake files that make a Python module by hand (`Python_add_library`, `add_library(... MODULE)`)
  and never mention `Py_GIL_DISABLED` in a compile definition.

The CMake case is reported with *likely* confidence: a toolchain file, a preset or a
newer FindPython may define the macro in a way this check cannot see.

## Why is this bad?
The Windows installer ships one `pyconfig.h` for both builds, so the macro is not
defined by the headers. An extension compiled without it gets the GIL build's object
layout and links `python3X.dll` instead of `python3Xt.dll`: the wheel is tagged `t` but
crashes on import.

## Example
```toml
[build-system]
requires = ["setuptools<70"]
```

## Use instead
```toml
[build-system]
requires = ["setuptools>=75.7"]
```
or, in CMake:
```cmake
if(WIN32 AND Py_GIL_DISABLED)
  target_compile_definitions(spam PRIVATE Py_GIL_DISABLED=1)
endif()
```

## References
- CPython howto, "Windows" (the macro must be defined by hand).
- setuptools issue #4662; pypa/distutils PR #310; setuptools 75.7.0.
"#,
    fix: FixAvailability::None,
};

pub static CIBUILDWHEEL: Rule = Rule {
    code: "FT603",
    name: "cibuildwheel-free-threading-config",
    severity: Severity::Warning,
    summary:
        "cibuildwheel skips free-threaded wheels, uses a retired option, or builds 3.13t only.",
    doc: r#"## What it does
Reads `[tool.cibuildwheel]` in `pyproject.toml` and `CIBW_*` variables in workflows:

- a `skip` selector that matches free-threaded identifiers (`cp313t-*`, `*t-*`, `cp31?t-*`);
- `free-threaded-support` / `CIBW_FREE_THREADED_SUPPORT`, which cibuildwheel 3 no longer
  accepts (it stops with an error for the variable);
- `enable = ["cpython-freethreading"]`, deprecated by cibuildwheel (the warning is
  present in 3.4.1, absent in 3.1.0) and needed only for the experimental 3.13t;
- a `build` selector that lists `cp313t` but not `cp314t`;
- `pypa/cibuildwheel@v2.x`/`v3.0` with no `build` selector while a module declares support
  (free-threaded wheels are built by default only from cibuildwheel 3.1);
- a `build` selector with no free-threaded identifier at all while a module declares
  free-threading support.

## Why is this bad?
Each of these silently ships no free-threaded wheel, or only one for 3.13t, which is
experimental, slower and misses later safety fixes; users on 3.14t then build from
source or cannot install.

## Example
```toml
[tool.cibuildwheel]
skip = ["cp313t-*", "pp*"]
```

## Use instead
```toml
[tool.cibuildwheel]
skip = ["pp*"]   # cibuildwheel 3.1+ builds cp314t by default
```

## References
- cibuildwheel options documentation (`build`, `skip`, `enable`); cibuildwheel 3.4.1
  `detect_warnings`/`detect_errors`.
- CPython PR #148893 (the howto stopped recommending `cpython-freethreading`).
"#,
    fix: FixAvailability::None,
};

pub static CI_NO_FREE_THREADED: Rule = Rule {
    code: "FT604",
    name: "ci-without-free-threaded-python",
    severity: Severity::Warning,
    summary: "No GitHub Actions workflow tests on a free-threaded interpreter.",
    doc: r#"## What it does
When the project has extension modules and its workflows name Python versions
(`python-version:` in a matrix or a setup step), reports the first one if none of them
is free-threaded (`3.13t`, `3.14t`, ...), no step sets `freethreaded: true`, and no `run:`
script installs a `t` interpreter.

## Why is this bad?
Thread-safety problems only show up on a free-threaded interpreter. A declaration
that is never tested is a guess.

## Example
```yaml
python-version: ["3.12", "3.13", "3.14"]
```

## Use instead
```yaml
python-version: ["3.12", "3.13", "3.14", "3.14t"]
```

## References
- Python free-threading guide, "Setting up CI".
"#,
    fix: FixAvailability::None,
};

pub static CI_GIL_FORCED_OFF: Rule = Rule {
    code: "FT605",
    name: "ci-forces-gil-off",
    severity: Severity::Warning,
    summary:
        "Tests run with PYTHON_GIL=0 or -X gil=0, which hides a module that re-enables the GIL.",
    doc: r#"## What it does
Finds `PYTHON_GIL: 0` in a workflow's environment and `PYTHON_GIL=0`, `-X gil=0` or
`-Xgil=0` in `run:` scripts and cibuildwheel test commands.

## Why is this bad?
Forcing the GIL off makes the interpreter ignore a module that does not declare
free-threading support: the tests pass with the GIL disabled while users, who do not
set the variable, get the GIL re-enabled on import (with only a warning). It is useful
while porting a dependency chain, but the test run then says nothing about whether
every module declares support.

## Example
```yaml
env:
  PYTHON_GIL: 0
```

## Use instead
Run the free-threaded job without it, and check that importing the package leaves
`sys._is_gil_enabled()` false.

## References
- CPython docs: `PYTHON_GIL` environment variable and `-X gil`.
"#,
    fix: FixAvailability::None,
};

pub static CLASSIFIER: Rule = Rule {
    code: "FT606",
    name: "free-threading-classifier-mismatch",
    severity: Severity::Info,
    summary: "The Free Threading classifier is missing while modules declare support, or present while some do not.",
    doc: r#"## What it does
Compares the trove classifiers (`[project] classifiers`, `setup(classifiers=...)`,
`[metadata] classifiers`) with the modules found: reports a missing
`Programming Language :: Python :: Free Threading :: ...` classifier when every module
declares free-threading support, and a present one when some module does not.

## Why is this bad?
Users and tools read the classifier to decide whether a package is meant to work
without the GIL. A wrong classifier misleads them either way. This is information,
not an error.

## Example
```toml
classifiers = ["Programming Language :: Python :: 3.14"]
```

## Use instead
```toml
classifiers = [
  "Programming Language :: Python :: 3.14",
  "Programming Language :: Python :: Free Threading :: 2 - Beta",
]
```

## References
- PyPI trove classifiers, `Programming Language :: Python :: Free Threading`.
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &LIMITED_API,
    &WINDOWS_GIL_DISABLED,
    &CIBUILDWHEEL,
    &CI_NO_FREE_THREADED,
    &CI_GIL_FORCED_OFF,
    &CLASSIFIER,
];

type Builds = [(BuildFile, Arc<Settings>)];

fn diag(
    rule: &'static Rule,
    b: &BuildFile,
    range: (usize, usize),
    msg: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(rule, &b.path, Some(b.span(range)), msg)
}

/// Does a cibuildwheel selector match free-threaded identifiers?
fn selects_ft(sel: &str) -> bool {
    let b = sel.as_bytes();
    sel == "*"
        || sel.starts_with("cp3*") && !sel.contains("t-")
        || b.windows(2).enumerate().any(|(i, w)| {
            w == b"t-"
                && i > 0
                && (b[i - 1].is_ascii_digit() || b[i - 1] == b'?' || b[i - 1] == b'*')
        })
}

fn skips_ft(sel: &str) -> bool {
    sel != "*" && selects_ft(sel) && !sel.starts_with("cp3*")
}

/// Runs FT601–FT608 over the project's build files and sources.
pub fn check_build(
    build: &Builds,
    sources: &[ProjectFile],
    settings: &Settings,
    out: &mut Vec<Diagnostic>,
) {
    let modules = project::modules(build, sources, out);
    let any_declares = modules.iter().any(|m| m.declares);
    let mut new = Vec::new();
    limited_api(build, settings, &mut new);
    limited_api_in_sources(sources, &mut new);
    windows(build, &mut new);
    cibuildwheel(build, any_declares, &mut new);
    ci(build, &modules, &mut new);
    classifiers(build, &modules, &mut new);
    bindings::check(build, sources, &modules, &mut new);
    out.extend(new);
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

fn windows(build: &Builds, out: &mut Vec<Diagnostic>) {
    let defines = project::facts(build).any(|(_, f)| f.what == What::DefinesGilDisabled);
    if defines {
        return;
    }
    let setuptools_ext = project::facts(build).any(|(_, f)| {
        matches!(
            f.what,
            What::ExtensionBuild {
                backend: "setuptools",
                ..
            }
        )
    });
    if setuptools_ext {
        for (b, f) in project::facts(build) {
            let What::Requirement { name, spec } = &f.what else {
                continue;
            };
            if name == "setuptools" && version::pep440_caps_below(spec, &[75, 7, 0]) {
                out.push(
                    diag(&WINDOWS_GIL_DISABLED, b, f.range, format!("setuptools is pinned to `{spec}`, below 75.7.0, the first release that defines Py_GIL_DISABLED=1 on Windows for free-threaded interpreters"))
                        .with_help("allow setuptools>=75.7, or add (\"Py_GIL_DISABLED\", \"1\") to define_macros when sysconfig.get_config_var(\"Py_GIL_DISABLED\") is set on Windows"),
                );
            }
        }
    }
    let meson_ext = project::facts(build).any(|(_, f)| {
        matches!(
            f.what,
            What::ExtensionBuild {
                backend: "meson",
                ..
            }
        )
    });
    if meson_ext {
        for (b, f) in project::facts(build) {
            let What::Requirement { name, spec } = &f.what else {
                continue;
            };
            if name == "meson" && version::pep440_caps_below(spec, &[1, 5, 0]) {
                out.push(
                    diag(&WINDOWS_GIL_DISABLED, b, f.range, format!("meson is pinned to `{spec}`, below 1.5.0, the first release that adds -DPy_GIL_DISABLED on Windows for free-threaded interpreters"))
                        .with_help("allow meson>=1.5"),
                );
            }
        }
    }
    if let Some((b, f)) = project::facts(build).find(|(_, f)| {
        matches!(
            f.what,
            What::ExtensionBuild {
                custom_cmake: true,
                ..
            }
        )
    }) {
        out.push(
            diag(&WINDOWS_GIL_DISABLED, b, f.range, "this CMake target is a hand-made Python module and no CMake file defines Py_GIL_DISABLED: on Windows a free-threaded build would use the GIL build's ABI and crash on import")
                .with_confidence(Confidence::Likely)
                .with_help("when the interpreter's sysconfig says Py_GIL_DISABLED, add target_compile_definitions(<target> PRIVATE Py_GIL_DISABLED=1) on Windows"),
        );
    }
}

fn cibuildwheel(build: &Builds, any_declares: bool, out: &mut Vec<Diagnostic>) {
    let mut builds = Vec::new();
    for (b, f) in project::facts(build) {
        match &f.what {
            What::CibwSkip(sel) if skips_ft(sel) => out.push(
                diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel skip selector `{sel}` excludes free-threaded wheels"))
                    .with_help("remove it once the modules are ported; cibuildwheel 3.1+ builds cp314t by default"),
            ),
            What::CibwDeprecated { option, note } => {
                out.push(diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel option `{option}` is retired: {note}")))
            }
            What::CibwEnable(e) if e == "cpython-freethreading" => out.push(
                diag(&CIBUILDWHEEL, b, f.range, "`cpython-freethreading` is deprecated by cibuildwheel and only enables the experimental 3.13t builds")
                    .with_help("drop it and ship cp314t wheels (built by default since cibuildwheel 3.1)"),
            ),
            What::CibwBuild(sel) => builds.push((b, f, sel.as_str())),
            _ => {}
        }
    }
    if builds.is_empty() {
        if let Some((b, f, v)) = old_cibuildwheel(build).filter(|_| any_declares) {
            out.push(
                diag(&CIBUILDWHEEL, b, f.range, format!("pypa/cibuildwheel@{v} does not build free-threaded wheels by default (3.14t is built by default from cibuildwheel 3.1)"))
                    .with_help("upgrade the action to pypa/cibuildwheel@v3.1 or later"),
            );
        }
        return;
    }
    let has_313t = builds.iter().find(|(_, _, s)| s.contains("313t"));
    let has_314 = builds.iter().any(|(_, _, s)| {
        s.contains("314t")
            || s.contains("31?t")
            || *s == "*"
            || s.starts_with("cp3*")
            || s.starts_with("*t-")
    });
    if let Some((b, f, s)) = has_313t.filter(|_| !has_314) {
        out.push(
            diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel builds `{s}` but no 3.14t wheel: 3.13t free-threading was experimental"))
                .with_help("add cp314t-* to the build selector"),
        );
    }
    if any_declares && !builds.iter().any(|(_, _, s)| selects_ft(s)) {
        let (b, f, _) = builds[0];
        out.push(diag(&CIBUILDWHEEL, b, f.range, "the cibuildwheel build selector includes no free-threaded identifier although modules declare free-threading support"));
    }
}

/// A `pypa/cibuildwheel@vX` action older than 3.1, with its fact and version tag.
fn old_cibuildwheel(build: &Builds) -> Option<(&BuildFile, &crate::build::Fact, String)> {
    project::facts(build).find_map(|(b, f)| match &f.what {
        What::UsesCibuildwheel { version: Some(v) } => {
            let parsed = version::parse(v.trim_start_matches('v'))?;
            (parsed < vec![3, 1]).then(|| (b, f, v.clone()))
        }
        _ => None,
    })
}

fn ci_tests_ft(build: &Builds) -> Option<bool> {
    let mut any = false;
    for (_, f) in project::facts(build) {
        match &f.what {
            What::CiPython { version } => {
                any = true;
                if version.ends_with('t') {
                    return Some(true);
                }
            }
            What::CiFreeThreadedFlag => return Some(true),
            _ => {}
        }
    }
    any.then_some(false)
}

fn ci(build: &Builds, modules: &[Module], out: &mut Vec<Diagnostic>) {
    for (b, f) in project::facts(build) {
        if let What::CiGilOff { how } = &f.what {
            out.push(
                diag(&CI_GIL_FORCED_OFF, b, f.range, format!("`{how}` forces the GIL off, which hides any module that would re-enable it on import"))
                    .with_help("test without it and assert `not sys._is_gil_enabled()` after importing the package"),
            );
        }
    }
    if modules.is_empty() || ci_tests_ft(build) != Some(false) {
        return;
    }
    if let Some((b, f)) =
        project::facts(build).find(|(_, f)| matches!(f.what, What::CiPython { .. }))
    {
        out.push(
            diag(&CI_NO_FREE_THREADED, b, f.range, "no workflow tests on a free-threaded interpreter (no `3.13t`/`3.14t` version and no `freethreaded: true`)")
                .with_help("add 3.14t to the test matrix"),
        );
    }
}

fn classifiers(build: &Builds, modules: &[Module], out: &mut Vec<Diagnostic>) {
    if modules.is_empty() {
        return;
    }
    let declaring = modules.iter().filter(|m| m.declares).count();
    if project::facts(build).any(|(_, f)| f.what == What::ClassifiersUnknown) {
        return; // computed classifiers: cannot tell
    }
    let ft_cls = project::facts(build).find(|(_, f)| f.what == What::Classifiers { ft: true });
    if let Some((b, f)) = ft_cls {
        let missing: Vec<String> = modules
            .iter()
            .filter(|m| !m.declares)
            .map(|m| format!("`{}` ({})", m.name, m.kind.as_str()))
            .collect();
        if !missing.is_empty() {
            out.push(diag(&CLASSIFIER, b, f.range, format!("the Free Threading classifier is present but {} {} not declare free-threading support", missing.join(", "), if missing.len() == 1 { "does" } else { "do" })));
        }
        return;
    }
    if declaring < modules.len() || declaring == 0 {
        return;
    }
    let at = project::facts(build)
        .find(|(_, f)| matches!(f.what, What::Classifiers { .. }))
        .or_else(|| project::facts(build).find(|(_, f)| f.what == What::ProjectMetadata));
    if let Some((b, f)) = at {
        out.push(
            diag(&CLASSIFIER, b, f.range, "every module declares free-threading support but the metadata has no `Programming Language :: Python :: Free Threading` classifier")
                .with_help("add e.g. \"Programming Language :: Python :: Free Threading :: 2 - Beta\""),
        );
    }
}

/// The readiness summary: text for the text reporter and the same facts as JSON.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub json: serde_json::Value,
}

fn wheels(build: &Builds, diags: &[Diagnostic]) -> (&'static str, String) {
    if diags
        .iter()
        .any(|d| d.rule.code == "FT601" && d.severity == Severity::Error)
    {
        return (
            "no",
            "the limited API is requested unconditionally (FT601)".into(),
        );
    }
    let uses = project::facts(build).find_map(|(_, f)| match &f.what {
        What::UsesCibuildwheel { version } => Some(version.clone()),
        _ => None,
    });
    let Some(version) = uses else {
        return ("unknown", "no cibuildwheel configuration; wheels are built for whichever interpreter runs the build".into());
    };
    let skips =
        project::facts(build).any(|(_, f)| matches!(&f.what, What::CibwSkip(s) if skips_ft(s)));
    if skips {
        return ("no", "a cibuildwheel skip selector excludes them".into());
    }
    let builds: Vec<&str> = project::facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::CibwBuild(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    if !builds.is_empty() {
        return match builds.iter().find(|s| selects_ft(s)) {
            Some(s) => ("yes", format!("cibuildwheel builds `{s}`")),
            None => (
                "no",
                "the cibuildwheel build selector has no free-threaded identifier".into(),
            ),
        };
    }
    let old = version
        .as_deref()
        .and_then(|v| version::parse(v.trim_start_matches('v')))
        .is_some_and(|v| v < vec![3, 1]);
    if old {
        (
            "no",
            format!(
                "cibuildwheel {} does not build free-threaded wheels by default",
                version.unwrap_or_default()
            ),
        )
    } else {
        ("yes", "cibuildwheel 3.1+ builds cp314t by default".into())
    }
}

/// Builds the project summary, or `None` when the run found no module and no build file.
/// `declaration_findings` are the FT001/FT005/FT006 findings before selection and
/// suppressions; `diags` are the findings reported.
pub fn summarize(
    build: &Builds,
    sources: &[ProjectFile],
    declaration_findings: &[Diagnostic],
    diags: &[Diagnostic],
) -> Option<ProjectSummary> {
    let modules = project::modules(build, sources, declaration_findings);
    let build_files = build
        .iter()
        .filter(|(b, _)| {
            !matches!(
                b.kind,
                crate::build::BuildKind::Rust
                    | crate::build::BuildKind::Cython { .. }
                    | crate::build::BuildKind::Swig
            )
        })
        .count();
    if modules.is_empty() && build_files == 0 {
        return None;
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for g in Generator::ALL {
        let n = modules.iter().filter(|m| m.kind == g).count();
        if n > 0 {
            by_kind.insert(g.as_str(), n);
        }
    }
    let declaring = modules.iter().filter(|m| m.declares).count();
    let (wheel, wheel_why) = wheels(build, diags);
    let (ci, ci_why) = match ci_tests_ft(build) {
        Some(true) => (
            "yes",
            "a workflow uses a free-threaded interpreter".to_owned(),
        ),
        Some(false) => (
            "no",
            "workflows name Python versions, none free-threaded".to_owned(),
        ),
        None if build
            .iter()
            .any(|(b, _)| b.kind == crate::build::BuildKind::Workflow) =>
        {
            ("unknown", "workflows name no Python version".to_owned())
        }
        None => ("unknown", "no GitHub Actions workflow found".to_owned()),
    };
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    for d in diags {
        let fam = FAMILIES
            .iter()
            .find(|f| d.rule.code.starts_with(f.prefix))
            .map(|f| format!("{}xx {}", f.prefix, f.title))
            .unwrap_or_else(|| d.rule.code.to_owned());
        *families.entry(fam).or_default() += 1;
    }
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error && !d.rule.code.starts_with("FT6"))
        .collect();
    let mut notes = Vec::new();
    // Rule 7: a declaration is not evidence. Error-level findings of the families
    // that check thread safety (FT1xx–FT5xx), project-wide, once per declaring module
    // (with how many are in its own file); one line when many modules declare.
    let hazards: Vec<&&Diagnostic> = errors
        .iter()
        .filter(|d| {
            ["FT1", "FT2", "FT3", "FT4", "FT5"]
                .iter()
                .any(|p| d.rule.code.starts_with(p))
        })
        .collect();
    let declaring_modules: Vec<&project::Module> = modules.iter().filter(|m| m.declares).collect();
    if !hazards.is_empty() && !declaring_modules.is_empty() {
        let mut codes: Vec<&str> = hazards.iter().map(|d| d.rule.code).collect();
        codes.sort();
        codes.dedup();
        let own = |m: &project::Module| hazards.iter().filter(|d| d.path == m.path).count();
        if declaring_modules.len() <= 5 {
            for m in &declaring_modules {
                notes.push(format!(
                    "module `{}` ({}, {}) declares free-threading support, but the project still has {} error-level finding(s) ({}), {} in its own file: a declaration is not evidence of thread safety",
                    m.name,
                    m.kind.as_str(),
                    m.path.display(),
                    hazards.len(),
                    codes.join(", "),
                    own(m)
                ));
            }
        } else {
            let mut by_own: Vec<(usize, &project::Module)> = declaring_modules
                .iter()
                .map(|m| (own(m), *m))
                .filter(|(n, _)| *n > 0)
                .collect();
            by_own.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
            let most: Vec<String> = by_own
                .iter()
                .take(5)
                .map(|(n, m)| format!("`{}` {n}", m.name))
                .collect();
            notes.push(format!(
                "{} modules declare free-threading support, but the project still has {} error-level finding(s) ({}): a declaration is not evidence of thread safety{}",
                declaring_modules.len(),
                hazards.len(),
                codes.join(", "),
                if most.is_empty() { String::new() } else { format!("; most in the files of {}", most.join(", ")) }
            ));
        }
    }
    if sources
        .iter()
        .any(|pf| !pf.index.module_inits.is_empty() && !project::declaration_checked(pf))
    {
        notes.push("FT001 is not selected, so hand-written C/C++ modules were not checked and count as not declaring".to_owned());
    }
    let kinds = if by_kind.is_empty() {
        "none".to_owned()
    } else {
        by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::from("\nProject readiness for free-threaded Python:\n");
    text.push_str(&format!(
        "  extension modules: {} ({kinds}); {declaring} declare free-threading support\n",
        modules.len()
    ));
    text.push_str(&format!("  free-threaded wheels: {wheel} ({wheel_why})\n"));
    text.push_str(&format!(
        "  CI tests a free-threaded interpreter: {ci} ({ci_why})\n"
    ));
    let fam_text = if families.is_empty() {
        "none".to_owned()
    } else {
        families
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    text.push_str(&format!("  open findings by family: {fam_text}\n"));
    for n in &notes {
        text.push_str(&format!("  note: {n}\n"));
    }
    let json = json!({
        "text": text,
        "modules": modules.iter().map(|m| json!({"kind": m.kind.as_str(), "name": m.name, "path": m.path.display().to_string(), "declares_free_threading": m.declares})).collect::<Vec<_>>(),
        "modules_by_kind": by_kind,
        "declaring": declaring,
        "free_threaded_wheels": {"value": wheel, "reason": wheel_why},
        "ci_tests_free_threaded": {"value": ci, "reason": ci_why},
        "open_findings_by_family": families,
        "notes": notes,
    });
    Some(ProjectSummary { json })
}
