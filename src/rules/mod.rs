//! The rule registry: every rule's code, name, severity, documentation and the
//! checks that produce its diagnostics.
//!
//! A rule family lives in one file (`declare.rs` for FT0xx, ...). Each family
//! exports `RULES` (its [`Rule`] statics) and its checks: per-file checks run in
//! parallel on each parsed file, project checks run once with every file's index.

pub mod access;
pub mod binary;
pub mod bindings;
pub mod borrowed;
pub mod build;
pub mod declare;
pub mod locking;
pub mod locks;
pub mod memory;
pub mod meta;
pub mod project;
pub mod runtime;
pub mod state;

use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::index::FileIndex;
use crate::source::preproc::{BuildConfig, FREE_THREADED_MINORS};
use crate::source::SourceFile;

/// Whether a rule can fix what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    /// Applied by `--fix`.
    Safe,
    /// Applied only with `--unsafe-fixes`.
    Unsafe,
    /// Some findings have a fix; which kind is said per finding.
    Sometimes,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Safe => "safe",
            FixAvailability::Unsafe => "unsafe",
            FixAvailability::Sometimes => "sometimes",
        }
    }
}

/// Static facts about one rule. `doc` is the single source of `ftaudit rule CODE`,
/// `docs/rules.md` and the SARIF rule help.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown with the sections *What it does*, *Why is this bad?*, *Example*,
    /// *Use instead*, *References*.
    pub doc: &'static str,
    pub fix: FixAvailability,
}

/// The families, in code order.
pub const FAMILIES: [(&str, &str); 10] = [
    ("FT0", "Declaring free-threading support"),
    ("FT1", "Borrowed references"),
    ("FT2", "Unlocked access"),
    ("FT3", "Locks and thread state"),
    ("FT4", "Shared state"),
    ("FT5", "Memory domains"),
    ("FT6", "Build and packaging"),
    ("FT7", "Built binaries"),
    ("FT8", "Runtime"),
    ("FT9", "ftaudit itself"),
];

/// Every rule, sorted by code.
pub fn all() -> Vec<&'static Rule> {
    let mut v: Vec<&'static Rule> = Vec::new();
    v.extend_from_slice(binary::RULES);
    v.extend_from_slice(declare::RULES);
    v.extend_from_slice(borrowed::RULES);
    v.extend_from_slice(access::RULES);
    v.extend_from_slice(locking::RULES);
    v.extend_from_slice(memory::RULES);
    v.extend_from_slice(meta::RULES);
    v.extend_from_slice(build::RULES);
    v.extend_from_slice(bindings::RULES);
    v.extend_from_slice(runtime::RULES);
    v.extend_from_slice(state::RULES);
    v.extend_from_slice(locks::RULES);
    v.sort_by_key(|r| r.code);
    v
}

/// Looks a rule up by code (`FT001`) or name (`missing-gil-slot`), case-insensitively.
pub fn by_code(code: &str) -> Option<&'static Rule> {
    all()
        .into_iter()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name.eq_ignore_ascii_case(code))
}

/// Is `s` a rule code or a prefix of one (`FT`, `FT0`, `FT00`, `FT001`)?
pub fn is_known_selector(s: &str) -> bool {
    s.eq_ignore_ascii_case("ALL")
        || all()
            .iter()
            .any(|r| r.code.starts_with(&s.to_ascii_uppercase()))
}

/// What a per-file check sees.
pub struct FileContext<'a> {
    pub file: &'a SourceFile,
    pub index: &'a FileIndex,
    pub settings: &'a Settings,
}

impl FileContext<'_> {
    pub fn enabled(&self, rule: &Rule) -> bool {
        self.settings.rule_enabled(rule, &self.file.path)
    }

    /// The free-threaded builds this project targets, for this file's language.
    pub fn ft_configs(&self) -> Vec<BuildConfig> {
        ft_configs(self.settings, self.file)
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

/// Free-threaded builds at or above the project's minimum version (3.13t at least),
/// plus abi3t for 3.15.
pub fn ft_configs(settings: &Settings, file: &SourceFile) -> Vec<BuildConfig> {
    let mut v: Vec<BuildConfig> = FREE_THREADED_MINORS
        .iter()
        .filter(|m| **m >= settings.target_minor.max(13))
        .map(|m| BuildConfig::free_threaded(*m).for_language(file.language))
        .collect();
    if settings.target_minor <= 15 {
        v.push(BuildConfig::abi3t(15).for_language(file.language));
    }
    v
}

/// A check over one file.
pub type FileCheck = fn(&FileContext, &mut Vec<Diagnostic>);

/// A check over every file at once.
pub type ProjectCheck = fn(&[ProjectFile], &Settings, &mut Vec<Diagnostic>);

/// A parsed file and its index, as project checks see it.
pub struct ProjectFile {
    pub file: SourceFile,
    pub index: FileIndex,
    pub settings: std::sync::Arc<Settings>,
}

/// Per-file checks of every family.
pub const FILE_CHECKS: &[FileCheck] = &[
    declare::check_file,
    borrowed::check_file,
    access::check_file,
    locking::check_file,
    memory::check_file,
    locks::check_file,
];

/// Project checks of every family over C/C++ files. The FT6xx build checks see
/// build files too and are called by `check::run` directly ([`build::check_build`]).
pub const PROJECT_CHECKS: &[ProjectCheck] = &[declare::check_project, state::check_project];
