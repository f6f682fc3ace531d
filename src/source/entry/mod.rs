//! Entry-point and shared-state analysis: which functions can run on many threads at
//! once, which storage they touch, and which of those accesses are already guarded.
//!
//! A function *runs concurrently* ([`Role::Concurrent`]) when Python code can call it
//! on any thread: it is referenced from a `PyMethodDef` table, a type slot (static
//! `PyTypeObject` fields, positional or designated, `PyType_Slot` arrays), a
//! `PyGetSetDef`/`PyMemberDef` table, a buffer/number/sequence/mapping slot struct,
//! a `Py_mod_*` slot other than exec/create, or it is passed as a callback to any
//! function; or it is called by such a function. A function *runs once*
//! ([`Role::Once`]) when it is `PyInit_*`/`PyModExport_*`, a `Py_mod_exec` or
//! `Py_mod_create` slot, a module's `m_traverse`/`m_clear`/`m_free`, or is called
//! only from functions that run once. A function nothing in the project refers to
//! (a clinic wrapper named in a `#define`, an exported C API) counts as concurrent.
//!
//! Calls are followed across the files of one project: a name resolves to the
//! function of the same file first, then to any non-`static` function of that name.

mod classify;
mod facts;
mod locks;
mod syntax;

pub use classify::{classify, fn_at, is_module_arg, EntryMap};
pub use facts::{
    written_arg, Branch, Facts, FieldUse, FnRef, Guard, GuardKind, LocalFactsBuilder, Write,
    WriteKind,
};

/// Whether a function can run on many threads at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs only during module initialisation or teardown.
    Once,
    /// Reachable from Python on any thread.
    Concurrent,
}

/// Type slots that run while no other thread can see the object (or during
/// garbage collection): writes to the object's own fields there are not races.
pub const LIFECYCLE_SLOTS: [&str; 10] = [
    "new", "init", "dealloc", "traverse", "clear", "finalize", "alloc", "free", "del", "is_gc",
];

/// Is a slot name (`tp_dealloc`, `Py_tp_new`, `m_clear`) a lifecycle slot?
pub fn is_lifecycle_slot(slot: &str) -> bool {
    let s = slot.trim_start_matches("Py_");
    let Some(rest) = s.strip_prefix("tp_") else {
        return false;
    };
    LIFECYCLE_SLOTS.contains(&rest)
}
