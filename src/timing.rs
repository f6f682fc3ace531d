//! CPU time per phase of a check run, for profiling and the benchmark
//! (`FTAUDIT_TIMINGS=1 ftaudit check ...` prints them on stderr).
//!
//! Each phase adds the CPU time of the thread that ran it (user + system, from
//! `CLOCK_THREAD_CPUTIME_ID`), so phases that run on several threads add up their
//! threads' time and the sum compares with the process's CPU time, not with the
//! wall clock. When the variable is unset nothing is measured.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The phases of `check::run`, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Discovery, reading, hashing, the cache look-up.
    Read,
    /// Lexing, the condition map and masking for the parser.
    Prepare,
    /// tree-sitter: parsing, and freeing the tree (the bare parse the benchmark
    /// compares with frees its trees too).
    Parse,
    /// The file index.
    Index,
    /// Suppressions and the file checks.
    FileRules,
    /// Project checks (cross-file).
    ProjectRules,
    /// Build checks, filtering, sorting, the readiness summary.
    Finish,
    /// Writing the cache.
    CacheWrite,
    /// What the project phase needs from a file's syntax tree, computed before the
    /// tree is released (entry-point facts, parse problems, code occurrences).
    TreeFacts,
    /// Building deferred fixes (their files' new parse counts under lex and parse).
    Fixes,
}

const PHASES: [(Phase, &str); 10] = [
    (Phase::Read, "read + cache look-up"),
    (Phase::Prepare, "lex + conditions + mask"),
    (Phase::Parse, "tree-sitter parse"),
    (Phase::Index, "index"),
    (Phase::FileRules, "file rules"),
    (Phase::ProjectRules, "project rules"),
    (Phase::Finish, "build rules + filter + summary"),
    (Phase::CacheWrite, "cache write"),
    (Phase::TreeFacts, "facts for project checks"),
    (Phase::Fixes, "deferred fixes"),
];

static TOTALS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];

/// tree-sitter parses of C/C++ files since the last [`report`]: for analysis, and
/// again for deferred fixes (counted whether or not timing is on: one relaxed add
/// per parse). The cache tests read them to see which files were analysed again.
static PARSES: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// The bytes parsed again for deferred fixes, and the sizes of their files (only
/// the items a fix reads are parsed again; see `SourceFile::reparse_items`).
static PARSED_AGAIN: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Counts one tree-sitter parse of a C/C++ file: `again` for a file parsed again
/// to build deferred fixes (see [`report`]).
pub fn count_parse(again: bool) {
    PARSES[usize::from(again)].fetch_add(1, Ordering::Relaxed);
}

/// Counts `bytes` parsed again, of a file of `file_bytes`, for deferred fixes.
pub fn count_parsed_again(bytes: usize, file_bytes: usize) {
    PARSED_AGAIN[0].fetch_add(bytes as u64, Ordering::Relaxed);
    PARSED_AGAIN[1].fetch_add(file_bytes as u64, Ordering::Relaxed);
}

/// Is timing on (`FTAUDIT_TIMINGS` set)?
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("FTAUDIT_TIMINGS").is_some_and(|v| v != "0"))
}

/// CPU time of the calling thread (or the whole process), in nanoseconds (0 where
/// not available).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn cpu_ns(process: bool) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let clock = if process {
        libc::CLOCK_PROCESS_CPUTIME_ID
    } else {
        libc::CLOCK_THREAD_CPUTIME_ID
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(not(target_os = "linux"))]
fn cpu_ns(_process: bool) -> u64 {
    0
}

/// Runs `f`, adding its CPU time on this thread to `phase` when timing is on. For
/// work done per file on the worker threads.
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    measure(phase, false, f)
}

/// Runs `f`, adding the whole process's CPU time meanwhile to `phase` when timing
/// is on. For the sequential stages between the parallel ones (which may fan out
/// to the thread pool themselves).
pub fn time_stage<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    measure(phase, true, f)
}

/// A stage measured from [`start_stage`] to [`Stage::end`] (process CPU time), for
/// code that does not fit in a closure.
pub struct Stage {
    phase: Phase,
    start: Option<u64>,
}

/// Starts measuring `phase` on the process's CPU clock (nothing when timing is off).
pub fn start_stage(phase: Phase) -> Stage {
    Stage {
        phase,
        start: enabled().then(|| cpu_ns(true)),
    }
}

impl Stage {
    pub fn end(self) {
        if let Some(start) = self.start {
            let spent = cpu_ns(true).saturating_sub(start);
            TOTALS[self.phase as usize].fetch_add(spent, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// Thread CPU time already added to some phase by [`time`] calls running on
    /// this thread: a call inside another one (freeing the syntax tree, timed as
    /// part of the parse, while the project facts are collected) is taken out of
    /// the outer call's phase, so that no time counts twice.
    static TIMED_HERE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn measure<T>(phase: Phase, process: bool, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = cpu_ns(process);
    let inner_before = TIMED_HERE.get();
    let out = f();
    let spent = cpu_ns(process).saturating_sub(start);
    if process {
        TOTALS[phase as usize].fetch_add(spent, Ordering::Relaxed);
    } else {
        let inner = TIMED_HERE.get().saturating_sub(inner_before);
        TOTALS[phase as usize].fetch_add(spent.saturating_sub(inner), Ordering::Relaxed);
        TIMED_HERE.set(inner_before + spent);
    }
    out
}

/// The totals so far, in seconds, by phase name; resets them.
pub fn take() -> Vec<(&'static str, f64)> {
    PHASES
        .iter()
        .map(|(p, name)| {
            let ns = TOTALS[*p as usize].swap(0, Ordering::Relaxed);
            (*name, ns as f64 / 1e9)
        })
        .collect()
}

/// Prints the totals on stderr (and resets them) when timing is on.
pub fn report() {
    if !enabled() {
        return;
    }
    let totals = take();
    let sum: f64 = totals.iter().map(|(_, s)| s).sum();
    eprintln!("ftaudit: CPU time by phase (all threads):");
    for (name, s) in totals {
        eprintln!("  {name:<32} {s:>8.3} s");
    }
    eprintln!("  {:<32} {sum:>8.3} s", "total");
    let [analysed, again] = [&PARSES[0], &PARSES[1]].map(|c| c.swap(0, Ordering::Relaxed));
    let [bytes, of] = [&PARSED_AGAIN[0], &PARSED_AGAIN[1]].map(|c| c.swap(0, Ordering::Relaxed));
    eprintln!("ftaudit: C/C++ files parsed: {analysed} (and {again} again for deferred fixes: {bytes} of their {of} bytes)");
}

/// CPU time (user + system) and peak resident memory of what a process used, as
/// `getrusage` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub cpu: std::time::Duration,
    /// Peak resident set size in bytes: of this process for [`own_usage`], of the
    /// largest waited-for child for [`children_usage`].
    pub max_rss: u64,
}

/// This process's usage so far (zero where not available).
pub fn own_usage() -> Usage {
    rusage(false)
}

/// The usage of every child process waited for so far (zero where not available):
/// for the benchmark, which runs the binary as a child.
pub fn children_usage() -> Usage {
    rusage(true)
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn rusage(children: bool) -> Usage {
    let who = if children {
        libc::RUSAGE_CHILDREN
    } else {
        libc::RUSAGE_SELF
    };
    // SAFETY: `getrusage` fills the zeroed struct it is given; `who` is a constant.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return Usage::default();
    }
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    // Linux reports kilobytes (macOS bytes; close enough for a benchmark there).
    Usage {
        cpu: tv(u.ru_utime) + tv(u.ru_stime),
        max_rss: (u.ru_maxrss as u64) * 1024,
    }
}

#[cfg(not(unix))]
fn rusage(_children: bool) -> Usage {
    Usage::default()
}
