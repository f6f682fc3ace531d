#include <Python.h>
#include "modinit.h"
static struct PyModuleDef def_hdr = { PyModuleDef_HEAD_INIT, "hdr", NULL, 0, NULL, NULL };
PyMODINIT_FUNC INIT_NAME(void)
{
    return PyModule_Create(&def_hdr); /* expect: FT001 */
}

