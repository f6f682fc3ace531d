//! Build scope: which C/C++ files the project's extension modules compile, the
//! headers those include, the files no extension compiles, and vendored trees.
//!
//! Plain data in, plain data out: the pipeline (`crate::scope`) hands in every
//! analysed C/C++ file with its `#include`s, and the build files; this module
//! matches the build's source lists ([`super::extensions`]) against those files,
//! follows includes through the include folders the build passes, and groups what
//! is left. Nothing here reads the C model or the rules.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use globset::GlobBuilder;
use serde::{Deserialize, Serialize};

use super::extensions::{self, ExtensionDecl, MesonAssign, SourceRef};
use super::{BuildFile, BuildKind};

/// One analysed C/C++ file as the scope sees it.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub path: PathBuf,
    /// `#include` names and whether they were quoted (`"x.h"`) rather than `<x.h>`.
    pub includes: Vec<(String, bool)>,
    /// Defines `main()` and no module init: a program, never an extension.
    pub program: bool,
}

/// An extension module declared by a build file, with the folder its paths are relative to.
#[derive(Debug, Clone)]
pub struct Declared {
    pub decl: ExtensionDecl,
    pub build_file: PathBuf,
    pub dir: PathBuf,
    /// CMake `add_library(... MODULE)`: the target name need not be the module's.
    pub custom_target: bool,
}

/// How the run chose the files it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScopeMode {
    /// Only what the build's extension modules compile (and the headers they include).
    Build,
    /// `--all-sources` / `all-sources = true`: every C/C++ file.
    AllSources,
    /// No build file declares extension sources ftaudit can read: every file but programs.
    NoBuild,
    /// Some declared module's sources could not be read (computed): every file but programs.
    Unresolved { modules: Vec<String> },
    /// Files were named on the command line (or several roots): each is checked.
    FilesNamed,
}

/// What one extension module compiles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleSources {
    pub name: String,
    pub build_file: String,
    pub sources: Vec<String>,
    pub headers: Vec<String>,
    /// Part of the source list is computed; every C/C++ file in the folders of the
    /// sources found counts as compiled.
    pub incomplete: bool,
}

/// Files in one folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FolderCount {
    pub folder: String,
    pub files: usize,
}

/// A vendored tree and what happened to its findings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VendoredTree {
    pub path: String,
    /// Why it counts as vendored (`third-party folder`, `git submodule`, `own licence`).
    pub why: String,
    pub files: usize,
    /// Of which compiled by an extension (checked, findings filtered).
    pub compiled: usize,
    /// Findings kept: in functions the project's own code calls.
    pub findings_reported: usize,
    /// Findings not reported: in code the project's own code does not call.
    pub findings_hidden: usize,
}

/// The scope part of the readiness summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopeSummary {
    pub mode: ScopeMode,
    /// Every module the build declares and the files it compiles.
    pub modules: Vec<ModuleSources>,
    /// C/C++ files checked.
    pub checked_files: usize,
    /// Files compiled by no extension (not checked unless `--all-sources`).
    pub uncompiled_files: usize,
    pub uncompiled_by_folder: Vec<FolderCount>,
    /// Files that define `main()` (programs: tests, tools, benchmarks), not checked.
    pub programs: Vec<String>,
    pub vendored: Vec<VendoredTree>,
    /// Findings not reported because their code is compiled only for Pythons without
    /// a free-threaded build (`#if PY_VERSION_HEX < 0x030D0000`, its `#else`...).
    pub version_branch_findings: usize,
    /// Checked files that did not parse cleanly: where, and in which functions.
    pub parse_errors: Vec<ParseProblem>,
    /// Headers of generated helper code (Cython's shared `__Pyx_` utility code), not checked.
    pub generated_helpers: usize,
}

/// A file that did not parse cleanly: the first error and the functions with errors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParseProblem {
    pub path: String,
    /// 1-based line and column of the first error.
    pub line: usize,
    pub column: usize,
    pub errors: usize,
    pub functions: Vec<FunctionProblem>,
}

/// A function that did not parse cleanly and its first error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionProblem {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// The outcome: the summary, the files to check, and the vendored tree of each file.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub summary: ScopeSummary,
    pub in_scope: HashSet<PathBuf>,
    /// File → index into `summary.vendored`.
    pub vendored: HashMap<PathBuf, usize>,
}

/// Folder names that hold third-party code.
pub const VENDOR_FOLDERS: [&str; 11] = [
    "extern",
    "external",
    "externals",
    "third_party",
    "third-party",
    "thirdparty",
    "3rdparty",
    "vendor",
    "vendored",
    "_vendor",
    "deps",
];

/// `a/./b/../c` → `a/c`, without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// More sources than one extension module of any real project lists (CPython's
/// largest has a few hundred): past it, the module's list counts as computed.
const MAX_MODULE_SOURCES: usize = 20_000;

/// Every extension module the build files declare.
pub fn declared_modules(builds: &[&BuildFile]) -> Vec<Declared> {
    let mut out = Vec::new();
    let dir_of = |b: &BuildFile| normalize(b.path.parent().unwrap_or(Path::new("")));
    for b in builds {
        for d in &b.extensions {
            out.push(Declared {
                decl: d.clone(),
                build_file: b.path.clone(),
                dir: dir_of(b),
                custom_target: false,
            });
        }
        if b.kind == BuildKind::SetupPy {
            out.extend(helper_modules(b, &dir_of(b)));
        }
    }
    // meson: variables from every meson file, with the folder that assigned them.
    // Each reader tokenizes its file again: only when some file declares a module.
    let mesons: Vec<&&BuildFile> = builds
        .iter()
        .filter(|b| b.kind == BuildKind::Meson)
        .collect();
    let mesons = if mesons.iter().any(|b| b.text.contains("extension_module")) {
        mesons
    } else {
        Vec::new()
    };
    let mut vars: HashMap<String, Vec<(MesonAssign, Option<String>)>> = HashMap::new();
    for b in &mesons {
        let dir = dir_of(b).display().to_string();
        for (k, vs) in extensions::meson_assignments(&b.text) {
            vars.entry(k)
                .or_default()
                .extend(vs.into_iter().map(|v| (v, Some(dir.clone()))));
        }
    }
    for b in &mesons {
        let lookup = |n: &str| vars.get(n).cloned();
        for d in extensions::meson(&b.calls, &lookup) {
            out.push(Declared {
                decl: d,
                build_file: b.path.clone(),
                dir: dir_of(b),
                custom_target: false,
            });
        }
    }
    // CMake: targets and variables across every CMake file (a superset: variables
    // of sibling folders are visible too).
    let declares_module = |t: &str| {
        let l = t.to_ascii_lowercase();
        l.contains("add_library") || l.contains("add_module")
    };
    let any_cmake_module = builds
        .iter()
        .any(|b| b.kind == BuildKind::CMake && declares_module(&b.text));
    let cmakes: Vec<(&&BuildFile, extensions::CMakeFacts)> = builds
        .iter()
        .filter(|b| b.kind == BuildKind::CMake && any_cmake_module)
        .map(|b| (b, extensions::cmake(&b.text, &b.calls)))
        .collect();
    let mut all_vars: HashMap<String, Vec<String>> = HashMap::new();
    for (_, f) in &cmakes {
        for (k, v) in &f.vars {
            all_vars
                .entry(k.clone())
                .or_default()
                .extend(v.iter().cloned());
        }
    }
    // target → (folder of the file that listed them, sources)
    let mut target_sources: HashMap<&str, Vec<(String, &str)>> = HashMap::new();
    let mut links: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut includes: HashMap<&str, Vec<(String, &str)>> = HashMap::new();
    for (b, f) in &cmakes {
        let dir = dir_of(b).display().to_string();
        for (t, srcs) in &f.target_sources {
            let e = target_sources.entry(t.as_str()).or_default();
            e.extend(srcs.iter().map(|s| (dir.clone(), s.as_str())));
        }
        for (t, l) in &f.links {
            links
                .entry(t.as_str())
                .or_default()
                .extend(l.iter().map(String::as_str));
        }
        for (t, l) in &f.target_includes {
            includes
                .entry(t.as_str())
                .or_default()
                .extend(l.iter().map(|s| (dir.clone(), s.as_str())));
        }
        for s in &f.dir_includes {
            includes
                .entry("")
                .or_default()
                .push((dir.clone(), s.as_str()));
        }
    }
    // A target declared twice is one module: resolving it again would only repeat
    // the same sources (and a file of thousands of nested declarations of one name,
    // which the fuzzer found, made this quadratic).
    let mut resolved_targets: HashSet<&str> = HashSet::new();
    for (b, f) in &cmakes {
        for (name, range) in &f.modules {
            if !resolved_targets.insert(name.as_str()) {
                continue;
            }
            let mut sources = Vec::new();
            let mut include_dirs = Vec::new();
            let mut complete = true;
            let mut stack = vec![name.as_str()];
            let mut seen = HashSet::new();
            while let Some(t) = stack.pop() {
                if !seen.insert(t) || seen.len() > 64 {
                    continue;
                }
                for (dir, s) in target_sources.get(t).into_iter().flatten() {
                    if sources.len() > MAX_MODULE_SOURCES {
                        // Past any real module's size: the list counts as computed.
                        complete = false;
                        break;
                    }
                    match extensions::cmake_expand(s, &all_vars, 0) {
                        Some(v) => sources.extend(v.into_iter().map(|p| SourceRef {
                            path: p,
                            base: Some(dir.clone()),
                        })),
                        None => complete = false,
                    }
                }
                for (dir, s) in includes.get(t).into_iter().flatten() {
                    if let Some(v) = extensions::cmake_expand(s, &all_vars, 0) {
                        include_dirs.extend(v.into_iter().map(|p| SourceRef {
                            path: p,
                            base: Some(dir.clone()),
                        }));
                    }
                }
                for l in links.get(t).into_iter().flatten() {
                    if target_sources.contains_key(l) {
                        stack.push(l);
                    }
                }
            }
            for (dir, s) in includes.get("").into_iter().flatten() {
                if let Some(v) = extensions::cmake_expand(s, &all_vars, 0) {
                    include_dirs.extend(v.into_iter().map(|p| SourceRef {
                        path: p,
                        base: Some(dir.clone()),
                    }));
                }
            }
            sources.retain(|s| !s.path.is_empty());
            let custom = b
                .text
                .get(range.0..range.1)
                .is_some_and(|n| n.eq_ignore_ascii_case("add_library"));
            out.push(Declared {
                decl: ExtensionDecl {
                    name: name.clone(),
                    range: *range,
                    incomplete: !complete || sources.is_empty(),
                    generated: false,
                    sources,
                    include_dirs,
                },
                build_file: b.path.clone(),
                dir: dir_of(b),
                custom_target: custom,
            });
        }
    }
    out
}

/// Extension modules declared in the local Python files `setup.py` imports or names
/// as cffi build scripts (two levels deep). Their paths are tried relative to the
/// helper's folder and to `setup.py`'s.
fn helper_modules(b: &BuildFile, dir: &Path) -> Vec<Declared> {
    const MAX_SIZE: u64 = 1 << 20;
    let mut out = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut frontier: Vec<(PathBuf, String)> = extensions::setup_helpers(&b.text)
        .into_iter()
        .map(|h| (dir.to_path_buf(), h))
        .collect();
    for _ in 0..2 {
        let mut next = Vec::new();
        for (from, rel) in frontier {
            for base in [from.clone(), dir.to_path_buf()] {
                let path = normalize(&base.join(&rel));
                if !seen.insert(path.clone()) {
                    continue;
                }
                let small =
                    std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() < MAX_SIZE);
                let Some(text) = small.then(|| std::fs::read_to_string(&path).ok()).flatten()
                else {
                    continue;
                };
                let hdir = path.parent().unwrap_or(Path::new("")).to_path_buf();
                for mut d in extensions::setup_py(&text) {
                    for r in d.sources.iter_mut().chain(d.include_dirs.iter_mut()) {
                        r.base.get_or_insert_with(|| hdir.display().to_string());
                    }
                    out.push(Declared {
                        decl: d,
                        build_file: path.clone(),
                        dir: dir.to_path_buf(),
                        custom_target: false,
                    });
                }
                next.extend(
                    extensions::setup_helpers(&text)
                        .into_iter()
                        .map(|h| (hdir.clone(), h)),
                );
            }
        }
        frontier = next;
    }
    out
}

/// Which tree a file belongs to when it is vendored: the folder path and why.
fn vendored_tree(
    rel: &Path,
    submodules: &[PathBuf],
    licensed: &dyn Fn(&Path) -> bool,
) -> Option<(PathBuf, &'static str)> {
    if let Some(s) = submodules.iter().find(|s| rel.starts_with(s)) {
        return Some((s.clone(), "git submodule"));
    }
    let comps: Vec<&std::ffi::OsStr> = rel.parent().map(|p| p.iter().collect()).unwrap_or_default();
    for (i, c) in comps.iter().enumerate() {
        let name = c.to_string_lossy().to_ascii_lowercase();
        if VENDOR_FOLDERS.contains(&name.as_str()) {
            // `extern/taskflow/...`: the tree is the folder below the vendor folder.
            let take = if i + 1 < comps.len() { i + 2 } else { i + 1 };
            return Some((comps[..take].iter().collect(), "third-party folder"));
        }
    }
    // A folder below the project with its own licence file.
    let mut acc = PathBuf::new();
    for c in &comps {
        acc.push(c);
        if licensed(&acc) {
            return Some((acc.clone(), "own licence file"));
        }
    }
    None
}

/// Submodule paths from `.gitmodules` text.
pub fn submodule_paths(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("path")?.trim_start();
            let v = rest.strip_prefix('=')?.trim();
            (!v.is_empty()).then(|| normalize(Path::new(v)))
        })
        .collect()
}

/// Headers and C files a Cython module pulls in: `cdef extern from "x.h"`, `include "x.pxi"`.
fn cython_includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        let rest = l
            .strip_prefix("cdef extern from")
            .or_else(|| l.strip_prefix("include"));
        let Some(rest) = rest else { continue };
        let rest = rest.trim_start();
        let q = match rest.chars().next() {
            Some(c @ ('"' | '\'')) => c,
            _ => continue,
        };
        if let Some(end) = rest[1..].find(q) {
            out.push(rest[1..1 + end].to_owned());
        }
    }
    out
}

/// Resolves the scope of a run rooted at the folder `root`.
pub fn resolve(
    root: &Path,
    builds: &[&BuildFile],
    sources: &[SourceInfo],
    all_sources: bool,
    submodules: &[PathBuf],
    licensed: &dyn Fn(&Path) -> bool,
) -> Resolved {
    let root_n = normalize(root);
    let norm: Vec<PathBuf> = sources.iter().map(|s| normalize(&s.path)).collect();
    let by_norm: HashMap<&Path, usize> = norm
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i))
        .collect();
    let mut by_base: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in norm.iter().enumerate() {
        if let Some(n) = p.file_name() {
            by_base
                .entry(n.to_string_lossy().into_owned())
                .or_default()
                .push(i);
        }
    }
    let pyx: HashMap<PathBuf, &BuildFile> = builds
        .iter()
        .filter(|b| matches!(b.kind, BuildKind::Cython { .. }))
        .map(|b| (normalize(&b.path), *b))
        .collect();
    let rel = |p: &Path| -> PathBuf {
        p.strip_prefix(&root_n)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| p.to_path_buf())
    };

    let declared = declared_modules(builds);
    let mut modules = Vec::new();
    let mut in_scope: HashSet<usize> = HashSet::new();
    let mut unresolved = Vec::new();
    let global_incs: Vec<PathBuf> = declared
        .iter()
        .flat_map(|d| {
            d.decl
                .include_dirs
                .iter()
                .map(|r| normalize(&base_of(d, r).join(&r.path)))
        })
        .collect();
    for d in &declared {
        let mut matched: Vec<usize> = Vec::new();
        let mut pyx_files: Vec<PathBuf> = Vec::new();
        for r in &d.decl.sources {
            let bases = [base_of(d, r), d.dir.clone(), root_n.clone()];
            let mut found = false;
            for base in bases.iter() {
                let full = normalize(&base.join(&r.path));
                let full_s = full.display().to_string();
                if has_glob(&r.path) {
                    let Ok(g) = GlobBuilder::new(&full_s).literal_separator(true).build() else {
                        continue;
                    };
                    let m = g.compile_matcher();
                    for (i, p) in norm.iter().enumerate() {
                        if m.is_match(p) {
                            matched.push(i);
                            found = true;
                        }
                    }
                    for p in pyx.keys() {
                        if m.is_match(p) {
                            pyx_files.push(p.clone());
                            found = true;
                        }
                    }
                } else if let Some(i) = by_norm.get(full.as_path()) {
                    matched.push(*i);
                    found = true;
                } else if pyx.contains_key(&full) {
                    pyx_files.push(full.clone());
                    found = true;
                }
                if found {
                    break;
                }
            }
        }
        matched.sort_unstable();
        matched.dedup();
        let incs: Vec<PathBuf> = d
            .decl
            .include_dirs
            .iter()
            .map(|r| normalize(&base_of(d, r).join(&r.path)))
            .chain(global_incs.iter().cloned())
            .collect();
        let mut files: Vec<usize> = matched.clone();
        if d.decl.incomplete && !matched.is_empty() {
            // Part of the list is computed: every file beside the ones found counts.
            let dirs: HashSet<PathBuf> = matched
                .iter()
                .filter_map(|i| norm[*i].parent().map(Path::to_path_buf))
                .collect();
            for (i, p) in norm.iter().enumerate() {
                if p.parent().is_some_and(|x| dirs.contains(x)) && !sources[i].program {
                    files.push(i);
                }
            }
        }
        // Headers and C files Cython modules name.
        let mut extra_names: Vec<(PathBuf, String)> = Vec::new();
        // Every .pyx/.pxd of the module's package folder: `cimport`ed declarations
        // (`includes/uv.pxd`) name the headers (`cdef extern from "uv.h"`).
        let pkg_dirs: HashSet<PathBuf> = pyx_files
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        for (t, b) in &pyx {
            if !pkg_dirs.iter().any(|d| t.starts_with(d)) {
                continue;
            }
            for inc in cython_includes(&b.text) {
                extra_names.push((t.parent().unwrap_or(Path::new("")).to_path_buf(), inc));
            }
        }
        for (dir, name) in extra_names {
            files.extend(resolve_include(
                &dir, &name, true, &incs, &norm, &by_norm, &by_base,
            ));
        }
        // The include closure.
        let mut seen: HashSet<usize> = files.iter().copied().collect();
        let mut work: Vec<usize> = seen.iter().copied().collect();
        while let Some(f) = work.pop() {
            let dir = norm[f].parent().unwrap_or(Path::new("")).to_path_buf();
            for (name, quoted) in &sources[f].includes {
                for g in resolve_include(&dir, name, *quoted, &incs, &norm, &by_norm, &by_base) {
                    if seen.insert(g) {
                        work.push(g);
                    }
                }
            }
        }
        let is_compiled_kind = |p: &Path| {
            !matches!(
                p.extension()
                    .and_then(|e| e.to_str())
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("h" | "hh" | "hpp" | "hxx" | "inc" | "inl" | "ipp" | "tcc")
            )
        };
        let mut srcs: Vec<String> = Vec::new();
        let mut hdrs: Vec<String> = Vec::new();
        let listed: HashSet<usize> = files.iter().copied().collect();
        let mut all: Vec<usize> = seen.iter().copied().collect();
        all.sort_unstable();
        for i in &all {
            let shown = rel(&norm[*i]).display().to_string();
            if listed.contains(i) && is_compiled_kind(&norm[*i]) {
                srcs.push(shown);
            } else {
                hdrs.push(shown);
            }
        }
        for p in &pyx_files {
            srcs.push(rel(p).display().to_string());
        }
        srcs.sort();
        srcs.dedup();
        if all.is_empty() && pyx_files.is_empty() && d.decl.incomplete {
            unresolved.push(d.decl.name.clone());
        }
        in_scope.extend(all.iter().copied());
        modules.push(ModuleSources {
            name: d.decl.name.clone(),
            build_file: rel(&normalize(&d.build_file)).display().to_string(),
            sources: srcs,
            headers: hdrs,
            incomplete: d.decl.incomplete,
        });
    }

    let programs: Vec<usize> = (0..sources.len())
        .filter(|i| sources[*i].program && !in_scope.contains(i))
        .collect();
    let mode = if all_sources {
        ScopeMode::AllSources
    } else if declared.is_empty() {
        ScopeMode::NoBuild
    } else if !unresolved.is_empty() {
        ScopeMode::Unresolved {
            modules: unresolved,
        }
    } else {
        ScopeMode::Build
    };
    let checked: HashSet<usize> = match mode {
        ScopeMode::Build => in_scope.clone(),
        ScopeMode::AllSources | ScopeMode::FilesNamed => (0..sources.len()).collect(),
        ScopeMode::NoBuild | ScopeMode::Unresolved { .. } => (0..sources.len())
            .filter(|i| !programs.contains(i))
            .collect(),
    };

    // Vendored trees.
    let mut trees: BTreeMap<PathBuf, VendoredTree> = BTreeMap::new();
    let mut tree_of: HashMap<usize, PathBuf> = HashMap::new();
    for (i, p) in norm.iter().enumerate() {
        let r = rel(p);
        if let Some((t, why)) = vendored_tree(&r, submodules, &|d: &Path| licensed(&root_n.join(d)))
        {
            let e = trees.entry(t.clone()).or_insert(VendoredTree {
                path: t.display().to_string(),
                why: why.to_owned(),
                files: 0,
                compiled: 0,
                findings_reported: 0,
                findings_hidden: 0,
            });
            e.files += 1;
            if checked.contains(&i) && mode == ScopeMode::Build {
                e.compiled += 1;
            }
            tree_of.insert(i, t);
        }
    }
    let tree_index: HashMap<PathBuf, usize> = trees
        .keys()
        .enumerate()
        .map(|(k, t)| (t.clone(), k))
        .collect();

    // Files no extension compiles, by folder (vendored and programs apart).
    let uncompiled: Vec<usize> = (0..sources.len())
        .filter(|i| {
            mode == ScopeMode::Build
                && !checked.contains(i)
                && !tree_of.contains_key(i)
                && !programs.contains(i)
        })
        .collect();
    let first_dirs_in_scope: HashSet<PathBuf> = checked
        .iter()
        .filter_map(|i| rel(&norm[*i]).iter().next().map(PathBuf::from))
        .collect();
    let mut folders: BTreeMap<String, usize> = BTreeMap::new();
    for i in &uncompiled {
        let r = rel(&norm[*i]);
        let parent: Vec<_> = r.parent().map(|p| p.iter().collect()).unwrap_or_default();
        let key = match parent.as_slice() {
            [] => "./".to_owned(),
            [a] => format!("{}/", a.to_string_lossy()),
            [a, b, ..] => {
                if first_dirs_in_scope.contains(&PathBuf::from(a)) {
                    format!("{}/{}/", a.to_string_lossy(), b.to_string_lossy())
                } else {
                    format!("{}/", a.to_string_lossy())
                }
            }
        };
        *folders.entry(key).or_default() += 1;
    }
    let mut by_folder: Vec<FolderCount> = folders
        .into_iter()
        .map(|(folder, files)| FolderCount { folder, files })
        .collect();
    by_folder.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.folder.cmp(&b.folder)));

    let in_scope_paths: HashSet<PathBuf> =
        checked.iter().map(|i| sources[*i].path.clone()).collect();
    let vendored = tree_of
        .iter()
        .map(|(i, t)| (sources[*i].path.clone(), tree_index[t]))
        .collect();
    Resolved {
        summary: ScopeSummary {
            mode,
            modules,
            checked_files: checked.len(),
            uncompiled_files: uncompiled.len(),
            uncompiled_by_folder: by_folder,
            programs: programs
                .iter()
                .filter(|i| !checked.contains(i))
                .map(|i| rel(&norm[*i]).display().to_string())
                .collect(),
            vendored: trees.into_values().collect(),
            version_branch_findings: 0,
            parse_errors: Vec::new(),
            generated_helpers: 0,
        },
        in_scope: in_scope_paths,
        vendored,
    }
}

fn base_of(d: &Declared, r: &SourceRef) -> PathBuf {
    match &r.base {
        Some(b) => PathBuf::from(b),
        None => d.dir.clone(),
    }
}

/// The files an `#include` names: beside the including file, in the include
/// folders, else (quoted, or a path with a folder) files whose path ends with the
/// name, else (angle brackets) the only file of that name.
fn resolve_include(
    dir: &Path,
    name: &str,
    quoted: bool,
    incs: &[PathBuf],
    norm: &[PathBuf],
    by_norm: &HashMap<&Path, usize>,
    by_base: &HashMap<String, Vec<usize>>,
) -> Vec<usize> {
    let mut cands = Vec::with_capacity(incs.len() + 1);
    if quoted {
        cands.push(normalize(&dir.join(name)));
    }
    cands.extend(incs.iter().map(|i| normalize(&i.join(name))));
    if !quoted {
        cands.push(normalize(&dir.join(name)));
    }
    for c in &cands {
        if let Some(i) = by_norm.get(c.as_path()) {
            return vec![*i];
        }
    }
    let base = Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(hits) = by_base.get(&base) else {
        return Vec::new();
    };
    if name.contains('/') {
        let suffix = format!("/{}", name.trim_start_matches("./"));
        let ends: Vec<usize> = hits
            .iter()
            .copied()
            .filter(|i| norm[*i].display().to_string().ends_with(&suffix))
            .collect();
        return ends;
    }
    if quoted && hits.len() <= 4 || hits.len() == 1 {
        return hits.clone();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, includes: &[&str], program: bool) -> SourceInfo {
        SourceInfo {
            path: PathBuf::from(path),
            includes: includes.iter().map(|s| (s.to_string(), true)).collect(),
            program,
        }
    }

    #[test]
    fn setup_py_project_scope() {
        let setup = BuildFile::parse(
            "proj/setup.py".into(),
            BuildKind::SetupPy,
            "from setuptools import setup, Extension\nimport glob\nsetup(ext_modules=[Extension('pkg._m', ['src/m.c'] + glob.glob('src/codec/*.c'), include_dirs=['include'])])\n".into(),
        );
        let sources = vec![
            src("proj/src/m.c", &["m.h", "api.h"], false),
            src("proj/src/m.h", &[], false),
            src("proj/include/api.h", &["extern/lib/lib.h"], false),
            src("proj/src/codec/a.c", &[], false),
            src("proj/tools/cli.c", &[], true),
            src("proj/tests/t.c", &[], false),
            src("proj/extern/lib/lib.h", &[], false),
            src("proj/extern/lib/other.c", &[], false),
            src("proj/src/3_10/m.c", &[], false),
        ];
        let r = resolve(Path::new("proj"), &[&setup], &sources, false, &[], &|_| {
            false
        });
        assert_eq!(r.summary.mode, ScopeMode::Build);
        let mut got: Vec<String> = r.in_scope.iter().map(|p| p.display().to_string()).collect();
        got.sort();
        assert_eq!(
            got,
            [
                "proj/extern/lib/lib.h",
                "proj/include/api.h",
                "proj/src/codec/a.c",
                "proj/src/m.c",
                "proj/src/m.h"
            ]
        );
        assert_eq!(r.summary.modules[0].sources, ["src/codec/a.c", "src/m.c"]);
        assert_eq!(r.summary.uncompiled_files, 2);
        assert_eq!(
            r.summary.uncompiled_by_folder,
            [
                FolderCount {
                    folder: "src/3_10/".into(),
                    files: 1
                },
                FolderCount {
                    folder: "tests/".into(),
                    files: 1
                }
            ]
        );
        assert_eq!(r.summary.programs, ["tools/cli.c"]);
        assert_eq!(r.summary.vendored.len(), 1);
        assert_eq!(r.summary.vendored[0].path, "extern/lib");
        assert_eq!(
            (r.summary.vendored[0].files, r.summary.vendored[0].compiled),
            (2, 1)
        );
    }

    #[test]
    fn no_build_checks_everything_but_programs() {
        let sources = vec![src("p/a.c", &[], false), src("p/bench/b.c", &[], true)];
        let r = resolve(Path::new("p"), &[], &sources, false, &[], &|_| false);
        assert_eq!(r.summary.mode, ScopeMode::NoBuild);
        assert_eq!(r.in_scope.len(), 1);
        let r = resolve(Path::new("p"), &[], &sources, true, &[], &|_| false);
        assert_eq!(r.summary.mode, ScopeMode::AllSources);
        assert_eq!(r.in_scope.len(), 2);
    }

    #[test]
    fn computed_sources_fall_back() {
        let setup = BuildFile::parse(
            "p/setup.py".into(),
            BuildKind::SetupPy,
            "setup(ext_modules=[Extension('m', sources=find_sources())])\n".into(),
        );
        let sources = vec![src("p/a.c", &[], false)];
        let r = resolve(Path::new("p"), &[&setup], &sources, false, &[], &|_| false);
        assert_eq!(
            r.summary.mode,
            ScopeMode::Unresolved {
                modules: vec!["m".into()]
            }
        );
        assert_eq!(r.in_scope.len(), 1);
    }
}
