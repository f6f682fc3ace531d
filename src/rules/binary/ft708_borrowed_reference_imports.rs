//! FT708 `borrowed-reference-imports`: A free-threaded binary imports C-API functions that return borrowed references.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

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
