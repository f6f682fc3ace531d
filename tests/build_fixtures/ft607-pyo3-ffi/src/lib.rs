use pyo3_ffi::*;

#[no_mangle]
pub unsafe extern "C" fn PyInit_rawmod() -> *mut PyObject {  // expect: FT607
    PyModuleDef_Init(std::ptr::addr_of_mut!(MODULE_DEF))
}
