/* Py_LIMITED_API defined in sources. */
#define Py_LIMITED_API 0x030a0000  /* expect: FT601 */
#include <Python.h>
