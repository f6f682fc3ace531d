//! Cython `.pyx`/`.pxd` directive comments and SWIG `.i` module declarations.
//!
//! Cython reads `# cython: name=value, ...` comments only in the file header
//! (before the first line of code); so does this reader. The Cython code itself is
//! not parsed.

use std::path::Path;

use super::{line_range, Fact, SyntaxError, What};

/// Reads a `.pyx` (`module`) or `.pxd` file.
pub fn read_cython(path: &Path, module: bool, text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let mut declared = false;
    let mut at = line_range(text, 0);
    let mut err = None;
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let start = off;
        off += line.len();
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if !t.starts_with('#') {
            break;
        }
        let body = t.trim_start_matches('#').trim_start();
        let Some(directives) = body.strip_prefix("cython:") else {
            continue;
        };
        for d in directives.split(',') {
            let d = d.trim();
            if d.is_empty() {
                continue;
            }
            let Some((name, value)) = d.split_once('=') else {
                err.get_or_insert((
                    start,
                    format!("malformed directive `{d}` (expected name=value)"),
                ));
                continue;
            };
            if name.trim() == "freethreading_compatible" {
                declared = value.trim() == "True";
                at = line_range(text, start);
            }
        }
    }
    for (i, line) in text.split_inclusive('\n').scan(0usize, |off, l| {
        let s = *off;
        *off += l.len();
        Some((s, l))
    }) {
        let t = line.trim();
        let Some(rest) = t.strip_prefix("include ") else {
            continue;
        };
        let file = rest.trim().trim_matches(['"', '\'']).to_owned();
        if file.ends_with(".pyx") || file.ends_with(".pxi") {
            facts.push(Fact {
                what: What::CythonInclude { file },
                range: line_range(text, i),
            });
        }
    }
    if module {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_owned();
        facts.push(Fact {
            what: What::CythonModule { name, declared },
            range: at,
        });
    }
    err
}

/// Reads a SWIG interface file.
pub fn read_swig(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let mut err = None;
    let mut off = 0;
    let mut open_block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let start = off;
        off += line.len();
        let t = line.trim();
        if open_block.is_some() {
            if t.starts_with("%}") {
                open_block = None;
            }
            continue;
        }
        if t.starts_with("%{")
            || t.starts_with("%init %{")
            || t.starts_with("%wrapper %{")
            || t.starts_with("%header %{")
        {
            if !t.contains("%}") {
                open_block = Some(start);
            }
            continue;
        }
        let Some(rest) = t.strip_prefix("%module") else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = if rest.starts_with('(') {
            rest.split_once(')').map(|(_, r)| r).unwrap_or("")
        } else {
            rest
        };
        let name = rest
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches('"')
            .to_owned();
        if name.is_empty() {
            err.get_or_insert((start, "%module without a name".to_owned()));
        }
        facts.push(Fact {
            what: What::SwigModule { name },
            range: line_range(text, start),
        });
    }
    if let Some(s) = open_block {
        err.get_or_insert((s, "%{ block is never closed with %}".to_owned()));
    }
    err
}
