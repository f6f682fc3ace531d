/* ring: a growable byte ring. Its methods look harmless on their own: the
 * reallocation and the release of the buffer happen in helpers, so the races
 * are visible only through the calls. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t size;
    Py_ssize_t cap;
} RingObject;

static int
ring_grow(RingObject *r, Py_ssize_t need)
{
    if (need <= r->cap) {
        return 0;
    }
    char *p = PyMem_Realloc(r->data, need * 2);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    r->data = p;
    r->cap = need * 2;
    return 0;
}

static void
ring_drop(RingObject *r)
{
    PyMem_Free(r->data);
    r->data = NULL;
    r->size = 0;
    r->cap = 0;
}

static PyObject *
Ring_push(RingObject *self, PyObject *arg)
{
    char c = (char)PyLong_AsLong(arg);
    int r = 0;
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(self);
    r = ring_grow(self, self->size + 1);
    if (r == 0) {
        self->data[self->size++] = c;
    }
    Py_END_CRITICAL_SECTION();
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Ring_peek(RingObject *self, PyObject *unused)
{
    PyObject *res;
    Py_BEGIN_CRITICAL_SECTION(self);
    res = PyBytes_FromStringAndSize(self->data, self->size);
    Py_END_CRITICAL_SECTION();
    return res;
}

static PyObject *
Ring_reset(RingObject *self, PyObject *unused)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    ring_drop(self);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static void
Ring_dealloc(RingObject *self)
{
    ring_drop(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Ring_methods[] = {
    {"push", (PyCFunction)Ring_push, METH_O, "Append one byte."},
    {"peek", (PyCFunction)Ring_peek, METH_NOARGS, "The bytes held."},
    {"reset", (PyCFunction)Ring_reset, METH_NOARGS, "Drop every byte."},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject Ring_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ring.Ring",
    .tp_basicsize = sizeof(RingObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Ring_dealloc,
    .tp_methods = Ring_methods,
};

static int
ring_exec(PyObject *module)
{
    if (PyType_Ready(&Ring_Type) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Ring", (PyObject *)&Ring_Type);
}

static PyModuleDef_Slot ring_slots[] = {
    {Py_mod_exec, ring_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef ring_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ring",
    .m_slots = ring_slots,
};

PyMODINIT_FUNC
PyInit_ring(void)
{
    return PyModuleDef_Init(&ring_module);
}
