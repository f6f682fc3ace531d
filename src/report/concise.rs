//! `--output-format concise`: one line per finding and nothing else, the shape editor
//! integrations and `errorformat` parsers expect (ruff's `concise`):
//!
//! ```text
//! src/spam.c:23:1: FT001 [*] module `spam`: slot array `spam_slots` has no `Py_mod_gil` entry, ...
//! ```
//!
//! Findings without a location (wheels, verify) print `path: CODE message`. File problems
//! still go to stderr; there is no summary, so every stdout line is a finding.

use super::Report;
use crate::diagnostic::{Applicability, Confidence};

pub fn render(r: &Report, fixes_apply: bool) -> String {
    let mut out = String::new();
    for d in r.diagnostics {
        let loc = match d.span {
            Some(s) => format!("{}:{}:{}:", d.path.display(), s.start_line, s.start_col),
            None => format!("{}:", d.path.display()),
        };
        let marker = match &d.fix {
            Some(f) if fixes_apply && f.applicability == Applicability::Safe => "[*] ",
            _ => "",
        };
        let likely = if d.confidence == Confidence::Likely {
            " (likely)"
        } else {
            ""
        };
        // A message never spans lines in this format.
        let message = d.message.replace(['\r', '\n'], " ");
        out.push_str(&format!(
            "{loc} {} {marker}{message}{likely}\n",
            d.rule.code
        ));
    }
    out
}
