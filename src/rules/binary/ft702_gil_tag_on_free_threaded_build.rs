//! FT702 `gil-tag-on-free-threaded-build`: A binary built with free-threaded headers is tagged or named for a GIL interpreter.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static GIL_TAG_ON_FT_BUILD: Rule = Rule {
    code: "FT702",
    name: "gil-tag-on-free-threaded-build",
    severity: Severity::Error,
    summary: "A binary built with free-threaded headers is tagged or named for a GIL interpreter.",
    doc: r#"## What it does
Finds binaries whose imports show free-threaded headers (`_Py_DecRefShared`,
`_Py_MergeZeroLocalRefcount`, `PyUnstable_Module_SetGIL`, the critical-section
functions, or `python313t.dll`) while their wheel tag (`cp313`) or suffix
(`.cpython-313-...so`) says they are for the regular build.

## Why is this bad?
A regular interpreter will load the module and the module will use the
free-threaded object layout on objects that do not have it. Imports of functions
the regular runtime does not export fail at load time, and the inlined
reference-count code corrupts memory in the rest.

## Example
`spam.cpython-313-x86_64-linux-gnu.so` importing `_Py_DecRefShared`.

## Use instead
Tag and name free-threaded builds `cp313t`; build the GIL wheel with the regular
interpreter.

## References
- CPython howto *C API Extension Support for Free Threading*, "Building Extensions for the Free-Threaded Build".
"#,
    fix: FixAvailability::None,
};
