/* undeclared: a test module for the pytest plugin (tests/integrations.rs). Has no
   Py_mod_gil slot, so importing it re-enables the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
undeclared_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "answer", 42);
}

static PyModuleDef_Slot undeclared_slots[] = {  /* expect: FT001 */
    {Py_mod_exec, undeclared_exec},
    {0, NULL}
};

static struct PyModuleDef undeclared_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "undeclared",
    .m_size = 0,
    .m_slots = undeclared_slots,
};

PyMODINIT_FUNC
PyInit_undeclared(void)
{
    return PyModuleDef_Init(&undeclared_module);
}
