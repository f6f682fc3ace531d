#include <Python.h>
#include "state.h"

int extra_work(void);

static PyObject *
mod_run(PyObject *module, PyObject *arg)
{
    touch_state();
    return PyLong_FromLong(extra_work());
}

static PyMethodDef mod_methods[] = {
    {"run", mod_run, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot mod_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "_mod", NULL, 0, mod_methods, mod_slots,
};

PyMODINIT_FUNC
PyInit__mod(void)
{
    return PyModuleDef_Init(&mod_def);
}
