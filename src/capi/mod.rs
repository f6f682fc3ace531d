//! The C-API catalogue: for every CPython API name ftaudit reasons about, what it
//! is. Analyses and rules ask it by name ([`lookup`] and the predicates below)
//! instead of keeping their own lists, so one vocabulary holds everywhere.
//!
//! Topics live in submodules (borrowed getters, containers, locks and critical
//! sections, thread state, reference counting, allocators, module declaration,
//! binary evidence); each is a plain table of `(name, ApiKind)` rows. A name may
//! appear in several tables (`PyList_GetItemRef` is a strong getter and a container
//! operation that locks its list); [`lookup`] merges them. Names that are not
//! calls (C types, struct fields, `PyTypeObject` slots, private struct layouts)
//! live in their own tables (`statics`, `types`, `type_slots`) and answer through
//! their own predicates.
//!
//! Thread-safety levels come from CPython's own annotations
//! (`Doc/data/threadsafety.dat`), generated into [`threadsafety`] by
//! `scripts/gen-threadsafety.py`; names CPython does not annotate have `None`.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

pub mod abi;
mod allocators;
mod borrowed;
mod containers;
pub mod fixes;
mod locks;
mod module;
mod refcount;
mod statics;
mod thread_state;
pub mod threadsafety;
mod type_slots;
mod types;

pub use borrowed::BORROWED_GETTERS;
pub use module::{GIL_SLOT, GIL_USED, SET_GIL};
pub use type_slots::type_slot_position;
pub use types::{
    CacheField, FieldHazard, LazyCache, ObjectStruct, PrivateLayout, PrivateMacro,
    PublicEquivalent, StructField, StructSignature,
};

/// The version of CPython that added an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// In every version ftaudit supports.
    Always,
    /// Added in 3.x, x being the minor version.
    V3(u32),
}

impl Since {
    /// The minor version of 3.x, 0 for [`Since::Always`].
    pub fn minor(self) -> u32 {
        match self {
            Since::Always => 0,
            Since::V3(m) => m,
        }
    }
}

/// Which of the borrowed-reference hazards a getter belongs to (each has its rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BorrowedFamily {
    ListItem,
    DictItem,
    Weakref,
    GlobalLookup,
    Cell,
}

/// A function that returns a borrowed reference, and its strong replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BorrowedGetter {
    pub replacement: &'static str,
    /// The version that added `replacement`.
    pub since: Since,
    /// pythoncapi-compat provides `replacement` for older versions.
    pub compat: bool,
    /// The argument holding the container, for getters whose hazard depends on it.
    pub container_arg: Option<usize>,
    pub family: BorrowedFamily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    List,
    Dict,
    Tuple,
    Set,
    /// The `PySequence_Fast` result (a list or a tuple) and the abstract protocol.
    Sequence,
}

impl Container {
    /// Other threads can change its size or items (a `Sequence` may be a list);
    /// a tuple, once published, never changes.
    pub fn is_mutable(self) -> bool {
        self != Container::Tuple
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Whether a container operation hands back one of the container's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemResult {
    NoItem,
    /// Returns a borrowed reference to an item.
    Borrowed,
    /// Returns a new reference to an item.
    Strong,
    /// Stores a borrowed item through an out-parameter (`PyDict_Next`).
    BorrowedOut,
    /// Stores a new reference to an item through an out-parameter (`PyDict_GetItemRef`).
    StrongOut,
    /// Returns the item array itself (`PySequence_Fast_ITEMS`): borrowed items.
    BorrowedArray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsRole {
    Begin,
    End,
    /// Asserts that the caller holds the section (`_Py_CRITICAL_SECTION_ASSERT_OBJECT_LOCKED`).
    AssertHeld,
}

/// What a critical section locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsTarget {
    /// The per-object lock of its argument(s).
    Object,
    /// A `PyMutex` given by address (`_MUTEX`, 3.14; `_MUT` inside CPython 3.13).
    Mutex,
    /// Its argument when that is a list (`_SEQUENCE_FAST`, CPython-internal).
    SequenceFast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsForm {
    /// A macro written as a statement (`Py_BEGIN_CRITICAL_SECTION(op);`).
    Macro,
    /// A function taking a `PyCriticalSection *` first.
    Function,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriticalSection {
    pub role: CsRole,
    /// How many objects it locks (1, or 2 for the `2` forms).
    pub arity: u8,
    pub target: CsTarget,
    pub form: CsForm,
    /// The 3.x minor version whose headers have it (in the non-limited API).
    pub since: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockPrimitive {
    /// `PyMutex` (3.13).
    PyMutex,
    /// The legacy `PyThread_type_lock`.
    PyThreadLock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockRole {
    Acquire,
    Release,
    /// Reads the state without taking it (`PyMutex_IsLocked`).
    Query,
    Allocate,
    Free,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    pub primitive: LockPrimitive,
    pub role: LockRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsRole {
    /// Releases the thread state (lets the GIL go, or lets a stop-the-world proceed).
    Detach,
    /// Takes it back.
    Attach,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsForm {
    /// `Py_BEGIN_ALLOW_THREADS` / `Py_END_ALLOW_THREADS`: open and close a block.
    RegionMacro,
    /// `Py_UNBLOCK_THREADS` / `Py_BLOCK_THREADS`: inside such a block.
    BareMacro,
    /// `PyEval_SaveThread` / `PyEval_RestoreThread`.
    Function,
    /// `PyGILState_Ensure` / `PyGILState_Release`.
    GilState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadStateCall {
    pub role: TsRole,
    pub form: TsForm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefCountOp {
    /// `Py_INCREF`, `Py_XINCREF`.
    Incref,
    /// `Py_NewRef`, `Py_XNewRef`: incref and return the argument.
    NewRef,
    /// `Py_DECREF`, `Py_XDECREF`.
    Decref,
    /// `Py_CLEAR`, `Py_SETREF`, `Py_XSETREF`: store into the first argument, then
    /// decref the old value.
    Replace,
    /// `Py_REFCNT`.
    Read,
    /// `Py_SET_REFCNT`.
    Set,
    /// `PyUnstable_Object_IsUniquelyReferenced` and its private predecessor.
    IsUnique,
}

/// Allocator domains (`Doc/c-api/memory.rst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// `PyMem_Raw*`: callable without an attached thread state.
    Raw,
    /// `PyMem_*`.
    Mem,
    /// `PyObject_*`: Python objects only.
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocOp {
    Alloc,
    Calloc,
    Realloc,
    Free,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocator {
    pub domain: Domain,
    pub op: AllocOp,
}

/// Exported module entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPoint {
    /// `PyInit_<name>`.
    Init,
    /// `PyModExport_<name>` (PEP 793).
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSlot {
    /// The `Py_mod_*` slot number.
    pub number: u32,
    /// The slot's function runs once, while the module is being created.
    pub runs_code_once: bool,
    pub since: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleApi {
    /// Multi-phase initialisation: `PyInit_*` returns `PyModuleDef_Init(&def)`.
    MultiPhaseInit,
    /// Creates a module from a definition and a spec (`PyModule_FromDefAndSpec*`),
    /// what the import system does for multi-phase modules.
    CreateFromSpec,
    /// Single-phase creation (`PyModule_Create*`).
    SinglePhaseCreate,
    /// `PyUnstable_Module_SetGIL`.
    SetGil,
    /// A `PyModuleDef` slot (`Py_mod_gil`, `Py_mod_exec`, ...).
    Slot(ModuleSlot),
    /// A value of the `Py_mod_gil` slot.
    GilValue { not_used: bool },
    /// Reaches the module state (`PyModule_GetState`); `returns_module` for
    /// `PyType_GetModuleByDef`, which returns the module whose state is then read.
    StateGetter { returns_module: bool },
}

/// One role an API plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    BorrowedGetter(BorrowedGetter),
    /// Returns a strong reference; the replacement of some borrowed getter.
    StrongGetter {
        since: Since,
    },
    /// Returns a new object nobody else has seen yet.
    Constructor,
    /// Returns a container every thread can reach (a module's or the interpreter's
    /// dictionary).
    GlobalContainer,
    /// An operation on the container that is its first argument.
    ContainerOp {
        container: Container,
        access: Access,
        /// Takes the container's per-object lock itself (free-threaded build).
        locks_self: bool,
        item: ItemResult,
    },
    /// Looks at an object (type, size, identity, hash, truth) and keeps no reference.
    ObjectQuery,
    /// Reads a container's size (`None`: any variable-size object, `Py_SIZE`).
    SizeGetter {
        container: Option<Container>,
    },
    /// A cast macro: `_PyObject_CAST(op)` is `op`.
    Cast,
    RefCount(RefCountOp),
    CriticalSection(CriticalSection),
    Lock(Lock),
    ThreadState(ThreadStateCall),
    Allocator(Allocator),
    /// Initialises an object header in caller-allocated memory (`PyObject_Init`).
    ObjectInit,
    Module(ModuleApi),
    /// An item macro that checks neither its argument's type nor the index
    /// (`PyList_GET_ITEM`): a stale index reads or writes past the end.
    UncheckedIndex,
    /// Accepts `NULL` and then does nothing (`Py_XINCREF`, `Py_XNewRef`, `Py_CLEAR`).
    AcceptsNull,
    /// Returns the calling thread's `PyThreadState *` (`PyThreadState_Get`).
    CurrentThreadState,
}

/// CPython's thread-safety levels (`Doc/data/threadsafety.dat`), weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ThreadSafety {
    /// Not safe even with external locking.
    Incompatible,
    /// Safe if the caller serialises all access with external locks.
    Compatible,
    /// Safe on distinct objects without external synchronisation.
    Distinct,
    /// Safe for concurrent use on the same object.
    Shared,
    /// Atomic.
    Atomic,
}

/// Everything the catalogue knows about one name.
#[derive(Debug)]
pub struct Api {
    pub name: &'static str,
    /// Its roles, in table order (borrowed getters first).
    pub kinds: Vec<ApiKind>,
    /// CPython's annotation, when it has one.
    pub threadsafety: Option<ThreadSafety>,
}

impl Api {
    /// The first kind matching `f`.
    pub fn kind<T>(&self, f: impl Fn(&ApiKind) -> Option<T>) -> Option<T> {
        self.kinds.iter().find_map(f)
    }
}

/// The catalogue entry for `name`: exact C identifiers only (no prefixes).
pub fn lookup(name: &str) -> Option<&'static Api> {
    let c = catalogue();
    // Most names asked about are the program's own: their first byte or length
    // rules them out before hashing.
    let first = *name.as_bytes().first()?;
    if !c.first_bytes[usize::from(first)] || c.lengths & (1 << name.len().min(127)) == 0 {
        return None;
    }
    c.map.get(name)
}

/// The catalogue's entries, and the first bytes and lengths of their names.
struct Catalogue {
    map: HashMap<&'static str, Api>,
    first_bytes: [bool; 256],
    /// Bit `n` set: some name is `n` bytes long (bit 127: 127 bytes or more).
    lengths: u128,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let map = build();
        let mut first_bytes = [false; 256];
        let mut lengths = 0u128;
        for name in map.keys() {
            if let Some(&b) = name.as_bytes().first() {
                first_bytes[usize::from(b)] = true;
            }
            lengths |= 1 << name.len().min(127);
        }
        Catalogue {
            map,
            first_bytes,
            lengths,
        }
    })
}

/// Every `(name, kind)` row of the topic tables.
fn rows() -> impl Iterator<Item = (&'static str, ApiKind)> {
    let borrowed = BORROWED_GETTERS
        .iter()
        .map(|(n, g)| (*n, ApiKind::BorrowedGetter(*g)));
    let plain =
        |names: &'static [&'static str], kind: ApiKind| names.iter().map(move |n| (*n, kind));
    borrowed
        .chain(borrowed::STRONG_GETTERS.iter().copied())
        .chain(plain(&containers::CONSTRUCTORS, ApiKind::Constructor))
        .chain(plain(
            &containers::GLOBAL_CONTAINERS,
            ApiKind::GlobalContainer,
        ))
        .chain(containers::CONTAINER_OPS.iter().copied())
        .chain(plain(&refcount::OBJECT_QUERIES, ApiKind::ObjectQuery))
        .chain(
            containers::SIZE_GETTERS
                .iter()
                .map(|(n, c)| (*n, ApiKind::SizeGetter { container: *c })),
        )
        .chain(plain(&refcount::CASTS, ApiKind::Cast))
        .chain(refcount::REFCOUNT.iter().copied())
        .chain(locks::CRITICAL_SECTIONS.iter().copied())
        .chain(locks::LOCKS.iter().copied())
        .chain(thread_state::THREAD_STATE.iter().copied())
        .chain(plain(
            &thread_state::CURRENT_THREAD_STATE,
            ApiKind::CurrentThreadState,
        ))
        .chain(allocators::ALLOCATORS.iter().copied())
        .chain(plain(&allocators::OBJECT_INITS, ApiKind::ObjectInit))
        .chain(module::MODULE_APIS.iter().copied())
        .chain(plain(&containers::UNCHECKED_INDEX, ApiKind::UncheckedIndex))
        .chain(plain(&refcount::ACCEPTS_NULL, ApiKind::AcceptsNull))
}

fn build() -> HashMap<&'static str, Api> {
    let mut map: HashMap<&'static str, Api> = HashMap::default();
    let entry = |map: &mut HashMap<&'static str, Api>, name: &'static str| {
        map.entry(name).or_insert_with(|| Api {
            name,
            kinds: Vec::new(),
            threadsafety: None,
        });
    };
    for (name, kind) in rows() {
        entry(&mut map, name);
        if let Some(api) = map.get_mut(name) {
            api.kinds.push(kind);
        }
    }
    // Names CPython annotates but no topic table lists (`PyBytes_Repr`) still get an
    // entry, so `lookup(name).threadsafety` answers for every annotated name.
    for (name, level) in threadsafety::LEVELS {
        entry(&mut map, name);
        if let Some(api) = map.get_mut(name) {
            api.threadsafety = Some(level);
        }
    }
    map
}

// ---------------------------------------------------------------------------
// Predicates the analyses ask.

pub use locks::{critical_section_end, lock_calls};
pub use statics::{
    api_type, fresh_holder_constructors, is_character_type, is_pymutex_type, lock_type_name,
    raw_internals_accessor, static_is_not_state, ApiType, RawInternals,
};
pub use thread_state::thread_state_macro;

fn has(name: &str, f: impl Fn(&ApiKind) -> bool) -> bool {
    lookup(name).is_some_and(|a| a.kinds.iter().any(f))
}

/// The borrowed getter `name`, with its replacement.
pub fn borrowed_getter(name: &str) -> Option<&'static BorrowedGetter> {
    BORROWED_GETTERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, g)| g)
}

/// `Py_INCREF`, `Py_XINCREF`, `Py_NewRef`, `Py_XNewRef`: calls that take a strong
/// reference to their argument.
pub fn is_incref(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::RefCount(RefCountOp::Incref | RefCountOp::NewRef)
        )
    })
}

/// `Py_NewRef`, `Py_XNewRef`: incref and evaluate to the argument.
pub fn is_new_ref(name: &str) -> bool {
    has(name, |k| matches!(k, ApiKind::RefCount(RefCountOp::NewRef)))
}

/// `Py_NewRef`, `Py_XNewRef`, in that order.
pub fn new_ref_calls() -> impl Iterator<Item = &'static str> {
    refcount::REFCOUNT
        .iter()
        .filter(|(_, k)| *k == ApiKind::RefCount(RefCountOp::NewRef))
        .map(|(n, _)| *n)
}

/// The reference-count operation `name` (`Py_REFCNT` → `Read`), if it is one.
pub fn refcount_op(name: &str) -> Option<RefCountOp> {
    lookup(name)?.kind(|k| match k {
        ApiKind::RefCount(op) => Some(*op),
        _ => None,
    })
}

/// Accepts a `NULL` argument and then does nothing (`Py_XNewRef`, unlike `Py_NewRef`).
pub fn accepts_null(name: &str) -> bool {
    has(name, |k| *k == ApiKind::AcceptsNull)
}

/// `Py_CLEAR`, `Py_SETREF`, `Py_XSETREF`: store into their first argument.
pub fn replaces_reference(name: &str) -> bool {
    has(name, |k| {
        matches!(k, ApiKind::RefCount(RefCountOp::Replace))
    })
}

/// Calls that drop a reference (and so may run a destructor).
pub fn is_decref(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::RefCount(RefCountOp::Decref | RefCountOp::Replace)
        )
    })
}

/// The uniqueness tests (`PyUnstable_Object_IsUniquelyReferenced`).
pub fn uniqueness_checks() -> impl Iterator<Item = &'static str> {
    refcount::REFCOUNT
        .iter()
        .filter(|(_, k)| *k == ApiKind::RefCount(RefCountOp::IsUnique))
        .map(|(n, _)| *n)
}

/// Cast macros (`_PyObject_CAST`, ...).
pub fn cast_macros() -> impl Iterator<Item = &'static str> {
    refcount::CASTS.iter().copied()
}

/// Calls that take an object and keep no reference to it, whatever the argument
/// position: reference counting (except `Py_SET_REFCNT`), object queries, casts.
pub fn keeps_no_reference(name: &str) -> bool {
    has(name, |k| match k {
        ApiKind::RefCount(op) => *op != RefCountOp::Set,
        ApiKind::ObjectQuery | ApiKind::Cast => true,
        _ => false,
    })
}

/// Calls that return a new object nobody else has seen.
pub fn is_constructor(name: &str) -> bool {
    has(name, |k| *k == ApiKind::Constructor)
}

/// Calls that return a container every thread can reach.
pub fn is_global_container(name: &str) -> bool {
    has(name, |k| *k == ApiKind::GlobalContainer)
}

/// Lookups that return a borrowed item of their container argument without
/// changing it (`PyList_GetItem`, `PyTuple_GET_ITEM`, `PySequence_Fast_GET_ITEM`).
pub fn reads_borrowed_item(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                access: Access::Read,
                item: ItemResult::Borrowed,
                ..
            }
        )
    })
}

/// Calls that store an item of their first argument through an out-parameter
/// (`PyDict_Next`, `PyDict_GetItemRef`, `PyDict_Pop`).
pub fn stores_item_in_out_param(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                item: ItemResult::BorrowedOut | ItemResult::StrongOut,
                ..
            }
        )
    })
}

/// Iteration that hands out borrowed items through out-parameters without taking
/// the container's lock (`PyDict_Next`).
pub fn iterates_borrowed_items(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                access: Access::Read,
                locks_self: false,
                item: ItemResult::BorrowedOut,
                ..
            }
        )
    })
}

/// Returns an item, or the item array, of a `PySequence_Fast` result without any
/// lock (`PySequence_Fast_GET_ITEM`, `PySequence_Fast_ITEMS`).
pub fn reads_sequence_fast_items(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                container: Container::Sequence,
                item: ItemResult::Borrowed | ItemResult::BorrowedArray,
                ..
            }
        )
    })
}

/// Item macros that check neither the type nor the index (`PyList_GET_ITEM`,
/// `PyTuple_SET_ITEM`).
pub fn indexes_unchecked(name: &str) -> bool {
    has(name, |k| *k == ApiKind::UncheckedIndex)
}

/// The container a container operation works on (`PyList_SET_ITEM` → list).
pub fn operated_container(name: &str) -> Option<Container> {
    lookup(name)?.kind(|k| match k {
        ApiKind::ContainerOp { container, .. } => Some(*container),
        _ => None,
    })
}

/// Initialisation macros that store an item without any lock (`PyList_SET_ITEM`,
/// `PyTuple_SET_ITEM`): meant for containers nobody else sees yet.
pub fn is_item_initializer(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                access: Access::Write,
                locks_self: false,
                item: ItemResult::NoItem,
                ..
            }
        )
    })
}

/// Operations that change a `container` given as their first argument
/// (`PyDict_SetItem`, `PyDict_Pop`, `PyDict_SetDefault` for dicts).
pub fn mutates_container(name: &str, container: Container) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp { container: c, access: Access::Write, .. } if *c == container
        )
    })
}

/// Size getters (`PyList_GET_SIZE`, `Py_SIZE`).
pub fn is_size_getter(name: &str) -> bool {
    has(name, |k| matches!(k, ApiKind::SizeGetter { .. }))
}

/// Container operations that take the container's lock themselves.
pub fn locks_own_container(name: &str) -> bool {
    has(name, |k| {
        matches!(
            k,
            ApiKind::ContainerOp {
                locks_self: true,
                ..
            }
        )
    })
}

/// The container family a name belongs to by its prefix (`PyList_Append` → list).
pub fn container_family(name: &str) -> Option<Container> {
    containers::CONTAINER_PREFIXES
        .iter()
        .find(|(p, _)| name.starts_with(p))
        .map(|(_, c)| *c)
}

/// `PyArg_*` and `_PyArg_*` argument parsers.
pub fn is_arg_parser(name: &str) -> bool {
    containers::ARG_PARSER_PREFIXES
        .iter()
        .any(|p| name.starts_with(p))
}

/// The critical-section macro `name` (BEGIN, END or an assertion), if it is one.
pub fn critical_section_macro(name: &str) -> Option<CriticalSection> {
    lookup(name)?.kind(|k| match k {
        ApiKind::CriticalSection(cs) if cs.form == CsForm::Macro => Some(*cs),
        _ => None,
    })
}

/// Every critical-section BEGIN and END macro.
pub fn critical_section_markers() -> impl Iterator<Item = (&'static str, CriticalSection)> {
    locks::CRITICAL_SECTIONS
        .iter()
        .filter_map(|(n, k)| match k {
            ApiKind::CriticalSection(cs)
                if cs.form == CsForm::Macro && cs.role != CsRole::AssertHeld =>
            {
                Some((*n, *cs))
            }
            _ => None,
        })
}

/// `_Py_CRITICAL_SECTION_ASSERT_OBJECT_LOCKED(op)`: a function that uses it states
/// that its caller holds a critical section on `op`.
pub fn asserts_object_locked(name: &str) -> bool {
    critical_section_macro(name)
        .is_some_and(|cs| cs.role == CsRole::AssertHeld && cs.target == CsTarget::Object)
}

/// CPython's own lock calls (`PyMutex_Lock`, `PyThread_release_lock`, ...).
pub fn lock_call(name: &str) -> Option<Lock> {
    lookup(name)?.kind(|k| match k {
        ApiKind::Lock(l) => Some(*l),
        _ => None,
    })
}

/// `_Py_atomic_*`.
pub fn is_atomic(name: &str) -> bool {
    name.starts_with(locks::ATOMIC_PREFIX)
}

/// Calls that can run arbitrary Python code or block, and so let the interpreter
/// suspend the critical sections their caller holds.
pub fn may_suspend_critical_sections(name: &str) -> bool {
    locks::SUSPENDING_NAMES.contains(&name)
        || locks::SUSPENDING_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
}

/// The thread-state call `name`, if it is one.
pub fn thread_state_call(name: &str) -> Option<ThreadStateCall> {
    lookup(name)?.kind(|k| match k {
        ApiKind::ThreadState(t) => Some(*t),
        _ => None,
    })
}

/// Every thread-state call, in table order.
pub fn thread_state_calls() -> impl Iterator<Item = (&'static str, ThreadStateCall)> {
    thread_state::THREAD_STATE
        .iter()
        .filter_map(|(n, k)| match k {
            ApiKind::ThreadState(t) => Some((*n, *t)),
            _ => None,
        })
}

/// Macros written as statements that open or close a region (critical sections and
/// the thread-state macros), which the parser needs terminated.
pub fn statement_macros() -> impl Iterator<Item = &'static str> {
    critical_section_markers().map(|(n, _)| n).chain(
        thread_state_calls()
            .filter(|(_, t)| matches!(t.form, TsForm::RegionMacro | TsForm::BareMacro))
            .map(|(n, _)| n),
    )
}

/// Calls returning the calling thread's `PyThreadState *` (`PyThreadState_Get`,
/// `_PyThreadState_UncheckedGet`).
pub fn returns_thread_state(name: &str) -> bool {
    has(name, |k| *k == ApiKind::CurrentThreadState)
}

/// The public API replacing a read of the `PyThreadState` field `field`
/// (`interp` → `PyThreadState_GetInterpreter(tstate)`), if there is one.
pub fn thread_state_field_replacement(field: &str) -> Option<&'static str> {
    thread_state::THREAD_STATE_FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, r)| *r)
}

/// Documented (or plainly safe) to call without an attached thread state.
pub fn callable_detached(name: &str) -> bool {
    thread_state::DETACHED_OK_NAMES.contains(&name)
        || thread_state::DETACHED_OK_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
}

/// A CPython-internal name from a family that needs an attached thread state.
pub fn private_needs_thread_state(name: &str) -> bool {
    thread_state::PRIVATE_NEEDING_THREAD_STATE
        .iter()
        .any(|p| name.starts_with(p))
}

/// The allocator `name`, with its domain and operation.
pub fn allocator(name: &str) -> Option<Allocator> {
    lookup(name)?.kind(|k| match k {
        ApiKind::Allocator(a) => Some(*a),
        _ => None,
    })
}

/// Every allocator function and macro, in table order.
pub fn allocators() -> impl Iterator<Item = (&'static str, Allocator)> {
    allocators::ALLOCATORS.iter().filter_map(|(n, k)| match k {
        ApiKind::Allocator(a) => Some((*n, *a)),
        _ => None,
    })
}

/// The function that frees blocks of `domain` (`PyMem_Free` for `Mem`).
pub fn free_function(domain: Domain) -> Option<&'static str> {
    allocators()
        .find(|(_, a)| a.domain == domain && a.op == AllocOp::Free)
        .map(|(n, _)| n)
}

/// `PyObject_Init` and friends.
pub fn is_object_init(name: &str) -> bool {
    has(name, |k| *k == ApiKind::ObjectInit)
}

/// `PyInit_spam` → `(Init, "spam")`; `PyModExport_spam` → `(Export, "spam")`.
pub fn module_entry_point(symbol: &str) -> Option<(EntryPoint, &str)> {
    module::ENTRY_POINT_PREFIXES
        .iter()
        .find_map(|(p, e)| symbol.strip_prefix(p).map(|m| (*e, m)))
}

/// The entry-point prefixes (`PyInit_`, `PyModExport_`), for token pasting.
pub fn module_entry_prefixes() -> impl Iterator<Item = &'static str> {
    module::ENTRY_POINT_PREFIXES.iter().map(|(p, _)| *p)
}

/// The module-declaration API `name`, if it is one.
pub fn module_api(name: &str) -> Option<ModuleApi> {
    lookup(name)?.kind(|k| match k {
        ApiKind::Module(m) => Some(*m),
        _ => None,
    })
}

/// Every module-declaration API, in table order.
pub fn module_apis() -> impl Iterator<Item = (&'static str, ModuleApi)> {
    module::MODULE_APIS.iter().filter_map(|(n, k)| match k {
        ApiKind::Module(m) => Some((*n, *m)),
        _ => None,
    })
}

/// The `PyModuleDef` slot `name` (`Py_mod_gil`), if it is one.
pub fn module_slot(name: &str) -> Option<ModuleSlot> {
    match module_api(name)? {
        ModuleApi::Slot(s) => Some(s),
        _ => None,
    }
}

/// Fields of CPython's object structs that extensions reach into, and why doing
/// so is a hazard on the free-threaded build.
pub fn struct_fields() -> impl Iterator<Item = &'static StructField> {
    types::STRUCT_FIELDS.iter()
}

/// CPython's scalar and buffer typedefs (`Py_ssize_t`, `Py_UCS4`, `Py_buffer`):
/// plain data, never a Python object.
pub fn is_plain_data_type(name: &str) -> bool {
    types::PLAIN_DATA_TYPES.contains(&name)
}

/// What marks a struct as a Python object: its header macros and the `ob_base`
/// field they declare.
pub fn object_header_markers() -> impl Iterator<Item = &'static str> {
    types::OBJECT_HEADER_MARKERS.iter().copied()
}

/// The field sets that identify hand-written copies of CPython's private object
/// structs, in the order to try them.
pub fn struct_signatures() -> impl Iterator<Item = &'static StructSignature> {
    types::STRUCT_SIGNATURES.iter()
}

/// The lazily filled cache fields of str and bytes objects.
pub fn cache_fields() -> impl Iterator<Item = &'static CacheField> {
    types::CACHE_FIELDS.iter()
}

/// CPython's private macros reading `layout` (`_PyObject_GC_IS_TRACKED` for the
/// GC header), in table order.
pub fn private_macros(layout: PrivateLayout) -> impl Iterator<Item = &'static PrivateMacro> {
    types::PRIVATE_MACROS
        .iter()
        .filter(move |m| m.reads == layout)
}

/// The private macro `name`, if it is one.
pub fn private_macro(name: &str) -> Option<&'static PrivateMacro> {
    types::PRIVATE_MACROS.iter().find(|m| m.name == name)
}

/// The fields of the default build's GC header (`_gc_next`) and its older form.
pub fn gc_header_fields() -> impl Iterator<Item = &'static str> {
    types::GC_HEADER_FIELDS.iter().copied()
}

/// CPython's thread-safety level for `name`, when CPython annotates it.
pub fn threadsafety(name: &str) -> Option<ThreadSafety> {
    lookup(name)?.threadsafety
}

#[cfg(test)]
mod tests;
