//! Container privacy: where a container came from (definitions, out-parameters,
//! calls), whether it escaped since, and what that makes it at a use site.

use super::params::{parameter_role, Role};
use super::text::{
    ancestors, call_name, identifiers, is_identifier, is_null, normalize, pointer_call_name,
    strip_new_ref,
};
use super::Analysis;
use crate::capi;
use crate::diagnostic::Confidence;
use crate::source::index::Range;

/// Why a container is private at a use site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Private {
    /// The keyword-arguments dict (or kwnames tuple) of the current call.
    Kwargs,
    /// The args tuple or the `PyObject *const *args` vector of the current call.
    Args,
    /// Created in this function and not escaped before the use.
    Fresh,
    /// A tuple (or another immutable object).
    Immutable,
    /// Inside `Py_BEGIN_CRITICAL_SECTION` on this very expression.
    Locked,
    /// Inside `if (PyUnstable_Object_IsUniquelyReferenced(x))`.
    Unique,
    /// Module state or a global, in code that only runs during module initialisation.
    ModuleInit,
}

/// Why a container may be changed by another thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// A Python argument (the args tuple is private, the objects in it are not).
    Argument(String),
    /// A struct field (`self->items`, module state).
    Field,
    /// A global or `static` variable.
    Global(String),
    /// A borrowed item of another container.
    Item,
    /// Created here but already stored somewhere or passed on (the line says where).
    Escaped(usize),
    /// The result of a call whose result may be shared (`PyObject_GetAttr`, ...).
    CallResult(String),
    /// A parameter of a helper: its callers decide (intraprocedural analysis).
    HelperParameter(String),
    /// The analysis cannot see where it comes from.
    Unknown,
}

/// The answer of [`Analysis::container`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privacy {
    Private(Private),
    Shared(Shared),
}

impl Privacy {
    pub fn is_private(&self) -> bool {
        matches!(self, Privacy::Private(_))
    }

    /// Created here and not escaped (what `PyList_SET_ITEM` needs; kwargs do not count).
    pub fn is_fresh(&self) -> bool {
        matches!(self, Privacy::Private(Private::Fresh))
    }

    /// How sure a diagnostic about a shared container is.
    pub fn confidence(&self) -> Confidence {
        match self {
            Privacy::Shared(Shared::Argument(_) | Shared::Field | Shared::Global(_)) => {
                Confidence::Certain
            }
            _ => Confidence::Likely,
        }
    }

    /// A phrase for messages: "`d`, a Python argument".
    pub fn describe(&self, expr: &str) -> String {
        match self {
            Privacy::Private(p) => format!("`{expr}` ({p:?})"),
            Privacy::Shared(s) => match s {
                Shared::Argument(_) => format!("`{expr}`, an object received from Python"),
                Shared::Field => format!("`{expr}`, a field other threads can reach"),
                Shared::Global(_) => format!("`{expr}`, a global shared by every thread"),
                Shared::Item => format!("`{expr}`, an item of another container"),
                Shared::Escaped(line) => {
                    format!("`{expr}`, which is visible to other code since line {line}")
                }
                Shared::CallResult(c) => format!("`{expr}`, returned by `{c}` (possibly shared)"),
                Shared::HelperParameter(_) => {
                    format!("`{expr}`, a parameter whose callers are not analysed")
                }
                Shared::Unknown => format!("`{expr}`, whose origin is not visible here"),
            },
        }
    }
}

/// Calls that return a new container nobody else has seen: the catalogue's
/// constructors, and a type's own `tp_alloc` slot called through the type.
fn is_constructor(callee: &str) -> bool {
    callee == "tp_alloc" || capi::is_constructor(callee)
}

/// Calls that do not let a container escape when it is their first argument.
fn keeps_private(callee: &str, position: usize) -> bool {
    // `assert(x)` and `Py_ssize_t(x)` (a C++ functional cast) look like calls.
    if capi::keeps_no_reference(callee)
        || matches!(callee, "assert" | "Py_ssize_t")
        || callee.contains("_Check")
        || callee.contains("_GET_SIZE")
    {
        return true;
    }
    position == 0 && capi::container_family(callee).is_some()
}

impl Analysis<'_> {
    /// Is `at` inside `if (PyUnstable_Object_IsUniquelyReferenced(e)) { ... }`?
    fn unique_at(&self, e: &str, at: usize) -> bool {
        let root = self.file.tree.root_node();
        let Some(mut n) = root.descendant_for_byte_range(at, at) else {
            return false;
        };
        for p in ancestors(root, n) {
            if p.kind() == "if_statement"
                && p.child_by_field_name("consequence")
                    .is_some_and(|c| c.id() == n.id())
            {
                let cond = p
                    .child_by_field_name("condition")
                    .map(|c| self.file.node_text(c))
                    .unwrap_or("");
                let c = normalize(cond);
                for f in capi::uniqueness_checks() {
                    if c.contains(&format!("{f}({e})")) && !c.contains(&format!("!{f}(")) {
                        return true;
                    }
                }
            }
            n = p;
        }
        false
    }

    /// Is the container written at `expr` private at `at`?
    pub fn container(&self, expr: Range, at: usize) -> Privacy {
        let e = normalize(self.text(expr));
        self.classify(&e, at, 0)
    }

    /// As [`Analysis::container`], for an expression given as text.
    pub fn container_text(&self, expr: &str, at: usize) -> Privacy {
        self.classify(&normalize(expr), at, 0)
    }

    fn classify(&self, e: &str, at: usize, depth: usize) -> Privacy {
        if self.locked_at(e, at) {
            return Privacy::Private(Private::Locked);
        }
        if self.unique_at(e, at) {
            return Privacy::Private(Private::Unique);
        }
        if depth > 4 || e.is_empty() {
            return Privacy::Shared(Shared::Unknown);
        }
        let idx = self.index;
        let Some(fi) = idx.function_at(at) else {
            return Privacy::Shared(Shared::Unknown);
        };
        if self.init_only.contains(&fi) {
            // Module state and globals are not shared before initialisation ends.
            return match self.classify_unlocked(e, fi, at, depth) {
                Privacy::Shared(Shared::Field | Shared::Global(_) | Shared::Escaped(_)) => {
                    Privacy::Private(Private::ModuleInit)
                }
                p => p,
            };
        }
        self.classify_unlocked(e, fi, at, depth)
    }

    fn classify_unlocked(&self, e: &str, fi: usize, at: usize, depth: usize) -> Privacy {
        let idx = self.index;
        let f = &idx.functions[fi];
        if let Some(callee) = call_name(e) {
            return classify_call_result(callee);
        }
        if let Some(callee) = pointer_call_name(e) {
            return classify_call_result(callee);
        }
        if e.contains("->") || e.contains('.') {
            // `self->list = PyList_New(n);` then filled in this function: still fresh.
            if let Some(def @ Definition::Value { rhs, .. }) = self.last_definition(fi, e, at) {
                let t = normalize(self.text(rhs));
                if call_name(&t).is_some_and(is_constructor) {
                    return self.classify_definition(fi, e, def, at, depth);
                }
            }
            return Privacy::Shared(Shared::Field);
        }
        if let Some(base) = e.strip_suffix(']').and_then(|x| x.split('[').next()) {
            // `args[0]`: an object taken from an args vector or array.
            return match self.classify(base, at, depth + 1) {
                Privacy::Private(Private::Args) => {
                    Privacy::Shared(Shared::Argument(base.to_owned()))
                }
                _ => Privacy::Shared(Shared::Item),
            };
        }
        if e.strip_prefix('*').is_some_and(is_identifier) {
            // `*ret = PyList_New(1); PyList_SET_ITEM(*ret, ...)`: an out-parameter being filled.
            return match self.last_definition(fi, e, at) {
                Some(p) => self.classify_definition(fi, e, p, at, depth),
                None => Privacy::Shared(Shared::Unknown),
            };
        }
        if !is_identifier(e) {
            return Privacy::Shared(Shared::Unknown);
        }
        // The last definition before the use decides.
        if let Some(p) = self.last_definition(fi, e, at) {
            return self.classify_definition(fi, e, p, at, depth);
        }
        if let Some(pos) = f.params.iter().position(|p| p.name == e) {
            return self.classify_parameter(fi, pos);
        }
        match idx.declaration_of(e, Some(fi)) {
            Some(d) if d.has_static_storage() => Privacy::Shared(Shared::Global(e.to_owned())),
            Some(d) if d.type_text.contains("PyTupleObject") => {
                Privacy::Private(Private::Immutable)
            }
            _ => Privacy::Shared(Shared::Unknown),
        }
    }

    /// The right-hand side (or out-parameter call) that last set `var` before `at`.
    fn last_definition(&self, fi: usize, var: &str, at: usize) -> Option<Definition> {
        let idx = self.index;
        let mut best: Option<Definition> = None;
        let mut consider = |d: Definition| {
            if best.as_ref().is_none_or(|b| b.pos() < d.pos()) {
                best = Some(d);
            }
        };
        for d in idx
            .decls_in(fi)
            .filter(|d| d.name == var && d.name_range.0 < at)
        {
            if d.storage.is_static {
                continue;
            }
            if let Some(init) = &d.init {
                let r = init.range();
                if !is_null(self.text(r)) {
                    consider(Definition::Value {
                        rhs: r,
                        at: d.name_range.0,
                    });
                }
            }
        }
        for a in idx.assignments_in(fi).filter(|a| a.range.1 <= at) {
            if a.operator == "=" && normalize(&a.lhs_text) == var && !is_null(self.text(a.rhs)) {
                consider(Definition::Value {
                    rhs: a.rhs,
                    at: a.range.0,
                });
            }
        }
        let amp = format!("&{var}");
        for c in idx.calls_in(fi).filter(|c| c.range.1 <= at) {
            if let Some(pos) = c.args.iter().position(|r| normalize(self.text(*r)) == amp) {
                consider(Definition::OutParam {
                    callee: c.name.clone(),
                    position: pos,
                    at: c.range.0,
                    first_arg: c.args.first().copied(),
                });
            }
        }
        best
    }

    fn classify_definition(
        &self,
        fi: usize,
        var: &str,
        def: Definition,
        at: usize,
        depth: usize,
    ) -> Privacy {
        match def {
            Definition::OutParam {
                callee, first_arg, ..
            } => {
                if capi::is_arg_parser(&callee) {
                    return Privacy::Shared(Shared::Argument(var.to_owned()));
                }
                if capi::stores_item_in_out_param(&callee) {
                    return match first_arg.map(|r| self.container(r, at)) {
                        Some(Privacy::Private(_)) => Privacy::Shared(Shared::Unknown),
                        _ => Privacy::Shared(Shared::Item),
                    };
                }
                Privacy::Shared(Shared::CallResult(callee))
            }
            Definition::Value { rhs, at: def_at } => {
                let text = normalize(self.text(rhs));
                if let Some(callee) = call_name(&text) {
                    if is_constructor(callee) || self.returns_fresh(callee, depth) {
                        return match self.escape_between(fi, var, def_at, at) {
                            Some(line) => Privacy::Shared(Shared::Escaped(line)),
                            None => Privacy::Private(Private::Fresh),
                        };
                    }
                    if callee == "PySequence_Fast" {
                        // The sequence is its argument (for a list): ask about it, locked
                        // at the use site or private where it was converted.
                        let inner = self.first_call_arg(rhs).map(|r| normalize(self.text(r)));
                        if inner.as_deref().is_some_and(|i| self.locked_at(i, at)) {
                            return Privacy::Private(Private::Locked);
                        }
                        return match inner.map(|i| self.classify(&i, def_at, depth + 1)) {
                            Some(Privacy::Private(p)) => Privacy::Private(p),
                            Some(s) => s,
                            None => Privacy::Shared(Shared::Unknown),
                        };
                    }
                    return classify_call_result(callee);
                }
                if let Some(callee) = pointer_call_name(&text) {
                    if is_constructor(callee) {
                        return match self.escape_between(fi, var, def_at, at) {
                            Some(line) => Privacy::Shared(Shared::Escaped(line)),
                            None => Privacy::Private(Private::Fresh),
                        };
                    }
                    return classify_call_result(callee);
                }
                if text.contains("->") || text.contains('.') {
                    return self.classify(&text, def_at, depth + 1);
                }
                if is_identifier(&text) && text != var {
                    return self.classify(&text, def_at, depth + 1);
                }
                Privacy::Shared(Shared::Unknown)
            }
        }
    }

    fn first_call_arg(&self, rhs: Range) -> Option<Range> {
        self.index
            .calls
            .iter()
            .find(|c| c.range.0 >= rhs.0 && c.range.1 <= rhs.1)
            .and_then(|c| c.args.first().copied())
    }

    /// The line where `var` first escapes between `from` and `to`, if it does.
    fn escape_between(&self, fi: usize, var: &str, from: usize, to: usize) -> Option<usize> {
        let idx = self.index;
        let line = |o: usize| self.file.lines.line_of(o) + 1;
        for c in idx
            .calls_in(fi)
            .filter(|c| c.range.0 > from && c.range.1 <= to)
        {
            for (pos, a) in c.args.iter().enumerate() {
                let t = strip_new_ref(normalize(self.text(*a)));
                if t == var
                    && !keeps_private(&c.name, pos)
                    && !self.helper_keeps_private(&c.name, pos)
                {
                    return Some(line(c.range.0));
                }
            }
        }
        for a in idx
            .assignments_in(fi)
            .filter(|a| a.range.0 > from && a.range.1 <= to)
        {
            let lhs = normalize(&a.lhs_text);
            let local = is_identifier(&lhs)
                && idx
                    .declaration_of(&lhs, Some(fi))
                    .is_some_and(|d| !d.has_static_storage());
            if !local && identifiers(self.text(a.rhs)).any(|w| w == var) {
                return Some(line(a.range.0));
            }
        }
        None
    }

    /// A function of this file whose every `return` gives a container it created
    /// and did not publish (or `NULL`).
    fn returns_fresh(&self, name: &str, depth: usize) -> bool {
        let idx = self.index;
        let Some(hi) = idx.function_named(name) else {
            return false;
        };
        let h = &idx.functions[hi];
        if depth > 2 || h.returns.is_empty() {
            return false;
        }
        h.returns.iter().all(|r| {
            let t = normalize(self.text(*r));
            is_null(&t) || (is_identifier(&t) && self.classify(&t, r.0, depth + 2).is_fresh())
        })
    }

    /// A function of this file that neither stores, returns nor passes on its
    /// parameter `pos` (other than as the first argument of a container API).
    fn helper_keeps_private(&self, name: &str, pos: usize) -> bool {
        let idx = self.index;
        let Some(hi) = idx.function_named(name) else {
            return false;
        };
        let h = &idx.functions[hi];
        let Some(p) = h.params.get(pos) else {
            return false;
        };
        let p = p.name.as_str();
        if p.is_empty()
            || h.returns
                .iter()
                .any(|r| strip_new_ref(normalize(self.text(*r))) == p)
        {
            return false;
        }
        let stored = idx
            .assignments_in(hi)
            .any(|a| strip_new_ref(normalize(self.text(a.rhs))) == p);
        let passed = idx.calls_in(hi).any(|c| {
            c.args.iter().enumerate().any(|(i, a)| {
                normalize(self.text(*a)) == p
                    && !keeps_private(&c.name, i)
                    && !(c.name == name && i == pos)
            })
        });
        !stored && !passed
    }

    fn classify_parameter(&self, fi: usize, pos: usize) -> Privacy {
        let f = &self.index.functions[fi];
        let p = &f.params[pos];
        if p.ty.contains("*const *") || p.ty.contains("* const *") || p.ty.contains("**") {
            return Privacy::Private(Private::Args);
        }
        if p.ty.contains("PyTupleObject") {
            return Privacy::Private(Private::Immutable);
        }
        match parameter_role(self.index, f, pos) {
            Role::Kwargs => Privacy::Private(Private::Kwargs),
            Role::Args => Privacy::Private(Private::Args),
            Role::Object if self.python_facing.contains(f.name.as_str()) => {
                Privacy::Shared(Shared::Argument(p.name.clone()))
            }
            Role::Object => Privacy::Shared(Shared::HelperParameter(p.name.clone())),
        }
    }
}

#[derive(Debug, Clone)]
enum Definition {
    Value {
        rhs: Range,
        at: usize,
    },
    OutParam {
        callee: String,
        #[allow(dead_code)]
        position: usize,
        at: usize,
        first_arg: Option<Range>,
    },
}

impl Definition {
    fn pos(&self) -> usize {
        match self {
            Definition::Value { at, .. } | Definition::OutParam { at, .. } => *at,
        }
    }
}

fn classify_call_result(callee: &str) -> Privacy {
    if is_constructor(callee) {
        return Privacy::Private(Private::Fresh);
    }
    if capi::is_global_container(callee) {
        return Privacy::Shared(Shared::Global(callee.to_owned()));
    }
    if capi::reads_borrowed_item(callee) {
        return Privacy::Shared(Shared::Item);
    }
    Privacy::Shared(Shared::CallResult(callee.to_owned()))
}
