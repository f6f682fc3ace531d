/* beans: declares support only from 3.14 on, so the 3.13t wheel re-enables the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
beans_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "count", 57);
}

static PyModuleDef_Slot beans_slots[] = {
    {Py_mod_exec, beans_exec},
#if PY_VERSION_HEX >= 0x030E0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef beans_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "beans",
    .m_slots = beans_slots,
};

PyMODINIT_FUNC
PyInit_beans(void)  /* expect: FT005 */
{
    return PyModuleDef_Init(&beans_module);
}
