/* beans: declares support in every free-threaded build. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
beans_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "count", 57);
}

static PyModuleDef_Slot beans_slots[] = {
    {Py_mod_exec, beans_exec},
#ifdef Py_mod_gil
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
PyInit_beans(void)
{
    return PyModuleDef_Init(&beans_module);
}
