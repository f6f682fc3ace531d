//! The default, compiler-like text output:
//!
//! ```text
//! spam.c:21:1: FT001 [*] module `spam`: slot array `spam_slots` has no `Py_mod_gil` entry, ...
//!    |
//! 21 | static PyModuleDef_Slot spam_slots[] = {
//!    | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!    = help: ...
//! ```

use anstyle::{AnsiColor, Style};

use super::{by_code, Report};
use crate::build::scope::{ScopeMode, ScopeSummary};
use crate::diagnostic::{Applicability, Diagnostic, LineIndex, Severity};
use crate::rules;
use crate::rules::build::summary::{CiReason, Note, ProjectSummary, WheelsReason};

/// Options of the text reporter.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    /// Only the summary (and file problems).
    pub quiet: bool,
    /// A count per rule instead of each finding.
    pub statistics: bool,
    /// The producer knows about fixes (check); wheel/verify do not mention them.
    pub fixes_apply: bool,
    pub unsafe_fixes: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn p(&self, style: Style, s: &str) -> String {
        if self.on {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_owned()
        }
    }
}

fn bold() -> Style {
    Style::new().bold()
}
fn color(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

fn severity_color(s: Severity) -> Style {
    match s {
        Severity::Error => color(AnsiColor::Red).bold(),
        Severity::Warning => color(AnsiColor::Yellow).bold(),
        Severity::Info => color(AnsiColor::Cyan).bold(),
    }
}

pub fn render(r: &Report, o: TextOptions) -> String {
    let paint = Paint { on: o.color };
    let mut out = String::new();
    if o.statistics {
        let counts = by_code(r.diagnostics);
        let fixable = |code: &str| {
            r.diagnostics
                .iter()
                .filter(|d| {
                    d.rule.code == code
                        && d.fix
                            .as_ref()
                            .is_some_and(|f| f.applicability == Applicability::Safe)
                })
                .count()
        };
        for (code, n) in counts {
            let name = rules::by_code(code).map(|x| x.name).unwrap_or("");
            let star = if o.fixes_apply && fixable(code) > 0 {
                "[*]"
            } else {
                "   "
            };
            out.push_str(&format!(
                "{n:>5}  {}  {star} {name}\n",
                paint.p(color(AnsiColor::Red).bold(), code)
            ));
        }
    } else if !o.quiet {
        // Diagnostics come sorted by file: the line index of the file of the last
        // snippet is kept (one per diagnostic was quadratic on a large file).
        let mut lines = None;
        for d in r.diagnostics {
            render_one(&mut out, d, r, &paint, o, &mut lines);
        }
    }
    out.push_str(&summary(r, &paint, o));
    out
}

fn render_one<'r>(
    out: &mut String,
    d: &'r Diagnostic,
    r: &Report,
    paint: &Paint,
    o: TextOptions,
    lines_of: &mut Option<(&'r std::path::Path, LineIndex)>,
) {
    let loc = match d.span {
        Some(s) => format!(
            "{}:{}:{}:",
            super::terminal_path(&d.path),
            s.start_line,
            s.start_col
        ),
        None => format!("{}:", super::terminal_path(&d.path)),
    };
    let marker = match &d.fix {
        Some(f) if o.fixes_apply && f.applicability == Applicability::Safe => "[*] ",
        _ => "",
    };
    let conf = if d.confidence == crate::diagnostic::Confidence::Likely {
        " (likely)"
    } else {
        ""
    };
    out.push_str(&format!(
        "{} {} {}{}{}\n",
        paint.p(bold(), &loc),
        paint.p(severity_color(d.severity), d.rule.code),
        marker,
        d.message,
        conf
    ));
    let text = d.span.and_then(|_| r.sources.and_then(|s| s.get(&d.path)));
    // Where `= help:`/`= note:` lines start: under the gutter when there is a snippet.
    let mut indent = " ".to_owned();
    if let (Some(span), Some(text)) = (d.span, text) {
        if lines_of
            .as_ref()
            .is_none_or(|(p, _)| *p != d.path.as_path())
        {
            *lines_of = Some((d.path.as_path(), LineIndex::new(text)));
        }
        let Some((_, lines)) = lines_of.as_ref() else {
            return;
        };
        let last = span.end_line.min(span.start_line + 2).max(span.start_line);
        let width = last.to_string().len();
        indent = " ".repeat(width);
        let gutter = paint.p(color(AnsiColor::Blue).bold(), &format!("{:>width$} |", ""));
        out.push_str(&format!("{gutter}\n"));
        for line in span.start_line..=last {
            let src = lines.line_text(text, line).replace('\t', "    ");
            let num = paint.p(color(AnsiColor::Blue).bold(), &format!("{line:>width$} |"));
            out.push_str(&format!("{num} {src}\n"));
            if line == span.start_line {
                let raw = lines.line_text(text, line);
                let prefix: String = raw.chars().take(span.start_col.saturating_sub(1)).collect();
                let pad = prefix.replace('\t', "    ").chars().count();
                let len = if span.end_line == span.start_line {
                    span.end_col.saturating_sub(span.start_col).max(1)
                } else {
                    raw.chars()
                        .count()
                        .saturating_sub(span.start_col - 1)
                        .max(1)
                };
                let carets = paint.p(severity_color(d.severity), &"^".repeat(len));
                out.push_str(&format!("{gutter} {}{carets}\n", " ".repeat(pad)));
            }
        }
        if span.end_line > last {
            out.push_str(&format!("{gutter} ...\n"));
        }
        if let Some(h) = &d.help {
            out.push_str(&format!(
                "{:>width$} = {} {h}\n",
                "",
                paint.p(bold(), "help:")
            ));
        }
    } else if let Some(h) = &d.help {
        out.push_str(&format!("  = {} {h}\n", paint.p(bold(), "help:")));
    }
    for rel in &d.related {
        let at = match rel.span {
            Some(s) => format!(
                "{}:{}:{}",
                super::terminal_path(&rel.path),
                s.start_line,
                s.start_col
            ),
            None => super::terminal_path(&rel.path),
        };
        out.push_str(&format!(
            "{indent} = {} {at}: {}\n",
            paint.p(bold(), "note:"),
            rel.message
        ));
    }
    out.push('\n');
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn summary(r: &Report, paint: &Paint, o: TextOptions) -> String {
    let s = &r.summary;
    let unit = if s.unit.is_empty() { "files" } else { s.unit };
    let unit_one = unit.trim_end_matches('s');
    let mut files: Vec<&std::path::Path> = r.diagnostics.iter().map(|d| d.path.as_path()).collect();
    files.sort();
    files.dedup();
    let mut line = if r.diagnostics.is_empty() {
        "No findings".to_owned()
    } else {
        format!(
            "{} in {}",
            plural(r.diagnostics.len(), "finding", "findings"),
            plural(files.len(), unit_one, unit)
        )
    };
    line.push_str(&format!(
        "; {} analysed",
        plural(s.analysed, unit_one, unit)
    ));
    if s.with_parse_errors > 0 {
        line.push_str(&format!(
            ", {} could not be parsed completely",
            s.with_parse_errors
        ));
    }
    if s.partly_analysed > 0 {
        line.push_str(&format!(
            ", {} only partly (over a limit)",
            s.partly_analysed
        ));
    }
    if s.skipped > 0 {
        line.push_str(&format!(", {} skipped", s.skipped));
    }
    if s.functions > 0 {
        let pct = 100.0 * s.functions_clean as f64 / s.functions as f64;
        line.push_str(&format!(
            " ({pct:.1}% of {} functions parsed cleanly)",
            s.functions
        ));
    }
    let mut out = format!("{}\n", paint.p(bold(), &line));
    if s.fixed > 0 {
        out.push_str(&format!(
            "Fixed {}.\n",
            plural(s.fixed, "finding", "findings")
        ));
    }
    if o.fixes_apply {
        let safe = r
            .diagnostics
            .iter()
            .filter(|d| {
                d.fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == Applicability::Safe)
            })
            .count();
        // Unsafe fixes placed on the syntax tree (that can never be safe) are
        // built only when applied or serialised, and some do not apply to the
        // code's shape: they count as "up to", whether or not this run (or the
        // cached one) built them, so the line does not depend on the cache.
        let counted_as_possible = |d: &Diagnostic| {
            d.deferred_fix
                .as_ref()
                .is_some_and(|f| !f.request.may_be_safe())
        };
        let unsafe_ = r
            .diagnostics
            .iter()
            .filter(|d| {
                !counted_as_possible(d)
                    && d.fix
                        .as_ref()
                        .is_some_and(|f| f.applicability == Applicability::Unsafe)
            })
            .count();
        let unbuilt = r
            .diagnostics
            .iter()
            .filter(|d| counted_as_possible(d))
            .count();
        if safe > 0 {
            out.push_str(&format!(
                "[*] {} fixable with `--fix`.\n",
                plural(safe, "finding is", "findings are")
            ));
        }
        if unsafe_ + unbuilt > 0 && !o.unsafe_fixes {
            let up_to = if unbuilt > 0 { "up to " } else { "" };
            out.push_str(&format!(
                "{up_to}{} more can be fixed with `--fix --unsafe-fixes` (review them first).\n",
                unsafe_ + unbuilt
            ));
        }
    }
    if let Some(p) = r.project {
        out.push_str(&project_summary(p));
    }
    for (k, v) in &r.extra {
        if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
            let _ = k;
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// The readiness summary as printed after the findings (a blank line first).
pub fn project_summary(p: &ProjectSummary) -> String {
    let kinds = if p.modules_by_kind.is_empty() {
        "none".to_owned()
    } else {
        p.modules_by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let families = if p.open_findings_by_family.is_empty() {
        "none".to_owned()
    } else {
        p.open_findings_by_family
            .iter()
            .map(|f| match f.title {
                Some(title) => format!("{}xx {title}: {}", f.prefix, f.count),
                None => format!("{}: {}", f.prefix, f.count),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let wheels = &p.free_threaded_wheels;
    let ci = &p.ci_tests_free_threaded;
    let mut text = String::from("\nProject readiness for free-threaded Python:\n");
    if p.modules.is_empty() && !p.declared_by_build.is_empty() {
        text.push_str(&format!(
            "  extension modules: none found in the sources, but the build declares {} ({}); their init functions were not found ({})\n",
            p.declared_by_build.len(),
            p.declared_by_build.join(", "),
            rules::declare::DECLARED_MODULE_WITHOUT_INIT.code
        ));
    } else {
        text.push_str(&format!(
            "  extension modules: {} ({kinds}); {} declare free-threading support\n",
            p.modules.len(),
            p.declaring
        ));
        if !p.declared_without_init.is_empty() {
            text.push_str(&format!(
                "  declared by the build, init function not found: {} ({})\n",
                p.declared_without_init.join(", "),
                rules::declare::DECLARED_MODULE_WITHOUT_INIT.code
            ));
        }
    }
    if let Some(scope) = &p.scope {
        text.push_str(&scope_lines(scope));
    }
    text.push_str(&format!(
        "  free-threaded wheels: {} ({})\n",
        wheels.value.as_str(),
        wheels_reason(&wheels.reason)
    ));
    text.push_str(&format!(
        "  CI tests a free-threaded interpreter: {} ({})\n",
        ci.value.as_str(),
        ci_reason(ci.reason)
    ));
    text.push_str(&format!("  open findings by family: {families}\n"));
    for n in &p.notes {
        text.push_str(&format!("  note: {}\n", note(n)));
    }
    text
}

/// `--show-parse-errors`: every checked file that did not parse cleanly, with its
/// first error and the functions that have errors.
pub fn parse_errors_text(s: &ScopeSummary) -> String {
    let mut text = String::new();
    if s.parse_errors.is_empty() {
        text.push_str("\nEvery checked file parsed cleanly.\n");
        return text;
    }
    text.push_str(&format!(
        "\nFiles that did not parse cleanly ({}); code past an error may not have been analysed:\n",
        s.parse_errors.len()
    ));
    for p in &s.parse_errors {
        text.push_str(&format!(
            "  {}:{}:{}: first of {} parse error(s)\n",
            p.path, p.line, p.column, p.errors
        ));
        for f in &p.functions {
            text.push_str(&format!("    in `{}` at {}:{}\n", f.name, f.line, f.column));
        }
    }
    text
}

/// At most this many folders (or files) are named in one summary line.
const NAMED: usize = 6;

fn named_list(items: &[String]) -> String {
    let mut out = items
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > NAMED {
        out.push_str(&format!(", … ({} more)", items.len() - NAMED));
    }
    out
}

/// The build-scope lines of the summary: what was checked and what was left out.
fn scope_lines(s: &ScopeSummary) -> String {
    let mut text = String::new();
    let modules = s.modules.len();
    match &s.mode {
        ScopeMode::Build => {
            text.push_str(&format!(
                "  checked: {} C/C++ file(s) that the build's {} extension module(s) compile, with the headers they include\n",
                s.checked_files, modules
            ));
            if s.uncompiled_files > 0 {
                let folders: Vec<String> = s
                    .uncompiled_by_folder
                    .iter()
                    .map(|f| format!("{} {}", f.folder, f.files))
                    .collect();
                text.push_str(&format!(
                    "  not checked: {} C/C++ file(s) compiled by no extension: {} (`--all-sources` checks them too)\n",
                    s.uncompiled_files,
                    named_list(&folders)
                ));
            }
        }
        ScopeMode::AllSources => {
            text.push_str(&format!(
                "  checked: every C/C++ file ({}), as `--all-sources` asks\n",
                s.checked_files
            ));
        }
        ScopeMode::NoBuild => {
            text.push_str(&format!(
                "  checked: every C/C++ file ({}): no build file declares extension sources ftaudit can read\n",
                s.checked_files
            ));
        }
        ScopeMode::Unresolved { modules } => {
            text.push_str(&format!(
                "  checked: every C/C++ file ({}): the build computes the sources of {} in a way ftaudit cannot read\n",
                s.checked_files,
                named_list(modules)
            ));
        }
        ScopeMode::FilesNamed => {}
    }
    if !s.programs.is_empty() {
        text.push_str(&format!(
            "  not checked: {} program(s) with a `main()` (tools, tests, benchmarks; never extension code): {}\n",
            s.programs.len(),
            named_list(&s.programs)
        ));
    }
    if s.generated_helpers > 0 {
        text.push_str(&format!(
            "  not checked: {} header(s) of generated helper code (Cython's `__Pyx_` utility code; check the generator's declaration)\n",
            s.generated_helpers
        ));
    }
    for t in &s.vendored {
        let findings = if t.compiled == 0 && t.findings_reported + t.findings_hidden == 0 {
            String::new()
        } else {
            format!(
                "; {} finding(s) where the project's own code calls into it, {} not reported",
                t.findings_reported, t.findings_hidden
            )
        };
        text.push_str(&format!(
            "  vendored: {} ({}; {} file(s), {} compiled{findings})\n",
            t.path, t.why, t.files, t.compiled
        ));
    }
    let bad = &s.parse_errors;
    if !bad.is_empty() && bad.len() <= 5 {
        let files: Vec<String> = bad
            .iter()
            .map(|p| format!("{} ({}:{})", p.path, p.line, p.column))
            .collect();
        text.push_str(&format!(
            "  did not parse cleanly: {} (`--show-parse-errors` lists the functions)\n",
            files.join(", ")
        ));
    } else if !bad.is_empty() {
        text.push_str(&format!(
            "  did not parse cleanly: {} checked file(s) (`--show-parse-errors` lists them)\n",
            bad.len()
        ));
    }
    if s.version_branch_findings > 0 {
        text.push_str(&format!(
            "  not reported: {} finding(s) in code compiled only for Python versions without a free-threaded build\n",
            s.version_branch_findings
        ));
    }
    text
}

fn wheels_reason(r: &WheelsReason) -> String {
    match r {
        WheelsReason::LimitedApiUnconditional => format!(
            "the limited API is requested unconditionally ({})",
            rules::build::LIMITED_API.code
        ),
        WheelsReason::NoCibuildwheel => "no cibuildwheel configuration; wheels are built for whichever interpreter runs the build".to_owned(),
        WheelsReason::SkipSelector => "a cibuildwheel skip selector excludes them".to_owned(),
        WheelsReason::BuildSelector { selector } => format!("cibuildwheel builds `{selector}`"),
        WheelsReason::NoFreeThreadedSelector => {
            "the cibuildwheel build selector has no free-threaded identifier".to_owned()
        }
        WheelsReason::OldCibuildwheel { version } => {
            format!("cibuildwheel {version} does not build free-threaded wheels by default")
        }
        WheelsReason::CibuildwheelDefault => "cibuildwheel 3.1+ builds cp314t by default".to_owned(),
    }
}

fn ci_reason(r: CiReason) -> &'static str {
    match r {
        CiReason::FreeThreadedInterpreter => "a workflow uses a free-threaded interpreter",
        CiReason::NoFreeThreadedVersion => "workflows name Python versions, none free-threaded",
        CiReason::NoPythonVersion => "workflows name no Python version",
        CiReason::NoWorkflow => "no GitHub Actions workflow found",
    }
}

fn note(n: &Note) -> String {
    match n {
        Note::DeclarationNotEvidence {
            module,
            generator,
            path,
            findings,
            codes,
            in_own_file,
        } => format!(
            "module `{module}` ({}, {}) declares free-threading support, but the project still has {findings} error-level finding(s) ({}), {in_own_file} in its own file: a declaration is not evidence of thread safety",
            generator.as_str(),
            path.display(),
            codes.join(", "),
        ),
        Note::DeclarationsNotEvidence {
            declaring,
            findings,
            codes,
            most,
        } => {
            let most = if most.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = most
                    .iter()
                    .map(|m| format!("`{}` {}", m.module, m.findings))
                    .collect();
                format!("; most in the files of {}", list.join(", "))
            };
            format!(
                "{declaring} modules declare free-threading support, but the project still has {findings} error-level finding(s) ({}): a declaration is not evidence of thread safety{most}",
                codes.join(", ")
            )
        }
        Note::DeclarationsNotChecked => format!(
            "{} is not selected, so hand-written C/C++ modules were not checked and count as not declaring",
            rules::declare::MISSING_GIL_DECLARATION.code
        ),
    }
}
