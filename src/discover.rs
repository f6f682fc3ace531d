//! Finding the files to analyse: the `ignore` crate's walker (so `.gitignore` is
//! respected), C/C++ files by extension, build/CI/generator files by name (see
//! [`BuildKind`]), configured and default excludes. Hidden folders are walked (so
//! `.github/workflows` is reached); the default excludes (`.git`, `.venv`, ...) still apply.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::build::BuildKind;
use crate::config::Settings;
use crate::source::Language;

/// What kind of input a discovered file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Source(Language),
    /// A build configuration, CI or binding-generator file.
    Build(BuildKind),
}

impl FileKind {
    pub fn of(path: &Path) -> Option<FileKind> {
        Language::from_path(path)
            .map(FileKind::Source)
            .or_else(|| BuildKind::from_path(path).map(FileKind::Build))
    }
}

/// A file to analyse and the index of the root (command-line path) it came from.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub path: PathBuf,
    pub kind: FileKind,
    pub root: usize,
}

/// A problem met while walking (a missing path, a symlink loop, a permission error).
#[derive(Debug, Clone)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

/// The identity of a file or folder: device and inode where the platform has
/// them, the canonical path elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn file_id(path: &Path, meta: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        FileId::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// Is `path` on a kernel pseudo-filesystem (`/proc`, `/sys`, `/dev`, cgroups,
/// debugfs...)? Their trees are endless or self-referencing and their files are
/// not sources: a link into one made a walk run forever.
pub fn on_pseudo_filesystem(path: &Path) -> bool {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|p| canonical.starts_with(p))
    {
        return true;
    }
    pseudo_fs_type(&canonical)
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // statfs(2) has no safe wrapper in std
fn pseudo_fs_type(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    // statfs(2) magic numbers of the kernel's virtual filesystems.
    const PSEUDO: [i64; 12] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x1cd1,      // devpts
        0x27e0eb,    // cgroup
        0x6367_7270, // cgroup2
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0xcafe_4a11, // bpf
        0x6165_676c, // pstore
        0x6265_6570, // configfs
        0x6573_5543, // fusectl
    ];
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statfs is a plain C struct; all-zero bytes are a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64;
    PSEUDO.contains(&magic)
}

#[cfg(not(target_os = "linux"))]
fn pseudo_fs_type(_: &Path) -> bool {
    false
}

/// A file named on the command line: taken when its kind is known, else an error.
fn named_file(root: &Path, ri: usize) -> Result<Discovered, WalkError> {
    match FileKind::of(root) {
        Some(kind) => Ok(Discovered {
            path: root.to_path_buf(),
            kind,
            root: ri,
        }),
        None => Err(WalkError {
            path: root.to_path_buf(),
            message: "not a C or C++ source or a build file ftaudit reads".into(),
        }),
    }
}

/// Walks `roots`; files given explicitly are taken when their kind is known, unless
/// `--force-exclude` applies the excludes to them too. `in_memory` names files whose
/// text comes from elsewhere (`--stdin-filename`): they need not exist on disk.
///
/// Every file is taken once, whatever the paths that reach it: the same folder
/// named twice (`d` and `/abs/d`), links to one file or folder, and hard links
/// are recognised by device and inode. Folders reached again through another
/// link are not walked again (a DAG of links was walked exponentially), special
/// files (FIFOs, devices, sockets) are skipped, and pseudo-filesystems are not
/// entered.
pub fn discover(
    roots: &[(PathBuf, &Settings)],
    in_memory: impl Fn(&Path) -> bool,
) -> (Vec<Discovered>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let visited_dirs: Arc<Mutex<HashSet<FileId>>> = Arc::default();
    for (ri, (root, settings)) in roots.iter().enumerate() {
        if settings.force_exclude && settings.excludes_named_path(root) {
            continue;
        }
        if in_memory(root) {
            match named_file(root, ri) {
                Ok(d) => files.push(d),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(_) if root.symlink_metadata().is_ok() => {
                errors.push(WalkError {
                    path: root.clone(),
                    message: "a symbolic link to nothing".into(),
                });
                continue;
            }
            Err(_) => {
                errors.push(WalkError {
                    path: root.clone(),
                    message: "no such file or directory".into(),
                });
                continue;
            }
        };
        if !meta.is_file() && !meta.is_dir() {
            errors.push(WalkError {
                path: root.clone(),
                message: "not a regular file or folder (a FIFO, device or socket): skipped".into(),
            });
            continue;
        }
        if on_pseudo_filesystem(root) {
            errors.push(WalkError {
                path: root.clone(),
                message: "on a kernel pseudo-filesystem (/proc, /sys, /dev): skipped".into(),
            });
            continue;
        }
        if meta.is_file() {
            match named_file(root, ri) {
                Ok(d) => files.push(d),
                Err(e) => errors.push(e),
            }
            continue;
        }
        let root_for_filter = root.clone();
        let exclude_settings = (*settings).clone();
        let visited = visited_dirs.clone();
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .hidden(false)
            .git_global(false)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |e| {
                if e.depth() > 0 && exclude_settings.is_excluded(e.path(), &root_for_filter) {
                    return false;
                }
                if !e.file_type().is_some_and(|t| t.is_dir()) {
                    return true;
                }
                // A folder is walked once, however many links lead to it.
                let Ok(meta) = std::fs::metadata(e.path()) else {
                    return true;
                };
                let first = visited
                    .lock()
                    .map(|mut v| v.insert(file_id(e.path(), &meta)))
                    .unwrap_or(true);
                first && !(e.path_is_symlink() && on_pseudo_filesystem(e.path()))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file())
                        || (e.path_is_symlink() && e.path().is_file());
                    if !is_file {
                        continue;
                    }
                    if let Some(kind) = FileKind::of(e.path()) {
                        if kind == FileKind::Build(BuildKind::Workflow)
                            && !python_project_workflow(e.path(), root)
                        {
                            continue;
                        }
                        files.push(Discovered {
                            path: e.path().to_path_buf(),
                            kind,
                            root: ri,
                        });
                    }
                }
                Err(err) => {
                    let path = error_path(&err).unwrap_or_else(|| root.clone());
                    errors.push(WalkError {
                        path,
                        message: error_message(&err),
                    });
                }
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    // One path per file: the first in sorted order that is not a link, else the first.
    files.sort_by_key(|d| {
        (
            d.path.symlink_metadata().is_ok_and(|m| m.is_symlink()),
            d.path.clone(),
        )
    });
    let mut seen = HashSet::new();
    files.retain(|d| match std::fs::metadata(&d.path) {
        Ok(m) => seen.insert(file_id(&d.path, &m)),
        Err(_) => true,
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    (files, errors)
}

/// A workflow counts when its `.github` folder sits at the checked root or next to
/// Python packaging files, so that the CI of vendored crates and libraries is ignored.
fn python_project_workflow(path: &Path, root: &Path) -> bool {
    let Some(project) = path.parent().and_then(Path::parent).and_then(Path::parent) else {
        return false;
    };
    if project == root {
        return true;
    }
    ["pyproject.toml", "setup.py", "setup.cfg"]
        .iter()
        .any(|f| project.join(f).is_file())
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => error_message(err),
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop (points back to {})", ancestor.display())
        }
        ignore::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}
