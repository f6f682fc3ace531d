/* raiser: a test module for tests/verify.rs. Declares support, then raises at import. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
raiser_exec(PyObject *module)
{
    (void)module;
    PyErr_SetString(PyExc_RuntimeError, "raiser refuses to be imported");
    return -1;
}

static PyModuleDef_Slot raiser_slots[] = {
    {Py_mod_exec, raiser_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef raiser_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raiser",
    .m_size = 0,
    .m_slots = raiser_slots,
};

PyMODINIT_FUNC
PyInit_raiser(void)
{
    return PyModuleDef_Init(&raiser_module);
}
