#include <Python.h>

static long test_calls = 0;

static PyObject *
helper(PyObject *module, PyObject *arg)
{
    test_calls++;
    Py_RETURN_NONE;
}

static PyMethodDef test_methods[] = {
    {"helper", helper, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
