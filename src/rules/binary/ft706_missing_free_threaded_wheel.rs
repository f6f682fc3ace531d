//! FT706 `missing-free-threaded-wheel`: A release has binary wheels for a CPython version (3.13+) but no free-threaded wheel for it.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static MISSING_FREE_THREADED_WHEEL: Rule = Rule {
    code: "FT706",
    name: "missing-free-threaded-wheel",
    severity: Severity::Info,
    summary: "A release has binary wheels for a CPython version (3.13+) but no free-threaded wheel for it.",
    doc: r#"## What it does
Treats the wheels of one folder as release sets (one per project and version) and
reports CPython versions from 3.13 on that have regular `cp3XY` wheels but no
`cp3XYt` wheel (and no `abi3t` wheel covering them), and releases that only ship
`abi3` wheels, which 3.13t and 3.14t cannot use.

## Why is this bad?
Users of the free-threaded interpreter fall back to building from the source
distribution, which usually fails for lack of a compiler or produces a build nobody
tested. This is informational: not every project is ready to ship free-threaded
wheels.

## Example
`pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl` without `pkg-1.0-cp313-cp313t-...`.

## Use instead
Add the free-threaded builds (cibuildwheel builds `cp313t-*` on request; 3.14t by
default).

## References
- py-free-threading.github.io, "Porting guide" and "CI setup".
"#,
    fix: FixAvailability::None,
};
