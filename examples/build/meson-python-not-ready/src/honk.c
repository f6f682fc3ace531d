/* honk: a hand-written C extension that declares free-threading support but still
 * walks a caller's dict without a critical section (so the readiness summary says
 * that the declaration is not evidence). */
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

static PyObject *honk_count(PyObject *module, PyObject *mapping)
{
    Py_ssize_t pos = 0, n = 0;
    PyObject *key, *value;
    if (!PyDict_Check(mapping)) {
        PyErr_SetString(PyExc_TypeError, "expected a dict");
        return NULL;
    }
    while (PyDict_Next(mapping, &pos, &key, &value)) {  /* expect: FT201 */
        n++;
    }
    return PyLong_FromSsize_t(n);
}

static PyMethodDef honk_methods[] = {
    {"twice", honk_twice, METH_O, "Double a number."},
    {"count", honk_count, METH_O, "Count the items of a dict."},
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
