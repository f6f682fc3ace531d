//! Calls that detach or re-attach the thread state, what may run while detached,
//! the getters of the current thread state, and the public accessors that replace
//! reading `PyThreadState`'s fields.

use super::{ApiKind, ThreadStateCall, TsForm, TsRole};

const fn ts(role: TsRole, form: TsForm) -> ApiKind {
    ApiKind::ThreadState(ThreadStateCall { role, form })
}

use TsForm::{BareMacro, Function, GilState, RegionMacro};
use TsRole::{Attach, Detach};

/// The thread-state calls. `Py_BEGIN_ALLOW_THREADS`/`Py_END_ALLOW_THREADS` open and
/// close a block; `Py_BLOCK_THREADS`/`Py_UNBLOCK_THREADS` re-attach and detach again
/// inside one; all four are written without parentheses.
pub(super) const THREAD_STATE: [(&str, ApiKind); 8] = [
    ("Py_BEGIN_ALLOW_THREADS", ts(Detach, RegionMacro)),
    ("Py_END_ALLOW_THREADS", ts(Attach, RegionMacro)),
    ("Py_BLOCK_THREADS", ts(Attach, BareMacro)),
    ("Py_UNBLOCK_THREADS", ts(Detach, BareMacro)),
    ("PyGILState_Ensure", ts(Attach, GilState)),
    ("PyGILState_Release", ts(Detach, GilState)),
    ("PyEval_SaveThread", ts(Detach, Function)),
    ("PyEval_RestoreThread", ts(Attach, Function)),
];

/// Functions and macros returning the calling thread's `PyThreadState *`, public
/// and CPython-internal.
pub(super) const CURRENT_THREAD_STATE: [&str; 5] = [
    "PyThreadState_Get",
    "PyThreadState_GET",
    "PyThreadState_GetUnchecked",
    "_PyThreadState_UncheckedGet",
    "_PyThreadState_GET",
];

/// Fields of `PyThreadState` (across versions) with the public API to use instead:
/// a call, or `Py_EnterRecursiveCall` for the recursion counters.
pub(super) const THREAD_STATE_FIELDS: [(&str, &str); 15] = [
    ("interp", "PyThreadState_GetInterpreter(tstate)"),
    ("frame", "PyThreadState_GetFrame(tstate)"),
    ("thread_id", "PyThreadState_GetID(tstate)"),
    ("id", "PyThreadState_GetID(tstate)"),
    ("dict", "PyThreadState_GetDict()"),
    ("recursion_depth", "Py_EnterRecursiveCall"),
    ("recursion_remaining", "Py_EnterRecursiveCall"),
    ("py_recursion_remaining", "Py_EnterRecursiveCall"),
    ("c_recursion_remaining", "Py_EnterRecursiveCall"),
    ("curexc_type", "PyErr_GetRaisedException()"),
    ("curexc_value", "PyErr_GetRaisedException()"),
    ("current_exception", "PyErr_GetRaisedException()"),
    ("exc_info", "PyErr_GetHandledException()"),
    ("exc_state", "PyErr_GetHandledException()"),
    ("context", "PyContext_CopyCurrent()"),
];

/// Prefixes of C-API families documented (or plainly safe) to call without an
/// attached thread state: raw memory, locks, atomics, time.
pub(super) const DETACHED_OK_PREFIXES: [&str; 16] = [
    "PyMem_Raw",
    "PyMutex_",
    "PyThread_",
    "_PyThread_",
    "Py_BEGIN_",
    "Py_END_",
    "_Py_BEGIN_SUPPRESS",
    "_Py_END_SUPPRESS",
    "PyEvent_",
    "_PyEvent_",
    "_PyMutex_",
    "_PyRawMutex_",
    "_PyOnceFlag_",
    "_Py_atomic_",
    "_Py_IsMainThread",
    "_PyTime_",
];

/// Exact names safe without an attached thread state: arithmetic and cast macros,
/// type names that look like calls in casts, and accessors that do pointer
/// arithmetic on objects the caller keeps alive.
pub(super) const DETACHED_OK_NAMES: [&str; 50] = [
    "Py_BLOCK_THREADS",
    "Py_UNBLOCK_THREADS",
    "Py_ARRAY_LENGTH",
    "Py_MIN",
    "Py_MAX",
    "Py_ABS",
    "Py_UNUSED",
    "Py_SAFE_DOWNCAST",
    "Py_CHARMASK",
    "Py_MEMCPY",
    "Py_CLAMP",
    "Py_STRINGIFY",
    "Py_SIZE_ROUND_UP",
    "Py_SIZE_ROUND_DOWN",
    "_Py_SIZE_ROUND_UP",
    "PyTime_MonotonicRaw",
    "PyTime_PerfCounterRaw",
    "PyTime_TimeRaw",
    "Py_IS_NAN",
    "Py_IS_INFINITY",
    "Py_IS_FINITE",
    "_Py_RVALUE",
    "Py_EncodeLocale",
    "Py_DecodeLocale",
    "_Py_EncodeLocaleRaw",
    "_Py_DecodeLocaleEx",
    "Py_ssize_t",
    "Py_UCS4",
    "Py_hash_t",
    "_Py_STATIC_CAST",
    "_Py_CAST",
    "Py_LL",
    "Py_ULL",
    "Py_FatalError",
    "PyTraceMalloc_Track",
    "PyTraceMalloc_Untrack",
    "PyOS_InputHook",
    "PyOS_snprintf",
    "PyOS_vsnprintf",
    "PyOS_mystrnicmp",
    "PyOS_mystrcmp",
    "Py_REFCNT",
    "Py_TYPE",
    "PyBytes_AS_STRING",
    "PyBytes_GET_SIZE",
    "PyTuple_GET_SIZE",
    "PyTuple_GET_ITEM",
    "PyUnicode_DATA",
    "PyUnicode_KIND",
    "PyUnicode_GET_LENGTH",
];

/// CPython-internal prefixes that plainly touch objects or exceptions, and so need
/// an attached thread state like the public `Py*` API. Other `_Py` names are not
/// judged.
pub(super) const PRIVATE_NEEDING_THREAD_STATE: [&str; 9] = [
    "_PyObject_",
    "_PyErr_",
    "_PyUnicode_",
    "_PyBytes_",
    "_PyList_",
    "_PyDict_",
    "_PyTuple_",
    "_PyLong_",
    "_PyType_",
];

/// The thread-state call of this role and form (`(Attach, BareMacro)` →
/// `Py_BLOCK_THREADS`); the first in table order.
pub fn thread_state_macro(role: TsRole, form: TsForm) -> Option<&'static str> {
    THREAD_STATE.iter().find_map(|(n, k)| match k {
        ApiKind::ThreadState(t) if t.role == role && t.form == form => Some(*n),
        _ => None,
    })
}
