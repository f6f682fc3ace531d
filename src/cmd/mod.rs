//! One function per subcommand. Each returns the process exit status.

pub mod check;
pub mod rule;
pub mod verify;
pub mod wheel;

use std::io::Write;

use crate::cli::{ColorChoice, OutputArgs};
use crate::report::{self, text::TextOptions, Format, Report};

/// Exit statuses CI can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// No findings.
    Clean = 0,
    /// Findings.
    Findings = 1,
    /// Bad arguments, unreadable input, broken configuration.
    Error = 2,
}

/// Writes to stdout. The report is the product of the run, so losing it is an
/// error: a closed pipe (`ftaudit check | head`) ends quietly, any other failure
/// (a full disk) with a message, both with exit status 2 — never a status that
/// says "no findings" about a report nobody received.
pub fn print_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            print_stderr(&format!("ftaudit: error: cannot write the report: {e}"));
        }
        std::process::exit(ExitStatus::Error as i32);
    }
}

/// Writes a line to stderr, ignoring failure (`eprintln!` panics when stderr is full).
pub fn print_stderr(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

pub fn use_color(c: ColorChoice) -> bool {
    match c {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            use std::io::IsTerminal;
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

/// Renders a report in the chosen format, prints file problems to stderr, and
/// returns the exit status.
pub fn emit(
    report: &Report,
    out: &OutputArgs,
    fixes_apply: bool,
    unsafe_fixes: bool,
) -> ExitStatus {
    let text = match out.output_format {
        Format::Text => report::text::render(
            report,
            TextOptions {
                color: use_color(out.color),
                quiet: out.quiet,
                statistics: out.statistics,
                fixes_apply,
                unsafe_fixes,
            },
        ),
        Format::Concise => report::concise::render(report, fixes_apply),
        Format::Json => report::json::render(report),
        Format::JsonLines => report::json::render_lines(report),
        Format::Sarif => report::sarif::render(report),
        Format::Github => report::github::render(report),
    };
    for p in report.problems {
        let level = if p.error { "error" } else { "warning" };
        print_stderr(&format!(
            "ftaudit: {level}: {}: {}",
            report::terminal_path(&p.path),
            report::terminal_text(&p.message)
        ));
    }
    print_stdout(&text);
    if report.problems.iter().any(|p| p.error) {
        ExitStatus::Error
    } else if !report.diagnostics.is_empty() && !out.exit_zero {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    }
}
