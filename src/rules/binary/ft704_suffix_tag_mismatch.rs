//! FT704 `suffix-tag-mismatch`: An extension suffix, a `WHEEL` tag line or `Requires-Python` disagrees with the wheel's tags.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static SUFFIX_TAG_MISMATCH: Rule = Rule {
    code: "FT704",
    name: "suffix-tag-mismatch",
    severity: Severity::Error,
    summary: "An extension suffix, a `WHEEL` tag line or `Requires-Python` disagrees with the wheel's tags.",
    doc: r#"## What it does
Compares, inside one wheel:
- each extension module's suffix (`.cpython-313t-...so`, `.cp314t-win_amd64.pyd`) with the
  CPython ABI tags of the file name;
- the `Tag:` lines of `*.dist-info/WHEEL` with the (expanded) file-name tags;
- the file name's CPython versions with `Requires-Python` from `METADATA`;
- an `.abi3t` suffix in a wheel for interpreters before 3.15;
- the Python DLL a Windows binary links (`python314t.dll`) with the version of its
  suffix or tag;
- each binary's format and architecture with the platform tags (an ELF file in a
  `win_amd64` wheel, x86_64 code in a `manylinux_2_17_aarch64` wheel).

## Why is this bad?
The interpreter only imports files whose suffix is one of its own
(`importlib.machinery.EXTENSION_SUFFIXES`): a `cpython-313t` module inside a `cp314t`
wheel installs fine and then fails with `ModuleNotFoundError`. Installers trust the
file name while other tools read `WHEEL`; when they disagree the wheel is treated
differently by each. A tag that `Requires-Python` excludes is never installed, and a
binary for another platform cannot be loaded at all.

## Example
`pkg-1.0-cp314-cp314t-linux_x86_64.whl` containing `pkg/_core.cpython-313t-x86_64-linux-gnu.so`.

## Use instead
Build each wheel with the interpreter it is tagged for, and let the build backend
write the tags.

## References
- PEP 427 / the binary distribution format specification (file name and `WHEEL`).
- PEP 3149 (ABI version tagged `.so` files).
"#,
    fix: FixAvailability::None,
};
