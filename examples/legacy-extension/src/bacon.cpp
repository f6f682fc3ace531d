// bacon: a C++ multi-phase module that calls PyUnstable_Module_SetGIL from its
// exec slot, where it has no effect, instead of declaring the slot.
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
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED);  // expect: FT002
#endif
    return PyModule_AddIntConstant(module, "crispy", 1);
}

PyModuleDef_Slot bacon_slots[] = {  // expect: FT001
    {Py_mod_exec, reinterpret_cast<void *>(bacon_exec)},
    {0, nullptr},
};

PyModuleDef bacon_module = {
    PyModuleDef_HEAD_INIT,
    "bacon",
    "C++, multi-phase, declared in the wrong place.",
    0,
    bacon_methods,
    bacon_slots,
};

}  // namespace

PyMODINIT_FUNC PyInit_bacon(void)
{
    return PyModuleDef_Init(&bacon_module);
}
