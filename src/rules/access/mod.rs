//! FT2xx — unlocked access.
//!
//! Macros and struct fields that read or write a built-in container without its
//! per-object lock, and reference-count tricks that assumed the GIL. Container
//! rules ask [`crate::source::privacy`] first and stay quiet on private containers.

use tree_sitter::Node;

use crate::rules::FileContext;
use crate::source::index::Range;

pub mod ft201_dict_next_without_critical_section;
pub mod ft202_set_item_macro_on_shared_container;
pub mod ft203_stale_size_indexed_access;
pub mod ft204_builtin_internals_access;
pub mod ft205_ob_refcnt_access;
pub mod ft206_refcount_uniqueness_test;
pub mod ft207_set_refcnt_on_shared_object;

pub use ft201_dict_next_without_critical_section::DICT_NEXT_UNLOCKED;
pub use ft202_set_item_macro_on_shared_container::SET_ITEM_ON_SHARED;
pub use ft203_stale_size_indexed_access::STALE_SIZE;
pub use ft204_builtin_internals_access::BUILTIN_INTERNALS;
pub use ft205_ob_refcnt_access::OB_REFCNT;
pub use ft206_refcount_uniqueness_test::REFCNT_UNIQUENESS;
pub use ft207_set_refcnt_on_shared_object::SET_REFCNT_SHARED;

/// The text of a byte range of the file being checked.
pub(super) fn text<'a>(ctx: &FileContext<'a>, r: Range) -> &'a str {
    ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// Is `n` the left-hand side of an assignment (FT204 `tp_dict`, FT205 `ob_refcnt`)?
pub(super) fn is_assignment_target(n: Node) -> bool {
    n.parent().is_some_and(|p| {
        p.kind() == "assignment_expression"
            && p.child_by_field_name("left")
                .is_some_and(|l| l.id() == n.id())
    })
}
