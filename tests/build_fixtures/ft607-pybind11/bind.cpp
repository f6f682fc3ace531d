#include <pybind11/pybind11.h>
namespace py = pybind11;

int add(int a, int b) { return a + b; }

PYBIND11_MODULE(plain, m) {  // expect: FT607
    m.def("add", &add);
}

PYBIND11_MODULE(declared, m, py::mod_gil_not_used()) {
    m.def("add", &add);
}

// PYBIND11_MODULE(in_comment, m) is not a module.
const char *doc = "PYBIND11_MODULE(in_string, m)";
