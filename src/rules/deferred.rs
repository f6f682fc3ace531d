//! Building [`DeferredFix`]es: the fixes of project findings whose edits are placed
//! on the syntax tree, which the pipeline has released by the time project checks
//! run. `check` re-parses a file that has such requests and asks here for each
//! request's fix, from the rule that made it.

use crate::diagnostic::{DeferredFix, Fix, FixRequest};
use crate::rules::{declare, state};
use crate::source::index::{FileIndex, InitStyle};
use crate::source::SourceFile;

/// The requests a file's own phase can foresee and that are cheap to build while
/// its tree is alive: FT001's `SetGIL` placement for each single-phase module
/// init (a few per project). Their fixes are kept with the file
/// (`ProjectFile::prepared_fixes`) and attached at once, with no new parse.
pub fn prepare(file: &SourceFile, index: &FileIndex) -> Vec<(FixRequest, Option<Fix>)> {
    let cpp = file.language == crate::source::Language::Cpp;
    index
        .module_inits
        .iter()
        .filter_map(|init| match &init.style {
            InitStyle::SinglePhase { create_call, .. } => index.calls.get(*create_call),
            _ => None,
        })
        .map(|call| {
            let request = FixRequest::SetGil { create: call.range };
            let fix = build(file, &DeferredFix::new(cpp, request.clone()));
            (request, fix)
        })
        .collect()
}

/// The offsets whose top-level items [`build`] reads for `deferred` (see
/// [`SourceFile::reparse_items`]); `None`: it may read the whole file.
///
/// A lock around a body reads its function. A static made atomic, local or
/// thread-local reads its declaration and every place its name is written
/// (words in the parsed text: comments and strings only add items).
pub fn reads(file: &SourceFile, deferred: &DeferredFix) -> Option<Vec<usize>> {
    match &deferred.request {
        FixRequest::SetGil { .. } => None,
        FixRequest::LockBody { at, .. } => Some(vec![*at]),
        FixRequest::AtomicCounter { name_at, name }
        | FixRequest::ScratchBuffer { name_at, name, .. } => {
            let mut at = vec![*name_at];
            at.extend(crate::source::words::search(&file.parse_text, name));
            Some(at)
        }
    }
}

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
