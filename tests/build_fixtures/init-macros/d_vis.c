#include <Python.h>
#define EXPORT __attribute__((visibility("default")))
static struct PyModuleDef def_vis = { PyModuleDef_HEAD_INIT, "vis", NULL, 0, NULL, NULL };
EXPORT PyMODINIT_FUNC PyInit_vis(void)
{
    return PyModule_Create(&def_vis); /* expect: FT001 */
}

