/* Generates tables at development time; compiled by no extension. */
#include <Python.h>

static int generated = 0;

static PyObject *
gen(PyObject *module, PyObject *arg)
{
    generated++;
    Py_RETURN_NONE;
}

static PyMethodDef gen_methods[] = {
    {"gen", gen, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
