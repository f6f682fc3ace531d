//! `ftaudit check [PATHS]`, with `--fix` and `--diff`.

use std::path::PathBuf;

use super::{emit, print_stdout, ExitStatus};
use crate::check;
use crate::cli::{CheckArgs, ConfidenceFilter};
use crate::config::Overrides;
use crate::diagnostic::Confidence;
use crate::fix::apply;
use crate::report::{Report, Summary};

pub fn run(args: CheckArgs) -> ExitStatus {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let ov = Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        extend_exclude: args.extend_exclude.clone(),
        target_version: args.target_version.clone(),
        config_file: args.config.clone(),
        isolated: args.isolated,
    };
    if let Some(c) = &args.config {
        if !c.is_file() {
            eprintln!(
                "ftaudit: error: {}: configuration file not found",
                c.display()
            );
            return ExitStatus::Error;
        }
    }
    let roots = match check::resolve_settings(&paths, &ov) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ftaudit: error: {e}");
            return ExitStatus::Error;
        }
    };
    let mut fixed = 0;
    let mut write_problems = Vec::new();
    let result = if args.fix || args.diff {
        let outcome = apply::fix_in_memory(&roots, args.unsafe_fixes);
        if args.diff {
            let mut diff = String::new();
            for (path, (old, new)) in &outcome.changed {
                diff.push_str(&apply::unified_diff(path, old, new));
            }
            print_stdout(&diff);
            let status = if outcome.changed.is_empty() {
                ExitStatus::Clean
            } else {
                ExitStatus::Findings
            };
            eprintln!(
                "ftaudit: {} would be fixed in {} file(s)",
                outcome.applied,
                outcome.changed.len()
            );
            return if outcome.result.has_errors() {
                ExitStatus::Error
            } else {
                status
            };
        }
        for (path, (old, new)) in &outcome.changed {
            match apply::write_atomically(path, old, new) {
                Ok(()) => {}
                Err(message) => write_problems.push(check::FileProblem {
                    path: path.clone(),
                    message,
                    error: true,
                }),
            }
        }
        fixed = if write_problems.is_empty() {
            outcome.applied
        } else {
            0
        };
        outcome.result
    } else {
        check::run(&roots, &Default::default())
    };
    let mut result = result;
    if args.confidence == ConfidenceFilter::Certain {
        result
            .diagnostics
            .retain(|d| d.confidence == Confidence::Certain);
    }
    let mut problems = result.problems.clone();
    problems.extend(write_problems);
    let report = Report {
        diagnostics: &result.diagnostics,
        problems: &problems,
        sources: Some(&result.sources),
        summary: Summary {
            unit: "files",
            analysed: result.files_analysed,
            skipped: result.files_skipped,
            with_parse_errors: result.files_with_parse_errors,
            partly_analysed: result.files_partly_analysed,
            functions: result.functions,
            functions_clean: result.functions_clean,
            fixed,
        },
        extra: project_extra(&result),
    };
    emit(&report, &args.output, true, args.unsafe_fixes)
}

/// The readiness summary under the `project` key (text reporter prints its `text`).
fn project_extra(result: &check::CheckResult) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    if let Some(p) = &result.project {
        m.insert("project".to_owned(), p.json.clone());
    }
    m
}
