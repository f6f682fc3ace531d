//! FT703 `stable-abi-for-free-threaded`: A stable-ABI (abi3) binary is offered to a free-threaded interpreter that cannot load it, or an abi3t tag does not match the binary.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static STABLE_ABI_FOR_FREE_THREADED: Rule = Rule {
    code: "FT703",
    name: "stable-abi-for-free-threaded",
    severity: Severity::Error,
    summary: "A stable-ABI (abi3) binary is offered to a free-threaded interpreter that cannot load it, or an abi3t tag does not match the binary.",
    doc: r#"## What it does
- In a wheel tagged for a free-threaded interpreter (`cp313t`, `cp314t`, `cp315t`), finds
  members named `.abi3.so` or PE binaries linked against the stable-ABI `python3.dll`.
- In a wheel tagged `abi3t` (3.15, PEP 803), finds binaries whose imports show they
  were built against one version's headers (`_Py_Dealloc`, `_Py_DecRefShared`,
  `python315t.dll`), not the free-threaded stable ABI.

## Why is this bad?
Before 3.15 the free-threaded build has no stable ABI: `Python.h` refuses
`Py_LIMITED_API` there, and an `abi3` binary assumes the GIL build's object layout.
3.14t still lists `.abi3.so` among its extension suffixes, so such a file is found and
loaded — and misbehaves; 3.15t no longer looks for `.abi3.so` at all. An `abi3t` tag promises a binary that runs on every 3.15+
free-threaded interpreter, which a version-specific build does not.

## Example
`pkg-1.0-cp313-cp313t-linux_x86_64.whl` containing `pkg/_core.abi3.so`.

## Use instead
Build version-specific `cp313t`/`cp314t` wheels, and `abi3t` wheels only with
`Py_TARGET_ABI3T` on 3.15+.

## References
- CPython howto *C API Extension Support for Free Threading*, "Limited C API and Stable ABI".
- PEP 803 (abi3t) and the abi3t migration howto.
"#,
    fix: FixAvailability::None,
};
