/* eggs: single-phase init without PyUnstable_Module_SetGIL. */
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
    PyModuleDef_HEAD_INIT, "eggs", "Single-phase, undeclared.", -1, eggs_methods,
};

PyMODINIT_FUNC
PyInit_eggs(void)
{
    PyObject *m = PyModule_Create(&eggs_module);  /* expect: FT001 */
    if (m == NULL) {
        return NULL;
    }
    return m;
}
