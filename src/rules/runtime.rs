//! FT8xx: what happens when a built module is imported under a real free-threaded
//! interpreter (`ftaudit verify`). Only the rule statics and their documentation live
//! here; the checks run in [`crate::runtime::verify`], one subprocess per import.

use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

pub static GIL_ENABLED_AT_IMPORT: Rule = Rule {
    code: "FT801",
    name: "gil-enabled-at-import",
    severity: Severity::Error,
    summary: "Importing the module turned the GIL back on in a free-threaded interpreter.",
    doc: r#"## What it does
Imports the module in a fresh free-threaded interpreter and reports when the GIL is enabled
afterwards. The finding quotes CPython's `RuntimeWarning` and names the module that caused
it, which is not always the one you asked for: when module `a` imports module `b` during its
initialisation and `b` has not declared support, the finding on `a` names `b` and the chain of
imports that led to it.

## Why is this bad?
When an extension module that has not declared free-threading support is loaded, CPython
switches the GIL on for the whole process, for the rest of its life. Everything keeps
working, so nothing fails: the program just runs with the GIL again, and the only trace is a
warning that is easy to miss among other output. One undeclared dependency silently undoes
the point of the free-threaded build.

## Example
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
    {0, NULL}
};
```

## Use instead
```c
static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};
```
Single-phase modules call `PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED)` after creating
the module. Declare support only after reviewing the module for thread safety
(`ftaudit check` finds the usual hazards).

## References
- Python HOWTO "C API Extension Support for Free Threading", section on module initialisation.
- `PYTHON_GIL` and `-X gil` in the CPython command-line documentation: `PYTHON_GIL=0` keeps
  the GIL off regardless, which is why `ftaudit verify` removes it from the environment of
  the interpreters it starts.
- Static counterparts: FT001, FT005, FT006.
"#,
    fix: FixAvailability::None,
};

pub static IMPORT_RAISED: Rule = Rule {
    code: "FT802",
    name: "import-raised",
    severity: Severity::Error,
    summary: "Importing the module raised an exception.",
    doc: r#"## What it does
Reports a module whose import ends with an exception in the free-threaded interpreter, with
the exception type and message and, when the exception came out of another module imported
along the way, the module it came from.

## Why is this bad?
A module that cannot be imported cannot be used. Some failures are specific to free-threaded
builds: CPython rejects a slot array with two `Py_mod_gil` entries with a `SystemError`, and
an extension may depend on a module that is not available for the free-threaded build.

## Example
```c
static PyModuleDef_Slot toast_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};
```

## Use instead
```c
static PyModuleDef_Slot toast_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};
```

## References
- Python HOWTO "C API Extension Support for Free Threading".
- Static counterpart of the duplicate slot: FT004.
"#,
    fix: FixAvailability::None,
};

pub static IMPORT_CRASHED: Rule = Rule {
    code: "FT803",
    name: "import-crashed",
    severity: Severity::Error,
    summary: "The interpreter died (a signal or an exit) while importing the module.",
    doc: r#"## What it does
Reports an import that ended the interpreter process: killed by a signal (`SIGSEGV`,
`SIGABRT`, ...) or exiting before the import finished. The finding names the module that was
being loaded at that moment and quotes CPython's fatal-error line when there is one.

## Why is this bad?
A crash at import usually means the binary does not match the interpreter: a module
compiled without `Py_GIL_DISABLED` (on Windows it must be defined by hand), against another
version's headers, or for the limited API, reads object headers with the wrong layout. It
can also be an initialisation bug that only shows when the GIL is off.

## Example
```c
static int crash_exec(PyObject *m) { abort(); }
```

## Use instead
Build the module for the free-threaded interpreter it runs on (the `t` suffix in its file
name, compiler flags from that interpreter's `sysconfig`) and fix the initialisation code.

## References
- Python HOWTO "C API Extension Support for Free Threading", sections on building and on
  the limited API.
"#,
    fix: FixAvailability::None,
};

pub static IMPORT_HUNG: Rule = Rule {
    code: "FT804",
    name: "import-hung",
    severity: Severity::Error,
    summary: "Importing the module did not finish within the time limit.",
    doc: r#"## What it does
Reports an import that was still running when `--timeout` expired, naming the module that
was being loaded. The process is killed.

## Why is this bad?
An import that never returns is usually a deadlock in initialisation code: waiting on a lock
or a thread that needs the GIL or another lock held by the importer. Free-threaded builds
change which locks exist and when they are held, so code that happened to work with the GIL
can block without it. A slow import (heavy computation at import time) looks the same; raise
`--timeout` to tell them apart.

## Example
```c
static int wait_exec(PyObject *m) {
    while (!ready) { /* another thread sets ready, but needs a lock we hold */ }
    return 0;
}
```

## Use instead
Do not wait for other threads during module initialisation; initialise lazily, or use
`PyMutex`/`PyOnceFlag`-style primitives that cooperate with the interpreter.

## References
- Python HOWTO "C API Extension Support for Free Threading".
"#,
    fix: FixAvailability::None,
};

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

pub static STATIC_RUNTIME_DISAGREEMENT: Rule = Rule {
    code: "FT806",
    name: "static-runtime-disagreement",
    severity: Severity::Warning,
    summary: "The source's declaration and what the built module does at import disagree.",
    doc: r#"## What it does
With `ftaudit verify --source DIR`, compares what the static declaration rules (FT0xx) say
each module will do in this interpreter's version with what its import did:

- the source declares support but the import re-enabled the GIL;
- the source does not declare support (FT001, FT005, FT006) but the GIL stayed disabled;
- the source has two `Py_mod_gil` slots (FT004) but the import did not fail, or the
  other way round.

Imports that crashed, hung or raised for another reason say nothing about the declaration
and are counted as not comparable; so are modules whose GIL was re-enabled by a module they
imported. Modules are matched by name (`PyInit_<name>`). When no init function of that
name is found but the import re-enabled the GIL and a source names the module as a string
(its `PyModuleDef` name), the finding points there: the init function is built by a macro
that the static rules cannot see, so `ftaudit check` is silent about the missing declaration.

## Why is this bad?
Either the binary is not built from this source (a stale build, another branch), or the
declaration is compiled out of the build that made the binary (a macro the static analysis
assumed set), or it sits on an init path the interpreter does not use. Whichever it is,
the shipped module does not do what its source says.

## Example
```c
#if PY_VERSION_HEX >= 0x030E0000   /* 3.14: the 3.13t build never sees the slot */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
```

## Use instead
```c
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
```
and rebuild the module from the source you checked.

## References
- FT001, FT004, FT005, FT006 (the static side) and FT801, FT802 (the runtime side).
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &GIL_ENABLED_AT_IMPORT,
    &IMPORT_RAISED,
    &IMPORT_CRASHED,
    &IMPORT_HUNG,
    &MODULE_NOT_LOADABLE,
    &STATIC_RUNTIME_DISAGREEMENT,
];
