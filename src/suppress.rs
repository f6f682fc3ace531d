//! Inline suppressions: `// ftaudit: ignore[FT001,FT002] reason` or
//! `/* ftaudit: ignore */` on the line of a finding or alone on the line before it.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::rules::{self, meta};
use crate::source::SourceFile;

/// One suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// `None`: every rule.
    pub codes: Option<Vec<String>>,
    /// 1-based lines it covers.
    pub lines: Vec<usize>,
}

/// The suppressions of a file, by line.
#[derive(Debug, Default)]
pub struct Suppressions {
    by_line: HashMap<usize, Vec<usize>>,
    all: Vec<Suppression>,
}

const MARKER: &str = "ftaudit:";

impl Suppressions {
    /// Reads the suppression comments of `file`; bad codes become FT901 diagnostics.
    pub fn parse(file: &SourceFile, invalid: &mut Vec<Diagnostic>) -> Suppressions {
        let mut s = Suppressions::default();
        for c in &file.lexed.comments {
            let text = &file.text[c.start..c.end];
            let Some(pos) = text.find(MARKER) else {
                continue;
            };
            let rest = text[pos + MARKER.len()..].trim_start();
            let Some(rest) = rest.strip_prefix("ignore") else {
                continue;
            };
            let at = c.start + pos;
            let invalid_here = |message: String| {
                Diagnostic::new(
                    &meta::INVALID_SUPPRESSION,
                    &file.path,
                    Some(file.span(at, c.end)),
                    message,
                )
            };
            // A blanket `ignore` is the word alone (then the comment's end or a
            // reason after a blank). Anything else glued to it (`ignore]X[`,
            // `ignored`, `ignore[FT1` without `]`) is a mistake, reported, and
            // suppresses nothing: it used to pass as a blanket suppression.
            let blanket =
                rest.is_empty() || rest.starts_with(char::is_whitespace) || rest.starts_with("*/");
            if !blanket && !rest.starts_with('[') {
                invalid.push(invalid_here(
                    "malformed suppression: write `ftaudit: ignore` or `ftaudit: ignore[FT101]`"
                        .to_owned(),
                ));
                continue;
            }
            let codes = match rest.strip_prefix('[') {
                Some(r) => {
                    let Some(close) = r.find(']') else {
                        invalid.push(invalid_here(
                            "malformed suppression: the list of codes has no closing `]`"
                                .to_owned(),
                        ));
                        continue;
                    };
                    let codes: Vec<String> = r[..close]
                        .split(',')
                        .map(|c| c.trim().to_owned())
                        .filter(|c| !c.is_empty())
                        .collect();
                    if codes.is_empty() {
                        invalid.push(invalid_here(
                            "suppression names no rule code (`ftaudit: ignore[]`)".to_owned(),
                        ));
                        continue;
                    }
                    for code in &codes {
                        if !rules::is_known_selector(code) {
                            invalid.push(Diagnostic::new(
                                &meta::INVALID_SUPPRESSION,
                                &file.path,
                                Some(file.span(at, c.end.min(at + MARKER.len() + 8 + close))),
                                format!(
                                    "suppression names `{code}`, which is not an ftaudit rule code"
                                ),
                            ));
                        }
                    }
                    Some(codes)
                }
                None => None,
            };
            let (line, _) = file.lines.position(&file.text, c.start);
            let line_start = file.lines.line_start(line - 1);
            let alone = file.text[line_start..c.start].trim().is_empty();
            let (end_line, _) = file.lines.position(&file.text, c.end);
            let mut lines = vec![line];
            if alone {
                lines.push(end_line + 1);
            }
            let i = s.all.len();
            for l in &lines {
                s.by_line.entry(*l).or_default().push(i);
            }
            s.all.push(Suppression { codes, lines });
        }
        s
    }

    /// Does a suppression cover `d`?
    pub fn covers(&self, d: &Diagnostic) -> bool {
        let Some(span) = d.span else { return false };
        let Some(ids) = self.by_line.get(&span.start_line) else {
            return false;
        };
        ids.iter().any(|&i| match &self.all[i].codes {
            None => true,
            Some(codes) => codes
                .iter()
                .any(|c| d.rule.code.starts_with(&c.to_ascii_uppercase())),
        })
    }
}
