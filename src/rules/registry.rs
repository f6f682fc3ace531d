//! The registry: every rule ftaudit knows, once, with the check that produces
//! its findings.
//!
//! Everything that lists rules is derived from [`REGISTRY`]: the rule list of
//! `ftaudit rule --all`, `docs/rules.md`, the README's rule table, selector
//! validation, SARIF rule metadata and the dispatch of checks in `check::run`.
//! A test fails when a rule file under `src/rules/` is not registered here.

use crate::context::{BuildContext, FileContext, ProjectContext};
use crate::diagnostic::Diagnostic;
use crate::rule::Rule;

use super::*;

/// A check over one file.
pub type FileCheck = fn(&FileContext, &mut Vec<Diagnostic>);
/// A check over every C/C++ file of the project at once.
pub type ProjectCheck = fn(&ProjectContext, &mut Vec<Diagnostic>);
/// A check over the build, CI and packaging files (with the C/C++ files at hand).
pub type BuildCheck = fn(&BuildContext, &mut Vec<Diagnostic>);

/// How a rule's findings are produced.
#[derive(Clone, Copy)]
pub enum Check {
    /// Run on each parsed C/C++ file, in parallel.
    File(FileCheck),
    /// Run once with every parsed C/C++ file.
    Project(ProjectCheck),
    /// Run once with the build, CI and metadata files.
    Build(BuildCheck),
    /// Still produced by its family's combined check (being split up).
    Family,
    /// Produced outside `check`'s rule dispatch.
    Produced(Producer),
}

/// Producers of findings that are not rule checks over sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Producer {
    /// `ftaudit wheel` (`src/binary/`).
    Wheel,
    /// `ftaudit verify` (`src/runtime/`).
    Verify,
    /// The suppression-comment parser (`src/suppress.rs`).
    Suppressions,
}

/// One registry entry.
pub struct Registered {
    pub rule: &'static Rule,
    pub check: Check,
}

/// Every rule, in code order.
#[rustfmt::skip]
pub static REGISTRY: &[Registered] = &[
    // FT0xx
    Registered { rule: &declare::MISSING_GIL_DECLARATION, check: Check::Family },
    Registered { rule: &declare::SET_GIL_IN_MULTI_PHASE, check: Check::Family },
    Registered { rule: &declare::UNGUARDED_DECLARATION, check: Check::Family },
    Registered { rule: &declare::DUPLICATE_GIL_SLOT, check: Check::Family },
    Registered { rule: &declare::PARTIAL_GIL_DECLARATION, check: Check::Family },
    Registered { rule: &declare::GIL_USED_DECLARED, check: Check::Family },
    Registered { rule: &declare::THREAD_STATE_COMPILED_OUT, check: Check::Family },
    // FT1xx
    Registered { rule: &borrowed::BORROWED_LIST_ITEM, check: Check::Family },
    Registered { rule: &borrowed::BORROWED_DICT_ITEM, check: Check::Family },
    Registered { rule: &borrowed::BORROWED_WEAKREF, check: Check::Family },
    Registered { rule: &borrowed::BORROWED_GLOBAL_LOOKUP, check: Check::Family },
    Registered { rule: &borrowed::BORROWED_CELL, check: Check::Family },
    Registered { rule: &borrowed::SEQUENCE_FAST_SHARED_LIST, check: Check::Family },
    Registered { rule: &borrowed::INCREF_OF_BORROWED, check: Check::Family },
    Registered { rule: &borrowed::BORROWED_CACHED, check: Check::Family },
    // FT2xx
    Registered { rule: &access::DICT_NEXT_UNLOCKED, check: Check::Family },
    Registered { rule: &access::SET_ITEM_ON_SHARED, check: Check::Family },
    Registered { rule: &access::STALE_SIZE, check: Check::Family },
    Registered { rule: &access::BUILTIN_INTERNALS, check: Check::Family },
    Registered { rule: &access::OB_REFCNT, check: Check::Family },
    Registered { rule: &access::REFCNT_UNIQUENESS, check: Check::Family },
    Registered { rule: &access::SET_REFCNT_SHARED, check: Check::Family },
    // FT21x: object layout and lifecycle
    Registered { rule: &layout::STATIC_OBJECT_HEADER_POSITIONAL, check: Check::File(layout::ft210_static_object_header_positional::check) },
    Registered { rule: &layout::GC_HEADER_ACCESS, check: Check::File(layout::ft211_gc_header_access::check) },
    Registered { rule: &layout::PRIVATE_STRUCT_MIRROR, check: Check::File(layout::ft212_private_struct_mirror::check) },
    Registered { rule: &layout::STR_INTERNALS_READ, check: Check::File(layout::ft213_str_internals_read::check) },
    Registered { rule: &layout::CONDITIONAL_WEAKREF_CLEAR, check: Check::File(layout::ft214_conditional_weakref_clear::check) },
    Registered { rule: &layout::RESURRECTION_IN_DEALLOC, check: Check::File(layout::ft215_resurrection_in_dealloc::check) },
    Registered { rule: &layout::STATIC_TYPE_MODIFIED_AT_RUNTIME, check: Check::Project(layout::ft216_static_type_modified_at_runtime::check) },
    Registered { rule: &layout::TP_IS_GC_FALSE, check: Check::File(layout::ft217_tp_is_gc_false::check) },
    Registered { rule: &layout::THREAD_STATE_INTERNALS, check: Check::File(layout::ft218_thread_state_internals::check) },
    // FT3xx
    Registered { rule: &locking::JUMP_OUT_OF_REGION, check: Check::Family },
    Registered { rule: &locking::MISMATCHED_REGION, check: Check::Family },
    Registered { rule: &locking::NESTED_SECTION, check: Check::Family },
    Registered { rule: &locking::BORROWED_ACROSS_SUSPEND, check: Check::Family },
    Registered { rule: &locking::API_WITHOUT_THREAD_STATE, check: Check::Family },
    Registered { rule: &locking::REDUNDANT_SECTION, check: Check::Family },
    Registered { rule: &locks::BLOCKING_NATIVE_LOCK, check: Check::Family },
    Registered { rule: &locks::PYMUTEX_COPIED_OR_UNINITIALISED, check: Check::Family },
    Registered { rule: &locks::PYMUTEX_UNLOCK_MISSING, check: Check::Family },
    Registered { rule: &locks::PYMUTEX_ISLOCKED_DECISION, check: Check::Family },
    Registered { rule: &locks::PYTHREAD_LOCK, check: Check::Family },
    // FT4xx
    Registered { rule: &state::GLOBAL_WRITTEN_AT_RUNTIME, check: Check::Family },
    Registered { rule: &state::LAZY_INIT_AT_RUNTIME, check: Check::Family },
    Registered { rule: &state::STATIC_SCRATCH_BUFFER, check: Check::Family },
    Registered { rule: &state::NON_REENTRANT_CALL, check: Check::Family },
    Registered { rule: &state::MODULE_STATE_MUTATED, check: Check::Family },
    Registered { rule: &state::UNLOCKED_SELF_FIELD, check: Check::Family },
    Registered { rule: &state::FOREIGN_CONTEXT_UNLOCKED, check: Check::Family },
    Registered { rule: &state::UNPINNED_BUFFER, check: Check::Family },
    // FT5xx
    Registered { rule: &memory::OBJECT_DOMAIN_BUFFER, check: Check::Family },
    Registered { rule: &memory::CROSS_DOMAIN_FREE, check: Check::Family },
    Registered { rule: &memory::OBJECT_OUTSIDE_DOMAIN, check: Check::Family },
    // FT6xx
    Registered { rule: &build::LIMITED_API, check: Check::Family },
    Registered { rule: &build::WINDOWS_GIL_DISABLED, check: Check::Family },
    Registered { rule: &build::CIBUILDWHEEL, check: Check::Family },
    Registered { rule: &build::CI_NO_FREE_THREADED, check: Check::Family },
    Registered { rule: &build::CI_GIL_FORCED_OFF, check: Check::Family },
    Registered { rule: &build::CLASSIFIER, check: Check::Family },
    Registered { rule: &bindings::GENERATOR_UNDECLARED, check: Check::Family },
    Registered { rule: &bindings::GENERATOR_TOO_OLD, check: Check::Family },
    // FT7xx
    Registered { rule: &binary::FT_TAG_ON_GIL_BUILD, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::GIL_TAG_ON_FT_BUILD, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::STABLE_ABI_FOR_FREE_THREADED, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::SUFFIX_TAG_MISMATCH, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::BINARY_REENABLES_GIL, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::MISSING_FREE_THREADED_WHEEL, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::CLASSIFIER_MISMATCH, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::BORROWED_REFERENCE_IMPORTS, check: Check::Produced(Producer::Wheel) },
    Registered { rule: &binary::UNSAFE_WHEEL_ARCHIVE, check: Check::Produced(Producer::Wheel) },
    // FT8xx
    Registered { rule: &runtime::GIL_ENABLED_AT_IMPORT, check: Check::Produced(Producer::Verify) },
    Registered { rule: &runtime::IMPORT_RAISED, check: Check::Produced(Producer::Verify) },
    Registered { rule: &runtime::IMPORT_CRASHED, check: Check::Produced(Producer::Verify) },
    Registered { rule: &runtime::IMPORT_HUNG, check: Check::Produced(Producer::Verify) },
    Registered { rule: &runtime::MODULE_NOT_LOADABLE, check: Check::Produced(Producer::Verify) },
    Registered { rule: &runtime::STATIC_RUNTIME_DISAGREEMENT, check: Check::Produced(Producer::Verify) },
    // FT9xx
    Registered { rule: &meta::INVALID_SUPPRESSION, check: Check::Produced(Producer::Suppressions) },
];

/// Every rule, sorted by code.
pub fn all() -> Vec<&'static Rule> {
    REGISTRY.iter().map(|r| r.rule).collect()
}

/// Looks a rule up by code (`FT001`) or name (`missing-gil-slot`), case-insensitively.
pub fn by_code(code: &str) -> Option<&'static Rule> {
    all()
        .into_iter()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name.eq_ignore_ascii_case(code))
}

/// Is `s` a rule code or a prefix of one (`FT`, `FT0`, `FT00`, `FT001`), or `ALL`?
pub fn is_known_selector(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    s.eq_ignore_ascii_case("ALL")
        || all()
            .iter()
            .any(|r| r.code.starts_with(&s.to_ascii_uppercase()))
}

/// The per-file checks of the registry, in code order.
pub fn file_checks() -> impl Iterator<Item = (&'static Rule, FileCheck)> {
    REGISTRY.iter().filter_map(|r| match r.check {
        Check::File(f) => Some((r.rule, f)),
        _ => None,
    })
}

/// The project checks of the registry, in code order.
pub fn project_checks() -> impl Iterator<Item = (&'static Rule, ProjectCheck)> {
    REGISTRY.iter().filter_map(|r| match r.check {
        Check::Project(f) => Some((r.rule, f)),
        _ => None,
    })
}

/// The build checks of the registry, in code order.
pub fn build_checks() -> impl Iterator<Item = (&'static Rule, BuildCheck)> {
    REGISTRY.iter().filter_map(|r| match r.check {
        Check::Build(f) => Some((r.rule, f)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_sorted() {
        let codes: Vec<&str> = all().iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            codes, sorted,
            "registry must be sorted by code, without duplicates"
        );
        let mut names: Vec<&str> = all().iter().map(|r| r.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "rule names must be unique");
    }

    /// Every `src/rules/<family>/ftNNN_*.rs` declares exactly the rule its name
    /// says, and that rule is registered.
    #[test]
    fn every_rule_file_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut seen = 0;
        for family in std::fs::read_dir(&root).expect("src/rules").flatten() {
            let Ok(files) = std::fs::read_dir(family.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                if !name.starts_with("ft") || !name.ends_with(".rs") {
                    continue;
                }
                seen += 1;
                let code = name[..5].to_ascii_uppercase();
                let text = std::fs::read_to_string(f.path()).expect("rule file");
                assert!(
                    text.contains(&format!("code: \"{code}\"")),
                    "{name} does not declare rule {code}"
                );
                let entry = REGISTRY.iter().find(|r| r.rule.code == code);
                assert!(entry.is_some(), "{code} ({name}) is not in the registry");
                let rule = entry.map(|e| e.rule).expect("registered");
                assert!(
                    name[6..].trim_end_matches(".rs") == rule.name.replace('-', "_"),
                    "{name}: a rule file is named after its code and rule name ({code}_{})",
                    rule.name.replace('-', "_")
                );
            }
        }
        let split = REGISTRY
            .iter()
            .filter(|r| !matches!(r.check, Check::Family))
            .count();
        assert!(seen <= split, "{seen} rule files but {split} split rules");
    }

    #[test]
    fn every_rule_has_documentation_sections() {
        for r in all() {
            assert!(r.family().is_some(), "{}: no family", r.code);
            for section in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(r.doc.contains(section), "{}: doc lacks `{section}`", r.code);
            }
        }
    }
}
