//! `ftaudit verify`: import each extension module in a fresh subprocess of a real
//! free-threaded CPython and turn what happened into exactly one verdict per import.
//!
//! The interpreter runs [`PROBE`] (`probe.py`), which wraps importlib's
//! `_load_unlocked` to record the tree of modules being loaded and captures warnings.
//! It writes one JSON event per line to a file as it goes, so a crash or a hang still
//! leaves the name of the module that was loading. `PYTHON_GIL` is removed from the
//! subprocesses' environment: with `PYTHON_GIL=0` the GIL is never re-enabled and every
//! module would pass.
//!
//! The work is split by stage: [`interpreter`](super::interpreter) (lookup and
//! inspection), [`targets`](super::targets) (what to import),
//! [`process`](super::process) (the subprocess), [`verdict`](super::verdict) (events to
//! verdict to finding) and [`comparison`](super::comparison) (`--source`). This module
//! runs them in order and summarises.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;
use serde_json::{json, Value};

pub use super::comparison::{compare, static_predictions, Comparison, Prediction, SourceModule};
pub use super::interpreter::{
    default_interpreter, environment_warnings, inspect, Interpreter, DEFAULT_INTERPRETERS,
};
use super::process::absolute;
pub use super::process::PROBE;
pub use super::targets::{discover_package, discover_paths, NotLoadable, Target};
pub use super::verdict::{diagnostic, verify_one, ImportChain, ModuleResult, Verdict};
use crate::check::FileProblem;
use crate::diagnostic::Diagnostic;

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
    // Before any thread starts: an interrupted run kills its imports and removes its
    // temporary folders.
    super::clean_up_on_signals();
    let python = match &opts.python {
        // A relative path would be resolved in the subprocess's own (temporary) folder; a
        // bare name is looked up on PATH.
        Some(p) if p.components().count() > 1 => absolute(p),
        Some(p) => p.clone(),
        None => default_interpreter()?,
    };
    let interp = inspect(&python, opts.timeout)?;
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
        discover_package(
            p,
            &interp,
            opts.timeout,
            &mut targets,
            &mut foreign,
            &mut out.problems,
        );
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
                    (None, Some(o)) if t.path == Path::new(&t.module) && o.is_file() => o,
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
