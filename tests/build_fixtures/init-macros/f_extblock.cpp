#include <Python.h>
extern "C" {
static struct PyModuleDef def_extblock = { PyModuleDef_HEAD_INIT, "extblock", NULL, 0, NULL, NULL };
PyMODINIT_FUNC PyInit_extblock(void)
{
    return PyModule_Create(&def_extblock); /* expect: FT001 */
}
}
