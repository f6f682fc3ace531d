#include <Python.h>

static int unit_runs = 0;

static PyObject *
unit_helper(PyObject *module, PyObject *arg)
{
    unit_runs++;
    Py_RETURN_NONE;
}

static PyMethodDef unit_methods[] = {
    {"helper", unit_helper, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr},
};
