//! Running the probe in a subprocess of the interpreter under test, with a time limit,
//! and describing how it ended.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The probe script run inside the interpreter under test.
pub const PROBE: &str = include_str!("probe.py");

pub(super) struct ProbeRun {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// Runs the probe with `args`, its output going to files in `dir`, killed after `timeout`.
/// It runs in the current folder (so relative `PYTHONPATH` entries work), but the probe
/// takes that folder off `sys.path` unless asked (`--module`).
pub(super) fn run_probe(
    python: &Path,
    args: &[&str],
    dir: &Path,
    timeout: Duration,
) -> std::io::Result<ProbeRun> {
    let stdout = dir.join("stdout");
    let stderr = dir.join("stderr");
    let mut child = Command::new(python)
        .arg("-B")
        .arg("-c")
        .arg(PROBE)
        .args(args)
        .env_remove("PYTHON_GIL")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout)?)
        .stderr(fs::File::create(&stderr)?)
        .spawn()?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(ProbeRun {
                status: Some(status),
                timed_out: false,
                stdout,
                stderr,
            });
        }
        if start.elapsed() >= timeout {
            // Ask faulthandler (enabled by the probe) for every thread's Python stack, give it
            // a moment to write it, then kill.
            request_stack_dump(&child);
            let grace = Instant::now();
            while grace.elapsed() < STACK_DUMP_GRACE && child.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let status = child.wait().ok();
            return Ok(ProbeRun {
                status,
                timed_out: true,
                stdout,
                stderr,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// How long a timed-out import gets to print its stacks before it is killed.
const STACK_DUMP_GRACE: Duration = Duration::from_secs(2);

/// Sends SIGABRT, which faulthandler answers with every thread's Python stack on stderr.
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

pub(super) fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
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
