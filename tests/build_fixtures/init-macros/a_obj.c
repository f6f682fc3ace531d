#include <Python.h>
#define INIT_SQUASH PyInit__squash
static struct PyModuleDef def_squash = { PyModuleDef_HEAD_INIT, "squash", NULL, 0, NULL, NULL };
PyMODINIT_FUNC INIT_SQUASH(void)
{
    return PyModule_Create(&def_squash); /* expect: FT001 */
}

