//! GitHub Actions workflows (`.github/workflows/*.yml`), parsed with `yaml-rust2`.
//! Values come from the YAML tree; positions are found by searching the text for
//! each key after the previous match of the same key (document order), so they are
//! right for ordinary workflows and approximate for anchors and flow mappings.
//! Expressions (`${{ matrix.python }}`) are not evaluated.

use std::collections::HashMap;

use yaml_rust2::{Yaml, YamlLoader};

use super::{key_line, locate, Fact, SyntaxError, What};

struct Walker<'a> {
    text: &'a str,
    cursor: HashMap<String, usize>,
    facts: &'a mut Vec<Fact>,
    /// The `strategy.matrix` of the job being walked, for `${{ matrix.x }}`.
    matrix: Vec<Yaml>,
}

/// `${{ matrix.python-version }}` → `python-version`.
fn matrix_reference(v: &str) -> Option<&str> {
    let inner = v.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("matrix.")?;
    name.bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        .then_some(name)
}

/// The values a matrix gives `name`: its list and every `include` entry's value
/// (`exclude` only removes combinations, never a value every combination lacks).
fn matrix_values(matrix: &Yaml, name: &str) -> Vec<String> {
    let key = Yaml::String(name.to_owned());
    let mut out = Vec::new();
    if let Yaml::Hash(h) = matrix {
        if let Some(v) = h.get(&key) {
            out.extend(scalars(v));
        }
        if let Some(Yaml::Array(inc)) = h.get(&Yaml::String("include".into())) {
            for e in inc {
                if let Yaml::Hash(eh) = e {
                    if let Some(v) = eh.get(&key) {
                        out.extend(scalars(v));
                    }
                }
            }
        }
    }
    out
}

/// Does the workflow only build documentation? Every command it runs is about
/// docs (Sphinx, MkDocs, ...) and none runs tests or builds wheels.
fn docs_only(docs: &[Yaml]) -> bool {
    let mut scripts = Vec::new();
    fn collect(y: &Yaml, out: &mut Vec<String>) {
        match y {
            Yaml::Hash(h) => {
                for (k, v) in h {
                    if matches!(scalar(k).as_deref(), Some("run" | "uses")) {
                        out.extend(scalar(v));
                    }
                    collect(v, out);
                }
            }
            Yaml::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    docs.iter().for_each(|d| collect(d, &mut scripts));
    let all = scripts.join("\n").to_ascii_lowercase();
    let about_docs = [
        "sphinx",
        "mkdocs",
        "make html",
        "docs",
        "pdoc",
        "jupyter-book",
        "readthedocs",
    ]
    .iter()
    .any(|w| all.contains(w));
    let tests = [
        "pytest",
        "tox",
        "nox",
        "unittest",
        "ctest",
        "cibuildwheel",
        "make test",
        "make check",
        "-m test",
        "run-tests",
        "runtests",
        "asv ",
        "pip wheel",
        "python -m build",
    ]
    .iter()
    .any(|w| all.contains(w));
    about_docs && !tests
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn scalars(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Array(a) => a.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

/// Free-threaded versions named in a shell script (`3.14t`, `python3.13t`).
fn ft_versions_in(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in script.match_indices("3.1") {
        let rest = &script[i..];
        let digits: String = rest[3..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            continue;
        }
        let after = rest.as_bytes().get(3 + digits.len()).copied();
        let before_ok = i == 0 || !script.as_bytes()[i - 1].is_ascii_digit();
        if after == Some(b't') && before_ok {
            out.push(format!("3.1{digits}t"));
        }
    }
    out
}

impl Walker<'_> {
    /// The range of `key:` after the last one found, and moves the cursor past it.
    fn key(&mut self, key: &str) -> (usize, usize) {
        let from = self.cursor.get(key).copied().unwrap_or(0);
        let r = key_line(self.text, key, ':', from)
            .or_else(|| key_line(self.text, key, ':', 0))
            .unwrap_or((0, 0));
        self.cursor.insert(key.to_owned(), r.1);
        r
    }

    fn push(&mut self, what: What, range: (usize, usize)) {
        self.facts.push(Fact { what, range });
    }

    fn walk(&mut self, y: &Yaml) {
        match y {
            Yaml::Hash(h) => {
                // A job: its matrix resolves `${{ matrix.x }}` in its steps.
                let matrix = h
                    .get(&Yaml::String("strategy".into()))
                    .and_then(|s| match s {
                        Yaml::Hash(sh) => sh.get(&Yaml::String("matrix".into())).cloned(),
                        _ => None,
                    });
                let pushed = matrix.is_some();
                if let Some(m) = matrix {
                    self.matrix.push(m);
                }
                for (k, v) in h {
                    let Some(k) = scalar(k) else { continue };
                    if k == "exclude" {
                        // Excluded combinations are not run: their versions are not tested.
                        self.key(&k);
                        continue;
                    }
                    self.entry(&k, v);
                    self.walk(v);
                }
                if pushed {
                    self.matrix.pop();
                }
            }
            Yaml::Array(a) => a.iter().for_each(|x| self.walk(x)),
            _ => {}
        }
    }

    fn entry(&mut self, k: &str, v: &Yaml) {
        let text = self.text;
        match k {
            "python-version" | "python" | "python-versions" | "python_version" => {
                let at = self.key(k);
                let mut versions = scalars(v);
                let resolved: Vec<String> = versions
                    .iter()
                    .filter_map(|s| matrix_reference(s))
                    .flat_map(|name| {
                        self.matrix
                            .last()
                            .map(|m| matrix_values(m, name))
                            .unwrap_or_default()
                    })
                    .collect();
                let expr_at = versions
                    .iter()
                    .find(|s| matrix_reference(s).is_some())
                    .map(|s| locate(text, s, at.0));
                if let Some(r) = expr_at {
                    for ver in resolved {
                        if ver.starts_with('3') || ver.starts_with("pypy") || ver.starts_with("cp3")
                        {
                            self.push(What::CiPython { version: ver }, r);
                        }
                    }
                    versions.retain(|s| matrix_reference(s).is_none());
                }
                for ver in versions {
                    if ver.starts_with('3') || ver.starts_with("pypy") || ver.starts_with("cp3") {
                        let r = locate(text, &ver, at.0);
                        self.push(What::CiPython { version: ver }, r);
                    }
                }
            }
            "freethreaded" if scalar(v).as_deref() == Some("true") => {
                let at = self.key(k);
                self.push(What::CiFreeThreadedFlag, at);
            }
            "uses" => {
                let at = self.key(k);
                if let Some(u) = scalar(v).filter(|u| u.contains("pypa/cibuildwheel")) {
                    let version = u.split_once('@').map(|(_, v)| v.to_owned());
                    self.push(What::UsesCibuildwheel { version }, at);
                }
            }
            "run" | "test-command" | "CIBW_TEST_COMMAND" => {
                let at = self.key(k);
                let Some(script) = scalar(v) else { return };
                for how in ["-X gil=0", "-Xgil=0", "PYTHON_GIL=0"] {
                    if script.contains(how) {
                        let r = locate(text, how, at.0);
                        self.push(
                            What::CiGilOff {
                                how: how.to_owned(),
                            },
                            r,
                        );
                    }
                }
                for ver in ft_versions_in(&script) {
                    let r = locate(text, &ver, at.0);
                    self.push(What::CiPython { version: ver }, r);
                }
            }
            "PYTHON_GIL" if scalar(v).as_deref() == Some("0") => {
                let at = self.key(k);
                self.push(
                    What::CiGilOff {
                        how: "PYTHON_GIL: 0".into(),
                    },
                    at,
                );
            }
            "CIBW_FREE_THREADED_SUPPORT" => {
                let at = self.key(k);
                self.push(
                    What::CibwDeprecated {
                        option: k.to_owned(),
                        note: "cibuildwheel 3 stops with an error when it is set; 3.14t wheels are built by default since cibuildwheel 3.1".into(),
                    },
                    at,
                );
            }
            _ if k.starts_with("CIBW_BUILD")
                || k.starts_with("CIBW_SKIP")
                || k.starts_with("CIBW_ENABLE") =>
            {
                if k.starts_with("CIBW_BUILD_")
                    && !k.ends_with("_LINUX")
                    && !k.ends_with("_MACOS")
                    && !k.ends_with("_WINDOWS")
                {
                    return; // CIBW_BUILD_VERBOSITY, CIBW_BUILD_FRONTEND
                }
                let at = self.key(k);
                for item in scalars(v)
                    .iter()
                    .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                {
                    let r = locate(text, &item, at.0);
                    for item in super::expand_braces(&item) {
                        let what = if k.starts_with("CIBW_BUILD") {
                            What::CibwBuild(item)
                        } else if k.starts_with("CIBW_SKIP") {
                            What::CibwSkip(item)
                        } else {
                            What::CibwEnable(item)
                        };
                        self.push(what, r);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads a workflow file.
pub fn read(text: &str, facts: &mut Vec<Fact>) -> SyntaxError {
    let docs = match YamlLoader::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let off = text
                .char_indices()
                .nth(e.marker().index())
                .map(|(i, _)| i)
                .unwrap_or(text.len());
            return Some((off, e.info().to_owned()));
        }
    };
    let start = facts.len();
    let mut w = Walker {
        text,
        cursor: HashMap::new(),
        facts,
        matrix: Vec::new(),
    };
    for d in &docs {
        w.walk(d);
    }
    if docs_only(&docs) {
        // A docs build is not a test run: its interpreter says nothing about testing.
        let mut i = start;
        while i < facts.len() {
            if matches!(
                facts[i].what,
                What::CiPython { .. } | What::CiFreeThreadedFlag
            ) {
                facts.remove(i);
            } else {
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_scripts() {
        assert_eq!(
            ft_versions_in("uv python install 3.14t && python3.13t -m pytest"),
            vec!["3.14t", "3.13t"]
        );
        assert!(ft_versions_in("python 3.14 and 13.13t").is_empty());
    }

    #[test]
    fn matrix_and_env() {
        let src = "jobs:\n  t:\n    strategy:\n      matrix:\n        python-version: ['3.12', '3.14t']\n    env:\n      PYTHON_GIL: 0\n    steps:\n      - uses: pypa/cibuildwheel@v3.1.4\n";
        let mut f = Vec::new();
        assert!(read(src, &mut f).is_none());
        let w: Vec<What> = f.into_iter().map(|f| f.what).collect();
        assert!(w.contains(&What::CiPython {
            version: "3.14t".into()
        }));
        assert!(w.iter().any(|x| matches!(x, What::CiGilOff { .. })));
        assert!(w.contains(&What::UsesCibuildwheel {
            version: Some("v3.1.4".into())
        }));
    }

    #[test]
    fn matrix_expressions_resolve_and_exclude_is_not_tested() {
        let src = "jobs:\n  t:\n    strategy:\n      matrix:\n        py: ['3.12', '3.13']\n        include:\n          - py: '3.14t'\n        exclude:\n          - python-version: '3.13t'\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          python-version: ${{ matrix.py }}\n      - run: pytest\n";
        let mut f = Vec::new();
        assert!(read(src, &mut f).is_none());
        let v: Vec<String> = f
            .into_iter()
            .filter_map(|f| match f.what {
                What::CiPython { version } => Some(version),
                _ => None,
            })
            .collect();
        assert_eq!(v, ["3.12", "3.13", "3.14t"]);
    }

    #[test]
    fn docs_only_workflows_are_not_test_runs() {
        let src = "jobs:\n  docs:\n    steps:\n      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.12'\n      - run: sphinx-build docs out\n";
        let mut f = Vec::new();
        assert!(read(src, &mut f).is_none());
        assert!(!f.iter().any(|f| matches!(f.what, What::CiPython { .. })));
    }

    #[test]
    fn syntax_error_is_reported() {
        let mut f = Vec::new();
        assert!(read("jobs:\n  a: [1, 2\n", &mut f).is_some());
    }
}
