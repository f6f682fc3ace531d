#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t len;
} BufferObject;

int buffer_resize(BufferObject *b, Py_ssize_t n);
