//! Building [`DeferredFix`]es: the fixes of project findings whose edits are placed
//! on the syntax tree, which the pipeline has released by the time project checks
//! run. `check` re-parses a file that has such requests and asks here for each
//! request's fix, from the rule that made it.

use crate::diagnostic::{DeferredFix, Fix, FixRequest};
use crate::rules::{declare, state};
use crate::source::SourceFile;

/// The fix `deferred` stands for, on `file` parsed again as it was analysed;
/// `None` when the rewrite does not apply to the code's shape (as when built eagerly).
pub fn build(file: &SourceFile, deferred: &DeferredFix) -> Option<Fix> {
    match &deferred.request {
        FixRequest::SetGil { create } => {
            declare::ft001_missing_gil_declaration::set_gil_fix(file, *create)
        }
        FixRequest::AtomicCounter { name_at, name } => {
            state::ft401_global_written_at_runtime::counter_fix(file, *name_at, name)
        }
        FixRequest::ScratchBuffer {
            name_at,
            name,
            escapes,
        } => state::ft403_static_scratch_buffer::scratch_fix(file, *name_at, name, *escapes),
        FixRequest::LockBody {
            at,
            object,
            target_minor,
        } => crate::fix::critical_section::lock_body_fix(file, *target_minor, *at, object),
    }
}
