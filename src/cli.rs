//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "ftaudit",
    version,
    about = "Find, explain and fix what keeps a CPython extension from running correctly on free-threaded Python",
    after_help = "Exit codes: 0 no findings, 1 findings, 2 an error (bad arguments, unreadable input, broken configuration)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse C/C++ sources for free-threading hazards.
    Check(CheckArgs),
    /// Explain a rule (or list every rule with --all).
    Rule(RuleArgs),
}

/// Which findings to show by how sure the analysis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConfidenceFilter {
    /// Only findings the analysis could prove.
    Certain,
    /// Also findings it could not rule out (the default: everything).
    Likely,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options shared by every command that reports diagnostics.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub output_format: Format,
    /// Exit with 0 even when there are findings (errors still exit with 2).
    #[arg(long)]
    pub exit_zero: bool,
    /// Print a count per rule instead of each finding.
    #[arg(long)]
    pub statistics: bool,
    /// When to use colours in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only the summary (text output).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to analyse (default: the current folder).
    pub paths: Vec<PathBuf>,
    /// Only these rules: codes or prefixes such as FT0 (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Skip these rules: codes or prefixes.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Minimum Python version the project supports (default: requires-python, else 3.13).
    #[arg(long, value_name = "VERSION")]
    pub target_version: Option<String>,
    /// Use this configuration file instead of searching for one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore configuration files.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
    /// More paths or globs to exclude, in addition to the configured ones.
    #[arg(long, value_name = "GLOB")]
    pub extend_exclude: Vec<String>,
    /// Apply safe fixes to the files.
    #[arg(long)]
    pub fix: bool,
    /// Print the fixes as a unified diff instead of writing them.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Also apply fixes marked unsafe (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Lowest confidence to report: `certain` hides findings marked likely.
    #[arg(long, value_enum, default_value_t = ConfidenceFilter::Likely)]
    pub confidence: ConfidenceFilter,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A rule code (FT001) or name (missing-gil-declaration).
    pub code: Option<String>,
    /// List every rule.
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RuleFormat::Text)]
    pub output_format: RuleFormat,
}
