//! Reporters: one per output format, all rendering the same [`Report`].

pub mod concise;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::check::FileProblem;
use crate::diagnostic::Diagnostic;
use crate::rules::build::ProjectSummary;

/// Output formats of `--output-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-like findings with source snippets, and a summary.
    Text,
    /// One line per finding (`path:line:col: CODE message`), nothing else: for editors
    /// and `errorformat`-style parsers.
    Concise,
    /// One JSON document with every finding and the summary.
    Json,
    /// One JSON object per finding and line (the `json` format's diagnostic objects),
    /// so a reader can stream them.
    JsonLines,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions workflow commands (pull-request annotations).
    Github,
}

/// Everything a reporter renders, whatever produced it (check, wheel, verify).
#[derive(Debug, Default)]
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub problems: &'a [FileProblem],
    /// Texts for source snippets, by path.
    pub sources: Option<&'a BTreeMap<PathBuf, Arc<String>>>,
    pub summary: Summary,
    /// The readiness summary of `check`: printed after the findings, and under
    /// `summary.project` in JSON.
    pub project: Option<&'a ProjectSummary>,
    /// Extra sections of the JSON summary and text footer, by producer (`wheel`,
    /// `verify`); a `text` member is printed by the text reporter.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Counts shown in every format's summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// What the counts are of: "files" for check, "wheels" for wheel, "modules" for verify.
    pub unit: &'static str,
    pub analysed: usize,
    pub skipped: usize,
    pub with_parse_errors: usize,
    /// Analysed with a budget exceeded (see `CheckResult::files_partly_analysed`).
    pub partly_analysed: usize,
    pub functions: usize,
    pub functions_clean: usize,
    pub fixed: usize,
}

/// A path for a terminal or a line-based log: control characters in file names
/// (an escape sequence, a newline) are shown escaped (`\x1b`) instead of reaching
/// the terminal or splitting the line.
pub fn terminal_path(path: &std::path::Path) -> String {
    terminal_text(&path.display().to_string())
}

/// `text` with control characters escaped (see [`terminal_path`]).
pub fn terminal_text(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Counts per rule code, sorted.
pub fn by_code(diags: &[Diagnostic]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for d in diags {
        *m.entry(d.rule.code).or_insert(0) += 1;
    }
    m
}
