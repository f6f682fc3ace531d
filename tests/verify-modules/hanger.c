/* hanger: a test module for tests/verify.rs. Declares support, then never finishes its import. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <unistd.h>

static int
hanger_exec(PyObject *module)
{
    (void)module;
    for (;;) {
        sleep(1);
    }
    return 0;
}

static PyModuleDef_Slot hanger_slots[] = {
    {Py_mod_exec, hanger_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef hanger_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hanger",
    .m_size = 0,
    .m_slots = hanger_slots,
};

PyMODINIT_FUNC
PyInit_hanger(void)
{
    return PyModuleDef_Init(&hanger_module);
}
