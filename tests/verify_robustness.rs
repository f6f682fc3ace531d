//! `ftaudit verify` against interpreters that misbehave: a `--timeout` out of range, an
//! interpreter that never answers, floods its output, starts children of its own, is
//! interrupted, or gets paths that are not UTF-8.
//!
//! Most tests use a stand-in for `--python`: a shell script that answers the probe's
//! `info` question like a free-threaded CPython 3.13 and then misbehaves on `import`.
//! The probe's JSON encoding is checked with the provisioned 3.13t (skipped without it).
#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

/// What the stand-in prints for `info`.
const INFO: &str = r#"{"version": [3, 13, 0], "implementation": "cpython", "gil_disabled_build": 1, "gil_enabled_at_start": false, "xoption_gil": null, "extension_suffixes": [".cpython-313t-x86_64-linux-gnu.so", ".so"]}"#;

/// Writes a stand-in interpreter to `dir`: `on_info` runs for `info`, `on_import` for an
/// import, where `$7` is the module's file and `$8` the folder put on `sys.path`
/// (`python -B -c PROBE import EVENTS MODULE FILE SYS_PATH`).
fn fake_python(dir: &Path, on_info: &str, on_import: &str) -> PathBuf {
    let path = dir.join("python3.13t");
    let script =
        format!("#!/bin/sh\nif [ \"$4\" = info ]; then\n{on_info}\nexit 0\nfi\n{on_import}\n");
    std::fs::write(&path, script).expect("write fake python");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn answers_info() -> String {
    format!("echo '{INFO}'")
}

fn ftaudit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
    c.env("NO_COLOR", "1").env_remove("PYTHON_GIL");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run ftaudit")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Is process `pid` gone (or a zombie nobody reaped yet)?
fn is_gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Bytes in files under `dir`, recursively (missing files count as empty).
fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => bytes_under(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("ftaudit did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_timeout_out_of_range_is_an_error_not_a_panic() {
    for bad in ["1e300", "inf", "NaN", "0", "-5", "1e-300", "100000"] {
        let bad = format!("--timeout={bad}");
        let o = run(ftaudit().args([
            "verify",
            "--python",
            "/nonexistent/python3.13t",
            &bad,
            "--module",
            "json",
        ]));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains("--timeout must be a number of seconds from 0.001 to 86400"),
            "{bad}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_interpreter_that_never_answers_is_given_up_on_at_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = fake_python(dir.path(), "sleep 60", "exit 1");
    let start = Instant::now();
    let o = run(ftaudit()
        .args(["verify", "--timeout", "1", "--module", "spam", "--python"])
        .arg(&python));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("did not describe itself within 1 s"), "{err}");
    // 1 s, the stack-dump grace and the readers' grace; not the old fixed 60 s.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn an_import_that_floods_its_output_uses_bounded_disk_and_keeps_the_fatal_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    // 40 MB on stdout, then on stderr the line the verdict needs, buried under 40 MB more.
    let python = fake_python(
        dir.path(),
        &answers_info(),
        "head -c 40000000 /dev/zero | tr '\\0' x\n\
         head -c 1000000 /dev/zero | tr '\\0' y >&2\n\
         echo >&2\n\
         echo 'Fatal Python error: flood marker' >&2\n\
         head -c 40000000 /dev/zero | tr '\\0' z >&2\n\
         echo >&2\n\
         echo 'the last line' >&2\n\
         exit 3",
    );
    let mut child = ftaudit()
        .args(["verify", "--timeout", "120", "--module", "spam"])
        .args(["--output-format", "json", "--python"])
        .arg(&python)
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ftaudit");
    let mut most = 0;
    while child.try_wait().expect("wait").is_none() {
        most = most.max(bytes_under(tmp.path()));
        std::thread::sleep(Duration::from_millis(10));
    }
    let o = child.wait_with_output().expect("output");
    assert!(most < 1_000_000, "{most} bytes in the temporary folder");
    let v = json(&o);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "FT803", "{v}");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("exited with status 3")),
        "{d}"
    );
    assert_eq!(
        d["help"].as_str(),
        Some("the interpreter said: Fatal Python error: flood marker"),
        "{d}"
    );
}

#[test]
fn a_timed_out_import_is_killed_with_the_processes_it_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("grandchild.pid");
    let python = fake_python(
        dir.path(),
        &answers_info(),
        &format!("sleep 300 &\necho $! > '{}'\nsleep 300", pidfile.display()),
    );
    let o = run(ftaudit()
        .args(["verify", "--timeout", "1", "--module", "spam"])
        .args(["--output-format", "json", "--python"])
        .arg(&python));
    let v = json(&o);
    assert_eq!(v["diagnostics"][0]["code"], "FT804", "{v}");
    let pid = std::fs::read_to_string(&pidfile).expect("the stand-in started a child");
    let pid = pid.trim();
    assert!(
        wait_until(Duration::from_secs(5), || is_gone(pid)),
        "process {pid}, started by the import, outlived it"
    );
}

#[test]
fn sigterm_stops_the_imports_and_removes_the_temporary_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("grandchild.pid");
    let python = fake_python(
        dir.path(),
        &answers_info(),
        &format!("sleep 300 &\necho $! > '{}'\nwait", pidfile.display()),
    );
    let mut child = ftaudit()
        .args(["verify", "--timeout", "120", "--module", "spam", "--python"])
        .arg(&python)
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ftaudit");
    let started = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|p| p.ends_with('\n'))
    });
    assert!(started, "the import did not start");
    let folders = std::fs::read_dir(tmp.path()).expect("tmp").count();
    assert_eq!(folders, 1, "one temporary folder while importing");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child, not yet reaped.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let status = wait_with_deadline(&mut child, Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let left: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let grandchild = std::fs::read_to_string(&pidfile).expect("pid");
    let grandchild = grandchild.trim();
    assert!(
        wait_until(Duration::from_secs(5), || is_gone(grandchild)),
        "process {grandchild} outlived the interrupted run"
    );
}

#[test]
fn paths_that_are_not_utf8_reach_the_probe_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let modules = dir.path().join(OsStr::from_bytes(b"built-\xff"));
    if std::fs::create_dir(&modules).is_err() {
        eprintln!("SKIPPED: this file system refuses names that are not UTF-8");
        return;
    }
    let file = modules.join("spam.cpython-313t-x86_64-linux-gnu.so");
    std::fs::write(&file, b"not really a module").expect("write");
    let seen_file = dir.path().join("file.arg");
    let seen_path = dir.path().join("sys_path.arg");
    let python = fake_python(
        dir.path(),
        &answers_info(),
        &format!(
            "printf '%s' \"$7\" > '{}'\nprintf '%s' \"$8\" > '{}'\nexit 0",
            seen_file.display(),
            seen_path.display()
        ),
    );
    let o = run(ftaudit()
        .args(["verify", "--python"])
        .arg(&python)
        .arg(&modules));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let file = std::path::absolute(&file).expect("absolute");
    let modules = std::path::absolute(&modules).expect("absolute");
    assert_eq!(
        std::fs::read(&seen_file).expect("file argument"),
        file.as_os_str().as_bytes()
    );
    assert_eq!(
        std::fs::read(&seen_path).expect("sys.path argument"),
        modules.as_os_str().as_bytes()
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t; scripts/test.sh provides it"]
fn an_import_error_with_a_lone_surrogate_is_reported_as_raised() {
    let Some(python) = common::free_threaded() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // The message holds a lone surrogate, as one made from undecodable bytes does.
    std::fs::write(
        dir.path().join("undecodable.py"),
        "raise ImportError('cannot load \\udcff here')\n",
    )
    .expect("write");
    let o = run(ftaudit()
        .args([
            "verify",
            "--module",
            "undecodable",
            "--output-format",
            "json",
        ])
        .arg("--python")
        .arg(&python)
        .env("PYTHONPATH", dir.path()));
    let v = json(&o);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "FT802", "{v}");
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains("raised ImportError: cannot load \\udcff here"),
        "{message}"
    );
}
