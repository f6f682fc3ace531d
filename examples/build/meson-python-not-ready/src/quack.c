/* quack: a hand-written C extension that does not declare free-threading support yet. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *quack_twice(PyObject *module, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(2 * n);
}

static PyMethodDef quack_methods[] = {
    {"twice", quack_twice, METH_O, "Double a number."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot quack_slots[] = {  /* expect: FT001 */
    {0, NULL},
};

static struct PyModuleDef quack_def = {
    PyModuleDef_HEAD_INIT, "quack", "Doubles numbers.", 0, quack_methods, quack_slots,
};

PyMODINIT_FUNC PyInit_quack(void)
{
    return PyModuleDef_Init(&quack_def);
}
