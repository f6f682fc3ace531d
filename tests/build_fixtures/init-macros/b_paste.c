#include <Python.h>
#define MODINIT(name) PyInit_##name
static struct PyModuleDef def_paste = { PyModuleDef_HEAD_INIT, "paste", NULL, 0, NULL, NULL };
PyMODINIT_FUNC MODINIT(paste)(void)
{
    return PyModule_Create(&def_paste); /* expect: FT001 */
}

