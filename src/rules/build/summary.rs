//! The project readiness summary: what the project's modules declare, whether it
//! ships free-threaded wheels and tests on a free-threaded interpreter, and what is
//! still open, by rule family.
//!
//! This is data, not text: `report::text` renders it after the findings and
//! `report::json` serialises it under `summary.project`. Every answer carries the
//! reason it was given (a typed value), so both outputs say the same thing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::build::{version, BuildKind, Generator, What};
use crate::context::BuildContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::Rule;
use crate::rules::project::{self, Module};

use super::{ci_tests_ft, selects_ft, skips_every_built_ft, Builds, LIMITED_API};

/// The readiness summary of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectSummary {
    /// Every extension module found, in (kind, path, position) order.
    pub modules: Vec<ModuleState>,
    /// How many modules each generator (or hand-written C/C++) made, by name.
    #[serde(deserialize_with = "static_str_keys")]
    pub modules_by_kind: BTreeMap<&'static str, usize>,
    /// How many modules declare free-threading support.
    pub declaring: usize,
    pub free_threaded_wheels: Verdict<WheelsReason>,
    pub ci_tests_free_threaded: Verdict<CiReason>,
    /// Findings reported, per rule family, in code order.
    pub open_findings_by_family: Vec<FamilyCount>,
    pub notes: Vec<Note>,
    /// Extension modules the build files declare (setuptools, meson, CMake), by name,
    /// whether or not their init function was found in the sources.
    pub declared_by_build: Vec<String>,
    /// Modules the build declares whose init function was not found (FT008).
    pub declared_without_init: Vec<String>,
    /// What was checked: the build's view of its sources, files compiled by no
    /// extension, vendored trees (set by the pipeline after the checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<crate::build::scope::ScopeSummary>,
}

/// One module and whether it declares free-threading support.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleState {
    #[serde(serialize_with = "generator_name", deserialize_with = "generator_of")]
    pub kind: Generator,
    pub name: String,
    #[serde(serialize_with = "display_path")]
    pub path: PathBuf,
    #[serde(rename = "declares_free_threading")]
    pub declares: bool,
}

/// A yes/no/unknown answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Yes,
    No,
    Unknown,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Unknown => "unknown",
        }
    }
}

/// An answer and why it was given. Built from the reason, which decides the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict<R> {
    pub value: Answer,
    pub reason: R,
}

/// Why the project does or does not ship free-threaded wheels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WheelsReason {
    /// An FT601 error: the limited API is requested for every interpreter.
    LimitedApiUnconditional,
    /// cibuildwheel is not used: wheels are built for whatever runs the build.
    NoCibuildwheel,
    /// A cibuildwheel skip selector excludes free-threaded identifiers.
    SkipSelector,
    /// A cibuildwheel build selector names free-threaded identifiers.
    BuildSelector { selector: String },
    /// The cibuildwheel build selectors name no free-threaded identifier.
    NoFreeThreadedSelector,
    /// A cibuildwheel action older than 3.1, which builds no free-threaded wheel by default.
    OldCibuildwheel { version: String },
    /// cibuildwheel 3.1 or later with no build selector: cp314t is built by default.
    CibuildwheelDefault,
}

impl WheelsReason {
    fn verdict(self) -> Verdict<WheelsReason> {
        let value = match &self {
            WheelsReason::BuildSelector { .. } | WheelsReason::CibuildwheelDefault => Answer::Yes,
            WheelsReason::NoCibuildwheel => Answer::Unknown,
            WheelsReason::LimitedApiUnconditional
            | WheelsReason::SkipSelector
            | WheelsReason::NoFreeThreadedSelector
            | WheelsReason::OldCibuildwheel { .. } => Answer::No,
        };
        Verdict {
            value,
            reason: self,
        }
    }
}

/// Why CI does or does not test on a free-threaded interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CiReason {
    /// A workflow names a free-threaded version or sets `freethreaded: true`.
    FreeThreadedInterpreter,
    /// Workflows name Python versions, none free-threaded.
    NoFreeThreadedVersion,
    /// Workflows exist but name no Python version.
    NoPythonVersion,
    /// No GitHub Actions workflow was found.
    NoWorkflow,
}

impl CiReason {
    fn verdict(self) -> Verdict<CiReason> {
        let value = match self {
            CiReason::FreeThreadedInterpreter => Answer::Yes,
            CiReason::NoFreeThreadedVersion => Answer::No,
            CiReason::NoPythonVersion | CiReason::NoWorkflow => Answer::Unknown,
        };
        Verdict {
            value,
            reason: self,
        }
    }
}

/// The number of findings of one rule family.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyCount {
    /// `FT0`...; the rule code itself for a rule outside every family.
    pub prefix: &'static str,
    /// `None` for a rule outside every family.
    pub title: Option<&'static str>,
    pub count: usize,
}

/// A [`FamilyCount`] as read back, before its names are looked up.
#[derive(Deserialize)]
struct ReadFamilyCount {
    prefix: String,
    title: Option<String>,
    count: usize,
}

impl<'de> Deserialize<'de> for FamilyCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FamilyCount, D::Error> {
        let r = ReadFamilyCount::deserialize(d)?;
        Ok(FamilyCount {
            prefix: interned(&r.prefix)?,
            title: r.title.as_deref().map(interned).transpose()?,
            count: r.count,
        })
    }
}

/// Something the summary adds about the project as a whole.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A module declares support while thread-safety errors (FT1xx–FT5xx) remain
    /// in the project (one note per declaring module, up to five).
    DeclarationNotEvidence {
        module: String,
        #[serde(serialize_with = "generator_name", deserialize_with = "generator_of")]
        generator: Generator,
        #[serde(serialize_with = "display_path")]
        path: PathBuf,
        /// Error-level thread-safety findings in the whole project.
        findings: usize,
        /// Their rule codes, sorted, once each.
        #[serde(deserialize_with = "static_strs")]
        codes: Vec<&'static str>,
        /// How many of them are in the module's own file.
        in_own_file: usize,
    },
    /// The same for more than five declaring modules, in one note.
    DeclarationsNotEvidence {
        declaring: usize,
        findings: usize,
        #[serde(deserialize_with = "static_strs")]
        codes: Vec<&'static str>,
        /// Up to five declaring modules whose files have the most findings, most first.
        most: Vec<ModuleFindings>,
    },
    /// FT001 is not selected for some file with a module entry point, so its
    /// hand-written modules count as not declaring.
    DeclarationsNotChecked,
}

/// A module and the number of findings in its file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleFindings {
    pub module: String,
    pub findings: usize,
}

fn generator_name<S: Serializer>(g: &Generator, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(g.as_str())
}

// Reading a summary back (from the cache): the `&'static str` fields hold rule
// codes, family prefixes and titles, and generator names, so they are looked up
// among those; anything else is an error (a cache entry from another version).

fn generator_of<'de, D: Deserializer<'de>>(d: D) -> Result<Generator, D::Error> {
    let name = String::deserialize(d)?;
    Generator::ALL
        .into_iter()
        .find(|g| g.as_str() == name)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown generator `{name}`")))
}

/// The static string equal to `s`, among the rule codes, family prefixes and
/// titles, and generator names.
fn intern(s: &str) -> Option<&'static str> {
    if let Some(r) = crate::rules::registry::by_code(s) {
        return Some(r.code);
    }
    crate::rule::FAMILIES
        .iter()
        .flat_map(|f| [f.prefix, f.title])
        .chain(Generator::ALL.iter().map(|g| g.as_str()))
        .find(|k| *k == s)
}

fn interned<E: serde::de::Error>(s: &str) -> Result<&'static str, E> {
    intern(s).ok_or_else(|| E::custom(format!("unknown name `{s}`")))
}

fn static_strs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| interned(s))
        .collect()
}

fn static_str_keys<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<&'static str, usize>, D::Error> {
    BTreeMap::<String, usize>::deserialize(d)?
        .iter()
        .map(|(k, v)| Ok((interned(k)?, *v)))
        .collect()
}

/// Paths as displayed (lossy for non-UTF-8 paths rather than a serialisation error).
fn display_path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.display().to_string())
}

/// Builds the project summary, or `None` when the run found no module and no build file.
/// Whether a module declares support comes from the findings before selection and
/// suppressions (`ctx.declarations`); `reported` are the findings reported.
pub fn summarize(ctx: &BuildContext, reported: &[Diagnostic]) -> Option<ProjectSummary> {
    let build = ctx.builds;
    let modules = project::modules(ctx);
    let build_files = build
        .iter()
        .filter(|(b, _)| {
            !matches!(
                b.kind,
                BuildKind::Rust | BuildKind::Cython { .. } | BuildKind::Swig
            )
        })
        .count();
    if modules.is_empty() && build_files == 0 {
        return None;
    }
    let mut modules_by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    for g in Generator::ALL {
        let n = modules.iter().filter(|m| m.kind == g).count();
        if n > 0 {
            modules_by_kind.insert(g.as_str(), n);
        }
    }
    let mut notes = evidence_notes(&modules, reported);
    if ctx
        .project
        .files
        .iter()
        .any(|pf| !pf.index.module_inits.is_empty() && !project::declaration_checked(pf))
    {
        notes.push(Note::DeclarationsNotChecked);
    }
    Some(ProjectSummary {
        modules: modules
            .iter()
            .map(|m| ModuleState {
                kind: m.kind,
                name: m.name.clone(),
                path: m.path.clone(),
                declares: m.declares,
            })
            .collect(),
        modules_by_kind,
        declaring: modules.iter().filter(|m| m.declares).count(),
        free_threaded_wheels: wheels(build, reported).verdict(),
        ci_tests_free_threaded: ci(build).verdict(),
        open_findings_by_family: by_family(reported),
        notes,
        declared_by_build: crate::rules::declare::declared_module_names(ctx),
        declared_without_init: crate::rules::declare::modules_without_init(ctx)
            .into_iter()
            .map(|m| m.decl.name)
            .collect(),
        scope: None,
    })
}

fn wheels(build: &Builds, reported: &[Diagnostic]) -> WheelsReason {
    if reported
        .iter()
        .any(|d| d.rule == &LIMITED_API && d.severity == Severity::Error)
    {
        return WheelsReason::LimitedApiUnconditional;
    }
    let uses = project::facts(build).find_map(|(_, f)| match &f.what {
        What::UsesCibuildwheel { version } => Some(version.clone()),
        _ => None,
    });
    let Some(version) = uses else {
        return WheelsReason::NoCibuildwheel;
    };
    let builds: Vec<&str> = project::facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::CibwBuild(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    let skip_list: Vec<&str> = project::facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::CibwSkip(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    if skips_every_built_ft(&skip_list, &builds) {
        return WheelsReason::SkipSelector;
    }
    if !builds.is_empty() {
        return match builds.iter().find(|s| selects_ft(s)) {
            Some(s) => WheelsReason::BuildSelector {
                selector: (*s).to_owned(),
            },
            None => WheelsReason::NoFreeThreadedSelector,
        };
    }
    let old = version
        .as_deref()
        .and_then(|v| version::parse(v.trim_start_matches('v')))
        .is_some_and(|v| v < vec![3, 1]);
    if old {
        WheelsReason::OldCibuildwheel {
            version: version.unwrap_or_default(),
        }
    } else {
        WheelsReason::CibuildwheelDefault
    }
}

fn ci(build: &Builds) -> CiReason {
    match ci_tests_ft(build) {
        Some(true) => CiReason::FreeThreadedInterpreter,
        Some(false) => CiReason::NoFreeThreadedVersion,
        None if build.iter().any(|(b, _)| b.kind == BuildKind::Workflow) => {
            CiReason::NoPythonVersion
        }
        None => CiReason::NoWorkflow,
    }
}

fn by_family(reported: &[Diagnostic]) -> Vec<FamilyCount> {
    let mut counts: BTreeMap<&'static str, FamilyCount> = BTreeMap::new();
    for d in reported {
        let family = d.rule.family();
        let prefix = family.map_or(d.rule.code, |f| f.prefix);
        counts
            .entry(prefix)
            .or_insert(FamilyCount {
                prefix,
                title: family.map(|f| f.title),
                count: 0,
            })
            .count += 1;
    }
    counts.into_values().collect()
}

/// Does `rule` belong to a family that checks thread safety (FT1xx–FT5xx)?
fn checks_thread_safety(rule: &Rule) -> bool {
    rule.family()
        .is_some_and(|f| matches!(f.prefix, "FT1" | "FT2" | "FT3" | "FT4" | "FT5"))
}

/// A declaration is not evidence: error-level findings of the families that check
/// thread safety, project-wide, once per declaring module (with how many are in
/// its own file); one note when many modules declare.
fn evidence_notes(modules: &[Module], reported: &[Diagnostic]) -> Vec<Note> {
    let hazards: Vec<&Diagnostic> = reported
        .iter()
        .filter(|d| d.severity == Severity::Error && checks_thread_safety(d.rule))
        .collect();
    let declaring: Vec<&Module> = modules.iter().filter(|m| m.declares).collect();
    if hazards.is_empty() || declaring.is_empty() {
        return Vec::new();
    }
    let mut codes: Vec<&'static str> = hazards.iter().map(|d| d.rule.code).collect();
    codes.sort();
    codes.dedup();
    let own = |m: &Module| hazards.iter().filter(|d| d.path == m.path).count();
    if declaring.len() <= 5 {
        return declaring
            .iter()
            .map(|m| Note::DeclarationNotEvidence {
                module: m.name.clone(),
                generator: m.kind,
                path: m.path.clone(),
                findings: hazards.len(),
                codes: codes.clone(),
                in_own_file: own(m),
            })
            .collect();
    }
    let mut by_own: Vec<(usize, &Module)> = declaring
        .iter()
        .map(|m| (own(m), *m))
        .filter(|(n, _)| *n > 0)
        .collect();
    by_own.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let most = by_own
        .iter()
        .take(5)
        .map(|(n, m)| ModuleFindings {
            module: m.name.clone(),
            findings: *n,
        })
        .collect();
    vec![Note::DeclarationsNotEvidence {
        declaring: declaring.len(),
        findings: hazards.len(),
        codes,
        most,
    }]
}
