//! Borrowed-reference getters and the strong-reference APIs that replace them.
//!
//! The order of [`BORROWED_GETTERS`] is the order `ftaudit wheel` (FT708) lists the
//! imports it found, so keep new rows at the end of their group.

use super::{ApiKind, BorrowedFamily, BorrowedGetter, Since};

const fn getter(
    replacement: &'static str,
    since: Since,
    compat: bool,
    container_arg: Option<usize>,
    family: BorrowedFamily,
) -> BorrowedGetter {
    BorrowedGetter {
        replacement,
        since,
        compat,
        container_arg,
        family,
    }
}

use BorrowedFamily::*;

/// Every borrowed-reference getter we reason about, with its replacement.
///
/// `since` is the version that added the replacement; `compat` says whether
/// pythoncapi-compat provides it for older versions.
pub const BORROWED_GETTERS: [(&str, BorrowedGetter); 15] = [
    (
        "PyList_GetItem",
        getter("PyList_GetItemRef", Since::V3(13), true, Some(0), ListItem),
    ),
    (
        "PyList_GET_ITEM",
        getter("PyList_GetItemRef", Since::V3(13), true, Some(0), ListItem),
    ),
    (
        "PyDict_GetItem",
        getter("PyDict_GetItemRef", Since::V3(13), true, Some(0), DictItem),
    ),
    (
        "PyDict_GetItemWithError",
        getter("PyDict_GetItemRef", Since::V3(13), true, Some(0), DictItem),
    ),
    (
        "PyDict_GetItemString",
        getter(
            "PyDict_GetItemStringRef",
            Since::V3(13),
            true,
            Some(0),
            DictItem,
        ),
    ),
    (
        "PyDict_SetDefault",
        getter(
            "PyDict_SetDefaultRef",
            Since::V3(13),
            true,
            Some(0),
            DictItem,
        ),
    ),
    (
        "PyWeakref_GetObject",
        getter("PyWeakref_GetRef", Since::V3(13), true, None, Weakref),
    ),
    (
        "PyWeakref_GET_OBJECT",
        getter("PyWeakref_GetRef", Since::V3(13), true, None, Weakref),
    ),
    (
        "PyImport_AddModule",
        getter(
            "PyImport_AddModuleRef",
            Since::V3(13),
            true,
            None,
            GlobalLookup,
        ),
    ),
    (
        "PyImport_AddModuleObject",
        getter(
            "PyImport_GetModule",
            Since::V3(7),
            false,
            None,
            GlobalLookup,
        ),
    ),
    (
        // The `PySys_Get*Attr*` family landed in 3.15 (it was added to 3.14 during
        // its alphas and taken out again before the release).
        "PySys_GetObject",
        getter(
            "PySys_GetOptionalAttrString",
            Since::V3(15),
            true,
            None,
            GlobalLookup,
        ),
    ),
    (
        "PyEval_GetBuiltins",
        getter(
            "PyEval_GetFrameBuiltins",
            Since::V3(13),
            false,
            None,
            GlobalLookup,
        ),
    ),
    (
        "PyEval_GetGlobals",
        getter(
            "PyEval_GetFrameGlobals",
            Since::V3(13),
            false,
            None,
            GlobalLookup,
        ),
    ),
    (
        "PyEval_GetLocals",
        getter(
            "PyEval_GetFrameLocals",
            Since::V3(13),
            false,
            None,
            GlobalLookup,
        ),
    ),
    (
        "PyCell_GET",
        getter("PyCell_Get", Since::Always, false, None, Cell),
    ),
];

/// The replacements: strong-reference getters, and the version that added each.
pub(super) const STRONG_GETTERS: [(&str, ApiKind); 12] = [
    ("PyList_GetItemRef", strong(Since::V3(13))),
    ("PyDict_GetItemRef", strong(Since::V3(13))),
    ("PyDict_GetItemStringRef", strong(Since::V3(13))),
    ("PyDict_SetDefaultRef", strong(Since::V3(13))),
    ("PyWeakref_GetRef", strong(Since::V3(13))),
    ("PyImport_AddModuleRef", strong(Since::V3(13))),
    ("PyImport_GetModule", strong(Since::V3(7))),
    ("PySys_GetOptionalAttrString", strong(Since::V3(15))),
    ("PyEval_GetFrameBuiltins", strong(Since::V3(13))),
    ("PyEval_GetFrameGlobals", strong(Since::V3(13))),
    ("PyEval_GetFrameLocals", strong(Since::V3(13))),
    ("PyCell_Get", strong(Since::Always)),
];

const fn strong(since: Since) -> ApiKind {
    ApiKind::StrongGetter { since }
}
