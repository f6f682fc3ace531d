/* A Windows extension module for the PE tests of tests/wheel.rs, built with MinGW
 * against import libraries of stub python313t.dll / python313.dll (no Python.h: the
 * Linux pyconfig.h does not suit a Windows compiler). It declares the few C-API
 * pieces it uses the way the real headers lay them out on 64-bit Windows.
 *   -DFT_BUILD      free-threaded object header, imports _Py_DecRefShared /
 *                   _Py_MergeZeroLocalRefcount (what Py_DECREF compiles to there);
 *                   otherwise the regular header and _Py_Dealloc.
 *   -DDECLARE_GIL   adds {Py_mod_gil, Py_MOD_GIL_NOT_USED} to the slot array. */
#include <stdint.h>
#include <stddef.h>

typedef struct _object PyObject;
#define IMPORT __declspec(dllimport)

#ifdef FT_BUILD
typedef struct { uintptr_t ob_tid; uint16_t flags; uint8_t mutex, gc; uint32_t ref_local; intptr_t ref_shared; void *type; } Head;
#define HEAD_INIT {0, 0, 0, 0, 0xFFFFFFFFu, 0, NULL}
IMPORT void _Py_DecRefShared(PyObject *);
IMPORT void _Py_MergeZeroLocalRefcount(PyObject *);
static void decref(PyObject *o) {
    Head *h = (Head *)o;
    if (h->ob_tid == 0) { _Py_DecRefShared(o); } else if (--h->ref_local == 0) { _Py_MergeZeroLocalRefcount(o); }
}
#else
typedef struct { intptr_t refcnt; void *type; } Head;
#define HEAD_INIT {0xFFFFFFFF, NULL}
IMPORT void _Py_Dealloc(PyObject *);
static void decref(PyObject *o) {
    Head *h = (Head *)o;
    if (--h->refcnt == 0) { _Py_Dealloc(o); }
}
#endif

typedef struct { Head ob_base; PyObject *(*m_init)(void); intptr_t m_index; PyObject *m_copy; } PyModuleDef_Base;
typedef struct { int slot; void *value; } PyModuleDef_Slot;
typedef struct { const char *ml_name; void *ml_meth; int ml_flags; const char *ml_doc; } PyMethodDef;
typedef struct PyModuleDef {
    PyModuleDef_Base m_base; const char *m_name; const char *m_doc; intptr_t m_size;
    PyMethodDef *m_methods; PyModuleDef_Slot *m_slots; void *m_traverse, *m_clear, *m_free;
} PyModuleDef;

IMPORT PyObject *PyModuleDef_Init(PyModuleDef *);
IMPORT PyObject *PyList_GetItem(PyObject *, intptr_t);

static PyObject *first(PyObject *self, PyObject *list) {
    PyObject *item = PyList_GetItem(list, 0);
    decref(self);
    return item;
}

static int winmod_exec(PyObject *m) { (void)m; return 0; }

static PyMethodDef methods[] = {{"first", (void *)first, 0x0008, NULL}, {NULL, NULL, 0, NULL}};
static PyModuleDef_Slot slots[] = {
    {2 /* Py_mod_exec */, (void *)winmod_exec},
#ifdef DECLARE_GIL
    {4 /* Py_mod_gil */, (void *)1 /* Py_MOD_GIL_NOT_USED */},
#endif
    {0, NULL}};
static PyModuleDef def = {{HEAD_INIT, NULL, 0, NULL}, "winmod", NULL, 0, methods, slots, NULL, NULL, NULL};

__declspec(dllexport) PyObject *PyInit_winmod(void) { return PyModuleDef_Init(&def); }
