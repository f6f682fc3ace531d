/* containers: a registry of callbacks kept in lists and dicts. It declares
   free-threading support, but still reads shared containers the GIL way. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *handlers; /* dict: name -> callable */
    PyObject *history;  /* list of names */
} RegistryObject;

static PyObject *default_handler; /* borrowed from the module dict: never owned */

static PyObject *
registry_lookup(RegistryObject *self, PyObject *name)
{
    PyObject *h = PyDict_GetItemWithError(self->handlers, name); /* expect: FT102 */
    if (h == NULL) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    return Py_NewRef(h);
}

static PyObject *
registry_first(RegistryObject *self, PyObject *names)
{
    PyObject *first = PyList_GetItem(names, 0); /* expect: FT101 */
    if (first == NULL) {
        return NULL;
    }
    return PyObject_Repr(first);
}

static PyObject *
registry_last(RegistryObject *self, PyObject *unused)
{
    Py_ssize_t n = PyList_Size(self->history);
    if (n <= 0) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(PyList_GetItem(self->history, n - 1)); /* expect: FT107 */
}

static PyObject *
registry_names(RegistryObject *self, PyObject *unused)
{
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(self->handlers, &pos, &key, &value)) { /* expect: FT201 */
        if (PyList_Append(out, key) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

static PyObject *
registry_blank(RegistryObject *self, PyObject *names)
{
    Py_ssize_t n = PyList_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < n; i++) { /* expect: FT203 */
        PyObject *old = PyList_GET_ITEM(names, i); /* expect: FT101 */
        PyList_SET_ITEM(names, i, Py_NewRef(Py_None)); /* expect: FT202 */
        Py_DECREF(old);
    }
    Py_RETURN_NONE;
}

static PyObject *
registry_find(RegistryObject *self, PyObject *target)
{
    PyObject *found = Py_None;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    Py_BEGIN_CRITICAL_SECTION(self->handlers);
    while (PyDict_Next(self->handlers, &pos, &key, &value)) {
        int eq = PyObject_RichCompareBool(value, target, Py_EQ); /* expect: FT304 */
        if (eq < 0) {
            return NULL; /* expect: FT301 */
        }
        if (eq) {
            found = key;
            break;
        }
    }
    Py_END_CRITICAL_SECTION();
    return Py_NewRef(found);
}

static PyObject *
registry_compact(RegistryObject *self, PyObject *unused)
{
    if (Py_REFCNT(self->history) == 1) { /* expect: FT206 */
        if (PyList_SetSlice(self->history, 0, PyList_GET_SIZE(self->history), NULL) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
registry_dump(RegistryObject *self, PyObject *unused)
{
    char *buf = PyObject_Malloc(64); /* expect: FT501 */
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    char *note = PyMem_Malloc(16);
    int n = 0;
    Py_BEGIN_ALLOW_THREADS
    n = snprintf(buf, 64, "%s", "registry");
    if (note == NULL) {
        PyErr_SetString(PyExc_MemoryError, "no note"); /* expect: FT305 */
    }
    Py_END_ALLOW_THREADS
    PyObject *res = PyUnicode_FromStringAndSize(buf, n);
    PyObject_Free(buf);
    PyObject_Free(note); /* expect: FT502 */
    return res;
}

static PyObject *
registry_owner(RegistryObject *self, PyObject *ref)
{
    PyObject *owner = PyWeakref_GetObject(ref); /* expect: FT103 */
    if (owner == NULL) {
        return NULL;
    }
    return Py_NewRef(owner);
}

static PyObject *
registry_peek(RegistryObject *self, PyObject *names)
{
    if (!PyList_Check(names) || PyList_GET_SIZE(names) == 0) {
        Py_RETURN_NONE;
    }
    PyObject *head = ((PyListObject *)names)->ob_item[0]; /* expect: FT204 */
    return PyObject_Repr(head);
}

static PyObject *
registry_pin(RegistryObject *self, PyObject *unused)
{
    /* keep the handlers alive "forever" */
    Py_SET_REFCNT(self->handlers, Py_REFCNT(self->handlers) + 1); /* expect: FT207 */
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
    {"compact", (PyCFunction)registry_compact, METH_NOARGS, NULL},
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
    PyObject *type = PyType_FromSpec(&registry_spec);
    if (type == NULL || PyModule_AddObject(module, "Registry", type) < 0) {
        Py_XDECREF(type);
        return -1;
    }
    default_handler = PyDict_GetItemString(PyModule_GetDict(module), "Registry"); /* expect: FT108 */
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
    .m_slots = containers_slots,
};

PyMODINIT_FUNC
PyInit_containers(void)
{
    return PyModuleDef_Init(&containers_module);
}
