/* honk: a hand-written C extension that declares free-threading support. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *honk_twice(PyObject *module, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(2 * n);
}

static PyMethodDef honk_methods[] = {
    {"twice", honk_twice, METH_O, "Double a number."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot honk_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef honk_def = {
    PyModuleDef_HEAD_INIT, "honk", "Doubles numbers (meson-python).", 0, honk_methods, honk_slots,
};

PyMODINIT_FUNC PyInit_honk(void)
{
    return PyModuleDef_Init(&honk_def);
}
