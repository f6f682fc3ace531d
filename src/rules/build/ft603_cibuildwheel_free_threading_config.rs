//! FT603: cibuildwheel configured to skip free-threaded wheels, or to build 3.13t only.

use crate::build::{version, BuildFile, Fact, What};
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rule::Severity;
use crate::rules::project;
use crate::rules::{FixAvailability, Rule};

use super::{diag, selects_ft, skip_excludes_built_ft, Builds};

pub static CIBUILDWHEEL: Rule = Rule {
    code: "FT603",
    name: "cibuildwheel-free-threading-config",
    severity: Severity::Warning,
    summary:
        "cibuildwheel skips free-threaded wheels, uses a retired option, or builds 3.13t only.",
    doc: r#"## What it does
Reads `[tool.cibuildwheel]` in `pyproject.toml` and `CIBW_*` variables in workflows:

- a `skip` selector that matches free-threaded identifiers (`cp313t-*`, `*t-*`, `cp31?t-*`);
- `free-threaded-support` / `CIBW_FREE_THREADED_SUPPORT`, which cibuildwheel 3 no longer
  accepts (it stops with an error for the variable);
- `enable = ["cpython-freethreading"]`, deprecated by cibuildwheel (the warning is
  present in 3.4.1, absent in 3.1.0) and needed only for the experimental 3.13t;
- a `build` selector that lists `cp313t` but not `cp314t`;
- `pypa/cibuildwheel@v2.x`/`v3.0` with no `build` selector while a module declares support
  (free-threaded wheels are built by default only from cibuildwheel 3.1);
- a `build` selector with no free-threaded identifier at all while a module declares
  free-threading support.

## Why is this bad?
Each of these silently ships no free-threaded wheel, or only one for 3.13t, which is
experimental, slower and misses later safety fixes; users on 3.14t then build from
source or cannot install.

## Example
```toml
[tool.cibuildwheel]
skip = ["cp313t-*", "pp*"]
```

## Use instead
```toml
[tool.cibuildwheel]
skip = ["pp*"]   # cibuildwheel 3.1+ builds cp314t by default
```

## References
- cibuildwheel options documentation (`build`, `skip`, `enable`); cibuildwheel 3.4.1
  `detect_warnings`/`detect_errors`.
- CPython PR #148893 (the howto stopped recommending `cpython-freethreading`).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &BuildContext, out: &mut Vec<Diagnostic>) {
    let any_declares = project::modules(ctx).iter().any(|m| m.declares);
    cibuildwheel(ctx.builds, any_declares, out);
}

fn cibuildwheel(build: &Builds, any_declares: bool, out: &mut Vec<Diagnostic>) {
    let mut builds = Vec::new();
    let build_sels: Vec<&str> = project::facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::CibwBuild(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for (b, f) in project::facts(build) {
        match &f.what {
            What::CibwSkip(sel) if skip_excludes_built_ft(sel, &build_sels) => out.push(
                diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel skip selector `{sel}` excludes free-threaded wheels"))
                    .with_help("remove it once the modules are ported; cibuildwheel 3.1+ builds cp314t by default"),
            ),
            What::CibwDeprecated { option, note } => {
                out.push(diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel option `{option}` is retired: {note}")))
            }
            What::CibwEnable(e) if e == "cpython-freethreading" => out.push(
                diag(&CIBUILDWHEEL, b, f.range, "`cpython-freethreading` is deprecated by cibuildwheel and only enables the experimental 3.13t builds")
                    .with_help("drop it and ship cp314t wheels (built by default since cibuildwheel 3.1)"),
            ),
            What::CibwBuild(sel) => builds.push((b, f, sel.as_str())),
            _ => {}
        }
    }
    if builds.is_empty() {
        if let Some((b, f, v)) = old_cibuildwheel(build).filter(|_| any_declares) {
            out.push(
                diag(&CIBUILDWHEEL, b, f.range, format!("pypa/cibuildwheel@{v} does not build free-threaded wheels by default (3.14t is built by default from cibuildwheel 3.1)"))
                    .with_help("upgrade the action to pypa/cibuildwheel@v3.1 or later"),
            );
        }
        return;
    }
    let has_313t = builds.iter().find(|(_, _, s)| s.contains("313t"));
    let has_314 = builds.iter().any(|(_, _, s)| {
        s.contains("314t")
            || s.contains("31?t")
            || *s == "*"
            || s.starts_with("cp3*")
            || s.starts_with("*t-")
    });
    if let Some((b, f, s)) = has_313t.filter(|_| !has_314) {
        out.push(
            diag(&CIBUILDWHEEL, b, f.range, format!("cibuildwheel builds `{s}` but no 3.14t wheel: 3.13t free-threading was experimental"))
                .with_help("add cp314t-* to the build selector"),
        );
    }
    if any_declares && !builds.iter().any(|(_, _, s)| selects_ft(s)) {
        let (b, f, _) = builds[0];
        out.push(diag(&CIBUILDWHEEL, b, f.range, "the cibuildwheel build selector includes no free-threaded identifier although modules declare free-threading support"));
    }
}

/// A `pypa/cibuildwheel@vX` action older than 3.1, with its fact and version tag.
fn old_cibuildwheel(build: &Builds) -> Option<(&BuildFile, &Fact, String)> {
    project::facts(build).find_map(|(b, f)| match &f.what {
        What::UsesCibuildwheel { version: Some(v) } => {
            let parsed = version::parse(v.trim_start_matches('v'))?;
            (parsed < vec![3, 1]).then(|| (b, f, v.clone()))
        }
        _ => None,
    })
}
