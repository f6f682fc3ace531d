//! Running the probe in a subprocess of the interpreter under test, with a time limit,
//! and describing how it ended.
//!
//! The interpreter leads its own process group: at the time limit (and after it exits)
//! the whole group is killed, so processes a module started do not outlive its import.
//! Its stdout and stderr are read through pipes with a cap ([`super::capture`]).

// Process groups, signals and waitid have no safe wrappers in std; every `unsafe`
// block here carries a SAFETY note (the crate denies unsafe code elsewhere).
#![allow(unsafe_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::capture::Capture;
use super::interrupt::GroupLeader;

/// The probe script run inside the interpreter under test.
pub const PROBE: &str = include_str!("probe.py");

/// How long a timed-out import gets to print its stacks before it is killed.
const STACK_DUMP_GRACE: Duration = Duration::from_secs(2);

/// How long, after the kill, the output readers get to reach the end of the pipes.
const READER_GRACE: Duration = Duration::from_secs(1);

pub(super) struct ProbeRun {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    /// What the interpreter printed, capped (see [`super::capture`]).
    pub stdout: String,
    pub stderr: String,
}

/// Runs the probe with `args`, killed (with everything it started) after `timeout`.
/// It runs in the current folder (so relative `PYTHONPATH` entries work), but the probe
/// takes that folder off `sys.path` unless asked (`--module`). Arguments are passed as
/// they are, so paths that are not UTF-8 reach the probe intact.
pub(super) fn run_probe(
    python: &Path,
    args: &[&OsStr],
    timeout: Duration,
) -> std::io::Result<ProbeRun> {
    let mut cmd = Command::new(python);
    cmd.arg("-B")
        .arg("-c")
        .arg(PROBE)
        .args(args)
        .env_remove("PYTHON_GIL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut leader = GroupLeader::spawn(&mut cmd)?;
    let child = &mut leader.child;
    let stdout = child.stdout.take().map(Capture::start);
    let stderr = child.stderr.take().map(Capture::start);
    let waited = wait_or_time_out(child, timeout);
    // The leader is not reaped yet, so its id still names the group. Killed also when
    // waiting failed: nothing may outlive the import.
    kill_group(child);
    let status = child.wait().ok();
    let timed_out = waited?;
    let text = |c: Option<Capture>| c.map(|c| c.finish(READER_GRACE)).unwrap_or_default();
    Ok(ProbeRun {
        status,
        timed_out,
        stdout: text(stdout),
        stderr: text(stderr),
    })
}

/// Waits for the child to exit; `true` when it had to be stopped at `timeout` (after
/// SIGABRT and a grace period for faulthandler's stacks). The child is left unreaped.
fn wait_or_time_out(child: &mut std::process::Child, timeout: Duration) -> std::io::Result<bool> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    while !has_exited(child)? {
        if start.elapsed() >= timeout {
            // Ask faulthandler (enabled by the probe) for every thread's Python stack, give it
            // a moment to write it; the caller kills.
            request_stack_dump(child);
            let grace = Instant::now();
            while grace.elapsed() < STACK_DUMP_GRACE && !has_exited(child)? {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Ok(true);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    Ok(false)
}

/// Has the child exited? On Linux this leaves it unreaped (`WNOWAIT`), so that its
/// process group can still be killed safely afterwards.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn has_exited(child: &mut std::process::Child) -> std::io::Result<bool> {
    let pid: libc::id_t = child.id();
    // SAFETY: waitid(2) on our own child with a zeroed, local siginfo_t.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        if libc::waitid(libc::P_PID, pid, &mut info, flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(info.si_pid() != 0)
    }
}

/// Has the child exited? (Reaps it; the group is then killed by its id right away.)
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn has_exited(child: &mut std::process::Child) -> std::io::Result<bool> {
    Ok(child.try_wait()?.is_some())
}

/// Sends SIGABRT, which faulthandler answers with every thread's Python stack on stderr.
/// Only the interpreter gets it: its own children are killed with the group.
#[cfg(unix)]
fn request_stack_dump(child: &std::process::Child) {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill(2) on our own child's pid (not yet reaped, so not reused); no memory is shared.
    unsafe {
        libc::kill(pid, libc::SIGABRT);
    }
}

#[cfg(not(unix))]
fn request_stack_dump(_child: &std::process::Child) {}

/// Kills the interpreter and every process in its group.
#[cfg(unix)]
fn kill_group(child: &mut std::process::Child) {
    super::interrupt::signal_group(child.id(), libc::SIGKILL);
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_group(child: &mut std::process::Child) {
    let _ = child.kill();
}

/// The events file is read whole up to this size; past it, only its two ends (the probe
/// caps what it writes, so only a module importing modules by the million gets there).
const EVENTS_CAP: u64 = 64 << 20;

/// The text of the probe's events file (its two ends past [`EVENTS_CAP`]), replacing what
/// is not UTF-8. A line cut at the seam does not parse and is dropped by the reader.
pub(super) fn read_events(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    if len <= EVENTS_CAP {
        let _ = f.read_to_end(&mut bytes);
    } else {
        let half = EVENTS_CAP / 2;
        let _ = f.by_ref().take(half).read_to_end(&mut bytes);
        bytes.push(b'\n');
        if f.seek(SeekFrom::End(-(half as i64))).is_ok() {
            let _ = f.take(half).read_to_end(&mut bytes);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A path the probe reported under `key`: from the exact bytes in `{key}_hex` when
/// present (unix paths need not be UTF-8), else from the text.
pub(super) fn path_field(v: &serde_json::Value, key: &str) -> Option<PathBuf> {
    #[cfg(unix)]
    if let Some(bytes) = v[format!("{key}_hex")].as_str().and_then(from_hex) {
        use std::os::unix::ffi::OsStringExt;
        return Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)));
    }
    v[key].as_str().map(PathBuf::from)
}

#[cfg(unix)]
fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

pub(super) fn describe_exit(status: Option<ExitStatus>, timed_out: bool) -> String {
    if timed_out {
        return "did not answer in time".into();
    }
    let Some(status) = status else {
        return "stopped for an unknown reason".into();
    };
    if let Some(sig) = signal_of(status) {
        return format!("was killed by {}", signal_name(sig));
    }
    format!("exited with status {}", status.code().unwrap_or(-1))
}

#[cfg(unix)]
fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: ExitStatus) -> Option<i32> {
    None
}

/// `SIGABRT (signal 6)`.
fn signal_name(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 if cfg!(target_os = "linux") => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 if cfg!(target_os = "macos") => "SIGBUS",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {sig}"),
    };
    format!("{name} (signal {sig})")
}

/// `p` made absolute (against the current folder), or as it is when that fails.
pub(super) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
