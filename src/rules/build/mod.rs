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
