// counter: the ported twin. The count is a std::atomic, the cached value is
// guarded by a PyMutex (which detaches while it waits), strtok_r replaces strtok,
// and the separator table is a function-local static ("magic static").
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <atomic>
#include <cstring>
#include <string>

namespace {
std::atomic<long> total_calls{0};
thread_local long calls_here = 0;
PyMutex cache_mutex = {0};
PyObject *last_value = nullptr;  // guarded by cache_mutex
}  // namespace

static PyObject *counter_tick(PyObject *, PyObject *)
{
    calls_here++;
    return PyLong_FromLong(++total_calls);
}

static PyObject *counter_store(PyObject *, PyObject *value)
{
    PyMutex_Lock(&cache_mutex);
    Py_XSETREF(last_value, Py_NewRef(value));
    PyMutex_Unlock(&cache_mutex);
    Py_RETURN_NONE;
}

static const std::string &separators()
{
    static const std::string seps = std::string(" \t");  // initialised once, thread-safely
    return seps;
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
    char *save = nullptr;
    char *word = strtok_r(copy, separators().c_str(), &save);
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
    total_calls = 0;
    return 0;
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
