//! The slots of `PyTypeObject`, by their position in a positional (undesignated)
//! static type initializer.
//!
//! Decision: slots are struct fields, not call names, so they stay out of
//! [`super::lookup`]. Position 0 is the `PyVarObject_HEAD_INIT(...)` header; the
//! order is that of `struct _typeobject` in `Include/cpython/object.h`, which has
//! only ever grown at its end. Slots after `tp_vectorcall` are CPython-internal.

/// `(slot, position)`, in declaration order.
pub(super) const TYPE_SLOTS: [(&str, usize); 48] = [
    ("tp_name", 1),
    ("tp_basicsize", 2),
    ("tp_itemsize", 3),
    ("tp_dealloc", 4),
    ("tp_vectorcall_offset", 5),
    ("tp_getattr", 6),
    ("tp_setattr", 7),
    ("tp_as_async", 8),
    ("tp_repr", 9),
    ("tp_as_number", 10),
    ("tp_as_sequence", 11),
    ("tp_as_mapping", 12),
    ("tp_hash", 13),
    ("tp_call", 14),
    ("tp_str", 15),
    ("tp_getattro", 16),
    ("tp_setattro", 17),
    ("tp_as_buffer", 18),
    ("tp_flags", 19),
    ("tp_doc", 20),
    ("tp_traverse", 21),
    ("tp_clear", 22),
    ("tp_richcompare", 23),
    ("tp_weaklistoffset", 24),
    ("tp_iter", 25),
    ("tp_iternext", 26),
    ("tp_methods", 27),
    ("tp_members", 28),
    ("tp_getset", 29),
    ("tp_base", 30),
    ("tp_dict", 31),
    ("tp_descr_get", 32),
    ("tp_descr_set", 33),
    ("tp_dictoffset", 34),
    ("tp_init", 35),
    ("tp_alloc", 36),
    ("tp_new", 37),
    ("tp_free", 38),
    ("tp_is_gc", 39),
    ("tp_bases", 40),
    ("tp_mro", 41),
    ("tp_cache", 42),
    ("tp_subclasses", 43),
    ("tp_weaklist", 44),
    ("tp_del", 45),
    ("tp_version_tag", 46),
    ("tp_finalize", 47),
    ("tp_vectorcall", 48),
];

/// The position of the slot `name` (`tp_dealloc` → 4) in a positional initializer.
pub fn type_slot_position(name: &str) -> Option<usize> {
    TYPE_SLOTS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_declaration_order() {
        for (i, (name, pos)) in TYPE_SLOTS.iter().enumerate() {
            assert_eq!(*pos, i + 1, "{name}");
            assert!(name.starts_with("tp_"));
        }
        assert_eq!(type_slot_position("tp_dealloc"), Some(4));
        assert_eq!(type_slot_position("tp_is_gc"), Some(39));
        assert_eq!(type_slot_position("ob_refcnt"), None);
    }
}
