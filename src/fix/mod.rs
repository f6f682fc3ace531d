//! Fixes: building edits, applying them, writing files safely, and diffs.

pub mod apply;
pub mod edits;
