//! ftaudit as a Python tool: the wheel (`pip wheel .`, installed into fresh venvs, run as
//! `ftaudit` and `python -m ftaudit`), the pytest plugin under the provisioned 3.13t,
//! the pre-commit hook (`pre-commit try-repo`), the GitHub Action's script, and the
//! editor-facing options of `check` (`--stdin-filename`, `--force-exclude`,
//! `--output-format concise|json-lines`).
//!
//! PyPI packages (maturin, pre-commit, pytest) are installed once into venvs under
//! `$FTAUDIT_CACHE/pydeps` (default `~/.cache/ftaudit/pydeps`) and reused. The wheel is
//! built once per run with `CARGO_TARGET_DIR` set to this project's target folder and
//! the profile of the test build, so maturin packs the `ftaudit` executable cargo has
//! already built instead of compiling it again. Without python3 or PyPI these tests print
//! SKIPPED, unless FTAUDIT_REQUIRE_PYTHON=1 (scripts/test.sh), where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_ftaudit");

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run(cmd: &mut Command) -> Output {
    cmd.env_remove("PYTHON_GIL")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn required() -> bool {
    std::env::var("FTAUDIT_REQUIRE_PYTHON").as_deref() == Ok("1")
}

/// Skips (prints and returns `None`) or, when the interpreters are required, fails.
fn unavailable<T>(why: &str) -> Option<T> {
    if required() {
        panic!("{why} (FTAUDIT_REQUIRE_PYTHON=1)");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// This build's target folder (the parent of `CARGO_TARGET_TMPDIR`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf()
}

fn cache_dir() -> PathBuf {
    let base = std::env::var_os("FTAUDIT_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/ftaudit")))
        .unwrap_or_else(|| target_dir().join("ftaudit-cache"));
    base.join("pydeps")
}

fn venv_bin(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts")
    } else {
        venv.join("bin")
    }
}

fn venv_python(venv: &Path) -> PathBuf {
    venv_bin(venv).join(if cfg!(windows) {
        "python.exe"
    } else {
        "python"
    })
}

/// A venv made by `python` with `packages` from PyPI, reused while its stamp (the
/// interpreter and the package list) matches.
fn cached_venv(name: &str, python: &Path, packages: &[&str]) -> Option<PathBuf> {
    let venv = cache_dir().join(name);
    let stamp = venv.join("ftaudit-stamp");
    let want = format!("{}\n{}\n", python.display(), packages.join(" "));
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Some(venv);
    }
    let o = run(Command::new(python)
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    if !o.status.success() {
        return unavailable(&format!(
            "cannot make a venv with {}: {}",
            python.display(),
            text(&o)
        ));
    }
    let o = run(Command::new(venv_python(&venv))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages));
    if !o.status.success() {
        return unavailable(&format!(
            "cannot install {packages:?} from PyPI: {}",
            text(&o)
        ));
    }
    std::fs::write(&stamp, want).expect("write stamp");
    Some(venv)
}

fn system_python() -> Option<PathBuf> {
    let python = std::env::var_os("FTAUDIT_PYTHON_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    match Command::new(&python).arg("--version").output() {
        Ok(o) if o.status.success() => Some(python),
        _ => unavailable("python3 not found (set FTAUDIT_PYTHON_TOOLS)"),
    }
}

/// The venv with maturin and pre-commit.
fn tools() -> Option<PathBuf> {
    static TOOLS: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut guard = TOOLS.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = cached_venv(
            "tools",
            &system_python()?,
            &["maturin>=1.7,<2", "pre-commit"],
        );
    }
    guard.clone()
}

/// PATH with the tools venv first (maturin's build backend runs the `maturin` executable).
fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

/// `pip wheel .` once per run; the path of the wheel.
fn wheel() -> Option<PathBuf> {
    static WHEEL: OnceLock<Option<PathBuf>> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let tools = tools()?;
            let dist = Path::new(env!("CARGO_TARGET_TMPDIR")).join("integrations-dist");
            let _ = std::fs::remove_dir_all(&dist);
            // The profile cargo built the tests' `ftaudit` with: maturin then finds it fresh.
            let profile = if cfg!(debug_assertions) {
                "--profile dev"
            } else {
                "--release"
            };
            let o = run(Command::new(venv_python(&tools))
                .args(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation"])
                .args(["--disable-pip-version-check", "-w"])
                .arg(&dist)
                .arg(ROOT)
                .env("PATH", path_with(&venv_bin(&tools)))
                .env("CARGO_TARGET_DIR", target_dir())
                .env("MATURIN_PEP517_ARGS", profile));
            assert!(o.status.success(), "pip wheel . failed: {}", text(&o));
            let found = std::fs::read_dir(&dist)
                .expect("dist")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "whl"));
            Some(found.expect("a wheel in dist"))
        })
        .clone()
}

/// A fresh venv made by `python` with the wheel installed (nothing from PyPI).
fn venv_with_wheel(python: &Path, wheel: &Path, dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    let o = run(Command::new(python).args(["-m", "venv"]).arg(&venv));
    assert!(o.status.success(), "venv: {}", text(&o));
    let o = run(Command::new(venv_python(&venv))
        .args(["-m", "pip", "install", "--no-index", "--no-deps", "--quiet"])
        .args(["--disable-pip-version-check"])
        .arg(wheel));
    assert!(o.status.success(), "installing the wheel: {}", text(&o));
    venv
}

fn legacy_spam() -> PathBuf {
    Path::new(ROOT).join("examples/legacy-extension/src/spam.c")
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs_as_ftaudit_and_python_m_ftaudit() {
    let Some(python) = system_python() else {
        return;
    };
    let Some(wheel) = wheel() else { return };
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("ftaudit-{}-py3-none-", env!("CARGO_PKG_VERSION"))),
        "one wheel for every interpreter: {name}"
    );
    let dir = tempfile::tempdir().unwrap();
    let venv = venv_with_wheel(&python, &wheel, dir.path());

    let o = run(Command::new(venv_bin(&venv).join("ftaudit")).arg("--version"));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("ftaudit {}", env!("CARGO_PKG_VERSION"))
    );

    // From another folder, with the venv not on PATH: python -m finds its own executable.
    let o = run(Command::new(venv_python(&venv))
        .args(["-m", "ftaudit", "check", "--output-format", "concise"])
        .arg(legacy_spam())
        .current_dir(dir.path())
        .env("PATH", "/nonexistent"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("spam.c:23:1: FT001 "), "{out}");

    let o = run(Command::new(venv_python(&venv)).args(["-m", "ftaudit", "--bogus"]));
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad arguments exit 2 through python -m"
    );
    let o = run(Command::new(venv_python(&venv)).args([
        "-c",
        "import ftaudit, os; p = ftaudit.find_ftaudit_bin(); print(p); assert os.path.isfile(p)",
    ]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with(&*venv_bin(&venv).to_string_lossy()));
}

#[test]
fn the_action_script_installs_the_wheel_and_puts_it_on_the_path() {
    let Some(python) = system_python() else {
        return;
    };
    let Some(wheel) = wheel() else { return };
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("action-venv");
    let github_path = dir.path().join("github-path");
    let o = run(Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/github-action.sh"))
        .arg("install")
        .env("PYTHON", &python)
        .env("INPUT_INSTALL", &wheel)
        .env("FTAUDIT_VENV", &venv)
        .env("GITHUB_PATH", &github_path)
        .env("PIP_NO_INDEX", "1"));
    assert!(o.status.success(), "{}", text(&o));
    let added = std::fs::read_to_string(&github_path).unwrap();
    assert_eq!(added.trim(), venv_bin(&venv).to_string_lossy());
    assert!(Path::new(added.trim()).join("ftaudit").is_file());
}

fn action_run(dir: &Path, env: &[(&str, &str)]) -> (Output, String) {
    let outputs = dir.join("github-output");
    let _ = std::fs::remove_file(&outputs);
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts/github-action.sh"))
        .arg("run")
        .current_dir(ROOT)
        .env("FTAUDIT", BIN)
        .env("GITHUB_OUTPUT", &outputs);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = run(&mut cmd);
    (o, std::fs::read_to_string(&outputs).unwrap_or_default())
}

#[test]
fn the_action_script_writes_sarif_and_annotations_and_sets_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let sarif_s = sarif.to_string_lossy().into_owned();
    let args = "examples/legacy-extension/src/spam.c --select FT0";
    let (o, outputs) = action_run(
        dir.path(),
        &[
            ("INPUT_ARGS", args),
            ("INPUT_OUTPUT_FORMAT", "sarif"),
            ("INPUT_SARIF_FILE", &sarif_s),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "findings fail the step: {}",
        text(&o)
    );
    assert!(
        outputs.contains(&format!("sarif-file={sarif_s}\n")),
        "{outputs}"
    );
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "FT001"), "{doc}");

    let (o, outputs) = action_run(
        dir.path(),
        &[
            ("INPUT_ARGS", args),
            ("INPUT_OUTPUT_FORMAT", "sarif"),
            ("INPUT_SARIF_FILE", &sarif_s),
            ("INPUT_EXIT_ZERO", "true"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "exit-zero: {}", text(&o));
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");

    let (o, _) = action_run(
        dir.path(),
        &[("INPUT_ARGS", args), ("INPUT_OUTPUT_FORMAT", "github")],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("::error file=examples/legacy-extension/src/spam.c,line=23,")),
        "{out}"
    );

    let (o, outputs) = action_run(
        dir.path(),
        &[
            ("INPUT_ARGS", "examples/ported-extension/src/spam.c"),
            ("INPUT_OUTPUT_FORMAT", "github"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(outputs.contains("exit-code=0\n"));

    let (o, _) = action_run(dir.path(), &[("INPUT_OUTPUT_FORMAT", "junit")]);
    assert_eq!(o.status.code(), Some(2), "an unknown format is an error");
    // Errors are not findings: exit-zero does not hide them.
    let (o, outputs) = action_run(
        dir.path(),
        &[
            ("INPUT_ARGS", "does-not-exist.c"),
            ("INPUT_EXIT_ZERO", "true"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(outputs.contains("exit-code=2\n"));
}

// --- the pytest plugin under the free-threaded interpreter ---------------------------

struct PytestEnv {
    venv: PathBuf,
    modules: PathBuf,
}

fn pytest_env() -> Option<&'static PytestEnv> {
    static ENV: OnceLock<Option<PytestEnv>> = OnceLock::new();
    ENV.get_or_init(|| {
        let python = common::free_threaded()?;
        let wheel = wheel()?;
        let venv = cached_venv("pytest-ft", &python, &["pytest"])?;
        let o = run(Command::new(venv_python(&venv))
            .args(["-m", "pip", "install", "--no-index", "--no-deps", "--quiet"])
            .args(["--force-reinstall", "--disable-pip-version-check"])
            .arg(&wheel));
        assert!(o.status.success(), "installing the wheel: {}", text(&o));
        let modules = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pytest-plugin-modules");
        let src = Path::new(ROOT).join("tests/pytest-plugin");
        let o = run(Command::new(&python)
            .arg(Path::new(ROOT).join("scripts/compile-extension.py"))
            .arg("--python")
            .arg(&python)
            .arg("--out")
            .arg(&modules)
            .arg(src.join("declared.c"))
            .arg(src.join("undeclared.c")));
        assert!(o.status.success(), "compiling: {}", text(&o));
        Some(PytestEnv { venv, modules })
    })
    .as_ref()
}

/// Runs pytest in a new project made of `files`; returns its output.
fn pytest(env: &PytestEnv, files: &[(&str, &str)], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    run(Command::new(venv_python(&env.venv))
        .args(["-m", "pytest", "-p", "no:cacheprovider", "-q"])
        .args(args)
        .current_dir(dir.path())
        .env("PYTHONPATH", &env.modules)
        .env_remove("PYTEST_ADDOPTS")
        .env_remove("PYTEST_PLUGINS")
        .stdin(Stdio::null()))
}

const TEST_DECLARED: &str =
    "import declared\n\ndef test_declared():\n    assert declared.answer == 42\n";
const TEST_UNDECLARED: &str =
    "import undeclared\n\ndef test_undeclared():\n    assert undeclared.answer == 42\n";

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn pytest_session_importing_only_declared_modules_passes() {
    let Some(env) = pytest_env() else { return };
    let o = pytest(env, &[("test_declared.py", TEST_DECLARED)], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 passed"), "{out}");
    // The plugin was active (its header), not merely absent.
    let o = pytest(env, &[("test_declared.py", TEST_DECLARED)], &["-v"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ftaudit: failing the session if an import re-enables the GIL"),
        "{out}"
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn pytest_session_fails_and_names_the_module_that_re_enabled_the_gil_at_collection() {
    let Some(env) = pytest_env() else { return };
    let files = [
        ("test_declared.py", TEST_DECLARED),
        ("test_undeclared.py", TEST_UNDECLARED),
    ];
    let o = pytest(env, &files, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("2 passed"), "the tests themselves pass: {out}");
    assert!(
        out.contains(
            "importing `undeclared` re-enabled the GIL (imported by `test_undeclared`) during collection of test_undeclared.py"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "\"The global interpreter lock (GIL) has been enabled to load module 'undeclared'"
        ),
        "CPython's warning is quoted: {out}"
    );
    assert!(out.contains("--ftaudit-allow-gil=undeclared"), "{out}");

    // Collection alone is enough to fail.
    let o = pytest(env, &files, &["--collect-only"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Accepted by name, or the plugin turned off: the session passes.
    let o = pytest(env, &files, &["--ftaudit-allow-gil=undeclared"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("accepted by --ftaudit-allow-gil"));
    let o = pytest(env, &files, &["--ftaudit-allow-gil=other,something"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "another module's name does not accept it"
    );
    let o = pytest(env, &files, &["-p", "no:ftaudit"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut with_ini = files.to_vec();
    with_ini.push(("pytest.ini", "[pytest]\nftaudit_check_gil = false\n"));
    let o = pytest(env, &with_ini, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut allowed_ini = files.to_vec();
    allowed_ini.push((
        "pytest.ini",
        "[pytest]\nftaudit_allow_gil =\n    undeclared\n",
    ));
    let o = pytest(env, &allowed_ini, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn pytest_names_a_module_imported_inside_a_test_by_a_package() {
    let Some(env) = pytest_env() else { return };
    let files = [
        ("pkg/__init__.py", "from undeclared import answer\n"),
        (
            "test_late.py",
            "def test_late():\n    import pkg\n    assert pkg.answer == 42\n",
        ),
    ];
    let o = pytest(env, &files, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "importing `undeclared` re-enabled the GIL (imported by `pkg`) during test test_late.py::test_late"
        ),
        "{out}"
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn pytest_plugin_stays_off_when_the_gil_was_chosen_at_start_up() {
    let Some(env) = pytest_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_undeclared.py"), TEST_UNDECLARED).unwrap();
    let o = run(Command::new(venv_python(&env.venv))
        .args([
            "-X",
            "gil=1",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
        ])
        .current_dir(dir.path())
        .env("PYTHONPATH", &env.modules));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

// --- pre-commit ----------------------------------------------------------------------

/// Copies what `pip install .` needs into a new git repository (try-repo wants one).
fn hook_repository(dest: &Path) {
    fn copy(from: &Path, to: &Path) {
        if from.is_dir() {
            std::fs::create_dir_all(to).unwrap();
            for e in std::fs::read_dir(from).unwrap().flatten() {
                copy(&e.path(), &to.join(e.file_name()));
            }
        } else {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::copy(from, to).unwrap();
        }
    }
    std::fs::create_dir_all(dest).unwrap();
    for item in [
        "Cargo.toml",
        "Cargo.lock",
        "pyproject.toml",
        "README.md",
        ".pre-commit-hooks.yaml",
        "src",
        "python",
        "benches",
        // Cargo.toml names this test target (`harness = false`), so the manifest
        // does not parse without it.
        "tests/fuzz.rs",
    ] {
        copy(&Path::new(ROOT).join(item), &dest.join(item));
    }
    git(dest, &["init", "-q"]);
    git(dest, &["add", "."]);
    git(dest, &["commit", "-q", "-m", "hook repository"]);
}

fn git(dir: &Path, args: &[&str]) {
    let o = run(Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "ftaudit-test")
        .env("GIT_AUTHOR_EMAIL", "test@ftaudit.invalid")
        .env("GIT_COMMITTER_NAME", "ftaudit-test")
        .env("GIT_COMMITTER_EMAIL", "test@ftaudit.invalid"));
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
}

#[test]
fn pre_commit_try_repo_fails_on_a_legacy_module_and_passes_on_a_ported_one() {
    let Some(tools) = tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hooks = dir.path().join("hooks");
    hook_repository(&hooks);
    let sample = dir.path().join("sample");
    std::fs::create_dir_all(sample.join("vendored")).unwrap();
    std::fs::copy(legacy_spam(), sample.join("legacy.c")).unwrap();
    // A different module (`ham`): two definitions of `spam` would be one module
    // defined twice to the cross-file rules.
    std::fs::copy(
        Path::new(ROOT).join("examples/ported-extension/src/ham.c"),
        sample.join("ported.c"),
    )
    .unwrap();
    std::fs::copy(legacy_spam(), sample.join("vendored/copy.c")).unwrap();
    std::fs::write(
        sample.join("ftaudit.toml"),
        "extend-exclude = [\"vendored\"]\n",
    )
    .unwrap();
    git(&sample, &["init", "-q"]);
    git(&sample, &["add", "."]);

    // The hook's isolated build needs maturin: from a local wheelhouse, so that the two
    // installs below do not go to PyPI again.
    let wheelhouse = cache_dir().join("wheelhouse");
    if !wheelhouse.is_dir() {
        let o = run(Command::new(venv_python(&tools))
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--only-binary", ":all:", "-d"])
            .arg(&wheelhouse)
            .arg("maturin>=1.7,<2"));
        assert!(o.status.success(), "pip download maturin: {}", text(&o));
    }
    let try_repo = |files: &[&str]| {
        run(Command::new(venv_bin(&tools).join("pre-commit"))
            .arg("try-repo")
            .arg(&hooks)
            .arg("ftaudit")
            .arg("--files")
            .args(files)
            .current_dir(&sample)
            .env("PRE_COMMIT_HOME", dir.path().join("pre-commit-home"))
            .env("PATH", path_with(&venv_bin(&tools)))
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &wheelhouse)
            // The hook's `pip install .` builds with maturin: in its own target folder
            // (not the tests' binary), keeping compiled dependencies between runs.
            // try-repo clones into a new folder each time, so the crate itself is built
            // again: without debug info or incremental data, which is quicker.
            .env("CARGO_TARGET_DIR", target_dir().join("pre-commit-hook"))
            .env("MATURIN_PEP517_ARGS", "--profile dev")
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("CARGO_INCREMENTAL", "0"))
    };
    // The ported module and an excluded copy of the legacy one: the hook passes.
    let o = try_repo(&["ported.c", "vendored/copy.c"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ftaudit") && out.contains("Passed"), "{out}");
    // The legacy module: the hook fails and shows the finding.
    let o = try_repo(&["legacy.c", "ported.c"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("legacy.c:23:1: FT001"), "{out}");
    assert!(!out.contains("ported.c:"), "{out}");
}

// --- editor options of `check` --------------------------------------------------------

fn ftaudit(args: &[&str], cwd: &Path, stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ftaudit");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_filename_checks_the_buffer_with_the_projects_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = std::fs::read_to_string(legacy_spam()).unwrap();
    let ported =
        std::fs::read_to_string(Path::new(ROOT).join("examples/ported-extension/src/spam.c"))
            .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    // On disk: the ported module. In the editor's buffer: the legacy text.
    std::fs::write(dir.path().join("src/spam.c"), &ported).unwrap();
    let o = ftaudit(
        &[
            "check",
            "--stdin-filename",
            "src/spam.c",
            "--output-format",
            "concise",
        ],
        dir.path(),
        Some(&legacy),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec!["src/spam.c:23:1: FT001 module `spam`: slot array `spam_slots` has no `Py_mod_gil` entry, so importing it re-enables the GIL"],
        "concise: one line per finding, nothing else"
    );
    // A file that does not exist yet, and the project's configuration applies to it.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nignore = [\"FT001\"]\n",
    )
    .unwrap();
    let o = ftaudit(
        &[
            "check",
            "--stdin-filename",
            "src/new.c",
            "--output-format",
            "json-lines",
        ],
        dir.path(),
        Some(&legacy),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "FT001 is ignored by the configuration: {}",
        text(&o)
    );
    assert!(o.stdout.is_empty());
    std::fs::write(dir.path().join("pyproject.toml"), "[tool.ftaudit]\n").unwrap();
    let o = ftaudit(
        &[
            "check",
            "--stdin-filename",
            "src/new.c",
            "--output-format",
            "json-lines",
        ],
        dir.path(),
        Some(&legacy),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["code"], "FT001");
    assert_eq!(lines[0]["path"], "src/new.c");
    assert_eq!(lines[0]["line"], 23);
    // Paths and --stdin-filename do not mix.
    let o = ftaudit(
        &["check", "--stdin-filename", "a.c", "b.c"],
        dir.path(),
        Some(""),
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn force_exclude_applies_the_excludes_to_named_files() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["third_party", "build", "src"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(legacy_spam(), dir.path().join(sub).join("spam.c")).unwrap();
    }
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nextend-exclude = [\"third_party\"]\n",
    )
    .unwrap();
    let named = ["third_party/spam.c", "build/spam.c", "src/spam.c"];
    let mut args = vec!["check", "--output-format", "concise"];
    args.extend(named);
    let o = ftaudit(&args, dir.path(), None);
    let out = String::from_utf8_lossy(&o.stdout);
    for n in named {
        assert!(
            out.contains(&format!("{n}:23:1: FT001")),
            "named files are checked: {out}"
        );
    }
    args.push("--force-exclude");
    let o = ftaudit(&args, dir.path(), None);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines()
            .map(|l| l.split(':').next().unwrap())
            .collect::<Vec<_>>(),
        vec!["src/spam.c"],
        "configured (third_party) and default (build) excludes: {out}"
    );
    // From another folder, by an absolute path: relative to the project root.
    let abs = dir.path().join("third_party/spam.c");
    let o = ftaudit(
        &["check", "--force-exclude", "-q", abs.to_str().unwrap()],
        Path::new(ROOT),
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
