#include <Python.h>
#define CAT_(a,b) a##b
#define CAT(a,b) CAT_(a,b)
#define MODNAME cat
#define INITFUNC CAT(PyInit_, MODNAME)
static struct PyModuleDef def_cat = { PyModuleDef_HEAD_INIT, "cat", NULL, 0, NULL, NULL };
PyMODINIT_FUNC INITFUNC(void)
{
    return PyModule_Create(&def_cat); /* expect: FT001 */
}

