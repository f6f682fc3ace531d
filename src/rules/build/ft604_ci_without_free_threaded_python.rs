//! FT604: no CI workflow tests on a free-threaded interpreter.

use crate::build::What;
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

use super::{ci_tests_ft, diag};

pub static CI_NO_FREE_THREADED: Rule = Rule {
    code: "FT604",
    name: "ci-without-free-threaded-python",
    severity: Severity::Warning,
    summary: "No GitHub Actions workflow tests on a free-threaded interpreter.",
    doc: r#"## What it does
When the project has extension modules and its workflows name Python versions
(`python-version:` in a matrix or a setup step), reports the first one if none of them
is free-threaded (`3.13t`, `3.14t`, ...), no step sets `freethreaded: true`, and no `run:`
script installs a `t` interpreter.

## Why is this bad?
Thread-safety problems only show up on a free-threaded interpreter. A declaration
that is never tested is a guess.

## Example
```yaml
python-version: ["3.12", "3.13", "3.14"]
```

## Use instead
```yaml
python-version: ["3.12", "3.13", "3.14", "3.14t"]
```

## References
- Python free-threading guide, "Setting up CI".
"#,
    fix: FixAvailability::None,
};

/// Workflows name Python versions, none of them free-threaded, while the project
/// has extension modules.
pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let build = ctx.builds;
    if project::modules(ctx).is_empty() || ci_tests_ft(build) != Some(false) {
        return;
    }
    let Some((b, f)) = project::facts(build).find(|(_, f)| matches!(f.what, What::CiPython { .. }))
    else {
        return;
    };
    out.push(
        diag(&CI_NO_FREE_THREADED, b, f.range, "no workflow tests on a free-threaded interpreter (no `3.13t`/`3.14t` version and no `freethreaded: true`)")
            .with_help("add 3.14t to the test matrix"),
    );
}
