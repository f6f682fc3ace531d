//! Fixes: building edits, applying them, writing files safely, and diffs.

pub mod apply;
pub mod critical_section;
pub mod declare;
pub mod edits;
pub mod scope;
pub mod statics;
pub mod strong_ref;
