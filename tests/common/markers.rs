//! The expectation markers of fixture files, parsed strictly.
//!
//! `expect: FT101` (or `expect: FT101, FT205`) on a line means exactly those
//! findings start on that line; `expect-next: FT601` means the next line (for
//! formats where a comment cannot share the line). Every code must be a
//! registered rule; a marker with no code, a malformed code (`FT10`, `ft101`) or
//! an unknown one is an error, so a typo can never silently expect nothing.
//! Text after the codes (`expect: FT101 -- why`) is allowed once a non-code word
//! starts it.

use std::collections::BTreeMap;

/// Expected codes by 1-based line, or the list of malformed markers.
pub fn parse(text: &str) -> Result<BTreeMap<usize, Vec<String>>, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (pos, target, len) = match (line.find("expect-next:"), line.find("expect:")) {
            (Some(p), _) => (p, i + 2, "expect-next:".len()),
            (None, Some(p)) => (p, i + 1, "expect:".len()),
            _ => continue,
        };
        let rest = &line[pos + len..];
        let rest = rest.split("*/").next().unwrap_or(rest);
        let mut codes = Vec::new();
        for token in rest.split(|c: char| c == ',' || c.is_whitespace()) {
            let token = token.trim();
            if token.is_empty() {
                continue;
            }
            let code_like = token.len() >= 2 && token[..2].eq_ignore_ascii_case("FT");
            if !code_like {
                break;
            }
            match ftaudit::rules::registry::by_code(token) {
                Some(rule) if rule.code == token => codes.push(token.to_owned()),
                _ => errors.push(format!(
                    "line {}: `{token}` in an expectation marker is not a rule code",
                    i + 1
                )),
            }
        }
        if codes.is_empty() {
            errors.push(format!(
                "line {}: expectation marker names no rule code: `{}`",
                i + 1,
                line.trim()
            ));
            continue;
        }
        out.entry(target).or_default().extend(codes);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
