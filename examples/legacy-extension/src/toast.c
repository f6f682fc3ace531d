/* toast: declares Py_mod_gil twice (the import fails). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
toast_exec(PyObject *module)
{
    return PyModule_AddStringConstant(module, "flavour", "butter");
}

static PyModuleDef_Slot toast_slots[] = {
    {Py_mod_exec, toast_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},  /* expect: FT004 */
#endif
    {0, NULL}
};

static struct PyModuleDef toast_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "toast",
    .m_slots = toast_slots,
};

PyMODINIT_FUNC
PyInit_toast(void)
{
    return PyModuleDef_Init(&toast_module);
}
