/* aborter: a test module for tests/verify.rs. Declares support, then aborts the process at import. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

static int
aborter_exec(PyObject *module)
{
    (void)module;
    abort();
    return 0;
}

static PyModuleDef_Slot aborter_slots[] = {
    {Py_mod_exec, aborter_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef aborter_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "aborter",
    .m_size = 0,
    .m_slots = aborter_slots,
};

PyMODINIT_FUNC
PyInit_aborter(void)
{
    return PyModuleDef_Init(&aborter_module);
}
