/* gated: a test module for tests/verify.rs. Declares support only when the build defines
 * GATED_FT_READY, which the test build does not: the source looks declared, the binary is not. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
gated_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "ready", 0);
}

static PyModuleDef_Slot gated_slots[] = {
    {Py_mod_exec, gated_exec},
#if defined(Py_mod_gil) && defined(GATED_FT_READY)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef gated_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gated",
    .m_size = 0,
    .m_slots = gated_slots,
};

PyMODINIT_FUNC
PyInit_gated(void)
{
    return PyModuleDef_Init(&gated_module);
}
