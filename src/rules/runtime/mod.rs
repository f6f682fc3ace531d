//! FT8xx: what happens when a built module is imported under a real free-threaded
//! interpreter (`ftaudit verify`). Only the rule statics and their documentation live
//! here; the checks run in [`crate::runtime`], one subprocess per import.
//!
//! One file per rule, holding its metadata and documentation; the registry lists them
//! as `Check::Produced(Producer::Verify)`.

pub mod ft801_gil_enabled_at_import;
pub mod ft802_import_raised;
pub mod ft803_import_crashed;
pub mod ft804_import_hung;
pub mod ft805_module_not_loadable;
pub mod ft806_static_runtime_disagreement;

pub use ft801_gil_enabled_at_import::GIL_ENABLED_AT_IMPORT;
pub use ft802_import_raised::IMPORT_RAISED;
pub use ft803_import_crashed::IMPORT_CRASHED;
pub use ft804_import_hung::IMPORT_HUNG;
pub use ft805_module_not_loadable::MODULE_NOT_LOADABLE;
pub use ft806_static_runtime_disagreement::STATIC_RUNTIME_DISAGREEMENT;
