//! FT0xx — declaring free-threading support.
//!
//! A module that does not declare `Py_MOD_GIL_NOT_USED` makes a free-threaded
//! interpreter turn the GIL back on for the whole process when it is imported.
//! These rules check each module entry point (`PyInit_*`, `PyModExport_*`) in every
//! free-threaded build the project targets, and the guards around the declarations.
//!
//! FT001 and FT005 read one project-wide analysis, [`coverage`]: for each module
//! entry point, the builds in which it declares support and those in which it does
//! not. FT001 reports modules that declare nowhere, FT005 those that declare somewhere.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use crate::capi::{GIL_SLOT, SET_GIL};
use crate::context::{ft_configs, ProjectContext, ProjectFile};
use crate::diagnostic::{Applicability, Diagnostic, Fix};
use crate::fix::edits;
use crate::rule::Rule;
use crate::source::index::{InitStyle, ModuleDef, ModuleInit, SlotArray, SlotsRef};
use crate::source::preproc::BuildConfig;
use crate::source::SourceFile;

pub mod ft001_missing_gil_declaration;
pub mod ft002_set_gil_in_multi_phase_module;
pub mod ft003_unguarded_gil_declaration;
pub mod ft004_duplicate_gil_slot;
pub mod ft005_partial_gil_declaration;
pub mod ft006_gil_used_declared;
pub mod ft007_thread_state_compiled_out;
pub mod ft008_declared_module_without_init;

pub use ft001_missing_gil_declaration::MISSING_GIL_DECLARATION;
pub use ft002_set_gil_in_multi_phase_module::SET_GIL_IN_MULTI_PHASE;
pub use ft003_unguarded_gil_declaration::UNGUARDED_DECLARATION;
pub use ft004_duplicate_gil_slot::DUPLICATE_GIL_SLOT;
pub use ft005_partial_gil_declaration::PARTIAL_GIL_DECLARATION;
pub use ft006_gil_used_declared::GIL_USED_DECLARED;
pub use ft007_thread_state_compiled_out::THREAD_STATE_COMPILED_OUT;
pub use ft008_declared_module_without_init::{
    declared_module_names, modules_without_init, DECLARED_MODULE_WITHOUT_INIT,
};

/// The rules whose findings say that a hand-written module does not declare
/// free-threading support (the readiness summary and the FT6xx rules read them).
pub static DECLARATION_RULES: [&Rule; 3] = [
    &MISSING_GIL_DECLARATION,
    &PARTIAL_GIL_DECLARATION,
    &GIL_USED_DECLARED,
];

/// Is `rule` one of [`DECLARATION_RULES`]?
pub fn decides_declaration(rule: &Rule) -> bool {
    DECLARATION_RULES.contains(&rule)
}

/// The guard [`SET_GIL`] needs: it exists only in free-threaded, non-limited builds.
const SET_GIL_GUARD: &str = "#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)";

fn with_optional_fix(d: Diagnostic, fix: Option<Fix>) -> Diagnostic {
    match fix {
        Some(f) => d.with_fix(f),
        None => d,
    }
}

/// Wraps the statement or slot entry at `range` in `open` ... `#endif`, when it owns its lines.
fn guard_fix(file: &SourceFile, range: (usize, usize), open: &str) -> Option<Fix> {
    let end = statement_end(file, range.1);
    if !edits::owns_lines(file, range.0, end) || !file.condition_at(range.0).is_unconditional() {
        return None;
    }
    Some(Fix {
        applicability: Applicability::Safe,
        message: format!("Wrap in `{open}`"),
        edits: edits::wrap_in_directive(file, range.0, end, open, "#endif"),
    })
}

/// Extends a call's range over a following `;` or `,`.
fn statement_end(file: &SourceFile, end: usize) -> usize {
    let rest = &file.text[end..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if trimmed.starts_with(';') || trimmed.starts_with(',') {
        end + (rest.len() - trimmed.len()) + 1
    } else {
        end
    }
}

// ---------------------------------------------------------------------------
// Project analysis: is every module declared in every free-threaded build?

/// Declared and missing builds of every module entry point of the project.
pub(crate) struct Coverage {
    pub entries: Vec<EntryCoverage>,
    /// Does any file of the project mention a declaration at all (in code)?
    pub project_declares_anything: bool,
    /// Modules with an entry point that declares support in at least one build.
    pub declared_modules: HashSet<String>,
}

/// One module entry point: `project.files[file].index.module_inits[init]`.
pub(crate) struct EntryCoverage {
    pub file: usize,
    pub init: usize,
    /// `None` when ftaudit cannot tell how the module is created.
    pub coverage: Option<BuildCoverage>,
}

/// Where a module's declaration would be looked for, and what was found.
pub(crate) struct BuildCoverage {
    /// Names of the builds in which the entry point declares support.
    pub declared: BTreeSet<String>,
    /// Names of the builds in which it does not, in configuration order.
    pub missing: Vec<String>,
}

/// The project's [`Coverage`], computed once per run.
pub(crate) fn coverage(project: &ProjectContext) -> Arc<Coverage> {
    project.memo.get(|| Coverage::build(project.files))
}

impl Coverage {
    fn build(files: &[ProjectFile]) -> Coverage {
        let mut entries = Vec::new();
        for (fi, pf) in files.iter().enumerate() {
            for (ii, init) in pf.index.module_inits.iter().enumerate() {
                let configs = ft_configs(&pf.settings, &pf.file);
                entries.push(EntryCoverage {
                    file: fi,
                    init: ii,
                    coverage: entry_coverage(pf, init, &configs, files),
                });
            }
        }
        let project_declares_anything = files.iter().any(|pf| {
            !pf.file.code_occurrences(SET_GIL).is_empty()
                || !pf.file.code_occurrences(GIL_SLOT).is_empty()
        });
        let declared_modules = entries
            .iter()
            .filter(|e| e.coverage.as_ref().is_some_and(|c| !c.declared.is_empty()))
            .map(|e| files[e.file].index.module_inits[e.init].module.clone())
            .collect();
        Coverage {
            entries,
            project_declares_anything,
            declared_modules,
        }
    }
}

/// Declared / missing builds for one module entry point; `None` when it cannot be told.
fn entry_coverage(
    pf: &ProjectFile,
    init: &ModuleInit,
    configs: &[BuildConfig],
    files: &[ProjectFile],
) -> Option<BuildCoverage> {
    let file = &pf.file;
    let func = &pf.index.functions[init.function];
    // abi3t builds can only use `PyModExport_*`; `PyModExport_*` is only called from 3.15 on.
    let is_export = matches!(init.style, InitStyle::Export { .. });
    let active: Vec<&BuildConfig> = configs
        .iter()
        .filter(|c| {
            if is_export {
                c.minor >= 15
            } else {
                !c.is_abi3t()
            }
        })
        .filter(|c| file.condition_at(func.range.0).eval(c).maybe())
        .collect();
    // Offsets of declarations, in the file that holds them.
    let declarations: Vec<(&SourceFile, usize)> = match &init.style {
        InitStyle::MultiPhase { def } => {
            let (def_file, def) = find_module_def(pf, def.as_deref()?, files)?;
            match &def.slots {
                SlotsRef::None => vec![],
                SlotsRef::Name(n) => {
                    let (sf, sa) = find_slot_array(def_file, n, files)?;
                    gil_entries(sa).map(|o| (sf, o)).collect()
                }
                SlotsRef::Other(_) => return None,
            }
        }
        InitStyle::Export { slots } => {
            let (sf, sa) = find_slot_array(pf, slots.as_deref()?, files)?;
            gil_entries(sa).map(|o| (sf, o)).collect()
        }
        InitStyle::SinglePhase { .. } => pf
            .index
            .calls
            .iter()
            .filter(|c| {
                c.name == SET_GIL && c.function.is_some_and(|f| init.init_path.contains(&f))
            })
            .map(|c| (file, c.range.0))
            .collect(),
        InitStyle::Unknown => return None,
    };
    let mut declared = BTreeSet::new();
    let mut missing = Vec::new();
    for cfg in active {
        let init_cond = file.condition_at(func.range.0);
        let ok = declarations.iter().any(|(sf, off)| {
            let c = sf.condition_at(*off);
            c.eval(cfg).maybe() && (!std::ptr::eq(*sf, file) || c.compatible_with(init_cond, cfg))
        });
        if ok {
            declared.insert(cfg.name.clone());
        } else {
            missing.push(cfg.name.clone());
        }
    }
    Some(BuildCoverage { declared, missing })
}

fn gil_entries(sa: &SlotArray) -> impl Iterator<Item = usize> + '_ {
    // An explicit `Py_MOD_GIL_USED` is a declaration too (FT006 reports it).
    sa.entries
        .iter()
        .filter(|e| e.slot == GIL_SLOT)
        .map(|e| e.range.0)
}

fn find_module_def<'a>(
    pf: &'a ProjectFile,
    name: &str,
    files: &'a [ProjectFile],
) -> Option<(&'a ProjectFile, &'a ModuleDef)> {
    if let Some(d) = pf.index.module_def(name) {
        return Some((pf, d));
    }
    files
        .iter()
        .find_map(|f| f.index.module_def(name).map(|d| (f, d)))
}

fn find_slot_array<'a>(
    pf: &'a ProjectFile,
    name: &str,
    files: &'a [ProjectFile],
) -> Option<(&'a SourceFile, &'a SlotArray)> {
    if let Some(s) = pf.index.slot_array(name) {
        return Some((&pf.file, s));
    }
    files
        .iter()
        .find_map(|f| f.index.slot_array(name).map(|s| (&f.file, s)))
}
