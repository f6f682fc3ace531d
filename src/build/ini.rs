//! `setup.cfg`, read as configparser does: `[section]` headers, `key = value` (or
//! `key: value`) entries, indented continuation lines, `#`/`;` comment lines.
//! Interpolation (`%(name)s`) is not expanded.

use super::{version, Fact, SyntaxError, What};

struct Entry {
    section: String,
    key: String,
    key_range: (usize, usize),
    /// Value lines with their byte ranges (the first line and each continuation).
    values: Vec<(String, (usize, usize))>,
}

type Sections = Vec<(String, (usize, usize))>;

fn entries(text: &str) -> (Vec<Entry>, Sections, SyntaxError) {
    let mut out: Vec<Entry> = Vec::new();
    let mut sections = Vec::new();
    let mut section = String::new();
    let mut error = None;
    let mut off = 0;
    for raw in text.split_inclusive('\n') {
        let start = off;
        off += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented {
            if let Some(e) = out.last_mut().filter(|e| e.section == section) {
                let s = start + (line.len() - line.trim_start().len());
                e.values.push((trimmed.to_owned(), (s, start + line.len())));
                continue;
            }
        }
        if trimmed.starts_with('[') {
            if !trimmed.ends_with(']') {
                error.get_or_insert((start, "section header without `]`".to_owned()));
            }
            section = trimmed.trim_matches(['[', ']']).trim().to_owned();
            sections.push((section.clone(), (start, start + line.len())));
            continue;
        }
        let Some(pos) = line.find(['=', ':']) else {
            error.get_or_insert((
                start,
                "line is neither a section, an entry nor a continuation".to_owned(),
            ));
            continue;
        };
        let key = line[..pos].trim();
        let ks = start + line.find(key).unwrap_or(0);
        let value = line[pos + 1..].trim();
        let vs = start + pos + 1 + (line[pos + 1..].len() - line[pos + 1..].trim_start().len());
        let mut values = Vec::new();
        if !value.is_empty() {
            values.push((value.to_owned(), (vs, start + line.len())));
        }
        out.push(Entry {
            section: section.clone(),
            key: key.to_owned(),
            key_range: (ks, ks + key.len()),
            values,
        });
    }
    (out, sections, error)
}

/// Reads `setup.cfg`.
pub fn read_setup_cfg(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let (entries, sections, error) = entries(text);
    for (name, range) in &sections {
        if name == "metadata" {
            facts.push(Fact {
                what: What::ProjectMetadata,
                range: *range,
            });
        }
    }
    for e in &entries {
        let key = e.key.replace('-', "_");
        match (e.section.as_str(), key.as_str()) {
            ("bdist_wheel", "py_limited_api") => {
                let v = e.values.first().map(|v| v.0.as_str()).unwrap_or("");
                if v.is_empty() || v.eq_ignore_ascii_case("false") || v == "0" {
                    continue;
                }
                facts.push(Fact {
                    what: What::LimitedApi {
                        how: format!("[bdist_wheel] py_limited_api = {v}"),
                        fix: "drop it from setup.cfg and set bdist_wheel's py_limited_api in setup.py only when not sysconfig.get_config_var(\"Py_GIL_DISABLED\")".into(),
                        ignored_on_ft: false,
                    },
                    range: (e.key_range.0, e.values.first().map(|v| v.1 .1).unwrap_or(e.key_range.1)),
                });
            }
            ("metadata", "classifiers") => {
                let ft = e
                    .values
                    .iter()
                    .any(|v| v.0.contains("Python :: Free Threading"));
                facts.push(Fact {
                    what: What::Classifiers { ft },
                    range: e.key_range,
                });
            }
            ("options", "setup_requires") => {
                for (v, range) in &e.values {
                    for item in v.split(';').next().unwrap_or("").split(',') {
                        let item = item.trim();
                        if item.is_empty() {
                            continue;
                        }
                        let (name, spec) = version::split_requirement(item);
                        facts.push(Fact {
                            what: What::Requirement { name, spec },
                            range: *range,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    error
}
