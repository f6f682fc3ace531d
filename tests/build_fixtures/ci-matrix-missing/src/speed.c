#include <Python.h>

static PyModuleDef_Slot speed_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speed_module = {
    PyModuleDef_HEAD_INIT, "_speed", NULL, 0, NULL, speed_slots,
};

PyMODINIT_FUNC
PyInit__speed(void)
{
    return PyModuleDef_Init(&speed_module);
}
