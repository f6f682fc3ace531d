//! Build configuration, CI and binding-generator files: reading each format into
//! located [`Fact`]s that the FT6xx rules (`rules::build`, `rules::bindings`) read.
//!
//! Nothing here runs a build: `setup.py` is parsed with tree-sitter-python and never
//! executed, TOML and YAML go through their parsers, meson and CMake through a small
//! tokenizer (see [`calls`]). A syntax error is a non-fatal problem of the file; the
//! facts found before it are kept.

pub mod calls;
pub mod cython;
pub mod extensions;
pub mod ini;
pub mod pyproject;
pub mod rust;
pub mod scope;
pub mod setup_py;
pub mod version;
pub mod workflow;

use std::path::{Path, PathBuf};

use crate::diagnostic::{LineIndex, Span};

/// Which build, CI or generator input a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuildKind {
    SetupPy,
    SetupCfg,
    PyProject,
    Meson,
    CMake,
    Workflow,
    CargoToml,
    CargoLock,
    /// A Rust source: scanned for PyO3 `#[pymodule]` attributes.
    Rust,
    /// Cython `.pyx` (a module) or `.pxd` (declarations only).
    Cython {
        module: bool,
    },
    /// A SWIG interface file (`.i`).
    Swig,
}

impl BuildKind {
    /// By file name (and, for workflows, by the `.github/workflows` folder).
    pub fn from_path(path: &Path) -> Option<BuildKind> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match lower.as_str() {
            "setup.py" => return Some(BuildKind::SetupPy),
            "setup.cfg" => return Some(BuildKind::SetupCfg),
            "pyproject.toml" => return Some(BuildKind::PyProject),
            "meson.build" => return Some(BuildKind::Meson),
            "cmakelists.txt" => return Some(BuildKind::CMake),
            _ => {}
        }
        if name == "Cargo.toml" {
            return Some(BuildKind::CargoToml);
        }
        if name == "Cargo.lock" {
            return Some(BuildKind::CargoLock);
        }
        if matches!(ext.as_str(), "yml" | "yaml") && in_workflows_dir(path) {
            return Some(BuildKind::Workflow);
        }
        match ext.as_str() {
            "cmake" => Some(BuildKind::CMake),
            "rs" => Some(BuildKind::Rust),
            "pyx" => Some(BuildKind::Cython { module: true }),
            "pxd" => Some(BuildKind::Cython { module: false }),
            "i" | "swg" => Some(BuildKind::Swig),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            BuildKind::SetupPy => "setup.py",
            BuildKind::SetupCfg => "setup.cfg",
            BuildKind::PyProject => "pyproject.toml",
            BuildKind::Meson => "meson.build",
            BuildKind::CMake => "CMake",
            BuildKind::Workflow => "GitHub Actions workflow",
            BuildKind::CargoToml => "Cargo.toml",
            BuildKind::CargoLock => "Cargo.lock",
            BuildKind::Rust => "Rust source",
            BuildKind::Cython { .. } => "Cython",
            BuildKind::Swig => "SWIG interface",
        }
    }
}

fn in_workflows_dir(path: &Path) -> bool {
    let parent = path.parent();
    let wf = parent.and_then(|p| p.file_name()).and_then(|n| n.to_str()) == Some("workflows");
    let gh = parent
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        == Some(".github");
    wf && gh
}

/// A binding generator (or hand-written C API) a module is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generator {
    C,
    Cpp,
    Cython,
    Pybind11,
    Nanobind,
    PyO3,
    Swig,
    F2py,
}

impl Generator {
    pub const ALL: [Generator; 8] = [
        Generator::C,
        Generator::Cpp,
        Generator::Cython,
        Generator::Pybind11,
        Generator::Nanobind,
        Generator::PyO3,
        Generator::Swig,
        Generator::F2py,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Generator::C => "C",
            Generator::Cpp => "C++",
            Generator::Cython => "Cython",
            Generator::Pybind11 => "pybind11",
            Generator::Nanobind => "nanobind",
            Generator::PyO3 => "PyO3",
            Generator::Swig => "SWIG",
            Generator::F2py => "f2py",
        }
    }
}

/// One thing a build file says that a rule or the summary needs, with where it says it.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// The limited API / stable ABI requested unconditionally. `how` names the setting,
    /// `fix` shows the conditional form; `ignored_on_ft` when the tool itself drops
    /// the request on free-threaded builds (PyO3 warns and builds a version-specific module).
    LimitedApi {
        how: String,
        fix: String,
        ignored_on_ft: bool,
    },
    /// An extension module is built here (`Extension(...)`, `py.extension_module(...)`,
    /// `Python_add_library(...)`). `custom_cmake` for CMake targets made by hand.
    ExtensionBuild {
        backend: &'static str,
        custom_cmake: bool,
    },
    /// `Py_GIL_DISABLED` is defined by this build file.
    DefinesGilDisabled,
    /// A requirement (`[build-system] requires`, `setup_requires`, a Cargo dependency).
    Requirement {
        name: String,
        spec: String,
    },
    /// An exact version from a lock file.
    Locked {
        name: String,
        version: String,
    },
    /// Trove classifiers list; `ft` is whether it has a `Free Threading` classifier.
    Classifiers {
        ft: bool,
    },
    /// Classifiers given by an expression this reader cannot evaluate.
    ClassifiersUnknown,
    /// A Cython `include "other.pyx"`: the included file is part of this module, not one.
    CythonInclude {
        file: String,
    },
    /// The `[project]` table or `setup(...)` call (where a missing classifier is reported).
    ProjectMetadata,
    /// cibuildwheel `build` / `skip` / `enable` selector value (one per item).
    CibwBuild(String),
    CibwSkip(String),
    CibwEnable(String),
    /// A cibuildwheel option that is gone or deprecated.
    CibwDeprecated {
        option: String,
        note: String,
    },
    /// cibuildwheel is used (action or `[tool.cibuildwheel]`), with the action's version tag.
    UsesCibuildwheel {
        version: Option<String>,
    },
    /// A Python version in a CI matrix or setup step.
    CiPython {
        version: String,
    },
    /// `freethreaded: true` (setup-python) or similar: CI asks for a free-threaded interpreter.
    CiFreeThreadedFlag,
    /// Tests run with the GIL forced off (`PYTHON_GIL=0`, `-X gil=0`).
    CiGilOff {
        how: String,
    },
    /// Cython's `freethreading_compatible=True` given for the whole build
    /// (`cythonize(compiler_directives=...)`, meson `cython_args`, command line).
    CythonDirectiveProject,
    /// A Cython module (`.pyx`) and whether its header comment declares support.
    CythonModule {
        name: String,
        declared: bool,
    },
    /// `#[pymodule]` and its `gil_used` option.
    PyO3Module {
        name: String,
        gil_used: Option<bool>,
    },
    /// A module written against the raw C API from Rust (`extern "C" fn PyInit_x`, as with
    /// `pyo3-ffi`), and whether its code mentions `Py_MOD_GIL_NOT_USED`.
    RustFfiModule {
        name: String,
        declared: bool,
    },
    /// `.gil_used(false)` called on a module in Rust code.
    PyO3GilUsedCall {
        value: bool,
    },
    /// A SWIG module (`%module name`).
    SwigModule {
        name: String,
    },
    /// `swig` called or configured (`swig_opts`, `swig_add_library`, a command line).
    SwigInvocation {
        nogil: bool,
    },
    /// `numpy.f2py` / `f2py` called by a build line.
    F2pyInvocation {
        name: String,
        declared: bool,
    },
    /// `nanobind_add_module(target ...)`.
    NanobindAddModule {
        target: String,
        free_threaded: bool,
    },
}

/// A fact and the byte range of the file it comes from.
#[derive(Debug, Clone)]
pub struct Fact {
    pub what: What,
    pub range: (usize, usize),
}

/// A read build file: its text, what it says, and any syntax problem.
pub struct BuildFile {
    pub path: PathBuf,
    pub kind: BuildKind,
    pub text: String,
    pub lines: LineIndex,
    pub facts: Vec<Fact>,
    /// The first syntax error, if the file could not be read completely.
    pub syntax_error: Option<String>,
    /// Inline suppressions: 1-based line → codes (`None`: every rule).
    pub suppressions: Vec<(usize, Option<Vec<String>>)>,
    /// The extension modules this file declares with their sources, as written
    /// (setup.py, pyproject.toml, CMake; meson needs the project's variables and is
    /// read by [`extensions::meson`] where every meson file is at hand).
    pub extensions: Vec<extensions::ExtensionDecl>,
    /// A meson or CMake file's calls (empty for other kinds).
    pub calls: Vec<calls::Call>,
}

impl BuildFile {
    /// Parses `text` as `kind`. Never fails: problems land in `syntax_error`.
    pub fn parse(path: PathBuf, kind: BuildKind, text: String) -> BuildFile {
        let lines = LineIndex::new(&text);
        let mut facts = Vec::new();
        // meson and CMake files are tokenised into calls once: the facts here and
        // the source lists of `extensions` (read later, per project) share them.
        let mut build_calls = Vec::new();
        // setup.py is parsed once too: for the facts and for the source lists.
        let mut extensions = Vec::new();
        let syntax_error = match kind {
            BuildKind::SetupPy => match setup_py::parse_python(&text) {
                Some((tree, cut)) => {
                    extensions = extensions::setup_py_tree(&text, tree.root_node());
                    setup_py::read_tree(&text, &tree, cut, &mut facts)
                }
                None => Some((0, "could not parse".into())),
            },
            BuildKind::SetupCfg => ini::read_setup_cfg(&text, &mut facts),
            BuildKind::PyProject => pyproject::read_pyproject(&text, &mut facts),
            BuildKind::CargoToml => pyproject::read_cargo_toml(&text, &mut facts),
            BuildKind::CargoLock => pyproject::read_cargo_lock(&text, &mut facts),
            BuildKind::Meson | BuildKind::CMake => {
                let cmake = kind == BuildKind::CMake;
                let (found, err) = calls::calls(&text, cmake);
                if cmake {
                    calls::read_cmake(&text, &found, &mut facts);
                } else {
                    calls::read_meson(&found, &mut facts);
                }
                build_calls = found;
                err
            }
            BuildKind::Workflow => workflow::read(&text, &mut facts),
            BuildKind::Rust => rust::read(&text, &mut facts),
            BuildKind::Cython { module } => cython::read_cython(&path, module, &text, &mut facts),
            BuildKind::Swig => cython::read_swig(&text, &mut facts),
        };
        let syntax_error = syntax_error.map(|(off, msg)| {
            let (l, c) = lines.position(&text, off);
            format!("{} syntax error at {l}:{c}: {msg} (the rest of the file was read as far as possible)", kind.describe())
        });
        let suppressions = suppressions(&text);
        if kind == BuildKind::PyProject {
            extensions = extensions::pyproject(&text);
        }
        BuildFile {
            extensions,
            calls: build_calls,
            path,
            kind,
            text,
            lines,
            facts,
            syntax_error,
            suppressions,
        }
    }

    /// Is a finding of `code` on 1-based `line` suppressed by an inline comment?
    pub fn suppresses(&self, code: &str, line: usize) -> bool {
        self.suppressions.iter().any(|(l, codes)| {
            *l == line
                && match codes {
                    None => true,
                    Some(cs) => cs.iter().any(|c| code.starts_with(&c.to_ascii_uppercase())),
                }
        })
    }

    pub fn span(&self, range: (usize, usize)) -> Span {
        self.lines.span(&self.text, range.0, range.1)
    }
}

/// `ftaudit: ignore[FT601]` (or bare `ftaudit: ignore`) after a `#`, `//` or `/*`
/// comment marker covers its own line, or the next line when the comment stands alone.
fn suppressions(text: &str) -> Vec<(usize, Option<Vec<String>>)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("ftaudit: ignore") else {
            continue;
        };
        let before = &line[..pos];
        let Some(marker) = ["#", "//", "/*"]
            .iter()
            .filter_map(|m| before.find(m))
            .min()
        else {
            continue;
        };
        let rest = &line[pos + "ftaudit: ignore".len()..];
        let codes = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(c, _)| {
                c.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            });
        let alone = line[..marker].trim().is_empty();
        out.push((if alone { i + 2 } else { i + 1 }, codes));
    }
    out
}

/// Expands shell-style braces in a cibuildwheel selector: `cp3{12,13,14t}-*` →
/// `cp312-*`, `cp313-*`, `cp314t-*`. Nested and repeated groups are expanded too,
/// up to 256 results; an unbalanced brace leaves the selector as it is.
pub fn expand_braces(sel: &str) -> Vec<String> {
    const MAX: usize = 256;
    let Some(open) = sel.find('{') else {
        return vec![sel.to_owned()];
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in sel[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![sel.to_owned()];
    };
    let (head, tail) = (&sel[..open], &sel[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &sel[w[0] + 1..w[1]];
        for rest in expand_braces(&format!("{alt}{tail}")) {
            for e in expand_braces(&format!("{head}{rest}")) {
                if out.len() >= MAX {
                    return out;
                }
                out.push(e);
            }
        }
    }
    out
}

/// A syntax problem: byte offset and message.
pub type SyntaxError = Option<(usize, String)>;

/// Byte range of the first occurrence of `needle` in `text` at or after `from`, or
/// of the line containing `from` when it is missing.
pub fn locate(text: &str, needle: &str, from: usize) -> (usize, usize) {
    let from = from.min(text.len());
    if !needle.is_empty() {
        if let Some(i) = text.get(from..).and_then(|t| t.find(needle)) {
            return (from + i, from + i + needle.len());
        }
        if let Some(i) = text.find(needle) {
            return (i, i + needle.len());
        }
    }
    line_range(text, from)
}

/// The range of the line containing `off`, without its terminator.
pub fn line_range(text: &str, off: usize) -> (usize, usize) {
    let off = off.min(text.len());
    let start = text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[off..]
        .find('\n')
        .map(|i| off + i)
        .unwrap_or(text.len());
    (start, end.max(start))
}

/// Offset of the first line whose content (after indentation) starts with `key`
/// followed by optional spaces and `sep` — a TOML/INI/YAML key lookup used only to
/// place diagnostics, never to read values.
pub fn key_line(text: &str, key: &str, sep: char, from: usize) -> Option<(usize, usize)> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let start = off;
        off += line.len();
        if start < from {
            continue;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let unquoted = trimmed.trim_start_matches(['"', '\'', '-', ' ']);
        let lead = trimmed.len() - unquoted.len();
        let Some(rest) = unquoted.strip_prefix(key) else {
            continue;
        };
        let rest = rest.trim_start_matches(['"', '\'']).trim_start();
        if rest.starts_with(sep) {
            let s = start + indent + lead;
            return Some((s, s + key.len()));
        }
    }
    None
}

#[cfg(test)]
mod brace_tests {
    use super::expand_braces;

    #[test]
    fn cibuildwheel_braces() {
        assert_eq!(
            expand_braces("cp3{12,13,14,14t}-*"),
            ["cp312-*", "cp313-*", "cp314-*", "cp314t-*"]
        );
        assert_eq!(
            expand_braces("{cp,pp}3{10,11}-*"),
            ["cp310-*", "cp311-*", "pp310-*", "pp311-*"]
        );
        assert_eq!(expand_braces("cp3{12-*"), ["cp3{12-*"]);
        assert_eq!(expand_braces("*"), ["*"]);
    }
}
