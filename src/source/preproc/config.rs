//! Build configurations: the macros a build of an extension defines.

use rustc_hash::FxHashMap as HashMap;

use super::condition::{const_value, Truth};
use super::expr::parse_expr;
use super::map::ConditionMap;
use crate::source::lex::{Directive, DirectiveKind};
use crate::source::Language;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroState {
    Defined(Option<i64>),
    Undefined,
}

/// A build of an extension: which CPython, free-threaded or not, limited API or not.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub name: String,
    pub minor: u32,
    pub free_threaded: bool,
    pub limited_api: bool,
    pub(super) macros: HashMap<&'static str, MacroState>,
    /// Macros a file defines from the version macros (see [`BuildConfig::with_file_macros`]).
    pub(super) local: HashMap<String, MacroState>,
}

fn version_hex(minor: u32) -> i64 {
    0x0300_00F0 | ((minor as i64) << 16)
}

impl BuildConfig {
    fn base(
        name: String,
        minor: u32,
        free_threaded: bool,
        limited: Option<i64>,
        abi3t: bool,
    ) -> Self {
        use MacroState::*;
        let mut macros = HashMap::default();
        macros.insert("PY_VERSION_HEX", Defined(Some(version_hex(minor))));
        macros.insert("PY_MAJOR_VERSION", Defined(Some(3)));
        macros.insert("PY_MINOR_VERSION", Defined(Some(minor as i64)));
        macros.insert(
            "Py_GIL_DISABLED",
            if free_threaded {
                Defined(Some(1))
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_LIMITED_API",
            limited.map(|v| Defined(Some(v))).unwrap_or(Undefined),
        );
        macros.insert(
            "Py_TARGET_ABI3T",
            if abi3t {
                Defined(Some(version_hex(minor)))
            } else {
                Undefined
            },
        );
        let api_ok = limited.is_none_or(|v| v >= 0x030D_0000);
        let has_gil_slot = minor >= 13 && api_ok;
        macros.insert(
            "Py_mod_gil",
            if has_gil_slot {
                Defined(Some(4))
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_MOD_GIL_NOT_USED",
            if has_gil_slot {
                Defined(None)
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_MOD_GIL_USED",
            if has_gil_slot {
                Defined(None)
            } else {
                Undefined
            },
        );
        let has_cs = minor >= 13 && limited.is_none();
        macros.insert(
            "Py_BEGIN_CRITICAL_SECTION",
            if has_cs { Defined(None) } else { Undefined },
        );
        macros.insert("Py_PYTHON_H", Defined(None));
        macros.insert("Py_BUILD_CORE", Undefined);
        macros.insert("Py_BUILD_CORE_BUILTIN", Undefined);
        macros.insert("Py_BUILD_CORE_MODULE", Undefined);
        BuildConfig {
            name,
            minor,
            free_threaded,
            limited_api: limited.is_some(),
            macros,
            local: HashMap::default(),
        }
    }

    /// The free-threaded build of CPython 3.`minor`.
    pub fn free_threaded(minor: u32) -> Self {
        Self::base(format!("3.{minor}t"), minor, true, None, false)
    }

    /// The regular (GIL) build of CPython 3.`minor`.
    pub fn gil(minor: u32) -> Self {
        Self::base(format!("3.{minor}"), minor, false, None, false)
    }

    /// A limited-API (abi3) build for `Py_LIMITED_API = api` on 3.`minor` headers.
    pub fn limited(minor: u32, api_minor: u32) -> Self {
        Self::base(
            format!("abi3 (3.{api_minor}) on 3.{minor}"),
            minor,
            false,
            Some(version_hex(api_minor) & !0xFF),
            false,
        )
    }

    /// A PEP 803 abi3t build (3.15+): free-threaded and limited API at once.
    pub fn abi3t(minor: u32) -> Self {
        Self::base(
            format!("abi3t 3.{minor}"),
            minor,
            true,
            Some(version_hex(minor) & !0xFF),
            true,
        )
    }

    /// The same configuration with `__cplusplus` decided by the file's language.
    pub fn for_language(mut self, lang: Language) -> Self {
        let state = if lang == Language::Cpp {
            MacroState::Defined(Some(201703))
        } else {
            MacroState::Undefined
        };
        self.macros.insert("__cplusplus", state);
        self
    }

    /// This configuration plus what the file's own object-like `#define`s say in it:
    /// a macro every definition of which is compiled out here is undefined
    /// (`#if PY_VERSION_HEX < 0x030D0000` / `#define OLD_PYTHON 1`), and one whose
    /// compiled definitions agree has their value (`#define PY313 (PY_VERSION_HEX >=
    /// 0x030D0000)`). Macros the file `#undef`s, or defines under conditions that are
    /// unknown here, stay unknown. Definitions are read in file order, so one may
    /// build on an earlier one.
    pub fn with_file_macros(
        &self,
        text: &str,
        directives: &[Directive],
        map: &ConditionMap,
    ) -> BuildConfig {
        let mut cfg = self.clone();
        let mut sites: Vec<(&str, Truth, Option<Option<i64>>)> = Vec::new();
        let mut undefined: Vec<&str> = Vec::new();
        for d in directives {
            if d.kind == DirectiveKind::Other {
                let line = text.get(d.start..d.end).unwrap_or("");
                let line = line.trim_start_matches(['#', ' ', '\t']);
                if line.starts_with("undef") {
                    undefined.push(d.arg.trim());
                }
                continue;
            }
            if d.kind != DirectiveKind::Define {
                continue;
            }
            let name_len = d
                .arg
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            let (name, body) = d.arg.split_at(name_len);
            if name.is_empty() || body.starts_with('(') || self.macros.contains_key(name) {
                continue;
            }
            let truth = map.at(d.start).eval(&cfg);
            let body = body.trim();
            let value = if body.is_empty() {
                Some(None)
            } else {
                const_value(&parse_expr(body), &cfg).map(Some)
            };
            sites.push((name, truth, value));
            // Settle the name as soon as it is read, so later definitions can use it.
            let all: Vec<&(&str, Truth, Option<Option<i64>>)> =
                sites.iter().filter(|s| s.0 == name).collect();
            let state = if all.iter().all(|s| s.1 == Truth::False) {
                Some(MacroState::Undefined)
            } else if all.iter().all(|s| s.1 != Truth::Unknown) {
                let live: Vec<Option<Option<i64>>> = all
                    .iter()
                    .filter(|s| s.1 == Truth::True)
                    .map(|s| s.2)
                    .collect();
                match live.first() {
                    Some(Some(v)) if live.iter().all(|x| *x == Some(*v)) => {
                        Some(MacroState::Defined(*v))
                    }
                    _ => None,
                }
            } else {
                None
            };
            match state {
                Some(st) => {
                    cfg.local.insert(name.to_owned(), st);
                }
                None => {
                    cfg.local.remove(name);
                }
            }
        }
        for u in undefined {
            cfg.local.remove(u);
        }
        cfg
    }

    pub fn is_abi3t(&self) -> bool {
        matches!(
            self.macros.get("Py_TARGET_ABI3T"),
            Some(MacroState::Defined(_))
        )
    }
}

/// The Python versions ftaudit knows free-threaded builds of.
pub const FREE_THREADED_MINORS: [u32; 3] = [13, 14, 15];
