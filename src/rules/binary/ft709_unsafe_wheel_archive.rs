//! FT709 `unsafe-wheel-archive`: A wheel member has an absolute or `..` path, or the archive decompresses past the size limits (a zip bomb).
//!
//! Metadata only: `src/binary/` produces these findings (`ftaudit wheel`).

use crate::rule::{FixAvailability, Rule, Severity};

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
