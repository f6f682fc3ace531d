//! FT901: a suppression comment that names no rule (produced by `src/suppress.rs`).

use crate::rule::Severity;
use crate::rules::{FixAvailability, Rule};

pub static INVALID_SUPPRESSION: Rule = Rule {
    code: "FT901",
    name: "invalid-suppression",
    severity: Severity::Warning,
    summary: "An `ftaudit: ignore[...]` comment names a code that is not a rule.",
    doc: r#"## What it does
Reports suppression comments (`// ftaudit: ignore[FT001]`) that name a code which is
not an ftaudit rule code or prefix.

## Why is this bad?
A misspelt code silences nothing, so the finding the comment was meant to silence
still appears — or, worse, a later rename of the intended rule goes unnoticed.

## Example
```c
PyObject *o = PyList_GetItem(list, 0);  // ftaudit: ignore[FT10I]
```

## Use instead
```c
PyObject *o = PyList_GetItem(list, 0);  // ftaudit: ignore[FT101] list is private here
```

## References
- `ftaudit rule --all` lists every code.
"#,
    fix: FixAvailability::None,
};
