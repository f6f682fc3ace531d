//! Containers: calls that return a new object, calls that return a shared one, and
//! operations on lists, dicts, tuples and sets (which lock, which read items).

use super::{Access, ApiKind, Container, ItemResult};

/// Functions that return a new object nobody else has seen yet (a fresh container,
/// a fresh iterator). `PyStructSequence_New` and the type allocators return a new
/// instance too.
pub(super) const CONSTRUCTORS: [&str; 35] = [
    "PyList_New",
    "PyTuple_New",
    "PyTuple_Pack",
    "PyDict_New",
    "PySet_New",
    "PyFrozenSet_New",
    "PyList_GetSlice",
    "PyTuple_GetSlice",
    "PySequence_List",
    "PySequence_Tuple",
    "PyDict_Copy",
    "PyDict_Keys",
    "PyDict_Values",
    "PyDict_Items",
    "PyList_AsTuple",
    "PyMapping_Keys",
    "PyMapping_Values",
    "PyMapping_Items",
    "PySequence_GetSlice",
    "Py_BuildValue",
    "_PyDict_NewPresized",
    "PyDict_NewPresized",
    "_PyTuple_FromArray",
    "_PyList_FromArray",
    "PyObject_Dir",
    "_PyStack_AsDict",
    "PyUnicode_Split",
    "PyUnicode_RSplit",
    "PyUnicode_Splitlines",
    "PyUnicode_Partition",
    "PyUnicode_RPartition",
    "PyObject_GetIter",
    "PyType_GenericAlloc",
    "PyType_GenericNew",
    "PyStructSequence_New",
];

/// Functions that return a container every thread can reach (module, interpreter or
/// frame dictionaries): what they return is never private.
pub(super) const GLOBAL_CONTAINERS: [&str; 7] = [
    "PyModule_GetDict",
    "PyImport_GetModuleDict",
    "PyEval_GetGlobals",
    "PyEval_GetBuiltins",
    "PySys_GetObject",
    "PyObject_GenericGetDict",
    "PyType_GetDict",
];

const fn op(container: Container, access: Access, locks_self: bool, item: ItemResult) -> ApiKind {
    ApiKind::ContainerOp {
        container,
        access,
        locks_self,
        item,
    }
}

use Access::{Read, Write};
use Container::{Dict, List, Sequence, Set, Tuple};
use ItemResult::{Borrowed, BorrowedArray, BorrowedOut, NoItem, Strong, StrongOut};

/// Operations on the container that is their first argument.
///
/// `locks_self`: on the free-threaded build the function takes the container's
/// per-object lock itself, so a critical section around a single call of it on the
/// same object adds nothing. `item`: whether it hands back one of the container's
/// items, and as which kind of reference.
///
/// Decision: `PyDict_SetDefault` returns a borrowed item but inserts first, so it is
/// a write here; "borrowed item reads" are only the pure lookups.
pub(super) const CONTAINER_OPS: [(&str, ApiKind); 46] = [
    // Lookups without the per-object lock, returning a borrowed item.
    ("PyList_GetItem", op(List, Read, false, Borrowed)),
    ("PyList_GET_ITEM", op(List, Read, false, Borrowed)),
    ("PyDict_GetItem", op(Dict, Read, false, Borrowed)),
    ("PyDict_GetItemWithError", op(Dict, Read, false, Borrowed)),
    ("PyDict_GetItemString", op(Dict, Read, false, Borrowed)),
    ("PyTuple_GetItem", op(Tuple, Read, false, Borrowed)),
    ("PyTuple_GET_ITEM", op(Tuple, Read, false, Borrowed)),
    (
        "PySequence_Fast_GET_ITEM",
        op(Sequence, Read, false, Borrowed),
    ),
    ("PyDict_SetDefault", op(Dict, Write, false, Borrowed)),
    (
        "PySequence_Fast_ITEMS",
        op(Sequence, Read, false, BorrowedArray),
    ),
    // Iteration hands out borrowed items through out-parameters.
    ("PyDict_Next", op(Dict, Read, false, BorrowedOut)),
    // Initialisation macros: no lock, meant for containers nobody else sees yet.
    ("PyList_SET_ITEM", op(List, Write, false, NoItem)),
    ("PyTuple_SET_ITEM", op(Tuple, Write, false, NoItem)),
    // Operations that lock their first argument internally.
    ("PyList_Append", op(List, Write, true, NoItem)),
    ("PyList_Insert", op(List, Write, true, NoItem)),
    ("PyList_SetItem", op(List, Write, true, NoItem)),
    ("PyList_GetItemRef", op(List, Read, true, Strong)),
    ("PyList_SetSlice", op(List, Write, true, NoItem)),
    ("PyList_Sort", op(List, Write, true, NoItem)),
    ("PyList_Reverse", op(List, Write, true, NoItem)),
    ("PyList_AsTuple", op(List, Read, true, NoItem)),
    ("PyList_Extend", op(List, Write, true, NoItem)),
    ("PyList_Clear", op(List, Write, true, NoItem)),
    ("PyDict_SetItem", op(Dict, Write, true, NoItem)),
    ("PyDict_SetItemString", op(Dict, Write, true, NoItem)),
    ("PyDict_DelItem", op(Dict, Write, true, NoItem)),
    ("PyDict_DelItemString", op(Dict, Write, true, NoItem)),
    ("PyDict_GetItemRef", op(Dict, Read, true, StrongOut)),
    ("PyDict_GetItemStringRef", op(Dict, Read, true, StrongOut)),
    ("PyDict_Contains", op(Dict, Read, true, NoItem)),
    ("PyDict_ContainsString", op(Dict, Read, true, NoItem)),
    ("PyDict_SetDefaultRef", op(Dict, Write, true, StrongOut)),
    ("PyDict_Pop", op(Dict, Write, true, StrongOut)),
    ("PyDict_PopString", op(Dict, Write, true, StrongOut)),
    ("PyDict_Clear", op(Dict, Write, true, NoItem)),
    ("PyDict_Update", op(Dict, Write, true, NoItem)),
    ("PyDict_Merge", op(Dict, Write, true, NoItem)),
    ("PyDict_Copy", op(Dict, Read, true, NoItem)),
    ("PyDict_Keys", op(Dict, Read, true, NoItem)),
    ("PyDict_Values", op(Dict, Read, true, NoItem)),
    ("PyDict_Items", op(Dict, Read, true, NoItem)),
    ("PySet_Add", op(Set, Write, true, NoItem)),
    ("PySet_Discard", op(Set, Write, true, NoItem)),
    ("PySet_Contains", op(Set, Read, true, NoItem)),
    ("PySet_Pop", op(Set, Write, true, Strong)),
    ("PySet_Clear", op(Set, Write, true, NoItem)),
];

/// Size getters: `PyList_GET_SIZE` and `PySequence_Fast_GET_SIZE` read without the
/// lock; `Py_SIZE` reads any variable-size object's header.
pub(super) const SIZE_GETTERS: [(&str, Option<Container>); 4] = [
    ("PyList_GET_SIZE", Some(List)),
    ("PyList_Size", Some(List)),
    ("PySequence_Fast_GET_SIZE", Some(Sequence)),
    ("Py_SIZE", None),
];

/// Name prefixes of the container families (public and CPython-internal spellings).
///
/// Decision: this is the set the privacy analysis has always used for "a call on the
/// container that does not publish it"; `_PySet_` and `_PySequence_` are not in it.
pub(super) const CONTAINER_PREFIXES: [(&str, Container); 8] = [
    ("PyList_", List),
    ("PyDict_", Dict),
    ("PyTuple_", Tuple),
    ("PySet_", Set),
    ("PySequence_", Sequence),
    ("_PyList_", List),
    ("_PyDict_", Dict),
    ("_PyTuple_", Tuple),
];

/// Argument parsers (`PyArg_ParseTuple`, `_PyArg_UnpackKeywords`, ...): what they
/// store through their out-parameters are the caller's arguments.
pub(super) const ARG_PARSER_PREFIXES: [&str; 2] = ["PyArg_", "_PyArg_"];

/// Item macros that check neither their argument's type nor the index: with a
/// stale index they read or write past the end of the item array.
pub(super) const UNCHECKED_INDEX: [&str; 5] = [
    "PyList_GET_ITEM",
    "PyList_SET_ITEM",
    "PyTuple_GET_ITEM",
    "PyTuple_SET_ITEM",
    "PySequence_Fast_GET_ITEM",
];
