//! The one diagnostic type every producer emits (static rules, build configuration,
//! wheel audit, runtime verification) and every reporter renders.

use std::path::PathBuf;

use serde::Serialize;

use crate::rule::Rule;
pub use crate::rule::Severity;

/// Whether the analysis could prove the hazard (`Certain`) or could not rule out a
/// safe use (`Likely`, for example a container whose origin it cannot see).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Likely,
    Certain,
}

/// A location in a text file. Byte offsets index the file as read; lines and
/// columns are 1-based, columns count characters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, serde::Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub start_line: usize,
    pub start_col: usize,
    pub end_line: usize,
    pub end_col: usize,
}

/// Whether a fix may be applied by `--fix` alone (`Safe`) or needs `--unsafe-fixes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    Safe,
    Unsafe,
}

/// Replace `span` of the file with `content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

/// A mechanical fix: edits on the diagnostic's own file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Fix {
    pub applicability: Applicability,
    pub message: String,
    pub edits: Vec<Edit>,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub confidence: Confidence,
    pub path: PathBuf,
    /// `None` for findings about a file as a whole (a wheel, a module import).
    pub span: Option<Span>,
    /// The enclosing C function, when there is one.
    pub function: Option<String>,
    pub message: String,
    pub help: Option<String>,
    pub fix: Option<Fix>,
    /// A fix whose edits are built only when the run needs them (see
    /// [`DeferredFix`]); kept once built into `fix`, so that what is said about
    /// the fix does not depend on whether this run built it.
    pub deferred_fix: Option<DeferredFix>,
    /// The extension module the finding is about, when a rule knows it (FT0xx).
    pub module: Option<String>,
    /// The builds a declaration finding is about (`3.13t`, `3.14t`, `abi3t`...):
    /// for FT005 the builds left without a declaration, for FT004 the build the
    /// conflicting declaration is compiled for. Empty for other findings.
    pub builds: Vec<String>,
    /// The init function of the module a declaration finding is about
    /// (`PyInit_spam`), when the rule knows it.
    pub init: Option<String>,
    /// Other places that explain the finding (the conflicting writer of a field, the
    /// function that frees what this one reads): a `note:` line in text, `related` in
    /// JSON, `relatedLocations` in SARIF. Empty for most findings.
    pub related: Vec<Related>,
}

/// What a project check asks to rewrite, when the edits need the file's syntax
/// tree: trees are released after each file's own phase, so the pipeline builds
/// these fixes at the end of a run that needs edits (`--fix`, `--diff`, JSON
/// output), re-parsing only the files that have such requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DeferredFix {
    /// The file is parsed as C++.
    pub cpp: bool,
    pub request: FixRequest,
    /// Built: `fix` holds the result (or `None`: the rewrite does not apply).
    #[serde(default)]
    pub built: bool,
}

impl DeferredFix {
    pub fn new(cpp: bool, request: FixRequest) -> DeferredFix {
        DeferredFix {
            cpp,
            request,
            built: false,
        }
    }
}

/// The rewrite a [`DeferredFix`] stands for, with what its rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
// Externally tagged (not `tag = "kind"`): the cache's binary file entries store
// requests, and bincode cannot read internally tagged enums.
#[serde(rename_all = "kebab-case")]
pub enum FixRequest {
    /// FT001: declare support after the module that the call at `create` makes.
    SetGil { create: (usize, usize) },
    /// FT401: the counter whose name starts at `name_at` becomes atomic.
    AtomicCounter { name_at: usize, name: String },
    /// FT403: the static buffer whose name starts at `name_at` becomes a local (or
    /// thread-local when `escapes`).
    ScratchBuffer {
        name_at: usize,
        name: String,
        escapes: bool,
    },
    /// FT406/FT409: the body of the function at `at` runs in a critical section
    /// on `object`.
    LockBody {
        at: usize,
        object: String,
        target_minor: u32,
    },
}

impl FixRequest {
    /// Can the fix be safe? Text output marks safe fixes, so those are built for
    /// it too; unsafe ones only count ("up to N more").
    pub fn may_be_safe(&self) -> bool {
        matches!(self, FixRequest::ScratchBuffer { .. })
    }
}

/// A secondary location of a finding, with what happens there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub path: PathBuf,
    pub span: Option<Span>,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic with the rule's default severity, certain confidence, no fix.
    pub fn new(
        rule: &'static Rule,
        path: impl Into<PathBuf>,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity: rule.severity,
            confidence: Confidence::Certain,
            path: path.into(),
            span,
            function: None,
            message: message.into(),
            help: None,
            fix: None,
            deferred_fix: None,
            module: None,
            builds: Vec::new(),
            init: None,
            related: Vec::new(),
        }
    }

    /// Adds a secondary location (see [`Diagnostic::related`]).
    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_function(mut self, function: Option<&str>) -> Self {
        self.function = function.map(str::to_owned);
        self
    }

    pub fn with_module(mut self, module: &str) -> Self {
        self.module = Some(module.to_owned());
        self
    }

    /// The builds a declaration finding is about (see [`Diagnostic::builds`]).
    pub fn with_builds<S: AsRef<str>>(mut self, builds: impl IntoIterator<Item = S>) -> Self {
        self.builds = builds.into_iter().map(|b| b.as_ref().to_owned()).collect();
        self
    }

    pub fn with_init(mut self, init: &str) -> Self {
        self.init = Some(init.to_owned());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// A fix built later from the file's syntax tree (see [`DeferredFix`]).
    pub fn with_deferred_fix(mut self, fix: DeferredFix) -> Self {
        self.deferred_fix = Some(fix);
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    pub fn code(&self) -> &'static str {
        self.rule.code
    }

    /// Sort key: path, then position, then code, so output is deterministic.
    pub fn sort_key(&self) -> (PathBuf, usize, usize, &'static str) {
        let (l, c) = self
            .span
            .map(|s| (s.start_line, s.start_col))
            .unwrap_or((0, 0));
        (self.path.clone(), l, c, self.rule.code)
    }
}

/// Maps byte offsets of one text to 1-based line and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // memchr's vectorised search: a byte-at-a-time scan of every file was half
        // a percent of a run.
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// 0-based line number containing byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_start(&self, line0: usize) -> usize {
        self.line_starts.get(line0).copied().unwrap_or(usize::MAX)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based (line, column) for a byte offset; the column counts characters.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line0 = self.line_of(offset);
        let start = self.line_starts[line0];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line0 + 1, col + 1)
    }

    pub fn span(&self, text: &str, start: usize, end: usize) -> Span {
        let (start_line, start_col) = self.position(text, start);
        let (end_line, end_col) = self.position(text, end);
        Span {
            start,
            end,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }

    /// The text of 1-based `line`, without its line terminator.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.line_starts.get(line).copied().unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}
