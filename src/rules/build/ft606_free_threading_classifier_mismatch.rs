//! FT606: the Free Threading classifier disagrees with the modules' declarations.

use crate::build::What;
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

use super::diag;

pub static CLASSIFIER: Rule = Rule {
    code: "FT606",
    name: "free-threading-classifier-mismatch",
    severity: Severity::Info,
    summary: "The Free Threading classifier is missing while modules declare support, or present while some do not.",
    doc: r#"## What it does
Compares the trove classifiers (`[project] classifiers`, `setup(classifiers=...)`,
`[metadata] classifiers`) with the modules found: reports a missing
`Programming Language :: Python :: Free Threading :: ...` classifier when every module
declares free-threading support, and a present one when some module does not.

## Why is this bad?
Users and tools read the classifier to decide whether a package is meant to work
without the GIL. A wrong classifier misleads them either way. This is information,
not an error.

## Example
```toml
classifiers = ["Programming Language :: Python :: 3.14"]
```

## Use instead
```toml
classifiers = [
  "Programming Language :: Python :: 3.14",
  "Programming Language :: Python :: Free Threading :: 2 - Beta",
]
```

## References
- PyPI trove classifiers, `Programming Language :: Python :: Free Threading`.
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let build = ctx.builds;
    let modules = project::modules(ctx);
    if modules.is_empty() {
        return;
    }
    let declaring = modules.iter().filter(|m| m.declares).count();
    if project::facts(build).any(|(_, f)| f.what == What::ClassifiersUnknown) {
        return; // computed classifiers: cannot tell
    }
    let ft_cls = project::facts(build).find(|(_, f)| f.what == What::Classifiers { ft: true });
    if let Some((b, f)) = ft_cls {
        let missing: Vec<String> = modules
            .iter()
            .filter(|m| !m.declares)
            .map(|m| format!("`{}` ({})", m.name, m.kind.as_str()))
            .collect();
        if !missing.is_empty() {
            out.push(diag(&CLASSIFIER, b, f.range, format!("the Free Threading classifier is present but {} {} not declare free-threading support", missing.join(", "), if missing.len() == 1 { "does" } else { "do" })));
        }
        return;
    }
    if declaring < modules.len() || declaring == 0 {
        return;
    }
    let at = project::facts(build)
        .find(|(_, f)| matches!(f.what, What::Classifiers { .. }))
        .or_else(|| project::facts(build).find(|(_, f)| f.what == What::ProjectMetadata));
    if let Some((b, f)) = at {
        out.push(
            diag(&CLASSIFIER, b, f.range, "every module declares free-threading support but the metadata has no `Programming Language :: Python :: Free Threading` classifier")
                .with_help("add e.g. \"Programming Language :: Python :: Free Threading :: 2 - Beta\""),
        );
    }
}
