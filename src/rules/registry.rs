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
    Registered { rule: &declare::MISSING_GIL_DECLARATION, check: Check::Project(declare::ft001_missing_gil_declaration::check) },
    Registered { rule: &declare::SET_GIL_IN_MULTI_PHASE, check: Check::File(declare::ft002_set_gil_in_multi_phase_module::check) },
    Registered { rule: &declare::UNGUARDED_DECLARATION, check: Check::File(declare::ft003_unguarded_gil_declaration::check) },
    Registered { rule: &declare::DUPLICATE_GIL_SLOT, check: Check::File(declare::ft004_duplicate_gil_slot::check) },
    Registered { rule: &declare::PARTIAL_GIL_DECLARATION, check: Check::Project(declare::ft005_partial_gil_declaration::check) },
    Registered { rule: &declare::GIL_USED_DECLARED, check: Check::File(declare::ft006_gil_used_declared::check) },
    Registered { rule: &declare::THREAD_STATE_COMPILED_OUT, check: Check::File(declare::ft007_thread_state_compiled_out::check) },
    Registered { rule: &declare::DECLARED_MODULE_WITHOUT_INIT, check: Check::Build(declare::ft008_declared_module_without_init::check) },
    // FT1xx
    Registered { rule: &borrowed::BORROWED_LIST_ITEM, check: Check::File(borrowed::ft101_borrowed_list_item::check) },
    Registered { rule: &borrowed::BORROWED_DICT_ITEM, check: Check::File(borrowed::ft102_borrowed_dict_item::check) },
    Registered { rule: &borrowed::BORROWED_WEAKREF, check: Check::File(borrowed::ft103_borrowed_weakref_referent::check) },
    Registered { rule: &borrowed::BORROWED_GLOBAL_LOOKUP, check: Check::File(borrowed::ft104_borrowed_global_lookup::check) },
    Registered { rule: &borrowed::BORROWED_CELL, check: Check::File(borrowed::ft105_borrowed_cell_contents::check) },
    Registered { rule: &borrowed::SEQUENCE_FAST_SHARED_LIST, check: Check::File(borrowed::ft106_sequence_fast_on_shared_list::check) },
    Registered { rule: &borrowed::INCREF_OF_BORROWED, check: Check::File(borrowed::ft107_incref_of_borrowed_item::check) },
    Registered { rule: &borrowed::BORROWED_CACHED, check: Check::File(borrowed::ft108_borrowed_reference_cached::check) },
    // FT2xx
    Registered { rule: &access::DICT_NEXT_UNLOCKED, check: Check::File(access::ft201_dict_next_without_critical_section::check) },
    Registered { rule: &access::SET_ITEM_ON_SHARED, check: Check::File(access::ft202_set_item_macro_on_shared_container::check) },
    Registered { rule: &access::STALE_SIZE, check: Check::File(access::ft203_stale_size_indexed_access::check) },
    Registered { rule: &access::BUILTIN_INTERNALS, check: Check::File(access::ft204_builtin_internals_access::check) },
    Registered { rule: &access::OB_REFCNT, check: Check::File(access::ft205_ob_refcnt_access::check) },
    Registered { rule: &access::REFCNT_UNIQUENESS, check: Check::File(access::ft206_refcount_uniqueness_test::check) },
    Registered { rule: &access::SET_REFCNT_SHARED, check: Check::File(access::ft207_set_refcnt_on_shared_object::check) },
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
    Registered { rule: &locking::JUMP_OUT_OF_REGION, check: Check::File(locking::ft301_jump_out_of_critical_section::check) },
    Registered { rule: &locking::MISMATCHED_REGION, check: Check::File(locking::ft302_mismatched_critical_section::check) },
    Registered { rule: &locking::NESTED_SECTION, check: Check::File(locking::ft303_nested_critical_section_on_other_object::check) },
    Registered { rule: &locking::BORROWED_ACROSS_SUSPEND, check: Check::File(locking::ft304_borrowed_reference_across_suspending_call::check) },
    Registered { rule: &locking::API_WITHOUT_THREAD_STATE, check: Check::File(locking::ft305_c_api_call_without_thread_state::check) },
    Registered { rule: &locking::REDUNDANT_SECTION, check: Check::File(locking::ft306_critical_section_around_locked_call::check) },
    Registered { rule: &locks::BLOCKING_NATIVE_LOCK, check: Check::File(locks::ft320_blocking_native_lock_while_attached::check) },
    Registered { rule: &locks::PYMUTEX_COPIED_OR_UNINITIALISED, check: Check::File(locks::ft321_pymutex_copied_or_uninitialised::check) },
    Registered { rule: &locks::PYMUTEX_UNLOCK_MISSING, check: Check::File(locks::ft322_pymutex_not_unlocked_on_return::check) },
    Registered { rule: &locks::PYMUTEX_ISLOCKED_DECISION, check: Check::File(locks::ft323_pymutex_islocked_decision::check) },
    Registered { rule: &locks::PYTHREAD_LOCK, check: Check::File(locks::ft324_pythread_lock_instead_of_pymutex::check) },
    // FT4xx
    Registered { rule: &state::GLOBAL_WRITTEN_AT_RUNTIME, check: Check::Project(state::ft401_global_written_at_runtime::check) },
    Registered { rule: &state::LAZY_INIT_AT_RUNTIME, check: Check::Project(state::ft402_lazy_init_at_runtime::check) },
    Registered { rule: &state::STATIC_SCRATCH_BUFFER, check: Check::Project(state::ft403_static_scratch_buffer::check) },
    Registered { rule: &state::NON_REENTRANT_CALL, check: Check::Project(state::ft404_non_reentrant_libc_call::check) },
    Registered { rule: &state::MODULE_STATE_MUTATED, check: Check::Project(state::ft405_module_state_mutated_at_runtime::check) },
    Registered { rule: &state::UNLOCKED_SELF_FIELD, check: Check::Project(state::ft406_unlocked_object_field::check) },
    Registered { rule: &state::FOREIGN_CONTEXT_UNLOCKED, check: Check::Project(state::ft407_foreign_context_without_lock::check) },
    Registered { rule: &state::UNPINNED_BUFFER, check: Check::Project(state::ft408_unpinned_bytearray_or_capsule::check) },
    Registered { rule: &state::READER_OF_INVALIDATED_FIELD, check: Check::Project(state::ft409_reader_of_invalidated_field::check) },
    Registered { rule: &state::OBJECT_STATE_USED_DETACHED, check: Check::Project(state::ft410_object_state_used_detached::check) },
    Registered { rule: &state::LAZY_PUBLICATION_WITHOUT_SYNC, check: Check::Project(state::ft411_lazy_publication_without_sync::check) },
    // FT5xx
    Registered { rule: &memory::OBJECT_DOMAIN_BUFFER, check: Check::File(memory::ft501_object_allocator_for_buffer::check) },
    Registered { rule: &memory::CROSS_DOMAIN_FREE, check: Check::File(memory::ft502_cross_domain_free::check) },
    Registered { rule: &memory::OBJECT_OUTSIDE_DOMAIN, check: Check::File(memory::ft503_object_outside_object_domain::check) },
    // FT6xx
    Registered { rule: &build::LIMITED_API, check: Check::Build(build::ft601_limited_api_on_free_threaded_build::check) },
    Registered { rule: &build::WINDOWS_GIL_DISABLED, check: Check::Build(build::ft602_windows_py_gil_disabled_undefined::check) },
    Registered { rule: &build::CIBUILDWHEEL, check: Check::Build(build::ft603_cibuildwheel_free_threading_config::check) },
    Registered { rule: &build::CI_NO_FREE_THREADED, check: Check::Build(build::ft604_ci_without_free_threaded_python::check) },
    Registered { rule: &build::CI_GIL_FORCED_OFF, check: Check::Build(build::ft605_ci_forces_gil_off::check) },
    Registered { rule: &build::CLASSIFIER, check: Check::Build(build::ft606_free_threading_classifier_mismatch::check) },
    Registered { rule: &bindings::GENERATOR_UNDECLARED, check: Check::Build(bindings::ft607_generator_module_undeclared::check) },
    Registered { rule: &bindings::GENERATOR_TOO_OLD, check: Check::Build(bindings::ft608_generator_too_old_for_free_threading::check) },
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
        assert_eq!(
            seen,
            REGISTRY.len(),
            "every registered rule has a file of its own under src/rules/<family>/"
        );
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
