/* The Python 3.10 variant, which no build compiles any more. */
#include <Python.h>
#include <string.h>

static long legacy_calls = 0;

static PyObject *
legacy_error(PyObject *module, PyObject *arg)
{
    legacy_calls++;
    return PyUnicode_FromString(strerror(0));
}

static PyMethodDef legacy_methods[] = {
    {"error", legacy_error, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef legacy_module = {
    PyModuleDef_HEAD_INIT, "_core", NULL, 0, legacy_methods,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModule_Create(&legacy_module);
}
