//! FT7xx — built binaries: what `ftaudit wheel` finds in wheels and extension
//! binaries. The checks live in `crate::binary`; this file holds the rules and
//! their documentation.

use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

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

pub static BINARY_REENABLES_GIL: Rule = Rule {
    code: "FT705",
    name: "binary-reenables-gil",
    severity: Severity::Error,
    summary: "A module shipped for a free-threaded interpreter does not declare GIL-free support, so importing it re-enables the GIL.",
    doc: r#"## What it does
For each module entry point of a binary tagged or named for a free-threaded
interpreter:
- multi-phase (`PyInit_*` imports `PyModuleDef_Init`): finds the `PyModuleDef` whose
  `m_name` is the module's name, follows its `m_slots` pointer (through ELF dynamic
  relocations, PE addresses or Mach-O chained fixups) and reads the slot array for
  `{Py_mod_gil, Py_MOD_GIL_NOT_USED}`;
- single-phase (`PyModule_Create2`): checks that the binary imports
  `PyUnstable_Module_SetGIL`.

An explicit `Py_MOD_GIL_USED` is reported as a warning (it is a deliberate choice).
When the definition cannot be found (an `m_name` that is not the module's name,
arm64e authenticated pointers, 3.15 `PyModExport_*`) the answer is "unknown" and nothing
is reported; `--output-format json` lists it under `binaries`. For single-phase
modules the argument of `PyUnstable_Module_SetGIL` is not read.

## Why is this bad?
Importing a module without the declaration turns the GIL back on for the whole
process (with a `RuntimeWarning`), so the free-threaded wheel gives users no free
threading at all.

## Example
A `cp313t` wheel whose module's slot array is `{Py_mod_exec, exec}, {0, NULL}`.

## Use instead
Declare support in the source once the module is thread-safe (see FT001), and
rebuild.

## References
- CPython howto *C API Extension Support for Free Threading*, "Module Initialization".
- C API reference: `Py_mod_gil`, `PyUnstable_Module_SetGIL`.
"#,
    fix: FixAvailability::None,
};

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

pub static CLASSIFIER_MISMATCH: Rule = Rule {
    code: "FT707",
    name: "free-threading-classifier-mismatch",
    severity: Severity::Info,
    summary: "A release declares a free-threading classifier but ships no free-threaded wheel, or the reverse.",
    doc: r#"## What it does
In a release set, compares the `Programming Language :: Python :: Free Threading`
classifiers of the wheels' `METADATA` with the wheels themselves: a classifier with no
`t` (or `abi3t`) wheel, or `t` wheels and no classifier.

## Why is this bad?
The classifier is how users and dashboards find out whether a project supports free
threading. A classifier without wheels sends users to a source build; wheels without
the classifier hide the support. Informational.

## Example
`METADATA` with `Classifier: Programming Language :: Python :: Free Threading :: 2 - Beta`
but only `cp313-cp313` wheels.

## Use instead
Ship the wheels, or add (or drop) the classifier to match.

## References
- PyPI classifiers list, "Programming Language :: Python :: Free Threading".
"#,
    fix: FixAvailability::None,
};

pub static BORROWED_REFERENCE_IMPORTS: Rule = Rule {
    code: "FT708",
    name: "borrowed-reference-imports",
    severity: Severity::Info,
    summary: "A free-threaded binary imports C-API functions that return borrowed references.",
    doc: r#"## What it does
Lists the borrowed-reference C-API functions (`PyList_GetItem`, `PyDict_GetItem`,
`PyDict_Next`, `PyWeakref_GetObject`, ...) a free-threaded binary imports, with the
strong-reference replacement of each. It is a quick view of what to review in the
sources when only the wheel is at hand; macros such as `PyList_GET_ITEM` compile to
memory reads and cannot be seen this way.

## Why is this bad?
Without the GIL another thread can remove the item from the container and drop the
last reference while the borrowed pointer is still in use. Whether a given call is
safe depends on whether the container can be shared, which only the source shows —
hence informational (run `ftaudit check` on the source for the precise findings).

## Example
A `cp313t` binary importing `PyDict_GetItem`.

## Use instead
`PyDict_GetItemRef`, `PyList_GetItemRef`, `PyWeakref_GetRef`, ... (3.13).

## References
- CPython howto *C API Extension Support for Free Threading*, "Borrowed References".
"#,
    fix: FixAvailability::None,
};

pub static UNSAFE_WHEEL_ARCHIVE: Rule = Rule {
    code: "FT709",
    name: "unsafe-wheel-archive",
    severity: Severity::Error,
    summary: "A wheel member has an absolute or `..` path, or the archive decompresses past the size limits (a zip bomb).",
    doc: r#"## What it does
While reading a wheel (in memory, never extracting it), reports member names that
are absolute, start with a drive letter or contain a `..` component, and members or
archives whose uncompressed size is over the limits (`--max-member-size`,
`--max-total-size`; 256 MiB and 1 GiB by default). Oversized members are not read.

## Why is this bad?
An installer that extracts such a member writes outside the target folder; a
decompression bomb exhausts the disk or memory of whoever installs it. A correct
build backend never produces either, so the wheel was tampered with or built by a
broken tool.

## Example
A member named `../../.bashrc`, or a 20 KiB member that inflates to 10 GiB.

## Use instead
Rebuild the wheel with a standard build backend and check it before publishing.

## References
- The binary distribution format specification (installers must not write outside the target).
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &FT_TAG_ON_GIL_BUILD,
    &GIL_TAG_ON_FT_BUILD,
    &STABLE_ABI_FOR_FREE_THREADED,
    &SUFFIX_TAG_MISMATCH,
    &BINARY_REENABLES_GIL,
    &MISSING_FREE_THREADED_WHEEL,
    &CLASSIFIER_MISMATCH,
    &BORROWED_REFERENCE_IMPORTS,
    &UNSAFE_WHEEL_ARCHIVE,
];
