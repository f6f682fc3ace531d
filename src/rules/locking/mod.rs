//! FT301–FT319 — critical sections and thread state.
//!
//! `Py_BEGIN_CRITICAL_SECTION` and `Py_BEGIN_ALLOW_THREADS` open a C scope in the
//! free-threaded build that only the matching END closes; on GIL builds the
//! critical-section macros are just braces, so mistakes there are invisible until
//! the code runs without the GIL. Regions are modelled by
//! [`crate::source::privacy::Analysis`] over each block's statement list, which
//! every rule here reads through [`crate::context::FileContext::privacy`] (built
//! once per file). (FT320–FT339 belong to the lock-misuse rules in
//! [`super::locks`].)

pub mod ft301_jump_out_of_critical_section;
pub mod ft302_mismatched_critical_section;
pub mod ft303_nested_critical_section_on_other_object;
pub mod ft304_borrowed_reference_across_suspending_call;
pub mod ft305_c_api_call_without_thread_state;
pub mod ft306_critical_section_around_locked_call;

pub use ft301_jump_out_of_critical_section::JUMP_OUT_OF_REGION;
pub use ft302_mismatched_critical_section::MISMATCHED_REGION;
pub use ft303_nested_critical_section_on_other_object::NESTED_SECTION;
pub use ft304_borrowed_reference_across_suspending_call::BORROWED_ACROSS_SUSPEND;
pub use ft305_c_api_call_without_thread_state::API_WITHOUT_THREAD_STATE;
pub use ft306_critical_section_around_locked_call::REDUNDANT_SECTION;

use crate::capi::{self, CsTarget, TsForm, TsRole};
use crate::context::FileContext;
use crate::source::privacy::RegionKind;

/// Where the bare thread-state macro of `role` is written in the file:
/// `Py_BLOCK_THREADS` (re-attach) or `Py_UNBLOCK_THREADS` (detach again).
fn bare_thread_state_macros(ctx: &FileContext, role: TsRole) -> Vec<usize> {
    capi::thread_state_macro(role, TsForm::BareMacro)
        .map(|m| ctx.file.code_occurrences(m))
        .unwrap_or_default()
}

/// The statement that closes a region of `kind`, as written
/// (`Py_END_CRITICAL_SECTION()`, `Py_END_ALLOW_THREADS`).
fn end_statement(kind: RegionKind) -> String {
    let section =
        |target, arity| capi::critical_section_end(target, arity).map(|m| format!("{m}()"));
    let end = match kind {
        RegionKind::CriticalSection => section(CsTarget::Object, 1),
        RegionKind::CriticalSection2 => section(CsTarget::Object, 2),
        RegionKind::SequenceFast => section(CsTarget::SequenceFast, 1),
        RegionKind::AllowThreads => {
            capi::thread_state_macro(TsRole::Attach, TsForm::RegionMacro).map(str::to_owned)
        }
    };
    end.unwrap_or_default()
}
