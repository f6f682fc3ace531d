//! What a function's parameters are to the Python call that lands there.

use super::text::identifiers;
use crate::source::index::{FileIndex, Function};

/// What a parameter is to the Python call that lands here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Kwargs,
    Args,
    Object,
}

/// The role of parameter `pos` of `f`, from the `PyMethodDef` flags of the entries
/// that name it, else from the `tp_init`/`tp_new`/`tp_call`/vectorcall signature shape.
pub fn parameter_role(index: &FileIndex, f: &Function, pos: usize) -> Role {
    let flags: Vec<&str> = index
        .method_tables
        .iter()
        .flat_map(|t| t.entries.iter())
        .filter(|e| e.func == f.name)
        .map(|e| e.flags.as_str())
        .collect();
    if let Some(flags) = flags.first() {
        let has = |w: &str| identifiers(flags).any(|x| x == w);
        let method = has("METH_METHOD");
        let shift = usize::from(method);
        if has("METH_FASTCALL") {
            return match pos.checked_sub(shift) {
                Some(1) => Role::Args,
                Some(3) if has("METH_KEYWORDS") => Role::Kwargs,
                _ => Role::Object,
            };
        }
        if has("METH_VARARGS") || has("METH_KEYWORDS") {
            return match pos {
                1 => Role::Args,
                2 if has("METH_KEYWORDS") => Role::Kwargs,
                _ => Role::Object,
            };
        }
        return Role::Object;
    }
    let p = &f.params[pos];
    let lname = p.name.to_ascii_lowercase();
    let is_obj = p.ty.contains("PyObject") && p.ty.contains('*');
    if !is_obj {
        return Role::Object;
    }
    // Vectorcall: (callable, PyObject *const *args, size_t nargsf, PyObject *kwnames).
    if f.params.len() == 4 && pos == 3 && (lname == "kwnames" || lname.starts_with("kw")) {
        return Role::Kwargs;
    }
    // tp_init / tp_new / tp_call and PyCFunctionWithKeywords: (self-or-type, args, kwds).
    if f.params.len() == 3 {
        if pos == 2
            && matches!(
                lname.as_str(),
                "kw" | "kwds" | "kwargs" | "kwdict" | "keywords" | "kws" | "kwnames"
            )
        {
            return Role::Kwargs;
        }
        if pos == 1 && lname == "args" && f.params[2].name.to_ascii_lowercase().starts_with("kw") {
            return Role::Args;
        }
    }
    // Helpers that receive the call's keyword dict keep its name (`kwds`, `kwargs`).
    if matches!(lname.as_str(), "kwnames" | "kwds" | "kwargs") {
        return Role::Kwargs;
    }
    Role::Object
}
