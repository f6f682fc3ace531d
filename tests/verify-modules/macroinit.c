/* macroinit: a test module for tests/verify.rs. Its init function is built by a macro (as in
 * netifaces 0.11), which the static rules resolve from the file's own #define; it never
 * declares GIL-free support, so static and runtime verdicts agree that it re-enables the GIL. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MODULE_INIT(name) PyMODINIT_FUNC PyInit_##name(void)

static struct PyModuleDef macroinit_module = {
    PyModuleDef_HEAD_INIT,
    "macroinit",
    NULL,
    -1,
    NULL,
};

MODULE_INIT(macroinit)
{
    return PyModule_Create(&macroinit_module);
}
