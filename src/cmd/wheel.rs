//! `ftaudit wheel PATHS...`: audit wheels and extension binaries (FT7xx).

use std::path::Path;

use super::{emit, ExitStatus};
use crate::binary::{self, wheel::Limits};
use crate::cli::WheelArgs;
use crate::config::{Overrides, Settings};
use crate::report::{Report, Summary};

pub fn run(args: WheelArgs) -> ExitStatus {
    // Rule selection only: wheels have no configuration file of their own.
    let ov = Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        isolated: true,
        ..Default::default()
    };
    let settings = match Settings::resolve(Path::new("."), &ov) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ftaudit: error: {e}");
            return ExitStatus::Error;
        }
    };
    let limits = Limits {
        max_member: args.max_member_size,
        max_total: args.max_total_size,
    };
    let mut result = binary::audit(&args.paths, limits);
    result
        .diagnostics
        .retain(|d| settings.rule_enabled(d.rule, &d.path));
    let mut extra = serde_json::Map::new();
    extra.insert(
        "binaries".into(),
        serde_json::Value::Array(result.binaries.clone()),
    );
    if result.build_unknown > 0 {
        let text = format!(
            "Build (free-threaded or GIL headers) unknown for {} of {} extension binaries: they import no reference-count helper that tells (see --output-format json).",
            result.build_unknown,
            result.binaries.len()
        );
        extra.insert(
            "build_unknown".into(),
            serde_json::json!({ "count": result.build_unknown, "text": text }),
        );
    }
    let report = Report {
        diagnostics: &result.diagnostics,
        problems: &result.problems,
        sources: None,
        summary: Summary {
            unit: "wheels",
            analysed: result.analysed,
            skipped: result.skipped,
            ..Default::default()
        },
        project: None,
        extra,
    };
    emit(&report, &args.output, false, false)
}
