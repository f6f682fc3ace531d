//! Which modules to import: files and folders of built modules (classified by the
//! interpreter's extension suffixes) and the extension modules of installed
//! distributions.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::interpreter::Interpreter;
use super::process::{last_lines, path_field, run_probe};
use crate::check::FileProblem;

/// One import to perform.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where findings point: the module's file, or its dotted name for `--module`.
    pub path: PathBuf,
    /// The dotted module name.
    pub module: String,
    /// Load from this file (folder and file targets); `None` imports by name.
    pub file: Option<PathBuf>,
    /// Put first on `sys.path` (the folder above the module's package; the current folder
    /// for `--module`).
    pub sys_path: Option<PathBuf>,
    /// Found only through the bare `.so` suffix: a shared library that is not a module
    /// is skipped instead of reported.
    pub bare_suffix: bool,
}

/// A file named like an extension module for another ABI.
#[derive(Debug, Clone)]
pub struct NotLoadable {
    pub path: PathBuf,
    pub module: String,
    pub reason: String,
}

/// What a file's name says about it.
enum FileKind {
    Module { stem: String, bare_suffix: bool },
    OtherAbi { stem: String, reason: String },
    NotAModule,
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Classifies a file by its name against the interpreter's extension suffixes.
fn classify(name: &str, interp: &Interpreter) -> FileKind {
    let Some(dot) = name.find('.') else {
        return FileKind::NotAModule;
    };
    let (stem, suffix) = name.split_at(dot);
    if !is_identifier(stem) || !(suffix.ends_with(".so") || suffix.ends_with(".pyd")) {
        return FileKind::NotAModule;
    }
    let stem = stem.to_owned();
    let (major, minor, _) = interp.version;
    // 3.13t and 3.14t still list `.abi3.so`, but the stable ABI does not exist in
    // free-threaded builds before abi3t: such a module has the wrong object layout.
    if suffix.starts_with(".abi3.") && minor <= 14 {
        return FileKind::OtherAbi {
            stem,
            reason: format!(
                "is a stable-ABI (abi3) build, which free-threaded {major}.{minor}t cannot use even though it lists the suffix; \
                 build a `{}` module instead",
                interp.native_suffix()
            ),
        };
    }
    if interp.extension_suffixes.iter().any(|s| s == suffix) {
        return FileKind::Module {
            stem,
            bare_suffix: suffix == ".so" || suffix == ".pyd",
        };
    }
    let Some(what) = foreign_abi(suffix) else {
        return FileKind::NotAModule;
    };
    FileKind::OtherAbi {
        stem,
        reason: format!(
            "is built for {what}; this interpreter loads `{}`",
            interp.native_suffix()
        ),
    }
}

/// Describes a suffix of another interpreter (`.cpython-313-x86_64-linux-gnu.so`), or
/// `None` when the name does not look like an extension module's.
fn foreign_abi(suffix: &str) -> Option<String> {
    let middle = suffix.strip_prefix('.')?.rsplit_once('.')?.0;
    if middle == "abi3t" {
        return Some(
            "the free-threaded stable ABI (abi3t), which needs CPython 3.15t or later".into(),
        );
    }
    if middle == "abi3" {
        return Some("the stable ABI (abi3)".into());
    }
    if middle.starts_with("pypy") {
        return Some(format!("PyPy (`{middle}`)"));
    }
    let tag = middle
        .strip_prefix("cpython-")
        .or_else(|| middle.strip_prefix("cp"))?;
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 2 {
        return None;
    }
    let flags: String = tag[digits.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let version = format!("{}.{}", &digits[..1], &digits[1..]);
    let build = if flags.contains('t') {
        "free-threaded"
    } else {
        "with the GIL"
    };
    Some(format!("CPython {version} {build} (`{middle}`)"))
}

/// The dotted name of a module file and the folder that must be on `sys.path`:
/// parent folders with an `__init__.py` are packages.
fn dotted_name(file: &Path, stem: &str) -> (String, PathBuf) {
    let mut parts = vec![stem.to_owned()];
    let mut dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    while dir.join("__init__.py").is_file() {
        let Some(name) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| is_identifier(n))
        else {
            break;
        };
        parts.push(name.to_owned());
        let Some(up) = dir.parent() else { break };
        dir = up.to_path_buf();
    }
    parts.reverse();
    (parts.join("."), dir)
}

/// Every file under `root` (not following links to folders; skipping hidden folders and caches).
fn walk(root: &Path, out: &mut Vec<PathBuf>, problems: &mut Vec<FileProblem>) {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            problems.push(FileProblem {
                path: root.to_path_buf(),
                message: format!("cannot read folder: {e}"),
                error: true,
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(meta) = fs::symlink_metadata(&child) else {
            continue;
        };
        if meta.is_dir() {
            if !name.starts_with('.') && name != "__pycache__" {
                walk(&child, out, problems);
            }
        } else {
            out.push(child);
        }
    }
}

/// Targets from files and folders of built modules.
pub fn discover_paths(
    paths: &[PathBuf],
    interp: &Interpreter,
    targets: &mut Vec<Target>,
    foreign: &mut Vec<NotLoadable>,
    problems: &mut Vec<FileProblem>,
) {
    for root in paths {
        if !root.exists() {
            problems.push(FileProblem {
                path: root.clone(),
                message: "no such file or folder".into(),
                error: true,
            });
            continue;
        }
        let mut files = Vec::new();
        if root.is_dir() {
            walk(root, &mut files, problems);
        } else {
            files.push(root.clone());
        }
        let before = targets.len() + foreign.len();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match classify(&name, interp) {
                FileKind::Module { stem, bare_suffix } => {
                    let (module, sys_path) = dotted_name(&file, &stem);
                    targets.push(Target {
                        path: file.clone(),
                        module,
                        file: Some(file),
                        sys_path: Some(sys_path),
                        bare_suffix,
                    });
                }
                FileKind::OtherAbi { stem, reason } => {
                    let (module, _) = dotted_name(&file, &stem);
                    foreign.push(NotLoadable {
                        path: file,
                        module,
                        reason,
                    });
                }
                FileKind::NotAModule => {}
            }
        }
        if targets.len() + foreign.len() == before {
            problems.push(FileProblem {
                path: root.clone(),
                message: format!(
                    "no extension modules found (looked for {})",
                    interp.extension_suffixes.join(", ")
                ),
                error: true,
            });
        }
    }
}

/// Targets from the extension modules of an installed distribution.
pub fn discover_package(
    name: &str,
    interp: &Interpreter,
    timeout: Duration,
    targets: &mut Vec<Target>,
    foreign: &mut Vec<NotLoadable>,
    problems: &mut Vec<FileProblem>,
) {
    let problem = |message: String| FileProblem {
        path: PathBuf::from(name),
        message,
        error: true,
    };
    let args = [OsStr::new("package"), OsStr::new(name)];
    let run = match run_probe(&interp.path, &args, timeout) {
        Ok(r) => r,
        Err(e) => return problems.push(problem(format!("cannot run the interpreter: {e}"))),
    };
    if run.timed_out {
        return problems.push(problem(format!(
            "listing the distribution's files did not finish within {} s",
            timeout.as_secs_f64()
        )));
    }
    let Some(doc) = run
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
    else {
        return problems.push(problem(format!(
            "could not list the distribution's files: {}",
            last_lines(&run.stderr, 3)
        )));
    };
    if let Some(e) = doc["error"].as_str() {
        return problems.push(problem(e.to_owned()));
    }
    let before = targets.len() + foreign.len();
    for f in doc["files"].as_array().into_iter().flatten() {
        let (Some(relative), Some(path)) = (f["relative"].as_str(), path_field(f, "path")) else {
            continue;
        };
        let mut parts: Vec<&str> = relative.split('/').collect();
        let Some(file_name) = parts.pop() else {
            continue;
        };
        if !parts.iter().all(|p| is_identifier(p)) {
            continue; // vendored libraries (`pkg.libs/`) and data folders
        }
        let dotted = |stem: &str| {
            parts
                .iter()
                .copied()
                .chain([stem])
                .collect::<Vec<_>>()
                .join(".")
        };
        match classify(file_name, interp) {
            FileKind::Module { stem, bare_suffix } => targets.push(Target {
                path,
                module: dotted(&stem),
                file: None,
                sys_path: None,
                bare_suffix,
            }),
            FileKind::OtherAbi { stem, reason } => foreign.push(NotLoadable {
                path,
                module: dotted(&stem),
                reason,
            }),
            FileKind::NotAModule => {}
        }
    }
    if targets.len() + foreign.len() == before {
        problems.push(FileProblem {
            path: PathBuf::from(name),
            message: "the distribution has no extension modules".into(),
            error: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interp(minor: u32) -> Interpreter {
        let tag = format!("cpython-3{minor}t-x86_64-linux-gnu");
        Interpreter {
            path: PathBuf::from("python"),
            version: (3, minor, 0),
            extension_suffixes: vec![format!(".{tag}.so"), ".abi3.so".into(), ".so".into()],
        }
    }

    #[test]
    fn classifies_suffixes() {
        let i = interp(13);
        assert!(matches!(
            classify("spam.cpython-313t-x86_64-linux-gnu.so", &i),
            FileKind::Module {
                bare_suffix: false,
                ..
            }
        ));
        assert!(matches!(
            classify("spam.so", &i),
            FileKind::Module {
                bare_suffix: true,
                ..
            }
        ));
        let FileKind::OtherAbi { reason, .. } =
            classify("spam.cpython-313-x86_64-linux-gnu.so", &i)
        else {
            panic!()
        };
        assert!(reason.contains("CPython 3.13 with the GIL"), "{reason}");
        let FileKind::OtherAbi { reason, .. } =
            classify("spam.cpython-314t-x86_64-linux-gnu.so", &i)
        else {
            panic!()
        };
        assert!(reason.contains("CPython 3.14 free-threaded"), "{reason}");
        assert!(matches!(
            classify("spam.abi3.so", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("spam.abi3t.so", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("spam.cp313-win_amd64.pyd", &i),
            FileKind::OtherAbi { .. }
        ));
        assert!(matches!(
            classify("libfoo-1a2b.so", &i),
            FileKind::NotAModule
        ));
        assert!(matches!(classify("libfoo.so.1", &i), FileKind::NotAModule));
        assert!(matches!(classify("spam.c", &i), FileKind::NotAModule));
        // 3.15t loads abi3t, not abi3.
        let mut j = interp(15);
        j.extension_suffixes.insert(1, ".abi3t.so".into());
        j.extension_suffixes.retain(|s| s != ".abi3.so");
        assert!(matches!(
            classify("spam.abi3t.so", &j),
            FileKind::Module { .. }
        ));
        assert!(matches!(
            classify("spam.abi3.so", &j),
            FileKind::OtherAbi { .. }
        ));
    }
}
