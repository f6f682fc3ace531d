//! Reading the tree: the storage an assignment writes, and the slot a function
//! reference fills. Node kinds and fields are compared as grammar ids ([`Grammar`]):
//! these run for most identifiers of a file.

use tree_sitter::Node;

use crate::source::index::grammar::{Grammar, Kind};
use crate::source::index::Ancestors;
use crate::source::SourceFile;

pub(super) struct LValue {
    pub(super) base: String,
    pub(super) field: Option<String>,
    pub(super) arrow: bool,
    pub(super) subscript: bool,
}

pub(super) fn strip_wrappers<'t>(g: &Grammar, mut n: Node<'t>) -> Node<'t> {
    loop {
        match g.kind(n) {
            Kind::ParenthesizedExpression => match n.named_child(0) {
                Some(c) => n = c,
                None => return n,
            },
            Kind::CastExpression => match n.child_by_field_id(g.f.value) {
                Some(c) => n = c,
                None => return n,
            },
            _ => return n,
        }
    }
}

/// The identifier an lvalue is rooted at: `x`, `x[i]`, `x.f`, `p->f[i]`, `&x`, `(T*)&x`.
/// `*p = v` writes the pointee, not `p`: no lvalue.
pub(super) fn lvalue(file: &SourceFile, g: &Grammar, n: Node) -> Option<LValue> {
    let mut n = strip_wrappers(g, n);
    if g.kind(n) == Kind::PointerExpression && n.child(0).is_some_and(|o| file.node_text(o) == "&")
    {
        n = strip_wrappers(g, n.child_by_field_id(g.f.argument)?);
    }
    let mut field = None;
    let mut arrow = false;
    let mut subscript = false;
    loop {
        n = strip_wrappers(g, n);
        match g.kind(n) {
            Kind::Identifier | Kind::QualifiedIdentifier => {
                let text = file.node_text(n);
                let base = text.rsplit("::").next().unwrap_or(text).to_owned();
                return Some(LValue {
                    base,
                    field,
                    arrow,
                    subscript,
                });
            }
            Kind::This => {
                return Some(LValue {
                    base: "this".into(),
                    field,
                    arrow: true,
                    subscript,
                })
            }
            Kind::FieldExpression => {
                field = n
                    .child_by_field_id(g.f.field)
                    .map(|f| file.node_text(f).to_owned());
                arrow = file.node_text(n).contains("->")
                    && n.child_by_field_id(g.f.operator)
                        .is_none_or(|o| file.node_text(o) == "->");
                n = n.child_by_field_id(g.f.argument)?;
            }
            Kind::SubscriptExpression => {
                subscript = true;
                n = n.child_by_field_id(g.f.argument)?;
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
/// The slot's name is the file's text or a [`TYPE_FIELDS`] name: nothing is
/// copied for the many identifiers whose slot is already known or none.
pub(super) fn slot_of<'f>(
    file: &'f SourceFile,
    g: &Grammar,
    node: Node,
    ancestors: &Ancestors,
    decl_types: &mut DeclTypes<'f>,
) -> (Option<&'f str>, bool) {
    let (anc, kinds) = (ancestors.nodes(), ancestors.kinds());
    let mut n = node;
    let mut i = anc.len();
    while i > 0
        && matches!(
            kinds[i - 1],
            Kind::CastExpression | Kind::ParenthesizedExpression | Kind::PointerExpression
        )
    {
        n = anc[i - 1];
        i -= 1;
    }
    let Some(parent) = i.checked_sub(1).map(|j| anc[j]) else {
        return (None, false);
    };
    let parent_kind = kinds[i - 1];
    if parent_kind == Kind::AssignmentExpression {
        // The one answer that does not read the enclosing declaration.
        let left = parent.child_by_field_id(g.f.left);
        let field = left
            .filter(|l| g.kind(*l) == Kind::FieldExpression)
            .and_then(|l| l.child_by_field_id(g.f.field))
            .map(|f| file.node_text(f));
        return (field, false);
    }
    let decl_type = decl_types.enclosing(file, g, &anc[..i], &kinds[..i]);
    let in_module_def = decl_type.is_some_and(|t| t.trim_start_matches("struct ") == "PyModuleDef");
    match parent_kind {
        Kind::InitializerPair => {
            let d = parent
                .child_by_field_id(g.f.designator)
                .map(|d| file.node_text(d).trim_start_matches('.').trim());
            (d, in_module_def)
        }
        // Slot pairs and type objects are short lists; skip huge data tables.
        Kind::InitializerList if parent.named_child_count() <= 80 => {
            // The position of `n` among the list's items (comments are not
            // items), and the first item.
            let mut c = parent.walk();
            let mut items = parent
                .named_children(&mut c)
                .filter(|i| g.kind(*i) != Kind::Comment);
            let Some(first) = items.next() else {
                return (None, in_module_def);
            };
            let pos = if first.id() == n.id() {
                0
            } else {
                match items.position(|i| i.id() == n.id()) {
                    Some(p) => p + 1,
                    None => return (None, in_module_def),
                }
            };
            // `{Py_tp_dealloc, f}`, `{Py_mod_exec, f}`, `{Py_bf_getbuffer, f}`
            if pos == 1 {
                let first = file.node_text(first).trim();
                if first.starts_with("Py_")
                    && first.chars().nth(3).is_some_and(|c| c.is_ascii_lowercase())
                {
                    return (Some(first), in_module_def);
                }
            }
            let is_type = decl_type
                .is_some_and(|t| t.trim_start_matches("struct ") == "PyTypeObject")
                && i >= 2
                && kinds[i - 2] == Kind::InitDeclarator;
            if is_type {
                let shift = usize::from(file.node_text(first).starts_with("PyObject_HEAD_INIT"));
                let field = pos.checked_sub(shift).and_then(|p| TYPE_FIELDS.get(p));
                return (field.copied(), in_module_def);
            }
            (None, in_module_def)
        }
        _ => (None, in_module_def),
    }
}

/// The type of the declaration around a node, remembered for the last
/// declaration asked about: every identifier of a table's initializer asks for
/// the same one.
#[derive(Default)]
pub(super) struct DeclTypes<'f> {
    last: Option<(usize, Option<&'f str>)>,
}

impl<'f> DeclTypes<'f> {
    /// The type's text of the innermost declaration among `anc` (with their
    /// `kinds`), unless a function or a block is nearer.
    fn enclosing(
        &mut self,
        file: &'f SourceFile,
        g: &Grammar,
        anc: &[Node],
        kinds: &[Kind],
    ) -> Option<&'f str> {
        for (n, kind) in anc.iter().zip(kinds).rev() {
            match kind {
                Kind::Declaration => {
                    if let Some((id, ty)) = self.last {
                        if id == n.id() {
                            return ty;
                        }
                    }
                    let ty = n.child_by_field_id(g.f.type_).map(|t| file.node_text(t));
                    self.last = Some((n.id(), ty));
                    return ty;
                }
                Kind::FunctionDefinition | Kind::CompoundStatement => return None,
                _ => {}
            }
        }
        None
    }
}
