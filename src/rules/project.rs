//! The project as the FT6xx rules and the readiness summary see it: every
//! extension module found (hand-written C/C++ from the source index, generator
//! modules from build files and C++/Rust sources) and whether it declares
//! free-threading support.
//!
//! Shared by the `build` and `bindings` families and the readiness summary;
//! computed once per run ([`modules`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::build::{version, BuildFile, Fact, Generator, What};
use crate::context::BuildContext;
use crate::diagnostic::Diagnostic;
use crate::rules::{declare, ProjectFile};
use crate::settings::Settings;
use crate::source::Language;

/// An extension module and where it is defined.
#[derive(Debug, Clone)]
pub struct Module {
    pub kind: Generator,
    pub name: String,
    pub path: PathBuf,
    pub range: (usize, usize),
    pub declares: bool,
}

/// Every build file's facts, flattened with their files.
/// The words project and build checks look for in code
/// ([`crate::source::SourceFile::code_occurrences`]): FT001/FT005 coverage, the
/// generator modules below, FT008's `PyInit_<module>`. Their occurrences are
/// kept when a file's syntax tree is released; a word added to a project or build
/// check must be added here (asking for another panics, and tests catch it).
pub const CODE_WORDS: [&str; 4] = [
    crate::capi::SET_GIL,
    crate::capi::GIL_SLOT,
    "PYBIND11_MODULE",
    "NB_MODULE",
];

/// Identifier prefixes kept the same way (see [`CODE_WORDS`]).
pub const CODE_PREFIXES: [&str; 1] = ["PyInit_"];

pub fn facts(build: &[(BuildFile, Arc<Settings>)]) -> impl Iterator<Item = (&BuildFile, &Fact)> {
    build
        .iter()
        .flat_map(|(b, _)| b.facts.iter().map(move |f| (b, f)))
}

/// The `(` ... `)` argument text after a macro name at `off`.
pub fn macro_args(text: &str, off: usize) -> Option<(usize, &str)> {
    let open = off + text.get(off..)?.find('(')?;
    let mut d = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '(' => d += 1,
            ')' => {
                d -= 1;
                if d == 0 {
                    return Some((open + i + 1, &text[open + 1..open + i]));
                }
            }
            _ => {}
        }
    }
    None
}

/// The PyO3 version the project builds with, when known: the locked version, else the
/// lowest version the `Cargo.toml` requirement allows.
pub fn pyo3_version(build: &[(BuildFile, Arc<Settings>)]) -> Option<version::Release> {
    let locked = facts(build).find_map(|(_, f)| match &f.what {
        What::Locked { name, version } if name == "pyo3" => version::parse(version),
        _ => None,
    });
    locked.or_else(|| {
        facts(build).find_map(|(_, f)| match &f.what {
            What::Requirement { name, spec } if name == "pyo3" => {
                version::parse(spec.trim_start_matches(['^', '=', '~', '>', ' ']))
            }
            _ => None,
        })
    })
}

/// Does the PyO3 version in use declare free-threading support by default (0.28+)?
pub fn pyo3_default_declares(v: Option<&version::Release>) -> bool {
    v.is_some_and(|v| {
        !version::below(
            &v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("."),
            &[0, 28],
        )
    })
}

/// The project's modules, in (kind, path, position) order.
#[derive(Debug)]
pub struct Modules(Vec<Module>);

impl std::ops::Deref for Modules {
    type Target = [Module];
    fn deref(&self) -> &[Module] {
        &self.0
    }
}

/// Every module in the project, computed once per run.
pub fn modules(ctx: &BuildContext) -> Arc<Modules> {
    ctx.project
        .memo
        .get(|| Modules(collect(ctx.builds, ctx.project.files, ctx.declarations)))
}

/// Every module in the project. `declarations` are the findings of
/// [`declare::DECLARATION_RULES`]: a C module declares support when none of them is
/// about it (one that names it, or one in its file that names no module).
fn collect(
    build: &[(BuildFile, Arc<Settings>)],
    sources: &[ProjectFile],
    declarations: &[Diagnostic],
) -> Vec<Module> {
    let mut out = Vec::new();
    // A finding about another module of the same file does not count against this one.
    let undeclared = |p: &Path, module: &str| {
        declarations.iter().any(|d| {
            d.path == p
                && declare::decides_declaration(d.rule)
                && d.module.as_deref().is_none_or(|m| m == module)
        })
    };
    for pf in sources {
        for init in &pf.index.module_inits {
            let f = &pf.index.functions[init.function];
            out.push(Module {
                kind: if pf.file.language == Language::Cpp {
                    Generator::Cpp
                } else {
                    Generator::C
                },
                name: init.module.clone(),
                path: pf.file.path.clone(),
                range: (f.name_range.0, f.name_range.1),
                declares: declaration_checked(pf) && !undeclared(&pf.file.path, &init.module),
            });
        }
        if pf.file.language != Language::Cpp {
            continue;
        }
        for (word, kind) in [
            ("PYBIND11_MODULE", Generator::Pybind11),
            ("NB_MODULE", Generator::Nanobind),
        ] {
            for off in pf.file.code_occurrences(word) {
                let Some((end, args)) = macro_args(&pf.file.text, off) else {
                    continue;
                };
                let name = args.split(',').next().unwrap_or("").trim().to_owned();
                let declares = match kind {
                    Generator::Pybind11 => args.contains("mod_gil_not_used"),
                    _ => nanobind_declares(build, &name),
                };
                out.push(Module {
                    kind,
                    name,
                    path: pf.file.path.clone(),
                    range: (off, end),
                    declares,
                });
            }
        }
    }
    let cython_project = facts(build).any(|(_, f)| f.what == What::CythonDirectiveProject);
    let swig_nogil = facts(build).any(|(_, f)| f.what == What::SwigInvocation { nogil: true });
    let pyo3_default = pyo3_default_declares(pyo3_version(build).as_ref());
    let included: Vec<&str> = facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::CythonInclude { file } => Some(file.rsplit('/').next().unwrap_or(file)),
            _ => None,
        })
        .collect();
    for (b, f) in facts(build) {
        if matches!(f.what, What::CythonModule { .. }) {
            let file = b.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if included.contains(&file) {
                continue; // textually included into another module
            }
        }
        let (kind, name, declares) = match &f.what {
            What::CythonModule { name, declared } => {
                (Generator::Cython, name.clone(), *declared || cython_project)
            }
            What::PyO3Module { name, gil_used } => {
                let by_call = b
                    .facts
                    .iter()
                    .any(|g| g.what == What::PyO3GilUsedCall { value: false });
                let d = match gil_used {
                    Some(v) => !v,
                    None => pyo3_default || by_call,
                };
                (Generator::PyO3, name.clone(), d)
            }
            What::RustFfiModule { name, declared } => {
                (Generator::PyO3, format!("{name} (pyo3-ffi)"), *declared)
            }
            What::SwigModule { name } => (Generator::Swig, name.clone(), swig_nogil),
            What::F2pyInvocation { name, declared } => (Generator::F2py, name.clone(), *declared),
            _ => continue,
        };
        out.push(Module {
            kind,
            name,
            path: b.path.clone(),
            range: f.range,
            declares,
        });
    }
    out.sort_by(|a, b| (a.kind, &a.path, a.range.0).cmp(&(b.kind, &b.path, b.range.0)));
    out
}

/// Is FT001 (which decides whether a C module declares support) enabled for this file?
/// When it is not, the module counts as not declaring.
pub fn declaration_checked(pf: &ProjectFile) -> bool {
    pf.settings
        .rule_enabled(&declare::MISSING_GIL_DECLARATION, &pf.file.path)
}

/// A nanobind module declares support when its `nanobind_add_module` target (same
/// name, or the only target) passes `FREE_THREADED`.
fn nanobind_declares(build: &[(BuildFile, Arc<Settings>)], name: &str) -> bool {
    let targets: Vec<(&str, bool)> = facts(build)
        .filter_map(|(_, f)| match &f.what {
            What::NanobindAddModule {
                target,
                free_threaded,
            } => Some((target.as_str(), *free_threaded)),
            _ => None,
        })
        .collect();
    match targets.iter().find(|(t, _)| *t == name) {
        Some((_, ft)) => *ft,
        None => targets.len() == 1 && targets[0].1,
    }
}
