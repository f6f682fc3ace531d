//! Reading the tree: the storage an assignment writes, and the slot a function
//! reference fills. Node kinds and fields are compared as grammar ids ([`Grammar`]):
//! these run for most identifiers of a file.

use tree_sitter::Node;

use crate::source::index::grammar::{Grammar, Kind};
use crate::source::index::{Ancestors, Range};
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
                let base = after_last(text, b"::").to_owned();
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
                arrow = has(file.node_text(n), b"->")
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

/// `text.rsplit(sep).next()` for a two-byte `sep`: the walks ask it of many short
/// texts, for which building a substring searcher costs more than the search.
pub(super) fn after_last<'t>(text: &'t str, sep: &[u8; 2]) -> &'t str {
    match text.as_bytes().windows(2).rposition(|w| w == sep) {
        Some(i) => &text[i + 2..],
        None => text,
    }
}

/// `text.contains(sep)` for a two-byte `sep` (see [`after_last`]).
pub(super) fn has(text: &str, sep: &[u8; 2]) -> bool {
    text.as_bytes().windows(2).any(|w| w == sep)
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
    ctx: &mut Context<'f>,
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
    // (The wrappers skipped are no declarations, functions or blocks.)
    let decl_type = ctx.enclosing(anc).map(without_struct);
    let in_module_def = decl_type == Some("PyModuleDef");
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
            let Some((pos, first)) = ctx
                .item(anc, parent, i - 1, n)
                .or_else(|| item_of(g, parent, n))
            else {
                return (None, in_module_def);
            };
            let first = file.parse_text.get(first.0..first.1).unwrap_or("");
            // `{Py_tp_dealloc, f}`, `{Py_mod_exec, f}`, `{Py_bf_getbuffer, f}`
            if pos == 1 {
                let first = first.trim();
                if first.starts_with("Py_")
                    && first.chars().nth(3).is_some_and(|c| c.is_ascii_lowercase())
                {
                    return (Some(first), in_module_def);
                }
            }
            let is_type =
                decl_type == Some("PyTypeObject") && i >= 2 && kinds[i - 2] == Kind::InitDeclarator;
            if is_type {
                let shift = usize::from(first.starts_with("PyObject_HEAD_INIT"));
                let field = pos.checked_sub(shift).and_then(|p| TYPE_FIELDS.get(p));
                return (field.copied(), in_module_def);
            }
            (None, in_module_def)
        }
        _ => (None, in_module_def),
    }
}

/// [`Context::item`] from the list's children, for a walk that did not show
/// them to the context.
fn item_of(g: &Grammar, list: Node, item: Node) -> Option<(usize, Range)> {
    let mut c = list.walk();
    let mut items = list
        .named_children(&mut c)
        .filter(|i| g.kind(*i) != Kind::Comment);
    let first = items.next()?;
    let pos = if first.id() == item.id() {
        0
    } else {
        items.position(|i| i.id() == item.id())? + 1
    };
    Some((pos, (first.start_byte(), first.end_byte())))
}

/// `t.trim_start_matches("struct ")`, without the substring searcher that
/// builds (asked for most identifiers of a file).
fn without_struct(mut t: &str) -> &str {
    while let Some(rest) = t.strip_prefix("struct ") {
        t = rest;
    }
    t
}

/// What [`slot_of`] reads of a node's ancestors, kept as the walk goes: the
/// declarations, function definitions and blocks around the node (the type of
/// the declaration around it is that of the innermost of them if it is a
/// declaration), and the initializer lists around it with the items seen so far
/// (an item's position among them). Searching the ancestors, or a list's
/// children for each of its identifiers, was quadratic in long `else if` chains
/// and tables.
#[derive(Default)]
pub(super) struct Context<'f> {
    /// The node's id and depth (its number of ancestors), and for a declaration
    /// its type's text.
    scopes: Vec<(usize, usize, Option<Option<&'f str>>)>,
    lists: Vec<List>,
}

/// An initializer list around the walk's node.
struct List {
    /// The list node's id and depth.
    id: usize,
    depth: usize,
    /// Its items seen so far (named children but comments), the first one's
    /// range, and the last one (its id and position).
    count: usize,
    first: Range,
    last: (usize, usize),
}

/// Forgets the entries (by id and depth) that are not among the ancestors `anc`
/// of the walk's node: a pre-order walk does not come back.
fn leave<T>(open: &mut Vec<T>, anc: &[Node], at: impl Fn(&T) -> (usize, usize)) {
    while let Some(e) = open.last() {
        let (id, depth) = at(e);
        if anc.get(depth).is_some_and(|a| a.id() == id) {
            break;
        }
        open.pop();
    }
}

impl<'f> Context<'f> {
    /// A declaration (with its type's text), a function definition or a block
    /// (`None`) of the walk, at `depth`.
    pub(super) fn scope(&mut self, node: Node, depth: usize, decl_type: Option<Option<&'f str>>) {
        self.scopes.push((node.id(), depth, decl_type));
    }

    /// An initializer list of the walk, at `depth`.
    pub(super) fn list(&mut self, node: Node, depth: usize) {
        self.lists.push(List {
            id: node.id(),
            depth,
            count: 0,
            first: (0, 0),
            last: (usize::MAX, 0),
        });
    }

    /// A child of an initializer list of the walk (the last of `anc`).
    pub(super) fn list_child(&mut self, node: Node, kind: Kind, anc: &[Node]) {
        if kind == Kind::Comment || (kind == Kind::Other && !node.is_named()) {
            return;
        }
        leave(&mut self.lists, anc, |l| (l.id, l.depth));
        let parent = anc.len() - 1;
        if let Some(l) = self.lists.last_mut().filter(|l| l.depth == parent) {
            if l.count == 0 {
                l.first = (node.start_byte(), node.end_byte());
            }
            l.last = (node.id(), l.count);
            l.count += 1;
        }
    }

    /// The type's text of the innermost declaration among `anc`, unless a
    /// function or a block is nearer.
    fn enclosing(&mut self, anc: &[Node]) -> Option<&'f str> {
        leave(&mut self.scopes, anc, |&(id, depth, _)| (id, depth));
        self.scopes.last().and_then(|&(_, _, ty)| ty.flatten())
    }

    /// The position of `item` among the items of the list `list` (at `depth`
    /// among `anc`), and the first item's range, when the walk saw them.
    fn item(
        &mut self,
        anc: &[Node],
        list: Node,
        depth: usize,
        item: Node,
    ) -> Option<(usize, Range)> {
        leave(&mut self.lists, anc, |l| (l.id, l.depth));
        let l = self.lists.last()?;
        (l.id == list.id() && l.depth == depth && l.last.0 == item.id())
            .then_some((l.last.1, l.first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_pair_helpers_match_the_str_methods() {
        for text in [
            "", ":", "::", "a::b", "a:::b", "a::::b", "::a", "a::", "x->y", "a-->b", "-", "é::ü",
        ] {
            assert_eq!(
                after_last(text, b"::"),
                text.rsplit("::").next().unwrap_or(text),
                "{text}"
            );
            assert_eq!(has(text, b"->"), text.contains("->"), "{text}");
            assert_eq!(has(text, b"::"), text.contains("::"), "{text}");
        }
    }
}
