#include "buffer.h"

/* A helper in another file that reallocates the object's buffer. */
int buffer_resize(BufferObject *b, Py_ssize_t n) {
    char *p = PyMem_Realloc(b->data, n);
    if (p == NULL) {
        return -1;
    }
    b->data = p;
    b->len = n;
    return 0;
}
