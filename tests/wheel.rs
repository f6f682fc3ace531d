//! `ftaudit wheel` on real binaries built during the test: `tests/wheel/probe.c` in
//! several variants and the bundled examples, compiled with
//! `scripts/compile-extension.py` for the free-threaded and the regular CPython
//! 3.13 (FTAUDIT_PYTHON_FT / FTAUDIT_PYTHON_GIL), packed into wheels with the `zip`
//! crate with right and deliberately wrong tags, suffixes and metadata. A Windows
//! DLL is built with MinGW against stub `python313t.dll` / `python313.dll` import
//! libraries when `x86_64-w64-mingw32-gcc` is available.
//!
//! Without the interpreters the tests print a skip message and pass, unless
//! FTAUDIT_REQUIRE_PYTHON=1 (set by scripts/test.sh), where they fail.

mod common;
#[path = "wheel/support.rs"]
mod support;

#[allow(unused_imports)]
use std::collections::BTreeMap;
#[allow(unused_imports)]
use std::io::Write;
#[allow(unused_imports)]
use std::path::{Path, PathBuf};
#[allow(unused_imports)]
use std::process::Command;
#[allow(unused_imports)]
use zip::write::SimpleFileOptions;

use support::*;

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn correct_release_set_reports_nothing_in_every_format() {
    let Some(b) = built() else { return };
    let dir = tempfile::tempdir().unwrap();
    let meta = Meta {
        classifier: true,
        ..Default::default()
    };
    for (kind, abi, suffix) in [("ft", "cp313t", FT_SUFFIX), ("gil", "cp313", GIL_SUFFIX)] {
        let mut members: Vec<(String, Vec<u8>)> =
            vec![(member("probe", suffix), probe("ok", kind))];
        for ((folder, name, k), bytes) in &b.examples {
            if folder == "ported-extension" && k == kind {
                members.push((member(name, suffix), bytes.clone()));
            }
        }
        let refs: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        wheel(
            dir.path(),
            &format!("pkg-1.0-cp313-{abi}-linux_x86_64.whl"),
            &refs,
            &meta,
        );
    }
    // FT708 is informational and lists what to review: correct code may still call
    // a borrowed-reference function (e.g. PyDict_Next inside a critical section).
    let run = ftaudit(&["--ignore", "FT708"], &[dir.path()]);
    assert_eq!(run.codes(), Vec::<String>::new(), "{:#?}", run.diags());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.json["summary"]["files_analysed"], 2);
    // Every ported module declares GIL-free support in the free-threaded build (a
    // single-phase module's GIL build does not call PyUnstable_Module_SetGIL), and
    // the probe's build is known.
    let bins = run.json["summary"]["binaries"].as_array().unwrap();
    let ft_bins = bins
        .iter()
        .filter(|x| x["member"].as_str().unwrap_or("").contains("313t"));
    assert!(ft_bins.clone().count() >= 8);
    assert!(
        ft_bins.clone().all(|x| x["modules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["gil"] == "not-used")),
        "{bins:#?}"
    );
    assert!(bins.iter().any(
        |x| x["member"].as_str().unwrap().contains("probe.cpython-313t")
            && x["build"] == "free-threaded"
    ));
    assert!(bins.iter().any(
        |x| x["member"].as_str().unwrap().contains("probe.cpython-313-") && x["build"] == "gil"
    ));
    for format in ["text", "sarif", "github"] {
        let o = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
            .args(["wheel", "--ignore", "FT708", "--output-format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn every_format_renders_wheel_findings() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = wheel(
        dir.path(),
        "pkg-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &probe("undeclared", "ft"))],
        &Meta::default(),
    );
    let text = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["wheel", "--color", "never"])
        .arg(&w)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        out.contains("FT705")
            && out.contains("probe.cpython-313t")
            && out.contains("1 wheel analysed"),
        "{out}"
    );
    let sarif = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["wheel", "--output-format", "sarif"])
        .arg(&w)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "FT705");
    let gh = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["wheel", "--output-format", "github"])
        .arg(&w)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&gh.stdout).starts_with("::error file="));
    let exit_zero = Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(["wheel", "--exit-zero", "-q"])
        .arg(&w)
        .output()
        .unwrap();
    assert_eq!(exit_zero.status.code(), Some(0));
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft701_free_threaded_tag_on_gil_build() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A GIL build renamed with the t suffix, and one with a plain suffix in a t wheel.
    let bad = wheel(
        dir.path(),
        "bad-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &probe("ok", "gil"))],
        &Meta::default(),
    );
    let plain = wheel(
        dir.path(),
        "plain-1.0-cp313-cp313t-linux_x86_64.whl",
        &[("probe.so", &probe("ok", "gil"))],
        &Meta::default(),
    );
    let good = wheel(
        dir.path(),
        "good-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &probe("ok", "ft"))],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&bad]);
    assert_eq!(run.codes(), vec!["FT701"]);
    assert!(
        run.messages("FT701")[0].contains("_Py_Dealloc"),
        "{:?}",
        run.messages("FT701")
    );
    assert_eq!(run.status, 1);
    assert_eq!(ftaudit(&[], &[&plain]).codes(), vec!["FT701"]);
    let ok = ftaudit(&[], &[&good]);
    assert_eq!(ok.codes(), Vec::<String>::new());
    assert_eq!(ok.status, 0);
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft702_gil_tag_on_free_threaded_build() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = wheel(
        dir.path(),
        "bad-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&member("probe", GIL_SUFFIX), &probe("ok", "ft"))],
        &Meta::default(),
    );
    let good = wheel(
        dir.path(),
        "good-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&member("probe", GIL_SUFFIX), &probe("ok", "gil"))],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&bad]);
    assert_eq!(run.codes(), vec!["FT702"]);
    assert!(run.messages("FT702")[0].contains("_Py_DecRefShared"));
    assert_eq!(ftaudit(&[], &[&good]).codes(), Vec::<String>::new());
    // Bare binaries: the suffix alone decides.
    let bare_dir = tempfile::tempdir().unwrap();
    let bare = bare_dir.path().join(format!("probe{GIL_SUFFIX}"));
    std::fs::write(&bare, probe("ok", "ft")).unwrap();
    assert_eq!(ftaudit(&[], &[&bare]).codes(), vec!["FT702"]);
    std::fs::write(&bare, probe("ok", "gil")).unwrap();
    assert_eq!(ftaudit(&[], &[&bare]).codes(), Vec::<String>::new());
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft703_stable_abi_for_free_threaded() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let abi3_in_t = wheel(
        dir.path(),
        "a-1.0-cp313-cp313t-linux_x86_64.whl",
        &[("pkg/probe.abi3.so", &probe("abi3", "gil"))],
        &Meta::default(),
    );
    let abi3_in_gil = wheel(
        dir.path(),
        "b-1.0-cp313-cp313-linux_x86_64.whl",
        &[("pkg/probe.abi3.so", &probe("abi3", "gil"))],
        &Meta::default(),
    );
    let abi3t_versioned = wheel(
        dir.path(),
        "c-1.0-cp315-abi3t-linux_x86_64.whl",
        &[("pkg/probe.so", &probe("ok", "ft"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&abi3_in_t]).codes(), vec!["FT703"]);
    assert_eq!(ftaudit(&[], &[&abi3_in_gil]).codes(), Vec::<String>::new());
    let abi3_in_315t = wheel(
        dir.path(),
        "d-1.0-cp315-cp315t-linux_x86_64.whl",
        &[("pkg/probe.abi3.so", &probe("abi3", "gil"))],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&abi3_in_315t]);
    assert_eq!(run.codes(), vec!["FT703"]);
    assert!(run.messages("FT703")[0].contains("3.15+"));
    let abi3t_in_313t = wheel(
        dir.path(),
        "e-1.0-cp313-cp313t-linux_x86_64.whl",
        // A stable-ABI build, so that the suffix is the only defect.
        &[("pkg/probe.abi3t.so", &probe("abi3", "gil"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&abi3t_in_313t]).codes(), vec!["FT704"]);
    let run = ftaudit(&[], &[&abi3t_versioned]);
    assert_eq!(run.codes(), vec!["FT703"]);
    assert!(run.messages("FT703")[0].contains("abi3t"));
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft704_suffix_and_tag_mismatches() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ft = probe("ok", "ft");
    let other_version = wheel(
        dir.path(),
        "a-1.0-cp314-cp314t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&other_version]);
    assert_eq!(run.codes(), vec!["FT704"]);
    assert!(run.messages("FT704")[0].contains("cp313t"));
    let wheel_file = wheel(
        dir.path(),
        "b-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta {
            tags: Some(vec!["cp313-cp313-linux_x86_64"]),
            ..Default::default()
        },
    );
    assert_eq!(ftaudit(&[], &[&wheel_file]).codes(), vec!["FT704"]);
    let requires = wheel(
        dir.path(),
        "c-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta {
            requires_python: Some(">=3.14"),
            ..Default::default()
        },
    );
    assert_eq!(ftaudit(&[], &[&requires]).codes(), vec!["FT704"]);
    // The binary's format and architecture against the platform tag.
    let win = wheel(
        dir.path(),
        "e-1.0-cp313-cp313t-win_amd64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&win]);
    assert_eq!(run.codes(), vec!["FT704"]);
    assert!(run.messages("FT704")[0].contains("an ELF binary"));
    let arm = wheel(
        dir.path(),
        "f-1.0-cp313-cp313t-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&arm]);
    assert_eq!(run.codes(), vec!["FT704"]);
    assert!(run.messages("FT704")[0].contains("x86_64 code"));
    // Compressed tag sets that include the module's ABI, and a Requires-Python that
    // allows it, are consistent.
    let good = wheel(
        dir.path(),
        "d-1.0-cp313-cp313.cp313t-linux_x86_64.manylinux_2_17_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta {
            requires_python: Some(">=3.9"),
            ..Default::default()
        },
    );
    assert_eq!(ftaudit(&[], &[&good]).codes(), Vec::<String>::new());
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft705_module_reenables_gil() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = |name: &str, variant: &str| {
        wheel(
            dir.path(),
            &format!("{name}-1.0-cp313-cp313t-linux_x86_64.whl"),
            &[(&member("probe", FT_SUFFIX), &probe(variant, "ft"))],
            &Meta::default(),
        )
    };
    let undeclared = ftaudit(&[], &[&t("und", "undeclared")]);
    assert_eq!(undeclared.codes(), vec!["FT705"]);
    assert_eq!(undeclared.diags()[0]["severity"], "error");
    assert!(undeclared.messages("FT705")[0].contains("multi-phase"));
    let single = ftaudit(&[], &[&t("single", "single")]);
    assert_eq!(single.codes(), vec!["FT705"]);
    assert!(single.messages("FT705")[0].contains("single-phase"));
    let used = ftaudit(&[], &[&t("used", "gil_used")]);
    assert_eq!(used.codes(), vec!["FT705"]);
    assert_eq!(used.diags()[0]["severity"], "warning");
    assert_eq!(
        ftaudit(&[], &[&t("ok", "ok")]).codes(),
        Vec::<String>::new()
    );
    assert_eq!(
        ftaudit(&[], &[&t("singleok", "single_ok")]).codes(),
        Vec::<String>::new()
    );
    // Undeclared modules in a GIL wheel are fine.
    let gil = wheel(
        dir.path(),
        "gil-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&member("probe", GIL_SUFFIX), &probe("undeclared", "gil"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&gil]).codes(), Vec::<String>::new());
}

/// The seven original legacy examples: which of them re-enable the GIL on 3.13t,
/// read from their sources (bacon, spam: no slot; eggs: single-phase without
/// SetGIL; beans: slot only from 3.14; sausage: Py_MOD_GIL_USED). Example files
/// added later are checked only for not crashing the audit.
#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft705_on_the_legacy_examples() {
    let Some(b) = built() else { return };
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<(String, Vec<u8>)> = b
        .examples
        .iter()
        .filter(|((f, _, k), _)| f == "legacy-extension" && k == "ft")
        .map(|((_, n, _), d)| (member(n, FT_SUFFIX), d.clone()))
        .collect();
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let w = wheel(
        dir.path(),
        "legacy-1.0-cp313-cp313t-linux_x86_64.whl",
        &refs,
        &Meta::default(),
    );
    let run = ftaudit(&["--select", "FT705"], &[&w]);
    let original = ["bacon", "beans", "eggs", "ham", "sausage", "spam", "toast"];
    let reported: Vec<&str> = original
        .iter()
        .copied()
        .filter(|m| {
            run.messages("FT705")
                .iter()
                .any(|msg| msg.contains(&format!("module `{m}`")))
        })
        .collect();
    assert_eq!(
        reported,
        vec!["bacon", "beans", "eggs", "sausage", "spam"],
        "{:#?}",
        run.diags()
    );
    for m in original {
        assert!(
            run.messages("FT705")
                .iter()
                .filter(|msg| msg.contains(&format!("module `{m}`")))
                .count()
                <= 1
        );
    }
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft706_ft707_release_sets() {
    if built().is_none() {
        return;
    }
    let ft = probe("ok", "ft");
    let gil = probe("ok", "gil");
    let gil_member = member("probe", GIL_SUFFIX);
    let ft_member = member("probe", FT_SUFFIX);
    let with_classifier = Meta {
        classifier: true,
        ..Default::default()
    };

    // GIL wheel only, with the classifier: FT706 and FT707.
    let only_gil = tempfile::tempdir().unwrap();
    wheel(
        only_gil.path(),
        "pkg-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&gil_member, &gil)],
        &with_classifier,
    );
    wheel(
        only_gil.path(),
        "pkg-1.0-cp312-cp312-linux_x86_64.whl",
        &[("pkg/probe.cpython-312-x86_64-linux-gnu.so", &gil)],
        &with_classifier,
    );
    let run = ftaudit(&[], &[only_gil.path()]);
    assert_eq!(run.codes(), vec!["FT706", "FT707"]);
    assert!(run.messages("FT706")[0].contains("cp313t"));
    assert_eq!(run.status, 1);

    // t wheel without the classifier: FT707 only.
    let no_classifier = tempfile::tempdir().unwrap();
    wheel(
        no_classifier.path(),
        "pkg-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&gil_member, &gil)],
        &Meta::default(),
    );
    wheel(
        no_classifier.path(),
        "pkg-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&ft_member, &ft)],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[no_classifier.path()]).codes(), vec!["FT707"]);

    // abi3 only: FT706.
    let abi3 = tempfile::tempdir().unwrap();
    wheel(
        abi3.path(),
        "pkg-1.0-cp39-abi3-linux_x86_64.whl",
        &[("pkg/probe.abi3.so", &probe("abi3", "gil"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[abi3.path()]).codes(), vec!["FT706"]);

    // Complete set, and two projects in one folder checked separately.
    let complete = tempfile::tempdir().unwrap();
    wheel(
        complete.path(),
        "pkg-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&gil_member, &gil)],
        &with_classifier,
    );
    wheel(
        complete.path(),
        "pkg-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&ft_member, &ft)],
        &with_classifier,
    );
    wheel(
        complete.path(),
        "other-2.0-py3-none-any.whl",
        &[],
        &Meta::default(),
    );
    assert_eq!(
        ftaudit(&[], &[complete.path()]).codes(),
        Vec::<String>::new()
    );
    // A single wheel given as a file is not a release set.
    assert_eq!(
        ftaudit(
            &[],
            &[&only_gil.path().join("pkg-1.0-cp313-cp313-linux_x86_64.whl")]
        )
        .codes(),
        Vec::<String>::new()
    );
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft708_borrowed_reference_imports() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ft = wheel(
        dir.path(),
        "a-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &probe("borrowed", "ft"))],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&ft]);
    assert_eq!(run.codes(), vec!["FT708"]);
    assert!(run.messages("FT708")[0].contains("PyList_GetItemRef"));
    assert_eq!(run.diags()[0]["severity"], "info");
    let gil = wheel(
        dir.path(),
        "b-1.0-cp313-cp313-linux_x86_64.whl",
        &[(&member("probe", GIL_SUFFIX), &probe("borrowed", "gil"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&gil]).codes(), Vec::<String>::new());
    let clean = wheel(
        dir.path(),
        "c-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &probe("ok", "ft"))],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&clean]).codes(), Vec::<String>::new());
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn ft709_path_traversal_and_zip_bomb() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ft = probe("ok", "ft");
    let traversal = wheel(
        dir.path(),
        "a-1.0-cp313-cp313t-linux_x86_64.whl",
        &[
            (&member("probe", FT_SUFFIX), &ft),
            ("../../evil.so", b"x"),
            ("/etc/evil.pth", b"x"),
        ],
        &Meta::default(),
    );
    let run = ftaudit(&[], &[&traversal]);
    assert_eq!(run.codes(), vec!["FT709", "FT709"]);
    assert!(run
        .messages("FT709")
        .iter()
        .any(|m| m.contains("../../evil.so") && m.contains("..")));
    let zeros = vec![0u8; 8 << 20];
    let bomb = wheel(
        dir.path(),
        "b-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft), ("pkg/bomb.so", &zeros)],
        &Meta::default(),
    );
    assert!(
        std::fs::metadata(&bomb).unwrap().len() < 1 << 20,
        "the bomb compresses well"
    );
    let run = ftaudit(&["--max-member-size", "1M"], &[&bomb]);
    assert_eq!(run.codes(), vec!["FT709"]);
    assert!(run.messages("FT709")[0].contains("pkg/bomb.so"));
    let run = ftaudit(&["--max-total-size", "2M"], &[&bomb]);
    assert!(run.count("FT709") >= 1, "{:#?}", run.diags());
    // The default limits read it (8 MiB is not a bomb) and find nothing wrong with
    // the probe; the zeros are not a binary.
    let run = ftaudit(&[], &[&bomb]);
    assert_eq!(run.codes(), Vec::<String>::new());
    assert!(run.stderr.contains("pkg/bomb.so"), "{}", run.stderr);
    assert_eq!(run.status, 2);
}

#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn corrupt_inputs_give_clear_messages() {
    if built().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ft = probe("ok", "ft");
    let good = wheel(
        dir.path(),
        "good-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft)],
        &Meta::default(),
    );
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("trunc-1.0-cp313-cp313t-linux_x86_64.whl");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let garbage = dir.path().join("garbage-1.0-cp313-cp313t-linux_x86_64.whl");
    std::fs::write(&garbage, b"this is not a zip file at all").unwrap();
    let badname = dir.path().join("notawheel.whl");
    std::fs::write(&badname, &bytes).unwrap();
    let half_binary = wheel(
        dir.path(),
        "half-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), &ft[..ft.len() / 3])],
        &Meta::default(),
    );
    let not_binary = wheel(
        dir.path(),
        "text-1.0-cp313-cp313t-linux_x86_64.whl",
        &[(&member("probe", FT_SUFFIX), b"#!/bin/sh\necho hi\n")],
        &Meta::default(),
    );
    let bare = dir.path().join("probe.cpython-313t-x86_64-linux-gnu.so");
    std::fs::write(&bare, &ft[..64]).unwrap();
    let empty = dir.path().join("empty.so");
    std::fs::write(&empty, b"").unwrap();
    // A fat Mach-O header whose one slice lies outside the file.
    let fat = dir.path().join("fat.so");
    let mut f = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1];
    f.extend_from_slice(&[
        0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 12,
    ]);
    std::fs::write(&fat, f).unwrap();
    for (p, needle) in [
        (&truncated, "not a readable wheel"),
        (&garbage, "not a readable wheel"),
        (&badname, "not a wheel file name"),
        (&half_binary, "member `pkg/probe.cpython-313t"),
        (&not_binary, "not a recognised binary"),
        (&bare, "corrupt"),
        (&empty, "not a recognised binary"),
        (&fat, "fat Mach-O"),
    ] {
        let run = ftaudit(&[], &[p]);
        assert_eq!(run.status, 2, "{}: {}", p.display(), run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{}: expected `{needle}` in {}",
            p.display(),
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let missing = ftaudit(&[], &[&dir.path().join("missing.whl")]);
    assert_eq!(missing.status, 2);
    assert!(missing.stderr.contains("no such file"));
    let empty_dir = tempfile::tempdir().unwrap();
    let run = ftaudit(&[], &[empty_dir.path()]);
    assert_eq!(run.status, 0);
    assert!(
        run.stderr.contains("no wheels or extension binaries"),
        "{}",
        run.stderr
    );
    // Nothing is ever written next to the inputs.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "{names:?}");
}

#[test]
#[ignore = "needs MinGW (x86_64-w64-mingw32-gcc); scripts/test.sh provides it"]
fn windows_dlls_built_with_mingw() {
    let Some(cc) = mingw() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ft_ok = build_pe(
        &cc,
        dir.path(),
        "python313t.dll",
        &["FT_BUILD", "DECLARE_GIL"],
    );
    let ft_undeclared = build_pe(&cc, dir.path(), "python313t.dll", &["FT_BUILD"]);
    let gil = build_pe(&cc, dir.path(), "python313.dll", &["DECLARE_GIL"]);
    let tag = "cp313-cp313t-win_amd64";
    let pyd_t = "pkg/winmod.cp313t-win_amd64.pyd";
    let w = |name: &str, m: &str, data: &[u8]| {
        wheel(
            dir.path(),
            &format!("{name}-1.0-{tag}.whl"),
            &[(m, data)],
            &Meta::default(),
        )
    };
    let good = ftaudit(&["--ignore", "FT708"], &[&w("good", pyd_t, &ft_ok)]);
    assert_eq!(good.codes(), Vec::<String>::new());
    let bins = good.json["summary"]["binaries"].as_array().unwrap();
    assert_eq!(bins[0]["format"], "PE");
    assert_eq!(bins[0]["python_dll"], "python313t.dll");
    assert_eq!(bins[0]["modules"][0]["gil"], "not-used");
    // The Windows crash on import: a cp313t .pyd linking python313.dll.
    let run = ftaudit(&["--ignore", "FT708"], &[&w("wrongdll", pyd_t, &gil)]);
    assert_eq!(run.codes(), vec!["FT701"]);
    assert!(run.messages("FT701")[0].contains("python313.dll"));
    assert_eq!(
        ftaudit(
            &["--ignore", "FT708"],
            &[&w("undeclared", pyd_t, &ft_undeclared)]
        )
        .codes(),
        vec!["FT705"]
    );
    let borrowed = ftaudit(&["--select", "FT708"], &[&w("borrowed", pyd_t, &ft_ok)]);
    assert_eq!(borrowed.codes(), vec!["FT708"]);
    // python313t.dll in a GIL wheel.
    let gil_wheel = wheel(
        dir.path(),
        "g-1.0-cp313-cp313-win_amd64.whl",
        &[("pkg/winmod.cp313-win_amd64.pyd", &ft_ok)],
        &Meta::default(),
    );
    assert_eq!(
        ftaudit(&["--ignore", "FT708"], &[&gil_wheel]).codes(),
        vec!["FT702"]
    );
    // A Windows binary in a Linux wheel.
    let linux = wheel(
        dir.path(),
        "l-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl",
        &[("pkg/winmod.so", &ft_ok)],
        &Meta::default(),
    );
    let run = ftaudit(&["--ignore", "FT708"], &[&linux]);
    assert_eq!(run.codes(), vec!["FT704"]);
    assert!(run.messages("FT704")[0].contains("a PE binary"));
    // Another version's DLL.
    let v314 = build_pe(
        &cc,
        dir.path(),
        "python314t.dll",
        &["FT_BUILD", "DECLARE_GIL"],
    );
    let run = ftaudit(&["--ignore", "FT708"], &[&w("v314", pyd_t, &v314)]);
    assert_eq!(run.codes(), vec!["FT704"]);
    assert!(run.messages("FT704")[0].contains("python314t.dll"));
    // A stable-ABI build (python3.dll) offered to 3.13t.
    let stable = build_pe(&cc, dir.path(), "python3.dll", &["DECLARE_GIL"]);
    let run = ftaudit(&["--ignore", "FT708"], &[&w("stable", pyd_t, &stable)]);
    assert_eq!(run.codes(), vec!["FT703"]);
    assert!(run.messages("FT703")[0].contains("python3.dll"));
    let stable_gil = wheel(
        dir.path(),
        "s-1.0-cp39-abi3-win_amd64.whl",
        &[("pkg/winmod.pyd", &stable)],
        &Meta::default(),
    );
    assert_eq!(ftaudit(&[], &[&stable_gil]).codes(), Vec::<String>::new());
    // Truncated PE.
    let t = dir.path().join("winmod.cp313t-win_amd64.pyd");
    std::fs::write(&t, &ft_ok[..200]).unwrap();
    let run = ftaudit(&[], &[&t]);
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.contains("corrupt") || run.stderr.contains("not a recognised"),
        "{}",
        run.stderr
    );
}
