/* spam: a multi-phase module that never declares Py_mod_gil.
 * A comment that says Py_mod_gil does not count as a declaration. */
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

static PyModuleDef_Slot spam_slots[] = {  /* expect: FT001 */
    {Py_mod_exec, spam_exec},
    {0, NULL}
};

static struct PyModuleDef spam_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spam",
    .m_doc = "Multi-phase, undeclared.",
    .m_size = 0,
    .m_methods = spam_methods,
    .m_slots = spam_slots,
};

PyMODINIT_FUNC
PyInit_spam(void)
{
    return PyModuleDef_Init(&spam_module);
}
