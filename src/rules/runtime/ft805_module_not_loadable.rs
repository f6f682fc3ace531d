//! FT805: a file named for another ABI, never imported (found by [`crate::runtime::verdict`]).

use crate::rule::{FixAvailability, Rule, Severity};

pub static MODULE_NOT_LOADABLE: Rule = Rule {
    code: "FT805",
    name: "module-not-loadable",
    severity: Severity::Warning,
    summary:
        "A built module's file name says it is for another ABI, so this interpreter cannot use it.",
    doc: r#"## What it does
Reports extension-module files whose suffix belongs to another interpreter: a GIL build
(`.cpython-313-x86_64-linux-gnu.so` next to a 3.13t interpreter), another version, another
platform, PyPy, or the stable ABI (`.abi3.so`) on a free-threaded 3.13 or 3.14, which cannot
use it. These files are not imported.

## Why is this bad?
The interpreter either ignores the file (and imports something else, or nothing) or, for
`.abi3.so` on 3.13t/3.14t, loads a binary built for another object layout. Either way the
free-threaded build of your package does not contain a usable module.

## Example
```text
build/spam.cpython-313-x86_64-linux-gnu.so     # built with python3.13, imported by python3.13t
```

## Use instead
```text
build/spam.cpython-313t-x86_64-linux-gnu.so    # built with python3.13t
```

## References
- Python HOWTO "C API Extension Support for Free Threading", sections on the limited API
  and on building (the `t` ABI suffix).
- `importlib.machinery.EXTENSION_SUFFIXES` lists what an interpreter loads.
"#,
    fix: FixAvailability::None,
};
