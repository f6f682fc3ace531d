//! Leaving nothing behind when `verify` is interrupted.
//!
//! Each import runs in its own process group (so that a module's own children are
//! killed with it) and writes its events to a temporary folder. Both are registered
//! here while they exist. On unix, [`clean_up_on_signals`] blocks SIGINT, SIGTERM and
//! SIGHUP in every thread and lets one thread wait for them: it kills the registered
//! process groups, removes the registered folders, and then dies of the same signal, so
//! the caller sees the usual status. (A handler cannot do this work: removing folders
//! is not async-signal-safe.) Once that has begun, no new folder or process is created.
//! Elsewhere nothing is installed and folders are removed only on a normal exit.

// Process groups, signals and waitid have no safe wrappers in std; every `unsafe`
// block here carries a SAFETY note (the crate denies unsafe code elsewhere).
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, PoisonError};

/// What exists now and must not outlive an interrupted run.
struct Live {
    dirs: Vec<PathBuf>,
    groups: Vec<u32>,
    /// A signal arrived: the run is ending.
    stopping: bool,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    dirs: Vec::new(),
    groups: Vec::new(),
    stopping: false,
});

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stopping() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "verify was interrupted")
}

/// A temporary folder that is removed when dropped, or by the signal thread.
pub(super) struct ScratchDir {
    dir: tempfile::TempDir,
}

impl ScratchDir {
    pub(super) fn new() -> std::io::Result<ScratchDir> {
        let mut live = live();
        if live.stopping {
            return Err(stopping());
        }
        let dir = tempfile::Builder::new()
            .prefix("ftaudit-verify-")
            .tempdir()?;
        live.dirs.push(dir.path().to_path_buf());
        Ok(ScratchDir { dir })
    }

    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        live().dirs.retain(|d| d != self.dir.path());
    }
}

/// A child leading its own process group, registered until dropped.
pub(super) struct GroupLeader {
    pub(super) child: Child,
}

impl GroupLeader {
    /// Spawns `cmd` in a new process group (unix) and registers it. The registry is
    /// locked across the spawn, so a signal cannot fall between the two.
    pub(super) fn spawn(cmd: &mut Command) -> std::io::Result<GroupLeader> {
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut live = live();
        if live.stopping {
            return Err(stopping());
        }
        let child = cmd.spawn()?;
        live.groups.push(child.id());
        Ok(GroupLeader { child })
    }
}

impl Drop for GroupLeader {
    fn drop(&mut self) {
        let id = self.child.id();
        live().groups.retain(|g| *g != id);
    }
}

/// Sends `signal` to every process of the group led by `leader` (unix).
#[cfg(unix)]
pub(super) fn signal_group(leader: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(leader) else {
        return;
    };
    // SAFETY: killpg(2) on a group we created; its leader is our unreaped child (or the
    // group still has members), so the id cannot have been reused. No memory is shared.
    unsafe {
        libc::killpg(pgid, signal);
    }
}

/// Installs the signal thread (once). Call before any other thread is started, so that
/// every thread inherits the blocked signals; child processes get a clean mask from std.
#[cfg(unix)]
pub fn clean_up_on_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sigset operations on a local set; pthread_sigmask on the calling thread.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, sig);
            }
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return;
            }
            set
        };
        let spawned = std::thread::Builder::new()
            .name("ftaudit-signals".into())
            .spawn(move || wait_for_signal(set));
        if spawned.is_err() {
            // No thread to take them: let the signals act as before.
            // SAFETY: as above.
            unsafe {
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            }
        }
    });
}

#[cfg(not(unix))]
pub fn clean_up_on_signals() {}

#[cfg(unix)]
fn wait_for_signal(set: libc::sigset_t) {
    let mut sig: libc::c_int = 0;
    // SAFETY: sigwait on a set we built; `sig` is a local out-parameter.
    while unsafe { libc::sigwait(&set, &mut sig) } != 0 {}
    let mut live = live();
    live.stopping = true;
    for leader in &live.groups {
        signal_group(*leader, libc::SIGKILL);
    }
    for dir in &live.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    // Die of the same signal: restore its default action and deliver it to this thread.
    // The registry stays locked, so the imports that just lost their interpreter cannot
    // go on to report them as crashed.
    // SAFETY: signal(2), pthread_sigmask and raise on this thread; nothing is shared.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut only: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut only);
        libc::sigaddset(&mut only, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}
