//! What checks see: one file with its settings ([`FileContext`]), or every file of
//! the project at once ([`ProjectContext`]).
//!
//! This sits between the C/C++ model (`source`), which knows nothing of rules or
//! settings, and the rules, which read the model through these contexts. Analyses
//! that several rules share (privacy, the project's entry-point map) are computed
//! at most once per file or per run and cached here, so a rule file asks for them
//! instead of rebuilding them.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::build::scope::ParseProblem;
use crate::diagnostic::{Diagnostic, Fix, FixRequest};
use crate::rule::Rule;
use crate::settings::Settings;
use crate::source::entry::Facts;
use crate::source::index::FileIndex;
use crate::source::preproc::{BuildConfig, FREE_THREADED_MINORS};
use crate::source::privacy::Analysis;
use crate::source::{Language, ParsedFile, SourceFile};

type MemoCell = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

/// Results of shared analyses, keyed by their type. Each is computed once.
#[derive(Default)]
pub struct Memo {
    values: Mutex<HashMap<TypeId, MemoCell>>,
}

impl Memo {
    /// The value of type `T`, computing it with `init` the first time.
    ///
    /// `init` runs without the map's lock held, so it may itself ask for other
    /// memoised values (not for `T` itself). Threads asking for `T` while it is
    /// being computed wait for it rather than compute it again (a file's checks
    /// run in parallel when the run has few files).
    pub fn get<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        let key = TypeId::of::<T>();
        let cell = self.lock().entry(key).or_default().clone();
        cell.get_or_init(|| Arc::new(init()) as Arc<dyn Any + Send + Sync>)
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("memo entries are keyed by their own type"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypeId, MemoCell>> {
        // A panic in another check cannot leave the map half-written (inserts are
        // single operations), so a poisoned lock is still safe to use.
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a per-file check sees.
pub struct FileContext<'a> {
    pub file: &'a SourceFile,
    pub index: &'a FileIndex,
    pub settings: &'a Settings,
    /// The file's entry-point facts when the run collected them during the index's
    /// walk (the shared-state rules are on): file rules that need the same facts
    /// read them here instead of walking the tree again.
    pub entry_facts: Option<&'a Facts>,
    privacy: OnceLock<Analysis<'a>>,
    /// Per-file results that the rules of one family share (see [`Memo`]).
    pub memo: Memo,
}

impl<'a> FileContext<'a> {
    pub fn new(file: &'a SourceFile, index: &'a FileIndex, settings: &'a Settings) -> Self {
        FileContext {
            file,
            index,
            settings,
            entry_facts: None,
            privacy: OnceLock::new(),
            memo: Memo::default(),
        }
    }

    pub fn enabled(&self, rule: &Rule) -> bool {
        self.settings.rule_enabled(rule, &self.file.path)
    }

    /// The free-threaded builds this project targets, for this file's language.
    pub fn ft_configs(&self) -> Arc<[BuildConfig]> {
        ft_configs(self.settings, self.file)
    }

    /// The file's privacy analysis (critical sections, fresh and private
    /// containers, init-only functions), built on first use.
    pub fn privacy(&self) -> &Analysis<'a> {
        self.privacy
            .get_or_init(|| Analysis::new(self.file, self.index, self.ft_configs()))
    }

    /// A diagnostic at a byte range of this file, with the enclosing function filled in.
    pub fn diagnostic(
        &self,
        rule: &'static Rule,
        range: (usize, usize),
        message: impl Into<String>,
    ) -> Diagnostic {
        let function = self
            .index
            .function_at(range.0)
            .map(|f| self.index.functions[f].name.as_str());
        Diagnostic::new(
            rule,
            &self.file.path,
            Some(self.file.span(range.0, range.1)),
            message,
        )
        .with_function(function)
    }
}

/// A file's privacy analysis together with its context: what the checks of the
/// borrowed-reference, unlocked-access, locking and memory families read.
/// Dereferences to the [`Analysis`].
pub struct FileAnalysis<'a, 'c> {
    pub ctx: &'c FileContext<'a>,
    analysis: &'c Analysis<'a>,
}

impl<'a, 'c> FileAnalysis<'a, 'c> {
    pub fn new(ctx: &'c FileContext<'a>) -> Self {
        FileAnalysis {
            ctx,
            analysis: ctx.privacy(),
        }
    }
}

impl<'a> std::ops::Deref for FileAnalysis<'a, '_> {
    type Target = Analysis<'a>;
    fn deref(&self) -> &Analysis<'a> {
        self.analysis
    }
}

/// Free-threaded builds at or above the project's minimum version (3.13t at least),
/// plus abi3t for 3.15.
///
/// Built once per minimum version and language and shared: every file and
/// several rules ask, and building the macro tables anew each time was a
/// measurable part of a run.
pub fn ft_configs(settings: &Settings, file: &SourceFile) -> Arc<[BuildConfig]> {
    type Shared = Mutex<rustc_hash::FxHashMap<(u32, Language), Arc<[BuildConfig]>>>;
    static SHARED: OnceLock<Shared> = OnceLock::new();
    let key = (settings.target_minor, file.language);
    let shared = SHARED.get_or_init(Default::default);
    if let Some(c) = shared.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return c.clone();
    }
    let mut v: Vec<BuildConfig> = FREE_THREADED_MINORS
        .iter()
        .filter(|m| **m >= settings.target_minor.max(13))
        .map(|m| BuildConfig::free_threaded(*m).for_language(file.language))
        .collect();
    if settings.target_minor <= 15 {
        v.push(BuildConfig::abi3t(15).for_language(file.language));
    }
    let configs: Arc<[BuildConfig]> = v.into();
    shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(configs)
        .clone()
}

/// A parsed file, its index and its settings, as project checks see it.
/// Dereferences to the [`ParsedFile`] (`pf.file`, `pf.index`).
///
/// Project checks never read a syntax tree: the pipeline releases each file's tree
/// at the end of the file's own phase, after computing here what the project
/// phase needs from it.
pub struct ProjectFile {
    pub parsed: ParsedFile,
    pub settings: Arc<Settings>,
    /// The file's entry-point facts (function references, writes, guards...),
    /// when some project check of the run reads them; their references are
    /// narrowed to the project's function names once every file is read.
    pub entry: Option<Facts>,
    /// Where the file did not parse cleanly (for the scope summary).
    pub parse_problem: Option<ParseProblem>,
    /// Fixes of requests foreseen and built while the tree was alive (see
    /// `rules::deferred::prepare`): a check attaches these instead of deferring.
    pub prepared_fixes: Vec<(FixRequest, Option<Fix>)>,
}

impl std::ops::Deref for ProjectFile {
    type Target = ParsedFile;
    fn deref(&self) -> &ParsedFile {
        &self.parsed
    }
}

impl ProjectFile {
    /// The fix built for `request` in the file's own phase: `Some(None)` when it
    /// was built and does not apply, `None` when it was not foreseen.
    pub fn prepared_fix(&self, request: &FixRequest) -> Option<Option<Fix>> {
        self.prepared_fixes
            .iter()
            .find(|(r, _)| r == request)
            .map(|(_, f)| f.clone())
    }

    /// This file's [`FileContext`].
    pub fn context(&self) -> FileContext<'_> {
        FileContext::new(&self.parsed.file, &self.parsed.index, &self.settings)
    }
}

/// What a project check sees: every parsed C/C++ file, the settings of the first
/// root, and analyses shared by the project rules.
pub struct ProjectContext<'a> {
    pub files: &'a [ProjectFile],
    pub settings: &'a Settings,
    /// Project-wide results that several rules share (the entry-point map...).
    pub memo: Memo,
}

impl<'a> ProjectContext<'a> {
    pub fn new(files: &'a [ProjectFile], settings: &'a Settings) -> Self {
        ProjectContext {
            files,
            settings,
            memo: Memo::default(),
        }
    }

    /// Is `rule` enabled for any file of the project?
    pub fn enabled_anywhere(&self, rule: &Rule) -> bool {
        self.files
            .iter()
            .any(|pf| pf.settings.rule_enabled(rule, &pf.file.path))
    }
}

/// What a build check sees: the build, CI and packaging files with their
/// settings, and the project's C/C++ files.
pub struct BuildContext<'a> {
    pub builds: &'a [(crate::build::BuildFile, Arc<Settings>)],
    pub project: &'a ProjectContext<'a>,
    /// The findings of `rules::declare::DECLARATION_RULES` from the file and project
    /// checks, before selection and suppressions: whether a hand-written module
    /// declares free-threading support is read from them.
    pub declarations: &'a [Diagnostic],
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn memo_computes_once_even_when_threads_ask_at_once() {
        struct Value(usize);
        let memo = Memo::default();
        let runs = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let v = memo.get(|| {
                        runs.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Value(7)
                    });
                    assert_eq!(v.0, 7);
                });
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Another type is another entry, and may be asked for while computing one.
        let both = memo.get(|| memo.get(|| Value(1)).0 + 1);
        assert_eq!(*both, 8);
    }
}
