//! Rust sources: PyO3 `#[pymodule]` attributes and `.gil_used(...)` calls, found
//! by a scan that skips comments and string literals. Macros that generate modules
//! and `#[cfg_attr(..., pymodule)]` are not seen; every `#[pymodule]` counts as a
//! module, submodules included.

use super::{Fact, SyntaxError, What};

/// `text` with comments and string/char contents replaced by spaces (same offsets),
/// plus the first lexical error.
fn code_only(text: &str) -> (String, SyntaxError) {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut err = None;
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: usize, e: usize| {
        for x in out.iter_mut().take(e).skip(s) {
            if *x != b'\n' {
                *x = b' ';
            }
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let e = text[i..].find('\n').map(|x| i + x).unwrap_or(b.len());
            blank(&mut out, i, e);
            i = e;
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            let mut j = i;
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            if depth != 0 {
                err.get_or_insert((i, "unterminated block comment".to_owned()));
            }
            blank(&mut out, i, j.min(b.len()));
            i = j;
        } else if b[i] == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            let e = text[body..].find(&close).map(|x| body + x + close.len());
            if e.is_none() {
                err.get_or_insert((i, "unterminated raw string".to_owned()));
            }
            let e = e.unwrap_or(b.len());
            blank(&mut out, body, e.saturating_sub(close.len()));
            i = e;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            if j >= b.len() {
                err.get_or_insert((i, "unterminated string literal".to_owned()));
            }
            blank(&mut out, i + 1, j.min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            blank(&mut out, i + 1, i + 2);
            i += 3;
        } else {
            i += 1;
        }
    }
    (String::from_utf8(out).unwrap_or_default(), err)
}

fn matching(code: &str, open: usize, o: u8, c: u8) -> Option<usize> {
    let b = code.as_bytes();
    let mut d = 0;
    for (j, ch) in b.iter().enumerate().skip(open) {
        if *ch == o {
            d += 1;
        } else if *ch == c {
            d -= 1;
            if d == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// Reads a Rust source.
pub fn read(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let (code, mut err) = code_only(text);
    for (i, _) in code.match_indices("#[") {
        let Some(close) = matching(&code, i + 1, b'[', b']') else {
            err.get_or_insert((i, "attribute is never closed".to_owned()));
            continue;
        };
        let inner = code[i + 2..close].trim();
        let path_end = inner
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(inner.len());
        let path = &inner[..path_end];
        if path != "pymodule" && path != "pyo3::pymodule" {
            continue;
        }
        let args = inner[path_end..].trim();
        let gil_used = args.find("gil_used").and_then(|g| {
            let rest = args[g + "gil_used".len()..]
                .trim_start()
                .strip_prefix('=')?
                .trim_start();
            if rest.starts_with("true") {
                Some(true)
            } else if rest.starts_with("false") {
                Some(false)
            } else {
                None
            }
        });
        let name = item_name(&code[close + 1..]).unwrap_or_default();
        facts.push(Fact {
            what: What::PyO3Module { name, gil_used },
            range: (i, close + 1),
        });
    }
    for (i, _) in code.match_indices("fn PyInit_") {
        let rest = &code[i + "fn PyInit_".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let line_start = code[..i].rfind('\n').map(|x| x + 1).unwrap_or(0);
        if name.is_empty() || !code[line_start..i].contains("extern") {
            continue;
        }
        let declared = code.contains("Py_MOD_GIL_NOT_USED");
        facts.push(Fact {
            what: What::RustFfiModule { name, declared },
            range: (i, i + "fn PyInit_".len()),
        });
    }
    for (i, _) in code.match_indices(".gil_used(") {
        let arg = code[i + ".gil_used(".len()..].trim_start();
        let value = if arg.starts_with("false") {
            false
        } else if arg.starts_with("true") {
            true
        } else {
            continue;
        };
        let end = code[i..].find(')').map(|x| i + x + 1).unwrap_or(i + 10);
        facts.push(Fact {
            what: What::PyO3GilUsedCall { value },
            range: (i + 1, end),
        });
    }
    let opens = code.bytes().filter(|c| *c == b'{').count();
    let closes = code.bytes().filter(|c| *c == b'}').count();
    if opens != closes {
        err.get_or_insert((
            text.len(),
            format!("unbalanced braces ({opens} `{{`, {closes} `}}`)"),
        ));
    }
    err
}

/// The name of the `fn` or `mod` an attribute applies to (other attributes skipped).
fn item_name(after: &str) -> Option<String> {
    let mut rest = after;
    loop {
        rest = rest.trim_start();
        if rest.starts_with("#[") {
            let close = matching(rest, 1, b'[', b']')?;
            rest = &rest[close + 1..];
            continue;
        }
        break;
    }
    let mut words = rest
        .split(|c: char| c.is_whitespace() || c == '(' || c == '{' || c == '<' || c == ';')
        .filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        if w == "fn" || w == "mod" {
            return words.next().map(str::to_owned);
        }
        if !matches!(
            w,
            "pub" | "pub(crate)" | "unsafe" | "extern" | "async" | "const"
        ) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_calls() {
        let src = "// #[pymodule(gil_used = true)]\n#[pymodule(gil_used = false)]\nfn fast(m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }\n#[pymodule]\n#[pyo3(name = \"x\")]\npub mod other { }\nlet s = \"#[pymodule]\";\nm.gil_used(false)?;\n";
        let mut f = Vec::new();
        assert!(read(src, &mut f).is_none());
        let w: Vec<What> = f.into_iter().map(|f| f.what).collect();
        assert_eq!(
            w,
            vec![
                What::PyO3Module {
                    name: "fast".into(),
                    gil_used: Some(false)
                },
                What::PyO3Module {
                    name: "other".into(),
                    gil_used: None
                },
                What::PyO3GilUsedCall { value: false },
            ]
        );
    }

    #[test]
    fn unbalanced_is_an_error() {
        let mut f = Vec::new();
        assert!(read("#[pymodule]\nfn m() {\n", &mut f).is_some());
    }
}
