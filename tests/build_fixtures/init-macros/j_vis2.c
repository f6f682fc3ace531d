#include <Python.h>
#define MY_EXPORT
static struct PyModuleDef def_vis2 = { PyModuleDef_HEAD_INIT, "vis2", NULL, 0, NULL, NULL };
PyMODINIT_FUNC MY_EXPORT PyInit_vis2(void)
{
    return PyModule_Create(&def_vis2); /* expect: FT001 */
}

