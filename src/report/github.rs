//! `--output-format github`: workflow commands that annotate a pull request.

use super::Report;
use crate::diagnostic::Severity;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for d in r.diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = vec![format!(
            "file={}",
            escape_property(&super::terminal_path(&d.path))
        )];
        if let Some(s) = d.span {
            props.push(format!("line={}", s.start_line));
            props.push(format!("col={}", s.start_col));
            props.push(format!("endLine={}", s.end_line));
            props.push(format!("endColumn={}", s.end_col));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} ({})", d.rule.code, d.rule.name))
        ));
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            escape_data(&format!("{} {}", d.rule.code, d.message))
        ));
    }
    out
}
