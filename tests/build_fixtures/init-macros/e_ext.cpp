#include <Python.h>

static struct PyModuleDef def_ext = { PyModuleDef_HEAD_INIT, "ext", NULL, 0, NULL, NULL };
extern "C" PyMODINIT_FUNC PyInit_ext()
{
    return PyModule_Create(&def_ext); /* expect: FT001 */
}

