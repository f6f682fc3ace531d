/* ham: single-phase; declares support, but the call is not guarded (it does not
 * exist in GIL builds), and it compiles the thread-state macros out of
 * free-threaded builds. */
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
#ifndef Py_GIL_DISABLED
    Py_BEGIN_ALLOW_THREADS  /* expect: FT007 */
#endif
    usleep(ms * 1000);
#ifndef Py_GIL_DISABLED
    Py_END_ALLOW_THREADS
#endif
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
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);  /* expect: FT003 */
    return m;
}
