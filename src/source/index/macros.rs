//! A small macro expander for the one place the index needs it: the name of a
//! function declared through macros (`PyMODINIT_FUNC INIT_NAME(void)` with
//! `#define INIT_NAME PyInit__squash`, `MODINIT(spam)(void)` with
//! `#define MODINIT(n) PyInit_##n`, pastes through helper macros).
//!
//! Object-like and function-like macros, argument substitution (arguments are
//! expanded first, except next to `##`), `##` pasting and rescanning with the
//! macro's own name hidden, as C does; `#` stringising and `__VA_ARGS__` are
//! read as plain tokens. Bounded in depth and output size.

use std::collections::HashMap;

use crate::source::lex::DirectiveKind;
use crate::source::SourceFile;

/// One `#define`.
#[derive(Debug, Clone)]
pub struct MacroDef {
    /// `None` for an object-like macro.
    pub params: Option<Vec<String>>,
    pub body: String,
}

/// The macros a file (and, at project level, its headers) define: name → definitions
/// in file order.
#[derive(Debug, Clone, Default)]
pub struct MacroTable {
    pub defs: HashMap<String, Vec<MacroDef>>,
}

const MAX_DEPTH: usize = 16;
const MAX_TOKENS: usize = 2_000;

impl MacroTable {
    /// Every `#define` of `file`.
    pub fn from_file(file: &SourceFile) -> MacroTable {
        let mut t = MacroTable::default();
        for d in file
            .lexed
            .directives
            .iter()
            .filter(|d| d.kind == DirectiveKind::Define)
        {
            t.add_define(&d.arg);
        }
        t
    }

    /// Adds the definition `NAME body` or `NAME(params) body` (a `#define`'s argument).
    pub fn add_define(&mut self, arg: &str) {
        let name_len = arg
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if name_len == 0 {
            return;
        }
        let (name, rest) = arg.split_at(name_len);
        let def = match rest.strip_prefix('(') {
            Some(r) => {
                let Some(close) = r.find(')') else { return };
                MacroDef {
                    params: Some(
                        r[..close]
                            .split(',')
                            .map(|p| p.trim().to_owned())
                            .filter(|p| !p.is_empty())
                            .collect(),
                    ),
                    body: r[close + 1..].trim().to_owned(),
                }
            }
            None => MacroDef {
                params: None,
                body: rest.trim().to_owned(),
            },
        };
        self.defs.entry(name.to_owned()).or_default().push(def);
    }

    /// `other`'s macros that this table does not define.
    pub fn merge_missing(&mut self, other: &MacroTable) {
        for (k, v) in &other.defs {
            self.defs.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Expands `text` and returns its tokens joined by spaces. `which` picks the
    /// definition of a macro defined several times (0: first, else last).
    pub fn expand(&self, text: &str, which: usize) -> String {
        let toks = tokenize(text);
        let out = self.expand_tokens(&toks, &[], which, 0);
        out.join(" ")
    }

    fn def(&self, name: &str, which: usize) -> Option<&MacroDef> {
        let defs = self.defs.get(name)?;
        if which == 0 {
            defs.first()
        } else {
            defs.last()
        }
    }

    fn expand_tokens(
        &self,
        toks: &[String],
        hidden: &[String],
        which: usize,
        depth: usize,
    ) -> Vec<String> {
        if depth > MAX_DEPTH {
            return toks.to_vec();
        }
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < toks.len() && out.len() < MAX_TOKENS {
            let t = &toks[i];
            let def = if is_ident(t) && !hidden.contains(t) {
                self.def(t, which)
            } else {
                None
            };
            let Some(def) = def else {
                out.push(t.clone());
                i += 1;
                continue;
            };
            let mut hide = hidden.to_vec();
            hide.push(t.clone());
            match &def.params {
                None => {
                    let body = paste(&tokenize(&def.body));
                    out.extend(self.expand_tokens(&body, &hide, which, depth + 1));
                    i += 1;
                }
                Some(params) => {
                    if toks.get(i + 1).map(String::as_str) != Some("(") {
                        out.push(t.clone());
                        i += 1;
                        continue;
                    }
                    let Some((args, next)) = split_args(toks, i + 1) else {
                        out.push(t.clone());
                        i += 1;
                        continue;
                    };
                    let body = tokenize(&def.body);
                    let mut subst: Vec<String> = Vec::new();
                    for (k, b) in body.iter().enumerate() {
                        let pos = params
                            .iter()
                            .position(|p| p == b || (p == "..." && b == "__VA_ARGS__"));
                        match pos {
                            Some(p) => {
                                let arg = args.get(p).cloned().unwrap_or_default();
                                let near_paste = body.get(k + 1).map(String::as_str) == Some("##")
                                    || (k > 0 && body[k - 1] == "##");
                                if near_paste {
                                    subst.extend(arg);
                                } else {
                                    subst.extend(self.expand_tokens(
                                        &arg,
                                        hidden,
                                        which,
                                        depth + 1,
                                    ));
                                }
                            }
                            None => subst.push(b.clone()),
                        }
                    }
                    let pasted = paste(&subst);
                    out.extend(self.expand_tokens(&pasted, &hide, which, depth + 1));
                    i = next;
                }
            }
        }
        out
    }
}

fn is_ident(t: &str) -> bool {
    t.bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
}

/// Identifiers, numbers, `##`, and single punctuation characters.
fn tokenize(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < MAX_TOKENS {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(text[s..i].to_owned());
        } else if c == b'#' && b.get(i + 1) == Some(&b'#') {
            out.push("##".into());
            i += 2;
        } else if c == b'"' {
            let s = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            out.push(text[s..i].to_owned());
        } else if c == b'.' && text[i..].starts_with("...") {
            out.push("...".into());
            i += 3;
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push(text[i..i + len].to_owned());
            i += len;
        }
    }
    out
}

/// Joins the tokens on either side of each `##`.
fn paste(toks: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] == "##" {
            if let (Some(last), Some(next)) = (out.last_mut(), toks.get(i + 1)) {
                last.push_str(next);
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// The arguments of a macro call whose `(` is at `open`, and the index after its `)`.
fn split_args(toks: &[String], open: usize) -> Option<(Vec<Vec<String>>, usize)> {
    let mut depth = 0;
    let mut args = vec![Vec::new()];
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.as_str() {
            "(" => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ")" => {
                depth -= 1;
                if depth == 0 {
                    if args.len() == 1 && args[0].is_empty() {
                        args.clear();
                    }
                    return Some((args, k + 1));
                }
            }
            "," if depth == 1 => {
                args.push(Vec::new());
                continue;
            }
            _ => {}
        }
        if let Some(a) = args.last_mut() {
            a.push(t.clone());
        }
    }
    None
}

/// The module entry point a declarator names once expanded: the first identifier
/// with an entry-point prefix (`PyInit_`, `PyModExport_`).
pub fn entry_name(table: &MacroTable, declarator: &str) -> Option<String> {
    for which in [0, 1] {
        let expanded = table.expand(declarator, which);
        for t in expanded.split(' ') {
            if crate::capi::module_entry_point(t).is_some() {
                return Some(t.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(defs: &[&str]) -> MacroTable {
        let mut t = MacroTable::default();
        for d in defs {
            t.add_define(d);
        }
        t
    }

    #[test]
    fn object_like_and_pasted_names() {
        let t = table(&[
            "INIT_SQUASH PyInit__squash",
            "MODINIT(name) PyInit_##name",
            "CAT_(a, b) a##b",
            "CAT(a, b) CAT_(a, b)",
            "MODNAME spam",
            "INITFUNC CAT(PyInit_, MODNAME)",
            "MOD_INIT(n) PyMODINIT_FUNC PyInit_ ## n(void)",
        ]);
        assert_eq!(
            entry_name(&t, "INIT_SQUASH(void)").as_deref(),
            Some("PyInit__squash")
        );
        assert_eq!(
            entry_name(&t, "MODINIT(fast)(void)").as_deref(),
            Some("PyInit_fast")
        );
        assert_eq!(
            entry_name(&t, "INITFUNC(void)").as_deref(),
            Some("PyInit_spam")
        );
        assert_eq!(entry_name(&t, "MOD_INIT(x)").as_deref(), Some("PyInit_x"));
        assert_eq!(entry_name(&t, "other(void)"), None);
    }

    #[test]
    fn recursion_is_bounded() {
        let t = table(&["A B", "B A", "F(x) F(x) F(x)"]);
        assert_eq!(entry_name(&t, "A F(1)"), None);
    }
}
