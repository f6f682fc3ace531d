#include <Python.h>

static struct PyModuleDef def_attr = { PyModuleDef_HEAD_INIT, "attr", NULL, 0, NULL, NULL };
__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit_attr(void)
{
    return PyModule_Create(&def_attr); /* expect: FT001 */
}

