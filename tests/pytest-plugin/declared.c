/* declared: a test module for the pytest plugin (tests/integrations.rs). Declares that it
   runs without the GIL, so importing it keeps the GIL disabled. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
declared_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "answer", 42);
}

static PyModuleDef_Slot declared_slots[] = {
    {Py_mod_exec, declared_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef declared_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "declared",
    .m_size = 0,
    .m_slots = declared_slots,
};

PyMODINIT_FUNC
PyInit_declared(void)
{
    return PyModuleDef_Init(&declared_module);
}
