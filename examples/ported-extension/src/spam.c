/* spam: a multi-phase module that declares it does not need the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
spam_echo(PyObject *self, PyObject *arg)
{
    return Py_NewRef(arg);
}

static PyMethodDef spam_methods[] = {
    {"echo", spam_echo, METH_O, "Return the argument."},
    {NULL, NULL, 0, NULL}
};

static int
spam_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "answer", 42);
}

static PyModuleDef_Slot spam_slots[] = {
    {Py_mod_exec, spam_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef spam_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spam",
    .m_doc = "Multi-phase, declared.",
    .m_size = 0,
    .m_methods = spam_methods,
    .m_slots = spam_slots,
};

PyMODINIT_FUNC
PyInit_spam(void)
{
    return PyModuleDef_Init(&spam_module);
}
