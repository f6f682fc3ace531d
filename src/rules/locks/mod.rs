//! FT320–FT339 — lock misuse: blocking on native locks while attached, `PyMutex`
//! copied or left uninitialised, unlocked on only some paths, `PyMutex_IsLocked`
//! as a decision, and the legacy `PyThread_type_lock`.

use std::collections::HashSet;
use std::sync::Arc;

use crate::capi::{self, Lock, LockPrimitive, LockRole};
use crate::context::FileContext;
use crate::source::entry::Facts;

pub mod ft320_blocking_native_lock_while_attached;
pub mod ft321_pymutex_copied_or_uninitialised;
pub mod ft322_pymutex_not_unlocked_on_return;
pub mod ft323_pymutex_islocked_decision;
pub mod ft324_pythread_lock_instead_of_pymutex;

pub use ft320_blocking_native_lock_while_attached::BLOCKING_NATIVE_LOCK;
pub use ft321_pymutex_copied_or_uninitialised::PYMUTEX_COPIED_OR_UNINITIALISED;
pub use ft322_pymutex_not_unlocked_on_return::PYMUTEX_UNLOCK_MISSING;
pub use ft323_pymutex_islocked_decision::PYMUTEX_ISLOCKED_DECISION;
pub use ft324_pythread_lock_instead_of_pymutex::PYTHREAD_LOCK;

/// Does the file mention any lock at all? Every rule of the family skips files
/// that do not. A text search, done once per file.
fn mentions_locks(ctx: &FileContext) -> bool {
    ctx.memo.get(|| MentionsLocks::search(ctx)).0
}

/// Words of native (non-Python) locks, for the text pre-filter: POSIX, Windows and
/// C++ spellings. Not the C API.
const NATIVE_LOCK_WORDS: [&str; 8] = [
    "pthread_",
    "mutex",
    "lock_guard",
    "scoped_lock",
    "unique_lock",
    "WaitFor",
    "EnterCritical",
    "sem_wait",
];

/// The answer of [`mentions_locks`], as the file's memo keeps it.
struct MentionsLocks(bool);

impl MentionsLocks {
    fn search(ctx: &FileContext) -> MentionsLocks {
        let has = |w: &str| ctx.file.text.contains(w);
        // CPython's locks: their type names and every lock call the catalogue knows
        // (what FT320-FT324 look for).
        let api = [LockPrimitive::PyMutex, LockPrimitive::PyThreadLock]
            .into_iter()
            .map(capi::lock_type_name)
            .chain(capi::lock_calls().map(|(n, _)| n));
        MentionsLocks(NATIVE_LOCK_WORDS.iter().copied().chain(api).any(has))
    }
}

/// The file's guards, branches and scoped locks, as FT320 and FT323 read them.
///
/// Built without the project's function names (so no function references are
/// kept), which is why it is a type of its own in the file's memo rather than the
/// [`Facts`] the shared-state rules build project-wide.
pub(crate) struct LockFacts(Facts);

impl std::ops::Deref for LockFacts {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        &self.0
    }
}

/// The lock facts of a file that mentions locks, or `None`: the file's entry-point
/// facts when the run collected them (their extra function references are not read
/// here), else [`LockFacts`] built once per file.
fn lock_facts<'c>(ctx: &'c FileContext) -> Option<LockFactsRef<'c>> {
    if !mentions_locks(ctx) {
        return None;
    }
    if let Some(facts) = ctx.entry_facts {
        return Some(LockFactsRef::Entry(facts));
    }
    Some(LockFactsRef::Own(ctx.memo.get(|| {
        LockFacts(Facts::build(ctx.file, ctx.index, &HashSet::new()))
    })))
}

/// See [`lock_facts`].
enum LockFactsRef<'c> {
    Entry(&'c Facts),
    Own(Arc<LockFacts>),
}

impl std::ops::Deref for LockFactsRef<'_> {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        match self {
            LockFactsRef::Entry(f) => f,
            LockFactsRef::Own(f) => f,
        }
    }
}

/// Compiled in some free-threaded build this project targets.
fn in_ft(ctx: &FileContext, off: usize) -> bool {
    let c = ctx.file.condition_at(off);
    crate::rules::memo_ft_configs(ctx)
        .0
        .iter()
        .any(|cfg| c.eval(cfg).maybe())
}

/// The `PyMutex` call of `role` (`PyMutex_Lock` for `Acquire`).
fn is_pymutex(name: &str, role: LockRole) -> bool {
    let lock = Lock {
        primitive: LockPrimitive::PyMutex,
        role,
    };
    capi::lock_call(name) == Some(lock)
}
