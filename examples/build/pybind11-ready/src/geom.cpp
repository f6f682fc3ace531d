// geom: pybind11 bindings for a pure function (no shared state).
#include <pybind11/pybind11.h>

namespace py = pybind11;

double area(double w, double h) { return w * h; }

PYBIND11_MODULE(geom, m, py::mod_gil_not_used()) {
    m.def("area", &area, "Area of a rectangle.");
}
