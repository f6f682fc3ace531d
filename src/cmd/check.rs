//! `ftaudit check [PATHS]`, with `--fix` and `--diff`.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use super::{emit, print_stdout, ExitStatus};
use crate::cache::Cache;
use crate::check;
use crate::cli::{CheckArgs, ConfidenceFilter};
use crate::config::Overrides;
use crate::diagnostic::Confidence;
use crate::fix::apply;
use crate::report::{Format, Report, Summary};

pub fn run(args: CheckArgs) -> ExitStatus {
    // `--stdin-filename`: the text comes from stdin and stands in for the file (which
    // need not exist), so an editor's unsaved buffer is checked with the configuration
    // found from that path. Cross-file checks see this one file.
    let mut overlay = HashMap::new();
    if let Some(name) = &args.stdin_filename {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            eprintln!("ftaudit: error: cannot read stdin: {e}");
            return ExitStatus::Error;
        }
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        overlay.insert(name.clone(), text);
    }
    let paths = if let Some(name) = &args.stdin_filename {
        vec![name.clone()]
    } else if args.paths.is_empty() {
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
        force_exclude: args.force_exclude,
        all_sources: args.all_sources,
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
    let fix = args.fix || args.fix_only;
    let result = if fix || args.diff {
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
            if let Some(line) = fix_counts_line(&outcome, args.unsafe_fixes) {
                eprintln!("ftaudit: {line}");
            }
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
        if let Some(line) = fix_counts_line(&outcome, args.unsafe_fixes) {
            if !args.output.quiet {
                eprintln!("ftaudit: {line}");
            }
        }
        if args.fix_only {
            // Report the fixes and file problems only; the findings left do not
            // fail the run (ruff's `--fix-only`).
            for p in &write_problems {
                eprintln!(
                    "ftaudit: error: {}: {}",
                    crate::report::terminal_path(&p.path),
                    crate::report::terminal_text(&p.message)
                );
            }
            if !args.output.quiet {
                let files = if write_problems.is_empty() {
                    outcome.changed.len()
                } else {
                    0
                };
                let line = format!("Fixed {fixed} finding(s) in {files} file(s).");
                // Machine-readable formats keep stdout for the report alone.
                if args.output.output_format == crate::report::Format::Text {
                    print_stdout(&format!("{line}\n"));
                } else {
                    eprintln!("ftaudit: {line}");
                }
            }
            return if !write_problems.is_empty() || outcome.result.has_errors() {
                ExitStatus::Error
            } else if args.exit_non_zero_on_fix && fixed > 0 {
                ExitStatus::Findings
            } else {
                ExitStatus::Clean
            };
        }
        outcome.result
    } else {
        // The process exits after reporting: the trees need not be freed.
        check::free_at_end(check::Free::Never);
        let cache = open_cache(&args, &roots, &overlay);
        // Fixes placed on syntax trees are built only when the output carries edits.
        let edits = match args.output.output_format {
            Format::Json | Format::JsonLines => check::FixEdits::All,
            _ => check::FixEdits::MaybeSafe,
        };
        let result = check::run_with_options(&roots, &overlay, cache.as_ref(), edits);
        if let Some(cache) = &cache {
            for note in cache.take_notes() {
                eprintln!("ftaudit: warning: {note}");
            }
        }
        result
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
        project: result.project.as_ref(),
        extra: parse_errors_extra(&args, &result),
    };
    let status = emit(&report, &args.output, true, args.unsafe_fixes);
    if status == ExitStatus::Clean && args.exit_non_zero_on_fix && fixed > 0 {
        return ExitStatus::Findings;
    }
    status
}

/// "21 findings, 0 safe fixes, 3 unsafe: rerun with --unsafe-fixes": said when
/// fixes were left out because they are unsafe, so a run that changed nothing
/// does not look like there was nothing to fix.
fn fix_counts_line(outcome: &apply::FixOutcome, unsafe_fixes: bool) -> Option<String> {
    use crate::diagnostic::Applicability;
    if unsafe_fixes {
        return None;
    }
    let left = &outcome.result.diagnostics;
    let unsafe_left = left
        .iter()
        .filter(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Unsafe)
        })
        .count();
    if unsafe_left == 0 {
        return None;
    }
    let total = left.len() + outcome.applied;
    Some(format!(
        "{total} findings, {} safe fixes, {unsafe_left} unsafe: rerun with --unsafe-fixes",
        outcome.applied
    ))
}

/// `--show-parse-errors` in text output: the list after the summary (JSON carries it
/// always, under `summary.project.scope.parse_errors`).
fn parse_errors_extra(
    args: &CheckArgs,
    result: &check::CheckResult,
) -> serde_json::Map<String, serde_json::Value> {
    let mut extra = serde_json::Map::new();
    let scope = result.project.as_ref().and_then(|p| p.scope.as_ref());
    if let (true, Some(scope)) = (args.show_parse_errors, scope) {
        if matches!(args.output.output_format, crate::report::Format::Text) {
            extra.insert(
                "parse_errors".into(),
                serde_json::json!({ "text": crate::report::text::parse_errors_text(scope) }),
            );
        }
    }
    extra
}

/// The cache for this run, unless `--no-cache`, `cache = false`, or the text comes
/// from stdin. Its folder is `--cache-dir`, else the first root's `cache-dir`, else
/// its project root's `.ftaudit_cache`. A folder that cannot be created is a note,
/// and the run goes on without a cache.
fn open_cache(
    args: &CheckArgs,
    roots: &[(PathBuf, std::sync::Arc<crate::settings::Settings>)],
    overlay: &HashMap<PathBuf, String>,
) -> Option<Cache> {
    let (_, settings) = roots.first()?;
    if args.no_cache || !settings.cache || !overlay.is_empty() {
        return None;
    }
    let explicit = args.cache_dir.as_deref().or(settings.cache_dir.as_deref());
    match Cache::open(&Cache::location(explicit, settings)) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("ftaudit: warning: {e}; running without a cache");
            None
        }
    }
}
