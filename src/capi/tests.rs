use super::*;

#[test]
fn every_borrowed_getter_has_a_strong_replacement_in_the_catalogue() {
    for (name, g) in BORROWED_GETTERS.iter() {
        let api = lookup(g.replacement)
            .unwrap_or_else(|| panic!("{name}: replacement {} not catalogued", g.replacement));
        let since = api.kind(|k| match k {
            ApiKind::StrongGetter { since } => Some(*since),
            _ => None,
        });
        assert_eq!(since, Some(g.since), "{name} → {}", g.replacement);
        assert!(
            borrowed_getter(g.replacement).is_none(),
            "{} is itself borrowed",
            g.replacement
        );
    }
}

#[test]
fn no_table_lists_a_name_twice_in_the_same_role() {
    for (name, api) in &catalogue().map {
        for (i, k) in api.kinds.iter().enumerate() {
            assert!(!api.kinds[..i].contains(k), "{name}: {k:?} twice");
        }
    }
}

#[test]
fn generated_threadsafety_table_is_well_formed() {
    let rev = threadsafety::CPYTHON_REVISION;
    assert_eq!(rev.len(), 40);
    assert!(rev.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut seen = std::collections::HashSet::new();
    for (name, _) in threadsafety::LEVELS {
        assert!(seen.insert(name), "{name} twice");
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{name}"
        );
    }
    // The families CPython annotates: mutex, list, bytes, bytearray, capsule,
    // tuple, struct sequence.
    for prefix in [
        "PyMutex_",
        "PyList_",
        "PyBytes_",
        "PyByteArray_",
        "PyCapsule_",
        "PyTuple_",
        "PyStructSequence_",
    ] {
        assert!(
            threadsafety::LEVELS
                .iter()
                .any(|(n, _)| n.starts_with(prefix)),
            "{prefix}"
        );
    }
}

#[test]
fn threadsafety_levels_are_reachable_through_lookup() {
    assert_eq!(threadsafety("PyMutex_Lock"), Some(ThreadSafety::Shared));
    assert_eq!(threadsafety("PyMutex_IsLocked"), Some(ThreadSafety::Atomic));
    assert_eq!(
        threadsafety("PyList_GetItem"),
        Some(ThreadSafety::Compatible)
    );
    assert_eq!(
        threadsafety("PyCapsule_SetPointer"),
        Some(ThreadSafety::Distinct)
    );
    // Annotated by CPython, in none of our topic tables: still found.
    let repr = lookup("PyBytes_Repr").expect("annotated names are catalogued");
    assert!(repr.kinds.is_empty());
    assert_eq!(repr.threadsafety, Some(ThreadSafety::Atomic));
    // Ours, not annotated by CPython.
    assert_eq!(threadsafety("PyDict_GetItem"), None);
    assert!(lookup("PyDict_GetItem").is_some());
    assert!(lookup("not_an_api").is_none());
}

#[test]
fn our_kinds_agree_with_cpython_levels() {
    for (name, level) in threadsafety::LEVELS {
        let Some(api) = lookup(name) else { continue };
        for k in &api.kinds {
            match k {
                // Borrowed results need external synchronisation.
                ApiKind::BorrowedGetter(_) => assert_eq!(level, ThreadSafety::Compatible, "{name}"),
                // Self-locking operations are safe on a shared object.
                ApiKind::ContainerOp {
                    locks_self: true, ..
                } => assert!(level >= ThreadSafety::Shared, "{name}: {level:?}"),
                // Initialisation macros take no lock.
                ApiKind::ContainerOp {
                    access: Access::Write,
                    locks_self: false,
                    ..
                } => assert_eq!(level, ThreadSafety::Compatible, "{name}"),
                ApiKind::Constructor => assert_eq!(level, ThreadSafety::Atomic, "{name}"),
                _ => {}
            }
        }
    }
}

#[test]
fn critical_section_vocabulary_is_consistent() {
    let markers: Vec<_> = critical_section_markers().collect();
    for (name, cs) in &markers {
        assert!(name.starts_with("Py_BEGIN_") || name.starts_with("Py_END_"));
        assert_eq!(
            name.starts_with("Py_BEGIN_"),
            cs.role == CsRole::Begin,
            "{name}"
        );
        assert_eq!(name.contains("SECTION2"), cs.arity == 2, "{name}");
        // Every BEGIN has an END of the same arity (the mutex forms close with
        // the plain END); the SEQUENCE_FAST form has its own.
        if cs.role == CsRole::Begin {
            let end_target = match cs.target {
                CsTarget::Mutex => CsTarget::Object,
                t => t,
            };
            assert!(
                markers.iter().any(|(_, e)| e.role == CsRole::End
                    && e.arity == cs.arity
                    && e.target == end_target),
                "{name} has no END"
            );
        }
    }
    for spelling in ["_MUTEX", "_MUT", "_SEQUENCE_FAST"] {
        assert!(
            markers
                .iter()
                .any(|(n, c)| n.ends_with(spelling) && c.role == CsRole::Begin),
            "{spelling}"
        );
    }
    // The parser terminates every marker, and only region macros.
    let statements: Vec<_> = statement_macros().collect();
    for (name, _) in &markers {
        assert!(statements.contains(name), "{name}");
    }
    for name in &statements {
        assert!(
            critical_section_macro(name).is_some() || thread_state_call(name).is_some(),
            "{name}"
        );
    }
    assert!(asserts_object_locked(
        "_Py_CRITICAL_SECTION_ASSERT_OBJECT_LOCKED"
    ));
    assert!(!asserts_object_locked(
        "_Py_CRITICAL_SECTION_ASSERT_MUTEX_LOCKED"
    ));
    assert!(critical_section_macro("PyCriticalSection_Begin").is_none());
}

#[test]
fn reference_counting_predicates() {
    let increfs: Vec<&str> = catalogue()
        .map
        .keys()
        .copied()
        .filter(|n| is_incref(n))
        .collect();
    let mut increfs = increfs;
    increfs.sort_unstable();
    assert_eq!(
        increfs,
        ["Py_INCREF", "Py_NewRef", "Py_XINCREF", "Py_XNewRef"]
    );
    assert!(is_new_ref("Py_XNewRef") && !is_new_ref("Py_INCREF"));
    assert!(replaces_reference("Py_SETREF") && !replaces_reference("Py_DECREF"));
    assert!(is_decref("Py_CLEAR") && is_decref("Py_XDECREF") && !is_decref("Py_INCREF"));
    assert!(keeps_no_reference("Py_REFCNT") && keeps_no_reference("_PyObject_CAST"));
    assert!(!keeps_no_reference("Py_SET_REFCNT"));
    assert!(!keeps_no_reference("PyList_Append"));
}

#[test]
fn container_predicates() {
    assert!(is_constructor("PyList_New") && !is_constructor("PyList_Append"));
    assert!(is_global_container("PyModule_GetDict"));
    assert!(reads_borrowed_item("PyTuple_GET_ITEM"));
    assert!(reads_borrowed_item("PySequence_Fast_GET_ITEM"));
    // It inserts: a write that happens to return a borrowed item.
    assert!(!reads_borrowed_item("PyDict_SetDefault"));
    assert!(!reads_borrowed_item("PyDict_Next"));
    assert!(stores_item_in_out_param("PyDict_Next"));
    assert!(stores_item_in_out_param("PyDict_GetItemRef"));
    assert!(!stores_item_in_out_param("PyList_GetItemRef"));
    assert!(locks_own_container("PyList_Append") && !locks_own_container("PyList_SET_ITEM"));
    assert_eq!(
        container_family("_PyDict_NewPresized"),
        Some(Container::Dict)
    );
    assert_eq!(container_family("PySet_Add"), Some(Container::Set));
    assert_eq!(container_family("PyObject_GetItem"), None);
    assert!(is_arg_parser("_PyArg_UnpackKeywords") && !is_arg_parser("PyArgs"));
    assert!(is_item_initializer("PyTuple_SET_ITEM") && !is_item_initializer("PyList_SetItem"));
    assert!(!is_item_initializer("PySequence_Fast_ITEMS"));
    assert!(is_size_getter("PySequence_Fast_GET_SIZE") && is_size_getter("Py_SIZE"));
    // The self-locking set is exactly the 33 list, dict and set operations that
    // take the per-object lock.
    let locking = catalogue()
        .map
        .keys()
        .filter(|n| locks_own_container(n))
        .count();
    assert_eq!(locking, 33);
}

#[test]
fn locks_thread_state_and_allocators() {
    assert_eq!(
        lock_call("PyThread_acquire_lock_timed").map(|l| l.role),
        Some(LockRole::Acquire)
    );
    assert_eq!(
        lock_call("PyMutex_IsLocked").map(|l| l.role),
        Some(LockRole::Query)
    );
    assert!(is_atomic("_Py_atomic_load_ptr"));
    assert!(may_suspend_critical_sections("PyObject_CallOneArg"));
    assert!(may_suspend_critical_sections("Py_DECREF"));
    assert!(!may_suspend_critical_sections("PyList_GET_SIZE"));
    let ts = thread_state_call("Py_UNBLOCK_THREADS").expect("catalogued");
    assert_eq!((ts.role, ts.form), (TsRole::Detach, TsForm::BareMacro));
    assert_eq!(thread_state_calls().count(), 8);
    assert!(callable_detached("PyMem_RawMalloc") && !callable_detached("PyMem_Malloc"));
    assert!(private_needs_thread_state("_PyObject_GC_TRACK"));
    assert_eq!(
        allocator("PyMem_RESIZE"),
        Some(Allocator {
            domain: Domain::Mem,
            op: AllocOp::Realloc
        })
    );
    assert_eq!(allocator("PyObject_Del").map(|a| a.op), Some(AllocOp::Free));
    assert!(is_object_init("PyObject_InitVar"));
}

#[test]
fn module_declaration() {
    assert_eq!(
        module_entry_point("PyInit_spam"),
        Some((EntryPoint::Init, "spam"))
    );
    assert_eq!(
        module_entry_point("PyModExport_spam"),
        Some((EntryPoint::Export, "spam"))
    );
    assert_eq!(module_entry_point("init_spam"), None);
    assert_eq!(module_slot("Py_mod_gil").map(|s| s.number), Some(4));
    assert!(module_slot("Py_mod_exec").is_some_and(|s| s.runs_code_once));
    assert_eq!(
        module_api("PyModuleDef_Init"),
        Some(ModuleApi::MultiPhaseInit)
    );
    assert_eq!(
        module_api("PyModule_FromDefAndSpec2"),
        Some(ModuleApi::CreateFromSpec)
    );
    assert_eq!(
        module_api("PyType_GetModuleByDef"),
        Some(ModuleApi::StateGetter {
            returns_module: true
        })
    );
    assert!(module_slot("Py_mod_multiple_interpreters").is_some_and(|s| !s.runs_code_once));
    assert_eq!(
        module_api("Py_MOD_GIL_NOT_USED"),
        Some(ModuleApi::GilValue { not_used: true })
    );
}

#[test]
fn topics_added_for_the_rule_families() {
    assert_eq!(refcount_op("Py_SET_REFCNT"), Some(RefCountOp::Set));
    assert!(accepts_null("Py_XNewRef") && !accepts_null("Py_NewRef"));
    assert!(iterates_borrowed_items("PyDict_Next"));
    assert!(!iterates_borrowed_items("PyDict_GetItemRef"));
    assert!(reads_sequence_fast_items("PySequence_Fast_ITEMS"));
    assert!(!reads_sequence_fast_items("PyList_GET_ITEM"));
    assert!(indexes_unchecked("PyList_GET_ITEM") && !indexes_unchecked("PyList_GetItem"));
    assert_eq!(
        operated_container("PyTuple_SET_ITEM"),
        Some(Container::Tuple)
    );
    assert!(!Container::Tuple.is_mutable() && Container::Sequence.is_mutable());
    assert_eq!(free_function(Domain::Raw), Some("PyMem_RawFree"));
    assert_eq!(free_function(Domain::Mem), Some("PyMem_Free"));
    assert_eq!(free_function(Domain::Object), Some("PyObject_Free"));
    // Every unchecked index macro is a container operation on a known container.
    for n in containers::UNCHECKED_INDEX {
        assert!(operated_container(n).is_some(), "{n}");
    }
    let list: Vec<_> = struct_fields()
        .filter(|f| f.owner == ObjectStruct::List)
        .map(|f| f.name)
        .collect();
    assert_eq!(list, ["ob_item", "allocated"]);
    assert!(is_plain_data_type("Py_ssize_t") && !is_plain_data_type("PyObject"));
    assert_eq!(module_api(SET_GIL), Some(ModuleApi::SetGil));
    assert_eq!(module_slot(GIL_SLOT).map(|s| s.number), Some(4));
}

#[test]
fn layout_topics() {
    // Dict mutators are the dict operations that write (FT216).
    for n in [
        "PyDict_SetItem",
        "PyDict_DelItemString",
        "PyDict_SetDefault",
        "PyDict_Pop",
    ] {
        assert!(mutates_container(n, Container::Dict), "{n}");
    }
    assert!(!mutates_container("PyDict_GetItemRef", Container::Dict));
    assert!(!mutates_container("PyList_Append", Container::Dict));
    // Thread-state getters are catalogued calls; fields map to public accessors.
    assert!(returns_thread_state("PyThreadState_Get"));
    assert!(returns_thread_state("_PyThreadState_UncheckedGet"));
    assert!(!returns_thread_state("PyThreadState_GetFrame"));
    assert_eq!(
        thread_state_field_replacement("interp"),
        Some("PyThreadState_GetInterpreter(tstate)")
    );
    assert_eq!(thread_state_field_replacement("datastack_top"), None);
    // Private macros: GC header first, one with a public equivalent.
    let gc: Vec<_> = private_macros(PrivateLayout::GcHeader).collect();
    assert!(gc.iter().all(|m| m.name.starts_with('_')));
    let tracked = private_macro("_PyObject_GC_IS_TRACKED").and_then(|m| m.public);
    assert_eq!(
        tracked.map(|p| (p.name, p.since)),
        Some(("PyObject_GC_IsTracked", 9))
    );
    assert_eq!(
        private_macro("_PyUnicode_HASH").map(|m| m.reads),
        Some(PrivateLayout::StrCache)
    );
    assert!(gc_header_fields().any(|f| f == "_gc_next"));
    // Struct signatures: a dict mirror needs `ma_used` and one table field.
    let fields = |set: &'static [&'static str]| move |f: &str| set.contains(&f);
    let dict = struct_signatures().find(|s| s.matches(fields(&["ma_used", "ma_keys"])));
    assert_eq!(dict.map(|s| s.copies), Some(ObjectStruct::Dict));
    assert!(struct_signatures().all(|s| !s.matches(fields(&["ma_used"]))));
    // `dk_size` alone is not enough for the key table.
    assert!(struct_signatures().all(|s| !s.matches(fields(&["dk_size"]))));
    assert!(struct_signatures().any(|s| s.matches(fields(&["dk_size", "dk_usable"]))));
    // Cache fields name their holders; the bytes hash is its own field.
    let shash = cache_fields().find(|c| c.name == "ob_shash");
    assert_eq!(
        shash.map(|c| (c.cache, c.holders)),
        Some((LazyCache::Hash, &[ObjectStruct::Bytes][..]))
    );
    assert_eq!(type_slot_position("tp_dealloc"), Some(4));
}

#[test]
fn lookup_finds_every_catalogued_name_and_only_those() {
    for name in catalogue().map.keys() {
        assert!(lookup(name).is_some_and(|a| a.name == *name), "{name}");
    }
    for other in [
        "",
        "x",
        "my_helper",
        "PyList_GetItemX",
        "Py_",
        "pyList_GetItem",
    ] {
        assert!(lookup(other).is_none(), "{other}");
    }
}
