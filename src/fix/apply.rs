//! Applying fixes: non-overlapping edits per pass, re-check the edited text, repeat
//! until nothing changes; then write each changed file atomically (or print a diff).

// Linking an O_TMPFILE file into place and removing a temp file from a signal
// handler have no safe wrappers in std; each `unsafe` block carries a SAFETY note.
#![allow(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::{self, CheckResult};
use crate::config::Settings;
use crate::diagnostic::{Applicability, Edit, Fix};

/// Passes before giving up on reaching a fixed point.
const MAX_PASSES: usize = 8;

/// What a fix run did.
#[derive(Debug, Default)]
pub struct FixOutcome {
    /// The check of the final (fixed) text.
    pub result: CheckResult,
    /// Fixes applied, over all passes.
    pub applied: usize,
    /// Original and new text of every changed file.
    pub changed: BTreeMap<PathBuf, (Arc<String>, String)>,
}

/// Which fixes to take.
pub fn allowed(fix: &Fix, unsafe_fixes: bool) -> bool {
    fix.applicability == Applicability::Safe || unsafe_fixes
}

/// Runs the check and its fixes to a fixed point, in memory.
pub fn fix_in_memory(roots: &[(PathBuf, Arc<Settings>)], unsafe_fixes: bool) -> FixOutcome {
    let mut overlay: HashMap<PathBuf, String> = HashMap::new();
    let mut originals: BTreeMap<PathBuf, Arc<String>> = BTreeMap::new();
    let mut applied = 0;
    let mut result = check::run(roots, &overlay);
    for _ in 0..MAX_PASSES {
        let mut by_file: BTreeMap<PathBuf, Vec<&Fix>> = BTreeMap::new();
        for d in &result.diagnostics {
            if let Some(f) = &d.fix {
                if allowed(f, unsafe_fixes)
                    && !result.lossy.contains(&d.path)
                    && result.sources.contains_key(&d.path)
                {
                    by_file.entry(d.path.clone()).or_default().push(f);
                }
            }
        }
        if by_file.is_empty() {
            break;
        }
        let mut progress = false;
        for (path, fixes) in by_file {
            let Some(current) = result.sources.get(&path) else {
                continue;
            };
            originals
                .entry(path.clone())
                .or_insert_with(|| current.clone());
            let (text, n) = apply_fixes(current, &fixes);
            if n > 0 && text != **current {
                applied += n;
                progress = true;
                overlay.insert(path, text);
            }
        }
        if !progress {
            break;
        }
        result = check::run(roots, &overlay);
    }
    let changed = overlay
        .into_iter()
        .filter_map(|(p, new)| {
            originals
                .get(&p)
                .filter(|o| ***o != new)
                .map(|o| (p, (o.clone(), new)))
        })
        .collect();
    FixOutcome {
        result,
        applied,
        changed,
    }
}

/// Applies the fixes whose edits do not overlap an earlier accepted fix. Returns the
/// new text and how many fixes were applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, usize) {
    let mut sorted: Vec<&Fix> = fixes.to_vec();
    sorted.sort_by_key(|f| f.edits.iter().map(|e| e.span.start).min().unwrap_or(0));
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut count = 0;
    for fix in sorted {
        let overlaps = fix.edits.iter().any(|e| {
            accepted.iter().any(|a| {
                let (s1, e1, s2, e2) = (e.span.start, e.span.end, a.span.start, a.span.end);
                s1 < e2 && s2 < e1
                    || s1 == s2
                    || (s1 == e1 && s2 < s1 && s1 < e2)
                    || (s2 == e2 && s1 < s2 && s2 < e1)
            })
        });
        let in_bounds = fix
            .edits
            .iter()
            .all(|e| e.span.start <= e.span.end && e.span.end <= text.len());
        if overlaps || !in_bounds || fix.edits.is_empty() {
            continue;
        }
        accepted.extend(fix.edits.iter());
        count += 1;
    }
    accepted.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
    let mut out = text.to_owned();
    for e in accepted {
        if out.is_char_boundary(e.span.start) && out.is_char_boundary(e.span.end) {
            out.replace_range(e.span.start..e.span.end, &e.content);
        }
    }
    (out, count)
}

/// Writes `new` over `path` atomically — a temporary file in the same folder,
/// then a rename — and only if the file still holds `expected` (it was not
/// changed by someone else since it was read).
///
/// What the rename would silently change is refused or kept instead:
/// - a link is followed and its target rewritten (the link stays a link);
/// - a read-only file is not written (the rename needs only the folder's
///   permission, so it would have replaced the file anyway);
/// - a file with several hard links is not written (a rename splits them);
/// - permissions, owner and group are kept (as root, the new file would be
///   root's); if the owner cannot be kept, the file is not written;
/// - the temporary file never outlives the run: on Linux it has no name until it
///   is complete (`O_TMPFILE`), elsewhere it is removed on SIGINT/SIGTERM/SIGHUP.
pub fn write_atomically(path: &Path, expected: &str, new: &str) -> Result<(), String> {
    let target = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve: {e}"))?;
    let current =
        std::fs::read(&target).map_err(|e| format!("cannot re-read before writing: {e}"))?;
    if current != expected.as_bytes() {
        return Err("changed on disk since it was read; not written".into());
    }
    let meta = std::fs::metadata(&target).map_err(|e| e.to_string())?;
    if meta.permissions().readonly() {
        return Err("read-only: not written (make it writable to apply the fix)".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(format!(
                "has {} hard links, which replacing it would split: not written (apply `--diff` with patch)",
                meta.nlink()
            ));
        }
    }
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    #[cfg(target_os = "linux")]
    {
        if let Some(r) = unix_write::write_unnamed(&target, dir, &meta, new.as_bytes()) {
            return r;
        }
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".ftaudit-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file next to it: {e}"))?;
    let _guard = signal_cleanup::Guard::new(tmp.path());
    tmp.write_all(new.as_bytes()).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    unix_write::keep_owner(tmp.as_file(), &meta)?;
    tmp.persist(&target)
        .map_err(|e| format!("cannot replace the file: {}", e.error))?;
    Ok(())
}

#[cfg(unix)]
mod unix_write {
    use std::fs::{File, Metadata};
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Gives `file` the owner and group of the original. Only root can give a
    /// file away; anyone else whose new file would change hands is refused.
    pub fn keep_owner(file: &File, meta: &Metadata) -> Result<(), String> {
        let own = file.metadata().map_err(|e| e.to_string())?;
        if own.uid() == meta.uid() && own.gid() == meta.gid() {
            return Ok(());
        }
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
            format!("owned by user {} group {}, which the rewritten file could not keep ({e}): not written", meta.uid(), meta.gid())
        })
    }

    /// Writes through an unnamed temporary file (`O_TMPFILE`), linked under a
    /// temporary name only once complete and renamed over `target` at once: a
    /// kill at any point before leaves nothing behind. `None` when the
    /// filesystem does not support it (the caller falls back to a named file).
    #[cfg(target_os = "linux")]
    pub fn write_unnamed(
        target: &Path,
        dir: &Path,
        meta: &Metadata,
        data: &[u8],
    ) -> Option<Result<(), String>> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .mode(meta.mode() & 0o7777)
            .open(dir)
            .ok()?;
        let result = (|| {
            file.write_all(data).map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())?;
            file.set_permissions(meta.permissions())
                .map_err(|e| e.to_string())?;
            keep_owner(&file, meta)?;
            let proc_path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
                .map_err(|e| e.to_string())?;
            for attempt in 0..100u32 {
                let name = dir.join(format!(".ftaudit-{}-{attempt}", std::process::id()));
                let c_name = std::ffi::CString::new(name.as_os_str().as_bytes())
                    .map_err(|e| e.to_string())?;
                // SAFETY: both arguments are valid NUL-terminated paths.
                let linked = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        proc_path.as_ptr(),
                        libc::AT_FDCWD,
                        c_name.as_ptr(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                if linked != 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        continue;
                    }
                    return Err(format!("cannot create a temporary file next to it: {e}"));
                }
                let _guard = super::signal_cleanup::Guard::new(&name);
                return std::fs::rename(&name, target).map_err(|e| {
                    let _ = std::fs::remove_file(&name);
                    format!("cannot replace the file: {e}")
                });
            }
            Err("cannot create a temporary file next to it".into())
        })();
        Some(result)
    }
}

/// Removes the named temporary file of a write in progress when the run is
/// interrupted (SIGINT, SIGTERM, SIGHUP), then dies of the same signal.
mod signal_cleanup {
    use std::path::Path;

    #[cfg(unix)]
    mod imp {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        use std::path::Path;
        use std::sync::atomic::{AtomicPtr, Ordering};
        use std::sync::Once;

        static CURRENT: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());
        static INSTALL: Once = Once::new();

        extern "C" fn on_signal(sig: libc::c_int) {
            let p = CURRENT.swap(std::ptr::null_mut(), Ordering::SeqCst);
            // SAFETY: unlink, signal and raise are async-signal-safe; `p` is a
            // leaked CString or null.
            unsafe {
                if !p.is_null() {
                    libc::unlink(p);
                }
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }

        pub fn set(path: &Path) {
            INSTALL.call_once(|| {
                for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    // SAFETY: installing a handler that only calls async-signal-safe functions.
                    unsafe {
                        libc::signal(sig, on_signal as *const () as libc::sighandler_t);
                    }
                }
            });
            if let Ok(c) = CString::new(path.as_os_str().as_bytes()) {
                let old = CURRENT.swap(c.into_raw(), Ordering::SeqCst);
                free(old);
            }
        }

        pub fn clear() {
            free(CURRENT.swap(std::ptr::null_mut(), Ordering::SeqCst));
        }

        fn free(p: *mut libc::c_char) {
            if !p.is_null() {
                // SAFETY: every non-null pointer stored was made by CString::into_raw.
                drop(unsafe { CString::from_raw(p) });
            }
        }
    }

    /// While alive, an interrupting signal removes `path`.
    pub struct Guard;

    impl Guard {
        pub fn new(path: &Path) -> Guard {
            #[cfg(unix)]
            imp::set(path);
            #[cfg(not(unix))]
            let _ = path;
            Guard
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            #[cfg(unix)]
            imp::clear();
        }
    }
}

/// A unified diff of one file's change.
pub fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    let name = name.strip_prefix("./").unwrap_or(&name);
    let (a, b) = if path.is_absolute() {
        (name.to_owned(), name.to_owned())
    } else {
        (format!("a/{name}"), format!("b/{name}"))
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}
