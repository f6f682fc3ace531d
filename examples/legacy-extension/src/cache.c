/* cache: a module that claims free-threading support but still keeps the
 * GIL-era habits: a global cache, a lazy import, a static buffer, localtime(),
 * unlocked module state and unlocked object fields. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <time.h>

typedef struct {
    PyObject *hits;
    long lookups;
} cache_state;

typedef struct {
    int pos;
} codec_ctx;

typedef struct {
    PyObject_HEAD
    PyObject *value;
    Py_ssize_t version;
    codec_ctx ctx;
} EntryObject;

static PyObject *last_key = NULL;
static PyObject *json_module = NULL;

static cache_state *
get_state(PyObject *module)
{
    return (cache_state *)PyModule_GetState(module);
}

static PyObject *
cache_remember(PyObject *module, PyObject *key)
{
    Py_XSETREF(last_key, Py_NewRef(key)); /* expect: FT401 */
    Py_RETURN_NONE;
}

static PyObject *
cache_dumps(PyObject *module, PyObject *obj)
{
    if (json_module == NULL) {
        json_module = PyImport_ImportModule("json"); /* expect: FT402 */
        if (json_module == NULL) {
            return NULL;
        }
    }
    return PyObject_CallMethod(json_module, "dumps", "O", obj);
}

static PyObject *
cache_label(PyObject *module, PyObject *arg)
{
    static char label[64];
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    snprintf(label, sizeof label, "entry-%ld", n); /* expect: FT403 */
    return PyUnicode_FromString(label);
}

static PyObject *
cache_stamp(PyObject *module, PyObject *unused)
{
    time_t now = time(NULL);
    struct tm *tm = localtime(&now); /* expect: FT404 */
    return PyLong_FromLong(tm->tm_hour);
}

static PyObject *
cache_count(PyObject *module, PyObject *unused)
{
    cache_state *st = get_state(module);
    st->lookups++; /* expect: FT405 */
    return PyLong_FromLong(st->lookups);
}

static PyObject *
Entry_set(EntryObject *self, PyObject *value)
{
    Py_XSETREF(self->value, Py_NewRef(value)); /* expect: FT406 */
    Py_RETURN_NONE;
}

static PyObject *
Entry_step(EntryObject *self, PyObject *unused)
{
    self->ctx.pos += 1; /* expect: FT407 */
    return PyLong_FromLong(self->ctx.pos);
}

static PyObject *
Entry_raw(EntryObject *self, PyObject *buf)
{
    if (!PyByteArray_Check(buf) || PyByteArray_GET_SIZE(buf) == 0) {
        Py_RETURN_NONE;
    }
    char *p = PyByteArray_AS_STRING(buf); /* expect: FT408 */
    return PyLong_FromLong(p[0]);
}

static void
Entry_dealloc(EntryObject *self)
{
    Py_CLEAR(self->value);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Entry_methods[] = {
    {"set", (PyCFunction)Entry_set, METH_O, NULL},
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
