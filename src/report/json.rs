//! `--output-format json`: a stable document other tools read.

use serde_json::{json, Value};

use super::{by_code, Report};
use crate::diagnostic::Diagnostic;

/// Schema version of the JSON document; bump only on incompatible changes.
pub const VERSION: u32 = 1;

pub fn diagnostic_json(d: &Diagnostic) -> Value {
    let (line, column, end_line, end_column) = match d.span {
        Some(s) => (
            json!(s.start_line),
            json!(s.start_col),
            json!(s.end_line),
            json!(s.end_col),
        ),
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    let fix = d.fix.as_ref().map(|f| {
        json!({
            "applicability": f.applicability,
            "message": f.message,
            "edits": f.edits.iter().map(|e| json!({
                "line": e.span.start_line, "column": e.span.start_col,
                "end_line": e.span.end_line, "end_column": e.span.end_col,
                "content": e.content,
            })).collect::<Vec<_>>(),
        })
    });
    let mut v = json!({
        "code": d.rule.code,
        "name": d.rule.name,
        "severity": d.severity,
        "confidence": d.confidence,
        "path": d.path.display().to_string(),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "function": d.function,
        "message": d.message,
        "help": d.help,
        "fix": fix,
    });
    // Declaration findings say which builds and which init function they are about;
    // other findings leave the keys out rather than carry empty values.
    if let Some(obj) = v.as_object_mut() {
        if !d.builds.is_empty() {
            obj.insert("builds".into(), json!(d.builds));
        }
        if let Some(init) = &d.init {
            obj.insert("init".into(), json!(init));
        }
        if !d.related.is_empty() {
            let related: Vec<_> = d
                .related
                .iter()
                .map(|r| {
                    json!({
                        "path": r.path.display().to_string(),
                        "line": r.span.map(|s| s.start_line),
                        "column": r.span.map(|s| s.start_col),
                        "end_line": r.span.map(|s| s.end_line),
                        "end_column": r.span.map(|s| s.end_col),
                        "message": r.message,
                    })
                })
                .collect();
            obj.insert("related".into(), json!(related));
        }
    }
    v
}

pub fn render(r: &Report) -> String {
    let mut summary = json!({
        "files_analysed": r.summary.analysed,
        "files_skipped": r.summary.skipped,
        "files_with_parse_errors": r.summary.with_parse_errors,
        "files_partly_analysed": r.summary.partly_analysed,
        "functions": r.summary.functions,
        "functions_parsed_cleanly": r.summary.functions_clean,
        "diagnostics": r.diagnostics.len(),
        "fixed": r.summary.fixed,
        "by_code": by_code(r.diagnostics),
        "errors": r.problems.iter().filter(|p| p.error).map(|p| json!({"path": p.path.display().to_string(), "message": p.message})).collect::<Vec<_>>(),
        "warnings": r.problems.iter().filter(|p| !p.error).map(|p| json!({"path": p.path.display().to_string(), "message": p.message})).collect::<Vec<_>>(),
    });
    if let Some(obj) = summary.as_object_mut() {
        if let Some(p) = r.project {
            let value = serde_json::to_value(p).unwrap_or_else(|e| json!({"error": e.to_string()}));
            obj.insert("project".to_owned(), value);
        }
        for (k, v) in &r.extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    let doc = json!({
        "version": VERSION,
        "tool": {"name": "ftaudit", "version": env!("CARGO_PKG_VERSION")},
        "diagnostics": r.diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
        "summary": summary,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

/// `--output-format json-lines`: one diagnostic object per line, no summary.
pub fn render_lines(r: &Report) -> String {
    let mut out = String::new();
    for d in r.diagnostics {
        out.push_str(&diagnostic_json(d).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::declare;

    #[test]
    fn builds_and_init_appear_only_when_set() {
        let plain = Diagnostic::new(&declare::PARTIAL_GIL_DECLARATION, "m.c", None, "m");
        let v = diagnostic_json(&plain);
        assert!(v.get("builds").is_none() && v.get("init").is_none(), "{v}");
        let typed = plain.with_builds(["3.13t", "3.14t"]).with_init("PyInit_m");
        let v = diagnostic_json(&typed);
        assert_eq!(v["builds"], json!(["3.13t", "3.14t"]));
        assert_eq!(v["init"], "PyInit_m");
    }
}
