//! Lock, unlock, critical-section and detach calls, and pairing them into guarded
//! regions.

use std::collections::HashSet;

use super::classify::fn_at;
use super::facts::{Guard, GuardKind};
use crate::capi::{self, CsRole, CsTarget, LockRole, TsForm, TsRole};
use crate::source::index::FileIndex;

#[derive(Clone)]
pub(super) enum LockCall {
    Begin(GuardKind),
    End(GuardKind),
}

type Event = (usize, usize, LockCall, String);

/// Pairs lock and unlock events per function. Returns the guarded regions and the
/// functions that lock without unlocking (lock helpers) or unlock without locking
/// (unlock helpers: their code before the unlock runs under the caller's lock).
pub(super) fn pair_events(
    index: &FileIndex,
    mut events: Vec<Event>,
) -> (Vec<Guard>, HashSet<usize>, HashSet<usize>) {
    events.sort_by_key(|e| e.0);
    let mut guards = Vec::new();
    let mut lock_helpers = HashSet::new();
    let mut unlock_helpers = HashSet::new();
    let mut open: Vec<(usize, GuardKind, String, Option<usize>)> = Vec::new();
    for (start, end, kind, arg) in events {
        let function = fn_at(index, start);
        match kind {
            LockCall::Begin(k) => open.push((start, k, arg, function)),
            LockCall::End(k) => match open.iter().rposition(|o| o.1 == k && o.3 == function) {
                Some(pos) => {
                    let (start, kind, arg, _) = open.remove(pos);
                    guards.push(Guard {
                        range: (start, end),
                        kind,
                        arg,
                    });
                }
                None => {
                    if let (Some(f), GuardKind::Mutex) = (function, k) {
                        unlock_helpers.insert(f);
                        guards.push(Guard {
                            range: (index.functions[f].body.0, end),
                            kind: k,
                            arg,
                        });
                    }
                }
            },
        }
    }
    // A lock never released in its function holds to the end of the function.
    for (start, kind, arg, f) in open {
        let end = f.map(|f| index.functions[f].range.1).unwrap_or(start);
        if let (Some(f), GuardKind::Mutex) = (f, kind) {
            lock_helpers.insert(f);
        }
        guards.push(Guard {
            range: (start, end),
            kind,
            arg,
        });
    }
    (guards, lock_helpers, unlock_helpers)
}

/// Classifies lock, unlock, critical-section and detach calls.
pub(super) fn lock_call(name: &str, callee: &str) -> Option<LockCall> {
    use GuardKind::*;
    use LockCall::*;
    // One lookup rules out the names the catalogue does not know (most of them)
    // before the three that ask for a kind.
    if capi::lookup(name).is_some() {
        if let Some(cs) = capi::critical_section_macro(name) {
            // A `_MUTEX`/`_MUT` section locks a `PyMutex`: a mutex guard that the plain
            // END closes. Assertions are not regions.
            return match (cs.role, cs.target) {
                (CsRole::Begin, CsTarget::Mutex) => Some(Begin(Mutex)),
                (CsRole::Begin, _) => Some(Begin(CriticalSection)),
                (CsRole::End, _) => Some(End(CriticalSection)),
                (CsRole::AssertHeld, _) => None,
            };
        }
        if let Some(t) = capi::thread_state_call(name).filter(|t| t.form == TsForm::Function) {
            return Some(match t.role {
                TsRole::Detach => Begin(Detached),
                TsRole::Attach => End(Detached),
            });
        }
        if let Some(lock) = capi::lock_call(name) {
            return match lock.role {
                LockRole::Acquire => Some(Begin(Mutex)),
                LockRole::Release => Some(End(Mutex)),
                LockRole::Query | LockRole::Allocate | LockRole::Free => None,
            };
        }
    }
    let r = match name {
        "pthread_mutex_lock"
        | "EnterCriticalSection"
        | "AcquireSRWLockExclusive"
        | "AcquireSRWLockShared"
        | "pthread_rwlock_wrlock"
        | "pthread_rwlock_rdlock"
        | "pthread_spin_lock" => Begin(Mutex),
        "pthread_mutex_unlock"
        | "LeaveCriticalSection"
        | "ReleaseSRWLockExclusive"
        | "ReleaseSRWLockShared"
        | "pthread_rwlock_unlock"
        | "pthread_spin_unlock" => End(Mutex),
        // Every name the rules below accept holds one of these (most names of a
        // file hold none: no copy of them is made).
        _ if !LOCK_WORDS.iter().any(|w| contains_ignore_case(name, w)) => return None,
        _ => {
            let lower = name.to_ascii_lowercase();
            if lower.contains("allocate")
                || lower.contains("islocked")
                || lower.contains("free")
                || lower.contains("init")
            {
                return None;
            }
            let member = callee.contains('.') || callee.contains("->");
            if (member && lower == "unlock")
                || lower.contains("unlock")
                || lower.starts_with("release_lock")
                || (name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    && (lower.starts_with("leave_")
                        || lower.starts_with("release_")
                        || lower.ends_with("_unlock")))
            {
                End(Mutex)
            } else if (member && lower == "lock")
                || lower.ends_with("_lock")
                || lower.starts_with("lock_")
                || lower.starts_with("acquire_lock")
                || (name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    && (lower.starts_with("enter_")
                        || lower.starts_with("acquire_")
                        || lower.ends_with("_lock")))
            {
                Begin(Mutex)
            } else {
                return None;
            }
        }
    };
    Some(r)
}

/// What a lock or unlock helper's name holds, in lower case (see [`lock_call`]).
const LOCK_WORDS: [&str; 5] = ["lock", "leave_", "release_", "enter_", "acquire_"];

/// `haystack.to_ascii_lowercase().contains(needle)` for a lower-case `needle`.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The file's own function-like macros that lock or unlock, from their definitions:
/// `#define ENTER_ZLIB(obj) PyThread_acquire_lock((obj)->lock, 1)`,
/// `#define GRAB(self) PyMutex_Lock(&(self)->mutex)`. A body that both locks and
/// unlocks (a wrapper around a whole statement) is neither.
pub(super) fn lock_macros(
    file: &crate::source::SourceFile,
) -> std::collections::HashMap<String, LockCall> {
    use crate::source::lex::DirectiveKind;
    let mut out = std::collections::HashMap::new();
    for d in &file.lexed.directives {
        if d.kind != DirectiveKind::Define {
            continue;
        }
        let arg = d.arg.trim();
        let Some(open) = arg.find('(') else { continue };
        let name = &arg[..open];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let Some(close) = arg[open..].find(')') else {
            continue;
        };
        let body = &arg[open + close + 1..];
        let (mut begins, mut ends) = (false, false);
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &body[start..i];
                if body[i..].trim_start().starts_with('(') && word != name {
                    match lock_call(word, word) {
                        Some(LockCall::Begin(GuardKind::Mutex)) => begins = true,
                        Some(LockCall::End(GuardKind::Mutex)) => ends = true,
                        _ => {}
                    }
                }
                continue;
            }
            i += 1;
        }
        match (begins, ends) {
            (true, false) => {
                out.insert(name.to_owned(), LockCall::Begin(GuardKind::Mutex));
            }
            (false, true) => {
                out.insert(name.to_owned(), LockCall::End(GuardKind::Mutex));
            }
            _ => {}
        }
    }
    out
}
