#include <Python.h>
#include "core.h"

static PyObject *
ext_bump(PyObject *module, PyObject *arg)
{
    return PyLong_FromLong(core_bump());
}

static PyMethodDef ext_methods[] = {
    {"bump", ext_bump, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

static PyModuleDef_Slot ext_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

static struct PyModuleDef ext_def = {
    PyModuleDef_HEAD_INIT, "_ext", nullptr, 0, ext_methods, ext_slots,
};

extern "C" PyMODINIT_FUNC
PyInit__ext(void)
{
    return PyModuleDef_Init(&ext_def);
}
