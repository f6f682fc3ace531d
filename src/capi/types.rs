//! CPython's types and struct layouts: which typedefs are plain data, what marks a
//! struct as an object, which fields of the built-in objects extensions must not
//! touch directly, how a hand-written copy of a private struct is recognised, and
//! the private macros that read an object's internals.
//!
//! Decision: field and struct names are not call names, so these tables stay out
//! of [`super::lookup`]; each answers through its own predicate.

/// A struct of CPython's object layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStruct {
    /// `PyObject`, the header of every object.
    Object,
    List,
    Dict,
    /// `PyDictKeysObject`, the key table a dict points to.
    DictKeys,
    Set,
    Type,
    /// `PyASCIIObject`, the header of every str.
    Ascii,
    /// `PyCompactUnicodeObject`: a str that is not pure ASCII.
    CompactUnicode,
    /// `PyUnicodeObject`: a str whose characters live in a separate block.
    Unicode,
    Bytes,
}

impl ObjectStruct {
    /// Its C type name.
    pub fn c_name(self) -> &'static str {
        match self {
            ObjectStruct::Object => "PyObject",
            ObjectStruct::List => "PyListObject",
            ObjectStruct::Dict => "PyDictObject",
            ObjectStruct::DictKeys => "PyDictKeysObject",
            ObjectStruct::Set => "PySetObject",
            ObjectStruct::Type => "PyTypeObject",
            ObjectStruct::Ascii => "PyASCIIObject",
            ObjectStruct::CompactUnicode => "PyCompactUnicodeObject",
            ObjectStruct::Unicode => "PyUnicodeObject",
            ObjectStruct::Bytes => "PyBytesObject",
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
use ObjectStruct::{
    Ascii, Bytes, CompactUnicode, Dict, DictKeys, List, Object, Set, Type, Unicode,
};

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

/// The field sets that give away a hand-written copy of one of CPython's private
/// object structs (an extension that reads a dict's or a set's table itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StructSignature {
    /// The struct it copies.
    pub copies: ObjectStruct,
    /// Fields that must all be present.
    pub all_of: &'static [&'static str],
    /// Groups of fields: one of each group must be present.
    pub one_of_each: &'static [&'static [&'static str]],
    /// The names CPython's own headers give the struct: a header that defines it
    /// under one of them is a copy of CPython's headers, not a mirror.
    pub cpython_names: &'static [&'static str],
}

impl StructSignature {
    /// Does a struct with these fields (`has(field)`) match? A signature with no
    /// fields matches nothing.
    pub fn matches(&self, has: impl Fn(&str) -> bool) -> bool {
        (!self.all_of.is_empty() || !self.one_of_each.is_empty())
            && self.all_of.iter().all(|f| has(f))
            && self
                .one_of_each
                .iter()
                .all(|group| group.iter().any(|f| has(f)))
    }
}

const fn signature(
    copies: ObjectStruct,
    all_of: &'static [&'static str],
    one_of_each: &'static [&'static [&'static str]],
    cpython_names: &'static [&'static str],
) -> StructSignature {
    StructSignature {
        copies,
        all_of,
        one_of_each,
        cpython_names,
    }
}

/// The signatures, in the order they are tried (the first match names the struct).
///
/// Decision: `dk_size` alone is too common a name; the key table's signature also
/// asks for `dk_nentries` or `dk_usable`. A list mirror (`ob_item`, `allocated`) is
/// a common shape for any growable array; the rule weighs it with more evidence.
pub(super) const STRUCT_SIGNATURES: [StructSignature; 6] = [
    signature(
        Dict,
        &["ma_used"],
        &[&["ma_keys", "ma_values", "ma_version_tag"]],
        &["PyDictObject", "_dictobject"],
    ),
    signature(DictKeys, &["dk_refcnt"], &[], &["_dictkeysobject"]),
    signature(
        DictKeys,
        &[],
        &[&["dk_size", "dk_log2_size"], &["dk_nentries", "dk_usable"]],
        &["_dictkeysobject"],
    ),
    signature(
        Set,
        &["fill", "used", "mask", "table"],
        &[],
        &["PySetObject"],
    ),
    signature(
        CompactUnicode,
        &["utf8", "utf8_length"],
        &[],
        &["PyCompactUnicodeObject"],
    ),
    signature(List, &["ob_item", "allocated"], &[], &["PyListObject"]),
];

/// A cache CPython fills lazily inside an object, the first time someone asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LazyCache {
    /// A str's UTF-8 form (`PyUnicode_AsUTF8AndSize` fills it).
    Utf8,
    /// The length of that UTF-8 form.
    Utf8Length,
    /// A str's or bytes' hash (`PyObject_Hash` fills it).
    Hash,
}

/// A field holding a lazily filled cache, and the structs that have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheField {
    pub name: &'static str,
    pub cache: LazyCache,
    /// The structs declaring it, the most specific last.
    pub holders: &'static [ObjectStruct],
}

const fn cache(
    name: &'static str,
    cache: LazyCache,
    holders: &'static [ObjectStruct],
) -> CacheField {
    CacheField {
        name,
        cache,
        holders,
    }
}

/// The lazily filled caches of str and bytes. On the free-threaded build another
/// thread may be filling one while it is read.
pub(super) const CACHE_FIELDS: [CacheField; 4] = [
    cache("utf8", LazyCache::Utf8, &[CompactUnicode, Unicode]),
    cache(
        "utf8_length",
        LazyCache::Utf8Length,
        &[CompactUnicode, Unicode],
    ),
    cache("hash", LazyCache::Hash, &[Ascii, CompactUnicode, Unicode]),
    cache("ob_shash", LazyCache::Hash, &[Bytes]),
];

/// The private part of an object a private macro reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateLayout {
    /// The default build's `PyGC_Head` in front of a GC object (absent on the
    /// free-threaded build).
    GcHeader,
    /// The lazily filled caches of a str.
    StrCache,
}

/// A public API that answers what a private macro computes, on every build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicEquivalent {
    pub name: &'static str,
    /// The 3.x minor version that added it.
    pub since: u32,
}

/// One of CPython's private macros over an object's internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateMacro {
    pub name: &'static str,
    pub reads: PrivateLayout,
    /// A public call taking the same arguments, when there is one.
    pub public: Option<PublicEquivalent>,
}

const fn private(
    name: &'static str,
    reads: PrivateLayout,
    public: Option<PublicEquivalent>,
) -> PrivateMacro {
    PrivateMacro {
        name,
        reads,
        public,
    }
}

/// The private macros, GC header first.
pub(super) const PRIVATE_MACROS: [PrivateMacro; 12] = [
    private("_Py_AS_GC", PrivateLayout::GcHeader, None),
    private("_PyGC_REFS", PrivateLayout::GcHeader, None),
    private("_PyGCHead_NEXT", PrivateLayout::GcHeader, None),
    private("_PyGCHead_PREV", PrivateLayout::GcHeader, None),
    private("_PyGCHead_SET_NEXT", PrivateLayout::GcHeader, None),
    private("_PyGCHead_SET_PREV", PrivateLayout::GcHeader, None),
    private("_PyGCHead_FINALIZED", PrivateLayout::GcHeader, None),
    private(
        "_PyObject_GC_IS_TRACKED",
        PrivateLayout::GcHeader,
        Some(PublicEquivalent {
            name: "PyObject_GC_IsTracked",
            since: 9,
        }),
    ),
    private("_PyObject_GC_MAY_BE_TRACKED", PrivateLayout::GcHeader, None),
    private("_PyUnicode_UTF8", PrivateLayout::StrCache, None),
    private("_PyUnicode_UTF8_LENGTH", PrivateLayout::StrCache, None),
    private("_PyUnicode_HASH", PrivateLayout::StrCache, None),
];

/// The fields of the default build's GC header (`_gc_next`, `_gc_prev`) and of its
/// pre-3.8 form (`gc_next`, `gc_prev`, `gc_refs`).
pub(super) const GC_HEADER_FIELDS: [&str; 5] =
    ["_gc_next", "_gc_prev", "gc_next", "gc_prev", "gc_refs"];
