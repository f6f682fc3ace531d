//! What the cache stores: serialisable mirrors of the run's typed results.
//!
//! [`Diagnostic`] names its rule by reference; here it is stored by code and looked
//! up in the registry when read back (an unknown code makes the entry corrupt).
//! The conversions take every field of the originals by name, so a field added to
//! them later does not compile until the cache stores it too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Hash;
use crate::build::scope::ParseProblem;
use crate::check::{CheckResult, FileProblem, ModuleInitSite};
use crate::context::ProjectFile;
use crate::diagnostic::{
    Applicability, Confidence, DeferredFix, Diagnostic, Edit, Fix, FixRequest, Related, Severity,
    Span,
};
use crate::rules::build::ProjectSummary;
use crate::rules::registry;
use crate::settings::Settings;
use crate::source::entry::Facts;
use crate::source::index::FileIndex;
use crate::source::lex::Lexed;
use crate::source::partial::TopItems;
use crate::source::{KeptWords, Language, ParsedFile, SourceFile};

/// One C/C++ file's entry, as read back (written as [`FileEntryOut`]).
#[derive(Debug, Deserialize)]
pub struct FileEntry {
    pub format: u32,
    pub version: String,
    pub path: PathBuf,
    /// Fingerprint of the file's settings.
    pub settings: Hash,
    /// Hash of the file's bytes as read.
    pub content: Hash,
    /// The findings of the file checks (before selection and suppressions filter
    /// them, as the pipeline has them at that point).
    pub diagnostics: Vec<CachedDiagnostic>,
    pub model: FileModel,
}

/// What the project phase keeps of a file once its tree is released
/// ([`ProjectFile`] without the text, which the run reads anyway, and without what
/// is rebuilt cheaply from the text: line index, condition map). A file whose
/// entry matches is rebuilt from this without lexing, masking or parsing.
#[derive(Debug, Deserialize)]
pub struct FileModel {
    pub language: Language,
    pub lexed: Lexed,
    /// The masked text tree-sitter parsed (project checks read it; deferred fixes
    /// parse it again).
    pub parse_text: String,
    pub kept_words: KeptWords,
    /// The top-level items of the parse (deferred fixes parse some again).
    pub top_items: Option<TopItems>,
    pub parse_limits: Vec<String>,
    /// ERROR and MISSING nodes of the tree.
    pub parse_errors: usize,
    pub index: FileIndex,
    /// Present when the run that wrote the entry computed them.
    pub entry: Option<Facts>,
    pub parse_problem: Option<ParseProblem>,
    pub prepared_fixes: Vec<(FixRequest, Option<Fix>)>,
}

/// [`FileEntry`] as written: the same fields, borrowed from the run's values.
#[derive(Serialize)]
pub struct FileEntryOut<'a> {
    pub format: u32,
    pub version: &'a str,
    pub path: &'a Path,
    pub settings: Hash,
    pub content: Hash,
    pub diagnostics: Vec<CachedDiagnostic>,
    pub model: FileModelOut<'a>,
}

/// [`FileModel`] as written.
#[derive(Serialize)]
pub struct FileModelOut<'a> {
    language: Language,
    lexed: &'a Lexed,
    parse_text: &'a str,
    kept_words: &'a KeptWords,
    top_items: Option<&'a TopItems>,
    parse_limits: &'a [String],
    parse_errors: usize,
    index: &'a FileIndex,
    entry: Option<&'a Facts>,
    parse_problem: Option<&'a ParseProblem>,
    prepared_fixes: &'a [(FixRequest, Option<Fix>)],
}

impl<'a> FileModelOut<'a> {
    /// What `pf` keeps, once its tree is released (`None` before).
    pub fn of(pf: &'a ProjectFile, parse_errors: usize) -> Option<FileModelOut<'a>> {
        let ProjectFile {
            parsed: ParsedFile { file, index },
            settings: _,
            entry,
            parse_problem,
            prepared_fixes,
        } = pf;
        Some(FileModelOut {
            language: file.language,
            lexed: &file.lexed,
            parse_text: &file.parse_text,
            kept_words: file.kept_words()?,
            top_items: file.top_items(),
            parse_limits: &file.parse_limits,
            parse_errors,
            index,
            entry: entry.as_ref(),
            parse_problem: parse_problem.as_ref(),
            prepared_fixes,
        })
    }
}

impl FileModel {
    /// The project file back, with the text of the bytes whose hash matched the
    /// entry's (and how they were decoded), and its number of parse errors.
    /// `None` when the run needs entry-point facts the entry does not have.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        self,
        path: PathBuf,
        text: String,
        lossy: bool,
        cr_line_ends: bool,
        settings: Arc<Settings>,
        entry_facts: bool,
    ) -> Option<(ProjectFile, usize)> {
        let FileModel {
            language,
            lexed,
            parse_text,
            kept_words,
            top_items,
            parse_limits,
            parse_errors,
            index,
            entry,
            parse_problem,
            prepared_fixes,
        } = self;
        if entry_facts && entry.is_none() {
            return None;
        }
        // Offsets in the entry index this text: a text of another length is not
        // the one the entry was made from (the content hash says it is; this keeps
        // a colliding or doctored entry from reading past the end).
        if parse_text.len() != text.len() {
            return None;
        }
        let file = SourceFile::restore(
            path,
            text,
            lossy,
            cr_line_ends,
            language,
            lexed,
            parse_text,
            kept_words,
            parse_limits,
            top_items,
        );
        Some((
            ProjectFile {
                parsed: ParsedFile { file, index },
                settings,
                entry: entry.filter(|_| entry_facts),
                parse_problem,
                prepared_fixes,
            },
            parse_errors,
        ))
    }
}

/// The whole result of one run, for an unchanged re-run.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunEntry {
    pub format: u32,
    pub version: String,
    /// Hash of the roots, their settings, and every discovered file with its
    /// content hash (see `check::run_key`).
    pub key: Hash,
    pub result: CachedResult,
}

/// How the text of a file in `CheckResult::sources` was decoded from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    /// A C/C++ file (`SourceFile::decode`: lossy UTF-8, bare CRs made LFs).
    Source,
    /// A build file (lossy UTF-8).
    Build,
}

/// [`CheckResult`] without the texts (which the re-run reads anyway).
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedResult {
    pub diagnostics: Vec<CachedDiagnostic>,
    pub files_analysed: usize,
    pub files_skipped: usize,
    pub files_with_parse_errors: usize,
    pub files_partly_analysed: usize,
    pub functions: usize,
    pub functions_clean: usize,
    pub problems: Vec<CachedProblem>,
    pub sources: Vec<(PathBuf, TextKind)>,
    pub lossy: Vec<PathBuf>,
    pub project: Option<ProjectSummary>,
    pub module_inits: Vec<CachedInit>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CachedProblem {
    pub path: PathBuf,
    pub message: String,
    pub error: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CachedInit {
    pub module: String,
    pub function: String,
    pub path: PathBuf,
    pub span: CachedSpan,
}

/// A [`Span`] as six numbers.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CachedSpan([usize; 6]);

impl From<Span> for CachedSpan {
    fn from(s: Span) -> Self {
        let Span {
            start,
            end,
            start_line,
            start_col,
            end_line,
            end_col,
        } = s;
        CachedSpan([start, end, start_line, start_col, end_line, end_col])
    }
}

impl From<CachedSpan> for Span {
    fn from(c: CachedSpan) -> Self {
        let [start, end, start_line, start_col, end_line, end_col] = c.0;
        Span {
            start,
            end,
            start_line,
            start_col,
            end_line,
            end_col,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedEdit {
    pub span: CachedSpan,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedFix {
    /// `safe` or `unsafe`.
    pub applicability: String,
    pub message: String,
    pub edits: Vec<CachedEdit>,
}

/// A [`Diagnostic`] by rule code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedDiagnostic {
    pub code: String,
    pub severity: String,
    pub confidence: String,
    pub path: PathBuf,
    pub span: Option<CachedSpan>,
    pub function: Option<String>,
    pub message: String,
    pub help: Option<String>,
    pub fix: Option<CachedFix>,
    /// [`Diagnostic::deferred_fix`]: a fix not built in the run that wrote the entry.
    #[serde(default)]
    pub deferred_fix: Option<DeferredFix>,
    pub module: Option<String>,
    pub builds: Vec<String>,
    pub init: Option<String>,
    /// [`Diagnostic::related`] (empty when there are none).
    #[serde(default)]
    pub related: Vec<CachedRelated>,
}

/// A [`Related`] location.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedRelated {
    pub path: PathBuf,
    pub span: Option<CachedSpan>,
    pub message: String,
}

fn confidence_str(c: Confidence) -> &'static str {
    match c {
        Confidence::Likely => "likely",
        Confidence::Certain => "certain",
    }
}

fn applicability_str(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
    }
}

impl From<&Diagnostic> for CachedDiagnostic {
    fn from(d: &Diagnostic) -> Self {
        let Diagnostic {
            rule,
            severity,
            confidence,
            path,
            span,
            function,
            message,
            help,
            fix,
            deferred_fix,
            module,
            builds,
            init,
            related,
        } = d;
        CachedDiagnostic {
            code: rule.code.to_owned(),
            severity: severity.as_str().to_owned(),
            confidence: confidence_str(*confidence).to_owned(),
            path: path.clone(),
            span: span.map(CachedSpan::from),
            function: function.clone(),
            message: message.clone(),
            help: help.clone(),
            fix: fix.as_ref().map(|f| {
                let Fix {
                    applicability,
                    message,
                    edits,
                } = f;
                CachedFix {
                    applicability: applicability_str(*applicability).to_owned(),
                    message: message.clone(),
                    edits: edits
                        .iter()
                        .map(|e| CachedEdit {
                            span: e.span.into(),
                            content: e.content.clone(),
                        })
                        .collect(),
                }
            }),
            deferred_fix: deferred_fix.clone(),
            module: module.clone(),
            builds: builds.clone(),
            init: init.clone(),
            related: related
                .iter()
                .map(|r| CachedRelated {
                    path: r.path.clone(),
                    span: r.span.map(CachedSpan::from),
                    message: r.message.clone(),
                })
                .collect(),
        }
    }
}

impl CachedDiagnostic {
    /// The diagnostic back, or `None` when the entry names something this version
    /// does not know (then the entry is not used).
    pub fn restore(&self) -> Option<Diagnostic> {
        let rule = registry::by_code(&self.code)?;
        let severity = [Severity::Info, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|s| s.as_str() == self.severity)?;
        let confidence = [Confidence::Likely, Confidence::Certain]
            .into_iter()
            .find(|c| confidence_str(*c) == self.confidence)?;
        let fix = match &self.fix {
            None => None,
            Some(f) => Some(Fix {
                applicability: [Applicability::Safe, Applicability::Unsafe]
                    .into_iter()
                    .find(|a| applicability_str(*a) == f.applicability)?,
                message: f.message.clone(),
                edits: f
                    .edits
                    .iter()
                    .map(|e| Edit {
                        span: e.span.into(),
                        content: e.content.clone(),
                    })
                    .collect(),
            }),
        };
        Some(Diagnostic {
            rule,
            severity,
            confidence,
            path: self.path.clone(),
            span: self.span.map(Span::from),
            function: self.function.clone(),
            message: self.message.clone(),
            help: self.help.clone(),
            fix,
            deferred_fix: self.deferred_fix.clone(),
            module: self.module.clone(),
            builds: self.builds.clone(),
            init: self.init.clone(),
            related: self
                .related
                .iter()
                .map(|r| Related {
                    path: r.path.clone(),
                    span: r.span.map(Span::from),
                    message: r.message.clone(),
                })
                .collect(),
        })
    }
}

/// Restores every diagnostic, or none (an unknown code spoils the entry).
pub fn restore_all(cached: &[CachedDiagnostic]) -> Option<Vec<Diagnostic>> {
    cached.iter().map(CachedDiagnostic::restore).collect()
}

impl CachedResult {
    /// The result without its texts; `sources` says how each text was decoded.
    pub fn of(r: &CheckResult, sources: Vec<(PathBuf, TextKind)>) -> CachedResult {
        let CheckResult {
            diagnostics,
            files_analysed,
            files_skipped,
            files_with_parse_errors,
            files_partly_analysed,
            functions,
            functions_clean,
            problems,
            sources: _,
            lossy,
            project,
            module_inits,
        } = r;
        CachedResult {
            diagnostics: diagnostics.iter().map(CachedDiagnostic::from).collect(),
            files_analysed: *files_analysed,
            files_skipped: *files_skipped,
            files_with_parse_errors: *files_with_parse_errors,
            files_partly_analysed: *files_partly_analysed,
            functions: *functions,
            functions_clean: *functions_clean,
            problems: problems
                .iter()
                .map(|p| CachedProblem {
                    path: p.path.clone(),
                    message: p.message.clone(),
                    error: p.error,
                })
                .collect(),
            sources,
            lossy: lossy.clone(),
            project: project.clone(),
            module_inits: module_inits
                .iter()
                .map(|m| CachedInit {
                    module: m.module.clone(),
                    function: m.function.clone(),
                    path: m.path.clone(),
                    span: m.span.into(),
                })
                .collect(),
        }
    }

    /// The result back, without texts (the caller adds them), or `None` when the
    /// entry names something this version does not know.
    pub fn restore(&self) -> Option<CheckResult> {
        Some(CheckResult {
            diagnostics: restore_all(&self.diagnostics)?,
            files_analysed: self.files_analysed,
            files_skipped: self.files_skipped,
            files_with_parse_errors: self.files_with_parse_errors,
            files_partly_analysed: self.files_partly_analysed,
            functions: self.functions,
            functions_clean: self.functions_clean,
            problems: self
                .problems
                .iter()
                .map(|p| FileProblem {
                    path: p.path.clone(),
                    message: p.message.clone(),
                    error: p.error,
                })
                .collect(),
            sources: Default::default(),
            lossy: self.lossy.clone(),
            project: self.project.clone(),
            module_inits: self
                .module_inits
                .iter()
                .map(|m| ModuleInitSite {
                    module: m.module.clone(),
                    function: m.function.clone(),
                    path: m.path.clone(),
                    span: m.span.into(),
                })
                .collect(),
        })
    }
}
