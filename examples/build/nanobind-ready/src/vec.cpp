// vec: nanobind bindings for a pure function.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

double dot(double ax, double ay, double bx, double by) { return ax * bx + ay * by; }

NB_MODULE(vec, m) {
    m.def("dot", &dot);
}
