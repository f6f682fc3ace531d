//! `--output-format sarif`: SARIF 2.1.0, one run, every rule with its help text.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::Report;
use crate::diagnostic::Severity;
use crate::rules;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a SARIF `uri` (a relative reference, RFC 3986): every byte outside
/// the unreserved and harmless characters is percent-encoded, so that `a:b.c` is
/// not read as scheme `a`, `#` and `?` do not start a fragment or query, and file
/// names that are not UTF-8 survive. `\` is a separator only on Windows; elsewhere
/// it is part of the name and is encoded.
pub fn uri(path: &std::path::Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let bytes = bytes.strip_prefix(b"./").unwrap_or(bytes);
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' if cfg!(windows) => out.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(b as char),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            b'*' | b'+' | b',' | b';' | b'=' | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let all = rules::all();
    let used: BTreeSet<&str> = r.diagnostics.iter().map(|d| d.rule.code).collect();
    let rule_list: Vec<&&rules::Rule> = all
        .iter()
        .filter(|x| used.contains(x.code) || used.is_empty())
        .collect();
    let rule_index = |code: &str| rule_list.iter().position(|x| x.code == code);
    let rules_json: Vec<Value> = rule_list
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": rule.doc, "markdown": rule.doc},
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {"fix": rule.fix.as_str()},
            })
        })
        .collect();
    let results: Vec<Value> = r
        .diagnostics
        .iter()
        .map(|d| {
            let mut physical = json!({"artifactLocation": {"uri": uri(&d.path)}});
            if let Some(s) = d.span {
                physical["region"] = json!({
                    "startLine": s.start_line, "startColumn": s.start_col,
                    "endLine": s.end_line, "endColumn": s.end_col,
                });
            }
            let mut msg = d.message.clone();
            if let Some(h) = &d.help {
                msg.push_str(&format!(" (help: {h})"));
            }
            let mut res = json!({
                "ruleId": d.rule.code,
                "level": level(d.severity),
                "message": {"text": msg},
                "locations": [{"physicalLocation": physical}],
                "properties": {"confidence": d.confidence},
            });
            if let Some(i) = rule_index(d.rule.code) {
                res["ruleIndex"] = json!(i);
            }
            if let Some(f) = &d.function {
                res["locations"][0]["logicalLocations"] = json!([{"name": f, "kind": "function"}]);
            }
            if !d.related.is_empty() {
                let related: Vec<Value> = d
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let mut physical = json!({"artifactLocation": {"uri": uri(&r.path)}});
                        if let Some(s) = r.span {
                            physical["region"] = json!({
                                "startLine": s.start_line, "startColumn": s.start_col,
                                "endLine": s.end_line, "endColumn": s.end_col,
                            });
                        }
                        json!({"id": i, "physicalLocation": physical, "message": {"text": r.message}})
                    })
                    .collect();
                res["relatedLocations"] = json!(related);
            }
            res
        })
        .collect();
    let notifications: Vec<Value> = r
        .problems
        .iter()
        .map(|p| {
            json!({
                "level": if p.error { "error" } else { "warning" },
                "message": {"text": p.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&p.path)}}}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ftaudit",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.python.org/3/howto/free-threading-extensions.html",
                "rules": rules_json,
            }},
            "invocations": [{
                "executionSuccessful": !r.problems.iter().any(|p| p.error),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
