//! FT602: a Windows free-threaded build that may not define `Py_GIL_DISABLED=1`.

use crate::build::{version, What};
use crate::context::BuildContext;
use crate::diagnostic::{Confidence, Diagnostic};
use crate::rule::Severity;
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

use super::diag;

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

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let build = ctx.builds;
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
