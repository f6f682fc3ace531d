//! The rules: one folder per family, one file per rule
//! (`borrowed/ft101_borrowed_list_item.rs`), listed once in [`registry`] with the
//! check that produces its findings. A family's `mod.rs` holds only what its rules
//! share (memoised analyses, re-exports). See CONTRIBUTING.md, "Adding a rule".

pub mod access;
pub mod binary;
pub mod bindings;
pub mod borrowed;
pub mod build;
pub mod declare;
pub mod deferred;
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

/// The file's free-threaded build configurations ([`FileContext::ft_configs`]),
/// built once per file: the rules that ask "compiled in a free-threaded build?" per
/// site otherwise rebuilt every configuration's macro table at each site.
pub(crate) struct FtConfigs(pub std::sync::Arc<[crate::source::preproc::BuildConfig]>);

pub(crate) fn memo_ft_configs(ctx: &FileContext) -> std::sync::Arc<FtConfigs> {
    ctx.memo.get(|| FtConfigs(ctx.ft_configs()))
}
