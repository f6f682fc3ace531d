#include <Python.h>
#include "modinit.h"
static struct PyModuleDef def_hdr2 = { PyModuleDef_HEAD_INIT, "hdr2", NULL, 0, NULL, NULL };
MOD_INIT(hdr2)
{
    return PyModule_Create(&def_hdr2); /* expect: FT001 */
}

