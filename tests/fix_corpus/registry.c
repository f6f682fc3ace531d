/* A small registry module written the way many extensions are: borrowed
 * lookups in a module-level dict, a list argument, weak references, an
 * unlocked dict walk, an object-allocator byte buffer, a function-static
 * scratch buffer, a method changing per-object state and single-phase init. `tests/fix.rs` runs
 * `ftaudit check --fix --unsafe-fixes` on a copy and checks that the result
 * compiles for both builds, imports with the GIL still disabled and passes
 * behaviour.py as the original does. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *registry;   /* name -> value, filled at import */
static PyObject *defaults;   /* name -> default */
static long lookups;         /* how many lookups ran */

/* registry.lookup(key) -> value or None */
static PyObject *
lookup(PyObject *self, PyObject *key)
{
    lookups++;
    PyObject *value = PyDict_GetItemWithError(registry, key);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return Py_NewRef(value);
}

/* registry.doubled(name) -> 2 * registry[name], or -1 when missing */
static PyObject *
doubled(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) {
        return NULL;
    }
    PyObject *v = PyDict_GetItemString(registry, name);
    if (!v)
        return PyLong_FromLong(-1);
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(2 * x);
}

/* registry.describe(key) -> "key=repr(value)" using a cleanup label */
static PyObject *
describe(PyObject *self, PyObject *key)
{
    PyObject *result = NULL;
    PyObject *text = NULL;
    PyObject *value = PyDict_GetItem(registry, key);
    if (value == NULL) {
        PyErr_SetString(PyExc_KeyError, "unknown key");
        goto error;
    }
    text = PyObject_Repr(value);
    if (text == NULL)
        goto error;
    result = PyUnicode_FromFormat("%S=%U", key, text);
error:
    Py_XDECREF(text);
    return result;
}

/* registry.first_repr(list) -> repr(list[0]) */
static PyObject *
first_repr(PyObject *self, PyObject *list)
{
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "expected a list");
        return NULL;
    }
    PyObject *item = PyList_GetItem(list, 0);
    if (item == NULL) {
        return NULL;
    }
    return PyObject_Repr(item);
}

/* registry.sum_list(list) -> sum of the ints in list */
static PyObject *
sum_list(PyObject *self, PyObject *list)
{
    long total = 0;
    Py_ssize_t n = PyList_Size(list);
    if (n < 0) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GetItem(list, i);
        if (item == NULL) {
            return NULL;
        }
        if (!PyLong_Check(item)) {
            continue;
        }
        total += PyLong_AsLong(item);
    }
    return PyLong_FromLong(total);
}

/* registry.deref(ref) -> the referent, or None when it is gone */
static PyObject *
deref(PyObject *self, PyObject *ref)
{
    if (!PyWeakref_Check(ref)) {
        PyErr_SetString(PyExc_TypeError, "expected a weak reference");
        return NULL;
    }
    PyObject *obj = PyWeakref_GetObject(ref);
    if (obj == NULL) {
        return NULL;
    }
    return Py_NewRef(obj);
}

/* registry.default(name) -> defaults.setdefault(name, 0) */
static PyObject *
get_default(PyObject *self, PyObject *name)
{
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL) {
        return NULL;
    }
    PyObject *v = PyDict_SetDefault(defaults, name, zero);
    Py_DECREF(zero);
    if (v == NULL) {
        return NULL;
    }
    return Py_NewRef(v);
}

/* registry.main_has(name) -> whether __main__ has the attribute */
static PyObject *
main_has(PyObject *self, PyObject *name)
{
    PyObject *main = PyImport_AddModule("__main__");
    if (main == NULL) {
        return NULL;
    }
    int has = PyObject_HasAttr(main, name);
    return PyBool_FromLong(has);
}

/* registry.total(d) -> sum of the int values of d; error on a non-int */
static PyObject *
total(PyObject *self, PyObject *d)
{
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "expected a dict");
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    long sum = 0;
    while (PyDict_Next(d, &pos, &key, &value)) {
        if (!PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "values must be ints");
            return NULL;
        }
        sum += PyLong_AsLong(value);
    }
    return PyLong_FromLong(sum);
}

/* registry.count(d) -> number of items (a walk with no early exit) */
static PyObject *
count(PyObject *self, PyObject *d)
{
    Py_ssize_t pos = 0, n = 0;
    PyObject *key, *value;
    while (PyDict_Next(d, &pos, &key, &value)) {
        n++;
    }
    return PyLong_FromSsize_t(n);
}

/* registry.common_prefix(a, b) -> how many leading keys (the same objects) two dicts share */
static PyObject *
common_prefix(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "O!O!", &PyDict_Type, &a, &PyDict_Type, &b)) {
        return NULL;
    }
    Py_ssize_t i = 0, j = 0, n = 0;
    PyObject *k1, *v1, *k2, *v2;
    while (PyDict_Next(a, &i, &k1, &v1) && PyDict_Next(b, &j, &k2, &v2)) {
        /* identity: a rich comparison could run Python code inside the loop */
        if (k1 != k2) {
            break;
        }
        n++;
    }
    return PyLong_FromSsize_t(n);
}

/* registry.hexlify(bytes) -> hex string, through a byte buffer */
static PyObject *
hexlify(PyObject *self, PyObject *data)
{
    char *src;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(data, &src, &len) < 0) {
        return NULL;
    }
    char *buf = PyObject_Malloc(2 * len + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    static const char digits[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < len; i++) {
        buf[2 * i] = digits[(unsigned char)src[i] >> 4];
        buf[2 * i + 1] = digits[(unsigned char)src[i] & 15];
    }
    buf[2 * len] = '\0';
    PyObject *out = PyUnicode_FromString(buf);
    PyObject_Free(buf);
    return out;
}

/* registry.label(n) -> "item-<n>" through a function-static scratch buffer */
static PyObject *
label(PyObject *self, PyObject *n)
{
    static char scratch[32];
    long v = PyLong_AsLong(n);
    if (v == -1 && PyErr_Occurred()) {
        return NULL;
    }
    snprintf(scratch, sizeof scratch, "item-%ld", v);
    return PyUnicode_FromString(scratch);
}

/* registry.lookups() -> how many lookups ran */
static PyObject *
lookup_count(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(lookups);
}

/* registry.Counter: per-object state changed by a method (FT406) */
typedef struct {
    PyObject_HEAD
    PyObject *last;
    long hits;
} CounterObject;

static PyObject *
counter_hit(CounterObject *self, PyObject *value)
{
    if (value == Py_None) {
        PyErr_SetString(PyExc_ValueError, "None is not counted");
        return NULL;
    }
    Py_XSETREF(self->last, Py_NewRef(value));
    self->hits += 1;
    if (self->hits % 2 == 0)
        Py_RETURN_TRUE;
    return PyLong_FromLong(self->hits);
}

static PyObject *
counter_last(CounterObject *self, PyObject *unused)
{
    if (self->last == NULL)
        Py_RETURN_NONE;
    return Py_NewRef(self->last);
}

static void
counter_dealloc(CounterObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->last);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef counter_methods[] = {
    {"hit", (PyCFunction)counter_hit, METH_O, NULL},
    {"last", (PyCFunction)counter_last, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot counter_slots[] = {
    {Py_tp_dealloc, counter_dealloc},
    {Py_tp_methods, counter_methods},
    {Py_tp_new, PyType_GenericNew},
    {0, NULL},
};

static PyType_Spec counter_spec = {
    "registry.Counter", sizeof(CounterObject), 0, Py_TPFLAGS_DEFAULT, counter_slots,
};

static PyMethodDef registry_methods[] = {
    {"lookup", lookup, METH_O, NULL},
    {"lookups", lookup_count, METH_NOARGS, NULL},
    {"doubled", doubled, METH_VARARGS, NULL},
    {"describe", describe, METH_O, NULL},
    {"first_repr", first_repr, METH_O, NULL},
    {"sum_list", sum_list, METH_O, NULL},
    {"deref", deref, METH_O, NULL},
    {"default", get_default, METH_O, NULL},
    {"main_has", main_has, METH_O, NULL},
    {"total", total, METH_O, NULL},
    {"count", count, METH_O, NULL},
    {"common_prefix", common_prefix, METH_VARARGS, NULL},
    {"hexlify", hexlify, METH_O, NULL},
    {"label", label, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef registry_module = {
    PyModuleDef_HEAD_INIT, "registry", NULL, -1, registry_methods,
};

PyMODINIT_FUNC
PyInit_registry(void)
{
    PyObject *m = PyModule_Create(&registry_module);
    if (m == NULL) {
        return NULL;
    }
    registry = PyDict_New();
    defaults = PyDict_New();
    if (registry == NULL || defaults == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    PyObject *one = PyLong_FromLong(1);
    PyObject *two = PyLong_FromLong(21);
    if (one == NULL || two == NULL || PyDict_SetItemString(registry, "one", one) < 0
        || PyDict_SetItemString(registry, "answer", two) < 0) {
        Py_XDECREF(one);
        Py_XDECREF(two);
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(one);
    Py_DECREF(two);
    if (PyModule_AddObjectRef(m, "registry", registry) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyObject *counter_type = PyType_FromSpec(&counter_spec);
    if (counter_type == NULL || PyModule_AddObject(m, "Counter", counter_type) < 0) {
        Py_XDECREF(counter_type);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
