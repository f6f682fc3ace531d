//! Runtime evidence: importing built extension modules under a real free-threaded
//! CPython (`ftaudit verify`). The rules it reports are documented in
//! [`crate::rules::runtime`] (FT8xx).

mod capture;
pub mod comparison;
pub mod interpreter;
mod interrupt;
pub mod process;
pub mod targets;
pub mod verdict;
pub mod verify;

pub use interrupt::clean_up_on_signals;
