//! Configuration: `[tool.ftaudit]` in `pyproject.toml`, or `ftaudit.toml`, found by
//! walking up from each path given on the command line; command-line options
//! override it. The result for one path is a [`Settings`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::Glob;
use serde::Deserialize;

use crate::rules::registry;
use crate::settings::build_globset;
pub use crate::settings::{Settings, TargetSource, DEFAULT_EXCLUDES};

/// The keys of `[tool.ftaudit]` (and of `ftaudit.toml`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Option<Vec<String>>,
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    pub target_version: Option<String>,
    /// `false` declares that instances of the extension's types are not meant to be
    /// shared between threads (NumPy's policy for arrays): per-object findings
    /// (FT406) become informational. Global-state rules are unaffected.
    pub objects_shared_between_threads: Option<bool>,
    /// `true`: check every C/C++ file, not only what the build's extension modules compile.
    pub all_sources: Option<bool>,
    /// Extension types whose instances are confined to one thread by design (one
    /// per thread by design, such as a sampler or tracer): the per-object rules skip them. Named
    /// by Python type name, `PyTypeObject`/`PyType_Spec` variable or object struct.
    pub thread_confined_types: Option<Vec<String>>,
    /// Where the cache lives (relative to the configuration file's folder); default
    /// `.ftaudit_cache` in the project root.
    pub cache_dir: Option<PathBuf>,
    /// `false` turns the cache off (as `--no-cache` does).
    pub cache: Option<bool>,
}

/// A configuration problem: always names the file and, where known, the key.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// Options given on the command line; they win over the configuration file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub extend_exclude: Vec<String>,
    pub target_version: Option<String>,
    pub config_file: Option<PathBuf>,
    pub isolated: bool,
    /// `--force-exclude`: the excludes also apply to paths named on the command line.
    pub force_exclude: bool,
    /// `--all-sources`: check every C/C++ file.
    pub all_sources: bool,
}

/// The most `exclude` + `extend-exclude` patterns a run accepts.
pub const MAX_EXCLUDES: usize = 10_000;

impl Settings {
    /// Settings for `path`: the nearest configuration file (unless isolated), then overrides.
    pub fn resolve(path: &Path, ov: &Overrides) -> Result<Settings, ConfigError> {
        let start = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        };
        let start = std::fs::canonicalize(&start).unwrap_or(start);
        let mut s = Settings::default();
        let mut config = Config::default();
        let mut requires: Option<(PathBuf, Option<u32>)> = None;
        if let Some(file) = &ov.config_file {
            config = load_config_file(file)?.unwrap_or_default();
            s.config_path = Some(file.clone());
            s.project_root = file
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
        } else if !ov.isolated {
            let mut dir = Some(start.as_path());
            while let Some(d) = dir {
                let pyproject = d.join("pyproject.toml");
                if requires.is_none() && pyproject.is_file() {
                    requires = Some((pyproject.clone(), read_requires_python(&pyproject)?));
                }
                let found = [d.join("ftaudit.toml"), pyproject]
                    .into_iter()
                    .filter(|f| f.is_file())
                    .find_map(|f| load_config_file(&f).transpose().map(|c| (f, c)));
                if let Some((f, c)) = found {
                    config = c?;
                    s.project_root = d.to_path_buf();
                    s.config_path = Some(f);
                    break;
                }
                dir = d.parent();
            }
            if s.config_path.is_none() {
                if let Some((p, _)) = &requires {
                    s.project_root = p.parent().map(Path::to_path_buf).unwrap_or_default();
                } else {
                    s.project_root = start.clone();
                }
            }
        }
        let cfg_path = s
            .config_path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<command line>"));
        let err = |m: String| ConfigError {
            path: cfg_path.clone(),
            message: m,
        };

        if let Some(sel) = ov.select.clone().or(config.select.clone()) {
            s.select = sel;
        }
        s.ignore = config.ignore.clone().unwrap_or_default();
        s.ignore.extend(ov.ignore.iter().cloned());
        for sel in s.select.iter().chain(&s.ignore) {
            // An empty selector is a prefix of every code: it would select everything.
            if sel.trim().is_empty() || !registry::is_known_selector(sel) {
                return Err(err(format!(
                    "`{sel}` is not a rule code or prefix (see `ftaudit rule --all`)"
                )));
            }
        }
        let mut excludes: Vec<String> = config
            .exclude
            .clone()
            .unwrap_or_else(|| DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect());
        excludes.extend(config.extend_exclude.clone().unwrap_or_default());
        excludes.extend(ov.extend_exclude.iter().cloned());
        // Each glob becomes a regular expression of a set compiled at once; 200,000
        // of them took 2 GB. No project needs a thousandth of the cap.
        if excludes.len() > MAX_EXCLUDES {
            return Err(err(format!(
                "exclude: {} patterns, more than the {MAX_EXCLUDES} ftaudit accepts",
                excludes.len()
            )));
        }
        s.exclude = build_globset(excludes.iter().map(String::as_str))
            .map_err(|m| err(format!("exclude: {m}")))?;
        for (glob, codes) in config.per_file_ignores.clone().unwrap_or_default() {
            let g = Glob::new(&glob)
                .map_err(|e| err(format!("per-file-ignores: bad glob `{glob}`: {e}")))?;
            for c in &codes {
                if c.trim().is_empty() || !registry::is_known_selector(c) {
                    return Err(err(format!(
                        "per-file-ignores.\"{glob}\": `{c}` is not a rule code or prefix"
                    )));
                }
            }
            s.per_file_ignores.push((g.compile_matcher(), codes));
        }
        s.force_exclude = ov.force_exclude;
        s.all_sources = ov.all_sources || config.all_sources.unwrap_or(false);
        if let Some(dir) = &config.cache_dir {
            s.cache_dir = Some(s.project_root.join(dir));
        }
        if let Some(cache) = config.cache {
            s.cache = cache;
        }
        if let Some(shared) = config.objects_shared_between_threads {
            s.objects_shared_between_threads = shared;
        }
        if let Some(types) = &config.thread_confined_types {
            s.thread_confined_types = types.clone();
        }
        if let Some(v) = &ov.target_version {
            s.target_minor = parse_target_version(v).ok_or_else(|| ConfigError {
                path: "<command line>".into(),
                message: format!("--target-version: `{v}` is not {TARGET_VERSIONS}"),
            })?;
            s.target_source = TargetSource::CommandLine;
        } else if let Some(v) = &config.target_version {
            s.target_minor = parse_target_version(v)
                .ok_or_else(|| err(format!("target-version: `{v}` is not {TARGET_VERSIONS}")))?;
            s.target_source = TargetSource::Config;
        } else if let Some((p, Some(minor))) = requires {
            // A minimum newer than any free-threaded build ftaudit knows is checked
            // against the newest it knows: taken as is, it left no build to check
            // and every finding disappeared.
            s.target_minor = minor.min(NEWEST_TARGET);
            s.target_source = TargetSource::RequiresPython(p);
        }
        Ok(s)
    }
}

/// The newest Python version ftaudit knows free-threaded builds of.
const NEWEST_TARGET: u32 = crate::source::preproc::FREE_THREADED_MINORS[2];

/// What `target-version` accepts, for messages. Versions before 3.13 are
/// minimums (they change which replacements the advice may use); versions after
/// the newest known are refused, since no build of them can be checked.
const TARGET_VERSIONS: &str = "a Python version from 3.6 to 3.15 (the project's minimum)";

/// `3.13`, `py313`, `313` → 13; `None` outside 3.6 to the newest known version.
pub fn parse_target_version(v: &str) -> Option<u32> {
    let v = v.trim().trim_start_matches("py").trim_start_matches("cp");
    let minor = if let Some(rest) = v.strip_prefix("3.") {
        rest.parse().ok()?
    } else if let Some(rest) = v.strip_prefix('3') {
        rest.parse().ok()?
    } else {
        return None;
    };
    (6..=NEWEST_TARGET).contains(&minor).then_some(minor)
}

/// Reads the ftaudit table of a config file; `Ok(None)` when a pyproject.toml has none.
fn load_config_file(path: &Path) -> Result<Option<Config>, ConfigError> {
    let err = |m: String| ConfigError {
        path: path.to_path_buf(),
        message: m,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let value: toml::Table =
        toml::from_str(&text).map_err(|e| err(format!("not valid TOML: {}", e.message())))?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let table = if is_pyproject {
        match value.get("tool").and_then(|t| t.get("ftaudit")) {
            Some(t) => t.clone(),
            None => return Ok(None),
        }
    } else {
        match value.get("tool").and_then(|t| t.get("ftaudit")) {
            Some(t) => t.clone(),
            None => toml::Value::Table(value),
        }
    };
    let prefix = if is_pyproject { "tool.ftaudit." } else { "" };
    // serde's type errors do not say where (`invalid type: integer, expected a
    // sequence`): try each key on its own to name the one at fault.
    if let toml::Value::Table(t) = &table {
        for (k, v) in t {
            let one = toml::Table::from_iter([(k.clone(), v.clone())]);
            if let Err(e) = toml::Value::Table(one).try_into::<Config>() {
                return Err(err(format!("{prefix}{k}: {}", e.message())));
            }
        }
    }
    table
        .try_into::<Config>()
        .map(Some)
        .map_err(|e| err(format!("{prefix}{}", e.message())))
}

/// The minimum minor version from `[project] requires-python`, if it states one.
fn read_requires_python(path: &Path) -> Result<Option<u32>, ConfigError> {
    let err = |m: String| ConfigError {
        path: path.to_path_buf(),
        message: m,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let value: toml::Table =
        toml::from_str(&text).map_err(|e| err(format!("not valid TOML: {}", e.message())))?;
    let Some(req) = value
        .get("project")
        .and_then(|p| p.get("requires-python"))
        .and_then(|r| r.as_str())
    else {
        return Ok(None);
    };
    Ok(min_minor_of_specifier(req))
}

/// `>=3.9`, `>3.8,<4`, `~=3.10` → the lowest 3.x minor allowed.
pub fn min_minor_of_specifier(spec: &str) -> Option<u32> {
    spec.split(',').find_map(|clause| {
        let c = clause.trim();
        let (op, ver) = [">=", "~=", "==", ">"]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|v| (*op, v.trim())))?;
        let mut parts = ver.split('.');
        (parts.next()? == "3").then_some(())?;
        let minor: u32 = parts.next()?.trim_end_matches('*').parse().ok()?;
        Some(if op == ">" && ver.split('.').count() == 2 {
            minor + 1
        } else {
            minor
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_target_version("3.13"), Some(13));
        assert_eq!(parse_target_version("py314"), Some(14));
        assert_eq!(parse_target_version("2.7"), None);
        assert_eq!(min_minor_of_specifier(">=3.9, <4"), Some(9));
        assert_eq!(min_minor_of_specifier(">3.9"), Some(10));
        assert_eq!(min_minor_of_specifier("<4"), None);
    }
}
