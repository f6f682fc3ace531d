//! The rule registry: every rule's code, name, severity, documentation and the
//! checks that produce its diagnostics.
//!
//! Every rule is listed once in [`registry`], with its check. Families that are
//! still one file (`declare.rs` for FT0xx, ...) export `RULES` and a combined
//! check, listed in [`FILE_CHECKS`] / [`PROJECT_CHECKS`]; their registry entries
//! say [`registry::Check::Family`].

pub mod access;
pub mod binary;
pub mod bindings;
pub mod borrowed;
pub mod build;
pub mod declare;
pub mod layout;
pub mod locking;
pub mod locks;
pub mod memory;
pub mod meta;
pub mod project;
pub mod runtime;
pub mod state;

pub mod registry;

pub use crate::context::{ft_configs, FileContext, ProjectFile};
pub use crate::rule::{FixAvailability, Rule, FAMILIES};
pub use registry::{all, by_code, is_known_selector};

use crate::config::Settings;
use crate::diagnostic::Diagnostic;

/// A family's combined check over one file (being replaced by per-rule checks
/// in the [`registry`]).
pub type FamilyFileCheck = fn(&FileContext, &mut Vec<Diagnostic>);

/// A family's combined check over every file at once.
pub type FamilyProjectCheck = fn(&[ProjectFile], &Settings, &mut Vec<Diagnostic>);

/// Per-file checks of every family.
pub const FILE_CHECKS: &[FamilyFileCheck] = &[
    declare::check_file,
    borrowed::check_file,
    access::check_file,
    locking::check_file,
    memory::check_file,
    locks::check_file,
];

/// Project checks of every family over C/C++ files. The FT6xx build checks see
/// build files too and are called by `check::run` directly ([`build::check_build`]).
pub const PROJECT_CHECKS: &[FamilyProjectCheck] = &[declare::check_project, state::check_project];
