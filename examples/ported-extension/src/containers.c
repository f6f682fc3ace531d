/* containers: the registry of callbacks, ported. Shared containers are read
   with strong-reference APIs or under a critical section; containers private
   to the call (fresh lists, the kwargs dict, tuples) keep the fast macros. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030D0000
#  include "pythoncapi_compat.h" /* PyList_GetItemRef, PyDict_GetItemRef, PyWeakref_GetRef */
#endif

typedef struct {
    PyObject_HEAD
    PyObject *handlers; /* dict: name -> callable */
    PyObject *history;  /* list of names */
} RegistryObject;

typedef struct {
    PyObject *default_handler; /* strong reference */
} containers_state;

static PyObject *
registry_lookup(RegistryObject *self, PyObject *name)
{
    PyObject *h;
    if (PyDict_GetItemRef(self->handlers, name, &h) < 0) {
        return NULL;
    }
    return h != NULL ? h : Py_NewRef(Py_None);
}

static PyObject *
registry_first(RegistryObject *self, PyObject *names)
{
    PyObject *first = PyList_GetItemRef(names, 0);
    if (first == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_Repr(first);
    Py_DECREF(first);
    return r;
}

static PyObject *
registry_last(RegistryObject *self, PyObject *unused)
{
    Py_ssize_t n = PyList_Size(self->history);
    if (n <= 0) {
        Py_RETURN_NONE;
    }
    return PyList_GetItemRef(self->history, n - 1);
}

static PyObject *
registry_names(RegistryObject *self, PyObject *unused)
{
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    int err = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    Py_BEGIN_CRITICAL_SECTION(self->handlers);
    while (PyDict_Next(self->handlers, &pos, &key, &value)) {
        if (PyList_Append(out, key) < 0) {
            err = 1;
            break;
        }
    }
    Py_END_CRITICAL_SECTION();
    if (err) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *
registry_blank(RegistryObject *self, PyObject *names)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        if (PyList_SetItem(names, i, Py_NewRef(Py_None)) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
registry_find(RegistryObject *self, PyObject *target)
{
    PyObject *found = NULL;
    int err = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    Py_BEGIN_CRITICAL_SECTION(self->handlers);
    while (PyDict_Next(self->handlers, &pos, &key, &value)) {
        Py_INCREF(key);
        Py_INCREF(value);
        int eq = PyObject_RichCompareBool(value, target, Py_EQ);
        Py_DECREF(value);
        if (eq < 0) {
            Py_DECREF(key);
            err = 1;
            break;
        }
        if (eq) {
            found = key;
            break;
        }
        Py_DECREF(key);
    }
    Py_END_CRITICAL_SECTION();
    if (err) {
        return NULL;
    }
    return found != NULL ? found : Py_NewRef(Py_None);
}

/* Safe look-alikes: containers private to this call. */
static PyObject *
registry_configure(RegistryObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *mode = NULL;
    if (kwargs != NULL) {
        mode = PyDict_GetItemString(kwargs, "mode"); /* the kwargs dict is private to the call */
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(kwargs, &pos, &key, &value)) {
        }
    }
    PyObject *first = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    PyObject *pair = PyList_New(2);
    if (pair == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(pair, 0, Py_NewRef(first));
    PyList_SET_ITEM(pair, 1, Py_NewRef(mode != NULL ? mode : Py_None));
    PyObject *again = PyList_GET_ITEM(pair, 0);
    PyObject *result = PyTuple_New(2);
    if (result == NULL) {
        Py_DECREF(pair);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, Py_NewRef(again));
    PyTuple_SET_ITEM(result, 1, pair);
    return result;
}

static PyObject *
registry_dump(RegistryObject *self, PyObject *unused)
{
    char *buf = PyMem_Malloc(64);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    int n = 0;
    Py_BEGIN_ALLOW_THREADS
    n = snprintf(buf, 64, "%s", "registry");
    Py_END_ALLOW_THREADS
    PyObject *res = PyUnicode_FromStringAndSize(buf, n);
    PyMem_Free(buf);
    return res;
}

static PyObject *
registry_owner(RegistryObject *self, PyObject *ref)
{
    PyObject *owner;
    if (PyWeakref_GetRef(ref, &owner) < 0) {
        return NULL;
    }
    return owner != NULL ? owner : Py_NewRef(Py_None);
}

static PyObject *
registry_peek(RegistryObject *self, PyObject *names)
{
    if (!PyList_Check(names) || PyList_GET_SIZE(names) == 0) {
        Py_RETURN_NONE;
    }
    PyObject *head = PyList_GetItemRef(names, 0);
    if (head == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_Repr(head);
    Py_DECREF(head);
    return r;
}

static PyObject *
registry_pin(RegistryObject *self, PyObject *unused)
{
    /* keep the handlers alive: a real reference, not an edited count */
    Py_INCREF(self->handlers);
    Py_RETURN_NONE;
}

static void
registry_dealloc(RegistryObject *self)
{
    Py_XDECREF(self->handlers);
    Py_XDECREF(self->history);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
registry_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    RegistryObject *self = (RegistryObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->handlers = PyDict_New();
    self->history = PyList_New(0);
    if (self->handlers == NULL || self->history == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyMethodDef registry_methods[] = {
    {"lookup", (PyCFunction)registry_lookup, METH_O, NULL},
    {"first", (PyCFunction)registry_first, METH_O, NULL},
    {"last", (PyCFunction)registry_last, METH_NOARGS, NULL},
    {"names", (PyCFunction)registry_names, METH_NOARGS, NULL},
    {"blank", (PyCFunction)registry_blank, METH_O, NULL},
    {"find", (PyCFunction)registry_find, METH_O, NULL},
    {"configure", (PyCFunction)(void (*)(void))registry_configure, METH_VARARGS | METH_KEYWORDS, NULL},
    {"dump", (PyCFunction)registry_dump, METH_NOARGS, NULL},
    {"owner", (PyCFunction)registry_owner, METH_O, NULL},
    {"peek", (PyCFunction)registry_peek, METH_O, NULL},
    {"pin", (PyCFunction)registry_pin, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot registry_type_slots[] = {
    {Py_tp_new, registry_new},
    {Py_tp_dealloc, registry_dealloc},
    {Py_tp_methods, registry_methods},
    {0, NULL},
};

static PyType_Spec registry_spec = {
    .name = "containers.Registry",
    .basicsize = sizeof(RegistryObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = registry_type_slots,
};

static int
containers_exec(PyObject *module)
{
    containers_state *st = PyModule_GetState(module);
    PyObject *type = PyType_FromSpec(&registry_spec);
    if (type == NULL) {
        return -1;
    }
    st->default_handler = Py_NewRef(type);
    if (PyModule_AddObjectRef(module, "Registry", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    Py_DECREF(type);
    return 0;
}

static int
containers_clear(PyObject *module)
{
    containers_state *st = PyModule_GetState(module);
    Py_CLEAR(st->default_handler);
    return 0;
}

static PyModuleDef_Slot containers_slots[] = {
    {Py_mod_exec, containers_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef containers_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "containers",
    .m_size = sizeof(containers_state),
    .m_slots = containers_slots,
    .m_clear = containers_clear,
};

PyMODINIT_FUNC
PyInit_containers(void)
{
    return PyModuleDef_Init(&containers_module);
}
