/* Guarded: never compiled in a free-threaded build. */
#if !defined(Py_GIL_DISABLED)
#define Py_LIMITED_API 0x030a0000
#endif
#ifdef SOME_UNKNOWN_SWITCH
#define Py_LIMITED_API 0x030a0000
#endif
/* #define Py_LIMITED_API in a comment */
#include <Python.h>
