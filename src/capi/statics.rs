//! C-API types as the shared-state rules see them (which statics are not mutable
//! state, which arrays are character buffers), and the accessors that hand out an
//! object's internals without pinning it.
//!
//! Decision: types are not call names, so they stay out of [`super::lookup`] (like
//! the struct-layout topic); each table answers through its own predicate. Native
//! lock types (`pthread_mutex_t`, `std::mutex`, `SRWLOCK`) are not the C API and
//! stay with the rules that know them.

use super::LockPrimitive;

/// What a C-API type is, for a variable of that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiType {
    /// A definition table CPython reads, filled in at load time: type objects,
    /// method and member tables, module definitions, slot arrays.
    Definition,
    /// One of CPython's locks (`PyMutex` is a value, zero when unlocked;
    /// `PyThread_type_lock` an opaque handle).
    Lock(LockPrimitive),
    /// Other synchronisation: semaphores and once-flags.
    Sync,
    /// A thread-specific storage key (`Py_tss_t`): one value per thread.
    ThreadLocalKey,
    /// A CPython-internal cache that CPython itself fills thread-safely
    /// (`_PyArg_Parser` of Argument Clinic, `_Py_Identifier`).
    InternalCache,
    /// A character element type (`Py_UCS4`): an array of it is a text buffer.
    Character,
}

use ApiType::*;

pub(super) const API_TYPES: [(&str, ApiType); 28] = [
    ("PyTypeObject", Definition),
    ("PyModuleDef", Definition),
    ("PyMethodDef", Definition),
    ("PyGetSetDef", Definition),
    ("PyMemberDef", Definition),
    ("PyType_Spec", Definition),
    ("PyType_Slot", Definition),
    ("PyModuleDef_Slot", Definition),
    ("PySlot", Definition),
    ("PyStructSequence_Desc", Definition),
    ("PyStructSequence_Field", Definition),
    ("PyNumberMethods", Definition),
    ("PySequenceMethods", Definition),
    ("PyMappingMethods", Definition),
    ("PyBufferProcs", Definition),
    ("PyAsyncMethods", Definition),
    ("PyModuleDef_Base", Definition),
    ("PyMutex", Lock(LockPrimitive::PyMutex)),
    ("PyThread_type_lock", Lock(LockPrimitive::PyThreadLock)),
    ("PyThread_type_sema", Sync),
    ("_PyOnceFlag", Sync),
    ("Py_tss_t", ThreadLocalKey),
    ("_PyArg_Parser", InternalCache),
    ("_Py_Identifier", InternalCache),
    ("Py_UCS1", Character),
    ("Py_UCS2", Character),
    ("Py_UCS4", Character),
    ("Py_UNICODE", Character),
];

/// The C-API type `name` (exact spelling, no qualifiers), if it is one.
pub fn api_type(name: &str) -> Option<ApiType> {
    API_TYPES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The type name of a lock primitive (`PyMutex`).
pub fn lock_type_name(primitive: LockPrimitive) -> &'static str {
    API_TYPES
        .iter()
        .find(|(_, t)| *t == Lock(primitive))
        .map(|(n, _)| *n)
        .unwrap_or("")
}

/// `PyMutex`, by its type name.
pub fn is_pymutex_type(name: &str) -> bool {
    api_type(name) == Some(Lock(LockPrimitive::PyMutex))
}

/// A static of this C-API type is not mutable shared state: a definition table,
/// a lock or once-flag, a thread-local key, or a cache CPython guards itself.
pub fn static_is_not_state(name: &str) -> bool {
    api_type(name).is_some_and(|t| t != Character)
}

/// The C API's character element types (`Py_UCS1`, `Py_UCS4`, `Py_UNICODE`).
pub fn is_character_type(name: &str) -> bool {
    api_type(name) == Some(Character)
}

/// The part of an object an accessor hands out raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawInternals {
    /// A `bytearray`'s internal buffer, which a concurrent resize moves.
    ByteArrayBuffer,
    /// A capsule's pointer, name, context or destructor.
    CapsuleFields,
}

/// Accessors of an object's internals that neither pin nor lock the object.
///
/// Decision: the bytearray getters are `compatible` in CPython's annotations, the
/// capsule setters `distinct`; both are safe on an object no other thread has
/// seen yet, so each kind lists the constructors of such fresh objects below.
pub(super) const RAW_ACCESSORS: [(&str, RawInternals); 6] = [
    ("PyByteArray_AS_STRING", RawInternals::ByteArrayBuffer),
    ("PyByteArray_AsString", RawInternals::ByteArrayBuffer),
    ("PyCapsule_SetPointer", RawInternals::CapsuleFields),
    ("PyCapsule_SetContext", RawInternals::CapsuleFields),
    ("PyCapsule_SetName", RawInternals::CapsuleFields),
    ("PyCapsule_SetDestructor", RawInternals::CapsuleFields),
];

/// Constructors of a fresh bytearray or capsule, per kind.
pub(super) const FRESH_HOLDERS: [(&str, RawInternals); 3] = [
    (
        "PyByteArray_FromStringAndSize",
        RawInternals::ByteArrayBuffer,
    ),
    ("PyByteArray_FromObject", RawInternals::ByteArrayBuffer),
    ("PyCapsule_New", RawInternals::CapsuleFields),
];

/// The internals the accessor `name` hands out, if it is one.
pub fn raw_internals_accessor(name: &str) -> Option<RawInternals> {
    RAW_ACCESSORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// The constructors that return a fresh object of that kind.
pub fn fresh_holder_constructors(kind: RawInternals) -> impl Iterator<Item = &'static str> {
    FRESH_HOLDERS
        .iter()
        .filter(move |(_, k)| *k == kind)
        .map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_types() {
        assert!(is_pymutex_type("PyMutex"));
        assert!(!is_pymutex_type("PyThread_type_lock"));
        assert_eq!(lock_type_name(LockPrimitive::PyMutex), "PyMutex");
        assert_eq!(
            lock_type_name(LockPrimitive::PyThreadLock),
            "PyThread_type_lock"
        );
        assert!(static_is_not_state("PyTypeObject"));
        assert!(static_is_not_state("Py_tss_t"));
        assert!(static_is_not_state("_PyArg_Parser"));
        assert!(!static_is_not_state("Py_UCS4"));
        assert!(!static_is_not_state("pthread_mutex_t"));
        assert!(is_character_type("Py_UNICODE"));
        assert!(!is_character_type("char"));
        let names: Vec<_> = API_TYPES.iter().map(|(n, _)| *n).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} twice");
        }
    }

    #[test]
    fn raw_internals() {
        assert_eq!(
            raw_internals_accessor("PyByteArray_AsString"),
            Some(RawInternals::ByteArrayBuffer)
        );
        assert_eq!(raw_internals_accessor("PyCapsule_GetPointer"), None);
        let fresh: Vec<_> = fresh_holder_constructors(RawInternals::CapsuleFields).collect();
        assert_eq!(fresh, ["PyCapsule_New"]);
        // Every accessor and constructor is one CPython annotates.
        for (n, _) in RAW_ACCESSORS.iter().chain(FRESH_HOLDERS.iter()) {
            assert!(super::super::threadsafety(n).is_some(), "{n}");
        }
    }
}
