//! FT6xx — build configuration, CI and packaging (the howto's "Building
//! Extensions"), plus the project readiness summary printed after the findings.
//!
//! These rules read [`crate::build::BuildFile`] facts, not C syntax trees; they run
//! once per project (registered as `Check::Build`) because most questions ("does any
//! module declare support?", "does CI test 3.14t?") need every file. The project's
//! modules and whether each declares support are computed once per run by
//! [`crate::rules::project::modules`]. Binding-generator declarations are in
//! `rules::bindings`; the readiness summary is [`summary`].

use std::sync::Arc;

use crate::build::{BuildFile, What};
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;
use crate::rules::project;
use crate::settings::Settings;

pub mod ft601_limited_api_on_free_threaded_build;
pub mod ft602_windows_py_gil_disabled_undefined;
pub mod ft603_cibuildwheel_free_threading_config;
pub mod ft604_ci_without_free_threaded_python;
pub mod ft605_ci_forces_gil_off;
pub mod ft606_free_threading_classifier_mismatch;
pub mod summary;

pub use ft601_limited_api_on_free_threaded_build::LIMITED_API;
pub use ft602_windows_py_gil_disabled_undefined::WINDOWS_GIL_DISABLED;
pub use ft603_cibuildwheel_free_threading_config::CIBUILDWHEEL;
pub use ft604_ci_without_free_threaded_python::CI_NO_FREE_THREADED;
pub use ft605_ci_forces_gil_off::CI_GIL_FORCED_OFF;
pub use ft606_free_threading_classifier_mismatch::CLASSIFIER;
pub use summary::{summarize, ProjectSummary};

type Builds = [(BuildFile, Arc<Settings>)];

fn diag(
    rule: &'static Rule,
    b: &BuildFile,
    range: (usize, usize),
    msg: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(rule, &b.path, Some(b.span(range)), msg)
}

/// Does a cibuildwheel selector match free-threaded identifiers?
fn selects_ft(sel: &str) -> bool {
    let b = sel.as_bytes();
    sel == "*"
        || sel.starts_with("cp3*") && !sel.contains("t-")
        || b.windows(2).enumerate().any(|(i, w)| {
            w == b"t-"
                && i > 0
                && (b[i - 1].is_ascii_digit() || b[i - 1] == b'?' || b[i - 1] == b'*')
        })
}

fn skips_ft(sel: &str) -> bool {
    sel != "*" && selects_ft(sel) && !sel.starts_with("cp3*")
}

/// Free-threaded CPython builds cibuildwheel knows, and the usual platforms.
const FT_PYTHONS: [&str; 2] = ["cp313t", "cp314t"];
const PLATFORMS: [&str; 8] = [
    "manylinux_x86_64",
    "manylinux_aarch64",
    "musllinux_x86_64",
    "musllinux_aarch64",
    "win_amd64",
    "win_arm64",
    "macosx_arm64",
    "macosx_x86_64",
];

fn ft_identifiers() -> impl Iterator<Item = String> {
    FT_PYTHONS
        .iter()
        .flat_map(|p| PLATFORMS.iter().map(move |pl| format!("{p}-{pl}")))
}

/// Does a cibuildwheel selector (fnmatch-style) match `id`?
fn selector_matches(sel: &str, id: &str) -> bool {
    globset::Glob::new(sel).is_ok_and(|g| g.compile_matcher().is_match(id))
}

/// The free-threaded identifiers the build selectors build (every one when there is
/// no build selector: which are built by default depends on the cibuildwheel version
/// and `enable`).
fn built_ft_ids(builds: &[&str]) -> Vec<String> {
    ft_identifiers()
        .filter(|id| builds.is_empty() || builds.iter().any(|b| selector_matches(b, id)))
        .collect()
}

/// Does `skip` exclude a free-threaded wheel the build selectors would build? A skip
/// of `cp313t-*` beside `build = "cp314t-*"` excludes nothing that was built.
fn skip_excludes_built_ft(skip: &str, builds: &[&str]) -> bool {
    skips_ft(skip)
        && built_ft_ids(builds)
            .iter()
            .any(|id| selector_matches(skip, id))
}

/// Do the skip selectors exclude every free-threaded wheel the build selectors build?
fn skips_every_built_ft(skips: &[&str], builds: &[&str]) -> bool {
    let built = built_ft_ids(builds);
    !built.is_empty()
        && !skips.is_empty()
        && built
            .iter()
            .all(|id| skips.iter().any(|s| selector_matches(s, id)))
}

/// Does any workflow test on a free-threaded interpreter? `None` when no workflow
/// names a Python version.
fn ci_tests_ft(build: &Builds) -> Option<bool> {
    let mut any = false;
    for (_, f) in project::facts(build) {
        match &f.what {
            What::CiPython { version } => {
                any = true;
                if version.ends_with('t') {
                    return Some(true);
                }
            }
            What::CiFreeThreadedFlag => return Some(true),
            _ => {}
        }
    }
    any.then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_selectors_only_count_where_they_overlap_the_build() {
        assert!(!skip_excludes_built_ft("cp313t-*", &["cp314t-*"]));
        assert!(skip_excludes_built_ft("cp314t-*", &["cp314t-*"]));
        assert!(skip_excludes_built_ft("*t-*", &[]));
        assert!(skips_every_built_ft(
            &["*t-win*", "*t-*linux*", "*t-macos*"],
            &["cp314t-*"]
        ));
        assert!(!skips_every_built_ft(&["*t-win*"], &["cp314t-*"]));
    }
}
