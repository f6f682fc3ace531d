//! End-to-end tests of the `ftaudit` binary: exit codes, formats, configuration,
//! suppressions, bad input, and the generated rule docs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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

const UNDECLARED: &str = "#include <Python.h>\nstatic PyModuleDef_Slot s[] = {\n    {0, NULL}\n};\nstatic PyModuleDef d = {PyModuleDef_HEAD_INIT, .m_name = \"m\", .m_slots = s};\nPyMODINIT_FUNC PyInit_m(void) { return PyModuleDef_Init(&d); }\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

#[test]
fn legacy_example_exits_1_and_ported_exits_0() {
    let o = ftaudit(&["check", "examples/legacy-extension"], &root());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    for module in ["spam", "eggs", "bacon", "beans"] {
        assert!(
            out.contains(&format!("`{module}`")),
            "no finding names module {module}:\n{out}"
        );
    }
    assert!(
        out.contains("^^^"),
        "text output shows a caret under the span"
    );
    assert!(out.contains("= help:"));
    let o = ftaudit(&["check", "examples/ported-extension"], &root());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("No findings"),
        "ported example prints only the summary:\n{out}"
    );
    let located = out
        .lines()
        .filter(|l| l.starts_with("examples/") || l.contains(" | "))
        .count();
    assert_eq!(located, 0, "no finding or snippet in:\n{out}");
}

#[test]
fn output_is_sorted_and_deterministic() {
    let a = stdout(&ftaudit(&["check", "examples/legacy-extension"], &root()));
    let b = stdout(&ftaudit(&["check", "examples/legacy-extension"], &root()));
    assert_eq!(a, b);
    let locs: Vec<(String, usize)> = a
        .lines()
        .filter(|l| l.starts_with("examples/"))
        .map(|l| {
            let mut parts = l.split(':');
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut sorted = locs.clone();
    sorted.sort();
    assert_eq!(locs, sorted);
}

#[test]
fn json_output_has_the_documented_shape() {
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--output-format",
            "json",
        ],
        &root(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "ftaudit");
    let diags = v["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        for key in [
            "code",
            "name",
            "severity",
            "confidence",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "function",
            "message",
            "help",
            "fix",
        ] {
            assert!(d.get(key).is_some(), "diagnostic lacks `{key}`: {d}");
        }
        assert!(["error", "warning", "info"].contains(&d["severity"].as_str().unwrap()));
        assert!(["certain", "likely"].contains(&d["confidence"].as_str().unwrap()));
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
        if !d["fix"].is_null() {
            assert!(["safe", "unsafe"].contains(&d["fix"]["applicability"].as_str().unwrap()));
            for e in d["fix"]["edits"].as_array().unwrap() {
                for key in ["line", "column", "end_line", "end_column", "content"] {
                    assert!(e.get(key).is_some());
                }
            }
        }
    }
    let s = &v["summary"];
    assert_eq!(s["diagnostics"].as_u64().unwrap() as usize, diags.len());
    assert!(s["files_analysed"].as_u64().unwrap() >= 7);
    let by_code: u64 = s["by_code"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_code as usize, diags.len());
    assert!(s["errors"].as_array().unwrap().is_empty());
    // The span of the FT001 on spam.c points at the slot array line.
    let spam = diags
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("spam.c") && d["code"] == "FT001")
        .unwrap();
    let text =
        std::fs::read_to_string(root().join("examples/legacy-extension/src/spam.c")).unwrap();
    let line = text
        .lines()
        .nth(spam["line"].as_u64().unwrap() as usize - 1)
        .unwrap();
    assert!(line.contains("PyModuleDef_Slot spam_slots[]"), "{line}");
}

/// The structure SARIF 2.1.0 requires of what we emit (no schema package is
/// available offline, so the required properties are checked one by one).
#[test]
fn sarif_output_follows_2_1_0() {
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--output-format",
            "sarif",
        ],
        &root(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "ftaudit");
    let rules = driver["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["id"].as_str().unwrap().starts_with("FT"));
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
        assert!(r["help"]["text"]
            .as_str()
            .unwrap()
            .contains("## What it does"));
        assert!(["none", "note", "warning", "error"]
            .contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        let id = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id, "ruleIndex points at the rule");
        assert!(["none", "note", "warning", "error"].contains(&res["level"].as_str().unwrap()));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains('\\'),
            "relative URI: {uri}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn github_output_is_one_annotation_per_finding() {
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--output-format",
            "github",
        ],
        &root(),
    );
    let out = stdout(&o);
    let json = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let n = serde_json::from_slice::<Value>(&json.stdout).unwrap()["diagnostics"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(out.lines().count(), n);
    for l in out.lines() {
        assert!(
            l.starts_with("::error file=")
                || l.starts_with("::warning file=")
                || l.starts_with("::notice file="),
            "{l}"
        );
        assert!(
            l.contains(",line=") && l.contains(",col=") && l.contains("title=FT"),
            "{l}"
        );
    }
}

#[test]
fn select_ignore_and_statistics() {
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--select",
            "FT001",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["code"] == "FT001"));
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--ignore",
            "FT0",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| !d["code"].as_str().unwrap().starts_with("FT0")));
    // The most specific selector wins.
    let o = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--ignore",
            "FT0",
            "--select",
            "FT004",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["FT004"]);
    let o = ftaudit(
        &["check", "examples/legacy-extension", "--statistics"],
        &root(),
    );
    let out = stdout(&o);
    let json = ftaudit(
        &[
            "check",
            "examples/legacy-extension",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let n001 = serde_json::from_slice::<Value>(&json.stdout).unwrap()["summary"]["by_code"]
        ["FT001"]
        .as_u64()
        .unwrap();
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with(&format!("{n001}  FT001"))),
        "{out}"
    );
    let o = ftaudit(
        &["check", "examples/legacy-extension", "--exit-zero", "-q"],
        &root(),
    );
    assert_eq!(o.status.code(), Some(0));
    let o = ftaudit(
        &["check", "examples/legacy-extension", "--select", "FT999"],
        &root(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("FT999"));
}

#[test]
fn configuration_in_pyproject_and_its_errors() {
    let dir = project(&[
        (
            "pyproject.toml",
            "[project]\nname='x'\nrequires-python='>=3.13'\n[tool.ftaudit]\nignore = [\"FT001\"]\n",
        ),
        ("src/m.c", UNDECLARED),
    ]);
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "ignored by config: {}",
        stdout(&o)
    );
    let o = ftaudit(&["check", ".", "--isolated"], dir.path());
    assert_eq!(o.status.code(), Some(1), "--isolated ignores the config");

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselct = [\"FT0\"]\n",
    )
    .unwrap();
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("pyproject.toml") && err.contains("selct"),
        "names the file and the key: {err}"
    );

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\ntarget-version = \"2.7\"\n",
    )
    .unwrap();
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("target-version"));

    std::fs::write(dir.path().join("pyproject.toml"), "[tool.ftaudit\n").unwrap();
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not valid TOML"));

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit.per-file-ignores]\n\"src/*\" = [\"FT001\"]\n",
    )
    .unwrap();
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(0), "per-file-ignores: {}", stdout(&o));

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nextend-exclude = [\"src\"]\n",
    )
    .unwrap();
    let o = ftaudit(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(0), "extend-exclude: {}", stdout(&o));
    let o = ftaudit(&["check", ".", "--output-format", "json"], dir.path());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["diagnostics"].as_array().unwrap().is_empty());
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("m.c"),
        "src/m.c was excluded"
    );

    let o = ftaudit(&["check", ".", "--config", "missing.toml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn target_version_comes_from_requires_python() {
    // An unguarded Py_mod_gil slot breaks 3.9 builds, not 3.13+ ones.
    let src = "#include <Python.h>\nstatic PyModuleDef_Slot s[] = {\n    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n    {0, NULL}\n};\n";
    let dir = project(&[
        (
            "pyproject.toml",
            "[project]\nname='x'\nrequires-python='>=3.9'\n",
        ),
        ("m.c", src),
    ]);
    let o = ftaudit(&["check", ".", "--select", "FT003"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let o = ftaudit(
        &[
            "check",
            ".",
            "--select",
            "FT003",
            "--target-version",
            "3.13",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn inline_suppressions() {
    let src = UNDECLARED.replace(
        "static PyModuleDef_Slot s[] = {",
        "static PyModuleDef_Slot s[] = {  // ftaudit: ignore[FT001] reviewed",
    );
    let dir = project(&[("m.c", &src)]);
    let o = ftaudit(&["check", ".", "--isolated"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let src = UNDECLARED.replace(
        "static PyModuleDef_Slot s[] = {",
        "/* ftaudit: ignore */\nstatic PyModuleDef_Slot s[] = {",
    );
    let dir = project(&[("m.c", &src)]);
    let o = ftaudit(&["check", ".", "--isolated"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "a standalone comment covers the next line: {}",
        stdout(&o)
    );

    let src = UNDECLARED.replace(
        "static PyModuleDef_Slot s[] = {",
        "static PyModuleDef_Slot s[] = {  // ftaudit: ignore[FT002]",
    );
    let dir = project(&[("m.c", &src)]);
    let o = ftaudit(&["check", ".", "--isolated"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(1),
        "another code does not silence FT001"
    );

    let src = UNDECLARED.replace(
        "static PyModuleDef_Slot s[] = {",
        "static PyModuleDef_Slot s[] = {  // ftaudit: ignore[FT001, FTX01]",
    );
    let dir = project(&[("m.c", &src)]);
    let o = ftaudit(
        &["check", ".", "--isolated", "--output-format", "json"],
        dir.path(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["FT901"], "the unknown code is reported");
}

#[test]
#[cfg(unix)] // symbolic links made with std::os::unix
fn bad_input_is_reported_and_the_run_goes_on() {
    let dir = project(&[
        ("good.c", UNDECLARED),
        (
            "broken.c",
            "int f( {{{ ;;; \n static PyObject * g(void) { return NULL; }\n",
        ),
    ]);
    let d = dir.path();
    // Not UTF-8 (Latin-1 comment) but otherwise C: analysed lossily.
    let mut latin1 = b"/* caf\xe9 */\n".to_vec();
    latin1.extend_from_slice(
        UNDECLARED
            .replace("m\"", "latin\"")
            .replace("PyInit_m", "PyInit_latin")
            .as_bytes(),
    );
    std::fs::write(d.join("latin1.c"), latin1).unwrap();
    // A binary file with a .c name.
    std::fs::write(
        d.join("blob.c"),
        [0x7fu8, b'E', b'L', b'F', 0, 0, 1, 2, 0, 0xff],
    )
    .unwrap();
    // An unreadable file (permission bits do not stop root, so use a directory named .c... and a dangling link).
    std::os::unix::fs::symlink(d.join("does-not-exist.c"), d.join("dangling.c")).unwrap();
    // A symlink loop.
    std::fs::create_dir(d.join("loop")).unwrap();
    std::os::unix::fs::symlink(d.join("loop"), d.join("loop/again")).unwrap();
    let o = ftaudit(&["check", ".", "--isolated", "--output-format", "json"], d);
    assert_eq!(
        o.status.code(),
        Some(2),
        "unreadable input makes the exit code 2"
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON still printed");
    let s = &v["summary"];
    let all_msgs: Vec<String> = s["errors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["warnings"].as_array().unwrap())
        .map(|e| {
            format!(
                "{}: {}",
                e["path"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    let joined = all_msgs.join("\n");
    assert!(joined.contains("latin1.c: not valid UTF-8"), "{joined}");
    assert!(joined.contains("blob.c: binary file"), "{joined}");
    assert!(joined.contains("dangling.c"), "{joined}");
    assert!(joined.contains("loop"), "{joined}");
    // The good files were still analysed, including the non-UTF-8 one.
    let paths: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("good.c")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("latin1.c")), "{paths:?}");
    assert!(s["files_with_parse_errors"].as_u64().unwrap() >= 1);
    assert_eq!(s["files_skipped"].as_u64().unwrap(), 1);
    // stderr names each problem too.
    let err = stderr(&o);
    assert!(err.contains("blob.c") && err.contains("latin1.c"), "{err}");
}

#[test]
fn unreadable_file_is_an_error() {
    // Root can read anything, so make the "file" unreadable by type: a FIFO would
    // block; a file whose read fails is simulated with a directory named like a source.
    let dir = project(&[("ok.c", "int x;\n")]);
    std::fs::create_dir(dir.path().join("weird.c")).unwrap();
    std::fs::write(dir.path().join("weird.c/inner.c"), UNDECLARED).unwrap();
    let o = ftaudit(
        &["check", "weird.c/../ok.c", "missing-dir", "--isolated"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing-dir: no such file or directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn generated_cython_files_are_skipped() {
    let dir = project(&[(
        "gen.c",
        &format!("/* Generated by Cython 3.0.11 */\n{UNDECLARED}"),
    )]);
    let o = ftaudit(&["check", ".", "--isolated"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("1 skipped"), "{}", stdout(&o));
    assert!(stderr(&o).contains("generated by Cython"));
}

#[test]
fn rule_command_explains_rules() {
    let o = ftaudit(&["rule", "FT001"], &root());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## References",
    ] {
        assert!(out.contains(section), "missing {section}");
    }
    let o = ftaudit(&["rule", "missing-gil-declaration"], &root());
    assert!(stdout(&o).starts_with("FT001"));
    let o = ftaudit(&["rule", "FT000"], &root());
    assert_eq!(o.status.code(), Some(2));
    let o = ftaudit(&["rule", "--all"], &root());
    assert!(stdout(&o).lines().count() >= 8);
}

#[test]
fn every_rule_is_documented_in_sections() {
    for r in ftaudit::rules::all() {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## References",
        ] {
            assert!(r.doc.contains(section), "{} lacks {section}", r.code);
        }
        assert!(r.code.len() == 5 && r.code.starts_with("FT"), "{}", r.code);
        assert!(
            r.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
            "{}",
            r.name
        );
    }
    let codes: Vec<_> = ftaudit::rules::all().iter().map(|r| r.code).collect();
    let mut dedup = codes.clone();
    dedup.dedup();
    assert_eq!(codes, dedup, "codes are unique");
}

/// With `FTAUDIT_UPDATE_DOCS=1` the generated documents are rewritten instead.
fn update_docs() -> bool {
    std::env::var("FTAUDIT_UPDATE_DOCS").as_deref() == Ok("1")
}

#[test]
fn docs_rules_md_is_in_sync() {
    let o = ftaudit(&["rule", "--all", "--output-format", "markdown"], &root());
    let generated = stdout(&o);
    let path = root().join("docs/rules.md");
    if update_docs() {
        std::fs::write(&path, &generated).expect("write docs/rules.md");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == committed,
        "docs/rules.md is out of date: run `FTAUDIT_UPDATE_DOCS=1 cargo test --test cli docs`"
    );
}

#[test]
fn docs_readme_rule_table_is_in_sync() {
    use ftaudit::cmd::rule::{readme_table, README_TABLE_END};
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find("<!-- rule table")
        .expect("README.md has a rule table start marker");
    let end = readme[start..]
        .find(README_TABLE_END)
        .map(|e| start + e + README_TABLE_END.len())
        .expect("README.md has a rule table end marker");
    let table = readme_table();
    if update_docs() {
        let updated = format!("{}{}{}", &readme[..start], table, &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == table,
        "README.md's rule table is out of date: run `FTAUDIT_UPDATE_DOCS=1 cargo test --test cli docs`"
    );
}

#[test]
fn readiness_summary_judges_each_module_of_a_file_separately() {
    // One file, eight modules: a, b, c, d undeclared; ok1..ok4 declared. Found on
    // CPython's _testmultiphase.c, where one undeclared module used to count against all.
    let o = ftaudit(
        &[
            "check",
            "tests/fixtures/declare/FT001_multi_phase.c",
            "--isolated",
            "--output-format",
            "json",
        ],
        &root(),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let project = &v["summary"]["project"];
    assert_eq!(project["declaring"], 4, "{project}");
    let declared: Vec<&str> = project["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["declares_free_threading"] == true)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(declared, vec!["ok1", "ok2", "ok3", "ok4"]);
}

/// A finding reached through a helper names the helper's line and one conflicting
/// function: a `note:` in text, `related` in JSON, `relatedLocations` in SARIF.
#[test]
fn related_locations_in_text_json_and_sarif() {
    let args = |fmt: &'static str| {
        vec![
            "check",
            "examples/legacy-extension/src/ring.c",
            "--select",
            "FT406",
            "--output-format",
            fmt,
        ]
    };
    let text = stdout(&ftaudit(&args("text"), &root()));
    assert!(
        text.contains("= note: ") && text.contains("`ring_grow` reallocates it here"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&stdout(&ftaudit(&args("json"), &root()))).unwrap();
    let push = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["function"] == "Ring_push")
        .expect("Ring_push finding");
    let related = push["related"].as_array().expect("related");
    assert!(related
        .iter()
        .any(|r| r["line"].as_u64().is_some()
            && r["message"].as_str().unwrap().contains("ring_grow")));
    let sarif: Value = serde_json::from_str(&stdout(&ftaudit(&args("sarif"), &root()))).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| {
        r["relatedLocations"].as_array().is_some_and(|l| {
            !l.is_empty() && l[0]["physicalLocation"]["region"]["startLine"].is_u64()
        })
    }));
}
