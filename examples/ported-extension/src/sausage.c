/* sausage: offers an abi3 build too, so it guards its slot with
 * `#ifdef Py_mod_gil` (defined only where the slot exists). */
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
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
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
