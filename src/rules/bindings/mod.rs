//! FT607–FT608 — binding generators: each declares free-threading support its own
//! way, and each added that way in a known release.
//!
//! Declaration forms and minimum versions, and how they were checked (wheels from
//! PyPI unpacked and searched; crate sources from crates.io):
//!
//! | generator | declaration | first release | checked |
//! |---|---|---|---|
//! | Cython | `# cython: freethreading_compatible=True`, `compiler_directives`, `-X freethreading_compatible=True` | 3.1.0 | `Cython/Compiler/Options.py` has the directive in 3.1.0, not in 3.0.12 |
//! | pybind11 | `PYBIND11_MODULE(name, m, py::mod_gil_not_used())` | 2.13.0 | `mod_gil_not_used` in `pybind11.h` of 2.13.0, not 2.12.1 |
//! | nanobind | `nanobind_add_module(tgt FREE_THREADED ...)` | 2.2.0 | `FREE_THREADED` in `nanobind-config.cmake` of 2.2.0, not 2.1.0 |
//! | PyO3 | `#[pymodule(gil_used = false)]` / `.gil_used(false)` | 0.23 (CHANGELOG, PR #4588); default since 0.28.0 (CHANGELOG: "opt-out rather than opt-in", PR #5564; macro default `map_or(true)` in 0.27.2, `is_some_and` in 0.30.1) |
//! | SWIG | `swig -python -nogil` | 4.4.0 | `-nogil` in the 4.4.0 `swig` binary, not 4.3.1 |
//! | f2py | `--freethreading-compatible` | NumPy 2.1.0 | in `numpy/f2py/f2py2e.py` of 2.1.0, not 2.0.2 |

//!
//! Both rules read the project's modules from [`crate::rules::project::modules`].

pub mod ft607_generator_module_undeclared;
pub mod ft608_generator_too_old_for_free_threading;

pub use ft607_generator_module_undeclared::GENERATOR_UNDECLARED;
pub use ft608_generator_too_old_for_free_threading::GENERATOR_TOO_OLD;
