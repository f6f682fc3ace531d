//! CPython's types and struct layouts: which typedefs are plain data, what marks a
//! struct as an object, and which fields of the built-in objects extensions must
//! not touch directly.

/// A struct of CPython's object layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStruct {
    /// `PyObject`, the header of every object.
    Object,
    List,
    Dict,
    Type,
}

impl ObjectStruct {
    /// Its C type name.
    pub fn c_name(self) -> &'static str {
        match self {
            ObjectStruct::Object => "PyObject",
            ObjectStruct::List => "PyListObject",
            ObjectStruct::Dict => "PyDictObject",
            ObjectStruct::Type => "PyTypeObject",
        }
    }
}

/// Why reaching into a field is a hazard on the free-threaded build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldHazard {
    /// Read and written under the object's per-object lock (list items, dict keys).
    ObjectLock,
    /// Replaced only under the type lock (`tp_dict`): writing it is the hazard.
    TypeLock,
    /// Not in the free-threaded layout at all (`ob_refcnt`): does not compile.
    AbsentOnFreeThreaded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructField {
    pub name: &'static str,
    pub owner: ObjectStruct,
    pub hazard: FieldHazard,
}

const fn field(name: &'static str, owner: ObjectStruct, hazard: FieldHazard) -> StructField {
    StructField {
        name,
        owner,
        hazard,
    }
}

use FieldHazard::{AbsentOnFreeThreaded, ObjectLock, TypeLock};
use ObjectStruct::{Dict, List, Object, Type};

/// The fields, list first, then dict, then type, then the object header (FT204
/// reports in this order).
pub(super) const STRUCT_FIELDS: [StructField; 8] = [
    field("ob_item", List, ObjectLock),
    field("allocated", List, ObjectLock),
    field("ma_used", Dict, ObjectLock),
    field("ma_keys", Dict, ObjectLock),
    field("ma_values", Dict, ObjectLock),
    field("ma_version_tag", Dict, ObjectLock),
    field("tp_dict", Type, TypeLock),
    field("ob_refcnt", Object, AbsentOnFreeThreaded),
];

/// CPython's scalar and buffer typedefs: never a Python object. `digit` is the
/// limb type of `int` objects (`longintrepr.h`).
pub(super) const PLAIN_DATA_TYPES: [&str; 7] = [
    "Py_ssize_t",
    "Py_UCS1",
    "Py_UCS2",
    "Py_UCS4",
    "Py_buffer",
    "Py_hash_t",
    "digit",
];

/// A struct whose body contains one of these is a Python object.
pub(super) const OBJECT_HEADER_MARKERS: [&str; 3] =
    ["PyObject_HEAD", "PyObject_VAR_HEAD", "ob_base"];
