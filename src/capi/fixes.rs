//! The C-API spellings that `--fix` writes into user code: how each borrowed
//! getter becomes its strong-reference replacement, and the macros and calls the
//! rewritten code uses. Fix builders in `src/fix/` take every CPython name from here.

/// How a strong-reference replacement hands its result back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrongShape {
    /// Returns the new reference (or `NULL` with an exception), like the getter
    /// returned the borrowed one: `v = Replacement(args...)`.
    Returns,
    /// Stores it through a trailing out-parameter and returns `< 0` on error;
    /// the out-parameter is `NULL` on error and when there is nothing to return,
    /// as the getter's result was.
    OutParam {
        /// The getter swallowed lookup errors (`PyDict_GetItem`,
        /// `PyDict_GetItemString`): the rewrite clears them to keep that.
        clears_errors: bool,
    },
    /// `PyWeakref_GetObject`: the getter returned `Py_None` for a dead referent,
    /// the replacement returns 0 and `NULL`; the rewrite stores a new reference to
    /// `None` to keep that.
    WeakrefNoneWhenDead,
}

/// The rewrite of a borrowed getter into its strong replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrongRewrite {
    pub getter: &'static str,
    pub replacement: &'static str,
    pub shape: StrongShape,
    /// Arguments the getter takes (the out-parameter comes on top).
    pub arity: usize,
    /// The getter is an unchecked macro that never failed (`PyList_GET_ITEM`):
    /// the replacement can return `NULL` where it could not, so the rewrite is
    /// offered as unsafe only.
    pub unchecked: bool,
}

const fn rw(
    getter: &'static str,
    replacement: &'static str,
    shape: StrongShape,
    arity: usize,
) -> StrongRewrite {
    StrongRewrite {
        getter,
        replacement,
        shape,
        arity,
        unchecked: false,
    }
}

const fn unchecked(rw: StrongRewrite) -> StrongRewrite {
    StrongRewrite {
        unchecked: true,
        ..rw
    }
}

/// The getters `--fix` can turn into strong references, with the exact calling
/// convention of each replacement. The unchecked macros (`PyList_GET_ITEM`,
/// `PyWeakref_GET_OBJECT`) never fail, their replacements can: unsafe only.
pub const STRONG_REWRITES: [StrongRewrite; 9] = [
    unchecked(rw(
        "PyList_GET_ITEM",
        "PyList_GetItemRef",
        StrongShape::Returns,
        2,
    )),
    unchecked(rw(
        "PyWeakref_GET_OBJECT",
        "PyWeakref_GetRef",
        StrongShape::WeakrefNoneWhenDead,
        1,
    )),
    rw(
        "PyList_GetItem",
        "PyList_GetItemRef",
        StrongShape::Returns,
        2,
    ),
    rw(
        "PyDict_GetItem",
        "PyDict_GetItemRef",
        StrongShape::OutParam {
            clears_errors: true,
        },
        2,
    ),
    rw(
        "PyDict_GetItemWithError",
        "PyDict_GetItemRef",
        StrongShape::OutParam {
            clears_errors: false,
        },
        2,
    ),
    rw(
        "PyDict_GetItemString",
        "PyDict_GetItemStringRef",
        StrongShape::OutParam {
            clears_errors: true,
        },
        2,
    ),
    rw(
        "PyDict_SetDefault",
        "PyDict_SetDefaultRef",
        StrongShape::OutParam {
            clears_errors: false,
        },
        3,
    ),
    rw(
        "PyWeakref_GetObject",
        "PyWeakref_GetRef",
        StrongShape::WeakrefNoneWhenDead,
        1,
    ),
    rw(
        "PyImport_AddModule",
        "PyImport_AddModuleRef",
        StrongShape::Returns,
        1,
    ),
];

/// The strong-reference rewrite of `getter`, if `--fix` has one.
pub fn strong_rewrite(getter: &str) -> Option<&'static StrongRewrite> {
    STRONG_REWRITES.iter().find(|r| r.getter == getter)
}

/// Releases a reference that may be `NULL`.
pub const RELEASE_NULLABLE: &str = "Py_XDECREF";
/// Clears the current exception.
pub const CLEAR_ERROR: &str = "PyErr_Clear";
/// A new strong reference to `None`.
pub const NEW_NONE: &str = "Py_NewRef(Py_None)";
/// The header whose presence says "this is the Python C API".
pub const PYTHON_HEADER: &str = "Python.h";
/// pythoncapi-compat's header, which provides the new APIs for old versions.
pub const COMPAT_HEADER: &str = "pythoncapi_compat.h";
/// Opens and closes a critical section on one or two objects.
pub const BEGIN_CRITICAL_SECTION: &str = "Py_BEGIN_CRITICAL_SECTION";
pub const BEGIN_CRITICAL_SECTION2: &str = "Py_BEGIN_CRITICAL_SECTION2";
pub const END_CRITICAL_SECTION: &str = "Py_END_CRITICAL_SECTION";
pub const END_CRITICAL_SECTION2: &str = "Py_END_CRITICAL_SECTION2";
/// The version that added the critical-section macros (pythoncapi-compat provides
/// them, as no-ops, for older versions).
pub const CRITICAL_SECTION_SINCE_MINOR: u32 = 13;

/// The raw-memory allocator that replaces an object-allocator call on a buffer
/// that never holds an object (`PyObject_Malloc` → `PyMem_Malloc`).
pub fn mem_domain_equivalent(name: &str) -> Option<&'static str> {
    Some(match name {
        "PyObject_Malloc" => "PyMem_Malloc",
        "PyObject_Calloc" => "PyMem_Calloc",
        "PyObject_Realloc" => "PyMem_Realloc",
        "PyObject_Free" => "PyMem_Free",
        _ => return None,
    })
}

/// Statement macros that return from the function (`Py_RETURN_NONE;`): fixes
/// that release or unlock before every `return` treat them as returns.
pub const RETURN_MACROS: [&str; 6] = [
    "Py_RETURN_NONE",
    "Py_RETURN_TRUE",
    "Py_RETURN_FALSE",
    "Py_RETURN_NOTIMPLEMENTED",
    "Py_RETURN_RICHCOMPARE",
    "Py_UNREACHABLE",
];

/// The checked, locking function for an unchecked item-setting macro on a list
/// (`PyList_SET_ITEM` → `PyList_SetItem`). Tuples have none: a shared tuple must
/// not change at all.
pub fn locking_item_setter(name: &str) -> Option<&'static str> {
    match name {
        "PyList_SET_ITEM" => Some("PyList_SetItem"),
        _ => None,
    }
}
