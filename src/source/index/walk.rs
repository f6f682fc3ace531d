//! The one walk of the syntax tree that fills a [`FileIndex`]: functions, calls,
//! assignments, declarations with their initializers, struct definitions.

use std::num::NonZeroU16 as FieldId;

use tree_sitter::Node;

use super::{
    Assignment, Call, Declaration, FileIndex, Function, Init, InitItem, Param, Storage, StructDef,
};
use crate::source::{node_kind, Language, SourceFile};
use std::sync::OnceLock;

pub(super) struct Walker<'a, 'i> {
    pub(super) file: &'a SourceFile,
    pub(super) idx: &'i mut FileIndex,
    pub(super) g: &'static Grammar,
}

/// See [`Walker::init`].
const MAX_INIT_DEPTH: usize = 64;
/// Items of one initializer list the index keeps (see [`Walker::init`]).
const MAX_INIT_ITEMS: usize = 4096;

/// The node kinds the walk acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WalkKind {
    Function,
    Call,
    Assignment,
    Declaration,
    Struct,
    Return,
    Other,
}

impl WalkKind {
    fn of_name(name: &str) -> WalkKind {
        match name {
            "function_definition" => WalkKind::Function,
            "call_expression" => WalkKind::Call,
            "assignment_expression" => WalkKind::Assignment,
            "declaration" => WalkKind::Declaration,
            "struct_specifier" | "class_specifier" => WalkKind::Struct,
            "return_statement" => WalkKind::Return,
            _ => WalkKind::Other,
        }
    }
}

/// What the walk knows of a grammar, built once per grammar: the walk's kind of
/// every node kind id (several ids can share a name, so the table is filled by
/// name from every id), and the ids of the fields it reads.
/// `child_by_field_name` looks the name up among the grammar's field names
/// (`strncmp`) on every call; the walk asks for fields of most nodes it keeps.
pub(super) struct Grammar {
    lang: Language,
    kinds: Vec<WalkKind>,
    declarator: FieldId,
    parameters: u16,
    body: u16,
    type_: u16,
    function: u16,
    arguments: u16,
    left: u16,
    right: u16,
    operator: u16,
    value: u16,
    designator: u16,
    name: u16,
    field: u16,
}

impl Grammar {
    pub(super) fn of(lang: Language) -> &'static Grammar {
        static C: OnceLock<Grammar> = OnceLock::new();
        static CPP: OnceLock<Grammar> = OnceLock::new();
        let build = |lang: Language, grammar: tree_sitter::Language| {
            let id = |name: &str| grammar.field_id_for_name(name).map_or(0, u16::from);
            Grammar {
                lang,
                kinds: (0..grammar.node_kind_count())
                    .map(|id| {
                        u16::try_from(id)
                            .ok()
                            .and_then(|id| grammar.node_kind_for_id(id))
                            .map_or(WalkKind::Other, WalkKind::of_name)
                    })
                    .collect(),
                // Both grammars have the field; a grammar without it could not be walked.
                declarator: grammar
                    .field_id_for_name("declarator")
                    .expect("the C and C++ grammars have a `declarator` field"),
                parameters: id("parameters"),
                body: id("body"),
                type_: id("type"),
                function: id("function"),
                arguments: id("arguments"),
                left: id("left"),
                right: id("right"),
                operator: id("operator"),
                value: id("value"),
                designator: id("designator"),
                name: id("name"),
                field: id("field"),
            }
        };
        match lang {
            Language::C => C.get_or_init(|| build(lang, tree_sitter_c::LANGUAGE.into())),
            Language::Cpp => CPP.get_or_init(|| build(lang, tree_sitter_cpp::LANGUAGE.into())),
        }
    }

    /// `node.kind()`, from [`node_kind`]'s table.
    fn kind_name(&self, node: Node) -> &'static str {
        node_kind(self.lang, node)
    }

    fn kind(&self, node: Node) -> WalkKind {
        self.kinds
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(WalkKind::Other)
    }

    /// `node.child_by_field_name("declarator")`.
    fn declarator<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        node.child_by_field_id(self.declarator.get())
    }
}

/// Called with every node of the walk, in pre-order, with its ancestors (the root
/// first) and the index as filled so far: every function that starts at or before
/// the node is in it (see [`FileIndex::build_visiting`]).
pub type Visitor<'v, 't> = &'v mut dyn FnMut(Node<'t>, &[Node<'t>], &FileIndex);

impl<'a> Walker<'a, '_> {
    fn text(&self, n: Node) -> String {
        self.file.node_text(n).to_owned()
    }

    pub(super) fn walk(&mut self, root: Node<'a>, mut visit: Option<Visitor<'_, 'a>>) {
        // One pre-order pass of a single cursor: no stack of nodes, no per-node
        // `children()` reset, and node kinds compared as grammar ids (see
        // `WalkKind::table`) rather than strings. Iterative, because real C has
        // initializer lists deep enough to overflow recursion.
        let mut cursor = root.walk();
        // The function each open depth belongs to: `scopes` holds (depth of the
        // function_definition node, function index) for the definitions we are inside.
        let mut scopes: Vec<(usize, usize)> = Vec::new();
        let mut depth = 0usize;
        // The cursor's ancestors, kept only for a visitor (tree-sitter's `parent()`
        // is not O(1)).
        let mut ancestors: Vec<Node<'a>> = Vec::new();
        loop {
            let node = cursor.node();
            let func = scopes.last().map(|&(_, f)| f);
            match self.g.kind(node) {
                WalkKind::Function => {
                    if let Some(f) = self.function(node) {
                        self.idx.functions.push(f);
                        scopes.push((depth, self.idx.functions.len() - 1));
                    }
                }
                WalkKind::Call => self.call(node, func),
                WalkKind::Assignment => self.assignment(node, func),
                WalkKind::Declaration => self.declaration(node, func),
                WalkKind::Struct => self.struct_def(node),
                WalkKind::Return => {
                    if let (Some(f), Some(e)) = (func, node.named_child(0)) {
                        self.idx.functions[f]
                            .returns
                            .push((e.start_byte(), e.end_byte()));
                    }
                }
                WalkKind::Other => {}
            }
            if let Some(visit) = visit.as_mut() {
                visit(node, &ancestors, self.idx);
            }
            if cursor.goto_first_child() {
                depth += 1;
                if visit.is_some() {
                    ancestors.push(node);
                }
                continue;
            }
            // Leave `node` (and every finished ancestor): a function's scope ends
            // when the cursor moves past its definition node.
            loop {
                if scopes.last().is_some_and(|&(d, _)| d == depth) {
                    scopes.pop();
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if depth == 0 || !cursor.goto_parent() {
                    self.idx.calls.sort_by_key(|c| c.range.0);
                    self.idx.assignments.sort_by_key(|a| a.range.0);
                    return;
                }
                depth -= 1;
                ancestors.pop();
            }
        }
    }

    fn assignment(&mut self, node: Node, func: Option<usize>) {
        let (Some(l), Some(r)) = (
            node.child_by_field_id(self.g.left),
            node.child_by_field_id(self.g.right),
        ) else {
            return;
        };
        let operator = node
            .child_by_field_id(self.g.operator)
            .map(|o| self.text(o))
            .unwrap_or_else(|| "=".to_owned());
        self.idx.assignments.push(Assignment {
            lhs: (l.start_byte(), l.end_byte()),
            lhs_text: self.text(l),
            rhs: (r.start_byte(), r.end_byte()),
            operator,
            range: (node.start_byte(), node.end_byte()),
            function: func,
        });
    }

    fn function(&mut self, node: Node) -> Option<Function> {
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
        let body = node.child_by_field_id(self.g.body)?;
        let mut params = Vec::new();
        if let Some(plist) = fdecl.child_by_field_id(self.g.parameters) {
            let mut c = plist.walk();
            for p in plist.named_children(&mut c) {
                if self.g.kind_name(p) != "parameter_declaration"
                    && self.g.kind_name(p) != "optional_parameter_declaration"
                {
                    continue;
                }
                let ty = p
                    .child_by_field_id(self.g.type_)
                    .map(|t| self.text(t))
                    .unwrap_or_default();
                let (name, ptr) = match self.g.declarator(p) {
                    Some(d) => {
                        let (n, _) = declarator_name(self.g, d);
                        let full = self.text(d);
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
                            n.map(|n| self.text(n)).unwrap_or_default(),
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
        let ty = node.child_by_field_id(self.g.type_)?;
        if self.g.kind_name(decl) != "parenthesized_declarator"
            || self.g.kind_name(ty) != "type_identifier"
        {
            return None;
        }
        let arg = decl
            .named_child(0)
            .filter(|n| self.g.kind_name(*n) == "identifier")?;
        let body = node.child_by_field_id(self.g.body)?;
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

    fn call(&mut self, node: Node, func: Option<usize>) {
        let Some(f) = node.child_by_field_id(self.g.function) else {
            return;
        };
        let callee = self.text(f);
        let name_node = last_identifier_node(self.g, f).unwrap_or(f);
        let mut args = Vec::new();
        if let Some(a) = node.child_by_field_id(self.g.arguments) {
            let mut c = a.walk();
            for arg in a.named_children(&mut c) {
                if self.g.kind_name(arg) != "comment" {
                    args.push((arg.start_byte(), arg.end_byte()));
                }
            }
        }
        self.idx.calls.push(Call {
            name: self.text(name_node),
            callee,
            range: (node.start_byte(), node.end_byte()),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            args,
            function: func,
        });
    }

    fn declaration(&mut self, node: Node, func: Option<usize>) {
        let Some(ty) = node.child_by_field_id(self.g.type_) else {
            return;
        };
        let mut storage = Storage::default();
        let mut first_declarator = None;
        let mut c = node.walk();
        for child in node.children(&mut c) {
            // (An earlier test here asked `field_name_for_child` with a node id for
            // an index: never true, and a scan of the children per child.)
            match self.g.kind_name(child) {
                "storage_class_specifier" => match self.file.node_text(child) {
                    "static" => storage.is_static = true,
                    "extern" => storage.is_extern = true,
                    "_Thread_local" | "thread_local" | "__thread" => storage.thread_local = true,
                    _ => {}
                },
                "type_qualifier" => match self.file.node_text(child) {
                    "const" | "constexpr" => storage.is_const = true,
                    "_Atomic" => storage.atomic = true,
                    _ => {}
                },
                "ms_declspec_modifier" if self.file.node_text(child).contains("thread") => {
                    storage.thread_local = true
                }
                "init_declarator"
                | "identifier"
                | "pointer_declarator"
                | "array_declarator"
                | "reference_declarator"
                | "function_declarator"
                | "parenthesized_declarator" => {
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
        let mut c = node.walk();
        for d in node.children_by_field_id(self.g.declarator, &mut c) {
            let (decl, init) = if self.g.kind_name(d) == "init_declarator" {
                (self.g.declarator(d), d.child_by_field_id(self.g.value))
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
    }

    /// The initializer `node`. Lists nested deeper than [`MAX_INIT_DEPTH`] (no
    /// table of methods, slots or members nests that far) are kept as one
    /// expression, so generated `{{{...}}}` thousands deep cannot exhaust the stack.
    fn init(&self, node: Node, depth: usize) -> Init {
        let range = (node.start_byte(), node.end_byte());
        if self.g.kind_name(node) != "initializer_list" || depth >= MAX_INIT_DEPTH {
            return Init::Expr {
                range,
                text: self.text(node),
            };
        }
        let mut items = Vec::new();
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if self.g.kind_name(child) == "comment" {
                continue;
            }
            // Tables the rules read (methods, slots, members, type objects) are
            // far shorter; data arrays of millions of numbers are not indexed.
            if items.len() >= MAX_INIT_ITEMS {
                break;
            }
            let item_range = (child.start_byte(), child.end_byte());
            if self.g.kind_name(child) == "initializer_pair" {
                let designator = child
                    .child_by_field_id(self.g.designator)
                    .map(|d| self.text(d).trim_start_matches('.').trim().to_owned());
                let Some(v) = child.child_by_field_id(self.g.value) else {
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
        let Some(body) = node.child_by_field_id(self.g.body) else {
            return;
        };
        let mut names = Vec::new();
        if let Some(n) = node.child_by_field_id(self.g.name) {
            names.push(self.text(n));
        }
        if let Some(p) = node
            .parent()
            .filter(|p| self.g.kind_name(*p) == "type_definition")
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
            if self.g.kind_name(f) != "field_declaration" {
                continue;
            }
            let ty = f
                .child_by_field_id(self.g.type_)
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
        match g.kind_name(d) {
            "identifier"
            | "field_identifier"
            | "type_identifier"
            | "qualified_identifier"
            | "destructor_name"
            | "operator_name" => return (Some(d), shape),
            "pointer_declarator" | "reference_declarator" => shape.pointer = true,
            "array_declarator" => shape.array = true,
            _ => {}
        }
        let next = g.declarator(d).or_else(|| {
            let mut c = d.walk();
            let found = d.named_children(&mut c).find(|n| {
                g.kind_name(*n).ends_with("declarator") || g.kind_name(*n) == "identifier"
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
        if g.kind_name(d) == "function_declarator" {
            return Some(d);
        }
        // C++ `T &f()`: tree-sitter-cpp's reference declarator has no `declarator` field.
        d = match g.declarator(d) {
            Some(n) => n,
            None if g.kind_name(d) == "reference_declarator" => d.named_child(0)?,
            None => return None,
        };
    }
}

/// `int (*fp)(void)` declares a variable (a function pointer), not a prototype.
fn has_pointer_to_fn(g: &Grammar, d: Node) -> bool {
    let mut n = Some(d);
    while let Some(x) = n {
        if g.kind_name(x) == "parenthesized_declarator" {
            return true;
        }
        if g.kind_name(x) == "function_declarator" {
            n = g.declarator(x);
            continue;
        }
        n = g.declarator(x);
    }
    false
}

fn last_identifier_node<'t>(g: &Grammar, n: Node<'t>) -> Option<Node<'t>> {
    match g.kind_name(n) {
        "identifier" | "field_identifier" => Some(n),
        "field_expression" => n.child_by_field_id(g.field),
        "qualified_identifier" => n
            .child_by_field_id(g.name)
            .and_then(|n| last_identifier_node(g, n)),
        "template_function" => n
            .child_by_field_id(g.name)
            .and_then(|n| last_identifier_node(g, n)),
        "parenthesized_expression" => n.named_child(0).and_then(|n| last_identifier_node(g, n)),
        _ => None,
    }
}
