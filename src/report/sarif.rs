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

fn uri(path: &std::path::Path) -> String {
    let s = path.display().to_string().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
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
