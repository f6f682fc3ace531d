/* probe: the extension module tests/wheel.rs compiles in several variants for the
 * free-threaded and the regular CPython 3.13, then packs into wheels.
 *   DECLARE_GIL   declare GIL-free support (slot, or PyUnstable_Module_SetGIL)
 *   GIL_USED      declare {Py_mod_gil, Py_MOD_GIL_USED}
 *   SINGLE_PHASE  PyModule_Create instead of PyModuleDef_Init
 *   BORROWED      call PyList_GetItem (a borrowed reference)
 * Every variant calls Py_DECREF, so its imports show which headers built it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
probe_first(PyObject *self, PyObject *list)
{
    PyObject *copy = PySequence_List(list);
    if (copy == NULL) {
        return NULL;
    }
#ifdef BORROWED
    PyObject *item = PyList_GetItem(copy, 0);
    Py_XINCREF(item);
#else
    PyObject *item = PySequence_GetItem(copy, 0);
#endif
    Py_DECREF(copy);
    return item;
}

static PyMethodDef probe_methods[] = {
    {"first", probe_first, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

#ifdef SINGLE_PHASE
static struct PyModuleDef probe_module = {
    PyModuleDef_HEAD_INIT, "probe", NULL, -1, probe_methods,
};

PyMODINIT_FUNC
PyInit_probe(void)
{
    PyObject *m = PyModule_Create(&probe_module);
#if defined(DECLARE_GIL) && defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)
    if (m != NULL) {
        PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
    }
#endif
    return m;
}
#else
static int
probe_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "answer", 42);
}

static PyModuleDef_Slot probe_slots[] = {
    {Py_mod_exec, probe_exec},
#if defined(DECLARE_GIL) && defined(Py_mod_gil)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
#if defined(GIL_USED) && defined(Py_mod_gil)
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef probe_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "probe",
    .m_methods = probe_methods,
    .m_slots = probe_slots,
};

PyMODINIT_FUNC
PyInit_probe(void)
{
    return PyModuleDef_Init(&probe_module);
}
#endif
