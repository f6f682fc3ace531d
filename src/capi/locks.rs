//! Critical sections, CPython's locks and atomics.

use super::{ApiKind, CriticalSection, CsForm, CsRole, CsTarget, Lock, LockPrimitive, LockRole};

const fn cs(role: CsRole, arity: u8, target: CsTarget, form: CsForm, since: u32) -> ApiKind {
    ApiKind::CriticalSection(CriticalSection {
        role,
        arity,
        target,
        form,
        since,
    })
}

use CsForm::{Function, Macro};
use CsRole::{AssertHeld, Begin, End};
use CsTarget::{Mutex, Object, SequenceFast};

/// The critical-section vocabulary.
///
/// Decisions, reconciling what the parser, the region model and the lock model
/// used to list separately:
/// - `_MUTEX` is the public 3.14 spelling of "lock this `PyMutex` as a critical
///   section"; CPython 3.13 has the same macros internally as `_MUT`. Both are
///   listed; both close with the plain END macro of the same arity.
/// - `_SEQUENCE_FAST` is CPython-internal (copied by NumPy): it locks its argument
///   when that is a list, and has its own END.
/// - The function forms (`PyCriticalSection_Begin(&cs, op)`) take the section
///   struct first; the macro-based analyses ignore them, the wheel checks read
///   their imports as free-threaded build evidence.
pub(super) const CRITICAL_SECTIONS: [(&str, ApiKind); 19] = [
    ("Py_BEGIN_CRITICAL_SECTION", cs(Begin, 1, Object, Macro, 13)),
    (
        "Py_BEGIN_CRITICAL_SECTION2",
        cs(Begin, 2, Object, Macro, 13),
    ),
    (
        "Py_BEGIN_CRITICAL_SECTION_MUTEX",
        cs(Begin, 1, Mutex, Macro, 14),
    ),
    (
        "Py_BEGIN_CRITICAL_SECTION2_MUTEX",
        cs(Begin, 2, Mutex, Macro, 14),
    ),
    (
        "Py_BEGIN_CRITICAL_SECTION_MUT",
        cs(Begin, 1, Mutex, Macro, 13),
    ),
    (
        "Py_BEGIN_CRITICAL_SECTION2_MUT",
        cs(Begin, 2, Mutex, Macro, 13),
    ),
    (
        "Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST",
        cs(Begin, 1, SequenceFast, Macro, 13),
    ),
    ("Py_END_CRITICAL_SECTION", cs(End, 1, Object, Macro, 13)),
    ("Py_END_CRITICAL_SECTION2", cs(End, 2, Object, Macro, 13)),
    (
        "Py_END_CRITICAL_SECTION_SEQUENCE_FAST",
        cs(End, 1, SequenceFast, Macro, 13),
    ),
    (
        "PyCriticalSection_Begin",
        cs(Begin, 1, Object, Function, 13),
    ),
    ("PyCriticalSection_End", cs(End, 1, Object, Function, 13)),
    (
        "PyCriticalSection2_Begin",
        cs(Begin, 2, Object, Function, 13),
    ),
    ("PyCriticalSection2_End", cs(End, 2, Object, Function, 13)),
    (
        "PyCriticalSection_BeginMutex",
        cs(Begin, 1, Mutex, Function, 14),
    ),
    (
        "PyCriticalSection2_BeginMutex",
        cs(Begin, 2, Mutex, Function, 14),
    ),
    (
        "_Py_CRITICAL_SECTION_ASSERT_OBJECT_LOCKED",
        cs(AssertHeld, 1, Object, Macro, 13),
    ),
    (
        "_Py_CRITICAL_SECTION_ASSERT_MUTEX_LOCKED",
        cs(AssertHeld, 1, Mutex, Macro, 13),
    ),
    (
        "_PyCriticalSection_AssertHeld",
        cs(AssertHeld, 1, Mutex, Function, 13),
    ),
];

const fn lock(primitive: LockPrimitive, role: LockRole) -> ApiKind {
    ApiKind::Lock(Lock { primitive, role })
}

use LockPrimitive::{PyMutex, PyThreadLock};
use LockRole::{Acquire, Allocate, Free, Query, Release};

/// CPython's own locks: `PyMutex` (3.13) and the legacy `PyThread_type_lock`.
pub(super) const LOCKS: [(&str, ApiKind); 8] = [
    ("PyMutex_Lock", lock(PyMutex, Acquire)),
    ("PyMutex_Unlock", lock(PyMutex, Release)),
    ("PyMutex_IsLocked", lock(PyMutex, Query)),
    ("PyThread_acquire_lock", lock(PyThreadLock, Acquire)),
    ("PyThread_acquire_lock_timed", lock(PyThreadLock, Acquire)),
    ("PyThread_release_lock", lock(PyThreadLock, Release)),
    ("PyThread_allocate_lock", lock(PyThreadLock, Allocate)),
    ("PyThread_free_lock", lock(PyThreadLock, Free)),
];

/// `_Py_atomic_load_ptr`, `_Py_atomic_add_ssize`, ... (`cpython/pyatomic.h`): one
/// family, recognised by prefix.
pub(super) const ATOMIC_PREFIX: &str = "_Py_atomic_";

/// Calls that can run arbitrary Python code or block, and so let the interpreter
/// suspend the critical sections the caller holds (prefixes, then exact names).
pub(super) const SUSPENDING_PREFIXES: [&str; 18] = [
    "PyObject_Call",
    "PyObject_Vectorcall",
    "PyObject_RichCompare",
    "PyObject_GetAttr",
    "PyObject_SetAttr",
    "PyObject_GetItem",
    "PyObject_SetItem",
    "PyObject_Str",
    "PyObject_Repr",
    "PyObject_Hash",
    "PyObject_IsTrue",
    "PyObject_Format",
    "PyNumber_",
    "PyIter_Next",
    "PyEval_",
    "PyMutex_Lock",
    "PyThread_acquire_lock",
    "PyImport_",
];

/// Exact names that may suspend: decrefs can run a destructor, dict writes can run
/// `__eq__`/`__hash__` or a destructor, printing calls `__repr__`.
pub(super) const SUSPENDING_NAMES: [&str; 8] = [
    "Py_DECREF",
    "Py_XDECREF",
    "Py_CLEAR",
    "Py_SETREF",
    "Py_XSETREF",
    "PyDict_SetItem",
    "PyDict_DelItem",
    "PyObject_Print",
];

/// The END macro that closes a critical-section macro locking `arity` objects of
/// `target` (`Py_END_CRITICAL_SECTION2` for two objects). The `_MUTEX` forms close
/// with the plain END of their arity.
pub fn critical_section_end(target: CsTarget, arity: u8) -> Option<&'static str> {
    let target = if target == Mutex { Object } else { target };
    CRITICAL_SECTIONS.iter().find_map(|(n, k)| match k {
        ApiKind::CriticalSection(cs)
            if cs.role == End && cs.form == Macro && cs.target == target && cs.arity == arity =>
        {
            Some(*n)
        }
        _ => None,
    })
}

/// Every call on CPython's own locks, in table order.
pub fn lock_calls() -> impl Iterator<Item = (&'static str, Lock)> {
    LOCKS.iter().filter_map(|(n, k)| match k {
        ApiKind::Lock(l) => Some((*n, *l)),
        _ => None,
    })
}
