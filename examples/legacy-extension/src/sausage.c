/* sausage: honestly says it needs the GIL, and guards its slot with the howto's
 * version check while also offering an abi3 build (where Py_mod_gil is undefined). */
#define PY_SSIZE_T_CLEAN
#ifdef SAUSAGE_ABI3
#define Py_LIMITED_API 0x03090000
#endif
#include <Python.h>

static int
sausage_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "links", 6);
}

static PyModuleDef_Slot sausage_slots[] = {
    {Py_mod_exec, sausage_exec},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},  /* expect: FT003, FT006 */
#endif
    {0, NULL}
};

static struct PyModuleDef sausage_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sausage",
    .m_slots = sausage_slots,
};

PyMODINIT_FUNC
PyInit_sausage(void)
{
    return PyModuleDef_Init(&sausage_module);
}
