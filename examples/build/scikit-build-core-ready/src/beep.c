/* beep: a hand-written C extension that declares free-threading support. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *beep_twice(PyObject *module, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(2 * n);
}

static PyMethodDef beep_methods[] = {
    {"twice", beep_twice, METH_O, "Double a number."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot beep_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef beep_def = {
    PyModuleDef_HEAD_INIT, "beep", "Doubles numbers.", 0, beep_methods, beep_slots,
};

PyMODINIT_FUNC PyInit_beep(void)
{
    return PyModuleDef_Init(&beep_def);
}
