use pyo3::prelude::*;

/// Sums a list of integers; keeps no shared state.
#[pyfunction]
fn total(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[pymodule]  // expect: FT607
fn rsum(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(total, m)?)
}
