/* cache: the ported twin. Globals are written only during module init, the
 * lazy import moved to Py_mod_exec, the buffer is per call, localtime_r replaces
 * localtime, module state and objects are guarded by a PyMutex or a critical
 * section, and bytearrays are pinned with the buffer protocol. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <time.h>

typedef struct {
    PyObject *hits;
    long lookups;
    PyMutex mutex;
} cache_state;

typedef struct {
    int pos;
} codec_ctx;

typedef struct {
    PyObject_HEAD
    PyObject *value;
    Py_ssize_t version;
    codec_ctx ctx;
    PyMutex ctx_lock;
} EntryObject;

static PyObject *json_module = NULL;      /* set once in cache_exec */
static PyMutex last_key_lock = {0};
static PyObject *last_key = NULL;         /* guarded by last_key_lock */
static _Thread_local long calls_on_this_thread = 0;
static Py_ssize_t total_calls = 0;        /* only touched atomically */

static cache_state *
get_state(PyObject *module)
{
    return (cache_state *)PyModule_GetState(module);
}

static PyObject *
cache_remember(PyObject *module, PyObject *key)
{
    PyMutex_Lock(&last_key_lock);
    Py_XSETREF(last_key, Py_NewRef(key));
    PyMutex_Unlock(&last_key_lock);
    calls_on_this_thread++;
    _Py_atomic_add_ssize(&total_calls, 1);
    Py_RETURN_NONE;
}

static PyObject *
cache_dumps(PyObject *module, PyObject *obj)
{
    return PyObject_CallMethod(json_module, "dumps", "O", obj);
}

static PyObject *
cache_label(PyObject *module, PyObject *arg)
{
    char label[64];
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    snprintf(label, sizeof label, "entry-%ld", n);
    return PyUnicode_FromString(label);
}

static PyObject *
cache_stamp(PyObject *module, PyObject *unused)
{
    time_t now = time(NULL);
    struct tm tmbuf;
    if (localtime_r(&now, &tmbuf) == NULL) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromLong(tmbuf.tm_hour);
}

static PyObject *
cache_count(PyObject *module, PyObject *unused)
{
    cache_state *st = get_state(module);
    long n;
    PyMutex_Lock(&st->mutex);
    st->lookups++;
    n = st->lookups;
    PyMutex_Unlock(&st->mutex);
    return PyLong_FromLong(n);
}

static PyObject *
Entry_set(EntryObject *self, PyObject *value)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->value, Py_NewRef(value));
    self->version++;
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static PyObject *
Entry_get(EntryObject *self, PyObject *unused)
{
    PyObject *res;
    Py_BEGIN_CRITICAL_SECTION(self);
    res = Py_XNewRef(self->value);
    Py_END_CRITICAL_SECTION();
    if (res == NULL) {
        Py_RETURN_NONE;
    }
    return res;
}

static PyObject *
Entry_step(EntryObject *self, PyObject *unused)
{
    int pos;
    PyMutex_Lock(&self->ctx_lock);
    self->ctx.pos += 1;
    pos = self->ctx.pos;
    PyMutex_Unlock(&self->ctx_lock);
    return PyLong_FromLong(pos);
}

static PyObject *
Entry_raw(EntryObject *self, PyObject *buf)
{
    Py_buffer view;
    if (PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    long first = view.len > 0 ? ((const char *)view.buf)[0] : 0;
    PyBuffer_Release(&view);
    return PyLong_FromLong(first);
}

static void
Entry_dealloc(EntryObject *self)
{
    Py_CLEAR(self->value);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Entry_methods[] = {
    {"set", (PyCFunction)Entry_set, METH_O, NULL},
    {"get", (PyCFunction)Entry_get, METH_NOARGS, NULL},
    {"step", (PyCFunction)Entry_step, METH_NOARGS, NULL},
    {"raw", (PyCFunction)Entry_raw, METH_O, NULL},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject EntryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cache.Entry",
    .tp_basicsize = sizeof(EntryObject),
    .tp_dealloc = (destructor)Entry_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Entry_methods,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef cache_methods[] = {
    {"remember", cache_remember, METH_O, NULL},
    {"dumps", cache_dumps, METH_O, NULL},
    {"label", cache_label, METH_O, NULL},
    {"stamp", cache_stamp, METH_NOARGS, NULL},
    {"count", cache_count, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static int
cache_exec(PyObject *module)
{
    cache_state *st = get_state(module);
    st->hits = PyDict_New();
    st->lookups = 0;
    if (st->hits == NULL || PyType_Ready(&EntryType) < 0) {
        return -1;
    }
    if (json_module == NULL) {
        json_module = PyImport_ImportModule("json");
        if (json_module == NULL) {
            return -1;
        }
    }
    return PyModule_AddObjectRef(module, "Entry", (PyObject *)&EntryType);
}

static int
cache_clear(PyObject *module)
{
    Py_CLEAR(get_state(module)->hits);
    return 0;
}

static PyModuleDef_Slot cache_slots[] = {
    {Py_mod_exec, cache_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef cache_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cache",
    .m_size = sizeof(cache_state),
    .m_methods = cache_methods,
    .m_slots = cache_slots,
    .m_clear = cache_clear,
};

PyMODINIT_FUNC
PyInit_cache(void)
{
    return PyModuleDef_Init(&cache_module);
}
