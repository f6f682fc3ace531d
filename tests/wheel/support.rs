//! Helpers shared by the `ftaudit wheel` tests (tests/wheel.rs,
//! tests/wheel_acceptance.rs): compiling the probe modules for both interpreters,
//! packing wheels, building Windows DLLs with MinGW, running the binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub use serde_json::Value;
use zip::write::SimpleFileOptions;

use crate::common;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
pub const FT_SUFFIX: &str = ".cpython-313t-x86_64-linux-gnu.so";
pub const GIL_SUFFIX: &str = ".cpython-313-x86_64-linux-gnu.so";

/// Binaries compiled once per test run.
pub struct Built {
    pub _dir: tempfile::TempDir,
    /// (variant, "ft" | "gil") → bytes of probe.so
    pub probe: BTreeMap<(String, String), Vec<u8>>,
    /// (example folder, module name, "ft" | "gil") → bytes
    pub examples: BTreeMap<(String, String, String), Vec<u8>>,
}

pub fn interpreters() -> Option<(PathBuf, PathBuf)> {
    Some((common::free_threaded()?, common::gil_build()?))
}

pub fn compile(python: &Path, out: &Path, defines: &[&str], sources: &[PathBuf]) {
    let mut cmd = Command::new("python3");
    cmd.arg(format!("{ROOT}/scripts/compile-extension.py"))
        .arg("--python")
        .arg(python)
        .arg("--out")
        .arg(out);
    for d in defines {
        cmd.arg("--define").arg(d);
    }
    cmd.args(sources);
    let o = cmd.output().expect("run compile-extension.py");
    assert!(
        o.status.success(),
        "compile failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

pub const VARIANTS: &[(&str, &[&str])] = &[
    ("ok", &["DECLARE_GIL"]),
    ("undeclared", &[]),
    ("single", &["SINGLE_PHASE"]),
    ("single_ok", &["SINGLE_PHASE", "DECLARE_GIL"]),
    ("gil_used", &["GIL_USED"]),
    ("borrowed", &["DECLARE_GIL", "BORROWED"]),
];

pub fn built() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let (ft, gil) = interpreters()?;
            let dir = tempfile::tempdir().expect("tempdir");
            let mut probe = BTreeMap::new();
            let mut examples = BTreeMap::new();
            for (kind, py, suffix) in [("ft", &ft, FT_SUFFIX), ("gil", &gil, GIL_SUFFIX)] {
                // A real stable-ABI build exists only for the GIL interpreter:
                // 3.13t's Python.h rejects Py_LIMITED_API.
                let abi3: &[(&str, &[&str])] = if kind == "gil" {
                    &[("abi3", &["DECLARE_GIL", "Py_LIMITED_API=0x030D0000"])]
                } else {
                    &[]
                };
                for (variant, defines) in VARIANTS.iter().chain(abi3) {
                    let out = dir.path().join(kind).join(variant);
                    compile(
                        py,
                        &out,
                        defines,
                        &[PathBuf::from(format!("{ROOT}/tests/wheel/probe.c"))],
                    );
                    let bytes =
                        std::fs::read(out.join(format!("probe{suffix}"))).expect("built probe");
                    probe.insert((variant.to_string(), kind.to_string()), bytes);
                }
                for folder in ["legacy-extension", "ported-extension"] {
                    let src = PathBuf::from(format!("{ROOT}/examples/{folder}/src"));
                    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
                        .expect("examples")
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|e| e == "c" || e == "cpp"))
                        .collect();
                    sources.sort();
                    let out = dir.path().join(kind).join(folder);
                    compile(py, &out, &[], &sources);
                    for s in &sources {
                        let name = s
                            .file_stem()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned();
                        let bytes = std::fs::read(out.join(format!("{name}{suffix}")))
                            .expect("built example");
                        examples.insert((folder.to_string(), name, kind.to_string()), bytes);
                    }
                }
            }
            Some(Built {
                _dir: dir,
                probe,
                examples,
            })
        })
        .as_ref()
}

pub fn probe(variant: &str, kind: &str) -> Vec<u8> {
    built()
        .and_then(|b| b.probe.get(&(variant.to_owned(), kind.to_owned())).cloned())
        .expect("probe variant built")
}

/// Wheel contents beyond the binaries.
#[derive(Default, Clone)]
pub struct Meta<'a> {
    /// `Tag:` lines; `None` writes the tags of the file name.
    pub tags: Option<Vec<&'a str>>,
    pub requires_python: Option<&'a str>,
    pub classifier: bool,
}

/// Writes `dir/filename` (a wheel) with `members` (path in wheel, bytes).
pub fn wheel(dir: &Path, filename: &str, members: &[(&str, &[u8])], meta: &Meta) -> PathBuf {
    let parts: Vec<&str> = filename.trim_end_matches(".whl").split('-').collect();
    let (name, version) = (parts[0], parts[1]);
    let n = parts.len();
    let path = dir.join(filename);
    let file = std::fs::File::create(&path).expect("create wheel");
    let mut z = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (m, data) in members {
        z.start_file(*m, opts).expect("start member");
        z.write_all(data).expect("write member");
    }
    let info = format!("{name}-{version}.dist-info");
    let mut wheel_file =
        String::from("Wheel-Version: 1.0\nGenerator: ftaudit-test\nRoot-Is-Purelib: false\n");
    match &meta.tags {
        Some(tags) => tags
            .iter()
            .for_each(|t| wheel_file.push_str(&format!("Tag: {t}\n"))),
        None => {
            for p in parts[n - 3].split('.') {
                for a in parts[n - 2].split('.') {
                    for pl in parts[n - 1].split('.') {
                        wheel_file.push_str(&format!("Tag: {p}-{a}-{pl}\n"));
                    }
                }
            }
        }
    }
    z.start_file(format!("{info}/WHEEL"), opts).expect("WHEEL");
    z.write_all(wheel_file.as_bytes()).expect("WHEEL");
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    if let Some(r) = meta.requires_python {
        metadata.push_str(&format!("Requires-Python: {r}\n"));
    }
    if meta.classifier {
        metadata
            .push_str("Classifier: Programming Language :: Python :: Free Threading :: 2 - Beta\n");
    }
    metadata.push_str("\nA test package.\n");
    z.start_file(format!("{info}/METADATA"), opts)
        .expect("METADATA");
    z.write_all(metadata.as_bytes()).expect("METADATA");
    z.start_file(format!("{info}/RECORD"), opts)
        .expect("RECORD");
    z.finish().expect("finish wheel");
    path
}

pub struct Run {
    pub status: i32,
    pub json: Value,
    pub stderr: String,
}

impl Run {
    pub fn codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .diags()
            .iter()
            .map(|d| d["code"].as_str().unwrap_or("").to_owned())
            .collect();
        v.sort();
        v
    }
    pub fn diags(&self) -> Vec<Value> {
        self.json["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
    pub fn count(&self, code: &str) -> usize {
        self.codes().iter().filter(|c| *c == code).count()
    }
    pub fn messages(&self, code: &str) -> Vec<String> {
        self.diags()
            .iter()
            .filter(|d| d["code"] == code)
            .map(|d| d["message"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

pub fn ftaudit(args: &[&str], paths: &[&Path]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
    cmd.arg("wheel")
        .arg("--output-format")
        .arg("json")
        .args(args)
        .args(paths);
    let o = cmd.output().expect("run ftaudit");
    let status = o.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bad json ({e}), status {status}: {stdout}"));
    Run {
        status,
        json,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn member(module: &str, suffix: &str) -> String {
    format!("pkg/{module}{suffix}")
}

pub fn mingw() -> Option<PathBuf> {
    let require = std::env::var("FTAUDIT_REQUIRE_MINGW").is_ok_and(|v| v == "1");
    let cc = std::env::var_os("FTAUDIT_MINGW_CC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("x86_64-w64-mingw32-gcc"));
    let ok = Command::new(&cc)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !require,
            "FTAUDIT_REQUIRE_MINGW=1 but {} does not run",
            cc.display()
        );
        eprintln!(
            "SKIPPED: {} not found (scripts/provision-mingw.sh installs it)",
            cc.display()
        );
        return None;
    }
    Some(cc)
}

/// Builds tests/wheel/winmod.c into a PE DLL linked against a stub import library.
pub fn build_pe(cc: &Path, dir: &Path, dll: &str, defines: &[&str]) -> Vec<u8> {
    let dlltool = cc.with_file_name("x86_64-w64-mingw32-dlltool");
    let dlltool = if dlltool.is_file() {
        dlltool
    } else {
        PathBuf::from("x86_64-w64-mingw32-dlltool")
    };
    let stem = dll.trim_end_matches(".dll");
    let def = dir.join(format!("{stem}.def"));
    std::fs::write(&def, format!("LIBRARY {dll}\nEXPORTS\nPyModuleDef_Init\nPyList_GetItem\n_Py_DecRefShared\n_Py_MergeZeroLocalRefcount\n_Py_Dealloc\n")).unwrap();
    let lib = dir.join(format!("lib{stem}.a"));
    let o = Command::new(&dlltool)
        .arg("-d")
        .arg(&def)
        .arg("-l")
        .arg(&lib)
        .arg("-D")
        .arg(dll)
        .output()
        .expect("dlltool");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join(format!("winmod-{stem}-{}.pyd", defines.join("_")));
    let mut cmd = Command::new(cc);
    cmd.args(["-O1", "-shared", "-o"])
        .arg(&out)
        .arg(format!("{ROOT}/tests/wheel/winmod.c"));
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    cmd.arg(format!("-L{}", dir.display()))
        .arg(format!("-l{stem}"));
    let o = cmd.output().expect("mingw gcc");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}
