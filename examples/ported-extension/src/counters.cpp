// counters: the word tally, ported. Every exit goes through the END macro, two
// dicts are locked together with the `2` form, iteration holds the dict's lock,
// and the C API is only called with a thread state.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstring>
#include <string>

namespace {

struct Tally {
    PyObject_HEAD
    PyObject *counts;  // dict: word -> int
    PyObject *aliases; // dict: word -> word
};

PyObject *tally_add(PyObject *op, PyObject *word)
{
    auto *self = reinterpret_cast<Tally *>(op);
    PyObject *res = nullptr;
    if (!PyUnicode_Check(word)) {
        PyErr_SetString(PyExc_TypeError, "expected str");
        return nullptr;
    }
    Py_BEGIN_CRITICAL_SECTION(self->counts);
    PyObject *one = PyLong_FromLong(1);
    if (one != nullptr && PyDict_SetItem(self->counts, word, one) == 0) {
        res = Py_NewRef(Py_None);
    }
    Py_XDECREF(one);
    Py_END_CRITICAL_SECTION();
    return res;
}

PyObject *tally_merge_aliases(PyObject *op, PyObject *)
{
    auto *self = reinterpret_cast<Tally *>(op);
    Py_BEGIN_CRITICAL_SECTION2(self->counts, self->aliases);
    (void)PyDict_Update(self->counts, self->aliases);
    Py_END_CRITICAL_SECTION2();
    Py_RETURN_NONE;
}

PyObject *tally_total(PyObject *op, PyObject *)
{
    auto *self = reinterpret_cast<Tally *>(op);
    long total = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    Py_BEGIN_CRITICAL_SECTION(self->counts);
    while (PyDict_Next(self->counts, &pos, &key, &value)) {
        total += PyLong_AsLong(value);
    }
    Py_END_CRITICAL_SECTION();
    return PyLong_FromLong(total);
}

PyObject *tally_checksum(PyObject *, PyObject *arg)
{
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &len);
    if (s == nullptr) {
        return nullptr;
    }
    std::string copy(s, static_cast<size_t>(len));
    unsigned long sum = 0;
    Py_BEGIN_ALLOW_THREADS
    for (char c : copy) {
        sum = sum * 31 + static_cast<unsigned char>(c);
    }
    Py_END_ALLOW_THREADS
    if (sum == 0 && PyErr_WarnEx(PyExc_RuntimeWarning, "empty", 1) < 0) {
        return nullptr;
    }
    return PyLong_FromUnsignedLong(sum);
}

PyObject *tally_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    auto *self = reinterpret_cast<Tally *>(type->tp_alloc(type, 0));
    if (self == nullptr) {
        return nullptr;
    }
    self->counts = PyDict_New();
    self->aliases = kwds != nullptr ? PyDict_Copy(kwds) : PyDict_New();
    if (self->counts == nullptr || self->aliases == nullptr) {
        Py_DECREF(self);
        return nullptr;
    }
    return reinterpret_cast<PyObject *>(self);
}

void tally_dealloc(PyObject *op)
{
    auto *self = reinterpret_cast<Tally *>(op);
    Py_XDECREF(self->counts);
    Py_XDECREF(self->aliases);
    Py_TYPE(op)->tp_free(op);
}

PyMethodDef tally_methods[] = {
    {"add", tally_add, METH_O, nullptr},
    {"merge_aliases", tally_merge_aliases, METH_NOARGS, nullptr},
    {"total", tally_total, METH_NOARGS, nullptr},
    {"checksum", tally_checksum, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot tally_type_slots[] = {
    {Py_tp_new, reinterpret_cast<void *>(tally_new)},
    {Py_tp_dealloc, reinterpret_cast<void *>(tally_dealloc)},
    {Py_tp_methods, tally_methods},
    {0, nullptr},
};

PyType_Spec tally_spec = {
    "counters.Tally",
    sizeof(Tally),
    0,
    Py_TPFLAGS_DEFAULT,
    tally_type_slots,
};

int counters_exec(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&tally_spec);
    if (type == nullptr) {
        return -1;
    }
    int rc = PyModule_AddObjectRef(module, "Tally", type);
    Py_DECREF(type);
    return rc;
}

PyModuleDef_Slot counters_slots[] = {
    {Py_mod_exec, reinterpret_cast<void *>(counters_exec)},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef counters_module = {
    PyModuleDef_HEAD_INIT,
    "counters",
    nullptr,
    0,
    nullptr,
    counters_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit_counters(void)
{
    return PyModuleDef_Init(&counters_module);
}
