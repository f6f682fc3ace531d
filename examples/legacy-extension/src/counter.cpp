// counter: C++ module that claims free-threading support but counts with plain
// statics, guards a cache with std::mutex while attached and allocates a legacy lock.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <cstring>
#include <mutex>

namespace {
long total_calls = 0;
PyObject *last_value = nullptr;
std::mutex cache_mutex;
PyThread_type_lock legacy_lock = nullptr;
}  // namespace

static PyObject *counter_tick(PyObject *, PyObject *)
{
    total_calls++; // expect: FT401
    return PyLong_FromLong(total_calls);
}

static PyObject *counter_store(PyObject *, PyObject *value)
{
    std::lock_guard<std::mutex> guard(cache_mutex); // expect: FT320
    Py_XSETREF(last_value, Py_NewRef(value));
    Py_RETURN_NONE;
}

static PyObject *counter_first_word(PyObject *, PyObject *arg)
{
    const char *text = PyUnicode_AsUTF8(arg);
    if (text == nullptr) {
        return nullptr;
    }
    char copy[128];
    std::strncpy(copy, text, sizeof copy - 1);
    copy[sizeof copy - 1] = '\0';
    char *word = std::strtok(copy, " "); // expect: FT404
    return PyUnicode_FromString(word ? word : "");
}

static PyMethodDef counter_methods[] = {
    {"tick", counter_tick, METH_NOARGS, nullptr},
    {"store", counter_store, METH_O, nullptr},
    {"first_word", counter_first_word, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr}
};

static int counter_exec(PyObject *)
{
    legacy_lock = PyThread_allocate_lock(); // expect: FT324
    return legacy_lock == nullptr ? -1 : 0;
}

static PyModuleDef_Slot counter_slots[] = {
    {Py_mod_exec, (void *)counter_exec},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr}
};

static PyModuleDef counter_module = {
    PyModuleDef_HEAD_INIT, "counter", nullptr, 0, counter_methods, counter_slots,
};

PyMODINIT_FUNC PyInit_counter(void)
{
    return PyModuleDef_Init(&counter_module);
}
