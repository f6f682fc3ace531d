/* outer: a test module for tests/verify.rs. Declares support, but imports `inner`, which does not. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
outer_exec(PyObject *module)
{
    /* PyModule_Add steals the reference and fails cleanly when the import failed. */
    return PyModule_Add(module, "inner", PyImport_ImportModule("inner"));
}

static PyModuleDef_Slot outer_slots[] = {
    {Py_mod_exec, outer_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef outer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "outer",
    .m_size = 0,
    .m_slots = outer_slots,
};

PyMODINIT_FUNC
PyInit_outer(void)
{
    return PyModuleDef_Init(&outer_module);
}
