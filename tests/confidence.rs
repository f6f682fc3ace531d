//! `--confidence certain` hides findings the analysis could not prove; the JSON
//! report carries each finding's confidence.

use std::path::Path;
use std::process::Command;

fn check(args: &[&str]) -> serde_json::Value {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/borrowed/FT10x.c");
    let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args([
            "check",
            "--isolated",
            "--select",
            "FT1",
            "--output-format",
            "json",
        ])
        .args(args)
        .arg(&fixture)
        .output()
        .expect("run ftaudit");
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn confidences(v: &serde_json::Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            d["confidence"]
                .as_str()
                .expect("confidence field")
                .to_owned()
        })
        .collect()
}

#[test]
fn likely_is_the_default_and_certain_filters() {
    let all = confidences(&check(&[]));
    assert!(
        all.iter().any(|c| c == "likely"),
        "the fixture has likely findings: {all:?}"
    );
    assert!(all.iter().any(|c| c == "certain"));
    let explicit = confidences(&check(&["--confidence", "likely"]));
    assert_eq!(all, explicit);
    let certain = confidences(&check(&["--confidence", "certain"]));
    assert!(!certain.is_empty());
    assert!(certain.iter().all(|c| c == "certain"), "{certain:?}");
    assert_eq!(
        certain.len(),
        all.iter().filter(|c| *c == "certain").count()
    );
}

#[test]
fn mechanical_fixes_are_offered_where_safe() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["check", "--isolated", "--select", "FT107,FT205", "--diff"])
        .arg(root.join("borrowed/FT10x.c"))
        .arg(root.join("access/FT20x.c"))
        .output()
        .expect("run ftaudit");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+    PyObject *item = PyList_GetItemRef(args[1], 0);"),
        "{diff}"
    );
    assert!(diff.contains("+    Py_ssize_t r = Py_REFCNT(o);"), "{diff}");
    // `Py_NewRef(PyList_GET_ITEM(...))` can change NULL behaviour: only with --unsafe-fixes.
    assert!(
        !diff.contains("return PyList_GetItemRef(list, 0);"),
        "{diff}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args([
            "check",
            "--isolated",
            "--select",
            "FT107",
            "--diff",
            "--unsafe-fixes",
        ])
        .arg(root.join("borrowed/FT10x.c"))
        .output()
        .expect("run ftaudit");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+    return PyList_GetItemRef(list, 0);"),
        "{diff}"
    );
}
