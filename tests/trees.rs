//! Syntax trees live only through each file's own phase, and the fixes of project
//! findings that need a tree are built afterwards from a new parse.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use ftaudit::check;
use ftaudit::config::{Overrides, Settings};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ftaudit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ftaudit")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// With every tree kept until the project checks (as before), the peak would be
/// the number of files; released at the end of each file's phase, it is about
/// one per worker thread (two when a thread waiting on nested parallel work
/// picks up another file meanwhile).
#[test]
fn trees_are_released_after_each_files_phase() {
    let dir = root().join("tests/fixtures");
    let files = walk(&dir);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(files > 4 * threads + 2, "too few files to tell: {files}");
    let settings = Settings::resolve(&dir, &Overrides::default()).expect("settings");
    let roots = vec![(dir.clone(), Arc::new(settings))];
    ftaudit::source::reset_peak_trees();
    let before = ftaudit::source::live_trees().0;
    let result = check::run(&roots, &Default::default());
    let (live, peak) = ftaudit::source::live_trees();
    assert!(result.files_analysed >= files, "{}", result.files_analysed);
    assert!(!result.diagnostics.is_empty());
    // Project findings with tree-placed fixes got them from a new parse.
    assert!(result
        .diagnostics
        .iter()
        .any(|d| d.deferred_fix.as_ref().is_some_and(|f| f.built) && d.fix.is_some()));
    eprintln!("{files} files, {threads} threads: at most {peak} trees alive at once");
    assert_eq!(live, before, "trees outlived the run");
    assert!(
        peak <= before + 2 * threads,
        "{peak} trees alive at once for {files} files on {threads} threads"
    );
}

fn walk(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += walk(&p);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("c" | "h" | "cpp")
        ) {
            n += 1;
        }
    }
    n
}

/// The fixes built after the project phase are those built during it before:
/// `--diff --unsafe-fixes` on the example is the snapshot taken with the eager
/// fixes (byte for byte the output of the build before trees were released).
#[test]
fn deferred_fixes_equal_the_eager_ones() {
    let o = ftaudit(
        &[
            "check",
            "--no-cache",
            "--diff",
            "--unsafe-fixes",
            "tests/fixtures/state",
            "examples/legacy-extension",
        ],
        &root(),
    );
    let out = stdout(&o);
    // FT001 (`SetGIL` placement), FT403 (static buffers to locals or
    // thread-locals), FT406/FT409 (method body locked) are placed on the tree
    // after the project phase (FT401's atomic counters: `tests/fix_shapes.rs`).
    for marker in [
        "+    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);",
        "+    char label[64] = {0};",
        "FTAUDIT_THREAD_LOCAL _Thread_local",
        "+        Py_BEGIN_CRITICAL_SECTION(self);",
    ] {
        assert!(out.contains(marker), "{marker} missing from:\n{out}");
    }
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("deferred_fixes_unsafe_diff", out);
    });
}

/// Text output does not build the unsafe fixes that need a tree: it counts them
/// as "up to", the same whether or not a cached run built them; JSON carries them.
#[test]
fn text_counts_unbuilt_unsafe_fixes_as_up_to() {
    let text = stdout(&ftaudit(
        &["check", "--no-cache", "examples/legacy-extension"],
        &root(),
    ));
    assert!(
        text.contains("up to 16 more can be fixed with `--fix --unsafe-fixes`"),
        "{text}"
    );
    let json = stdout(&ftaudit(
        &[
            "check",
            "--no-cache",
            "--output-format",
            "json",
            "examples/legacy-extension",
        ],
        &root(),
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fixed_ft406 = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "FT406" && d["fix"]["edits"].is_array())
        .count();
    assert!(fixed_ft406 > 0, "{json}");
}

/// A text run leaves unsafe tree-placed fixes as requests in the cache; a JSON
/// re-run answered from that entry builds them (and stores them), with the same
/// output as a run without the cache.
#[test]
fn cached_requests_are_built_when_a_later_run_needs_edits() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push("examples/legacy-extension");
        stdout(&ftaudit(&all, &root()))
    };
    let text = run(&["--cache-dir", dir]);
    assert!(text.contains("up to 16 more"), "{text}");
    let plain = run(&["--no-cache", "--output-format", "json"]);
    assert_eq!(run(&["--cache-dir", dir, "--output-format", "json"]), plain);
    assert_eq!(run(&["--cache-dir", dir, "--output-format", "json"]), plain);
    assert_eq!(run(&["--cache-dir", dir]), text);
}

/// A module init named through a header's macro is found after the files' own
/// phase: its `SetGIL` placement is a request, built from a new parse, the same
/// as when trees were kept. (Inits found in the file itself get theirs while
/// the tree is alive.)
#[test]
fn set_gil_of_an_init_found_through_a_header_is_built_later() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("module.h"),
        "#define INIT_NAME PyInit_spam\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("spam.c"),
        "#include <Python.h>\n#include \"module.h\"\n\nstatic struct PyModuleDef spam_def = {\n    PyModuleDef_HEAD_INIT, \"spam\", NULL, -1, NULL,\n};\n\nPyMODINIT_FUNC\nINIT_NAME(void)\n{\n    PyObject *m = PyModule_Create(&spam_def);\n    if (m == NULL) {\n        return NULL;\n    }\n    return m;\n}\n",
    )
    .unwrap();
    let args = [
        "check",
        "--no-cache",
        "--isolated",
        "--select",
        "FT001",
        ".",
    ];
    let text = stdout(&ftaudit(&args, dir.path()));
    assert!(text.contains("up to 1 more can be fixed"), "{text}");
    let diff = stdout(&ftaudit(
        &[&args[..], &["--diff", "--unsafe-fixes"]].concat(),
        dir.path(),
    ));
    assert!(
        diff.contains("     }\n+#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)\n+    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);\n+#endif\n     return m;"),
        "{diff}"
    );
}
