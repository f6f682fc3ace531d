/* inner: a test module for tests/verify.rs. Never declares Py_mod_gil: importing it re-enables the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
inner_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "depth", 1);
}

static PyModuleDef_Slot inner_slots[] = {  /* expect: FT001 */
    {Py_mod_exec, inner_exec},
    {0, NULL}
};

static struct PyModuleDef inner_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "inner",
    .m_size = 0,
    .m_slots = inner_slots,
};

PyMODINIT_FUNC
PyInit_inner(void)
{
    return PyModuleDef_Init(&inner_module);
}
