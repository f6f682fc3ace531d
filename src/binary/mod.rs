//! `ftaudit wheel`: audits built wheels and bare extension binaries (FT7xx).
//!
//! Wheels are read in memory ([`wheel`]), binaries parsed with the `object` crate
//! ([`object`]); the checks here compare what the tags and file suffixes promise
//! with what the binary shows, and check release sets (the wheels of one folder,
//! grouped by project and version). Nothing is written to disk.

pub mod object;
pub mod wheel;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::json;

use self::object::{BinaryFacts, Build, Format, GilDeclaration};
use self::wheel::{extension_suffix, parse_abi, python_tag_minor, Abi, Limits, Suffix, WheelName};
use crate::check::FileProblem;
use crate::config::min_minor_of_specifier;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::binary::*;
use crate::rules::Rule;

/// What `ftaudit wheel` produced.
#[derive(Debug, Default)]
pub struct AuditResult {
    pub diagnostics: Vec<Diagnostic>,
    pub problems: Vec<FileProblem>,
    /// Wheels and bare binaries analysed.
    pub analysed: usize,
    /// Inputs that could not be analysed.
    pub skipped: usize,
    /// Facts per extension binary, for the JSON summary.
    pub binaries: Vec<serde_json::Value>,
    /// Extension binaries whose build could not be told from their imports.
    pub build_unknown: usize,
}

/// One wheel as the release-set checks see it.
struct WheelSummary {
    path: PathBuf,
    name: WheelName,
    classifiers: bool,
}

/// Audits `paths`: wheel files, folders of wheels (non-recursive; each folder's
/// wheels form release sets) and bare extension binaries.
pub fn audit(paths: &[PathBuf], limits: Limits) -> AuditResult {
    let mut r = AuditResult::default();
    let mut sets: Vec<Vec<WheelSummary>> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|x| x.is_file())
                    .collect(),
                Err(e) => {
                    r.problems
                        .push(problem(p, format!("cannot read folder: {e}")));
                    continue;
                }
            };
            entries.sort();
            let before = r.analysed + r.skipped + r.problems.len();
            let mut set = Vec::new();
            for e in entries {
                let file_name = e
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if file_name.ends_with(".whl") {
                    set.extend(audit_wheel(&e, limits, &mut r));
                } else if extension_suffix(&file_name).is_some() {
                    audit_bare_binary(&e, limits, &mut r);
                }
            }
            if r.analysed + r.skipped + r.problems.len() == before {
                r.problems.push(FileProblem {
                    path: p.clone(),
                    message: "no wheels or extension binaries in this folder (sub-folders are not searched)".into(),
                    error: false,
                });
            }
            sets.push(set);
        } else if p.is_file() {
            let file_name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if file_name.ends_with(".whl") {
                audit_wheel(p, limits, &mut r);
            } else if extension_suffix(&file_name).is_some() {
                audit_bare_binary(p, limits, &mut r);
            } else {
                r.problems.push(problem(
                    p,
                    "not a wheel (.whl) or an extension binary (.so, .pyd, .dylib)".into(),
                ));
                r.skipped += 1;
            }
        } else {
            r.problems.push(problem(p, "no such file or folder".into()));
        }
    }
    for set in &sets {
        check_release_sets(set, &mut r.diagnostics);
    }
    r.diagnostics.sort_by_key(|d| d.sort_key());
    r.diagnostics
        .dedup_by(|a, b| a.sort_key() == b.sort_key() && a.message == b.message);
    r
}

fn problem(path: &Path, message: String) -> FileProblem {
    FileProblem {
        path: path.to_path_buf(),
        message,
        error: true,
    }
}

/// What a binary's name and wheel promise.
struct Target<'a> {
    /// The wheel (or the bare binary): the diagnostic's path.
    path: &'a Path,
    /// The member name inside the wheel.
    member: Option<&'a str>,
    suffix: Suffix,
    /// The ABI tags of the wheel (empty for a bare binary).
    wheel_abis: Vec<Abi>,
}

impl Target<'_> {
    fn label(&self, facts: &BinaryFacts, slices: usize) -> String {
        let base = match self.member {
            Some(m) => format!("`{m}`"),
            None => "binary".to_owned(),
        };
        if slices > 1 {
            format!("{base} ({} slice)", facts.arch)
        } else {
            base
        }
    }

    /// Does the name promise a free-threaded interpreter (`Some(true)`), a GIL one
    /// (`Some(false)`), or neither? The suffix wins over the wheel tag.
    fn claims_free_threaded(&self) -> Option<(bool, String)> {
        match &self.suffix {
            Suffix::Versioned {
                free_threaded,
                text,
                ..
            } => Some((*free_threaded, format!("suffix `{text}`"))),
            Suffix::Abi3 => Some((false, "suffix `.abi3`".into())),
            Suffix::Abi3t => Some((true, "suffix `.abi3t`".into())),
            Suffix::Plain => {
                let cp: Vec<bool> = self
                    .wheel_abis
                    .iter()
                    .filter_map(|a| match a {
                        Abi::Cpython { free_threaded, .. } => Some(*free_threaded),
                        Abi::Abi3t => Some(true),
                        Abi::Abi3 => Some(false),
                        Abi::Other => None,
                    })
                    .collect();
                if cp.is_empty() {
                    None
                } else if cp.iter().all(|x| *x) {
                    Some((true, "the wheel's ABI tag".into()))
                } else if cp.iter().all(|x| !*x) {
                    Some((false, "the wheel's ABI tag".into()))
                } else {
                    None
                }
            }
        }
    }
}

fn diag(rule: &'static Rule, path: &Path, message: String) -> Diagnostic {
    Diagnostic::new(rule, path, None, message)
}

/// Object-file magic numbers: ELF, PE (`MZ`), Mach-O (both byte orders, 32 and
/// 64 bits) and fat Mach-O.
fn looks_like_binary(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 7] = [
        b"\x7fELF",
        b"MZ",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// Reads a bare binary after checking its format and size: a large file that is
/// not an object file (or one over the member limit) is never read whole.
fn read_bare_binary(path: &Path, limits: Limits) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = f.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file: skipped".into());
    }
    let mut head = [0u8; 4];
    let n = f.read(&mut head).map_err(|e| format!("cannot read: {e}"))?;
    if !looks_like_binary(&head[..n]) {
        return Err("not a recognised binary (no ELF, PE or Mach-O header): skipped".into());
    }
    if meta.len() > limits.max_member {
        return Err(format!(
            "{} MB, over the {} MB limit for one binary (--max-member-size): skipped",
            meta.len() >> 20,
            limits.max_member >> 20
        ));
    }
    let mut data = head[..n].to_vec();
    f.take(limits.max_member.saturating_sub(n as u64))
        .read_to_end(&mut data)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(data)
}

fn audit_bare_binary(path: &Path, limits: Limits, r: &mut AuditResult) {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((_, suffix)) = extension_suffix(&file_name) else {
        return;
    };
    let data = match read_bare_binary(path, limits) {
        Ok(d) => d,
        Err(e) => {
            r.problems.push(problem(path, e));
            r.skipped += 1;
            return;
        }
    };
    let facts = match object::analyse(&data) {
        Ok(f) => f,
        Err(e) => {
            r.problems.push(problem(path, e));
            r.skipped += 1;
            return;
        }
    };
    r.analysed += 1;
    if facts.iter().all(|f| f.modules.is_empty()) {
        r.problems.push(FileProblem {
            path: path.to_path_buf(),
            message: "exports no `PyInit_*` or `PyModExport_*`: not an extension module, skipped"
                .into(),
            error: false,
        });
        return;
    }
    let target = Target {
        path,
        member: None,
        suffix,
        wheel_abis: Vec::new(),
    };
    check_binary(&target, &facts, r);
}

fn audit_wheel(path: &Path, limits: Limits, r: &mut AuditResult) -> Option<WheelSummary> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match WheelName::parse(&file_name) {
        Ok(n) => n,
        Err(e) => {
            r.problems.push(problem(path, e));
            r.skipped += 1;
            return None;
        }
    };
    let contents = match wheel::read_wheel(path, limits) {
        Ok(c) => c,
        Err(e) => {
            r.problems.push(problem(path, e));
            r.skipped += 1;
            return None;
        }
    };
    if contents.members == 0 {
        r.problems.push(problem(
            path,
            "an empty archive, not a wheel: skipped".into(),
        ));
        r.skipped += 1;
        return None;
    }
    if contents.wheel_tags.is_none() {
        r.problems.push(FileProblem {
            path: path.to_path_buf(),
            message:
                "no `*.dist-info/WHEEL` file: not a valid wheel (its binaries are still checked)"
                    .into(),
            error: false,
        });
    }
    r.analysed += 1;
    for d in &contents.defects {
        r.diagnostics
            .push(diag(&UNSAFE_WHEEL_ARCHIVE, path, d.message.clone()));
    }
    for (member, e) in &contents.unreadable {
        r.problems
            .push(problem(path, format!("member `{member}`: {e}")));
    }
    let tags = name.tags();
    if let Some(wheel_tags) = &contents.wheel_tags {
        if !wheel_tags.is_empty() && *wheel_tags != tags {
            let only_file: Vec<String> = tags
                .iter()
                .filter(|t| !wheel_tags.contains(t))
                .map(|t| t.to_string())
                .collect();
            let only_wheel: Vec<String> = wheel_tags
                .iter()
                .filter(|t| !tags.contains(t))
                .map(|t| t.to_string())
                .collect();
            r.diagnostics.push(diag(
                &SUFFIX_TAG_MISMATCH,
                path,
                format!(
                    "the `Tag:` lines of `WHEEL` disagree with the file name: only in the file name: [{}]; only in `WHEEL`: [{}]",
                    only_file.join(", "),
                    only_wheel.join(", ")
                ),
            ));
        }
    }
    let wheel_abis: Vec<Abi> = name.abi.iter().map(|a| parse_abi(a)).collect();
    if let Some(min) = contents
        .requires_python
        .as_deref()
        .and_then(min_minor_of_specifier)
    {
        let minors: Vec<u32> = name
            .python
            .iter()
            .filter_map(|p| python_tag_minor(p))
            .collect();
        let stable = wheel_abis
            .iter()
            .any(|a| matches!(a, Abi::Abi3 | Abi::Abi3t));
        if !stable && !minors.is_empty() && minors.iter().all(|m| *m < min) {
            r.diagnostics.push(diag(
                &SUFFIX_TAG_MISMATCH,
                path,
                format!(
                    "`Requires-Python: {}` excludes every interpreter the wheel is tagged for ({}): it can never be installed",
                    contents.requires_python.as_deref().unwrap_or_default(),
                    name.python.join(", ")
                ),
            ));
        }
    }
    for member in &contents.binaries {
        let base = member.name.rsplit('/').next().unwrap_or_default();
        let Some((_, suffix)) = extension_suffix(base) else {
            continue;
        };
        let facts = match object::analyse(&member.data) {
            Ok(f) => f,
            Err(e) => {
                r.problems
                    .push(problem(path, format!("member `{}`: {e}", member.name)));
                continue;
            }
        };
        if facts.iter().all(|f| f.modules.is_empty()) {
            // A shared library shipped next to the modules (e.g. vendored by auditwheel).
            continue;
        }
        let target = Target {
            path,
            member: Some(&member.name),
            suffix,
            wheel_abis: wheel_abis.clone(),
        };
        check_suffix_against_tags(&target, &mut r.diagnostics);
        check_platform(&target, &name.platform, &facts, &mut r.diagnostics);
        check_dll_version(&target, &facts, &mut r.diagnostics);
        check_binary(&target, &facts, r);
    }
    Some(WheelSummary {
        path: path.to_path_buf(),
        name,
        classifiers: !contents.free_threading_classifiers.is_empty(),
    })
}

/// FT704 for a member's suffix, FT703 for `.abi3` members of free-threaded wheels.
fn check_suffix_against_tags(t: &Target, out: &mut Vec<Diagnostic>) {
    let member = t.member.unwrap_or_default();
    let cp: Vec<(u32, bool)> = t
        .wheel_abis
        .iter()
        .filter_map(|a| match a {
            Abi::Cpython {
                minor,
                free_threaded,
            } => Some((*minor, *free_threaded)),
            _ => None,
        })
        .collect();
    let ft_pre_315: Vec<u32> = cp
        .iter()
        .filter(|(m, ft)| *ft && *m <= 14)
        .map(|(m, _)| *m)
        .collect();
    match &t.suffix {
        Suffix::Versioned {
            minor,
            free_threaded,
            text,
        } => {
            let stable_only = cp.is_empty()
                && t.wheel_abis
                    .iter()
                    .any(|a| matches!(a, Abi::Abi3 | Abi::Abi3t));
            if (!cp.is_empty() && !cp.contains(&(*minor, *free_threaded))) || stable_only {
                let want = format!("cp3{minor}{}", if *free_threaded { "t" } else { "" });
                out.push(
                    diag(
                        &SUFFIX_TAG_MISMATCH,
                        t.path,
                        format!(
                            "`{member}`: suffix `{text}` is for {want}, but the wheel is tagged {}: the interpreters it installs on will not find the module",
                            abi_list(&t.wheel_abis)
                        ),
                    )
                    .with_help("build each wheel with the interpreter it is tagged for"),
                );
            }
        }
        Suffix::Abi3 if cp.iter().any(|(_, ft)| *ft) => {
            let why = if ft_pre_315.is_empty() {
                "free-threaded 3.15+ loads only `.abi3t` stable-ABI modules"
            } else {
                "free-threaded 3.13/3.14 have no stable ABI and cannot run it"
            };
            out.push(
                diag(
                    &STABLE_ABI_FOR_FREE_THREADED,
                    t.path,
                    format!(
                        "`{member}` is a stable-ABI (`.abi3`) module in a wheel tagged {}: {why}",
                        abi_list(&t.wheel_abis)
                    ),
                )
                .with_help("build a version-specific module with the free-threaded interpreter"),
            );
        }
        Suffix::Abi3t if !ft_pre_315.is_empty() || cp.iter().any(|(m, _)| *m <= 14) => {
            out.push(diag(
                &SUFFIX_TAG_MISMATCH,
                t.path,
                format!(
                    "`{member}` has the `.abi3t` suffix, which interpreters before 3.15 do not look for, but the wheel is tagged {}",
                    abi_list(&t.wheel_abis)
                ),
            ));
        }
        _ => {}
    }
}

/// The binary format and architectures a platform tag allows; `None` for tags this
/// check does not know (`any`, iOS, Android, ...).
fn platform_expectation(tag: &str) -> Option<(Format, Vec<&'static str>)> {
    if let Some(arch) = tag.strip_prefix("win") {
        let arches = match arch {
            "_amd64" => vec!["x86_64"],
            "32" => vec!["i386"],
            "_arm64" => vec!["aarch64"],
            _ => return None,
        };
        return Some((Format::Pe, arches));
    }
    let (format, arch) = if tag.starts_with("macosx_") {
        (Format::MachO, tag.rsplit('_').next()?)
    } else if tag.starts_with("linux_")
        || tag.starts_with("manylinux")
        || tag.starts_with("musllinux_")
    {
        let known = [
            "x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x", "riscv64",
        ];
        (Format::Elf, *known.iter().find(|a| tag.ends_with(*a))?)
    } else {
        return None;
    };
    let arches = match arch {
        "x86_64" => vec!["x86_64"],
        "arm64" | "aarch64" => vec!["aarch64"],
        "universal2" => vec!["x86_64", "aarch64"],
        "intel" => vec!["x86_64", "i386"],
        "i686" | "i386" => vec!["i386"],
        "armv7l" => vec!["arm"],
        "ppc64le" => vec!["powerpc64"],
        "s390x" => vec!["s390x"],
        "riscv64" => vec!["riscv64"],
        _ => return None,
    };
    Some((format, arches))
}

/// FT704: a PE binary linking another version's DLL (`python314t.dll` in `cp313t`).
fn check_dll_version(t: &Target, slices: &[BinaryFacts], out: &mut Vec<Diagnostic>) {
    let mut minors: Vec<u32> = t
        .wheel_abis
        .iter()
        .filter_map(|a| match a {
            Abi::Cpython { minor, .. } => Some(*minor),
            _ => None,
        })
        .collect();
    if let Suffix::Versioned { minor, .. } = t.suffix {
        minors = vec![minor];
    }
    if minors.is_empty() {
        return;
    }
    let member = t.member.unwrap_or_default();
    for f in slices {
        let Some(dll) = &f.python_dll else { continue };
        let Some(minor) = dll.minor else { continue };
        if !minors.contains(&minor) {
            out.push(diag(
                &SUFFIX_TAG_MISMATCH,
                t.path,
                format!(
                    "`{member}` links `{}` (Python 3.{minor}), but its suffix and the wheel tag say 3.{}",
                    dll.name,
                    minors.iter().map(u32::to_string).collect::<Vec<_>>().join("/3.")
                ),
            ));
        }
    }
}

/// FT704: an ELF binary in a Windows wheel, an x86_64 binary in an aarch64 wheel.
fn check_platform(
    t: &Target,
    platforms: &[String],
    slices: &[BinaryFacts],
    out: &mut Vec<Diagnostic>,
) {
    let Some(expect) = platforms
        .iter()
        .map(|p| platform_expectation(p))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let member = t.member.unwrap_or_default();
    let tags = platforms.join(".");
    for f in slices {
        if !expect.iter().any(|(format, _)| *format == f.format) {
            out.push(diag(
                &SUFFIX_TAG_MISMATCH,
                t.path,
                format!(
                    "`{member}` is a{} {} binary, but the wheel is tagged `{tags}`",
                    if f.format == Format::Elf { "n" } else { "" },
                    f.format.as_str()
                ),
            ));
            return;
        }
        if !expect
            .iter()
            .any(|(format, arches)| *format == f.format && arches.contains(&f.arch.as_str()))
        {
            out.push(diag(
                &SUFFIX_TAG_MISMATCH,
                t.path,
                format!(
                    "`{member}` contains {} code, but the wheel is tagged `{tags}`",
                    f.arch
                ),
            ));
        }
    }
}

fn abi_list(abis: &[Abi]) -> String {
    let v: Vec<String> = abis
        .iter()
        .map(|a| match a {
            Abi::Cpython {
                minor,
                free_threaded,
            } => format!("cp3{minor}{}", if *free_threaded { "t" } else { "" }),
            Abi::Abi3 => "abi3".into(),
            Abi::Abi3t => "abi3t".into(),
            Abi::Other => "other".into(),
        })
        .collect();
    format!("`{}`", v.join("."))
}

/// FT701, FT702, FT703 (build evidence), FT705, FT708 for one binary.
fn check_binary(t: &Target, slices: &[BinaryFacts], r: &mut AuditResult) {
    let claim = t.claims_free_threaded();
    for facts in slices {
        let label = t.label(facts, slices.len());
        record_facts(t, facts, r);
        let evidence = facts
            .evidence
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let abi3t = matches!(t.suffix, Suffix::Abi3t)
            || (matches!(t.suffix, Suffix::Plain) && t.wheel_abis.contains(&Abi::Abi3t));
        match (&claim, facts.build) {
            (_, Build::FreeThreaded | Build::Gil | Build::Mixed)
                if abi3t && has_version_specific_evidence(facts) =>
            {
                r.diagnostics.push(diag(
                    &STABLE_ABI_FOR_FREE_THREADED,
                    t.path,
                    format!("{label} is tagged `abi3t` but was built against one version's headers (it imports {evidence}), so it does not run on every free-threaded 3.15+"),
                ));
            }
            (Some((true, why)), Build::Gil | Build::Mixed) => {
                let what = if facts.build == Build::Mixed {
                    "partly compiled without"
                } else {
                    "compiled without"
                };
                r.diagnostics.push(
                    diag(
                        &FT_TAG_ON_GIL_BUILD,
                        t.path,
                        format!("{label} is for a free-threaded interpreter ({why}) but was {what} `Py_GIL_DISABLED`: it imports {evidence}"),
                    )
                    .with_help("build it with the free-threaded interpreter's configuration (or define `Py_GIL_DISABLED=1`)"),
                );
            }
            (Some((true, why)), Build::StableAbi) => {
                r.diagnostics.push(diag(
                    &STABLE_ABI_FOR_FREE_THREADED,
                    t.path,
                    format!("{label} is for a free-threaded interpreter ({why}) but links the stable-ABI {evidence}, which free-threaded 3.13/3.14 do not provide"),
                ));
            }
            (Some((false, why)), Build::FreeThreaded | Build::Mixed) => {
                r.diagnostics.push(
                    diag(
                        &GIL_TAG_ON_FT_BUILD,
                        t.path,
                        format!("{label} is for a GIL interpreter ({why}) but was built with free-threaded headers: it imports {evidence}"),
                    )
                    .with_help("tag and name free-threaded builds `cp3XYt`"),
                );
            }
            _ => {}
        }
        let ft_target = match &claim {
            Some((ft, _)) => *ft,
            None => facts.build == Build::FreeThreaded,
        };
        if !ft_target {
            continue;
        }
        for m in &facts.modules {
            let (severity, text) = match m.gil {
                GilDeclaration::Undeclared => {
                    (Severity::Error, "does not declare GIL-free support")
                }
                GilDeclaration::Used => (Severity::Warning, "declares `Py_MOD_GIL_USED`"),
                GilDeclaration::NotUsed | GilDeclaration::Unknown => continue,
            };
            r.diagnostics.push(
                diag(
                    &BINARY_REENABLES_GIL,
                    t.path,
                    format!("{label}: module `{}` ({}) {text} ({}): importing it re-enables the GIL", m.name, m.style.as_str(), m.how),
                )
                .with_severity(severity)
                .with_help("declare `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` (or call `PyUnstable_Module_SetGIL`) once the module is thread-safe; `ftaudit check` on the sources finds where"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        let borrowed: Vec<String> = object::borrowed_reference_functions()
            .filter(|(f, _)| facts.imports.contains(*f) && seen.insert(*f))
            .map(|(f, instead)| format!("`{f}` → {instead}"))
            .collect();
        if !borrowed.is_empty() {
            r.diagnostics.push(
                diag(
                    &BORROWED_REFERENCE_IMPORTS,
                    t.path,
                    format!(
                        "{label} imports borrowed-reference functions to review: {}",
                        borrowed.join("; ")
                    ),
                )
                .with_help(
                    "`ftaudit check` on the sources tells which calls are on shared containers",
                ),
            );
        }
    }
}

/// Imports that tie a binary to one interpreter version (not the abi3t ABI).
fn has_version_specific_evidence(facts: &BinaryFacts) -> bool {
    if facts.python_dll.as_ref().is_some_and(|d| d.minor.is_some()) {
        return true;
    }
    crate::capi::abi::VERSION_SPECIFIC_IMPORTS
        .iter()
        .any(|s| facts.imports.contains(*s))
}

fn record_facts(t: &Target, facts: &BinaryFacts, r: &mut AuditResult) {
    if facts.build == Build::Unknown {
        r.build_unknown += 1;
    }
    r.binaries.push(json!({
        "path": t.path.display().to_string(),
        "member": t.member,
        "format": facts.format.as_str(),
        "arch": facts.arch,
        "build": facts.build.as_str(),
        "evidence": facts.evidence,
        "python_dll": facts.python_dll.as_ref().map(|d| d.name.clone()),
        "modules": facts.modules.iter().map(|m| json!({
            "name": m.name, "init": m.style.as_str(), "gil": m.gil.as_str(), "how": m.how,
        })).collect::<Vec<_>>(),
    }));
}

/// FT706 and FT707 over the wheels of one folder, grouped by project and version.
fn check_release_sets(wheels: &[WheelSummary], out: &mut Vec<Diagnostic>) {
    let mut groups: BTreeMap<(String, String), Vec<&WheelSummary>> = BTreeMap::new();
    for w in wheels {
        groups
            .entry((w.name.normalized_project(), w.name.version.clone()))
            .or_default()
            .push(w);
    }
    for ((project, version), ws) in groups {
        let mut gil: BTreeMap<u32, &Path> = BTreeMap::new();
        let mut ft: BTreeSet<u32> = BTreeSet::new();
        let mut abi3t_from: Option<u32> = None;
        let mut abi3: Option<&Path> = None;
        let mut binary = false;
        for w in &ws {
            let pys: Vec<u32> = w
                .name
                .python
                .iter()
                .filter_map(|p| python_tag_minor(p))
                .collect();
            for a in w.name.abi.iter().map(|a| parse_abi(a)) {
                match a {
                    Abi::Cpython {
                        minor,
                        free_threaded: false,
                    } if minor >= 13 => {
                        gil.entry(minor).or_insert(&w.path);
                    }
                    Abi::Cpython {
                        minor,
                        free_threaded: true,
                    } => {
                        ft.insert(minor);
                    }
                    Abi::Abi3t => {
                        let from = pys.iter().min().copied().unwrap_or(15).max(15);
                        abi3t_from = Some(abi3t_from.map_or(from, |x| x.min(from)));
                    }
                    Abi::Abi3 if pys.iter().any(|m| *m <= 14) => {
                        abi3.get_or_insert(&w.path);
                    }
                    _ => {}
                }
                binary |= !matches!(a, Abi::Other);
            }
        }
        if !binary {
            continue;
        }
        let covered = |m: u32| ft.contains(&m) || abi3t_from.is_some_and(|f| m >= f);
        for (minor, path) in &gil {
            if !covered(*minor) {
                out.push(diag(
                    &MISSING_FREE_THREADED_WHEEL,
                    path,
                    format!("release {project} {version} has cp3{minor} wheels but no cp3{minor}t wheel: free-threaded 3.{minor} users must build from source"),
                ));
            }
        }
        let has_ft = !ft.is_empty() || abi3t_from.is_some();
        if let (Some(path), false) = (abi3, has_ft) {
            out.push(diag(
                &MISSING_FREE_THREADED_WHEEL,
                path,
                format!("release {project} {version} ships `abi3` wheels and no free-threaded wheel: 3.13t and 3.14t cannot load `abi3` modules"),
            ));
        }
        let classified = ws.iter().find(|w| w.classifiers);
        match (classified, has_ft) {
            (Some(w), false) => out.push(diag(
                &CLASSIFIER_MISMATCH,
                &w.path,
                format!("release {project} {version} declares a `Free Threading` classifier but ships no free-threaded (`t` or `abi3t`) wheel"),
            )),
            (None, true) => {
                let first_ft = ws.iter().find(|w| w.name.abi.iter().any(|a| matches!(parse_abi(a), Abi::Cpython { free_threaded: true, .. } | Abi::Abi3t)));
                if let Some(w) = first_ft {
                    out.push(diag(
                        &CLASSIFIER_MISMATCH,
                        &w.path,
                        format!("release {project} {version} ships free-threaded wheels but no `Programming Language :: Python :: Free Threading` classifier"),
                    ));
                }
            }
            _ => {}
        }
    }
}
