//! FT701 `free-threaded-tag-on-gil-build`: A binary tagged or named for a free-threaded interpreter was compiled without `Py_GIL_DISABLED`.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static FT_TAG_ON_GIL_BUILD: Rule = Rule {
    code: "FT701",
    name: "free-threaded-tag-on-gil-build",
    severity: Severity::Error,
    summary: "A binary tagged or named for a free-threaded interpreter was compiled without `Py_GIL_DISABLED`.",
    doc: r#"## What it does
Reads the imports of each extension binary and compares them with what the wheel tag
(`cp313t`) or the file suffix (`.cpython-313t-...so`, `.cp313t-win_amd64.pyd`)
promises. A binary compiled with the regular headers imports `_Py_Dealloc` (the
inlined `Py_DECREF` calls it) and none of the free-threaded reference-count helpers;
on Windows it imports `python313.dll` instead of `python313t.dll`.

A binary that never decrefs anything carries no such evidence; then the build is
"unknown" and nothing is reported.

## Why is this bad?
The object layout differs between the two builds: code compiled for the GIL build
reads `ob_refcnt` where the free-threaded build keeps other fields, so it corrupts
reference counts or crashes. On Windows the module links the wrong DLL and fails to
import. This typically happens when a build system forgets to define
`Py_GIL_DISABLED=1` (MSVC builds with custom scripts) but the wheel is tagged `t`.

## Example
`spam.cp313t-win_amd64.pyd` importing from `python313.dll`; or
`spam.cpython-313t-x86_64-linux-gnu.so` importing `_Py_Dealloc`.

## Use instead
Build the free-threaded wheel with the free-threaded interpreter's own build
configuration (it defines `Py_GIL_DISABLED`), or pass `-DPy_GIL_DISABLED=1` on
Windows where `pyconfig.h` is shared.

## References
- CPython howto *C API Extension Support for Free Threading*, "Building Extensions for the Free-Threaded Build" and the Windows note on `Py_GIL_DISABLED`.
- `ftaudit wheel` reads imports with the `object` crate; see the README for the evidence table.
"#,
    fix: FixAvailability::None,
};
