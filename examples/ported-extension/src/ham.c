/* ham: single-phase; the declaration is guarded, and the thread state is
 * released around the blocking call in every build. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <unistd.h>

static PyObject *
ham_nap(PyObject *self, PyObject *arg)
{
    unsigned int ms = (unsigned int)PyLong_AsUnsignedLong(arg);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    usleep(ms * 1000);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef ham_methods[] = {
    {"nap", ham_nap, METH_O, "Sleep for some milliseconds."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef ham_module = {
    PyModuleDef_HEAD_INIT, "ham", NULL, -1, ham_methods,
};

PyMODINIT_FUNC
PyInit_ham(void)
{
    PyObject *m = PyModule_Create(&ham_module);
    if (m == NULL) {
        return NULL;
    }
#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    return m;
}
