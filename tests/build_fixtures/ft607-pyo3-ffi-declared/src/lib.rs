use pyo3_ffi::*;

static mut SLOTS: [PyModuleDef_Slot; 2] = [
    PyModuleDef_Slot { slot: Py_mod_gil, value: Py_MOD_GIL_NOT_USED },
    PyModuleDef_Slot { slot: 0, value: std::ptr::null_mut() },
];

#[no_mangle]
pub unsafe extern "C" fn PyInit_rawmod() -> *mut PyObject {
    PyModuleDef_Init(std::ptr::addr_of_mut!(MODULE_DEF))
}
// fn PyInit_in_comment is not a module
