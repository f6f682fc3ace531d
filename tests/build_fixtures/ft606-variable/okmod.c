/* okmod: a declared multi-phase module (no hazards). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int okmod_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "answer", 42);
}

static PyModuleDef_Slot okmod_slots[] = {
    {Py_mod_exec, okmod_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef okmod_def = {
    PyModuleDef_HEAD_INIT, "okmod", NULL, 0, NULL, okmod_slots,
};

PyMODINIT_FUNC PyInit_okmod(void)
{
    return PyModuleDef_Init(&okmod_def);
}
