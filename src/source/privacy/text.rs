//! Expression text helpers: normalising casts and parentheses away, call names,
//! argument lists, identifiers.

use tree_sitter::Node;

use crate::capi;

/// The offset of the `)` that closes a parenthesis already open before `s`.
pub(super) fn matching_paren(s: &str) -> Option<usize> {
    close_at_depth(s, 1)
}

/// The offset of the `)` that closes the first `(` of `s`.
pub fn closing_paren(s: &str) -> Option<usize> {
    close_at_depth(s, 0)
}

fn close_at_depth(s: &str, mut depth: i32) -> Option<usize> {
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits a call's argument text at top-level commas.
pub fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Normalises an expression for comparison: no blanks, no casts, no outer parentheses.
pub fn normalize(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    s.extend(text.chars().filter(|c| !c.is_whitespace()));
    loop {
        let before = s.len();
        if s.starts_with('(') {
            if let Some(close) = matching_paren(&s[1..]) {
                let inner = &s[1..=close];
                if close + 2 == s.len() {
                    s = inner.to_owned();
                } else if looks_like_type(inner) {
                    s = s[close + 2..].to_owned();
                }
            }
        }
        for kw in ["static_cast<", "reinterpret_cast<", "const_cast<"] {
            if let Some(rest) = s.strip_prefix(kw) {
                if let Some(close) = rest.find(">(") {
                    let inner = &rest[close + 2..];
                    if inner.ends_with(')') && matching_paren(inner) == Some(inner.len() - 1) {
                        s = inner[..inner.len() - 1].to_owned();
                    }
                }
            }
        }
        for w in [
            "_PyObject_CAST(",
            "_PyObject_CAST_CONST(",
            "_Py_CAST(PyObject*,",
        ] {
            if let Some(rest) = s.strip_prefix(w) {
                if rest.ends_with(')') && matching_paren(rest) == Some(rest.len() - 1) {
                    s = rest[..rest.len() - 1].to_owned();
                }
            }
        }
        // Most expressions have no `((`: no copy for them.
        if s.contains("((") {
            s = strip_inner_casts(&s);
        }
        if s.len() == before {
            return s;
        }
    }
}

/// `((Obj*)self)->items` → `self->items`.
fn strip_inner_casts(s: &str) -> String {
    let mut out = s.to_owned();
    let mut from = 0;
    while let Some(i) = out[from..].find("((").map(|i| i + from) {
        let Some(ty_end) = matching_paren(&out[i + 2..]).map(|c| i + 2 + c) else {
            break;
        };
        let ty = &out[i + 2..ty_end];
        let rest = &out[ty_end + 1..];
        let id_len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        // Not `f((T)x)`: there the outer parentheses are the call's.
        let after_callee = out[..i]
            .bytes()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b')' || c == b']');
        if !after_callee && looks_like_type(ty) && id_len > 0 && rest[id_len..].starts_with(')') {
            let ident = rest[..id_len].to_owned();
            out.replace_range(i..ty_end + 1 + id_len + 1, &ident);
        }
        from = i + 1;
        if from >= out.len() {
            break;
        }
    }
    out
}

/// `Py_NewRef(x)` and `Py_XNewRef(x)` are `x` for escape purposes.
pub(super) fn strip_new_ref(mut s: String) -> String {
    for w in capi::new_ref_calls() {
        let inner = s.strip_prefix(w).and_then(|r| r.strip_prefix('('));
        if let Some(inner) = inner.and_then(|r| r.strip_suffix(')')) {
            s = normalize(inner);
        }
    }
    s
}

fn looks_like_type(s: &str) -> bool {
    s.ends_with('*')
        && s.trim_end_matches('*')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        || matches!(s, "void" | "Py_ssize_t" | "int")
}

/// The callee of a normalised call expression `name(...)`.
pub fn call_name(e: &str) -> Option<&str> {
    let open = e.find('(')?;
    let name = &e[..open];
    if !is_identifier(name)
        || !e.ends_with(')')
        || matching_paren(&e[open + 1..]) != Some(e.len() - open - 2)
    {
        return None;
    }
    Some(name)
}

/// The field called in `type->tp_alloc(type, 0)` or `Py_TYPE(o)->tp_new(...)`.
pub(super) fn pointer_call_name(e: &str) -> Option<&str> {
    if !e.ends_with(')') {
        return None;
    }
    let open = e.rfind("->").map(|i| i + 2)?;
    let rest = &e[open..];
    let paren = rest.find('(')?;
    let name = &rest[..paren];
    (is_identifier(name) && matching_paren(&rest[paren + 1..]) == Some(rest.len() - paren - 2))
        .then_some(name)
}

pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

pub(super) fn is_null(t: &str) -> bool {
    matches!(normalize(t).as_str(), "NULL" | "0" | "nullptr")
}

/// The identifiers of a text, in order.
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.as_bytes()[0].is_ascii_digit())
}

/// Does `text` mention identifier `word`?
pub fn mentions(text: &str, word: &str) -> bool {
    identifiers(text).any(|w| w == word)
}

/// The enclosing syntax node of a given kind, from the node at `offset`.
pub fn ancestor_of_kind<'t>(root: Node<'t>, offset: usize, kinds: &[&str]) -> Option<Node<'t>> {
    let n = root.descendant_for_byte_range(offset, offset)?;
    if kinds.contains(&n.kind()) {
        return Some(n);
    }
    ancestors(root, n)
        .into_iter()
        .find(|a| kinds.contains(&a.kind()))
}

/// The ancestors of `node` in the tree whose root is `root`, nearest first: what
/// [`Node::parent`] finds, one call after the other. Each `parent` call walks
/// down from the root again, so a climb of `d` levels cost `d` such walks; this
/// walks down once the same way (`parent` follows `child_with_descendant` from
/// the root) and keeps the nodes it passes. An empty node, which that walk
/// finds by another rule, is climbed to with `parent`.
pub fn ancestors<'t>(root: Node<'t>, node: Node<'t>) -> Vec<Node<'t>> {
    let mut path = Vec::new();
    if node.start_byte() == node.end_byte() {
        let mut n = node;
        while let Some(p) = n.parent() {
            path.push(p);
            n = p;
        }
        return path;
    }
    if node.id() == root.id() {
        return path;
    }
    let mut n = root;
    loop {
        path.push(n);
        match n.child_with_descendant(node) {
            Some(c) if c.id() != node.id() => n = c,
            _ => break,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_casts_parens_and_blanks() {
        assert_eq!(normalize("((PyObject *) self)->dict"), "self->dict");
        assert_eq!(normalize("( list )"), "list");
        assert_eq!(normalize("_PyObject_CAST(op)"), "op");
        assert_eq!(normalize("reinterpret_cast<Obj *>(self)"), "self");
        assert_eq!(normalize("(a)->b"), "(a)->b");
        assert_eq!(normalize("f(((Obj *)self)->items, 0)"), "f(self->items,0)");
        assert_eq!(
            normalize("PyList_New((Py_ssize_t)count)"),
            "PyList_New((Py_ssize_t)count)"
        );
    }

    #[test]
    fn call_names() {
        assert_eq!(call_name("PyList_New(0)"), Some("PyList_New"));
        assert_eq!(call_name("f(a)->x"), None);
        assert_eq!(
            pointer_call_name("type->tp_alloc(type,0)"),
            Some("tp_alloc")
        );
        assert_eq!(pointer_call_name("self->items"), None);
    }
}
