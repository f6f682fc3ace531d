#include <Python.h>
#include "pkg/common.h"
#ifndef PyMODINIT_FUNC
#define PyMODINIT_FUNC void
#endif

static struct PyModuleDef def_twolevel = { PyModuleDef_HEAD_INIT, "twolevel", NULL, -1, NULL };

PyMODINIT_FUNC
INIT_MODULE(twolevel)(void)
{
    return PyModule_Create(&def_twolevel); /* expect: FT001 */
}
