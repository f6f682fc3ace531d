#include <Python.h>
#include <external_config.h>

static struct PyModuleDef def_unknown = { PyModuleDef_HEAD_INIT, "unknown", NULL, 0, NULL, NULL };

PyMODINIT_FUNC MODULE_ENTRY_FROM_ELSEWHERE(void)
{
    return PyModule_Create(&def_unknown);
}
