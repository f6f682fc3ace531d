//! Helpers shared by the integration tests: the provisioned interpreters and the
//! fixtures' expectation markers.

#[allow(dead_code)]
pub mod markers;

use std::path::{Path, PathBuf};

/// The interpreter named by environment variable `var` (or the provisioning
/// script's default cache location `~/.cache/ftaudit/cpython/<default>`).
///
/// Tests that call this are `#[ignore = "needs …"]`, so a plain `cargo test` lists
/// them as ignored instead of passing them vacuously; `scripts/test.sh` runs them with
/// `--include-ignored`. Missing: with `FTAUDIT_REQUIRE_PYTHON=1` (scripts/test.sh,
/// .ci/run) the test fails; otherwise (an ignored test run by hand) it prints a
/// visible skip message and the caller returns early.
pub fn interpreter(var: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var_os(var).map(PathBuf::from).or_else(|| {
        let home = std::env::var_os("HOME")?;
        Some(
            Path::new(&home)
                .join(".cache/ftaudit/cpython")
                .join(default),
        )
    });
    match p.filter(|p| p.is_file()) {
        Some(p) => Some(p),
        None if std::env::var("FTAUDIT_REQUIRE_PYTHON").as_deref() == Ok("1") => {
            panic!("{var} is required (FTAUDIT_REQUIRE_PYTHON=1) but missing: run scripts/provision-python.sh")
        }
        None => {
            eprintln!(
                "SKIPPED: {var} not found; run scripts/provision-python.sh to enable this test"
            );
            None
        }
    }
}

/// The free-threaded CPython 3.13t.
#[allow(dead_code)]
pub fn free_threaded() -> Option<PathBuf> {
    interpreter("FTAUDIT_PYTHON_FT", "ft/bin/python3.13t")
}

/// The regular (GIL) CPython 3.13.
#[allow(dead_code)]
pub fn gil_build() -> Option<PathBuf> {
    interpreter("FTAUDIT_PYTHON_GIL", "gil/bin/python3.13")
}
