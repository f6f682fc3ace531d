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
    /// Audit built wheels and extension binaries for free-threaded CPython (FT7xx).
    Wheel(WheelArgs),
    /// Import built extension modules under a free-threaded CPython and report what
    /// re-enables the GIL, raises, crashes or hangs. This EXECUTES each module's import code.
    #[command(long_about = VERIFY_ABOUT)]
    Verify(VerifyArgs),
}

const VERIFY_ABOUT: &str = "Import built extension modules under a free-threaded CPython and report, for each import, \
whether the GIL stays disabled (no finding), is re-enabled (FT801, naming the module that did it), or the import \
raises (FT802), crashes (FT803), hangs (FT804), or the file is built for another ABI (FT805). With --source, also \
compare with the static declaration rules (FT806).

WARNING: verify EXECUTES the modules' import code (their PyInit_* functions, exec slots, and the Python code of \
the packages they import), each in a fresh subprocess of the interpreter. Only verify modules you would import \
anyway.

PYTHON_GIL is removed from the subprocesses' environment (with PYTHON_GIL=0 the GIL is never re-enabled and \
every import would pass); verify warns when it is set.";
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
    /// Apply the excludes also to paths named on the command line (for pre-commit, which
    /// names every staged file).
    #[arg(long)]
    pub force_exclude: bool,
    /// Read the text of one file from stdin and check it as if it were at PATH (for
    /// editors: the unsaved buffer, checked with the project's configuration).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["paths", "fix", "diff"])]
    pub stdin_filename: Option<PathBuf>,
    /// Apply safe fixes to the files.
    #[arg(long)]
    pub fix: bool,
    /// Print the fixes as a unified diff instead of writing them.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Also apply fixes marked unsafe (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Check every C/C++ file, not only what the build's extension modules compile
    /// (and the headers they include).
    #[arg(long)]
    pub all_sources: bool,
    /// List the files and functions that did not parse cleanly, with the first error.
    #[arg(long)]
    pub show_parse_errors: bool,
    /// Apply fixes but do not report the findings left, and exit 0 for them (like
    /// ruff's `--fix-only`; implies --fix). Combine with --exit-non-zero-on-fix in CI.
    #[arg(long, conflicts_with = "diff")]
    pub fix_only: bool,
    /// Exit with status 1 when a fix changed (or, with --diff, would change) a file,
    /// even if no findings are left.
    #[arg(long)]
    pub exit_non_zero_on_fix: bool,
    /// Lowest confidence to report: `certain` hides findings marked likely.
    #[arg(long, value_enum, default_value_t = ConfidenceFilter::Likely)]
    pub confidence: ConfidenceFilter,
    /// Neither read nor write the cache (`.ftaudit_cache/` in the project root).
    #[arg(long)]
    pub no_cache: bool,
    /// Keep the cache in this folder instead of the project root's `.ftaudit_cache/`.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files or folders of built extension modules (found by the interpreter's extension suffixes).
    pub paths: Vec<PathBuf>,
    /// The free-threaded interpreter (default: python3.14t or python3.13t on PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Also import the extension modules of this installed distribution (repeatable).
    #[arg(long, value_name = "NAME")]
    pub package: Vec<String>,
    /// Also import this module by its dotted name (repeatable).
    #[arg(long, value_name = "DOTTED.NAME")]
    pub module: Vec<String>,
    /// Run the static declaration rules (FT0xx) on these sources and report where they disagree with the imports.
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Seconds an import may take before it counts as hung.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Imports run at the same time (default: the number of CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Only these rules: codes or prefixes such as FT80 (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Skip these rules: codes or prefixes (for example FT805 for files built for other ABIs).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
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

#[derive(Debug, Args)]
pub struct WheelArgs {
    /// Wheel files, folders of wheels (one release set per project and version) and
    /// extension binaries (.so, .pyd, .dylib).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only these rules: codes or prefixes such as FT70 (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Skip these rules: codes or prefixes.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Largest uncompressed size of one wheel member that is read (bytes; K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_member_size: u64,
    /// Largest total uncompressed size read from one wheel (bytes; K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_total_size: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `4096`, `64K`, `256M`, `1G` → bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 4096, 64K, 256M, 1G)"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}
