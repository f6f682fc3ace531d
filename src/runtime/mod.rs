//! Runtime evidence: importing built extension modules under a real free-threaded
//! CPython (`ftaudit verify`). The rules it reports are documented in
//! [`crate::rules::runtime`] (FT8xx).

pub mod verify;
