//! Reference counting, object queries and casts: calls that take an object without
//! keeping a reference to it.

use super::{ApiKind, RefCountOp};

const fn rc(op: RefCountOp) -> ApiKind {
    ApiKind::RefCount(op)
}

use RefCountOp::*;

/// Reference-count operations. `Py_CLEAR`/`Py_SETREF`/`Py_XSETREF` also store into
/// their first argument.
pub(super) const REFCOUNT: [(&str, ApiKind); 13] = [
    ("Py_INCREF", rc(Incref)),
    ("Py_XINCREF", rc(Incref)),
    ("Py_NewRef", rc(NewRef)),
    ("Py_XNewRef", rc(NewRef)),
    ("Py_DECREF", rc(Decref)),
    ("Py_XDECREF", rc(Decref)),
    ("Py_CLEAR", rc(Replace)),
    ("Py_SETREF", rc(Replace)),
    ("Py_XSETREF", rc(Replace)),
    ("Py_REFCNT", rc(Read)),
    ("Py_SET_REFCNT", rc(Set)),
    ("PyUnstable_Object_IsUniquelyReferenced", rc(IsUnique)),
    ("_PyObject_IsUniquelyReferenced", rc(IsUnique)),
];

/// The `X` spellings and `Py_CLEAR`: a `NULL` argument is allowed and left alone.
pub(super) const ACCEPTS_NULL: [&str; 5] = [
    "Py_XINCREF",
    "Py_XNewRef",
    "Py_XDECREF",
    "Py_XSETREF",
    "Py_CLEAR",
];

/// Calls that look at an object (its type, size, identity, truth, hash) and keep
/// no reference to it.
pub(super) const OBJECT_QUERIES: [&str; 9] = [
    "Py_SIZE",
    "Py_TYPE",
    "Py_IS_TYPE",
    "PyObject_Length",
    "PyObject_Size",
    "PyObject_Hash",
    "PyObject_IsTrue",
    "Py_Is",
    "Py_IsNone",
];

/// Cast macros: `_PyObject_CAST(op)` is `op`.
pub(super) const CASTS: [&str; 4] = [
    "_PyObject_CAST",
    "_PyObject_CAST_CONST",
    "_Py_CAST",
    "_Py_STATIC_CAST",
];
