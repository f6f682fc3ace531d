//! FT804: the import did not finish within the time limit (found by [`crate::runtime::verdict`]).

use crate::rule::{FixAvailability, Rule, Severity};

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
