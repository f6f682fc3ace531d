//! `ftaudit verify` on a real free-threaded CPython: the bundled examples compiled for
//! python3.13t, and test modules (tests/verify-modules) that raise, abort, hang, or
//! re-enable the GIL as a side effect of another module's import.
//!
//! Tests that need the interpreter take it from FTAUDIT_PYTHON_FT (else the cache that
//! scripts/provision-python.sh fills); without it they print SKIPPED and pass, unless
//! FTAUDIT_REQUIRE_PYTHON=1 (scripts/test.sh, .ci/run), where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

mod common;

use ftaudit::check;
use ftaudit::config::{Overrides, Settings};
use ftaudit::rules::declare;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

use common::interpreter;

fn free_threaded() -> Option<PathBuf> {
    interpreter("FTAUDIT_PYTHON_FT", "ft/bin/python3.13t")
}

/// Modules compiled once per test run for the free-threaded interpreter.
struct Built {
    legacy: PathBuf,
    ported: PathBuf,
    test_modules: PathBuf,
}

fn sources(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read sources")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
        })
        .collect();
    v.sort();
    v
}

/// Compiles `srcs` for `python` into `out` with scripts/compile-extension.py (run by that
/// interpreter itself, so no other Python is needed).
fn compile(python: &Path, out: &Path, srcs: &[PathBuf]) {
    let o = Command::new(python)
        .arg(Path::new(ROOT).join("scripts/compile-extension.py"))
        .arg("--python")
        .arg(python)
        .arg("--out")
        .arg(out)
        .args(srcs)
        .output()
        .expect("run compile-extension.py");
    assert!(
        o.status.success(),
        "compiling failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The interpreter and the modules built for it, or `None` (skip) when it is missing.
fn setup() -> Option<(&'static Built, PathBuf)> {
    let python = free_threaded()?;
    Some((built(&python), python))
}

fn built(python: &Path) -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify-modules");
        let _ = std::fs::remove_dir_all(&base);
        let b = Built {
            legacy: base.join("legacy"),
            ported: base.join("ported"),
            test_modules: base.join("test"),
        };
        let root = Path::new(ROOT);
        compile(
            python,
            &b.legacy,
            &sources(&root.join("examples/legacy-extension/src"), &["c", "cpp"]),
        );
        compile(
            python,
            &b.ported,
            &sources(&root.join("examples/ported-extension/src"), &["c", "cpp"]),
        );
        compile(
            python,
            &b.test_modules,
            &sources(&root.join("tests/verify-modules"), &["c"]),
        );
        b
    })
}

fn ftaudit(args: &[&str]) -> Output {
    ftaudit_env(args, &[])
}

fn ftaudit_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
    c.args(args).env("NO_COLOR", "1").env_remove("PYTHON_GIL");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run ftaudit")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&o.stdout)))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Verdicts by module name from the JSON summary: (verdict, module blamed).
fn verdicts(v: &Value) -> BTreeMap<String, (String, Option<String>)> {
    v["summary"]["verify"]["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|m| {
            let module = m["module"].as_str().expect("module").to_owned();
            (
                module,
                (
                    m["verdict"].as_str().expect("verdict").to_owned(),
                    m["by"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

/// Diagnostic messages by code, for a module's file.
fn messages(v: &Value, code: &str) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| {
            format!(
                "{}: {}",
                d["path"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// What the static declaration rules say about each example module on 3.13t:
/// (modules that re-enable the GIL, modules whose import raises).
fn static_expectations(dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let ov = Overrides {
        isolated: true,
        select: Some(vec!["FT0".into()]),
        target_version: Some("3.13".into()),
        ..Default::default()
    };
    let roots = vec![(
        dir.to_path_buf(),
        Arc::new(Settings::resolve(dir, &ov).expect("settings")),
    )];
    let result = check::run(&roots, &Default::default());
    let (mut gil, mut raises) = (BTreeSet::new(), BTreeSet::new());
    for d in &result.diagnostics {
        let module = d
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_owned();
        // FT005: the builds left undeclared; FT004: the build both slots are compiled for.
        let for_313t = d.builds.iter().any(|b| b == "3.13t");
        let reenables = d.rule == &declare::MISSING_GIL_DECLARATION
            || d.rule == &declare::GIL_USED_DECLARED
            || (d.rule == &declare::PARTIAL_GIL_DECLARATION && for_313t);
        if reenables {
            gil.insert(module);
        } else if d.rule == &declare::DUPLICATE_GIL_SLOT && for_313t {
            raises.insert(module);
        }
    }
    let gil = gil.difference(&raises).cloned().collect();
    (gil, raises)
}

#[test]
fn help_says_verify_executes_import_code() {
    let o = ftaudit(&["verify", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("EXECUTES the modules' import code"), "{out}");
    let o = ftaudit(&["rule", "FT801"]);
    assert!(o.status.success());
}

#[test]
fn without_an_interpreter_the_error_names_the_python_option() {
    let empty = tempfile::tempdir().expect("tempdir");
    let o = ftaudit_env(&["verify", "."], &[("PATH", s(empty.path()))]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("python3.14t") && err.contains("python3.13t") && err.contains("--python"),
        "{err}"
    );
    let o = ftaudit(&["verify", "--python", "/nonexistent/python3.13t", "."]);
    assert_eq!(o.status.code(), Some(2));
    let o = ftaudit(&["verify", "--python", "/nonexistent/python3.13t"]);
    assert_eq!(o.status.code(), Some(2), "nothing to verify is an error");
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn legacy_example_names_each_module_that_reenables_the_gil() {
    let Some((b, python)) = setup() else { return };
    let src = Path::new(ROOT).join("examples/legacy-extension/src");
    let (gil, raises) = static_expectations(&src);
    assert!(
        gil.contains("spam") && gil.contains("eggs") && raises.contains("toast"),
        "{gil:?} {raises:?}"
    );

    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(&b.legacy),
        "--source",
        s(&src),
        "--output-format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    let got = verdicts(&v);
    assert_eq!(
        got.len(),
        sources(&src, &["c", "cpp"]).len(),
        "one verdict per module: {got:?}"
    );
    for (module, (verdict, by)) in &got {
        if gil.contains(module) {
            assert_eq!(
                (verdict.as_str(), by.as_deref()),
                ("gil-enabled", Some(module.as_str())),
                "{module}"
            );
        } else if raises.contains(module) {
            assert_eq!(verdict, "raised", "{module}");
        } else {
            assert_eq!(
                verdict, "ok",
                "{module}: static analysis finds no declaration problem for 3.13t"
            );
        }
    }
    // Each re-enabling module is named in its own FT801, quoting CPython's warning.
    let ft801 = messages(&v, "FT801");
    assert_eq!(ft801.len(), gil.len(), "{ft801:?}");
    for module in &gil {
        let quoted = format!("has been enabled to load module '{module}'");
        assert!(
            ft801.iter().any(
                |m| m.contains(&format!("importing `{module}` re-enabled the GIL"))
                    && m.contains(&quoted)
            ),
            "{module}: {ft801:?}"
        );
    }
    let ft802 = messages(&v, "FT802");
    assert!(
        ft802
            .iter()
            .any(|m| m.contains("raised SystemError") && m.contains("more than one 'gil' slot")),
        "{ft802:?}"
    );
    // Static and runtime verdicts agree on every module.
    let cmp = &v["summary"]["verify"]["static_comparison"];
    assert_eq!(cmp["disagreed"].as_array().map(Vec::len), Some(0), "{cmp}");
    assert_eq!(
        cmp["agreed"].as_array().map(Vec::len),
        Some(got.len()),
        "{cmp}"
    );
    assert!(messages(&v, "FT806").is_empty());

    // The text report names each module too.
    let o = ftaudit(&["verify", "--python", s(&python), s(&b.legacy)]);
    let out = String::from_utf8_lossy(&o.stdout);
    for module in &gil {
        assert!(
            out.contains(&format!("FT801 importing `{module}` re-enabled the GIL")),
            "{out}"
        );
    }
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ported_example_reports_nothing() {
    let Some((b, python)) = setup() else { return };
    let src = Path::new(ROOT).join("examples/ported-extension/src");
    let (gil, raises) = static_expectations(&src);
    assert!(
        gil.is_empty() && raises.is_empty(),
        "the ported example declares support everywhere: {gil:?} {raises:?}"
    );
    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(&b.ported),
        "--source",
        s(&src),
        "--output-format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json(&o);
    assert_eq!(v["diagnostics"].as_array().map(Vec::len), Some(0));
    let got = verdicts(&v);
    assert_eq!(got.len(), sources(&src, &["c", "cpp"]).len());
    assert!(got.values().all(|(verdict, _)| verdict == "ok"), "{got:?}");
    let cmp = &v["summary"]["verify"]["static_comparison"];
    assert_eq!(
        cmp["agreed"].as_array().map(Vec::len),
        Some(got.len()),
        "{cmp}"
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn each_failure_gets_its_verdict() {
    let Some((b, python)) = setup() else { return };
    let src = Path::new(ROOT).join("tests/verify-modules");
    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(&b.test_modules),
        "--timeout",
        "8",
        "--source",
        s(&src),
        "--output-format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let got = verdicts(&v);
    let expect = |m: &str, verdict: &str, by: Option<&str>| {
        assert_eq!(
            got.get(m).map(|(v, b)| (v.as_str(), b.as_deref())),
            Some((verdict, by)),
            "{m}: {got:?}"
        );
    };
    expect("raiser", "raised", Some("raiser"));
    expect("aborter", "crashed", Some("aborter"));
    expect("hanger", "hung", Some("hanger"));
    expect("inner", "gil-enabled", Some("inner"));
    // `outer` declares support; the report blames `inner`, which it imports.
    expect("outer", "gil-enabled", Some("inner"));

    let one = |code: &str, file: &str| -> String {
        let m: Vec<String> = messages(&v, code)
            .into_iter()
            .filter(|m| m.contains(file))
            .collect();
        assert_eq!(m.len(), 1, "{code} for {file}: {m:?}");
        m[0].clone()
    };
    assert!(one("FT802", "raiser.").contains("raised RuntimeError: raiser refuses to be imported"));
    assert!(one("FT803", "aborter.").contains("SIGABRT"));
    assert!(one("FT804", "hanger.").contains("did not finish within 8 s"));
    let outer = one("FT801", "outer.");
    assert!(
        outer.contains("`inner` (imported by `outer`) did it")
            && outer.contains("load module 'inner'"),
        "{outer}"
    );
    // `gated` declares support only under a macro the build does not define.
    expect("gated", "gil-enabled", Some("gated"));
    expect("macroinit", "gil-enabled", Some("macroinit"));
    // Static: `inner` is undeclared (FT001) and re-enabled the GIL itself: they agree.
    // `gated` looks declared in the source but re-enabled the GIL: they disagree, and the
    // finding points at its init function.
    let cmp = &v["summary"]["verify"]["static_comparison"];
    let names = |key: &str| -> BTreeSet<String> {
        cmp[key]
            .as_array()
            .expect(key)
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect()
    };
    let ft806: BTreeMap<String, Value> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "FT806")
        .map(|d| {
            let file = Path::new(d["path"].as_str().unwrap_or(""))
                .file_name()
                .map(|f| f.to_string_lossy().into_owned());
            (file.unwrap_or_default(), d.clone())
        })
        .collect();
    assert!(names("agreed").contains("inner"), "{cmp}");
    assert!(names("disagreed").contains("gated"), "{cmp}");
    let gated = &ft806["gated.c"];
    assert_eq!(gated["line"], 28, "at `PyInit_gated`");
    assert!(
        gated["message"]
            .as_str()
            .is_some_and(|m| m.contains("declares `Py_MOD_GIL_NOT_USED` for 3.13t, but importing")),
        "{gated}"
    );
    // `macroinit`'s init function comes from a file-local macro that pastes
    // `PyInit_##name`; the static rules resolve it, so both verdicts agree.
    assert!(names("agreed").contains("macroinit"), "{cmp}");
    assert!(!names("disagreed").contains("macroinit"), "{cmp}");
    assert_eq!(ft806.len(), names("disagreed").len(), "{ft806:?}");
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn python_gil_is_removed_from_the_environment_and_reported() {
    let Some((b, python)) = setup() else { return };
    let inner = std::fs::read_dir(&b.test_modules)
        .expect("built")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("inner."))
        })
        .expect("inner built");
    let o = ftaudit_env(
        &["verify", "--python", s(&python), s(&inner)],
        &[("PYTHON_GIL", "0")],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "with PYTHON_GIL=0 kept, the import would pass vacuously"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("FT801"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("PYTHON_GIL=0 is set"), "{err}");
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn modules_and_packages_by_name() {
    let Some((b, python)) = setup() else { return };
    // --module: found through PYTHONPATH; the finding points at the module's file.
    let pythonpath = s(&b.test_modules);
    let o = ftaudit_env(
        &[
            "verify",
            "--python",
            s(&python),
            "--module",
            "inner",
            "--module",
            "json",
            "--output-format",
            "json",
        ],
        &[("PYTHONPATH", pythonpath)],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let got = verdicts(&v);
    assert_eq!(got.get("json").map(|x| x.0.as_str()), Some("ok"));
    assert_eq!(got.get("inner").map(|x| x.0.as_str()), Some("gil-enabled"));
    assert!(
        messages(&v, "FT801")[0].contains(pythonpath),
        "{:?}",
        messages(&v, "FT801")
    );

    // A relative PYTHONPATH is relative to where ftaudit runs, as for python itself.
    let o = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["verify", "--python", s(&python), "--module", "raiser"])
        .current_dir(b.test_modules.parent().expect("parent"))
        .env("PYTHONPATH", "test")
        .env_remove("PYTHON_GIL")
        .output()
        .expect("run ftaudit");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("raised RuntimeError: raiser refuses"), "{out}");

    // A pure-Python package whose import chain reaches `inner`, after undoing the probe's
    // warning hook: the warning is then read from stderr, and the chain from the import events.
    let py = tempfile::tempdir().expect("tempdir");
    let chain = py.path().join("chain");
    std::fs::create_dir_all(&chain).expect("mkdir");
    std::fs::write(chain.join("__init__.py"), "from . import middle\n").expect("write");
    std::fs::write(
        chain.join("middle.py"),
        "import warnings\nwarnings.showwarning = warnings._showwarning_orig\nimport inner\n",
    )
    .expect("write");
    let path = format!("{}:{}", s(py.path()), pythonpath);
    let o = ftaudit_env(
        &[
            "verify",
            "--python",
            s(&python),
            "--module",
            "chain",
            "--output-format",
            "json",
        ],
        &[("PYTHONPATH", path.as_str())],
    );
    let v = json(&o);
    assert_eq!(
        verdicts(&v).get("chain"),
        Some(&("gil-enabled".to_owned(), Some("inner".to_owned())))
    );
    let m = messages(&v, "FT801");
    assert!(
        m[0].contains("`inner` (imported by `chain.middle` ← `chain`) did it"),
        "{m:?}"
    );

    // --package: a distribution installed (as files plus a RECORD) on PYTHONPATH.
    let site = tempfile::tempdir().expect("tempdir");
    let pkg = site.path().join("fakepkg");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(pkg.join("__init__.py"), "").expect("write");
    let mut record = String::from("fakepkg/__init__.py,,\n");
    for e in std::fs::read_dir(&b.test_modules).expect("built").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("inner.") || name.starts_with("outer.") {
            std::fs::copy(e.path(), pkg.join(&name)).expect("copy");
            record.push_str(&format!("fakepkg/{name},,\n"));
        }
    }
    let info = site.path().join("fakepkg-1.0.dist-info");
    std::fs::create_dir_all(&info).expect("mkdir");
    std::fs::write(
        info.join("METADATA"),
        "Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n",
    )
    .expect("write");
    std::fs::write(info.join("RECORD"), record).expect("write");
    let o = ftaudit_env(
        &[
            "verify",
            "--python",
            s(&python),
            "--package",
            "fakepkg",
            "--output-format",
            "json",
        ],
        &[
            ("PYTHONPATH", s(site.path())),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ],
    );
    let v = json(&o);
    let got = verdicts(&v);
    assert_eq!(
        got.get("fakepkg.inner").map(|x| x.0.as_str()),
        Some("gil-enabled"),
        "{got:?}"
    );
    // `outer` imports the top-level `inner`, which is not on the path here.
    assert_eq!(
        got.get("fakepkg.outer").map(|x| x.0.as_str()),
        Some("raised"),
        "{got:?}"
    );
    let o = ftaudit_env(
        &[
            "verify",
            "--python",
            s(&python),
            "--package",
            "no-such-dist",
        ],
        &[("PYTHONPATH", s(site.path()))],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn files_for_another_abi_are_not_imported() {
    let Some((b, python)) = setup() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let spam = Path::new(ROOT).join("examples/ported-extension/src/spam.c");
    if let Some(gil_python) = interpreter("FTAUDIT_PYTHON_GIL", "gil/bin/python3.13") {
        compile(&gil_python, dir.path(), &[spam]);
    }
    // An abi3 file is judged by its name alone: it is never imported.
    let raiser = std::fs::read_dir(&b.test_modules)
        .expect("built")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("raiser."));
    std::fs::copy(
        raiser.expect("raiser built").path(),
        dir.path().join("raiser.abi3.so"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("libhelper-1a2b3c.so"), b"not a module").expect("write");
    // A shared library that only ends in `.so` (a suffix the interpreter lists) but has no
    // PyInit_ function is skipped, not reported.
    let lib_src = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        lib_src.path().join("helper.c"),
        "int helper(void) { return 1; }\n",
    )
    .expect("write");
    compile(&python, lib_src.path(), &[lib_src.path().join("helper.c")]);
    let lib = std::fs::read_dir(lib_src.path())
        .expect("built")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".so"));
    std::fs::rename(
        lib.expect("helper built").path(),
        dir.path().join("helper.so"),
    )
    .expect("rename");
    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(dir.path()),
        "--output-format",
        "json",
    ]);
    let v = json(&o);
    assert_eq!(
        verdicts(&v).get("helper").map(|x| x.0.as_str()),
        Some("not-a-module")
    );
    assert_eq!(v["summary"]["files_skipped"], 1);
    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(dir.path()),
        "--output-format",
        "sarif",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let results = v["runs"][0]["results"].as_array().expect("sarif results");
    let text: Vec<String> = results
        .iter()
        .map(|r| format!("{} {}", r["ruleId"], r["message"]["text"]))
        .collect();
    assert!(text.iter().all(|t| t.contains("FT805")), "{text:?}");
    assert!(
        text.iter()
            .any(|t| t.contains("raiser.abi3.so") && t.contains("stable-ABI")),
        "{text:?}"
    );
    if dir
        .path()
        .join("spam.cpython-313-x86_64-linux-gnu.so")
        .exists()
    {
        assert!(
            text.iter().any(|t| t.contains("CPython 3.13 with the GIL")),
            "{text:?}"
        );
    }
    // A build folder that also holds other interpreters' modules: --ignore FT805.
    let o = ftaudit(&[
        "verify",
        "--python",
        s(&python),
        s(dir.path()),
        "--ignore",
        "FT805",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn a_gil_build_is_refused() {
    let Some(gil_python) = interpreter("FTAUDIT_PYTHON_GIL", "gil/bin/python3.13") else {
        return;
    };
    let o = ftaudit(&["verify", "--python", s(&gil_python), "--module", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a free-threaded build") && err.contains("Py_GIL_DISABLED"),
        "{err}"
    );
}

#[test]
#[cfg(unix)] // a shell-script wrapper
fn a_wrapper_that_sets_x_gil_is_refused() {
    let Some(python) = free_threaded() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let wrapper = dir.path().join("python-gil0");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{}' -X gil=0 \"$@\"\n", s(&python)),
    )
    .expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let o = ftaudit(&["verify", "--python", s(&wrapper), "--module", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("-X gil=0") && err.contains("every import would pass"),
        "{err}"
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn a_gil_enabled_at_start_up_is_refused_and_named() {
    let Some((b, python)) = setup() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sitecustomize.py"), "import inner\n").expect("write");
    let path = format!("{}:{}", s(dir.path()), s(&b.test_modules));
    let o = ftaudit_env(
        &["verify", "--python", s(&python), "--module", "json"],
        &[("PYTHONPATH", path.as_str())],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("already enabled when the interpreter starts")
            && err.contains("names `inner`"),
        "{err}"
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t; scripts/test.sh provides it"]
fn a_hang_in_python_code_shows_where_it_waits() {
    let Some(python) = free_threaded() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("waits.py"),
        "import threading\n\nthreading.Event().wait()\n",
    )
    .expect("write");
    let o = ftaudit_env(
        &[
            "verify",
            "--python",
            s(&python),
            "--module",
            "waits",
            "--timeout",
            "6",
            "--output-format",
            "json",
        ],
        &[("PYTHONPATH", s(dir.path()))],
    );
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "FT804");
    let help = d["help"].as_str().unwrap_or("");
    assert!(help.contains("waits.py\", line 3 in <module>"), "{help}");
}
