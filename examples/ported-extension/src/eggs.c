/* eggs: single-phase init that declares GIL-free support. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
eggs_count(PyObject *self, PyObject *args)
{
    Py_ssize_t n = 0;
    if (!PyArg_ParseTuple(args, "n", &n)) {
        return NULL;
    }
    return PyLong_FromSsize_t(n * 2);
}

static PyMethodDef eggs_methods[] = {
    {"count", eggs_count, METH_VARARGS, "Double a number."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef eggs_module = {
    PyModuleDef_HEAD_INIT, "eggs", "Single-phase, declared.", -1, eggs_methods,
};

PyMODINIT_FUNC
PyInit_eggs(void)
{
    PyObject *m = PyModule_Create(&eggs_module);
    if (m == NULL) {
        return NULL;
    }
#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;
}
