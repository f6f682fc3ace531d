//! Allocators and their domains (raw, memory, object).

use super::{AllocOp, Allocator, ApiKind, Domain};

const fn a(domain: Domain, op: AllocOp) -> ApiKind {
    ApiKind::Allocator(Allocator { domain, op })
}

use AllocOp::{Alloc, Calloc, Free, Realloc};
use Domain::{Mem, Object, Raw};

/// Every allocator function and macro of the three domains. `PyMem_New`/`PyMem_NEW`
/// allocate typed arrays, `PyMem_Resize`/`PyMem_RESIZE` reallocate them; the
/// upper-case spellings are the old macro aliases.
pub(super) const ALLOCATORS: [(&str, ApiKind); 26] = [
    ("PyMem_RawMalloc", a(Raw, Alloc)),
    ("PyMem_RawCalloc", a(Raw, Calloc)),
    ("PyMem_RawRealloc", a(Raw, Realloc)),
    ("PyMem_RawFree", a(Raw, Free)),
    ("PyMem_Malloc", a(Mem, Alloc)),
    ("PyMem_Calloc", a(Mem, Calloc)),
    ("PyMem_Realloc", a(Mem, Realloc)),
    ("PyMem_New", a(Mem, Alloc)),
    ("PyMem_Resize", a(Mem, Realloc)),
    ("PyMem_MALLOC", a(Mem, Alloc)),
    ("PyMem_REALLOC", a(Mem, Realloc)),
    ("PyMem_NEW", a(Mem, Alloc)),
    ("PyMem_RESIZE", a(Mem, Realloc)),
    ("PyMem_Free", a(Mem, Free)),
    ("PyMem_FREE", a(Mem, Free)),
    ("PyMem_Del", a(Mem, Free)),
    ("PyMem_DEL", a(Mem, Free)),
    ("PyObject_Malloc", a(Object, Alloc)),
    ("PyObject_Calloc", a(Object, Calloc)),
    ("PyObject_Realloc", a(Object, Realloc)),
    ("PyObject_MALLOC", a(Object, Alloc)),
    ("PyObject_REALLOC", a(Object, Realloc)),
    ("PyObject_Free", a(Object, Free)),
    ("PyObject_FREE", a(Object, Free)),
    ("PyObject_Del", a(Object, Free)),
    ("PyObject_DEL", a(Object, Free)),
];

/// Initialise an object header in memory the caller allocated.
pub(super) const OBJECT_INITS: [&str; 4] = [
    "PyObject_Init",
    "PyObject_INIT",
    "PyObject_InitVar",
    "PyObject_INIT_VAR",
];
