//! FT707 `wheel-classifier-mismatch`: A release declares a free-threading classifier but ships no free-threaded wheel, or the reverse.
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

pub static CLASSIFIER_MISMATCH: Rule = Rule {
    code: "FT707",
    name: "wheel-classifier-mismatch",
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
