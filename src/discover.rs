//! Finding the files to analyse: the `ignore` crate's walker (so `.gitignore` is
//! respected), C/C++ files by extension, build/CI/generator files by name (see
//! [`BuildKind`]), configured and default excludes. Hidden folders are walked (so
//! `.github/workflows` is reached); the default excludes (`.git`, `.venv`, ...) still apply.

use std::path::{Path, PathBuf};

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

/// Walks `roots`; files given explicitly are taken when their kind is known, unless
/// `--force-exclude` applies the excludes to them too. `in_memory` names files whose
/// text comes from elsewhere (`--stdin-filename`): they need not exist on disk.
pub fn discover(
    roots: &[(PathBuf, &Settings)],
    in_memory: impl Fn(&Path) -> bool,
) -> (Vec<Discovered>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (ri, (root, settings)) in roots.iter().enumerate() {
        if settings.force_exclude && settings.excludes_named_path(root) {
            continue;
        }
        let virtual_file = in_memory(root);
        if !virtual_file && !root.exists() && root.symlink_metadata().is_err() {
            errors.push(WalkError {
                path: root.clone(),
                message: "no such file or directory".into(),
            });
            continue;
        }
        if virtual_file || root.is_file() {
            match FileKind::of(root) {
                Some(kind) => files.push(Discovered {
                    path: root.clone(),
                    kind,
                    root: ri,
                }),
                None => errors.push(WalkError {
                    path: root.clone(),
                    message: "not a C or C++ source or a build file ftaudit reads".into(),
                }),
            }
            continue;
        }
        let root_for_filter = root.clone();
        let exclude_settings = (*settings).clone();
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .hidden(false)
            .git_global(false)
            .require_git(false)
            .filter_entry(move |e| {
                e.depth() == 0 || !exclude_settings.is_excluded(e.path(), &root_for_filter)
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
