//! Every fixture under tests/fixtures (and the bundled examples) states its own
//! expectations: a comment `expect: FT001` (or `expect: FT001, FT003`) on a line
//! means exactly those findings start on that line. A missed finding and an
//! unexpected one both fail.
//!
//! A fixture can set options in a comment on its first line:
//! `ftaudit-fixture: target-version=3.9 select=FT0`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;

use ftaudit::check;
use ftaudit::config::{Overrides, Settings};

/// The markers of `text`; a malformed marker is a failure of the fixture.
fn expectations(text: &str) -> BTreeMap<usize, Vec<String>> {
    match common::markers::parse(text) {
        Ok(m) => m,
        Err(errors) => panic!("malformed expectation markers:\n{}", errors.join("\n")),
    }
}

fn options(text: &str) -> Overrides {
    let mut ov = Overrides {
        isolated: true,
        ..Default::default()
    };
    let first = text.lines().next().unwrap_or("");
    if let Some(pos) = first.find("ftaudit-fixture:") {
        for opt in first[pos + "ftaudit-fixture:".len()..].split_whitespace() {
            match opt.split_once('=') {
                Some(("target-version", v)) => ov.target_version = Some(v.to_owned()),
                Some(("select", v)) => ov.select = Some(v.split(',').map(str::to_owned).collect()),
                Some(("ignore", v)) => ov.ignore = v.split(',').map(str::to_owned).collect(),
                _ => {}
            }
        }
    }
    ov
}

/// Checks `paths` (as one project) and compares with the `expect:` markers of every file.
fn check_expectations(paths: &[PathBuf], ov: &Overrides) -> Vec<String> {
    let roots: Vec<(PathBuf, Arc<Settings>)> = paths
        .iter()
        .map(|p| {
            (
                p.clone(),
                Arc::new(Settings::resolve(p, ov).expect("settings")),
            )
        })
        .collect();
    let result = check::run(&roots, &Default::default());
    let mut failures = Vec::new();
    for p in &result.problems {
        if p.error {
            failures.push(format!(
                "{}: unexpected problem: {}",
                p.path.display(),
                p.message
            ));
        }
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
        let lines: Vec<usize> = expected
            .keys()
            .copied()
            .chain(found.keys().filter(|(p, _)| p == path).map(|(_, l)| *l))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
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

fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in walk(dir) {
        let ext = e.extension().and_then(|x| x.to_str()).unwrap_or("");
        if matches!(ext, "c" | "h" | "cpp" | "cc" | "hpp") {
            v.push(e);
        }
    }
    v.sort();
    v
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

#[test]
fn fixtures_match_their_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = fixture_files(&root);
    assert!(
        files.len() >= 5,
        "expected fixture files under {}",
        root.display()
    );
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("fixture is UTF-8");
        failures.extend(check_expectations(std::slice::from_ref(f), &options(&text)));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Each folder under tests/project_fixtures is one project (its own
/// `pyproject.toml`): expectations that need several files at once (a global
/// defined in one file and written in another, a helper in another file).
#[test]
fn project_fixtures_match_their_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/project_fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/project_fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    let mut failures = Vec::new();
    for d in &dirs {
        failures.extend(check_expectations(
            std::slice::from_ref(d),
            &Overrides::default(),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn legacy_example_reports_each_planted_hazard_once() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/legacy-extension");
    let failures = check_expectations(std::slice::from_ref(&dir), &Overrides::default());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let total: usize = fixture_files(&dir)
        .iter()
        .map(|f| {
            expectations(&std::fs::read_to_string(f).unwrap())
                .values()
                .map(Vec::len)
                .sum::<usize>()
        })
        .sum();
    assert!(
        total >= 8,
        "the legacy example should plant hazards, found {total} markers"
    );
}

#[test]
fn ported_example_is_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ported-extension");
    let roots = vec![(
        dir.clone(),
        Arc::new(Settings::resolve(&dir, &Overrides::default()).unwrap()),
    )];
    let result = check::run(&roots, &Default::default());
    let msgs: Vec<String> = result
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{:?} {} {}",
                d.path.display(),
                d.span.map(|s| s.start_line),
                d.rule.code,
                d.message
            )
        })
        .collect();
    assert!(msgs.is_empty(), "{}", msgs.join("\n"));
    assert!(result.files_analysed >= 7);
}

#[test]
fn expectation_markers_are_strict() {
    assert_eq!(
        common::markers::parse("x; /* expect: FT101 */").unwrap()[&1],
        vec!["FT101"]
    );
    assert_eq!(
        common::markers::parse("# expect-next: FT601, FT602 -- why\nline").unwrap()[&2],
        vec!["FT601", "FT602"]
    );
    assert!(common::markers::parse("x; /* expect: FT10 */").is_err());
    assert!(common::markers::parse("x; /* expect: ft101 */").is_err());
    assert!(common::markers::parse("x; /* expect: FT999 */").is_err());
    assert!(common::markers::parse("x; /* expect: */").is_err());
    assert!(common::markers::parse("no marker here").unwrap().is_empty());
}

/// Each fixture's findings as a user reads them (position, code, severity,
/// message, help, fix title), snapshot-tested so that a change of wording is
/// reviewed like a change of code. Update with `INSTA_UPDATE=always cargo test
/// --test fixtures` (or `cargo insta review`), then read the diff.
#[test]
fn fixture_messages_match_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for f in fixture_files(&root) {
        let text = std::fs::read_to_string(&f).expect("fixture is UTF-8");
        let ov = options(&text);
        let roots = vec![(
            f.clone(),
            Arc::new(Settings::resolve(&f, &ov).expect("settings")),
        )];
        let result = check::run(&roots, &Default::default());
        let mut rendered = String::new();
        for d in &result.diagnostics {
            let (line, col) = d
                .span
                .map(|s| (s.start_line, s.start_col))
                .unwrap_or((0, 0));
            rendered.push_str(&format!(
                "{line}:{col} {} [{}] {}\n",
                d.rule.code,
                d.severity.as_str(),
                d.message
            ));
            if let Some(help) = &d.help {
                rendered.push_str(&format!("    help: {help}\n"));
            }
            if let Some(fix) = &d.fix {
                rendered.push_str(&format!(
                    "    fix ({:?}): {}\n",
                    fix.applicability, fix.message
                ));
            }
            for r in &d.related {
                let file = r.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let line = r.span.map(|s| s.start_line).unwrap_or(0);
                rendered.push_str(&format!("    note: {file}:{line}: {}\n", r.message));
            }
        }
        let rel = f.strip_prefix(&root).expect("below root");
        let name = rel.to_string_lossy().replace(['/', '\\', '.'], "_");
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, rendered);
        });
    }
}
