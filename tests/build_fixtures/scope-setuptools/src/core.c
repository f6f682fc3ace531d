#include <Python.h>
#include "shared.h"
#include "minilib.h"
#include "codecs.h"

#define debug(...)

#if PY_VERSION_HEX < 0x030D0000
#define OLD_PYTHON 1
#endif
#define HAVE_FT_BUILD (PY_VERSION_HEX >= 0x030D0000)

static long calls = 0;

static PyObject *
core_error(PyObject *module, PyObject *arg)
{
    count_hit();
    calls++; /* expect: FT401 */
    debug("%s", strerror(errno));
#if PY_VERSION_HEX < 0x030D0000
    calls++;
    return PyUnicode_FromString(strerror(errno));
#else
    return PyLong_FromLong(mini_add(1, 2) + codec_size());
#endif
}

static PyObject *
core_legacy(PyObject *module, PyObject *arg)
{
#if PY_VERSION_HEX >= 0x030D0000
    Py_RETURN_NONE;
#else
    calls++;
    return PyUnicode_FromString(strerror(errno));
#endif
}

static PyObject *
core_py2(PyObject *module, PyObject *arg)
{
#if PY_MAJOR_VERSION < 3
    calls++;
#endif
#ifdef OLD_PYTHON
    calls++;
#endif
#if !HAVE_FT_BUILD
    calls++;
#endif
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"error", core_error, METH_O, NULL},
    {"legacy", core_legacy, METH_O, NULL},
    {"py2", core_py2, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot core_slots[] = {
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "_core", NULL, 0, core_methods, core_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
