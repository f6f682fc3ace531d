//! `ftaudit verify`: import each extension module in a fresh subprocess of a real
//! free-threaded CPython and turn what happened into exactly one verdict per import.
//!
//! The interpreter runs [`PROBE`] (`probe.py`), which wraps importlib's
//! `_load_unlocked` to record the tree of modules being loaded and captures warnings.
//! It writes one JSON event per line to a file as it goes, so a crash or a hang still
//! leaves the name of the module that was loading. `PYTHON_GIL` is removed from the
//! subprocesses' environment: with `PYTHON_GIL=0` the GIL is never re-enabled and every
//! module would pass.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::check::{self, FileProblem};
use crate::config::Overrides;
use crate::diagnostic::{Diagnostic, Span};
use crate::rules::runtime::{
    GIL_ENABLED_AT_IMPORT, IMPORT_CRASHED, IMPORT_HUNG, IMPORT_RAISED, MODULE_NOT_LOADABLE,
    STATIC_RUNTIME_DISAGREEMENT,
};
use crate::source::index::FileIndex;
use crate::source::{Language, SourceFile};

/// The probe script run inside the interpreter under test.
pub const PROBE: &str = include_str!("probe.py");

/// Interpreters looked for on `PATH` when `--python` is not given, in this order.
pub const DEFAULT_INTERPRETERS: [&str; 2] = ["python3.14t", "python3.13t"];

/// How long the interpreter may take to describe itself.
const INFO_TIMEOUT: Duration = Duration::from_secs(60);

/// What `ftaudit verify` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The interpreter; `None` looks for [`DEFAULT_INTERPRETERS`] on `PATH`.
    pub python: Option<PathBuf>,
    /// Files or folders of built extension modules.
    pub paths: Vec<PathBuf>,
    /// Installed distributions whose extension modules are imported.
    pub packages: Vec<String>,
    /// Modules imported by dotted name.
    pub modules: Vec<String>,
    /// Sources to compare with (static FT0xx verdicts).
    pub source: Option<PathBuf>,
    pub timeout: Duration,
    pub jobs: usize,
}

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
    fn native_suffix(&self) -> &str {
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
pub fn inspect(python: &Path) -> Result<Interpreter, String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let run = run_probe(python, &["info"], tmp.path(), INFO_TIMEOUT)
        .map_err(|e| format!("{}: cannot run the interpreter: {e}", python.display()))?;
    let stdout = read_lossy(&run.stdout);
    let Some(info) = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
    else {
        let stderr = read_lossy(&run.stderr);
        return Err(format!(
            "{}: not a working Python interpreter ({}): {}",
            python.display(),
            describe_exit(run.status, run.timed_out),
            last_lines(&stderr, 3)
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
        let stderr = read_lossy(&run.stderr);
        let culprit = stderr
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

// ---------------------------------------------------------------------------
// Targets

/// One import to perform.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where findings point: the module's file, or its dotted name for `--module`.
    pub path: PathBuf,
    /// The dotted module name.
    pub module: String,
    /// Load from this file (folder and file targets); `None` imports by name.
    pub file: Option<PathBuf>,
    /// Put first on `sys.path` (the folder above the module's package; the current folder
    /// for `--module`).
    pub sys_path: Option<PathBuf>,
    /// Found only through the bare `.so` suffix: a shared library that is not a module
    /// is skipped instead of reported.
    pub bare_suffix: bool,
}

/// A file named like an extension module for another ABI.
#[derive(Debug, Clone)]
pub struct NotLoadable {
    pub path: PathBuf,
    pub module: String,
    pub reason: String,
}

/// What a file's name says about it.
enum FileKind {
    Module { stem: String, bare_suffix: bool },
    OtherAbi { stem: String, reason: String },
    NotAModule,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Classifies a file by its name against the interpreter's extension suffixes.
fn classify(name: &str, interp: &Interpreter) -> FileKind {
    let Some(dot) = name.find('.') else {
        return FileKind::NotAModule;
    };
    let (stem, suffix) = name.split_at(dot);
    if !is_identifier(stem) || !(suffix.ends_with(".so") || suffix.ends_with(".pyd")) {
        return FileKind::NotAModule;
    }
    let stem = stem.to_owned();
    let (major, minor, _) = interp.version;
    // 3.13t and 3.14t still list `.abi3.so`, but the stable ABI does not exist in
    // free-threaded builds before abi3t: such a module has the wrong object layout.
    if suffix.starts_with(".abi3.") && minor <= 14 {
        return FileKind::OtherAbi {
            stem,
            reason: format!(
                "is a stable-ABI (abi3) build, which free-threaded {major}.{minor}t cannot use even though it lists the suffix; \
                 build a `{}` module instead",
                interp.native_suffix()
            ),
        };
    }
    if interp.extension_suffixes.iter().any(|s| s == suffix) {
        return FileKind::Module {
            stem,
            bare_suffix: suffix == ".so" || suffix == ".pyd",
        };
    }
    let Some(what) = foreign_abi(suffix) else {
        return FileKind::NotAModule;
    };
    FileKind::OtherAbi {
        stem,
        reason: format!(
            "is built for {what}; this interpreter loads `{}`",
            interp.native_suffix()
        ),
    }
}

/// Describes a suffix of another interpreter (`.cpython-313-x86_64-linux-gnu.so`), or
/// `None` when the name does not look like an extension module's.
fn foreign_abi(suffix: &str) -> Option<String> {
    let middle = suffix.strip_prefix('.')?.rsplit_once('.')?.0;
    if middle == "abi3t" {
        return Some(
            "the free-threaded stable ABI (abi3t), which needs CPython 3.15t or later".into(),
        );
    }
    if middle == "abi3" {
        return Some("the stable ABI (abi3)".into());
    }
    if middle.starts_with("pypy") {
        return Some(format!("PyPy (`{middle}`)"));
    }
    let tag = middle
        .strip_prefix("cpython-")
        .or_else(|| middle.strip_prefix("cp"))?;
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 2 {
        return None;
    }
    let flags: String = tag[digits.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let version = format!("{}.{}", &digits[..1], &digits[1..]);
    let build = if flags.contains('t') {
        "free-threaded"
    } else {
        "with the GIL"
    };
    Some(format!("CPython {version} {build} (`{middle}`)"))
}

/// The dotted name of a module file and the folder that must be on `sys.path`:
/// parent folders with an `__init__.py` are packages.
fn dotted_name(file: &Path, stem: &str) -> (String, PathBuf) {
    let mut parts = vec![stem.to_owned()];
    let mut dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    while dir.join("__init__.py").is_file() {
        let Some(name) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| is_identifier(n))
        else {
            break;
        };
        parts.push(name.to_owned());
        let Some(up) = dir.parent() else { break };
        dir = up.to_path_buf();
    }
    parts.reverse();
    (parts.join("."), dir)
}

/// Every file under `root` (not following links to folders; skipping hidden folders and caches).
fn walk(root: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<FileProblem>) {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            problems.push(FileProblem {
                path: root.to_path_buf(),
                message: format!("cannot read folder: {e}"),
                error: true,
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(meta) = fs::symlink_metadata(&child) else {
            continue;
        };
        if meta.is_dir() {
            if !name.starts_with('.') && name != "__pycache__" {
                walk(&child, out, problems);
            }
        } else {
            out.push(child);
        }
    }
}

/// Targets from files and folders of built modules.
pub fn discover_paths(
    paths: &[PathBuf],
    interp: &Interpreter,
    targets: &mut Vec<Target>,
    foreign: &mut Vec<NotLoadable>,
    problems: &mut Vec<FileProblem>,
) {
    for root in paths {
        if !root.exists() {
            problems.push(FileProblem {
                path: root.clone(),
                message: "no such file or folder".into(),
                error: true,
            });
            continue;
        }
        let mut files = Vec::new();
        if root.is_dir() {
            walk(root, &mut files, problems);
        } else {
            files.push(root.clone());
        }
        let before = targets.len() + foreign.len();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match classify(&name, interp) {
                FileKind::Module { stem, bare_suffix } => {
                    let (module, sys_path) = dotted_name(&file, &stem);
                    targets.push(Target {
                        path: file.clone(),
                        module,
                        file: Some(file),
                        sys_path: Some(sys_path),
                        bare_suffix,
                    });
                }
                FileKind::OtherAbi { stem, reason } => {
                    let (module, _) = dotted_name(&file, &stem);
                    foreign.push(NotLoadable {
                        path: file,
                        module,
                        reason,
                    });
                }
                FileKind::NotAModule => {}
            }
        }
        if targets.len() + foreign.len() == before {
            problems.push(FileProblem {
                path: root.clone(),
                message: format!(
                    "no extension modules found (looked for {})",
                    interp.extension_suffixes.join(", ")
                ),
                error: true,
            });
        }
    }
}

/// Targets from the extension modules of an installed distribution.
pub fn discover_package(
    name: &str,
    interp: &Interpreter,
    targets: &mut Vec<Target>,
    foreign: &mut Vec<NotLoadable>,
    problems: &mut Vec<FileProblem>,
) {
    let problem = |message: String| FileProblem {
        path: PathBuf::from(name),
        message,
        error: true,
    };
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return problems.push(problem(format!("cannot create a temporary folder: {e}"))),
    };
    let run = match run_probe(&interp.path, &["package", name], tmp.path(), INFO_TIMEOUT) {
        Ok(r) => r,
        Err(e) => return problems.push(problem(format!("cannot run the interpreter: {e}"))),
    };
    let stdout = read_lossy(&run.stdout);
    let Some(doc) = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
    else {
        return problems.push(problem(format!(
            "could not list the distribution's files: {}",
            last_lines(&read_lossy(&run.stderr), 3)
        )));
    };
    if let Some(e) = doc["error"].as_str() {
        return problems.push(problem(e.to_owned()));
    }
    let before = targets.len() + foreign.len();
    for f in doc["files"].as_array().into_iter().flatten() {
        let (Some(relative), Some(path)) = (f["relative"].as_str(), f["path"].as_str()) else {
            continue;
        };
        let mut parts: Vec<&str> = relative.split('/').collect();
        let Some(file_name) = parts.pop() else {
            continue;
        };
        if !parts.iter().all(|p| is_identifier(p)) {
            continue; // vendored libraries (`pkg.libs/`) and data folders
        }
        let dotted = |stem: &str| {
            parts
                .iter()
                .copied()
                .chain([stem])
                .collect::<Vec<_>>()
                .join(".")
        };
        match classify(file_name, interp) {
            FileKind::Module { stem, bare_suffix } => targets.push(Target {
                path: PathBuf::from(path),
                module: dotted(&stem),
                file: None,
                sys_path: None,
                bare_suffix,
            }),
            FileKind::OtherAbi { stem, reason } => foreign.push(NotLoadable {
                path: PathBuf::from(path),
                module: dotted(&stem),
                reason,
            }),
            FileKind::NotAModule => {}
        }
    }
    if targets.len() + foreign.len() == before {
        problems.push(FileProblem {
            path: PathBuf::from(name),
            message: "the distribution has no extension modules".into(),
            error: false,
        });
    }
}

// ---------------------------------------------------------------------------
// Running the probe

struct ProbeRun {
    status: Option<ExitStatus>,
    timed_out: bool,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// Runs the probe with `args`, its output going to files in `dir`, killed after `timeout`.
/// It runs in the current folder (so relative `PYTHONPATH` entries work), but the probe
/// takes that folder off `sys.path` unless asked (`--module`).
fn run_probe(
    python: &Path,
    args: &[&str],
    dir: &Path,
    timeout: Duration,
) -> std::io::Result<ProbeRun> {
    let stdout = dir.join("stdout");
    let stderr = dir.join("stderr");
    let mut child = Command::new(python)
        .arg("-B")
        .arg("-c")
        .arg(PROBE)
        .args(args)
        .env_remove("PYTHON_GIL")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout)?)
        .stderr(fs::File::create(&stderr)?)
        .spawn()?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(ProbeRun {
                status: Some(status),
                timed_out: false,
                stdout,
                stderr,
            });
        }
        if start.elapsed() >= timeout {
            // Ask faulthandler (enabled by the probe) for every thread's Python stack, give it
            // a moment to write it, then kill.
            request_stack_dump(&child);
            let grace = Instant::now();
            while grace.elapsed() < STACK_DUMP_GRACE && child.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let status = child.wait().ok();
            return Ok(ProbeRun {
                status,
                timed_out: true,
                stdout,
                stderr,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// How long a timed-out import gets to print its stacks before it is killed.
const STACK_DUMP_GRACE: Duration = Duration::from_secs(2);

/// Sends SIGABRT, which faulthandler answers with every thread's Python stack on stderr.
#[cfg(unix)]
#[allow(unsafe_code)] // kill(2) has no safe wrapper in std; see the SAFETY note.
fn request_stack_dump(child: &std::process::Child) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused); no memory is shared.
    unsafe {
        libc::kill(pid, libc::SIGABRT);
    }
}

#[cfg(not(unix))]
fn request_stack_dump(_child: &std::process::Child) {}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn describe_exit(status: Option<ExitStatus>, timed_out: bool) -> String {
    if timed_out {
        return "did not answer in time".into();
    }
    let Some(status) = status else {
        return "stopped for an unknown reason".into();
    };
    if let Some(sig) = signal_of(status) {
        return format!("was killed by {}", signal_name(sig));
    }
    format!("exited with status {}", status.code().unwrap_or(-1))
}

#[cfg(unix)]
fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: ExitStatus) -> Option<i32> {
    None
}

/// `SIGABRT (signal 6)`.
fn signal_name(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 if cfg!(target_os = "linux") => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 if cfg!(target_os = "macos") => "SIGBUS",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {sig}"),
    };
    format!("{name} (signal {sig})")
}

// ---------------------------------------------------------------------------
// Verdicts

/// Where in the import tree something happened: the module and its importers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportChain {
    /// The module that was loading.
    pub module: String,
    /// Its importers, outermost first.
    pub importers: Vec<String>,
    /// Its file, when the probe saw it.
    pub origin: Option<String>,
}

impl ImportChain {
    /// "`inner` (imported by `outer`)" or "`spam`".
    fn describe(&self) -> String {
        if self.importers.is_empty() {
            return format!("`{}`", self.module);
        }
        let by: Vec<String> = self
            .importers
            .iter()
            .rev()
            .map(|m| format!("`{m}`"))
            .collect();
        format!("`{}` (imported by {})", self.module, by.join(" ← "))
    }
}

/// How one import ended. Exactly one per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The GIL stayed disabled.
    Ok,
    /// The GIL was enabled afterwards; `by` is the module that did it (if known).
    GilEnabled {
        by: Option<ImportChain>,
        warning: Option<String>,
    },
    /// The import raised; `gil_by` is set when the GIL had been re-enabled before.
    Raised {
        exc_type: String,
        message: String,
        raised_in: Option<ImportChain>,
        gil_by: Option<String>,
        /// The innermost traceback frame in a real file (`File "x.py", line 3, in <module>`).
        at: Option<String>,
    },
    /// The process died: a signal or an exit status.
    Crashed {
        how: String,
        loading: Option<ImportChain>,
        fatal: Option<String>,
    },
    /// Still running at the time limit.
    Hung {
        after: Duration,
        loading: Option<ImportChain>,
        /// Where Python code was waiting (innermost frame in a real file, per thread).
        waiting_at: Vec<String>,
    },
    /// The file is for another ABI; not imported.
    NotLoadable { reason: String },
    /// A shared library found by the bare `.so` suffix that is not a module.
    NotAModule,
}

impl Verdict {
    /// A short word for JSON output and summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::GilEnabled { .. } => "gil-enabled",
            Verdict::Raised { .. } => "raised",
            Verdict::Crashed { .. } => "crashed",
            Verdict::Hung { .. } => "hung",
            Verdict::NotLoadable { .. } => "not-loadable",
            Verdict::NotAModule => "not-a-module",
        }
    }
}

/// The events a probe wrote, and what they say.
struct Events {
    list: Vec<Value>,
}

impl Events {
    fn read(path: &Path) -> Events {
        // A crash can cut the last line short: lines that do not parse are dropped.
        let list = read_lossy(path)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        Events { list }
    }

    fn of(&self, kind: &str) -> impl Iterator<Item = &Value> {
        let kind = kind.to_owned();
        self.list
            .iter()
            .filter(move |e| e["event"].as_str() == Some(kind.as_str()))
    }

    fn origin_of(&self, module: &str) -> Option<String> {
        self.of("start")
            .find(|e| e["name"].as_str() == Some(module))
            .and_then(|e| e["origin"].as_str().map(str::to_owned))
    }

    fn chain(&self, module: &str, stack: &Value) -> ImportChain {
        let importers = strings(stack);
        ImportChain {
            module: module.to_owned(),
            importers,
            origin: self.origin_of(module),
        }
    }

    /// The modules still loading when the process stopped, innermost last.
    fn unfinished(&self) -> Option<ImportChain> {
        let mut stack: Vec<&str> = Vec::new();
        for e in &self.list {
            let Some(name) = e["name"].as_str() else {
                continue;
            };
            match e["event"].as_str() {
                Some("start") => stack.push(name),
                Some("end") => {
                    if let Some(i) = stack.iter().rposition(|m| *m == name) {
                        stack.truncate(i);
                    }
                }
                _ => {}
            }
        }
        let module = stack.pop()?;
        Some(ImportChain {
            module: module.to_owned(),
            importers: stack.iter().map(|s| (*s).to_owned()).collect(),
            origin: self.origin_of(module),
        })
    }

    /// CPython's warning that the GIL was enabled for a module, and that module.
    fn gil_warning(&self) -> Option<(String, ImportChain)> {
        self.of("warning").find_map(|e| {
            let message = e["message"].as_str()?;
            let module = gil_warning_module(message)?;
            // The stack at warning time ends with the module being loaded.
            let mut importers = strings(&e["stack"]);
            if importers.last() == Some(&module) {
                importers.pop();
            }
            let origin = self.origin_of(&module);
            Some((
                message.to_owned(),
                ImportChain {
                    module,
                    importers,
                    origin,
                },
            ))
        })
    }
}

const GIL_WARNING: &str = "has been enabled to load module '";

/// The module named by CPython's "GIL has been enabled to load module 'X'" warning.
fn gil_warning_module(message: &str) -> Option<String> {
    let at = message.find(GIL_WARNING)? + GIL_WARNING.len();
    Some(message[at..].split('\'').next()?.to_owned())
}

/// The GIL warning as printed on stderr, for when the probe's warning hook was bypassed
/// (a module that resets `warnings.showwarning`): the chain comes from the import events.
fn gil_warning_on_stderr(stderr: &str, events: &Events) -> Option<(String, ImportChain)> {
    let line = stderr.lines().find(|l| l.contains(GIL_WARNING))?;
    let module = gil_warning_module(line)?;
    let message = line
        .split_once("RuntimeWarning: ")
        .map_or(line, |(_, m)| m)
        .to_owned();
    let stack = events
        .of("start")
        .find(|e| e["name"].as_str() == Some(module.as_str()))
        .map(|e| e["stack"].clone())
        .unwrap_or(Value::Null);
    Some((message, events.chain(&module, &stack)))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The first sentence of CPython's warning (the rest says how to silence it).
fn first_sentence(message: &str) -> String {
    match message.find(". ") {
        Some(i) => message[..=i].to_owned(),
        None => message.to_owned(),
    }
}

/// Imports one target in a fresh interpreter and decides its verdict.
pub fn verify_one(
    interp: &Interpreter,
    target: &Target,
    timeout: Duration,
) -> (Verdict, Option<String>) {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            return (
                Verdict::Crashed {
                    how: format!("could not start: {e}"),
                    loading: None,
                    fatal: None,
                },
                None,
            )
        }
    };
    let events_path = tmp.path().join("events.jsonl");
    let file = target
        .file
        .as_ref()
        .map(|f| absolute(f).to_string_lossy().into_owned())
        .unwrap_or_default();
    let sys_path = target
        .sys_path
        .as_ref()
        .map(|p| absolute(p).to_string_lossy().into_owned())
        .unwrap_or_default();
    let events_arg = events_path.to_string_lossy().into_owned();
    let args = [
        "import",
        events_arg.as_str(),
        target.module.as_str(),
        file.as_str(),
        sys_path.as_str(),
    ];
    let run = match run_probe(&interp.path, &args, tmp.path(), timeout) {
        Ok(r) => r,
        Err(e) => {
            return (
                Verdict::Crashed {
                    how: format!("could not start the interpreter: {e}"),
                    loading: None,
                    fatal: None,
                },
                None,
            )
        }
    };
    let events = Events::read(&events_path);
    let origin = events
        .of("result")
        .last()
        .and_then(|r| r["origin"].as_str().map(str::to_owned))
        .or_else(|| events.origin_of(&target.module));
    (decide(&events, &run, target, timeout), origin)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn decide(events: &Events, run: &ProbeRun, target: &Target, timeout: Duration) -> Verdict {
    if run.timed_out {
        return Verdict::Hung {
            after: timeout,
            loading: events.unfinished(),
            waiting_at: waiting_frames(&read_lossy(&run.stderr)),
        };
    }
    let warning = events
        .gil_warning()
        .or_else(|| gil_warning_on_stderr(&read_lossy(&run.stderr), events));
    let Some(result) = events.of("result").last() else {
        let stderr = read_lossy(&run.stderr);
        let fatal = stderr
            .lines()
            .find(|l| l.starts_with("Fatal Python error"))
            .map(str::to_owned)
            .or_else(|| {
                let tail = last_lines(&stderr, 1);
                (!tail.is_empty()).then_some(tail)
            });
        return Verdict::Crashed {
            how: describe_exit(run.status, false),
            loading: events.unfinished(),
            fatal,
        };
    };
    if result["status"].as_str() == Some("raised") {
        let exc_type = result["exc_type"]
            .as_str()
            .unwrap_or("an exception")
            .to_owned();
        let message = result["exc_message"].as_str().unwrap_or("").to_owned();
        if target.bare_suffix
            && exc_type == "ImportError"
            && message.contains("does not define module export function")
        {
            return Verdict::NotAModule;
        }
        let raised_in = result["module"]
            .as_str()
            .map(|m| events.chain(m, &result["stack"]));
        let at = result["traceback"].as_str().and_then(innermost_frame);
        return Verdict::Raised {
            exc_type,
            message,
            raised_in,
            gil_by: warning.map(|(_, c)| c.module),
            at,
        };
    }
    if let Some((message, chain)) = warning {
        return Verdict::GilEnabled {
            by: Some(chain),
            warning: Some(message),
        };
    }
    if result["gil"].as_bool() == Some(true) {
        return Verdict::GilEnabled {
            by: None,
            warning: None,
        };
    }
    Verdict::Ok
}

/// The innermost frame of a formatted traceback that is in a real file (not importlib's
/// frozen modules, not the probe).
fn innermost_frame(traceback: &str) -> Option<String> {
    traceback
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("File \"") && !l.contains("File \"<"))
        .map(|l| l.trim().to_owned())
}

/// From faulthandler's dump of every thread (`Thread 0x… (most recent call first):`), the
/// innermost frame of each thread that is in a real file.
fn waiting_frames(stderr: &str) -> Vec<String> {
    // Per thread: its innermost frame in a real file, and the innermost one in another file
    // ("wait" in threading.py is more useful with the line of the module that called it).
    let mut threads: Vec<Vec<String>> = Vec::new();
    for line in stderr.lines() {
        if line.ends_with("(most recent call first):") {
            threads.push(Vec::new());
            continue;
        }
        let Some(frames) = threads.last_mut() else {
            continue;
        };
        let line = line.trim();
        if !line.starts_with("File \"") || line.starts_with("File \"<") {
            continue;
        }
        let file = line.split('"').nth(1);
        let other_file = frames.first().is_none_or(|f| f.split('"').nth(1) != file);
        if frames.len() < 2 && other_file {
            frames.push(line.to_owned());
        }
    }
    let mut out: Vec<String> = threads
        .into_iter()
        .filter(|f| !f.is_empty())
        .map(|f| f.join(" ← "))
        .collect();
    out.dedup();
    out.truncate(3);
    out
}

/// One target's result.
#[derive(Debug, Clone)]
pub struct ModuleResult {
    pub path: PathBuf,
    pub module: String,
    pub verdict: Verdict,
}

/// The chain, unless it is just the target itself (then the message says nothing more).
fn elsewhere<'a>(chain: Option<&'a ImportChain>, target: &str) -> Option<&'a ImportChain> {
    chain.filter(|c| c.module != target || !c.importers.is_empty())
}

/// The diagnostic for a verdict (`None` for a clean import).
pub fn diagnostic(r: &ModuleResult) -> Option<Diagnostic> {
    let m = &r.module;
    let d = match &r.verdict {
        Verdict::Ok | Verdict::NotAModule => return None,
        Verdict::GilEnabled { by: Some(by), warning } => {
            let quoted = warning.as_deref().map(|w| format!(": \"{}\"", first_sentence(w))).unwrap_or_default();
            let message = if by.module == *m {
                format!("importing `{m}` re-enabled the GIL{quoted}")
            } else {
                format!("importing `{m}` re-enabled the GIL: {} did it{quoted}", by.describe())
            };
            let mut help = format!(
                "once `{}` is thread-safe, declare `Py_MOD_GIL_NOT_USED` in it (`ftaudit check` on its sources shows where)",
                by.module
            );
            if let Some(origin) = by.origin.as_deref().filter(|_| by.module != *m) {
                help.push_str(&format!("; `{}` is {origin}", by.module));
            }
            Diagnostic::new(&GIL_ENABLED_AT_IMPORT, &r.path, None, message).with_help(help)
        }
        Verdict::GilEnabled { by: None, .. } => Diagnostic::new(
            &GIL_ENABLED_AT_IMPORT,
            &r.path,
            None,
            format!("the GIL was enabled after importing `{m}`, but no warning named the module that did it"),
        )
        .with_help("a module imported along the way may have silenced warnings; import its dependencies one by one"),
        Verdict::Raised { exc_type, message, raised_in, gil_by, at } => {
            let first = message.lines().next().unwrap_or("");
            let place = match raised_in {
                Some(c) if c.module != *m => format!(" in {}", c.describe()),
                _ => String::new(),
            };
            let mut text = format!("importing `{m}` raised {exc_type}{place}: {first}");
            if let Some(g) = gil_by {
                text.push_str(&format!(" (before that, `{g}` had re-enabled the GIL)"));
            }
            let d = Diagnostic::new(&IMPORT_RAISED, &r.path, None, text);
            if message.contains("more than one 'gil' slot") {
                d.with_help("keep one `Py_mod_gil` entry in the slot array (FT004)")
            } else if let Some(at) = at {
                d.with_help(format!("raised at {at}"))
            } else {
                d.with_help(format!("run `python -c \"import {m}\"` with this interpreter for the full traceback"))
            }
        }
        Verdict::Crashed { how, loading, fatal } => {
            let place = elsewhere(loading.as_ref(), m).map(|c| format!(", in {}", c.describe())).unwrap_or_default();
            let d = Diagnostic::new(&IMPORT_CRASHED, &r.path, None, format!("the interpreter {how} while importing `{m}`{place}"));
            match fatal {
                Some(f) => d.with_help(format!("the interpreter said: {f}")),
                None => d,
            }
        }
        Verdict::Hung { after, loading, waiting_at } => {
            let place = elsewhere(loading.as_ref(), m).map(|c| format!("; it was loading {}", c.describe())).unwrap_or_default();
            Diagnostic::new(
                &IMPORT_HUNG,
                &r.path,
                None,
                format!("importing `{m}` did not finish within {} s{place}", after.as_secs_f64()),
            )
            .with_help(if waiting_at.is_empty() {
                "look for a wait on a lock or thread in its initialisation; raise --timeout if the import is only slow".to_owned()
            } else {
                format!("Python code was waiting at {}; raise --timeout if the import is only slow", waiting_at.join("; "))
            })
        }
        Verdict::NotLoadable { reason } => {
            let name = r.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| m.clone());
            Diagnostic::new(&MODULE_NOT_LOADABLE, &r.path, None, format!("`{name}` {reason}"))
                .with_help("rebuild the module with this interpreter (its compiler flags come from its sysconfig)")
        }
    };
    Some(d)
}

// ---------------------------------------------------------------------------
// Static verdicts (`--source`)

/// What the static declaration rules predict for a module on this interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prediction {
    /// Declares `Py_MOD_GIL_NOT_USED` for this build: the GIL stays disabled.
    GilStaysDisabled,
    /// Undeclared or `Py_MOD_GIL_USED` (FT001, FT005, FT006): the GIL is re-enabled.
    GilEnabled { code: &'static str },
    /// Two `Py_mod_gil` slots in this build (FT004): the import raises `SystemError`.
    Raises { code: &'static str },
}

/// A module found in the sources, with the static verdict and where it comes from.
#[derive(Debug, Clone)]
pub struct SourceModule {
    pub module: String,
    pub path: PathBuf,
    /// The `PyInit_*` name, or the finding that decided the prediction.
    pub span: Option<Span>,
    pub prediction: Prediction,
}

/// Runs the static declaration rules on `dir` and predicts each module's import for
/// `interp`, keyed by the module's name (the `PyInit_` suffix).
pub fn static_predictions(
    dir: &Path,
    interp: &Interpreter,
) -> Result<(BTreeMap<String, SourceModule>, check::CheckResult), String> {
    let ov = Overrides {
        select: Some(vec!["FT0".into()]),
        target_version: Some(format!("{}.{}", interp.version.0, interp.version.1)),
        ..Default::default()
    };
    let roots = check::resolve_settings(&[dir.to_path_buf()], &ov).map_err(|e| e.to_string())?;
    let result = check::run(&roots, &Default::default());
    let mut modules: BTreeMap<String, SourceModule> = BTreeMap::new();
    let mut modules_of_file: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (path, text) in &result.sources {
        let Some(lang) = Language::from_path(path) else {
            continue;
        };
        let file = SourceFile::from_text(path.clone(), lang, text.as_ref().clone(), false);
        let index = FileIndex::build(&file);
        for init in &index.module_inits {
            let name_range = index.functions[init.function].name_range;
            modules
                .entry(init.module.clone())
                .or_insert_with(|| SourceModule {
                    module: init.module.clone(),
                    path: path.clone(),
                    span: Some(file.span(name_range.0, name_range.1)),
                    prediction: Prediction::GilStaysDisabled,
                });
            modules_of_file
                .entry(path.clone())
                .or_default()
                .push(init.module.clone());
        }
    }
    let tag = interp.build_name();
    for d in &result.diagnostics {
        let prediction = match d.rule.code {
            "FT001" | "FT006" => Prediction::GilEnabled { code: d.rule.code },
            // FT005 lists the builds without a declaration after "not for" / "used for".
            "FT005" if missing_builds(&d.message).iter().any(|b| *b == tag) => {
                Prediction::GilEnabled { code: "FT005" }
            }
            "FT004" if d.message.ends_with(&format!("compiled for {tag}")) => {
                Prediction::Raises { code: "FT004" }
            }
            _ => continue,
        };
        // FT001/FT005 name their module; other findings apply to every module of the file.
        let named = d.module.clone();
        let names: Vec<String> = match named {
            Some(n) if modules.contains_key(&n) => vec![n],
            _ => modules_of_file.get(&d.path).cloned().unwrap_or_default(),
        };
        for name in names {
            let Some(m) = modules.get_mut(&name) else {
                continue;
            };
            // A failing import outranks a re-enabled GIL (it never gets that far).
            if matches!(m.prediction, Prediction::Raises { .. }) {
                continue;
            }
            m.prediction = prediction.clone();
            m.path = d.path.clone();
            m.span = d.span;
        }
    }
    Ok((modules, result))
}

/// The builds an FT005 message says are missing (`3.13t`, ...).
fn missing_builds(message: &str) -> Vec<&str> {
    let rest = message
        .split_once("but not for ")
        .or_else(|| message.split_once("(used for "))
        .map(|(_, r)| r)
        .unwrap_or("");
    rest.split([',', ' ', ')'])
        .filter(|s| !s.is_empty())
        .collect()
}

/// The first place a source names the module as a string (`"netifaces"`, its `m_name`).
fn mention_of_module(
    sources: &BTreeMap<PathBuf, Arc<String>>,
    module: &str,
) -> Option<(PathBuf, Span)> {
    let needle = format!("\"{module}\"");
    sources.iter().find_map(|(path, text)| {
        let at = text.find(&needle)?;
        let lines = crate::diagnostic::LineIndex::new(text);
        Some((path.clone(), lines.span(text, at, at + needle.len())))
    })
}

/// How a comparison came out, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    pub agreed: Vec<String>,
    pub disagreed: Vec<String>,
    /// Imported, but the verdict says nothing about the module's own declaration
    /// (crashed, hung, raised for another reason, or the GIL re-enabled by another module).
    pub not_compared: Vec<String>,
    /// Imported, but no `PyInit_` of that name in the sources.
    pub without_source: Vec<String>,
}

/// Compares static predictions with runtime verdicts; FT806 for each disagreement.
pub fn compare(
    predictions: &BTreeMap<String, SourceModule>,
    sources: &BTreeMap<PathBuf, Arc<String>>,
    results: &[ModuleResult],
    interp: &Interpreter,
    out: &mut Vec<Diagnostic>,
) -> Comparison {
    let mut cmp = Comparison::default();
    let tag = interp.build_name();
    for r in results {
        if matches!(r.verdict, Verdict::NotAModule | Verdict::NotLoadable { .. }) {
            continue;
        }
        let short = r.module.rsplit('.').next().unwrap_or(&r.module);
        let Some(src) = predictions.get(short) else {
            // The static rules saw no init function of that name. When the import
            // re-enabled the GIL and the sources do name the module, `check` missed it:
            // typically an init function generated by a macro (`MODULE_INIT(name)`).
            let reenabled = matches!(&r.verdict, Verdict::GilEnabled { by: Some(by), .. } if by.module == r.module);
            match mention_of_module(sources, short).filter(|_| reenabled) {
                Some((path, span)) => {
                    cmp.disagreed.push(r.module.clone());
                    out.push(
                        Diagnostic::new(
                            &STATIC_RUNTIME_DISAGREEMENT,
                            path,
                            Some(span),
                            format!(
                                "module `{short}`: importing {} re-enabled the GIL, but the static declaration rules found no \
                                 init function for it (`PyInit_{short}` is probably built by a macro), so `ftaudit check` \
                                 cannot report the missing declaration",
                                r.path.display()
                            ),
                        )
                        .with_help("declare `Py_MOD_GIL_NOT_USED` in the module once it is thread-safe"),
                    );
                }
                None => cmp.without_source.push(r.module.clone()),
            }
            continue;
        };
        let file = r.path.display();
        let own_gil = match &r.verdict {
            Verdict::Ok => Some(false),
            Verdict::GilEnabled { by: Some(by), .. } if by.module == r.module => Some(true),
            _ => None,
        };
        // CPython's own check of the slot array (`module X has more than one 'gil' slot`).
        let duplicate_slot = matches!(&r.verdict, Verdict::Raised { message, .. } if message.contains("more than one 'gil' slot"));
        let disagreement = match (&src.prediction, own_gil) {
            (Prediction::Raises { .. }, _) if duplicate_slot => None,
            (_, _) if duplicate_slot => Some(format!(
                "module `{short}`: importing {file} failed because its slot array has two `Py_mod_gil` entries, \
                 but the source has one for {tag}: the binary is not built from this source, or a macro the build \
                 defines adds the second"
            )),
            (Prediction::Raises { code }, Some(_)) => Some(format!(
                "module `{short}`: the source has two `Py_mod_gil` slots for {tag} ({code}), but importing {file} did not fail: \
                 the binary is not built from this source"
            )),
            (Prediction::GilStaysDisabled, Some(true)) => Some(format!(
                "module `{short}`: the source declares `Py_MOD_GIL_NOT_USED` for {tag}, but importing {file} re-enabled the GIL: \
                 the declaration is compiled out of that build or on an init path it does not use, or the binary is stale"
            )),
            (Prediction::GilEnabled { code }, Some(false)) => Some(format!(
                "module `{short}`: the source does not declare GIL-free support for {tag} ({code}), but importing {file} \
                 kept the GIL disabled: the binary is not built from this source, or the static finding is wrong"
            )),
            (_, None) => {
                cmp.not_compared.push(r.module.clone());
                continue;
            }
            _ => None,
        };
        let Some(message) = disagreement else {
            cmp.agreed.push(r.module.clone());
            continue;
        };
        cmp.disagreed.push(r.module.clone());
        out.push(
            Diagnostic::new(&STATIC_RUNTIME_DISAGREEMENT, &src.path, src.span, message)
                .with_help("rebuild the module from this source and run verify again; if they still disagree, the preprocessor branch the build takes differs from the one ftaudit assumed"),
        );
    }
    cmp
}

// ---------------------------------------------------------------------------
// The whole command

/// Everything `verify` found.
#[derive(Debug, Default)]
pub struct VerifyResult {
    pub interpreter: Option<Interpreter>,
    pub results: Vec<ModuleResult>,
    pub diagnostics: Vec<Diagnostic>,
    pub problems: Vec<FileProblem>,
    /// Source texts (with `--source`), for snippets.
    pub sources: BTreeMap<PathBuf, Arc<String>>,
    pub comparison: Option<Comparison>,
}

/// Runs `verify`. `Err` is for failures that stop everything (no usable interpreter).
pub fn run(opts: &Options) -> Result<VerifyResult, String> {
    let python = match &opts.python {
        // A relative path would be resolved in the subprocess's own (temporary) folder; a
        // bare name is looked up on PATH.
        Some(p) if p.components().count() > 1 => absolute(p),
        Some(p) => p.clone(),
        None => default_interpreter()?,
    };
    let interp = inspect(&python)?;
    let mut out = VerifyResult::default();
    for w in environment_warnings() {
        out.problems.push(FileProblem {
            path: python.clone(),
            message: w,
            error: false,
        });
    }
    let mut targets = Vec::new();
    let mut foreign = Vec::new();
    discover_paths(
        &opts.paths,
        &interp,
        &mut targets,
        &mut foreign,
        &mut out.problems,
    );
    for p in &opts.packages {
        discover_package(p, &interp, &mut targets, &mut foreign, &mut out.problems);
    }
    // Like `python -c "import NAME"`, a module by name is also looked for in the current folder.
    let cwd = std::env::current_dir().ok();
    for m in &opts.modules {
        targets.push(Target {
            path: PathBuf::from(m),
            module: m.clone(),
            file: None,
            sys_path: cwd.clone(),
            bare_suffix: false,
        });
    }
    let mut seen = HashSet::new();
    targets.retain(|t| seen.insert((t.path.clone(), t.module.clone())));

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
        .build()
        .map_err(|e| e.to_string())?;
    let imported: Vec<ModuleResult> = pool.install(|| {
        targets
            .par_iter()
            .map(|t| {
                let (verdict, origin) = verify_one(&interp, t, opts.timeout);
                // `--module` targets point at the module's file once the probe saw it.
                let path = match (&t.file, origin) {
                    (None, Some(o))
                        if t.path == Path::new(&t.module) && Path::new(&o).is_file() =>
                    {
                        PathBuf::from(o)
                    }
                    _ => t.path.clone(),
                };
                ModuleResult {
                    path,
                    module: t.module.clone(),
                    verdict,
                }
            })
            .collect()
    });
    out.results = imported;
    out.results
        .extend(foreign.into_iter().map(|f| ModuleResult {
            path: f.path,
            module: f.module,
            verdict: Verdict::NotLoadable { reason: f.reason },
        }));
    out.diagnostics = out.results.iter().filter_map(diagnostic).collect();

    if let Some(dir) = &opts.source {
        if !dir.exists() {
            out.problems.push(FileProblem {
                path: dir.clone(),
                message: "no such file or folder".into(),
                error: true,
            });
        } else {
            let (predictions, static_result) = static_predictions(dir, &interp)?;
            out.problems
                .extend(static_result.problems.iter().filter(|p| p.error).cloned());
            out.comparison = Some(compare(
                &predictions,
                &static_result.sources,
                &out.results,
                &interp,
                &mut out.diagnostics,
            ));
            out.sources = static_result.sources;
        }
    }
    out.diagnostics.sort_by_key(|d| d.sort_key());
    out.interpreter = Some(interp);
    Ok(out)
}

/// The JSON summary section (`verify`) and its text form.
pub fn summary_json(r: &VerifyResult) -> Value {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &r.results {
        *counts.entry(m.verdict.kind()).or_default() += 1;
    }
    let interp = r.interpreter.as_ref();
    let version = interp
        .map(|i| format!("{}.{}.{}", i.version.0, i.version.1, i.version.2))
        .unwrap_or_default();
    let python = interp
        .map(|i| i.path.display().to_string())
        .unwrap_or_default();
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let mut text = format!(
        "Imported with {python} (CPython {version}, free-threaded): {}",
        parts.join(", ")
    );
    if let Some(c) = &r.comparison {
        text.push_str(&format!(
            "\nStatic and runtime verdicts: {} agree, {} disagree, {} not comparable, {} without source",
            c.agreed.len(),
            c.disagreed.len(),
            c.not_compared.len(),
            c.without_source.len()
        ));
    }
    let modules: Vec<Value> = r
        .results
        .iter()
        .map(|m| {
            let by = match &m.verdict {
                Verdict::GilEnabled { by: Some(c), .. } => json!(c.module),
                Verdict::Raised { raised_in: Some(c), .. } => json!(c.module),
                Verdict::Crashed { loading: Some(c), .. } | Verdict::Hung { loading: Some(c), .. } => json!(c.module),
                _ => Value::Null,
            };
            json!({"module": m.module, "path": m.path.display().to_string(), "verdict": m.verdict.kind(), "by": by})
        })
        .collect();
    let comparison = r.comparison.as_ref().map(|c| {
        json!({"agreed": c.agreed, "disagreed": c.disagreed, "not_compared": c.not_compared, "without_source": c.without_source})
    });
    json!({
        "interpreter": {"path": python, "version": version},
        "modules": modules,
        "verdicts": counts,
        "static_comparison": comparison,
        "text": text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interp(minor: u32) -> Interpreter {
        let tag = format!("cpython-3{minor}t-x86_64-linux-gnu");
        Interpreter {
            path: PathBuf::from("python"),
            version: (3, minor, 0),
            extension_suffixes: vec![format!(".{tag}.so"), ".abi3.so".into(), ".so".into()],
        }
    }

    #[test]
    fn classifies_suffixes() {
        let i = interp(13);
        assert!(matches!(
            classify("spam.cpython-313t-x86_64-linux-gnu.so", &i),
            FileKind::Module {
                bare_suffix: false,
                ..
            }
        ));
        assert!(matches!(
            classify("spam.so", &i),
            FileKind::Module {
                bare_suffix: true,
                ..
            }
        ));
        let FileKind::OtherAbi { reason, .. } =
            classify("spam.cpython-313-x86_64-linux-gnu.so", &i)
        else {
            panic!()
        };
        assert!(reason.contains("CPython 3.13 with the GIL"), "{reason}");
        let FileKind::OtherAbi { reason, .. } =
            classify("spam.cpython-314t-x86_64-linux-gnu.so", &i)
        else {
            panic!()
        };
        assert!(reason.contains("CPython 3.14 free-threaded"), "{reason}");
        assert!(matches!(
            classify("spam.abi3.so", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("spam.abi3t.so", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("spam.cp313-win_amd64.pyd", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("libfoo-1a2b.so", &i),
            FileKind::NotAModule
        ));
        assert!(matches!(classify("libfoo.so.1", &i), FileKind::NotAModule));
        assert!(matches!(classify("spam.c", &i), FileKind::NotAModule));
        // 3.15t loads abi3t, not abi3.
        let mut j = interp(15);
        j.extension_suffixes.insert(1, ".abi3t.so".into());
        j.extension_suffixes.retain(|s| s != ".abi3.so");
        assert!(matches!(
            classify("spam.abi3t.so", &j),
            FileKind::Module { .. }
        ));
        assert!(matches!(
            classify("spam.abi3.so", &j),
            FileKind::OtherAbi { .. }
        ));
    }

    #[test]
    fn reads_the_gil_warning_and_the_chain() {
        let lines = [
            r#"{"event": "start", "name": "outer", "origin": "/x/outer.so", "stack": []}"#,
            r#"{"event": "start", "name": "inner", "origin": "/x/inner.so", "stack": ["outer"]}"#,
            r#"{"event": "warning", "category": "RuntimeWarning", "message": "The global interpreter lock (GIL) has been enabled to load module 'inner', which has not declared that it can run safely without the GIL. To override", "stack": ["outer", "inner"]}"#,
            r#"{"event": "end", "name": "inner", "gil": null}"#,
        ];
        let events = Events {
            list: lines
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        };
        let (_, chain) = events.gil_warning().expect("warning");
        assert_eq!(chain.module, "inner");
        assert_eq!(chain.importers, vec!["outer".to_owned()]);
        assert_eq!(chain.origin.as_deref(), Some("/x/inner.so"));
        assert_eq!(chain.describe(), "`inner` (imported by `outer`)");
        // `outer` never finished: a crash here happened while loading it.
        let unfinished = events.unfinished().expect("unfinished");
        assert_eq!(unfinished.module, "outer");
    }

    #[test]
    fn gil_warning_on_stderr_when_the_hook_was_bypassed() {
        let lines = [
            r#"{"event": "start", "name": "outer", "origin": "/x/outer.so", "stack": []}"#,
            r#"{"event": "start", "name": "inner", "origin": "/x/inner.so", "stack": ["outer"]}"#,
        ];
        let events = Events {
            list: lines
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
        };
        let stderr = "<frozen importlib._bootstrap>:488: RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module 'inner', which has not declared that it can run safely without the GIL. To override";
        let (message, chain) = gil_warning_on_stderr(stderr, &events).expect("warning");
        assert!(message.starts_with("The global interpreter lock"));
        assert_eq!(chain.describe(), "`inner` (imported by `outer`)");
    }

    #[test]
    fn waiting_frames_from_a_faulthandler_dump() {
        let dump = "Thread 0x00007f (most recent call first):\n  File \"/x/threading.py\", line 359 in wait\n  File \"/x/threading.py\", line 659 in wait\n  File \"/x/slow.py\", line 4 in <module>\n  File \"<frozen importlib._bootstrap>\", line 488 in _call\n\nThread 0x00007e (most recent call first):\n  File \"<string>\", line 3 in <module>\n";
        assert_eq!(
            waiting_frames(dump),
            vec![
                "File \"/x/threading.py\", line 359 in wait ← File \"/x/slow.py\", line 4 in <module>"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn ft005_missing_builds() {
        assert_eq!(
            missing_builds(
                "module `beans` declares GIL-free support for 3.14t, 3.15t but not for 3.13t"
            ),
            vec!["3.13t"]
        );
        assert_eq!(
            missing_builds("module `m` declares GIL-free support on another init path but not in `f` (used for 3.13t, 3.14t)"),
            vec!["3.13t", "3.14t"]
        );
    }

    #[test]
    fn first_sentence_quotes_up_to_the_advice() {
        let w = "The global interpreter lock (GIL) has been enabled to load module 'spam', which has not declared that it can run safely without the GIL. To override this behavior...";
        assert!(first_sentence(w).ends_with("without the GIL."));
    }
}
