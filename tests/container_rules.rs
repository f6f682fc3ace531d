//! The FT1xx/FT2xx/FT301–FT319/FT5xx rules are registered and documented in the
//! fixed sections, and every rule a fixture expects exists.

use ftaudit::rules;

const CODES: &[&str] = &[
    "FT101", "FT102", "FT103", "FT104", "FT105", "FT106", "FT107", "FT108", "FT201", "FT202",
    "FT203", "FT204", "FT205", "FT206", "FT207", "FT301", "FT302", "FT303", "FT304", "FT305",
    "FT306", "FT501", "FT502", "FT503",
];

#[test]
fn rules_are_registered_and_documented() {
    for code in CODES {
        let rule = rules::by_code(code).unwrap_or_else(|| panic!("{code} is not registered"));
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## References",
        ] {
            assert!(rule.doc.contains(section), "{code} lacks {section}");
        }
        assert!(!rule.name.is_empty() && !rule.summary.is_empty(), "{code}");
    }
    // FT301–FT319 are the `locking` family's rule files, FT320–FT339 the `locks` family's.
    for (family, codes) in [("locking", 301..=319), ("locks", 320..=339)] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/rules")
            .join(family);
        let mut seen = 0;
        for f in std::fs::read_dir(&dir).expect("family directory").flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(n) = name.strip_prefix("ft").and_then(|n| n.get(..3)) else {
                continue;
            };
            let n: u32 = n.parse().expect("numeric code");
            assert!(codes.contains(&n), "{family}/{name} is outside {codes:?}");
            let code = format!("FT{n}");
            assert!(rules::by_code(&code).is_some(), "{code} is not registered");
            seen += 1;
        }
        assert!(seen > 0, "no rule files in {family}");
    }
}
