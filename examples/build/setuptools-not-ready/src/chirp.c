/* chirp: a hand-written C extension that does not declare free-threading support yet. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *chirp_twice(PyObject *module, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(2 * n);
}

static PyMethodDef chirp_methods[] = {
    {"twice", chirp_twice, METH_O, "Double a number."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot chirp_slots[] = {  /* expect: FT001 */
    {0, NULL},
};

static struct PyModuleDef chirp_def = {
    PyModuleDef_HEAD_INIT, "chirp", "Doubles numbers.", 0, chirp_methods, chirp_slots,
};

PyMODINIT_FUNC PyInit_chirp(void)
{
    return PyModuleDef_Init(&chirp_def);
}
