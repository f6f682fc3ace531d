//! Containers that only module initialisation (or a lifecycle slot) fills: once
//! the module is ready nothing changes them, so borrowed lookups from them cannot
//! see an item freed under them.

use std::borrow::Cow;

use super::Analysis;
use crate::capi;

/// `t` without blanks, after its last `)`, without `&`: how containers are compared.
/// Every argument of the file is compared, and most have no blank to remove.
fn norm(t: &str) -> Cow<'_, str> {
    if t.bytes()
        .all(|b| b.is_ascii() && !char::from(b).is_whitespace())
    {
        let t = t.rsplit(')').next().unwrap_or(t);
        return Cow::Borrowed(t.trim_start_matches('&'));
    }
    let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.rsplit(')').next().unwrap_or(&t).to_owned();
    Cow::Owned(t.trim_start_matches('&').to_owned())
}

impl Analysis<'_> {
    /// Is `container` (a global, or a struct field such as `st->registry`) changed only
    /// by code that runs during module initialisation or in lifecycle slots, and never
    /// handed to code that could change it (added to the module, returned, stored)?
    /// Then it is immutable once the module is ready.
    pub fn filled_only_at_init(&self, container: &str) -> bool {
        if let Some(known) = self.filled_at_init_cache().get(container) {
            return *known;
        }
        let answer = self.compute_filled_only_at_init(container);
        self.filled_at_init_cache()
            .insert(container.to_owned(), answer);
        answer
    }

    fn compute_filled_only_at_init(&self, container: &str) -> bool {
        let target = norm(container);
        if target.is_empty() {
            return false;
        }
        // A field matches any base (`st->cache`, `state->cache`); a global by name.
        let field = target.rsplit_once("->").map(|(_, f)| f.to_owned());
        let same = |t: &str| {
            let t = norm(t);
            match &field {
                Some(f) => t.rsplit_once("->").is_some_and(|(_, g)| g == f),
                None => t == target,
            }
        };
        let setup = |f: Option<usize>| {
            f.is_some_and(|f| {
                if self.init_only(f) {
                    return true;
                }
                let name = self.index.functions[f].name.to_ascii_lowercase();
                [
                    "_exec",
                    "_new",
                    "_init",
                    "_dealloc",
                    "_clear",
                    "_traverse",
                    "_free",
                ]
                .iter()
                .any(|s| name.ends_with(s))
            })
        };
        let mut filled = false;
        for c in &self.index.calls {
            let Some(first) = c.args.first() else {
                continue;
            };
            let passes = c.args.iter().any(|a| same(self.text(*a)));
            if !passes {
                continue;
            }
            let mutates = capi::container_family(&c.name)
                .is_some_and(|fam| capi::mutates_container(&c.name, fam))
                && same(self.text(*first));
            if mutates {
                if !setup(c.function) {
                    return false;
                }
                filled = true;
                continue;
            }
            // Reads through the container API are fine; anything else may keep or
            // change it (`PyModule_AddObjectRef`, `Py_NewRef`, a helper).
            let reads = same(self.text(*first))
                && (capi::borrowed_getter(&c.name).is_some()
                    || capi::is_size_getter(&c.name)
                    || capi::container_family(&c.name).is_some());
            if !reads && !setup(c.function) {
                return false;
            }
        }
        for a in &self.index.assignments {
            if same(&a.lhs_text) && !setup(a.function) {
                return false;
            }
        }
        for f in &self.index.functions {
            if f.returns.iter().any(|r| same(self.text(*r))) {
                return false;
            }
        }
        filled
    }
}
