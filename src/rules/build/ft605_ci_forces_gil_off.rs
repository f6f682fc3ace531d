//! FT605: CI forces the GIL off, hiding modules that would re-enable it.

use crate::build::What;
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

use super::diag;

pub static CI_GIL_FORCED_OFF: Rule = Rule {
    code: "FT605",
    name: "ci-forces-gil-off",
    severity: Severity::Warning,
    summary:
        "Tests run with PYTHON_GIL=0 or -X gil=0, which hides a module that re-enables the GIL.",
    doc: r#"## What it does
Finds `PYTHON_GIL: 0` in a workflow's environment and `PYTHON_GIL=0`, `-X gil=0` or
`-Xgil=0` in `run:` scripts and cibuildwheel test commands.

## Why is this bad?
Forcing the GIL off makes the interpreter ignore a module that does not declare
free-threading support: the tests pass with the GIL disabled while users, who do not
set the variable, get the GIL re-enabled on import (with only a warning). It is useful
while porting a dependency chain, but the test run then says nothing about whether
every module declares support.

## Example
```yaml
env:
  PYTHON_GIL: 0
```

## Use instead
Run the free-threaded job without it, and check that importing the package leaves
`sys._is_gil_enabled()` false.

## References
- CPython docs: `PYTHON_GIL` environment variable and `-X gil`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    for (b, f) in project::facts(ctx.builds) {
        let What::CiGilOff { how } = &f.what else {
            continue;
        };
        out.push(
            diag(&CI_GIL_FORCED_OFF, b, f.range, format!("`{how}` forces the GIL off, which hides any module that would re-enable it on import"))
                .with_help("test without it and assert `not sys._is_gil_enabled()` after importing the package"),
        );
    }
}
