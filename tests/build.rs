//! Build-file fixtures and example projects.
//!
//! Every folder under `tests/build_fixtures/` is checked as one project. Files carry
//! their own expectations in comments: `expect: FT601` (or `expect: FT601, FT602`) means
//! exactly those findings start on that line; `expect-next: FT601` means the next line
//! (for formats where a comment cannot share the line, such as `setup.cfg`). A missed
//! finding and an unexpected one both fail. `examples/build/*` are checked the same way,
//! and their `-ready` forms must produce no finding at all.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ftaudit::check::{self, CheckResult};
use ftaudit::config::{Overrides, Settings};
use ftaudit::report::text;
use ftaudit::rules::build::summary::Note;

/// The markers of `text` (`expect:` / `expect-next:`), parsed strictly: a malformed
/// marker or an unknown code fails the fixture.
fn expectations(text: &str) -> BTreeMap<usize, Vec<String>> {
    match common::markers::parse(text) {
        Ok(m) => m,
        Err(errors) => panic!("malformed expectation markers:\n{}", errors.join("\n")),
    }
}

fn run(dir: &Path) -> CheckResult {
    let ov = Overrides {
        isolated: true,
        ..Default::default()
    };
    let roots = vec![(
        dir.to_path_buf(),
        Arc::new(Settings::resolve(dir, &ov).expect("settings")),
    )];
    check::run(&roots, &Default::default())
}

fn mismatches(dir: &Path) -> Vec<String> {
    let result = run(dir);
    let mut failures = Vec::new();
    for p in &result.problems {
        failures.push(format!(
            "{}: unexpected problem: {}",
            p.path.display(),
            p.message
        ));
    }
    let mut found: BTreeMap<(PathBuf, usize), Vec<String>> = BTreeMap::new();
    for d in &result.diagnostics {
        let line = d.span.map(|s| s.start_line).unwrap_or(0);
        found
            .entry((d.path.clone(), line))
            .or_default()
            .push(format!("{} ({})", d.rule.code, d.message));
    }
    for path in result.sources.keys() {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let expected = expectations(&text);
        let lines: std::collections::BTreeSet<usize> = expected
            .keys()
            .copied()
            .chain(found.keys().filter(|(p, _)| p == path).map(|(_, l)| *l))
            .collect();
        for line in lines {
            let mut want = expected.get(&line).cloned().unwrap_or_default();
            let got = found
                .get(&(path.clone(), line))
                .cloned()
                .unwrap_or_default();
            let mut got_codes: Vec<String> = got.iter().map(|g| g[..5].to_owned()).collect();
            want.sort();
            got_codes.sort();
            if want != got_codes {
                failures.push(format!(
                    "{}:{line}: expected {:?}, found {:?}",
                    path.display(),
                    want,
                    got
                ));
            }
        }
    }
    failures
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn build_fixtures_match_their_expectations() {
    let dirs = subdirs(&manifest().join("tests/build_fixtures"));
    assert!(dirs.len() >= 10, "expected build fixture projects");
    let mut failures = Vec::new();
    let mut codes = std::collections::BTreeSet::new();
    for d in &dirs {
        failures.extend(mismatches(d));
        for f in walk(d) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            codes.extend(expectations(&text).into_values().flatten());
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for code in [
        "FT601", "FT602", "FT603", "FT604", "FT605", "FT606", "FT607", "FT608",
    ] {
        assert!(codes.contains(code), "no fixture expects {code}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// What an example's readiness summary must say, read from its `expected-summary.json`.
fn check_summary(dir: &Path, result: &CheckResult) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join("expected-summary.json")) else {
        return vec![format!("{}: no expected-summary.json", dir.display())];
    };
    let want: serde_json::Value =
        serde_json::from_str(&text).expect("expected-summary.json is JSON");
    let Some(summary) = result.project.as_ref() else {
        return vec![format!("{}: no project summary", dir.display())];
    };
    let got = serde_json::to_value(summary).expect("the summary serialises");
    let mut failures = Vec::new();
    for (k, v) in want.as_object().into_iter().flatten() {
        let g = match k.as_str() {
            "free_threaded_wheels" | "ci_tests_free_threaded" => &got[k]["value"],
            "notes" => &serde_json::Value::from(got["notes"].as_array().map(Vec::len).unwrap_or(0)),
            _ => &got[k],
        };
        if g != v {
            failures.push(format!(
                "{}: summary {k}: expected {v}, got {g}\n{}",
                dir.display(),
                text::project_summary(summary)
            ));
        }
    }
    failures
}

#[test]
fn build_examples_report_their_hazards_and_summaries() {
    let dirs = subdirs(&manifest().join("examples/build"));
    assert!(
        dirs.len() >= 8,
        "expected example projects under examples/build"
    );
    let mut failures = Vec::new();
    for d in &dirs {
        let result = run(d);
        let name = d.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with("-ready") && !name.ends_with("not-ready") {
            for x in &result.diagnostics {
                failures.push(format!(
                    "{}: ready example has a finding: {} {}",
                    x.path.display(),
                    x.rule.code,
                    x.message
                ));
            }
            for p in &result.problems {
                failures.push(format!(
                    "{}: ready example has a problem: {}",
                    p.path.display(),
                    p.message
                ));
            }
        } else {
            failures.extend(mismatches(d));
            if result.diagnostics.is_empty() {
                failures.push(format!(
                    "{}: a not-ready example must report something",
                    d.display()
                ));
            }
        }
        failures.extend(check_summary(d, &result));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn temp_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    dir
}

#[test]
fn setup_py_is_never_executed() {
    let dir = temp_project(&[(
        "setup.py",
        "import pathlib\npathlib.Path(__file__).with_name('EXECUTED').write_text('ran')\nfrom setuptools import setup, Extension\nsetup(ext_modules=[Extension('m', ['m.c'], py_limited_api=True)])\n",
    )]);
    let result = run(dir.path());
    assert!(
        !dir.path().join("EXECUTED").exists(),
        "setup.py was executed"
    );
    assert!(
        result.diagnostics.iter().any(|d| d.rule.code == "FT601"),
        "setup.py was not read"
    );
}

#[test]
fn syntax_errors_are_reported_and_the_run_goes_on() {
    let broken: &[(&str, &str)] = &[
        (
            "setup.py",
            "from setuptools import setup\nsetup(ext_modules=[\ndef (:\n",
        ),
        ("setup.cfg", "[metadata\nname = x\nthis line is junk\n"),
        ("pyproject.toml", "[project\nname = 'x'\n"),
        (
            "meson.build",
            "project('x', 'c'\npy.extension_module('m', 'm.c'\n",
        ),
        ("CMakeLists.txt", "add_library(m MODULE \"m.c)\n"),
        (".github/workflows/ci.yml", "jobs:\n  test: [1, 2\n"),
        ("Cargo.toml", "[dependencies\npyo3 = \n"),
        ("Cargo.lock", "[[package]\n"),
        ("src/lib.rs", "#[pymodule]\nfn m() {\n"),
        (
            "m.pyx",
            "# cython: freethreading_compatible\ndef f(): pass\n",
        ),
        ("m.i", "%module\n%{\n#include \"m.h\"\n"),
    ];
    let mut files: Vec<(&str, &str)> = broken.to_vec();
    files.push(("ok.pyx", "def f():\n    return 1\n"));
    let dir = temp_project(&files);
    let result = run(dir.path());
    for (name, _) in broken {
        let p = dir.path().join(name);
        let problem = result.problems.iter().find(|x| x.path == p);
        assert!(
            problem.is_some_and(|x| !x.error && x.message.contains("syntax error")),
            "{name}: no syntax problem reported: {:?}",
            result.problems
        );
    }
    assert!(
        !result.has_errors(),
        "syntax errors in build files must not fail the run"
    );
    // The run went on: the intact Cython module is still analysed and reported.
    let ok = dir.path().join("ok.pyx");
    assert!(result
        .diagnostics
        .iter()
        .any(|d| d.path == ok && d.rule.code == "FT607"));
    assert_eq!(result.files_with_parse_errors, broken.len());
}

#[test]
fn hidden_github_folder_is_walked_but_default_excludes_and_vendored_ci_are_not() {
    let dir = temp_project(&[
        (
            ".github/workflows/ci.yml",
            "jobs:\n  t:\n    env:\n      PYTHON_GIL: 0\n",
        ),
        (
            ".venv/lib/.github/workflows/ci.yml",
            "jobs:\n  t:\n    env:\n      PYTHON_GIL: 0\n",
        ),
        (
            "build/pyproject.toml",
            "[tool.cibuildwheel]\nskip = ['cp313t-*']\n",
        ),
        // The CI of a vendored library (no Python packaging files next to it) is not this project's.
        (
            "vendor/somecrate/.github/workflows/ci.yml",
            "jobs:\n  t:\n    env:\n      PYTHON_GIL: 0\n",
        ),
    ]);
    let result = run(dir.path());
    let paths: Vec<&PathBuf> = result.diagnostics.iter().map(|d| &d.path).collect();
    assert_eq!(paths, vec![&dir.path().join(".github/workflows/ci.yml")]);
}

#[test]
fn json_output_carries_the_project_summary() {
    let dir = manifest().join("examples/build/setuptools-not-ready");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated", "--output-format", "json"])
        .arg(&dir)
        .output()
        .expect("run ftaudit");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let project = &v["summary"]["project"];
    assert!(project["modules"].as_array().is_some_and(|m| !m.is_empty()));
    // Structured data, not pre-rendered text: each answer with a typed reason.
    assert!(project.get("text").is_none(), "{project}");
    assert_eq!(project["free_threaded_wheels"]["value"], "no");
    assert_eq!(
        project["free_threaded_wheels"]["reason"]["kind"],
        "limited_api_unconditional"
    );
    assert_eq!(
        project["ci_tests_free_threaded"]["reason"]["kind"],
        "no_free_threaded_version"
    );
    assert_eq!(
        project["open_findings_by_family"][1],
        serde_json::json!({"prefix": "FT6", "title": "Build and packaging", "count": 4})
    );
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated"])
        .arg(&dir)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("Project readiness"), "{stdout}");
    assert!(
        stdout.contains(
            "  free-threaded wheels: no (the limited API is requested unconditionally (FT601))\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  open findings by family: FT0xx Declaring free-threading support: 1, FT6xx Build and packaging: 4\n"),
        "{stdout}"
    );
    assert_eq!(text.status.code(), Some(1));
}

#[test]
fn deselected_declaration_rule_is_said_in_the_summary() {
    let dir = manifest().join("examples/build/setuptools-ready");
    let ov = Overrides {
        isolated: true,
        select: Some(vec!["FT6".to_owned()]),
        ..Default::default()
    };
    let roots = vec![(
        dir.clone(),
        Arc::new(Settings::resolve(&dir, &ov).expect("settings")),
    )];
    let result = check::run(&roots, &Default::default());
    let project = result.project.expect("summary");
    assert_eq!(project.declaring, 0);
    assert!(matches!(project.notes[..], [Note::DeclarationsNotChecked]));
    assert!(text::project_summary(&project)
        .contains("note: FT001 is not selected, so hand-written C/C++ modules were not checked"));
}

#[test]
fn limited_api_message_points_to_abi3t_for_315() {
    let dir = manifest().join("examples/build/setuptools-not-ready");
    let ov = Overrides {
        isolated: true,
        target_version: Some("3.15".to_owned()),
        ..Default::default()
    };
    let roots = vec![(
        dir.clone(),
        Arc::new(Settings::resolve(&dir, &ov).expect("settings")),
    )];
    let result = check::run(&roots, &Default::default());
    let ft601: Vec<&str> = result
        .diagnostics
        .iter()
        .filter(|d| d.rule.code == "FT601")
        .map(|d| d.message.as_str())
        .collect();
    assert!(!ft601.is_empty());
    assert!(ft601.iter().all(|m| m.contains("abi3t")), "{ft601:?}");
}

fn run_with(dir: &Path, ov: Overrides) -> CheckResult {
    let roots = vec![(
        dir.to_path_buf(),
        Arc::new(Settings::resolve(dir, &ov).expect("settings")),
    )];
    check::run(&roots, &Default::default())
}

#[test]
fn build_scope_is_in_the_summary_and_all_sources_checks_everything() {
    let dir = manifest().join("tests/build_fixtures/scope-setuptools");
    let scoped = run_with(
        &dir,
        Overrides {
            isolated: true,
            ..Default::default()
        },
    );
    let project = scoped.project.as_ref().expect("summary");
    let scope = project.scope.as_ref().expect("scope");
    assert_eq!(scope.modules.len(), 1);
    assert_eq!(scope.modules[0].name, "scoped._core");
    assert_eq!(
        scope.modules[0].sources,
        [
            "extern/minilib/minilib.c",
            "src/codecs/codec_a.c",
            "src/core.c"
        ]
    );
    assert!(scope.modules[0]
        .headers
        .contains(&"include/shared.h".to_owned()));
    let summary = text::project_summary(project);
    assert!(
        summary.contains("not checked: 2 C/C++ file(s) compiled by no extension: src/3_10/ 1, tests/ 1 (`--all-sources` checks them too)"),
        "{summary}"
    );
    assert!(summary.contains("vendored: extern/minilib"), "{summary}");
    assert!(
        !scoped
            .diagnostics
            .iter()
            .any(|d| d.path.starts_with(dir.join("tools"))
                || d.path.starts_with(dir.join("src/3_10")))
    );

    let all = run_with(
        &dir,
        Overrides {
            isolated: true,
            all_sources: true,
            ..Default::default()
        },
    );
    let scope = all
        .project
        .as_ref()
        .and_then(|p| p.scope.as_ref())
        .expect("scope");
    assert_eq!(scope.mode, ftaudit::build::scope::ScopeMode::AllSources);
    for folder in ["tools", "tests", "src/3_10", "bench"] {
        assert!(
            all.diagnostics
                .iter()
                .any(|d| d.path.starts_with(dir.join(folder))),
            "--all-sources reports nothing in {folder}"
        );
    }
}

#[test]
fn json_carries_the_per_module_source_lists() {
    let dir = manifest().join("tests/build_fixtures/scope-cmake");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated", "--output-format", "json"])
        .arg(&dir)
        .output()
        .expect("run ftaudit");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let scope = &v["summary"]["project"]["scope"];
    assert_eq!(scope["mode"]["kind"], "build");
    assert_eq!(scope["modules"][0]["name"], "_ext");
    let sources: Vec<&str> = scope["modules"][0]["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(sources, ["core/counter.cpp", "src/ext.cpp"]);
    assert_eq!(scope["uncompiled_files"], 1);
    assert_eq!(scope["uncompiled_by_folder"][0]["folder"], "test/");
}
