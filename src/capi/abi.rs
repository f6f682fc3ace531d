//! Symbols a compiled extension imports that tell which headers built it.

/// Imports that only free-threaded headers produce (checked with `nm -D` on modules
/// compiled for CPython 3.13t and 3.13): `Py_DECREF` calls the first three, and
/// `Py_BEGIN_CRITICAL_SECTION` calls the critical-section functions only when
/// `Py_GIL_DISABLED` is defined. `PyUnstable_Module_SetGIL` is declared only there.
/// The order is the order evidence is reported in.
pub const FREE_THREADED_IMPORTS: [&str; 8] = [
    "_Py_DecRefShared",
    "_Py_DecRefSharedDebug",
    "_Py_MergeZeroLocalRefcount",
    "PyUnstable_Module_SetGIL",
    "PyCriticalSection_Begin",
    "PyCriticalSection_End",
    "PyCriticalSection2_Begin",
    "PyCriticalSection2_End",
];

/// Imports that only regular (GIL) headers produce: `Py_DECREF` inlines the
/// reference count and calls `_Py_Dealloc` when it drops to zero.
pub const GIL_IMPORTS: [&str; 1] = ["_Py_Dealloc"];

/// Imports that tie a binary to one interpreter version (not the stable ABI): the
/// reference-count internals `Py_DECREF` inlines differently in each build.
pub const VERSION_SPECIFIC_IMPORTS: [&str; 3] = [
    "_Py_DecRefShared",
    "_Py_MergeZeroLocalRefcount",
    "_Py_Dealloc",
];
