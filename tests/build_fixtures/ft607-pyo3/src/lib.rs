use pyo3::prelude::*;

#[pymodule]  // expect: FT607
fn plain(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

#[pymodule(gil_used = true)]  // expect: FT607
fn optout(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

#[pymodule(gil_used = false)]
fn declared(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

// #[pymodule] in a comment
/* #[pymodule] in a block comment */
const S: &str = "#[pymodule]";

#[pymodule_export]
use super::declared as reexport;
