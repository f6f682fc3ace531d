use pyo3::prelude::*;

// PyO3 0.28+ (locked above) declares free-threading support by default.
#[pymodule]
fn modern(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
