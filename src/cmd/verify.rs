//! `ftaudit verify`: import built modules under a free-threaded CPython (FT8xx).

use std::time::Duration;

use super::{emit, ExitStatus};
use crate::cli::VerifyArgs;
use crate::report::{Report, Summary};
use crate::runtime::verify::{self, Options, Verdict};

pub fn run(args: VerifyArgs) -> ExitStatus {
    if args.paths.is_empty() && args.package.is_empty() && args.module.is_empty() {
        eprintln!("ftaudit: error: nothing to verify: give files or folders of built modules, --package NAME or --module NAME");
        return ExitStatus::Error;
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        eprintln!("ftaudit: error: --timeout must be a positive number of seconds");
        return ExitStatus::Error;
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let opts = Options {
        python: args.python.clone(),
        paths: args.paths.clone(),
        packages: args.package.clone(),
        modules: args.module.clone(),
        source: args.source.clone(),
        timeout: Duration::from_secs_f64(args.timeout),
        jobs,
    };
    let result = match verify::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ftaudit: error: {e}");
            return ExitStatus::Error;
        }
    };
    let mut extra = serde_json::Map::new();
    extra.insert("verify".into(), verify::summary_json(&result));
    let report = Report {
        diagnostics: &result.diagnostics,
        problems: &result.problems,
        sources: Some(&result.sources),
        summary: Summary {
            unit: "modules",
            analysed: result
                .results
                .iter()
                .filter(|r| r.verdict != Verdict::NotAModule)
                .count(),
            skipped: result
                .results
                .iter()
                .filter(|r| r.verdict == Verdict::NotAModule)
                .count(),
            ..Default::default()
        },
        extra,
    };
    emit(&report, &args.output, false, false)
}
