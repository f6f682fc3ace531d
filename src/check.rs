//! `ftaudit check`: discover files, analyse each in parallel, run project checks,
//! apply suppressions, and collect everything reporters need.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::build::{BuildFile, BuildKind};
use crate::cache::{
    self, Cache, CachedDiagnostic, CachedResult, FileEntryOut, FileModelOut, Hash, RunEntry,
    TextKind,
};
use crate::config::{ConfigError, Overrides, Settings};
use crate::context::{BuildContext, FileContext, ProjectContext, ProjectFile};
use crate::diagnostic::{Diagnostic, Span};
use crate::discover::{self, FileKind};
use crate::rules::build as build_rules;
use crate::rules::{declare, registry};
use crate::source::entry::{Facts, LocalFactsBuilder};
use crate::source::index::FileIndex;
use crate::source::{ParsedFile, ReadProblem, SourceFile};
use crate::suppress::Suppressions;
use crate::timing::{self, Phase};

/// A problem with one input file. `error` ones make the run exit with 2.
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
    pub error: bool,
}

/// The outcome of a check: diagnostics plus what was (and was not) analysed.
#[derive(Debug, Default)]
pub struct CheckResult {
    pub diagnostics: Vec<Diagnostic>,
    pub files_analysed: usize,
    pub files_skipped: usize,
    pub files_with_parse_errors: usize,
    /// Files where a budget was hit (deep nesting, long `#elif` chains, huge
    /// functions): analysed, but not every part of them.
    pub files_partly_analysed: usize,
    pub functions: usize,
    pub functions_clean: usize,
    pub problems: Vec<FileProblem>,
    /// Text of every analysed file, for snippets and fixes.
    pub sources: BTreeMap<PathBuf, Arc<String>>,
    /// Files that were not valid UTF-8 (never rewritten).
    pub lossy: Vec<PathBuf>,
    /// The project readiness summary (modules, wheels, CI, open findings), when the
    /// run found an extension module or a build file.
    pub project: Option<build_rules::ProjectSummary>,
    /// Every module init function found in the C/C++ files, in path order (for
    /// `verify --source`, which needs them without parsing again).
    pub module_inits: Vec<ModuleInitSite>,
}

/// A module's init function (`PyInit_spam`) as found by the index.
#[derive(Debug, Clone)]
pub struct ModuleInitSite {
    /// The module's name (the `PyInit_` suffix).
    pub module: String,
    /// The init function's name.
    pub function: String,
    pub path: PathBuf,
    /// The init function's name in the source.
    pub span: Span,
}

impl CheckResult {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.error)
    }
}

/// Resolves settings for every path; a broken configuration is an error for the whole run.
pub fn resolve_settings(
    paths: &[PathBuf],
    ov: &Overrides,
) -> Result<Vec<(PathBuf, Arc<Settings>)>, ConfigError> {
    paths
        .iter()
        .map(|p| Settings::resolve(p, ov).map(|s| (p.clone(), Arc::new(s))))
        .collect()
}

enum Outcome {
    Analysed {
        pf: Box<ProjectFile>,
        diagnostics: Vec<Diagnostic>,
        suppressions: Suppressions,
        parse_errors: usize,
        functions: (usize, usize),
        /// Budgets the file exceeded (see [`crate::source::SourceFile::limits`]).
        limits: Vec<String>,
    },
    Build {
        file: Box<BuildFile>,
        settings: Arc<Settings>,
    },
    Skipped(FileProblem),
    Failed(FileProblem),
}

/// Whether `run` frees the syntax trees and indexes before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Free {
    /// Free them (the default: callers may run checks again, as `--fix` does).
    Always,
    /// Leave them to the OS: the process exits after this run (`ftaudit check`).
    Never,
}

static FREE_AT_END: std::sync::atomic::AtomicU8 =
    std::sync::atomic::AtomicU8::new(Free::Always as u8);

/// Sets whether later runs free their trees (see [`Free`]).
pub fn free_at_end(free: Free) {
    FREE_AT_END.store(free as u8, std::sync::atomic::Ordering::Relaxed);
}

/// Stack of the analysis threads. tree-sitter trees of deeply nested code are
/// walked iteratively or under depth limits; the large stack is the second line of
/// defence (a stack overflow aborts the process, and no `catch_unwind` can stop it).
const WORKER_STACK: usize = 64 << 20;

/// Runs every check on `roots`. `overlay` replaces the on-disk text of files (used
/// by `--fix` to re-check edited content before writing it).
pub fn run(roots: &[(PathBuf, Arc<Settings>)], overlay: &HashMap<PathBuf, String>) -> CheckResult {
    run_with_cache(roots, overlay, None)
}

/// [`run`], reading and writing `cache` (see [`crate::cache`]): an unchanged re-run
/// is answered from the run's entry; otherwise every file is parsed and indexed,
/// and the file checks run only on the files whose entry is missing or stale.
pub fn run_with_cache(
    roots: &[(PathBuf, Arc<Settings>)],
    overlay: &HashMap<PathBuf, String>,
    cache: Option<&Cache>,
) -> CheckResult {
    run_with_options(roots, overlay, cache, FixEdits::All)
}

/// Which [`crate::diagnostic::DeferredFix`]es a run builds into fixes. Building
/// one re-parses its file, so a run that neither applies nor serialises edits
/// builds only what it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixEdits {
    /// Every one: the run's fixes are applied, diffed or serialised (`--fix`,
    /// `--diff`, JSON).
    All,
    /// Those that may be safe (text output marks safe fixes); the others stay
    /// requests, which the text output counts as "up to N" unsafe fixes.
    MaybeSafe,
}

/// [`run_with_cache`], building the deferred fixes `edits` asks for.
pub fn run_with_options(
    roots: &[(PathBuf, Arc<Settings>)],
    overlay: &HashMap<PathBuf, String>,
    cache: Option<&Cache>,
    edits: FixEdits,
) -> CheckResult {
    match rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("ftaudit-{i}"))
        .build()
    {
        Ok(pool) => pool.install(|| run_in_pool(roots, overlay, cache, edits)),
        Err(_) => run_in_pool(roots, overlay, cache, edits),
    }
}

/// The deferred fixes of `diagnostics` that `edits` asks for and no run built
/// yet, by file.
fn fix_requests(diagnostics: &[Diagnostic], edits: FixEdits) -> BTreeMap<PathBuf, Vec<usize>> {
    let mut by_file: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, d) in diagnostics.iter().enumerate() {
        let Some(deferred) = &d.deferred_fix else {
            continue;
        };
        if !deferred.built && (edits == FixEdits::All || deferred.request.may_be_safe()) {
            by_file.entry(d.path.clone()).or_default().push(i);
        }
    }
    by_file
}

/// The fixes of the requests `ids` of `diagnostics`, on `file` (parsed again;
/// `None`: the parse failed and no fix is built).
fn build_requests(
    diagnostics: &[Diagnostic],
    ids: &[usize],
    file: Option<&SourceFile>,
) -> Vec<(usize, Option<crate::diagnostic::Fix>)> {
    ids.iter()
        .map(|&i| {
            let fix = file.and_then(|f| {
                let deferred = diagnostics[i].deferred_fix.as_ref()?;
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    timing::time(Phase::Fixes, || crate::rules::deferred::build(f, deferred))
                }))
                .ok()
                .flatten()
            });
            (i, fix)
        })
        .collect()
}

/// Puts built fixes on their findings.
fn attach_fixes(
    diagnostics: &mut [Diagnostic],
    built: Vec<(usize, Option<crate::diagnostic::Fix>)>,
) {
    for (i, fix) in built {
        let d = &mut diagnostics[i];
        if let Some(deferred) = d.deferred_fix.as_mut() {
            deferred.built = true;
        }
        d.fix = fix;
    }
}

/// [`build_deferred_fixes`] while the run still has its files: each file with
/// requests gets its tree back from its masked text (in parallel, one tree per
/// thread at a time), which is released again once its fixes are built. Only the
/// top-level items the requests read are parsed again when the rules can say
/// which (`deferred::reads`): most requests rewrite one function.
fn build_deferred_fixes_on(
    diagnostics: &mut [Diagnostic],
    files: &mut [ProjectFile],
    edits: FixEdits,
) {
    let by_file = fix_requests(diagnostics, edits);
    if by_file.is_empty() {
        return;
    }
    let readonly: &[Diagnostic] = diagnostics;
    let built: Vec<(usize, Option<crate::diagnostic::Fix>)> = files
        .par_iter_mut()
        .filter_map(|pf| by_file.get(&pf.file.path).map(|ids| (pf, ids)))
        .flat_map_iter(|(pf, ids)| {
            let file = &mut pf.parsed.file;
            let reads: Option<Vec<usize>> = ids
                .iter()
                .map(|&i| {
                    let deferred = readonly[i].deferred_fix.as_ref()?;
                    crate::rules::deferred::reads(file, deferred)
                })
                .try_fold(Vec::new(), |mut all, at| {
                    all.extend(at?);
                    Some(all)
                });
            let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &reads {
                Some(at) => file.reparse_items(at),
                None => file.reparse_tree(),
            }))
            .unwrap_or(false);
            let out = build_requests(readonly, ids, parsed.then_some(&*file));
            file.tree.release();
            out
        })
        .collect();
    attach_fixes(diagnostics, built);
}

/// Builds the deferred fixes of `result`'s findings that `edits` asks for: each
/// file with such requests is parsed again from its text (in parallel, one tree
/// per thread at a time) and each request becomes its rule's fix, or nothing
/// when the rewrite does not apply (as it would have been built eagerly).
///
/// Returns whether any fix was built.
pub fn build_deferred_fixes(result: &mut CheckResult, edits: FixEdits) -> bool {
    let by_file = fix_requests(&result.diagnostics, edits);
    if by_file.is_empty() {
        return false;
    }
    let diagnostics = &result.diagnostics;
    let sources = &result.sources;
    let lossy = &result.lossy;
    let groups: Vec<(&PathBuf, &Vec<usize>)> = by_file.iter().collect();
    let built: Vec<(usize, Option<crate::diagnostic::Fix>)> = groups
        .par_iter()
        .flat_map_iter(|(path, ids)| {
            let file = sources.get(*path).and_then(|text| {
                let cpp = diagnostics[ids[0]].deferred_fix.as_ref()?.cpp;
                let lang = if cpp {
                    crate::source::Language::Cpp
                } else {
                    crate::source::Language::C
                };
                let build = || {
                    SourceFile::from_text(
                        path.to_path_buf(),
                        lang,
                        text.as_str().to_owned(),
                        lossy.contains(path),
                    )
                };
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(build)).ok()
            });
            build_requests(diagnostics, ids, file.as_ref())
        })
        .collect();
    attach_fixes(&mut result.diagnostics, built);
    true
}

/// A discovered file's bytes (or why they could not be read) and, when caching,
/// their hash.
struct Input {
    bytes: Result<Vec<u8>, String>,
    hash: Option<Hash>,
}

fn read_input(path: &Path, overlay: &HashMap<PathBuf, String>, hash: bool) -> Input {
    let bytes = match overlay.get(path) {
        Some(text) => Ok(text.clone().into_bytes()),
        None => std::fs::read(path).map_err(|e| e.to_string()),
    };
    let hash = match &bytes {
        Ok(b) if hash => Some(cache::content_hash(b)),
        _ => None,
    };
    Input { bytes, hash }
}

/// Where a run's entry is kept, and what it must match: the slot names the
/// roots and their settings, the key adds every discovered file and its content.
/// One entry per slot, overwritten by the next run over the same roots, so edits
/// do not pile up entries of whole runs (each the size of the run's findings).
#[derive(Clone, Copy)]
struct RunKey {
    slot: Hash,
    key: Hash,
}

/// The identity of a run for the cache: the version, every root with its settings
/// (the slot), then every discovered file with its kind and content hash (the key).
fn run_key(
    roots: &[(PathBuf, Arc<Settings>)],
    files: &[discover::Discovered],
    inputs: &[Input],
) -> Option<RunKey> {
    let mut h = cache::Hasher::new();
    h.str(env!("CARGO_PKG_VERSION"));
    for (path, settings) in roots {
        h.path(path);
        h.hash(cache::settings_fingerprint(settings));
    }
    let slot = h.finish();
    for (d, input) in files.iter().zip(inputs) {
        h.path(&d.path);
        h.str(&format!("{}:{:?}", d.root, d.kind));
        h.hash(input.hash?);
    }
    Some(RunKey {
        slot,
        key: h.finish(),
    })
}

/// The text of a caught panic.
pub fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// A panic while analysing `path` becomes an error for that file; the run goes on.
fn internal_error(path: &Path, e: &(dyn std::any::Any + Send)) -> FileProblem {
    FileProblem {
        path: path.into(),
        message: format!(
            "internal error while analysing this file (a bug in ftaudit; please report it with the file): {}",
            panic_message(e)
        ),
        error: true,
    }
}

fn run_in_pool(
    roots: &[(PathBuf, Arc<Settings>)],
    overlay: &HashMap<PathBuf, String>,
    cache: Option<&Cache>,
    edits: FixEdits,
) -> CheckResult {
    let read = timing::start_stage(Phase::Read);
    let walk_roots: Vec<(PathBuf, &Settings)> =
        roots.iter().map(|(p, s)| (p.clone(), s.as_ref())).collect();
    let (files, walk_errors) = discover::discover(&walk_roots, |p| overlay.contains_key(p));
    // The cache is for files on disk: text given in place of a file is not cached.
    let cache = cache.filter(|_| overlay.is_empty());
    let inputs: Vec<Input> = files
        .par_iter()
        .map(|d| read_input(&d.path, overlay, cache.is_some()))
        .collect();
    // An unchanged re-run: the same files with the same content and settings.
    let key = cache
        .filter(|_| walk_errors.is_empty())
        .and_then(|_| run_key(roots, &files, &inputs));
    if let (Some(cache), Some(key)) = (cache, key) {
        if let Some((mut result, text_kinds)) = cached_run(cache, key, &files, &inputs) {
            read.end();
            // Fixes a run without edits left as requests are built once, then
            // kept in the entry for the next run.
            if build_deferred_fixes(&mut result, edits) {
                timing::time_stage(Phase::CacheWrite, || {
                    store_run(cache, key, &result, text_kinds)
                });
            }
            timing::report();
            return result;
        }
    }
    let settings_fps: Vec<Hash> = match cache {
        Some(_) => roots
            .iter()
            .map(|(_, s)| cache::settings_fingerprint(s))
            .collect(),
        None => Vec::new(),
    };
    read.end();
    let mut result = CheckResult::default();
    for e in walk_errors {
        result.problems.push(FileProblem {
            path: e.path,
            message: e.message,
            error: true,
        });
    }
    let entry_facts = entry_facts_needed(roots);
    // A file larger than a thread's share of the run (one big file, or a few
    // files of which one is most of the text) would keep one thread busy while the
    // others run out of files: its own checks share the threads too.
    let threads = rayon::current_num_threads();
    let total: usize = inputs
        .iter()
        .map(|i| i.bytes.as_ref().map_or(0, Vec::len))
        .sum();
    let outcomes: Vec<Outcome> = files
        .par_iter()
        .zip(inputs)
        .map(|(d, input)| {
            let len = input.bytes.as_ref().map_or(0, Vec::len);
            let big = threads > 1 && len.saturating_mul(threads) > total;
            let settings = roots[d.root].1.clone();
            let file_cache = cache.map(|c| FileCache {
                cache: c,
                settings: settings_fps[d.root],
                content: input.hash,
            });
            let analyse = || match d.kind {
                FileKind::Source(lang) => analyse_source(
                    &d.path,
                    lang,
                    settings,
                    input.bytes,
                    file_cache,
                    big,
                    entry_facts,
                ),
                FileKind::Build(kind) => analyse_build(&d.path, kind, settings, input.bytes),
            };
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(analyse))
                .unwrap_or_else(|e| Outcome::Failed(internal_error(&d.path, e.as_ref())))
        })
        .collect();
    let mut text_kinds: Vec<(PathBuf, TextKind)> = Vec::new();

    let mut project_files = Vec::new();
    let mut build_files: Vec<(BuildFile, Arc<Settings>)> = Vec::new();
    let mut suppressions: HashMap<PathBuf, Suppressions> = HashMap::new();
    for o in outcomes {
        match o {
            Outcome::Analysed {
                pf,
                diagnostics,
                suppressions: s,
                parse_errors,
                functions,
                limits,
            } => {
                result.files_analysed += 1;
                if !limits.is_empty() {
                    result.files_partly_analysed += 1;
                    result.problems.push(FileProblem {
                        path: pf.file.path.clone(),
                        message: format!("partly analysed: {}", limits.join("; ")),
                        error: false,
                    });
                }
                result.functions += functions.0;
                result.functions_clean += functions.1;
                if parse_errors > 0 {
                    result.files_with_parse_errors += 1;
                }
                if pf.file.cr_line_ends {
                    result.lossy.push(pf.file.path.clone());
                    result.problems.push(FileProblem {
                        path: pf.file.path.clone(),
                        message: "lines end with a bare CR (classic Mac OS): analysed as lines; --fix leaves it alone".into(),
                        error: false,
                    });
                }
                if pf.file.lossy {
                    result.lossy.push(pf.file.path.clone());
                    result.problems.push(FileProblem {
                        path: pf.file.path.clone(),
                        message: "not valid UTF-8: analysed with replacement characters; --fix leaves it alone".into(),
                        error: false,
                    });
                }
                result.diagnostics.extend(diagnostics);
                suppressions.insert(pf.file.path.clone(), s);
                // The text joins `result.sources` at the end (moved, not copied).
                text_kinds.push((pf.file.path.clone(), TextKind::Source));
                project_files.push(*pf);
            }
            Outcome::Build { file, settings } => {
                result.files_analysed += 1;
                if let Some(e) = &file.syntax_error {
                    result.files_with_parse_errors += 1;
                    result.problems.push(FileProblem {
                        path: file.path.clone(),
                        message: e.clone(),
                        error: false,
                    });
                }
                result
                    .sources
                    .insert(file.path.clone(), Arc::new(file.text.clone()));
                text_kinds.push((file.path.clone(), TextKind::Build));
                build_files.push((*file, settings));
            }
            Outcome::Skipped(p) => {
                result.files_skipped += 1;
                result.problems.push(p);
            }
            Outcome::Failed(p) => result.problems.push(p),
        }
    }
    // Only what the build compiles, from here on (see `crate::scope`).
    let mut scope = crate::scope::Scope::restrict(
        roots,
        &build_files,
        &mut project_files,
        &mut result.diagnostics,
    );
    narrow_function_refs(&mut project_files);
    let project_settings = roots.first().map(|(_, s)| s.clone()).unwrap_or_default();
    let project_path = roots
        .first()
        .map(|(p, _)| p.as_path())
        .unwrap_or(Path::new("."));
    // A panic in one project or build check is an error for the run's root; the other
    // checks still run.
    let guarded = |problems: &mut Vec<FileProblem>, run: &mut dyn FnMut()| {
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
            problems.push(internal_error(project_path, e.as_ref()));
        }
    };
    let project = ProjectContext::new(&project_files, &project_settings);
    timing::time_stage(Phase::ProjectRules, || {
        for (rule, check) in registry::project_checks() {
            if project.enabled_anywhere(rule) {
                let diagnostics = &mut result.diagnostics;
                guarded(&mut result.problems, &mut || check(&project, diagnostics));
            }
        }
    });
    let finish = timing::start_stage(Phase::Finish);
    // Whether a C module declares support is decided before selection and suppressions
    // filter FT0xx findings out of the report.
    let declaration_findings: Vec<Diagnostic> = result
        .diagnostics
        .iter()
        .filter(|d| declare::decides_declaration(d.rule))
        .cloned()
        .collect();
    let builds = BuildContext {
        builds: &build_files,
        project: &project,
        declarations: &declaration_findings,
    };
    for (_, check) in registry::build_checks() {
        let diagnostics = &mut result.diagnostics;
        guarded(&mut result.problems, &mut || check(&builds, diagnostics));
    }
    let settings_of: HashMap<&Path, &Settings> = project_files
        .iter()
        .map(|pf| (pf.file.path.as_path(), pf.settings.as_ref()))
        .chain(
            build_files
                .iter()
                .map(|(b, s)| (b.path.as_path(), s.as_ref())),
        )
        .collect();
    result.diagnostics.retain(|d| {
        let enabled = settings_of
            .get(d.path.as_path())
            .is_none_or(|s| s.rule_enabled(d.rule, &d.path));
        let suppressed = suppressions.get(&d.path).is_some_and(|s| s.covers(d));
        let build_suppressed = build_files.iter().any(|(b, _)| {
            b.path == d.path
                && d.span
                    .is_some_and(|s| b.suppresses(d.rule.code, s.start_line))
        });
        enabled && !suppressed && !build_suppressed
    });
    let scope_summary = scope.finish(&project_files, &mut result.diagnostics);
    result.diagnostics.sort_by_key(|d| d.sort_key());
    result
        .diagnostics
        .dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
    result.problems.sort_by(|a, b| a.path.cmp(&b.path));
    result.module_inits = module_inits(&project_files);
    let mut summary = None;
    let diagnostics = &result.diagnostics;
    guarded(&mut result.problems, &mut || {
        summary = build_rules::summarize(&builds, diagnostics)
    });
    if let Some(s) = summary.as_mut() {
        s.scope = Some(scope_summary);
    }
    result.project = summary;
    finish.end();
    drop(project);
    // Fixes placed on the tree: the files are still here, with their masked text.
    build_deferred_fixes_on(&mut result.diagnostics, &mut project_files, edits);
    let leak = FREE_AT_END.load(std::sync::atomic::Ordering::Relaxed) == Free::Never as u8;
    for mut pf in project_files {
        let file = &mut pf.parsed.file;
        let text = std::mem::take(&mut file.text);
        result
            .sources
            .insert(std::mem::take(&mut file.path), Arc::new(text));
        if leak {
            // Freeing every syntax tree and index took some 5% of a run's CPU; a
            // process that exits next leaves that to the OS (as compilers do).
            std::mem::forget(pf);
        }
    }
    build_deferred_fixes(&mut result, edits);
    if let (Some(cache), Some(key)) = (cache, key) {
        timing::time_stage(Phase::CacheWrite, || {
            store_run(cache, key, &result, text_kinds)
        });
    }
    timing::report();
    result
}

/// Writes the run's entry.
fn store_run(
    cache: &Cache,
    key: RunKey,
    result: &CheckResult,
    text_kinds: Vec<(PathBuf, TextKind)>,
) {
    cache.store_run(
        key.slot,
        &RunEntry {
            format: cache::FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            key: key.key,
            result: CachedResult::of(result, text_kinds),
        },
    )
}

/// The result of an unchanged re-run from the cache, with the texts just read
/// (and how each was decoded).
fn cached_run(
    cache: &Cache,
    key: RunKey,
    files: &[discover::Discovered],
    inputs: &[Input],
) -> Option<(CheckResult, Vec<(PathBuf, TextKind)>)> {
    let entry = cache.load_run(key.slot, key.key)?;
    let mut result = entry.result.restore()?;
    let bytes: HashMap<&Path, &Vec<u8>> = files
        .iter()
        .zip(inputs)
        .filter_map(|(d, i)| Some((d.path.as_path(), i.bytes.as_ref().ok()?)))
        .collect();
    for (path, kind) in &entry.result.sources {
        let b = bytes.get(path.as_path())?;
        let text = match kind {
            TextKind::Source => SourceFile::decode(b.to_vec()).0,
            TextKind::Build => decode_build(b.to_vec()),
        };
        result.sources.insert(path.clone(), Arc::new(text));
    }
    Some((result, entry.result.sources))
}

/// The text of a build file's bytes (lossy UTF-8).
fn decode_build(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Where a C/C++ file's entry is read from and written to.
#[derive(Clone, Copy)]
struct FileCache<'a> {
    cache: &'a Cache,
    settings: Hash,
    /// `None` when the file could not be read.
    content: Option<Hash>,
}

/// The module init functions of `files`, sorted by path (stable: in index order within a file).
fn module_inits(files: &[ProjectFile]) -> Vec<ModuleInitSite> {
    let mut sites: Vec<ModuleInitSite> = files
        .iter()
        .flat_map(|pf| {
            pf.index.module_inits.iter().map(|init| {
                let function = &pf.index.functions[init.function];
                ModuleInitSite {
                    module: init.module.clone(),
                    function: function.name.clone(),
                    path: pf.file.path.clone(),
                    span: pf.file.span(function.name_range.0, function.name_range.1),
                }
            })
        })
        .collect();
    sites.sort_by(|a, b| a.path.cmp(&b.path));
    sites
}

/// Keeps, of each file's candidate function references, those that name a function
/// some file of the project defines (the cross-file step of the entry-point facts).
fn narrow_function_refs(files: &mut [ProjectFile]) {
    let names: std::collections::HashSet<String> = files
        .iter()
        .filter(|pf| pf.entry.is_some())
        .flat_map(|pf| pf.index.functions.iter().map(|f| f.name.clone()))
        .collect();
    for pf in files.iter_mut() {
        if let Some(facts) = pf.entry.as_mut() {
            facts.retain_refs(|n| names.contains(n));
        }
    }
}

/// Whether some root selects a project check that reads the files' entry-point
/// facts (per-file ignores aside: facts of every file feed the project's call
/// graph, wherever the rule reports).
fn entry_facts_needed(roots: &[(PathBuf, Arc<Settings>)]) -> bool {
    roots.iter().any(|(_, s)| {
        let mut selection = (**s).clone();
        selection.per_file_ignores.clear();
        crate::rules::state::ENTRY_FACT_RULES
            .iter()
            .any(|r| selection.rule_enabled(r, Path::new("")))
    })
}

/// A parsed file as the project phase keeps it: what project checks read from
/// its syntax tree is computed now (entry-point facts when `entry_facts`, the
/// first parse errors, the code occurrences of
/// [`crate::rules::project::CODE_WORDS`]), then the tree is released, so that
/// only the files being analysed hold one.
pub fn project_file(parsed: ParsedFile, settings: Arc<Settings>, entry_facts: bool) -> ProjectFile {
    let entry = entry_facts.then(|| Facts::build_local(&parsed.file, &parsed.index));
    project_file_with(parsed, settings, entry)
}

/// [`project_file`] with the entry-point facts already collected (during the
/// index's walk, see `analyse_source`).
fn project_file_with(
    mut parsed: ParsedFile,
    settings: Arc<Settings>,
    entry: Option<Facts>,
) -> ProjectFile {
    let parse_problem = crate::scope::parse_problem(&parsed);
    let prepared_fixes = crate::rules::deferred::prepare(&parsed.file, &parsed.index);
    parsed.file.release_tree(
        &crate::rules::project::CODE_WORDS,
        &crate::rules::project::CODE_PREFIXES,
    );
    ProjectFile {
        parsed,
        settings,
        entry,
        parse_problem,
        prepared_fixes,
    }
}

/// A file that could not be read: an error for the run, which goes on.
fn unreadable(path: &Path, e: &str) -> Outcome {
    Outcome::Failed(FileProblem {
        path: path.into(),
        message: format!("cannot read: {e}"),
        error: true,
    })
}

/// Reads and parses one build, CI or generator file. Never runs it.
fn analyse_build(
    path: &Path,
    kind: BuildKind,
    settings: Arc<Settings>,
    bytes: Result<Vec<u8>, String>,
) -> Outcome {
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return unreadable(path, &e),
    };
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Outcome::Skipped(FileProblem {
            path: path.into(),
            message: format!(
                "binary file (contains NUL bytes), not a {}: skipped",
                kind.describe()
            ),
            error: false,
        });
    }
    let text = decode_build(bytes);
    Outcome::Build {
        file: Box::new(BuildFile::parse(path.to_path_buf(), kind, text)),
        settings,
    }
}

fn analyse_source(
    path: &Path,
    lang: crate::source::Language,
    settings: Arc<Settings>,
    bytes: Result<Vec<u8>, String>,
    file_cache: Option<FileCache>,
    parallel_rules: bool,
    entry_facts: bool,
) -> Outcome {
    // A fail point for the isolation test (tests/robustness.rs); debug builds only.
    #[cfg(debug_assertions)]
    if std::env::var_os("FTAUDIT_DEBUG_PANIC_ON").is_some_and(|name| path.ends_with(name)) {
        panic!("FTAUDIT_DEBUG_PANIC_ON");
    }
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return unreadable(path, &e),
    };
    // A file whose entry is for this content and these settings is rebuilt from
    // it: no lexing, masking, parsing, index or file checks.
    if let Some(fc) = file_cache {
        let restored = timing::time(Phase::Read, || {
            restore_source(path, &bytes, fc, &settings, entry_facts)
        });
        if let Some(outcome) = restored {
            return outcome;
        }
    }
    let file = match SourceFile::from_bytes(path, lang, bytes) {
        Ok(f) => f,
        Err(ReadProblem::Unreadable(e)) => {
            return Outcome::Failed(FileProblem {
                path: path.into(),
                message: format!("cannot read: {e}"),
                error: true,
            })
        }
        Err(ReadProblem::Binary) => {
            return Outcome::Skipped(FileProblem {
                path: path.into(),
                message: "binary file (contains NUL bytes), not C source: skipped".into(),
                error: false,
            })
        }
        Err(ReadProblem::Generated(by)) => {
            return Outcome::Skipped(FileProblem {
                path: path.into(),
                message: format!(
                    "generated by {by}: skipped (check the generator's declaration instead)"
                ),
                error: false,
            })
        }
    };
    // The entry-point facts are collected during the index's walk: one walk of the
    // tree for both (a second walk of its own cost about a tenth of a run).
    let (index, entry) = timing::time(Phase::Index, || {
        // With few files for the threads, a large file's walk shares them too.
        if !entry_facts {
            let index = FileIndex::build_visiting_in_parts(&file, &mut (), parallel_rules);
            return (index, None);
        }
        let mut facts = LocalFactsBuilder::new(&file);
        let index = FileIndex::build_visiting_in_parts(&file, &mut facts, parallel_rules);
        let facts = facts.finish(&index);
        (index, Some(facts))
    });
    let mut diagnostics = Vec::new();
    let mut first = 0;
    let suppressions = timing::time(Phase::FileRules, || {
        let suppressions = Suppressions::parse(&file, &mut diagnostics);
        first = diagnostics.len();
        let mut ctx = FileContext::new(&file, &index, &settings);
        ctx.entry_facts = entry.as_ref();
        if parallel_rules {
            // Few files for the threads: the file's checks share them (each into
            // its own list, joined in registry order, so the output is the same).
            let checks: Vec<_> = registry::file_checks()
                .filter(|(rule, _)| ctx.enabled(rule))
                .collect();
            let found: Vec<Vec<Diagnostic>> = checks
                .par_iter()
                .map(|(_, check)| {
                    let mut v = Vec::new();
                    check(&ctx, &mut v);
                    v
                })
                .collect();
            diagnostics.extend(found.into_iter().flatten());
        } else {
            for (rule, check) in registry::file_checks() {
                if ctx.enabled(rule) {
                    check(&ctx, &mut diagnostics);
                }
            }
        }
        suppressions
    });
    let parse_errors = file.parse_error_count();
    let functions = (
        index.functions.len(),
        index.functions.iter().filter(|f| !f.has_error).count(),
    );
    let limits = file.limits();
    let pf = timing::time(Phase::TreeFacts, || {
        project_file_with(ParsedFile { file, index }, settings, entry)
    });
    if let Some(fc) = file_cache {
        timing::time(Phase::CacheWrite, || {
            store_source(fc, &pf, &diagnostics[first..], parse_errors)
        });
    }
    Outcome::Analysed {
        pf: Box::new(pf),
        diagnostics,
        suppressions,
        parse_errors,
        functions,
        limits,
    }
}

/// The outcome of a C/C++ file rebuilt from its cache entry, when the entry is for
/// these bytes and settings (and has what this run needs): the file checks'
/// findings and the file as the project phase keeps it, without lexing, masking
/// or parsing. `None` sends the file through the whole analysis.
fn restore_source(
    path: &Path,
    bytes: &[u8],
    fc: FileCache,
    settings: &Arc<Settings>,
    entry_facts: bool,
) -> Option<Outcome> {
    let entry = fc.cache.load_file(path, fc.settings, fc.content?)?;
    if entry_facts && entry.model.entry.is_none() {
        return None;
    }
    let cached = cache::restore_all(&entry.diagnostics)?;
    let (text, lossy, cr_line_ends) = SourceFile::decode(bytes.to_vec());
    let (pf, parse_errors) = entry.model.restore(
        path.to_path_buf(),
        text,
        lossy,
        cr_line_ends,
        settings.clone(),
        entry_facts,
    )?;
    let mut diagnostics = Vec::new();
    let suppressions = Suppressions::parse(&pf.file, &mut diagnostics);
    diagnostics.extend(cached);
    let functions = (
        pf.index.functions.len(),
        pf.index.functions.iter().filter(|f| !f.has_error).count(),
    );
    let limits = pf.file.limits();
    Some(Outcome::Analysed {
        pf: Box::new(pf),
        diagnostics,
        suppressions,
        parse_errors,
        functions,
        limits,
    })
}

/// Writes the entry of a file just analysed: the findings of its file checks
/// (`found`) and what the project phase keeps of it.
fn store_source(fc: FileCache, pf: &ProjectFile, found: &[Diagnostic], parse_errors: usize) {
    let (Some(content), Some(model)) = (fc.content, FileModelOut::of(pf, parse_errors)) else {
        return;
    };
    fc.cache.store_file(&FileEntryOut {
        format: cache::FORMAT,
        version: env!("CARGO_PKG_VERSION"),
        path: &pf.file.path,
        settings: fc.settings,
        content,
        diagnostics: found.iter().map(CachedDiagnostic::from).collect(),
        model,
    });
}
