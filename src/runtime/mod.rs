//! Runtime evidence: importing built extension modules under a real free-threaded
//! CPython (`ftaudit verify`). The rules it reports are documented in
//! [`crate::rules::runtime`] (FT8xx).

pub mod comparison;
pub mod interpreter;
pub mod process;
pub mod targets;
pub mod verdict;
pub mod verify;
