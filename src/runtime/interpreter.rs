//! The interpreter under test: finding it, asking it about itself, and refusing one
//! that cannot give a meaningful verdict (a GIL build, `-X gil=0`, a GIL already
//! enabled at start-up).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::process::{describe_exit, last_lines, run_probe};
use super::verdict::gil_warning_module;

/// Interpreters looked for on `PATH` when `--python` is not given, in this order.
pub const DEFAULT_INTERPRETERS: [&str; 2] = ["python3.14t", "python3.13t"];

/// A free-threaded interpreter, as it describes itself.
#[derive(Debug, Clone)]
pub struct Interpreter {
    pub path: PathBuf,
    pub version: (u32, u32, u32),
    /// `importlib.machinery.EXTENSION_SUFFIXES`.
    pub extension_suffixes: Vec<String>,
}

impl Interpreter {
    /// `3.13t`: the build tag static rules use for this interpreter.
    pub fn build_name(&self) -> String {
        format!("{}.{}t", self.version.0, self.version.1)
    }

    /// The suffix this interpreter's own extension modules carry (`.cpython-313t-...so`).
    pub(super) fn native_suffix(&self) -> &str {
        self.extension_suffixes
            .first()
            .map(String::as_str)
            .unwrap_or(".so")
    }
}

/// Finds the default interpreter on `PATH`.
pub fn default_interpreter() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in DEFAULT_INTERPRETERS {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "no free-threaded interpreter found: neither {} is on PATH; point at one with `--python PATH` \
         (for example --python ~/.cache/ftaudit/cpython/ft/bin/python3.13t, built by scripts/provision-python.sh)",
        DEFAULT_INTERPRETERS.join(" nor ")
    ))
}

/// Environment settings that would hide the result in the user's own runs.
pub fn environment_warnings() -> Vec<String> {
    let Some(value) = std::env::var_os("PYTHON_GIL") else {
        return vec![];
    };
    let value = value.to_string_lossy().into_owned();
    let effect = match value.as_str() {
        "0" => {
            "the GIL is never re-enabled, so modules that need it load without it and nothing warns"
        }
        "1" => "the GIL is always enabled, so no module can re-enable it",
        _ => "it overrides whether modules can re-enable the GIL",
    };
    vec![format!(
        "PYTHON_GIL={value} is set in this environment: {effect}. verify removes it from the interpreters it \
         starts, so the verdicts below are what happens without it"
    )]
}

/// Asks the interpreter about itself and checks that it is a usable free-threaded build.
/// It gets `timeout` to answer, like an import.
pub fn inspect(python: &Path, timeout: Duration) -> Result<Interpreter, String> {
    let run = run_probe(python, &[OsStr::new("info")], timeout)
        .map_err(|e| format!("{}: cannot run the interpreter: {e}", python.display()))?;
    if run.timed_out {
        return Err(format!(
            "{}: the interpreter did not describe itself within {} s (raise --timeout if it is only slow to start)",
            python.display(),
            timeout.as_secs_f64()
        ));
    }
    let Some(info) = run
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
    else {
        return Err(format!(
            "{}: not a working Python interpreter ({}): {}",
            python.display(),
            describe_exit(run.status, run.timed_out),
            last_lines(&run.stderr, 3)
        ));
    };
    let version: Vec<u32> = info["version"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default();
    let [major, minor, micro] = version[..] else {
        return Err(format!(
            "{}: the interpreter did not report its version",
            python.display()
        ));
    };
    if info["implementation"].as_str() != Some("cpython") {
        return Err(format!(
            "{}: not CPython ({}); verify needs a free-threaded CPython",
            python.display(),
            info["implementation"]
        ));
    }
    if info["gil_disabled_build"].as_u64() != Some(1) {
        return Err(format!(
            "{}: CPython {major}.{minor}.{micro} is not a free-threaded build (sysconfig Py_GIL_DISABLED is {}); \
             use python{major}.{minor}t or another build configured with --disable-gil",
            python.display(),
            info["gil_disabled_build"]
        ));
    }
    match info["xoption_gil"].as_str() {
        Some("0") => {
            return Err(format!(
                "{}: the interpreter runs with -X gil=0, so no module can re-enable the GIL and every import would pass; \
                 point --python at the interpreter itself, not a wrapper that adds -X gil",
                python.display()
            ))
        }
        Some(v) => {
            return Err(format!(
                "{}: the interpreter runs with -X gil={v}; verify needs the default (point --python at the interpreter itself)",
                python.display()
            ))
        }
        None => {}
    }
    if info["gil_enabled_at_start"].as_bool() == Some(true) {
        let culprit = run
            .stderr
            .lines()
            .find_map(gil_warning_module)
            .map(|m| format!(" (CPython's warning names `{m}`)"))
            .unwrap_or_default();
        return Err(format!(
            "{}: the GIL is already enabled when the interpreter starts{culprit}: a module imported at start-up by site, \
             sitecustomize or a .pth file re-enabled it, so verify cannot tell which of your modules re-enable it",
            python.display()
        ));
    }
    let extension_suffixes = info["extension_suffixes"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Interpreter {
        path: python.to_path_buf(),
        version: (major, minor, micro),
        extension_suffixes,
    })
}
