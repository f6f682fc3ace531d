//! The one walk of the syntax tree that fills a [`FileIndex`]: functions, calls,
//! assignments, declarations with their initializers, struct definitions.

use tree_sitter::{Node, TreeCursor};

use super::grammar::{Grammar, Kind};
use super::{
    Assignment, Call, Declaration, FileIndex, Function, Init, InitItem, Param, Storage, StructDef,
};
use crate::source::SourceFile;

pub(super) struct Walker<'a, 'i> {
    file: &'a SourceFile,
    idx: &'i mut FileIndex,
    g: &'static Grammar,
    /// For the children of one node at a time (a cursor of their own per node
    /// costs an allocation).
    cursor: TreeCursor<'a>,
    /// The argument lists of the calls around the walk's node, innermost last:
    /// their items are collected as the walk passes them (see [`Walker::call`]).
    arg_lists: Vec<ArgList>,
    /// [`Walker::declaration`]'s declarators.
    declarators: Vec<Node<'a>>,
}

/// An argument list whose call the walk has indexed.
struct ArgList {
    /// The call node's id and depth (its number of ancestors).
    call_node: usize,
    depth: usize,
    /// The list node's id: a child of the call node in the walk.
    list: usize,
    /// The call, in [`FileIndex::calls`].
    call: usize,
}

/// See [`Walker::init`].
const MAX_INIT_DEPTH: usize = 64;
/// Braced lists shorter than this (bytes) are walked even when they hold only
/// literals (see [`is_literal_table`]): they are cheap, and `{0}` is a common
/// initializer that visitors count the items of.
const MIN_DATA_TABLE: usize = 256;

/// Is `text`, a braced list, made of literals only: numbers (signed), string and
/// character literals, nested lists, commas and comments? Anything else (a name,
/// a cast, an address, a designator, a directive) answers no. A scan of the bytes,
/// far cheaper than a walk of the list's nodes.
pub(super) fn is_literal_table(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b',' | b'{' | b'}' | b'-' | b'+' => i += 1,
            b'/' if text.get(i + 1) == Some(&b'*') => {
                let Some(end) = memchr::memmem::find(&text[i + 2..], b"*/") else {
                    return false;
                };
                i += 2 + end + 2;
            }
            b'/' if text.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &text[i..]).map_or(text.len(), |n| i + n);
            }
            b'"' | b'\'' => {
                // To the closing quote on the same line, over escapes.
                i += 1;
                loop {
                    match text.get(i) {
                        Some(b'\\') => i += 2,
                        Some(&q) if q == c => break,
                        Some(b'\n') | None => return false,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'0'..=b'9' => {
                // A number: digits, letters (hex, suffixes), `.`, a sign after an
                // exponent letter, and C++14/C23 digit separators (`1'000`).
                i += 1;
                while let Some(&d) = text.get(i) {
                    let exponent_sign = matches!(d, b'+' | b'-')
                        && matches!(text[i - 1], b'e' | b'E' | b'p' | b'P');
                    let separator =
                        d == b'\'' && text.get(i + 1).is_some_and(u8::is_ascii_alphanumeric);
                    if d.is_ascii_alphanumeric()
                        || d == b'.'
                        || d == b'_'
                        || exponent_sign
                        || separator
                    {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            b'.' if text.get(i + 1).is_some_and(u8::is_ascii_digit) => i += 1,
            _ => return false,
        }
    }
    true
}
/// Items of one initializer list the index keeps (see [`Walker::init`]).
const MAX_INIT_ITEMS: usize = 4096;

/// Sees every node of the index's walk, in pre-order, with its kind, the fields
/// the walk read of it, its ancestors and the index as filled so far: every
/// function that starts at or before the node is in it (see
/// [`FileIndex::build_visiting`]).
pub(crate) trait Visitor<'t> {
    fn visit(
        &mut self,
        node: Node<'t>,
        kind: Kind,
        looked: &Looked<'t>,
        ancestors: &Ancestors<'t>,
        index: &FileIndex,
    );
}

/// A [`Visitor`] of a walk in parallel parts (see `parts.rs`): each part gets
/// its own, and they are appended in order.
pub(crate) trait PartVisitor<'t>: Visitor<'t> + Send + Sized {
    /// An empty visitor for a part.
    fn part(&self) -> Self;
    /// Appends `next`, the visitor of the part that follows what this one has
    /// seen; `next`'s function indices count from `functions`.
    fn append(&mut self, next: Self, functions: usize);
}

/// No visitor: the index alone.
impl Visitor<'_> for () {
    fn visit(&mut self, _: Node, _: Kind, _: &Looked, _: &Ancestors, _: &FileIndex) {}
}

impl PartVisitor<'_> for () {
    fn part(&self) {}
    fn append(&mut self, _: (), _: usize) {}
}

/// The fields of a node that the walk looked up, so that its visitor need not
/// look again (`child_by_field_id` searches the node's children). Each is
/// looked up for the kinds named ([`Looked::up`] for a walk of another's), and
/// `None` for the others.
#[derive(Default)]
pub(crate) struct Looked<'t> {
    /// A call's `function`.
    pub(crate) function: Option<Node<'t>>,
    /// An assignment's `left` and `operator`.
    pub(crate) left: Option<Node<'t>>,
    pub(crate) operator: Option<Node<'t>>,
    /// A declaration's `type`.
    pub(crate) type_: Option<Node<'t>>,
}

/// The ancestors of a walk's node, the root first, and their kinds (a walk knows
/// them: tree-sitter's `parent()` is not O(1), and asking a node's kind again
/// is a call into the library).
#[derive(Default)]
pub(crate) struct Ancestors<'t> {
    nodes: Vec<Node<'t>>,
    kinds: Vec<Kind>,
}

impl<'t> Looked<'t> {
    /// What the index's walk looks up of a node of `kind`.
    pub(crate) fn up(g: &Grammar, node: Node<'t>, kind: Kind) -> Looked<'t> {
        let mut looked = Looked::default();
        match kind {
            Kind::CallExpression => looked.function = node.child_by_field_id(g.f.function),
            Kind::AssignmentExpression => {
                looked.left = node.child_by_field_id(g.f.left);
                if looked.left.is_some() {
                    looked.operator = node.child_by_field_id(g.f.operator);
                }
            }
            Kind::Declaration => looked.type_ = node.child_by_field_id(g.f.type_),
            _ => {}
        }
        looked
    }
}

impl<'t> Ancestors<'t> {
    pub(crate) fn push(&mut self, node: Node<'t>, kind: Kind) {
        self.nodes.push(node);
        self.kinds.push(kind);
    }

    pub(crate) fn pop(&mut self) {
        self.nodes.pop();
        self.kinds.pop();
    }

    pub(crate) fn nodes(&self) -> &[Node<'t>] {
        &self.nodes
    }

    pub(crate) fn kinds(&self) -> &[Kind] {
        &self.kinds
    }
}

impl<'a, 'i> Walker<'a, 'i> {
    pub(super) fn new(file: &'a SourceFile, idx: &'i mut FileIndex) -> Self {
        Walker {
            file,
            idx,
            g: Grammar::of(file.language),
            cursor: file.tree.root_node().walk(),
            arg_lists: Vec::new(),
            declarators: Vec::new(),
        }
    }

    fn text(&self, n: Node) -> String {
        self.file.node_text(n).to_owned()
    }

    /// Walks `root`'s subtree; `ancestors` are `root`'s, and are left as found.
    pub(super) fn walk(
        &mut self,
        root: Node<'a>,
        ancestors: &mut Ancestors<'a>,
        visit: &mut impl Visitor<'a>,
    ) {
        // One pre-order pass of a single cursor: no stack of nodes, no per-node
        // `children()` reset, and node kinds compared as grammar ids (see
        // `Grammar`) rather than strings. Iterative, because real C has
        // initializer lists deep enough to overflow recursion.
        let mut cursor = root.walk();
        // The function each open depth belongs to: `scopes` holds (depth of the
        // function_definition node, function index) for the definitions we are inside.
        let mut scopes: Vec<(usize, usize)> = Vec::new();
        let base = ancestors.nodes.len();
        let mut depth = base;
        loop {
            let node = cursor.node();
            let kind = self.step(node, depth, &mut scopes, ancestors, visit);
            // A table of literals (`{0x1F, -3, "abc", ...}`, generated lookup
            // tables) holds nothing the index or a visitor reads: no name, call or
            // statement. The walk does not go into it (such tables were a sixth of
            // the nodes of CPython's sources, three headers of Unicode data).
            let skip = kind == Kind::InitializerList
                && node.end_byte() - node.start_byte() >= MIN_DATA_TABLE
                && is_literal_table(self.file.node_text(node).as_bytes());
            if !skip && cursor.goto_first_child() {
                depth += 1;
                ancestors.push(node, kind);
                continue;
            }
            // Leave `node` (and every finished ancestor): a function's scope ends
            // when the cursor moves past its definition node.
            loop {
                if scopes.last().is_some_and(|&(d, _)| d == depth) {
                    scopes.pop();
                }
                // (The cursor does not go past `root`.)
                if cursor.goto_next_sibling() {
                    break;
                }
                if depth == base || !cursor.goto_parent() {
                    return;
                }
                depth -= 1;
                ancestors.pop();
            }
        }
    }

    /// Indexes `node` (at `depth`, with its `ancestors`) and shows it to `visit`:
    /// the walk of one node without its descendants. `scopes` are the function
    /// definitions around it (see [`Walker::walk`]).
    pub(super) fn step(
        &mut self,
        node: Node<'a>,
        depth: usize,
        scopes: &mut Vec<(usize, usize)>,
        ancestors: &Ancestors<'a>,
        visit: &mut impl Visitor<'a>,
    ) -> Kind {
        let kind = self.g.kind(node);
        let func = scopes.last().map(|&(_, f)| f);
        if !self.arg_lists.is_empty() {
            self.argument(node, kind, ancestors);
        }
        let mut looked = Looked::default();
        match kind {
            Kind::FunctionDefinition => {
                if let Some(f) = self.function(node) {
                    self.idx.functions.push(f);
                    scopes.push((depth, self.idx.functions.len() - 1));
                }
            }
            Kind::CallExpression => looked.function = self.call(node, func, depth),
            Kind::AssignmentExpression => {
                (looked.left, looked.operator) = self.assignment(node, func);
            }
            Kind::Declaration => looked.type_ = self.declaration(node, func),
            Kind::StructSpecifier | Kind::ClassSpecifier => self.struct_def(node),
            Kind::ReturnStatement => {
                if let (Some(f), Some(e)) = (func, node.named_child(0)) {
                    self.idx.functions[f]
                        .returns
                        .push((e.start_byte(), e.end_byte()));
                }
            }
            _ => {}
        }
        visit.visit(node, kind, &looked, ancestors, self.idx);
        kind
    }

    /// After the walk: calls and assignments in file order.
    pub(super) fn finish(self) {
        self.idx.calls.sort_by_key(|c| c.range.0);
        self.idx.assignments.sort_by_key(|a| a.range.0);
    }

    /// An assignment; its `left` and `operator` (`None` without a `left`).
    fn assignment<'t>(
        &mut self,
        node: Node<'t>,
        func: Option<usize>,
    ) -> (Option<Node<'t>>, Option<Node<'t>>) {
        let Some(l) = node.child_by_field_id(self.g.f.left) else {
            return (None, None);
        };
        let op = node.child_by_field_id(self.g.f.operator);
        let Some(r) = node.child_by_field_id(self.g.f.right) else {
            return (Some(l), op);
        };
        let operator = op.map(|o| self.text(o)).unwrap_or_else(|| "=".to_owned());
        self.idx.assignments.push(Assignment {
            lhs: (l.start_byte(), l.end_byte()),
            lhs_text: self.text(l),
            rhs: (r.start_byte(), r.end_byte()),
            operator,
            range: (node.start_byte(), node.end_byte()),
            function: func,
        });
        (Some(l), op)
    }

    fn function(&mut self, node: Node<'a>) -> Option<Function> {
        let decl = self.g.declarator(node)?;
        let Some(fdecl) = find_function_declarator(self.g, decl) else {
            return self.macro_headed_function(node, decl);
        };
        let name_node = self.g.declarator(fdecl)?;
        // A macro-confused parse can make `if (x) {...}` look like a definition of `if`.
        if matches!(
            self.file.node_text(name_node),
            "if" | "while" | "for" | "switch" | "return" | "sizeof" | "do" | "else"
        ) {
            return None;
        }
        let body = node.child_by_field_id(self.g.f.body)?;
        let mut params = Vec::new();
        if let Some(plist) = fdecl.child_by_field_id(self.g.f.parameters) {
            let (g, file) = (self.g, self.file);
            let text = |n: Node| file.node_text(n).to_owned();
            for p in plist.named_children(&mut self.cursor) {
                if !matches!(
                    g.kind(p),
                    Kind::ParameterDeclaration | Kind::OptionalParameterDeclaration
                ) {
                    continue;
                }
                let ty = p.child_by_field_id(g.f.type_).map(text).unwrap_or_default();
                let (name, ptr) = match g.declarator(p) {
                    Some(d) => {
                        let (n, _) = declarator_name(g, d);
                        let full = file.node_text(d);
                        let stars: String = full
                            .chars()
                            .take_while(|c| *c == '*' || c.is_whitespace())
                            .collect();
                        let stars = stars.replace(char::is_whitespace, "");
                        let inner = if full.contains("const") && stars.len() > 1 {
                            " *const *"
                        } else {
                            ""
                        };
                        (
                            n.map(text).unwrap_or_default(),
                            if inner.is_empty() {
                                stars
                            } else {
                                inner.trim().to_owned()
                            },
                        )
                    }
                    None => (String::new(), String::new()),
                };
                let ty = if ptr.is_empty() {
                    ty
                } else {
                    format!("{ty} {ptr}")
                };
                params.push(Param { name, ty });
            }
        }
        let specifiers = self.file.parse_text[node.start_byte()..decl.start_byte()]
            .trim()
            .to_owned();
        Some(Function {
            name: self.text(name_node),
            range: (node.start_byte(), node.end_byte()),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            body: (body.start_byte(), body.end_byte()),
            params,
            specifiers,
            returns: vec![],
            has_error: node.has_error(),
        })
    }

    /// `MODULE_INIT(name) { ... }`: tree-sitter reads the macro as the type and
    /// `(name)` as a parenthesised declarator. Indexed as a function named after the
    /// macro with one parameter, so a file-local macro that pastes `PyInit_##name`
    /// can be resolved (`macro_init_name` in `module.rs`).
    fn macro_headed_function(&mut self, node: Node, decl: Node) -> Option<Function> {
        let ty = node.child_by_field_id(self.g.f.type_)?;
        if self.g.kind(decl) != Kind::ParenthesizedDeclarator
            || self.g.kind(ty) != Kind::TypeIdentifier
        {
            return None;
        }
        let arg = decl
            .named_child(0)
            .filter(|n| self.g.kind(*n) == Kind::Identifier)?;
        let body = node.child_by_field_id(self.g.f.body)?;
        Some(Function {
            name: self.text(ty),
            range: (node.start_byte(), node.end_byte()),
            name_range: (ty.start_byte(), decl.end_byte()),
            body: (body.start_byte(), body.end_byte()),
            params: vec![Param {
                name: self.text(arg),
                ty: String::new(),
            }],
            specifiers: String::new(),
            returns: vec![],
            has_error: node.has_error(),
        })
    }

    /// A call at `depth`; its `function`. Its arguments (the named children of
    /// its argument list but comments) are collected as the walk passes them
    /// ([`Walker::argument`]): a walk of each list of its own cost more than the
    /// rest of the call.
    fn call<'t>(&mut self, node: Node<'t>, func: Option<usize>, depth: usize) -> Option<Node<'t>> {
        let f = node.child_by_field_id(self.g.f.function)?;
        let callee = self.text(f);
        let name_node = last_identifier_node(self.g, f).unwrap_or(f);
        if let Some(a) = node.child_by_field_id(self.g.f.arguments) {
            self.arg_lists.push(ArgList {
                call_node: node.id(),
                depth,
                list: a.id(),
                call: self.idx.calls.len(),
            });
        }
        self.idx.calls.push(Call {
            name: self.text(name_node),
            callee,
            range: (node.start_byte(), node.end_byte()),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            args: Vec::new(),
            function: func,
        });
        Some(f)
    }

    /// Any node while the walk is in an argument list: an argument if it is an
    /// item of the innermost list around it.
    fn argument(&mut self, node: Node, kind: Kind, ancestors: &Ancestors) {
        let anc = ancestors.nodes();
        // The walk has left the calls that are not among the node's ancestors (it
        // does not come back; calls nest).
        while let Some(l) = self.arg_lists.last() {
            if anc.get(l.depth).is_some_and(|a| a.id() == l.call_node) {
                break;
            }
            self.arg_lists.pop();
        }
        // An item of the innermost list: a field's node is a child of its node
        // in the walk (only hidden nodes, which a walk does not show, can lie
        // between them), so the list is the node's grandparent's child.
        if let Some(l) = self.arg_lists.last() {
            if anc.len() == l.depth + 2
                && anc[l.depth + 1].id() == l.list
                && kind != Kind::Comment
                && node.is_named()
            {
                self.idx.calls[l.call]
                    .args
                    .push((node.start_byte(), node.end_byte()));
            }
        }
    }

    /// A declaration; its `type`.
    fn declaration(&mut self, node: Node<'a>, func: Option<usize>) -> Option<Node<'a>> {
        let ty = node.child_by_field_id(self.g.f.type_)?;
        let mut storage = Storage::default();
        let mut first_declarator = None;
        // One pass over the children for the specifiers and the declarators (the
        // children with the `declarator` field).
        let mut declarators = std::mem::take(&mut self.declarators);
        declarators.clear();
        let c = &mut self.cursor;
        c.reset(node);
        let mut more = c.goto_first_child();
        while more {
            let child = c.node();
            if c.field_id() == Some(self.g.declarator) {
                declarators.push(child);
            }
            more = c.goto_next_sibling();
            match self.g.kind(child) {
                Kind::StorageClassSpecifier => match self.file.node_text(child) {
                    "static" => storage.is_static = true,
                    "extern" => storage.is_extern = true,
                    "_Thread_local" | "thread_local" | "__thread" => storage.thread_local = true,
                    _ => {}
                },
                Kind::TypeQualifier => match self.file.node_text(child) {
                    "const" | "constexpr" => storage.is_const = true,
                    "_Atomic" => storage.atomic = true,
                    _ => {}
                },
                Kind::MsDeclspecModifier if self.file.node_text(child).contains("thread") => {
                    storage.thread_local = true
                }
                Kind::InitDeclarator
                | Kind::Identifier
                | Kind::PointerDeclarator
                | Kind::ArrayDeclarator
                | Kind::ReferenceDeclarator
                | Kind::FunctionDeclarator
                | Kind::ParenthesizedDeclarator => {
                    first_declarator.get_or_insert(child.start_byte());
                }
                _ => {}
            }
        }
        let type_text = self.text(ty);
        if type_text.starts_with("std::atomic")
            || type_text.starts_with("atomic_")
            || type_text.starts_with("_Atomic")
        {
            storage.atomic = true;
        }
        let specifiers = self.file.parse_text
            [node.start_byte()..first_declarator.unwrap_or(ty.end_byte())]
            .trim()
            .to_owned();
        // `_Thread_local`, `thread_local`, `__thread`, and project macros such as
        // `NPY_TLS` or `Py_THREAD_LOCAL` that expand to one of them.
        let lower = specifiers.to_ascii_lowercase();
        if lower.contains("thread_local")
            || lower.contains("__thread")
            || specifiers
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|w| w.ends_with("_TLS") || w == "TLS")
        {
            storage.thread_local = true;
        }
        for &d in &declarators {
            let (decl, init) = if self.g.kind(d) == Kind::InitDeclarator {
                (self.g.declarator(d), d.child_by_field_id(self.g.f.value))
            } else {
                (Some(d), None)
            };
            let Some(decl) = decl else { continue };
            if find_function_declarator(self.g, decl)
                .is_some_and(|f| f.id() == decl.id() || !has_pointer_to_fn(self.g, decl))
            {
                continue; // a prototype, not a variable
            }
            let (Some(name), shape) = declarator_name(self.g, decl) else {
                continue;
            };
            self.idx.decls.push(Declaration {
                name: self.text(name),
                type_text: type_text.clone(),
                specifiers: specifiers.clone(),
                storage: storage.clone(),
                is_pointer: shape.pointer,
                is_array: shape.array,
                function: func,
                range: (node.start_byte(), node.end_byte()),
                name_range: (name.start_byte(), name.end_byte()),
                init: init.map(|i| self.init(i, 0)),
            });
        }
        self.declarators = declarators;
        Some(ty)
    }

    /// The initializer `node`. Lists nested deeper than [`MAX_INIT_DEPTH`] (no
    /// table of methods, slots or members nests that far) are kept as one
    /// expression, so generated `{{{...}}}` thousands deep cannot exhaust the stack.
    fn init(&self, node: Node, depth: usize) -> Init {
        let range = (node.start_byte(), node.end_byte());
        if self.g.kind(node) != Kind::InitializerList || depth >= MAX_INIT_DEPTH {
            return Init::Expr {
                range,
                text: self.text(node),
            };
        }
        let mut items = Vec::new();
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if self.g.kind(child) == Kind::Comment {
                continue;
            }
            // Tables the rules read (methods, slots, members, type objects) are
            // far shorter; data arrays of millions of numbers are not indexed.
            if items.len() >= MAX_INIT_ITEMS {
                break;
            }
            let item_range = (child.start_byte(), child.end_byte());
            if self.g.kind(child) == Kind::InitializerPair {
                let designator = child
                    .child_by_field_id(self.g.f.designator)
                    .map(|d| self.text(d).trim_start_matches('.').trim().to_owned());
                let Some(v) = child.child_by_field_id(self.g.f.value) else {
                    continue;
                };
                items.push(InitItem {
                    designator,
                    value: self.init(v, depth + 1),
                    range: item_range,
                });
            } else {
                items.push(InitItem {
                    designator: None,
                    value: self.init(child, depth + 1),
                    range: item_range,
                });
            }
        }
        Init::List { range, items }
    }

    fn struct_def(&mut self, node: Node) {
        let Some(body) = node.child_by_field_id(self.g.f.body) else {
            return;
        };
        let mut names = Vec::new();
        if let Some(n) = node.child_by_field_id(self.g.f.name) {
            names.push(self.text(n));
        }
        if let Some(p) = node
            .parent()
            .filter(|p| self.g.kind(*p) == Kind::TypeDefinition)
        {
            let mut c = p.walk();
            for d in p.children_by_field_id(self.g.declarator, &mut c) {
                if let (Some(n), _) = declarator_name(self.g, d) {
                    names.push(self.text(n));
                }
            }
        }
        let mut fields = Vec::new();
        let mut c = body.walk();
        for f in body.named_children(&mut c) {
            if self.g.kind(f) != Kind::FieldDeclaration {
                continue;
            }
            let ty = f
                .child_by_field_id(self.g.f.type_)
                .map(|t| self.text(t))
                .unwrap_or_default();
            let mut c2 = f.walk();
            for d in f.children_by_field_id(self.g.declarator, &mut c2) {
                if let (Some(n), _) = declarator_name(self.g, d) {
                    fields.push((self.text(n), ty.clone()));
                }
            }
        }
        self.idx.structs.push(StructDef {
            names,
            fields,
            range: (node.start_byte(), node.end_byte()),
        });
    }
}

#[derive(Default)]
struct Shape {
    pointer: bool,
    array: bool,
}

/// The identifier a declarator declares, and whether it is a pointer or array.
fn declarator_name<'t>(g: &Grammar, mut d: Node<'t>) -> (Option<Node<'t>>, Shape) {
    let mut shape = Shape::default();
    loop {
        match g.kind(d) {
            Kind::Identifier
            | Kind::FieldIdentifier
            | Kind::TypeIdentifier
            | Kind::QualifiedIdentifier
            | Kind::DestructorName
            | Kind::OperatorName => return (Some(d), shape),
            Kind::PointerDeclarator | Kind::ReferenceDeclarator => shape.pointer = true,
            Kind::ArrayDeclarator => shape.array = true,
            _ => {}
        }
        let next = g.declarator(d).or_else(|| {
            let mut c = d.walk();
            let found = d.named_children(&mut c).find(|n| {
                let k = g.kind(*n);
                k.is_declarator() || k == Kind::Identifier
            });
            found
        });
        match next {
            Some(n) => d = n,
            None => return (None, shape),
        }
    }
}

fn find_function_declarator<'t>(g: &Grammar, mut d: Node<'t>) -> Option<Node<'t>> {
    loop {
        if g.kind(d) == Kind::FunctionDeclarator {
            return Some(d);
        }
        // C++ `T &f()`: tree-sitter-cpp's reference declarator has no `declarator` field.
        d = match g.declarator(d) {
            Some(n) => n,
            None if g.kind(d) == Kind::ReferenceDeclarator => d.named_child(0)?,
            None => return None,
        };
    }
}

/// `int (*fp)(void)` declares a variable (a function pointer), not a prototype.
fn has_pointer_to_fn(g: &Grammar, d: Node) -> bool {
    let mut n = Some(d);
    while let Some(x) = n {
        if g.kind(x) == Kind::ParenthesizedDeclarator {
            return true;
        }
        if g.kind(x) == Kind::FunctionDeclarator {
            n = g.declarator(x);
            continue;
        }
        n = g.declarator(x);
    }
    false
}

fn last_identifier_node<'t>(g: &Grammar, n: Node<'t>) -> Option<Node<'t>> {
    match g.kind(n) {
        Kind::Identifier | Kind::FieldIdentifier => Some(n),
        Kind::FieldExpression => n.child_by_field_id(g.f.field),
        Kind::QualifiedIdentifier => n
            .child_by_field_id(g.f.name)
            .and_then(|n| last_identifier_node(g, n)),
        Kind::TemplateFunction => n
            .child_by_field_id(g.f.name)
            .and_then(|n| last_identifier_node(g, n)),
        Kind::ParenthesizedExpression => n.named_child(0).and_then(|n| last_identifier_node(g, n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::is_literal_table;

    #[test]
    fn literal_tables_are_told_from_lists_with_names() {
        for data in [
            "{0, 1, -2, +3}",
            "{0x1F, 0XffUL, 10u, 1.5e-3, .5, 0x1p+4, 1'000}",
            "{\"abc\", \"a\\\"b\", 'x', '\\'', \"\"}",
            "{{1, 2}, {3, 4}, /* c */ {5, 6}, // end\n}",
            "{\n  1,\n  2,\r\n}",
            "{}",
        ] {
            assert!(is_literal_table(data.as_bytes()), "{data:?}");
        }
        for named in [
            "{0, NULL}",
            "{\"name\", (PyCFunction)f, METH_O, NULL}",
            "{.x = 1}",
            "{[3] = 4}",
            "{sizeof(int), 1}",
            "{&PyType, 1}",
            "{1, _x}",
            "{-x}",
            "{L\"wide\"}",
            "{\"unterminated\n\"}",
            "{1 /* unterminated }",
            "{\n#if X\n1,\n#endif\n}",
        ] {
            assert!(!is_literal_table(named.as_bytes()), "{named:?}");
        }
    }
}
