//! `ftaudit verify`: import built modules under a free-threaded CPython (FT8xx).

use std::time::Duration;

use super::{emit, ExitStatus};
use crate::cli::VerifyArgs;
use crate::report::{Report, Summary};
use crate::rules;
use crate::runtime::verify::{self, Options, Verdict};

pub fn run(args: VerifyArgs) -> ExitStatus {
    if args.paths.is_empty() && args.package.is_empty() && args.module.is_empty() {
        eprintln!("ftaudit: error: nothing to verify: give files or folders of built modules, --package NAME or --module NAME");
        return ExitStatus::Error;
    }
    let Some(timeout) = timeout(args.timeout) else {
        eprintln!(
            "ftaudit: error: --timeout must be a number of seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT} (one day), not {}",
            args.timeout
        );
        return ExitStatus::Error;
    };
    let selectors = args.select.iter().flatten().chain(&args.ignore);
    if let Some(bad) = selectors.into_iter().find(|s| !rules::is_known_selector(s)) {
        eprintln!(
            "ftaudit: error: `{bad}` is not a rule code or prefix (see `ftaudit rule --all`)"
        );
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
        timeout,
        jobs,
    };
    let mut result = match verify::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ftaudit: error: {e}");
            return ExitStatus::Error;
        }
    };
    result
        .diagnostics
        .retain(|d| selected(d.rule.code, args.select.as_deref(), &args.ignore));
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
        project: None,
        extra,
    };
    emit(&report, &args.output, false, false)
}

/// Bounds of `--timeout`, in seconds. Below a millisecond every import would count as
/// hung; above a day the value is a typo (and `1e300` does not fit a `Duration`).
const MIN_TIMEOUT: f64 = 0.001;
const MAX_TIMEOUT: f64 = 86_400.0;

/// The time limit for `--timeout SECONDS`, or `None` when it is out of bounds.
fn timeout(seconds: f64) -> Option<Duration> {
    if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&seconds) {
        return None; // also NaN
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// Is `code` selected? The longest matching selector wins, as in `check`.
fn selected(code: &str, select: Option<&[String]>, ignore: &[String]) -> bool {
    let best = |list: &[String]| {
        list.iter()
            .map(|s| s.to_ascii_uppercase())
            .filter(|s| s == "ALL" || code.starts_with(s.as_str()))
            .map(|s| if s == "ALL" { 0 } else { s.len() })
            .max()
    };
    let chosen = select.map_or(Some(0), best);
    match (chosen, best(ignore)) {
        (None, _) => false,
        (Some(s), Some(i)) => s > i,
        (Some(_), None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::{selected, timeout};
    use std::time::Duration;

    #[test]
    fn timeout_bounds() {
        assert_eq!(timeout(30.0), Some(Duration::from_secs(30)));
        assert_eq!(timeout(0.5), Some(Duration::from_millis(500)));
        for bad in [1e300, f64::INFINITY, f64::NAN, 0.0, -1.0, 1e-300, 86_401.0] {
            assert_eq!(timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn most_specific_selector_wins() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(selected("FT801", None, &[]));
        assert!(!selected("FT805", None, &s(&["FT805"])));
        assert!(selected("FT805", Some(&s(&["FT805"])), &s(&["FT8"])));
        assert!(!selected("FT801", Some(&s(&["FT805"])), &[]));
        assert!(!selected("FT801", Some(&s(&["FT8"])), &s(&["FT80"])));
    }
}
