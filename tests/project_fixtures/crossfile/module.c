#include <Python.h>
#include "arena.h"
#include "buffer.h"

static PyMutex arena_lock;

static PyObject *alloc(PyObject *module, PyObject *arg) {
    void *p = arena_alloc(&default_arena, 16); /* expect: FT401 */
    free(p);
    Py_RETURN_NONE;
}

static PyObject *alloc_locked(PyObject *module, PyObject *arg) {
    PyMutex_Lock(&arena_lock);
    void *p = arena_alloc(&default_arena, 16);
    PyMutex_Unlock(&arena_lock);
    free(p);
    Py_RETURN_NONE;
}

static PyObject *set_block_size(PyObject *module, PyObject *arg) {
    default_arena.block_size = PyLong_AsSize_t(arg); /* expect: FT401 */
    Py_RETURN_NONE;
}

static PyObject *Buffer_grow(BufferObject *self, PyObject *arg) {
    if (buffer_resize(self, self->len * 2) < 0) { /* expect: FT406 */
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *Buffer_first(BufferObject *self, PyObject *unused) {
    return PyLong_FromLong(self->data[0]); /* expect: FT409 */
}

static PyMethodDef Buffer_methods[] = {
    {"grow", (PyCFunction)Buffer_grow, METH_O, NULL},
    {"first", (PyCFunction)Buffer_first, METH_NOARGS, NULL},
    {NULL},
};

static PyMethodDef module_methods[] = {
    {"alloc", alloc, METH_O, NULL},
    {"alloc_locked", alloc_locked, METH_O, NULL},
    {"set_block_size", set_block_size, METH_O, NULL},
    {NULL},
};
