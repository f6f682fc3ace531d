//! FT806: the static declaration rules and the import disagree (found by [`crate::runtime::comparison`]).

use crate::rule::{FixAvailability, Rule, Severity};

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
