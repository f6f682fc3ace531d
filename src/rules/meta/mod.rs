//! FT9xx: findings about ftaudit's own inputs (suppression comments).
//!
//! These rules have no check of their own: their findings are produced where the
//! input is read (`src/suppress.rs` for FT901), and the registry says so
//! (`Check::Produced`).

pub mod ft901_invalid_suppression;

pub use ft901_invalid_suppression::INVALID_SUPPRESSION;
