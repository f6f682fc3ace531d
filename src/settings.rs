//! The resolved settings for one path: which rules are selected, the minimum
//! Python version, excludes, and the project's declared sharing policy.
//!
//! A plain data type that rules read. Reading configuration files into it is
//! [`crate::config`]'s job, which sits above the rules (it validates selectors
//! against the registry); keeping the two apart keeps the layers acyclic.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::rule::Rule;

/// Where the minimum Python version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSource {
    CommandLine,
    Config,
    RequiresPython(PathBuf),
    Default,
}

/// Everything that decides what a check of one path does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The minimum Python 3 minor version the project supports.
    pub target_minor: u32,
    pub target_source: TargetSource,
    pub(crate) select: Vec<String>,
    pub(crate) ignore: Vec<String>,
    pub(crate) per_file_ignores: Vec<(globset::GlobMatcher, Vec<String>)>,
    pub exclude: GlobSet,
    /// The file the settings came from, if any.
    pub config_path: Option<PathBuf>,
    /// The folder relative paths and globs are taken from.
    pub project_root: PathBuf,
    /// `objects-shared-between-threads`: whether instances may be used from several
    /// threads at once (default `true`).
    pub objects_shared_between_threads: bool,
    /// `thread-confined-types`: extension types never shared between threads (by
    /// Python name, type variable or object struct); per-object rules skip them.
    pub thread_confined_types: Vec<String>,
    /// `--force-exclude`: paths named on the command line are excluded too (as ruff
    /// does), so that pre-commit, which names every staged file, honours `exclude`.
    pub force_exclude: bool,
    /// `--all-sources` / `all-sources = true`: check every C/C++ file, not only what
    /// the build's extension modules compile.
    pub all_sources: bool,
    /// `cache-dir`: where the cache lives (`None`: the project root's `.ftaudit_cache`).
    pub cache_dir: Option<PathBuf>,
    /// `cache = false` turns the cache off.
    pub cache: bool,
}

/// Folders never worth analysing: build output, environments, VCS metadata.
pub const DEFAULT_EXCLUDES: [&str; 16] = [
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "*.egg-info",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "_build",
    ".mypy_cache",
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            target_minor: 13,
            target_source: TargetSource::Default,
            select: vec!["ALL".into()],
            ignore: vec![],
            per_file_ignores: vec![],
            exclude: build_globset(DEFAULT_EXCLUDES.iter().copied())
                .unwrap_or_else(|_| GlobSet::empty()),
            config_path: None,
            project_root: PathBuf::from("."),
            objects_shared_between_threads: true,
            thread_confined_types: Vec::new(),
            force_exclude: false,
            all_sources: false,
            cache_dir: None,
            cache: true,
        }
    }
}

pub(crate) fn build_globset<'a>(
    pats: impl IntoIterator<Item = &'a str>,
) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in pats {
        b.add(Glob::new(p).map_err(|e| format!("bad glob `{p}`: {e}"))?);
        // `dir` also excludes everything below it.
        if !p.contains('/') {
            b.add(Glob::new(&format!("**/{p}")).map_err(|e| format!("bad glob `{p}`: {e}"))?);
        }
    }
    b.build().map_err(|e| e.to_string())
}

fn selector_len(sel: &str, code: &str) -> Option<usize> {
    if sel.eq_ignore_ascii_case("ALL") {
        return Some(0);
    }
    code.starts_with(&sel.to_ascii_uppercase())
        .then_some(sel.len())
}

impl Settings {
    /// Is `rule` selected for `path`? The most specific selector wins
    /// (`--select FT001 --ignore FT0` keeps FT001).
    pub fn rule_enabled(&self, rule: &Rule, path: &Path) -> bool {
        let best = |sels: &[String]| sels.iter().filter_map(|s| selector_len(s, rule.code)).max();
        let sel = best(&self.select);
        let mut ign = best(&self.ignore);
        if !self.per_file_ignores.is_empty() {
            ign = ign.max(self.per_file_ignored(path, rule));
        }
        match (sel, ign) {
            (Some(s), Some(i)) => s > i,
            (Some(_), None) => true,
            _ => false,
        }
    }

    fn per_file_ignored(&self, path: &Path, rule: &Rule) -> Option<usize> {
        let best = |sels: &[String]| sels.iter().filter_map(|s| selector_len(s, rule.code)).max();
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let rel = abs.strip_prefix(&self.project_root).unwrap_or(path);
        let rel = rel.strip_prefix("./").unwrap_or(rel);
        let mut ign = None;
        for (m, codes) in &self.per_file_ignores {
            if m.is_match(rel)
                || m.is_match(path)
                || path.file_name().is_some_and(|n| m.is_match(n))
            {
                ign = ign.max(best(codes));
            }
        }
        ign
    }

    /// Is `path` (below `root`) excluded by the settings?
    pub fn is_excluded(&self, path: &Path, root: &Path) -> bool {
        let rel = path.strip_prefix(root).unwrap_or(path);
        self.exclude.is_match(rel) || path.file_name().is_some_and(|n| self.exclude.is_match(n))
    }

    /// Is `path`, named on the command line, excluded? It is when the path itself or
    /// one of its folders below the project root (or in the path as written) matches an
    /// exclude (`build/x.c` is excluded by `build`), as if the walker had reached it.
    pub fn excludes_named_path(&self, path: &Path) -> bool {
        let abs = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => std::fs::canonicalize(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .map(|d| d.join(name))
            .or_else(|_| std::path::absolute(path)),
            _ => std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)),
        }
        .unwrap_or_else(|_| path.to_path_buf());
        let matches = |rel: &Path| {
            rel.ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| {
                    self.exclude.is_match(a)
                        || a.file_name().is_some_and(|n| self.exclude.is_match(n))
                })
        };
        // Relative to the project root, and as written (relative to the current folder),
        // since without a configuration file the root is the file's own folder.
        abs.strip_prefix(&self.project_root).is_ok_and(matches) || matches(path)
    }
}
