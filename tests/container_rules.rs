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
    // FT320–FT339 belong to another family file.
    for r in rules::locking::RULES {
        let n: u32 = r.code[2..].parse().expect("numeric code");
        assert!(
            (301..=319).contains(&n),
            "{} is outside FT301–FT319",
            r.code
        );
    }
}
