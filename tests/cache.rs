//! The check cache end to end: the same findings with and without it (cold, warm,
//! after an edit), corrupt and foreign entries ignored with a note, the folder's
//! `.gitignore`, and the switches that turn it off.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ftaudit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ftaudit")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies `from` (a folder of the repository) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Every entry file of the cache in `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json" || x == "bin") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `check` of `paths` in `cwd` as JSON, without the cache and with it (cold, then
/// warm): all three must be the same, exit code included.
fn same_with_and_without_cache(cwd: &Path, paths: &[&str], cache: &Path) -> String {
    let cache = cache.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--output-format", "json"];
        args.extend_from_slice(extra);
        args.extend_from_slice(paths);
        ftaudit(&args, cwd)
    };
    let plain = run(&["--no-cache"]);
    let cold = run(&["--cache-dir", cache]);
    let warm = run(&["--cache-dir", cache]);
    for (name, o) in [("cold", &cold), ("warm", &warm)] {
        assert_eq!(
            stdout(o),
            stdout(&plain),
            "{name} run with the cache differs from the run without it on {paths:?}"
        );
        assert_eq!(
            o.status.code(),
            plain.status.code(),
            "{name}: {}",
            stderr(o)
        );
        assert!(!stderr(o).contains("cache"), "{name}: {}", stderr(o));
    }
    stdout(&plain)
}

#[test]
fn findings_identical_with_and_without_cache_on_examples_and_fixtures() {
    let cache = tempfile::tempdir().unwrap();
    let mut targets: Vec<String> = vec![
        "examples/legacy-extension".into(),
        "examples/ported-extension".into(),
        "tests/fixtures".into(),
    ];
    for e in std::fs::read_dir(root().join("examples/build")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            targets.push(format!(
                "examples/build/{}",
                e.file_name().to_string_lossy()
            ));
        }
    }
    for t in &targets {
        let out = same_with_and_without_cache(&root(), &[t], cache.path());
        assert!(out.contains("\"diagnostics\""), "{t}: {out}");
    }
    // Every fixture family at once too (several roots, one run entry).
    same_with_and_without_cache(
        &root(),
        &["tests/fixtures/borrowed", "tests/fixtures/state"],
        cache.path(),
    );
    // The text format (snippets come from the texts read on the warm run).
    let text = |extra: &[&str]| {
        let mut args = vec!["check", "examples/legacy-extension"];
        args.extend_from_slice(extra);
        stdout(&ftaudit(&args, &root()))
    };
    let plain = text(&["--no-cache"]);
    assert_eq!(
        text(&["--cache-dir", cache.path().to_str().unwrap()]),
        plain
    );
    assert!(plain.contains("^^^"));
}

#[test]
fn an_edited_file_is_analysed_again_and_the_others_come_from_the_cache() {
    let work = tempfile::tempdir().unwrap();
    copy_tree(
        &root().join("tests/fixtures"),
        &work.path().join("fixtures"),
    );
    let cache = work.path().join("cache");
    same_with_and_without_cache(work.path(), &["fixtures"], &cache);
    // An edit that adds a finding, one that removes one, and a new file.
    let borrowed = work.path().join("fixtures/borrowed");
    let edited = std::fs::read_dir(&borrowed)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "c"))
        .expect("a borrowed fixture");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str(
        "\nstatic PyObject *added(PyObject *self, PyObject *d) {\n    PyObject *v = PyDict_GetItem(d, self);\n    return v;\n}\n",
    );
    std::fs::write(&edited, text).unwrap();
    std::fs::write(
        work.path().join("fixtures/new_file.c"),
        "#include <Python.h>\nstatic PyObject *g(PyObject *l) { PyObject *x = PyList_GetItem(l, 0); Py_INCREF(x); return x; }\n",
    )
    .unwrap();
    let after = same_with_and_without_cache(work.path(), &["fixtures"], &cache);
    assert!(after.contains("new_file.c"), "{after}");
    // A removed file disappears from the findings.
    std::fs::remove_file(work.path().join("fixtures/new_file.c")).unwrap();
    let removed = same_with_and_without_cache(work.path(), &["fixtures"], &cache);
    assert!(!removed.contains("new_file.c"));
}

#[test]
fn corrupt_and_foreign_entries_are_ignored_with_a_note_and_rewritten() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let args = [
        "check",
        "--output-format",
        "json",
        "--cache-dir",
        dir,
        "tests/fixtures/borrowed",
    ];
    let plain = ftaudit(
        &[
            "check",
            "--output-format",
            "json",
            "--no-cache",
            "tests/fixtures/borrowed",
        ],
        &root(),
    );
    let cold = ftaudit(&args, &root());
    assert_eq!(stdout(&cold), stdout(&plain));
    let written = entries(cache.path());
    assert!(written.len() >= 2, "{written:?}");
    // Garbage, a truncated entry, and an entry of another version.
    for (i, p) in written.iter().enumerate() {
        let bytes = std::fs::read(p).unwrap();
        let spoiled = match i % 3 {
            0 => b"\x00\xffnot json at all".to_vec(),
            1 => bytes[..bytes.len() / 2].to_vec(),
            _ => of_another_version(&bytes),
        };
        std::fs::write(p, spoiled).unwrap();
    }
    let spoiled = ftaudit(&args, &root());
    assert_eq!(stdout(&spoiled), stdout(&plain), "{}", stderr(&spoiled));
    assert_eq!(spoiled.status.code(), plain.status.code());
    let notes = stderr(&spoiled);
    assert!(notes.contains("corrupt cache entry"), "{notes}");
    // The run entry is read first; the file entries are read when it is unusable.
    assert!(notes.contains("warning:"), "{notes}");
    // Rewritten: the next run reads them without a note.
    let again = ftaudit(&args, &root());
    assert_eq!(stdout(&again), stdout(&plain));
    assert!(!stderr(&again).contains("cache"), "{}", stderr(&again));
    // An empty entry file and a folder where an entry should be.
    for p in entries(cache.path()) {
        std::fs::write(&p, b"").unwrap();
    }
    let empty = ftaudit(&args, &root());
    assert_eq!(stdout(&empty), stdout(&plain), "{}", stderr(&empty));
}

#[test]
fn the_default_cache_is_in_the_project_root_and_ignores_itself() {
    let work = tempfile::tempdir().unwrap();
    let p = work.path();
    std::fs::write(p.join("pyproject.toml"), "[tool.ftaudit]\n").unwrap();
    std::fs::create_dir_all(p.join("src")).unwrap();
    std::fs::write(
        p.join("src/m.c"),
        "#include <Python.h>\nstatic PyObject *f(PyObject *d) { return PyDict_GetItem(d, d); }\n",
    )
    .unwrap();
    let o = ftaudit(&["check", "src"], p);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let cache = p.join(".ftaudit_cache");
    let ignore = std::fs::read_to_string(cache.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "*"), "{ignore}");
    assert!(cache.join("CACHEDIR.TAG").is_file());
    assert!(!entries(&cache).is_empty());
    // The cache folder is not analysed on the next run (nothing in it is C).
    let again = ftaudit(&["check", "--output-format", "json", "."], p);
    assert!(!stdout(&again).contains(".ftaudit_cache"));
}

#[test]
fn no_cache_and_the_cache_key_turn_it_off() {
    let work = tempfile::tempdir().unwrap();
    let p = work.path();
    std::fs::write(p.join("m.c"), "int x;\n").unwrap();
    std::fs::write(p.join("pyproject.toml"), "[tool.ftaudit]\n").unwrap();
    let o = ftaudit(&["check", "--no-cache", "."], p);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!p.join(".ftaudit_cache").exists());
    std::fs::write(p.join("pyproject.toml"), "[tool.ftaudit]\ncache = false\n").unwrap();
    ftaudit(&["check", "."], p);
    assert!(!p.join(".ftaudit_cache").exists());
    std::fs::write(
        p.join("pyproject.toml"),
        "[tool.ftaudit]\ncache-dir = \"elsewhere\"\n",
    )
    .unwrap();
    ftaudit(&["check", "."], p);
    assert!(!p.join(".ftaudit_cache").exists());
    assert!(p.join("elsewhere/.gitignore").is_file());
    // Text from stdin is never cached.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args([
            "check",
            "--stdin-filename",
            "m.c",
            "--cache-dir",
            "stdin-cache",
        ])
        .current_dir(p)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"int y;\n").unwrap();
    }
    child.wait_with_output().unwrap();
    assert!(!p.join("stdin-cache").exists());
}

#[test]
fn a_changed_setting_is_not_answered_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let with = |sel: &str| {
        stdout(&ftaudit(
            &[
                "check",
                "--output-format",
                "json",
                "--cache-dir",
                dir,
                "--select",
                sel,
                "tests/fixtures/borrowed",
            ],
            &root(),
        ))
    };
    let all = with("ALL");
    let ft1 = with("FT101");
    assert_ne!(all, ft1);
    assert!(!ft1.contains("\"FT102\""));
    assert_eq!(with("ALL"), all);
}

#[test]
fn an_unchanged_rerun_parses_nothing_and_an_edit_reuses_the_other_files_entries() {
    let work = tempfile::tempdir().unwrap();
    copy_tree(
        &root().join("tests/fixtures/borrowed"),
        &work.path().join("src"),
    );
    let cache = work.path().join("cache");
    let cache_s = cache.to_str().unwrap();
    let run = |timings: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
        cmd.args([
            "check",
            "--output-format",
            "json",
            "--cache-dir",
            cache_s,
            "src",
        ])
        .current_dir(work.path());
        if timings {
            cmd.env("FTAUDIT_TIMINGS", "1");
        }
        cmd.output().unwrap()
    };
    let cold = run(false);
    // The warm run answers from the run entry: nothing is parsed.
    let warm = run(true);
    assert_eq!(stdout(&warm), stdout(&cold));
    let parse_line = stderr(&warm)
        .lines()
        .find(|l| l.contains("tree-sitter parse"))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(parse_line.ends_with(" 0.000 s"), "{}", stderr(&warm));
    // Without the run entry, the file entries supply the file checks' findings: a
    // message planted in one shows up (so they are read, not recomputed).
    let runs = entries(&cache)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("runs")));
    for p in runs {
        std::fs::remove_file(p).unwrap();
    }
    // The file entries are binary: the message is replaced in place by another of
    // the same length (its length prefix stays right).
    let cold_json: serde_json::Value = serde_json::from_str(&stdout(&cold)).unwrap();
    let mut messages = Vec::new();
    collect_messages(&cold_json, &mut messages);
    let mut planted = false;
    'plant: for p in entries(&cache) {
        let mut bytes = std::fs::read(&p).unwrap();
        for m in &messages {
            if let Some(at) = find(&bytes, m.as_bytes()) {
                let plant = format!("{:<1$}", "PLANTED IN THE CACHE", m.len());
                bytes[at..at + m.len()].copy_from_slice(plant.as_bytes());
                std::fs::write(&p, bytes).unwrap();
                planted = true;
                break 'plant;
            }
        }
    }
    assert!(planted);
    let from_entries = run(false);
    assert!(
        stdout(&from_entries).contains("PLANTED IN THE CACHE"),
        "{}",
        stdout(&from_entries)
    );
}

#[test]
fn concurrent_runs_share_the_cache_without_corrupting_it() {
    let work = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/fixtures"), &work.path().join("src"));
    let cache = work.path().join("cache");
    let cache_s = cache.to_str().unwrap();
    let plain = ftaudit(
        &["check", "--output-format", "json", "--no-cache", "src"],
        work.path(),
    );
    // Four cold runs at once write the same entries; then four warm runs at once.
    for _ in 0..2 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_ftaudit"))
                    .args([
                        "check",
                        "--output-format",
                        "json",
                        "--cache-dir",
                        cache_s,
                        "src",
                    ])
                    .current_dir(work.path())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert_eq!(stdout(&o), stdout(&plain));
            assert!(!stderr(&o).contains("cache"), "{}", stderr(&o));
        }
    }
    // No temporary file is left behind, and every entry parses.
    for p in entries(&cache) {
        let bytes = std::fs::read(&p).unwrap();
        let whole = if p.extension().is_some_and(|x| x == "bin") {
            ftaudit::cache::decode_file_entry(&bytes).map(|e| e.path.starts_with("src"))
        } else {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map(|_| true)
                .map_err(|e| e.to_string())
        };
        assert_eq!(whole, Ok(true), "{p:?}");
    }
    let mut stack = vec![cache.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(".tmp-"), "left over: {name}");
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

/// Every `message` string in a JSON report.
fn collect_messages(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                match x.as_str() {
                    Some(m) if k == "message" && m.len() >= 20 => out.push(m.to_owned()),
                    _ => collect_messages(x, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_messages(x, out)),
        _ => {}
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An entry's bytes with its version replaced by another of the same length (a
/// whole entry, JSON or binary, written by another ftaudit).
fn of_another_version(bytes: &[u8]) -> Vec<u8> {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let at = find(bytes, version).expect("the entry names its version");
    let mut out = bytes.to_vec();
    out[at..at + version.len()].fill(b'9');
    out
}

/// How many C/C++ files a run parsed for analysis (`FTAUDIT_TIMINGS` reports it).
fn files_parsed(o: &Output) -> usize {
    let err = stderr(o);
    err.lines()
        .find_map(|l| l.strip_prefix("ftaudit: C/C++ files parsed: "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no parse count in: {err}"))
}

/// The files parsed again for deferred fixes, the bytes parsed, and the bytes of
/// those files (`FTAUDIT_TIMINGS`).
fn parsed_again(o: &Output) -> (usize, usize, usize) {
    let err = stderr(o);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("ftaudit: C/C++ files parsed: "))
        .unwrap_or_else(|| panic!("no parse count in: {err}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers[..] {
        [_, again, bytes, of] => (again, bytes, of),
        _ => panic!("unexpected parse count: {line}"),
    }
}

/// A project of several files (the fixtures), its cache written, then the run
/// entry removed so that the next run goes through the file entries.
fn fixtures_with_file_entries() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    copy_tree(
        &root().join("tests/fixtures"),
        &work.path().join("fixtures"),
    );
    let cache = work.path().join("cache");
    same_with_and_without_cache(work.path(), &["fixtures"], &cache);
    remove_run_entries(&cache);
    (work, cache)
}

fn remove_run_entries(cache: &Path) {
    for p in entries(cache) {
        if p.parent().is_some_and(|d| d.ends_with("runs")) {
            std::fs::remove_file(p).unwrap();
        }
    }
}

/// `check --output-format json` of `fixtures` in `cwd` with timings on.
fn timed_run(cwd: &Path, cache: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftaudit"));
    cmd.args(["check", "--output-format", "json"]);
    match cache {
        Some(c) => cmd.args(["--cache-dir", c.to_str().unwrap()]),
        None => cmd.arg("--no-cache"),
    };
    cmd.arg("fixtures")
        .current_dir(cwd)
        .env("FTAUDIT_TIMINGS", "1")
        .output()
        .unwrap()
}

#[test]
fn after_one_file_changes_only_that_file_is_parsed_and_the_findings_are_a_full_runs() {
    let (work, cache) = fixtures_with_file_entries();
    let sources = entries(&cache)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("files")))
        .count();
    assert!(sources > 5, "{sources} file entries");
    // The unchanged project from the file entries alone: nothing is parsed for
    // analysis, and the findings (project checks included) are a full run's.
    let plain = timed_run(work.path(), None);
    let all = files_parsed(&plain);
    assert_eq!(all, sources);
    let restored = timed_run(work.path(), Some(&cache));
    assert_eq!(stdout(&restored), stdout(&plain));
    assert_eq!(files_parsed(&restored), 0, "{}", stderr(&restored));
    // The fixes placed on the tree are built from the top-level items they read,
    // which the entries keep: a fraction of those files is parsed again.
    let (again, bytes, of) = parsed_again(&restored);
    assert!(again > 3, "{}", stderr(&restored));
    assert!(bytes > 0 && bytes * 3 < of, "{}", stderr(&restored));
    assert_eq!(parsed_again(&plain), (again, bytes, of));
    // One file edited (a new finding that a project check also reads: a global
    // written in a function), the run entry gone: that file alone is parsed.
    remove_run_entries(&cache);
    let edited = work.path().join("fixtures/state/globals.c");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str(
        "\nstatic int edited_counter;\nstatic PyObject *edited(PyObject *self, PyObject *d) {\n    edited_counter++;\n    return PyDict_GetItem(d, self);\n}\nstatic PyMethodDef edited_methods[] = {{\"edited\", edited, METH_O, NULL}, {NULL}};\n",
    );
    std::fs::write(&edited, text).unwrap();
    let plain = timed_run(work.path(), None);
    let changed = timed_run(work.path(), Some(&cache));
    assert_eq!(stdout(&changed), stdout(&plain));
    assert_eq!(changed.status.code(), plain.status.code());
    assert!(stdout(&changed).contains("edited"), "{}", stdout(&changed));
    assert_eq!(files_parsed(&changed), 1, "{}", stderr(&changed));
    // The next run reads the new entry: nothing to parse again.
    remove_run_entries(&cache);
    let again = timed_run(work.path(), Some(&cache));
    assert_eq!(stdout(&again), stdout(&plain));
    assert_eq!(files_parsed(&again), 0, "{}", stderr(&again));
}

#[test]
fn corrupt_and_foreign_file_entries_are_ignored_with_a_note_and_their_files_analysed_again() {
    let (work, cache) = fixtures_with_file_entries();
    let files: Vec<PathBuf> = entries(&cache)
        .into_iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("files")))
        .collect();
    let plain = timed_run(work.path(), None);
    // Cut in half, and one of another version.
    let cut = &files[0];
    let bytes = std::fs::read(cut).unwrap();
    std::fs::write(cut, &bytes[..bytes.len() / 2]).unwrap();
    let foreign = &files[1];
    std::fs::write(
        foreign,
        of_another_version(&std::fs::read(foreign).unwrap()),
    )
    .unwrap();
    let spoiled = timed_run(work.path(), Some(&cache));
    assert_eq!(stdout(&spoiled), stdout(&plain), "{}", stderr(&spoiled));
    assert_eq!(spoiled.status.code(), plain.status.code());
    let notes = stderr(&spoiled);
    assert!(notes.contains("corrupt cache entry"), "{notes}");
    assert!(
        notes.contains(cut.file_name().unwrap().to_str().unwrap()),
        "{notes}"
    );
    assert_eq!(files_parsed(&spoiled), 2, "{notes}");
    // Both rewritten: the next run parses nothing and notes nothing.
    remove_run_entries(&cache);
    let again = timed_run(work.path(), Some(&cache));
    assert_eq!(stdout(&again), stdout(&plain));
    assert_eq!(files_parsed(&again), 0, "{}", stderr(&again));
    assert!(
        !stderr(&again).contains("cache entry"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn edits_replace_entries_instead_of_piling_them_up() {
    let (work, cache) = fixtures_with_file_entries();
    let count = |dir: &str| {
        entries(&cache)
            .into_iter()
            .filter(|p| p.parent().is_some_and(|d| d.ends_with(dir)))
            .count()
    };
    let first = timed_run(work.path(), Some(&cache));
    let (runs, files) = (count("runs"), count("files"));
    assert_eq!(runs, 1);
    // Three edits of one file, each followed by a run: still one entry per file
    // and one for the run, and the last run's entry answers the next run.
    let edited = work.path().join("fixtures/state/globals.c");
    let original = std::fs::read_to_string(&edited).unwrap();
    for i in 0..3 {
        std::fs::write(&edited, format!("{original}\n/* edit {i} */\n")).unwrap();
        let changed = timed_run(work.path(), Some(&cache));
        assert_eq!(files_parsed(&changed), 1, "{}", stderr(&changed));
        assert_eq!(stdout(&changed), stdout(&first));
    }
    assert_eq!((count("runs"), count("files")), (runs, files));
    let warm = timed_run(work.path(), Some(&cache));
    assert_eq!(files_parsed(&warm), 0, "{}", stderr(&warm));
    assert_eq!(stdout(&warm), stdout(&first));
}
