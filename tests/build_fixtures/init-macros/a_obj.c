#include <Python.h>
#define INIT_BROTLI PyInit__brotli
static struct PyModuleDef def_brotli = { PyModuleDef_HEAD_INIT, "brotli", NULL, 0, NULL, NULL };
PyMODINIT_FUNC INIT_BROTLI(void)
{
    return PyModule_Create(&def_brotli); /* expect: FT001 */
}

