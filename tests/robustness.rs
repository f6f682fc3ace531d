//! Hostile and degenerate inputs: nothing crashes, hangs, takes gigabytes, or is
//! written where it should not be. Inputs are generated here, not committed.
//!
//! The binary runs with its address space capped ([`MEMORY_CAP`]) and a wall-clock
//! limit, so a regression fails the test instead of taking the machine with it.

// rlimits, FIFOs and the effective uid need libc calls.
#![allow(unsafe_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space of the analysed run (a debug build with 64 MB worker stacks
/// reserves a few hundred MB of it without using them).
const MEMORY_CAP: u64 = 2 << 30;

struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn ftaudit_in(dir: &Path, args: &[&str], timeout: Duration) -> Run {
    ftaudit_env(dir, args, timeout, &[])
}

fn ftaudit_env(dir: &Path, args: &[&str], timeout: Duration, envs: &[(&str, &str)]) -> Run {
    ftaudit_capped(dir, args, timeout, envs, MEMORY_CAP)
}

/// [`ftaudit_env`] with the address space capped at `cap` bytes.
fn ftaudit_capped(
    dir: &Path,
    args: &[&str],
    timeout: Duration,
    envs: &[(&str, &str)],
    cap: u64,
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
    cmd.envs(envs.iter().copied());
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: cap as libc::rlim_t,
                    rlim_max: cap as libc::rlim_t,
                };
                libc::setrlimit(libc::RLIMIT_AS, &lim);
                Ok(())
            });
        }
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("run ftaudit");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ftaudit {args:?} took longer than {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    Run {
        status: status.code(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        took,
    }
}

fn check(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--isolated"];
    args.extend_from_slice(extra);
    ftaudit_in(dir, &args, Duration::from_secs(120))
}

/// The run ended normally with a report: exit 0 or 1, no panic.
fn assert_reported(r: &Run) {
    assert!(
        matches!(r.status, Some(0 | 1)),
        "status {:?}\nstderr: {}",
        r.status,
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stdout.contains("analysed"), "{}", r.stdout);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// A module with one safe fix: FT001's slot insertion.
const FIXABLE: &str = r#"#include <Python.h>
static int exec(PyObject *m) { return 0; }
static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec},
    {0, NULL}
};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "m", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_m(void) { return PyModuleDef_Init(&def); }
"#;

// ---------------------------------------------------------------------------
// Crashes

#[test]
fn non_ascii_before_pymodinit_func_does_not_crash() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.c",
        "/* é */ PyMODINIT_FUNC PyInit_a(void) { return 0; }\n",
    );
    write(
        d.path(),
        "b.c",
        "MY_VÉSIBILITY PyMODINIT_FUNC PyInit_b(void) { return 0; }\n",
    );
    let r = check(d.path(), &[]);
    assert_reported(&r);
    assert!(r.stdout.contains("2 files analysed"), "{}", r.stdout);
}

#[test]
fn deeply_nested_initializers_do_not_overflow_the_stack() {
    let d = tempfile::tempdir().unwrap();
    let deep = |n: usize| format!("int x[] = {}1{};\n", "{".repeat(n), "}".repeat(n));
    write(d.path(), "one.c", &deep(20_000));
    for i in 0..3 {
        write(d.path(), &format!("f{i}.c"), &deep(5_000));
    }
    let r = check(d.path(), &[]);
    assert_reported(&r);
    assert!(r.stdout.contains("4 files analysed"), "{}", r.stdout);
}

#[test]
fn deeply_nested_if_expressions_do_not_overflow_the_stack() {
    let d = tempfile::tempdir().unwrap();
    let parens = format!(
        "#if {}1{}\nint x;\n#endif\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let nots = format!("#if {}A\nint y;\n#endif\n", "!".repeat(50_000));
    let ors = format!("#if A{}\nint z;\n#endif\n", " || A".repeat(50_000));
    write(d.path(), "p.c", &parens);
    write(d.path(), "n.c", &nots);
    write(d.path(), "o.c", &ors);
    assert_reported(&check(d.path(), &[]));
}

/// A panic in one file is that file's error; the others are still reported.
#[test]
#[cfg(debug_assertions)]
fn a_panic_in_one_file_is_isolated() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "boom.c", "int x;\n");
    write(d.path(), "ok.c", FIXABLE);
    let r = ftaudit_env(
        d.path(),
        &["check", "--isolated", "--output-format", "json", "."],
        Duration::from_secs(60),
        &[("FTAUDIT_DEBUG_PANIC_ON", "boom.c")],
    );
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("boom.c: internal error") && r.stderr.contains("please report"),
        "{}",
        r.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("a report");
    assert!(
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["path"].as_str().unwrap().ends_with("ok.c")),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------
// Resource budgets

#[test]
fn long_elif_chains_stay_small_and_are_reported_as_partly_analysed() {
    let d = tempfile::tempdir().unwrap();
    let chain = |n: usize| {
        let mut s = String::from("#if A0\nint a0;\n");
        for i in 1..n {
            s.push_str(&format!("#elif A{i}\nint a{i};\n"));
        }
        s + "#endif\n"
    };
    write(d.path(), "short.c", &chain(40));
    write(d.path(), "long.c", &chain(20_000));
    let r = check(d.path(), &[]);
    assert_reported(&r);
    assert!(
        r.stderr
            .contains("long.c: partly analysed: an #if group with more than"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("short.c"), "{}", r.stderr);
    assert!(r.stdout.contains("1 only partly"), "{}", r.stdout);
}

#[test]
fn deep_conditional_nesting_stays_small() {
    let d = tempfile::tempdir().unwrap();
    let n = 10_000;
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("#ifdef X{i}\n"));
    }
    s.push_str("int x;\n");
    for _ in 0..n {
        s.push_str("#else\nint y;\n#endif\n");
    }
    write(d.path(), "deep.c", &s);
    let r = check(d.path(), &["--output-format", "json"]);
    assert_eq!(r.status, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("partly analysed: conditionals nested deeper than"),
        "{}",
        r.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["summary"]["files_partly_analysed"], 1);
}

/// Rules that ask per function once rescanned every call of the file: 80,000
/// functions took minutes. Four times the functions must take well under sixteen
/// times as long (a quadratic cost would).
#[test]
fn many_functions_in_one_file_take_near_linear_time() {
    let timed = |n: usize| {
        let d = tempfile::tempdir().unwrap();
        let mut s = String::from("#include <Python.h>\n");
        for i in 0..n {
            s.push_str(&format!(
                "static PyObject *f{i}(PyObject *self, PyObject *args) {{ PyObject *l = PyList_New(0); PyList_Append(l, args); return f{}(self, l); }}\n",
                i.saturating_sub(1)
            ));
        }
        write(d.path(), "many.c", &s);
        let r = check(d.path(), &[]);
        assert_reported(&r);
        r.took
    };
    let small = timed(2_000);
    let large = timed(8_000);
    assert!(
        large < small * 8 + Duration::from_secs(5),
        "2,000 functions: {small:?}; 8,000: {large:?}"
    );
}

#[test]
fn a_long_single_line_stays_within_memory() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "line.c",
        &format!("int x[] = {{{}1}};\n", "1,".repeat(1_000_000)),
    );
    assert_reported(&check(d.path(), &[]));
}

#[test]
fn deeply_nested_cpp_lambdas_stay_within_memory() {
    let d = tempfile::tempdir().unwrap();
    let n = 3_000;
    write(
        d.path(),
        "l.cpp",
        &format!(
            "auto f = {}1{};\n",
            "[](){ return ".repeat(n),
            ";}()".repeat(n)
        ),
    );
    assert_reported(&check(d.path(), &[]));
}

/// Address space for the parse budget tests: what ftaudit reserves in a debug build
/// plus the 192 MB parse budget and a few copies of a 10 MB text, with room to
/// spare, and well under what these inputs took before the budget (1.4 to 2.3 GB).
const PARSE_TEST_CAP: u64 = 1 << 30;

/// A JSON check of `dir` under [`PARSE_TEST_CAP`], and the report.
fn check_parse_budget(dir: &Path, timeout: Duration) -> (Run, serde_json::Value) {
    let r = ftaudit_capped(
        dir,
        &["check", "--isolated", "--output-format", "json", "."],
        timeout,
        &[],
        PARSE_TEST_CAP,
    );
    assert!(
        matches!(r.status, Some(0 | 1)),
        "{:?}\n{}",
        r.status,
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let json = serde_json::from_str(&r.stdout).expect("a JSON report");
    (r, json)
}

/// The FT001 finding of [`FIXABLE`] appended after a hostile part: the code after
/// it still parses.
fn finds_ft001_after(json: &serde_json::Value, line: u64) -> bool {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "FT001" && d["line"].as_u64().is_some_and(|l| l > line))
}

/// A 10 MB line took 46 s and 2.3 GB, nearly all in tree-sitter: the parser now
/// sees its first 64 KiB and its brackets.
#[test]
fn a_ten_megabyte_line_is_cut_for_the_parser() {
    let d = tempfile::tempdir().unwrap();
    let line = format!("int x[] = {{{}1}};\n", "1,".repeat(5_000_000));
    write(d.path(), "line.c", &(line + FIXABLE));
    let (r, json) = check_parse_budget(d.path(), Duration::from_secs(60));
    assert!(
        r.stderr.contains(
            "line.c: partly analysed: lines longer than 65536 bytes (the first at line 1)"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(json["summary"]["files_partly_analysed"], 1);
    assert_eq!(
        json["summary"]["files_with_parse_errors"], 0,
        "{}",
        r.stdout
    );
    assert!(finds_ft001_after(&json, 1), "{}", r.stdout);
}

/// Ten thousand nested lambdas took 28 s and 1.65 GB: brackets nested deeper than
/// 256 levels are blanked with what they hold.
#[test]
fn ten_thousand_nested_lambdas_are_cut_for_the_parser() {
    let d = tempfile::tempdir().unwrap();
    let n = 10_000;
    let deep = format!(
        "auto f = {}1{};\n",
        "[](){ return\n".repeat(n),
        ";}()\n".repeat(n)
    );
    write(d.path(), "l.cpp", &(deep + FIXABLE));
    let (r, json) = check_parse_budget(d.path(), Duration::from_secs(60));
    assert!(
        r.stderr
            .contains("l.cpp: partly analysed: brackets nested deeper than 256 levels (the first at line 257)"),
        "{}",
        r.stderr
    );
    assert_eq!(json["summary"]["files_partly_analysed"], 1);
    assert!(finds_ft001_after(&json, 2 * n as u64), "{}", r.stdout);
}

/// Ambiguous C++ in short lines: tree-sitter held 1.4 GB for a megabyte of
/// `a<b<a<b<...`. The parse stops at its memory budget and the start of the file
/// is parsed again alone.
#[test]
fn a_parse_past_its_work_budget_is_cut_and_reported() {
    let d = tempfile::tempdir().unwrap();
    let line = format!("int x = {};\n", "a<b<".repeat(250));
    write(d.path(), "t.cpp", &line.repeat(1000));
    write(d.path(), "ok.c", FIXABLE);
    let (r, json) = check_parse_budget(d.path(), Duration::from_secs(90));
    assert!(
        r.stderr.contains(
            "t.cpp: partly analysed: the parser's work budget ran out: the file was not parsed from line"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("ok.c"), "{}", r.stderr);
    assert_eq!(json["summary"]["files_partly_analysed"], 1);
    assert!(finds_ft001_after(&json, 0), "{}", r.stdout);
}

/// A fuzzed setup.py of colons kept tree-sitter-python's error recovery busy for 16
/// seconds (150,000 operations): the parse has a time bound too.
#[test]
fn a_setup_py_of_colons_is_parsed_within_the_budget() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "setup.py",
        &format!("x[p{}{{{}]\n", ":".repeat(40), ":".repeat(37_000)),
    );
    let (r, json) = check_parse_budget(d.path(), Duration::from_secs(30));
    assert!(
        r.stderr.contains("the parser's work budget ran out here"),
        "{}",
        r.stderr
    );
    assert_eq!(json["summary"]["files_with_parse_errors"], 1);
}

/// Tokens of nested meson calls were copied into every enclosing call: 30,000
/// nested calls would take tens of gigabytes. And each unclosed CMake bracket
/// argument searched the rest of the file for its end.
#[test]
fn nested_build_calls_and_unclosed_brackets_stay_linear() {
    let d = tempfile::tempdir().unwrap();
    let n = 30_000;
    write(
        d.path(),
        "meson.build",
        &format!("{}'x'{}\n", "f(".repeat(n), ")".repeat(n)),
    );
    write(d.path(), "sub/CMakeLists.txt", &"x([[ ".repeat(n));
    let (r, _) = check_parse_budget(d.path(), Duration::from_secs(30));
    assert!(r.took < Duration::from_secs(15), "{:?}", r.took);
}

/// A fuzzer find: hundreds of nested declarations of one CMake target gave each of
/// them every later token as a source, 21 million in all, and the scope took minutes
/// to resolve them. A target is now resolved once and a module's list is bounded.
#[test]
fn repeated_nested_cmake_targets_stay_linear() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "CMakeLists.txt",
        &format!(
            "cmake_minimum_required(VERSION 3.18)\n{}m.c\n",
            "Python_add_library(".repeat(840)
        ),
    );
    write(d.path(), "m.c", "int x;\n");
    let (r, _) = check_parse_budget(d.path(), Duration::from_secs(60));
    assert!(r.took < Duration::from_secs(15), "{:?}", r.took);
}

#[test]
fn too_many_exclude_patterns_are_a_config_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.c", "int x;\n");
    let globs: Vec<String> = (0..20_000).map(|i| format!("\"d{i}/*.c\"")).collect();
    write(
        d.path(),
        "ftaudit.toml",
        &format!("extend-exclude = [{}]\n", globs.join(",")),
    );
    let r = ftaudit_in(d.path(), &["check", "."], Duration::from_secs(60));
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("more than the 10000"), "{}", r.stderr);
}

/// A bare "binary" is checked for its format before it is read: a 3 GB file of
/// zeros (sparse, so it costs no disk) is refused at once.
#[test]
#[cfg(unix)]
fn a_huge_bare_binary_is_not_read_whole() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.cpython-313t-x86_64-linux-gnu.so");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(3 << 30).unwrap();
    let r = ftaudit_in(
        d.path(),
        &["wheel", p.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("not a recognised binary"), "{}", r.stderr);
    // An ELF header over the size limit is refused without reading it either.
    let mut head = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    std::io::Write::write_all(&mut head, b"\x7fELF").unwrap();
    let r = ftaudit_in(
        d.path(),
        &["wheel", p.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("over the"), "{}", r.stderr);
}

#[test]
fn an_empty_zip_is_not_a_wheel() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x-1.0-cp313-cp313t-linux_x86_64.whl");
    zip::ZipWriter::new(std::fs::File::create(&p).unwrap())
        .finish()
        .unwrap();
    let r = ftaudit_in(
        d.path(),
        &["wheel", p.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("empty archive"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------
// Discovery

/// Twelve levels of folders, each reaching the next through two links: walked
/// naively, the one file at the bottom is reached 4,096 times.
#[test]
#[cfg(unix)]
fn a_dag_of_folder_links_is_walked_once() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("tree");
    let levels = 12;
    for i in 0..=levels {
        std::fs::create_dir_all(root.join(format!("l{i}"))).unwrap();
    }
    for i in 0..levels {
        for name in ["a", "b"] {
            std::os::unix::fs::symlink(format!("../l{}", i + 1), root.join(format!("l{i}/{name}")))
                .unwrap();
        }
    }
    write(&root, &format!("l{levels}/x.c"), FIXABLE);
    let r = check(&root.join("l0"), &[]);
    assert_reported(&r);
    assert!(
        r.stdout.contains("1 finding in 1 file; 1 file analysed"),
        "{}",
        r.stdout
    );
}

#[test]
#[cfg(target_os = "linux")]
fn links_to_pseudo_filesystems_are_not_entered() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.c", "int x;\n");
    std::os::unix::fs::symlink("/proc", d.path().join("proc")).unwrap();
    std::os::unix::fs::symlink("/sys", d.path().join("sys")).unwrap();
    let r = check(d.path(), &[]);
    assert_reported(&r);
    assert!(r.stdout.contains("1 file analysed"), "{}", r.stdout);
    assert!(r.took < Duration::from_secs(30));
}

#[test]
fn the_same_tree_named_twice_is_analysed_once() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "d/x.c", FIXABLE);
    let abs = d.path().join("d");
    let once = check(d.path(), &["d"]);
    let twice = check(d.path(), &["d", abs.to_str().unwrap(), "./d/../d/x.c"]);
    assert_reported(&twice);
    assert!(
        once.stdout.contains("1 finding in 1 file"),
        "{}",
        once.stdout
    );
    assert!(
        twice.stdout.contains("1 finding in 1 file"),
        "{}",
        twice.stdout
    );
    let fixed = check(
        d.path(),
        &["--fix", "--unsafe-fixes", "d", abs.to_str().unwrap()],
    );
    assert!(
        !fixed.stderr.contains("changed on disk"),
        "{}",
        fixed.stderr
    );
    assert!(std::fs::read_to_string(abs.join("x.c"))
        .unwrap()
        .contains("Py_mod_gil"));
}

#[test]
#[cfg(unix)]
fn a_fifo_or_device_on_the_command_line_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("f.c");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for target in [fifo.to_str().unwrap(), "/dev/zero"] {
        let r = check(d.path(), &[target]);
        assert_eq!(r.status, Some(2), "{target}: {}", r.stderr);
        assert!(
            r.stderr.contains("not a regular file or folder")
                || r.stderr.contains("pseudo-filesystem"),
            "{target}: {}",
            r.stderr
        );
    }
}

// ---------------------------------------------------------------------------
// --fix writes only what it may

#[test]
#[cfg(unix)]
fn fix_refuses_read_only_files() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "x.c", FIXABLE);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let r = check(d.path(), &["--fix", "--unsafe-fixes", "."]);
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("read-only"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), FIXABLE);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[test]
#[cfg(unix)]
fn fix_edits_through_a_link_and_keeps_it() {
    let d = tempfile::tempdir().unwrap();
    let real = write(d.path(), "real/x.c", FIXABLE);
    std::fs::create_dir(d.path().join("src")).unwrap();
    let link = d.path().join("src/x.c");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let r = check(d.path(), &["--fix", "--unsafe-fixes", "src"]);
    assert!(matches!(r.status, Some(0 | 1)), "{}", r.stderr);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("Py_mod_gil"));
}

#[test]
#[cfg(unix)]
fn fix_does_not_split_hard_links() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a/x.c", FIXABLE);
    std::fs::create_dir(d.path().join("b")).unwrap();
    let b = d.path().join("b/x.c");
    std::fs::hard_link(&a, &b).unwrap();
    let r = check(d.path(), &["--fix", "--unsafe-fixes", "a"]);
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("hard links"), "{}", r.stderr);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&a).unwrap().ino(),
        std::fs::metadata(&b).unwrap().ino()
    );
}

/// As root, a rewritten file keeps its owner (CI runs as root).
#[test]
#[cfg(unix)]
fn fix_as_root_keeps_the_owner() {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to give a file to another user");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "x.c", FIXABLE);
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
    let r = check(d.path(), &["--fix", "--unsafe-fixes", "."]);
    assert!(matches!(r.status, Some(0 | 1)), "{}", r.stderr);
    assert!(std::fs::read_to_string(&p).unwrap().contains("Py_mod_gil"));
    let m = std::fs::metadata(&p).unwrap();
    assert_eq!((m.uid(), m.gid()), (65534, 65534));
}

#[test]
fn fix_leaves_no_temporary_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "x.c", FIXABLE);
    let r = check(d.path(), &["--fix", "--unsafe-fixes", "."]);
    assert!(matches!(r.status, Some(0 | 1)), "{}", r.stderr);
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ftaudit-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------
// Output

#[test]
#[cfg(target_os = "linux")]
fn a_report_that_cannot_be_written_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "x.c", FIXABLE);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated", "."])
        .current_dir(d.path())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot write the report"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_closed_pipe_ends_quietly_without_success() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(d.path(), &format!("x{i}.c"), FIXABLE);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated", "."])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("cannot write"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn target_versions_outside_the_known_range_are_refused() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "x.c", FIXABLE);
    for v in ["3.16", "3.20", "2.7"] {
        let r = check(d.path(), &["--target-version", v, "."]);
        assert_eq!(r.status, Some(2), "{v}: {}", r.stderr);
        assert!(r.stderr.contains("from 3.6 to 3.15"), "{}", r.stderr);
    }
    for v in ["3.9", "3.12", "3.15"] {
        let r = check(d.path(), &["--target-version", v, "."]);
        assert_eq!(r.status, Some(1), "{v}: {}", r.stderr);
    }
}

#[test]
#[cfg(unix)]
fn sarif_uris_are_percent_encoded() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a:b.c", FIXABLE);
    write(d.path(), "c#d.c", FIXABLE);
    write(d.path(), "e\\f g.c", FIXABLE);
    let r = check(d.path(), &["--output-format", "sarif", "."]);
    assert_eq!(r.status, Some(1), "{}", r.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut uris: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["a%3Ab.c", "c%23d.c", "e%5Cf%20g.c"]);
}

#[test]
fn cr_only_files_are_analysed_line_by_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "mac.c",
        &format!("// old Mac file\r{}", FIXABLE.replace('\n', "\r")),
    );
    let r = check(d.path(), &[]);
    assert_eq!(r.status, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FT001"), "{}", r.stdout);
    assert!(r.stderr.contains("bare CR"), "{}", r.stderr);
    // --fix leaves it alone rather than rewriting every line end.
    let before = std::fs::read(d.path().join("mac.c")).unwrap();
    check(d.path(), &["--fix", "--unsafe-fixes", "."]);
    assert_eq!(std::fs::read(d.path().join("mac.c")).unwrap(), before);
}

#[test]
fn config_type_errors_name_the_key() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "x.c", "int x;\n");
    write(d.path(), "ftaudit.toml", "select = 1\n");
    let r = ftaudit_in(d.path(), &["check", "."], Duration::from_secs(30));
    assert_eq!(r.status, Some(2));
    assert!(r.stderr.contains("select: invalid type"), "{}", r.stderr);
    write(d.path(), "ftaudit.toml", "select = [\"\"]\n");
    let r = ftaudit_in(d.path(), &["check", "."], Duration::from_secs(30));
    assert_eq!(r.status, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("`` is not a rule code"), "{}", r.stderr);
}

#[test]
fn malformed_suppressions_are_reported_and_suppress_nothing() {
    let d = tempfile::tempdir().unwrap();
    let text = FIXABLE.replace(
        "static PyModuleDef_Slot slots[] = {",
        "static PyModuleDef_Slot slots[] = { // ftaudit: ignore]X[",
    );
    write(d.path(), "x.c", &text);
    let r = check(d.path(), &[]);
    assert!(r.stdout.contains("FT901"), "{}", r.stdout);
    assert!(r.stdout.contains("FT001"), "{}", r.stdout);
}

#[test]
#[cfg(unix)]
fn control_characters_in_file_names_do_not_reach_the_terminal() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a\x1b[31mb.c", FIXABLE);
    let r = check(d.path(), &[]);
    assert_eq!(r.status, Some(1), "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    assert!(r.stdout.contains("a\\u{1b}[31mb.c"), "{}", r.stdout);
}
