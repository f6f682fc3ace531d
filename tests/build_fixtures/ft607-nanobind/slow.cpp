#include <nanobind/nanobind.h>
NB_MODULE(slow_ext, m) {  // expect: FT607
    m.def("f", []() { return 1; });
}
