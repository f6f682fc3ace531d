//! Declaring a module: entry points, creation calls, `PyModuleDef` slots and the
//! GIL declaration.

use super::{ApiKind, EntryPoint, ModuleApi, ModuleSlot};

/// Exported symbol prefixes: `PyInit_<name>` (every version) and
/// `PyModExport_<name>` (PEP 793, 3.15).
pub(super) const ENTRY_POINT_PREFIXES: [(&str, EntryPoint); 2] = [
    ("PyInit_", EntryPoint::Init),
    ("PyModExport_", EntryPoint::Export),
];

use ModuleApi::*;

/// `PyUnstable_Module_SetGIL`: how a single-phase module declares its GIL use.
pub const SET_GIL: &str = "PyUnstable_Module_SetGIL";
/// `Py_mod_gil`: the slot through which a multi-phase module declares it.
pub const GIL_SLOT: &str = "Py_mod_gil";
/// `Py_MOD_GIL_USED`: the declaration that the module needs the GIL.
pub const GIL_USED: &str = "Py_MOD_GIL_USED";

/// Calls and names that declare or create a module.
pub(super) const MODULE_APIS: [(&str, ApiKind); 17] = [
    ("PyModuleDef_Init", ApiKind::Module(MultiPhaseInit)),
    ("PyModule_FromDefAndSpec", ApiKind::Module(CreateFromSpec)),
    ("PyModule_FromDefAndSpec2", ApiKind::Module(CreateFromSpec)),
    ("PyModule_Create", ApiKind::Module(SinglePhaseCreate)),
    ("PyModule_Create2", ApiKind::Module(SinglePhaseCreate)),
    (
        "PyModule_Create2TraceRefs",
        ApiKind::Module(SinglePhaseCreate),
    ),
    (SET_GIL, ApiKind::Module(SetGil)),
    (GIL_USED, ApiKind::Module(GilValue { not_used: false })),
    (
        "Py_MOD_GIL_NOT_USED",
        ApiKind::Module(GilValue { not_used: true }),
    ),
    ("PyModule_GetState", state(false)),
    ("_PyModule_GetState", state(false)),
    ("PyType_GetModuleState", state(false)),
    ("PyType_GetModuleByDef", state(true)),
    ("Py_mod_create", slot(1, true, 5)),
    ("Py_mod_exec", slot(2, true, 5)),
    ("Py_mod_multiple_interpreters", slot(3, false, 12)),
    (GIL_SLOT, slot(4, false, 13)),
];

const fn state(returns_module: bool) -> ApiKind {
    ApiKind::Module(StateGetter { returns_module })
}

/// `runs_code_once`: the slot's value is a function called once, while the module
/// is created (not a constant like `Py_mod_gil`'s).
const fn slot(number: u32, runs_code_once: bool, since: u32) -> ApiKind {
    ApiKind::Module(Slot(ModuleSlot {
        number,
        runs_code_once,
        since,
    }))
}
