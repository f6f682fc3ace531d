//! `pyproject.toml`, `Cargo.toml` and `Cargo.lock`, read with the `toml` crate.
//! Values come from the parsed document; positions are found by looking the key
//! (or the string value) up in the text, which can point at the first of several
//! identical entries.

use toml::{Table, Value};

use super::{key_line, locate, version, Fact, SyntaxError, What};

fn parse(text: &str) -> Result<Table, (usize, String)> {
    text.parse::<Table>().map_err(|e| {
        let off = e.span().map(|s| s.start).unwrap_or(0);
        (off, e.message().trim().to_owned())
    })
}

fn get<'a>(t: &'a Table, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = t.get(*first)?;
    if rest.is_empty() {
        return Some(v);
    }
    get(v.as_table()?, rest)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The range of a table header `[name]` (or a dotted key `name.`) in the text.
fn table_range(text: &str, header: &str) -> (usize, usize) {
    let h = format!("[{header}]");
    match text.find(&h) {
        Some(i) => (i, i + h.len()),
        None => locate(text, header, 0),
    }
}

fn key_range(text: &str, key: &str, after: &str) -> (usize, usize) {
    let from = text.find(&format!("[{after}")).unwrap_or(0);
    key_line(text, key, '=', from)
        .or_else(|| key_line(text, key, '=', 0))
        .unwrap_or_else(|| locate(text, key, from))
}

/// Reads `pyproject.toml`.
pub fn read_pyproject(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let doc = match parse(text) {
        Ok(d) => d,
        Err(e) => return Some(e),
    };
    if let Some(reqs) = get(&doc, &["build-system", "requires"]) {
        for r in strings_exact(reqs) {
            let (name, spec) = version::split_requirement(&r);
            facts.push(Fact {
                what: What::Requirement { name, spec },
                range: locate(text, &r, 0),
            });
        }
    }
    if doc.get("project").is_some() {
        facts.push(Fact {
            what: What::ProjectMetadata,
            range: table_range(text, "project"),
        });
    }
    if let Some(cls) = get(&doc, &["project", "classifiers"]) {
        let ft = strings_exact(cls)
            .iter()
            .any(|c| c.contains("Python :: Free Threading"));
        facts.push(Fact {
            what: What::Classifiers { ft },
            range: key_range(text, "classifiers", "project]"),
        });
    }
    if let Some(Value::Array(mods)) = get(&doc, &["tool", "setuptools", "ext-modules"]) {
        for m in mods {
            let Some(t) = m.as_table() else { continue };
            if t.get("py-limited-api").and_then(Value::as_bool) == Some(true) {
                facts.push(Fact {
                    what: What::LimitedApi {
                        how: "[tool.setuptools] ext-modules py-limited-api = true".into(),
                        fix: "a static pyproject.toml cannot make it conditional: declare the extension in setup.py with py_limited_api=not sysconfig.get_config_var(\"Py_GIL_DISABLED\")".into(),
                        ignored_on_ft: false,
                    },
                    range: key_range(text, "py-limited-api", "tool.setuptools"),
                });
            }
            facts.push(Fact {
                what: What::ExtensionBuild {
                    backend: "setuptools",
                    custom_cmake: false,
                },
                range: key_range(text, "ext-modules", "tool.setuptools"),
            });
        }
    }
    let py_api = get(&doc, &["tool", "scikit-build", "wheel", "py-api"]).and_then(Value::as_str);
    if let Some(api) = py_api.filter(|a| a.starts_with("cp3")) {
        facts.push(Fact {
            what: What::LimitedApi {
                how: format!("[tool.scikit-build] wheel.py-api = \"{api}\""),
                fix: "scikit-build-core 0.9.4+ builds a regular wheel on free-threaded Python; make sure CMake does not define Py_LIMITED_API itself (USE_SABI only when SKBUILD_SABI_COMPONENT is set)".into(),
                ignored_on_ft: true,
            },
            range: key_range(text, "wheel.py-api", "tool.scikit-build").max(key_range(text, "py-api", "tool.scikit-build")),
        });
    }
    if get(&doc, &["tool", "meson-python", "limited-api"]).and_then(Value::as_bool) == Some(true) {
        facts.push(Fact {
            what: What::LimitedApi {
                how: "[tool.meson-python] limited-api = true".into(),
                fix: "make it opt-in (`-Csetup-args=-Dpython.allow_limited_api=false` for free-threaded builds) or drop it".into(),
                ignored_on_ft: false,
            },
            range: key_range(text, "limited-api", "tool.meson-python"),
        });
    }
    if let Some(features) = get(&doc, &["tool", "maturin", "features"]) {
        for f in strings_exact(features)
            .iter()
            .filter(|f| f.contains("abi3"))
        {
            facts.push(Fact {
                what: pyo3_abi3(f),
                range: locate(text, f, text.find("tool.maturin").unwrap_or(0)),
            });
        }
    }
    if let Some(cibw) = get(&doc, &["tool", "cibuildwheel"]).and_then(Value::as_table) {
        let at = table_range(text, "tool.cibuildwheel");
        facts.push(Fact {
            what: What::UsesCibuildwheel { version: None },
            range: at,
        });
        cibuildwheel_table(text, cibw, "tool.cibuildwheel", at.0, facts);
    }
    None
}

fn strings_exact(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// `start` is where this (sub-)table's header is, so that a key repeated in a
/// sub-table (`[tool.cibuildwheel.linux] skip`) points at its own line. `prefix` is the
/// table's dotted name.
fn cibuildwheel_table(text: &str, t: &Table, prefix: &str, start: usize, facts: &mut Vec<Fact>) {
    for (k, v) in t {
        let at = key_line(text, k, '=', start);
        let from = at.map(|a| a.0).unwrap_or(start);
        match k.as_str() {
            "build" | "skip" | "enable" => {
                for written in strings(v) {
                    let range = locate(text, &written, from);
                    for item in super::expand_braces(&written) {
                    let what = match k.as_str() {
                        "build" => What::CibwBuild(item),
                        "skip" => What::CibwSkip(item),
                        _ => What::CibwEnable(item),
                    };
                    facts.push(Fact { what, range });
                    }
                }
            }
            "free-threaded-support" => facts.push(Fact {
                what: What::CibwDeprecated {
                    option: "free-threaded-support".into(),
                    note: "cibuildwheel 3 no longer supports it; 3.14t wheels are built by default since cibuildwheel 3.1".into(),
                },
                range: at.unwrap_or_else(|| locate(text, k, from)),
            }),
            _ => {}
        }
        let name = format!("{prefix}.{k}");
        let sub_start = text
            .find(&format!("[{name}]"))
            .or_else(|| text.find(&format!("[[{name}]]")))
            .unwrap_or(start);
        match v {
            Value::Table(sub) => cibuildwheel_table(text, sub, &name, sub_start, facts),
            Value::Array(items) => {
                for sub in items.iter().filter_map(Value::as_table) {
                    cibuildwheel_table(text, sub, &name, sub_start, facts);
                }
            }
            _ => {}
        }
    }
}

fn pyo3_abi3(feature: &str) -> What {
    What::LimitedApi {
        how: format!("PyO3 feature \"{feature}\""),
        fix: "PyO3 ignores abi3 on free-threaded interpreters and builds a version-specific module; build a separate cp31Xt wheel (maturin does) and keep abi3 for the GIL build only".into(),
        ignored_on_ft: true,
    }
}

/// Reads `Cargo.toml`: the `pyo3` dependency (version and `abi3` features).
pub fn read_cargo_toml(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let doc = match parse(text) {
        Ok(d) => d,
        Err(e) => return Some(e),
    };
    for table in [&["dependencies"][..], &["workspace", "dependencies"][..]] {
        let Some(dep) = get(&doc, &[table, &["pyo3"]].concat()) else {
            continue;
        };
        let range = key_line(text, "pyo3", '=', 0).unwrap_or_else(|| locate(text, "pyo3", 0));
        let (spec, features) = match dep {
            Value::String(s) => (Some(s.clone()), Vec::new()),
            Value::Table(t) => (
                t.get("version").and_then(Value::as_str).map(str::to_owned),
                t.get("features").map(strings_exact).unwrap_or_default(),
            ),
            _ => (None, Vec::new()),
        };
        if let Some(spec) = spec {
            facts.push(Fact {
                what: What::Requirement {
                    name: "pyo3".into(),
                    spec,
                },
                range,
            });
        }
        for f in features.iter().filter(|f| f.starts_with("abi3")) {
            facts.push(Fact {
                what: pyo3_abi3(f),
                range: locate(text, f, range.0),
            });
        }
    }
    None
}

/// Reads `Cargo.lock`: the locked `pyo3` version.
pub fn read_cargo_lock(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let doc = match parse(text) {
        Ok(d) => d,
        Err(e) => return Some(e),
    };
    let Some(Value::Array(pkgs)) = doc.get("package") else {
        return None;
    };
    for p in pkgs.iter().filter_map(Value::as_table) {
        if p.get("name").and_then(Value::as_str) != Some("pyo3") {
            continue;
        }
        let Some(v) = p.get("version").and_then(Value::as_str) else {
            continue;
        };
        let range = locate(text, "name = \"pyo3\"", 0);
        facts.push(Fact {
            what: What::Locked {
                name: "pyo3".into(),
                version: v.to_owned(),
            },
            range,
        });
    }
    None
}
