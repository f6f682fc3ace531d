//! Reading the tree: the storage an assignment writes, and the slot a function
//! reference fills.

use tree_sitter::Node;

use crate::source::SourceFile;

pub(super) struct LValue {
    pub(super) base: String,
    pub(super) field: Option<String>,
    pub(super) arrow: bool,
    pub(super) subscript: bool,
}

pub(super) fn strip_wrappers(mut n: Node) -> Node {
    loop {
        match n.kind() {
            "parenthesized_expression" => match n.named_child(0) {
                Some(c) => n = c,
                None => return n,
            },
            "cast_expression" => match n.child_by_field_name("value") {
                Some(c) => n = c,
                None => return n,
            },
            _ => return n,
        }
    }
}

/// The identifier an lvalue is rooted at: `x`, `x[i]`, `x.f`, `p->f[i]`, `&x`, `(T*)&x`.
/// `*p = v` writes the pointee, not `p`: no lvalue.
pub(super) fn lvalue(file: &SourceFile, n: Node) -> Option<LValue> {
    let mut n = strip_wrappers(n);
    if n.kind() == "pointer_expression" && n.child(0).is_some_and(|o| file.node_text(o) == "&") {
        n = strip_wrappers(n.child_by_field_name("argument")?);
    }
    let mut field = None;
    let mut arrow = false;
    let mut subscript = false;
    loop {
        n = strip_wrappers(n);
        match n.kind() {
            "identifier" | "qualified_identifier" => {
                let text = file.node_text(n);
                let base = text.rsplit("::").next().unwrap_or(text).to_owned();
                return Some(LValue {
                    base,
                    field,
                    arrow,
                    subscript,
                });
            }
            "this" => {
                return Some(LValue {
                    base: "this".into(),
                    field,
                    arrow: true,
                    subscript,
                })
            }
            "field_expression" => {
                field = n
                    .child_by_field_name("field")
                    .map(|f| file.node_text(f).to_owned());
                arrow = file.node_text(n).contains("->")
                    && n.child_by_field_name("operator")
                        .is_none_or(|o| file.node_text(o) == "->");
                n = n.child_by_field_name("argument")?;
            }
            "subscript_expression" => {
                subscript = true;
                n = n.child_by_field_name("argument")?;
            }
            _ => return None,
        }
    }
}

/// `PyTypeObject` fields by position when the initializer has no designators
/// (position 0 is `PyVarObject_HEAD_INIT(...)`).
const TYPE_FIELDS: [&str; 49] = [
    "ob_base",
    "tp_name",
    "tp_basicsize",
    "tp_itemsize",
    "tp_dealloc",
    "tp_vectorcall_offset",
    "tp_getattr",
    "tp_setattr",
    "tp_as_async",
    "tp_repr",
    "tp_as_number",
    "tp_as_sequence",
    "tp_as_mapping",
    "tp_hash",
    "tp_call",
    "tp_str",
    "tp_getattro",
    "tp_setattro",
    "tp_as_buffer",
    "tp_flags",
    "tp_doc",
    "tp_traverse",
    "tp_clear",
    "tp_richcompare",
    "tp_weaklistoffset",
    "tp_iter",
    "tp_iternext",
    "tp_methods",
    "tp_members",
    "tp_getset",
    "tp_base",
    "tp_dict",
    "tp_descr_get",
    "tp_descr_set",
    "tp_dictoffset",
    "tp_init",
    "tp_alloc",
    "tp_new",
    "tp_free",
    "tp_is_gc",
    "tp_bases",
    "tp_mro",
    "tp_cache",
    "tp_subclasses",
    "tp_weaklist",
    "tp_del",
    "tp_version_tag",
    "tp_finalize",
    "tp_vectorcall",
];

/// The slot a function reference fills, and whether it sits in a `PyModuleDef`.
/// `anc` are the node's ancestors, innermost last.
pub(super) fn slot_of(file: &SourceFile, node: Node, anc: &[Node]) -> (Option<String>, bool) {
    let mut n = node;
    let mut i = anc.len();
    while i > 0
        && matches!(
            anc[i - 1].kind(),
            "cast_expression" | "parenthesized_expression" | "pointer_expression"
        )
    {
        n = anc[i - 1];
        i -= 1;
    }
    let Some(parent) = i.checked_sub(1).map(|j| anc[j]) else {
        return (None, false);
    };
    let decl_type = enclosing_decl_type(file, &anc[..i]);
    let in_module_def = decl_type.is_some_and(|t| t.trim_start_matches("struct ") == "PyModuleDef");
    match parent.kind() {
        "initializer_pair" => {
            let d = parent
                .child_by_field_name("designator")
                .map(|d| file.node_text(d).trim_start_matches('.').trim());
            (d.map(str::to_owned), in_module_def)
        }
        // Slot pairs and type objects are short lists; skip huge data tables.
        "initializer_list" if parent.named_child_count() <= 80 => {
            let mut c = parent.walk();
            let items: Vec<Node> = parent
                .named_children(&mut c)
                .filter(|i| i.kind() != "comment")
                .collect();
            let Some(pos) = items.iter().position(|i| i.id() == n.id()) else {
                return (None, in_module_def);
            };
            // `{Py_tp_dealloc, f}`, `{Py_mod_exec, f}`, `{Py_bf_getbuffer, f}`
            if pos == 1 {
                let first = file.node_text(items[0]).trim();
                if first.starts_with("Py_")
                    && first.chars().nth(3).is_some_and(|c| c.is_ascii_lowercase())
                {
                    return (Some(first.to_owned()), in_module_def);
                }
            }
            let is_type = decl_type
                .is_some_and(|t| t.trim_start_matches("struct ") == "PyTypeObject")
                && i >= 2
                && anc[i - 2].kind() == "init_declarator";
            if is_type {
                let shift = usize::from(file.node_text(items[0]).starts_with("PyObject_HEAD_INIT"));
                let field = pos.checked_sub(shift).and_then(|p| TYPE_FIELDS.get(p));
                return (field.map(|f| (*f).to_owned()), in_module_def);
            }
            (None, in_module_def)
        }
        "assignment_expression" => {
            let left = parent.child_by_field_name("left");
            let field = left
                .filter(|l| l.kind() == "field_expression")
                .and_then(|l| l.child_by_field_name("field"))
                .map(|f| file.node_text(f).to_owned());
            (field, false)
        }
        _ => (None, in_module_def),
    }
}

fn enclosing_decl_type<'a>(file: &'a SourceFile, anc: &[Node]) -> Option<&'a str> {
    for n in anc.iter().rev() {
        if n.kind() == "declaration" {
            return n.child_by_field_name("type").map(|t| file.node_text(t));
        }
        if n.kind() == "function_definition" || n.kind() == "compound_statement" {
            return None;
        }
    }
    None
}
