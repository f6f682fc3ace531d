// bacon: a C++ multi-phase module that declares the Py_mod_gil slot.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace {

PyObject *bacon_strips(PyObject *, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return nullptr;
    }
    return PyLong_FromLong(n * 3);
}

PyMethodDef bacon_methods[] = {
    {"strips", bacon_strips, METH_O, "Triple a number."},
    {nullptr, nullptr, 0, nullptr},
};

int bacon_exec(PyObject *module)
{
    return PyModule_AddIntConstant(module, "crispy", 1);
}

PyModuleDef_Slot bacon_slots[] = {
    {Py_mod_exec, reinterpret_cast<void *>(bacon_exec)},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef bacon_module = {
    PyModuleDef_HEAD_INIT,
    "bacon",
    "C++, multi-phase, declared.",
    0,
    bacon_methods,
    bacon_slots,
};

}  // namespace

PyMODINIT_FUNC PyInit_bacon(void)
{
    return PyModuleDef_Init(&bacon_module);
}
