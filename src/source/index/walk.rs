//! The one walk of the syntax tree that fills a [`FileIndex`]: functions, calls,
//! assignments, declarations with their initializers, struct definitions.

use tree_sitter::Node;

use super::{
    Assignment, Call, Declaration, FileIndex, Function, Init, InitItem, Param, Storage, StructDef,
};
use crate::source::SourceFile;

pub(super) struct Walker<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) idx: &'a mut FileIndex,
}

/// See [`Walker::init`].
const MAX_INIT_DEPTH: usize = 64;
/// Items of one initializer list the index keeps (see [`Walker::init`]).
const MAX_INIT_ITEMS: usize = 4096;

impl Walker<'_> {
    fn text(&self, n: Node) -> String {
        self.file.node_text(n).to_owned()
    }

    pub(super) fn walk(&mut self, root: Node) {
        // Iterative: real C has initializer lists deep enough to overflow recursion.
        let mut stack: Vec<(Node, Option<usize>)> = vec![(root, None)];
        let mut cursor = root.walk();
        let mut children: Vec<Node> = Vec::new();
        let lang = self.file.language;
        while let Some((node, mut func)) = stack.pop() {
            match super::super::node_kind(lang, node) {
                "function_definition" => {
                    if let Some(f) = self.function(node) {
                        self.idx.functions.push(f);
                        func = Some(self.idx.functions.len() - 1);
                    }
                }
                "call_expression" => self.call(node, func),
                "assignment_expression" => self.assignment(node, func),
                "declaration" => self.declaration(node, func),
                "struct_specifier" | "class_specifier" => self.struct_def(node),
                "return_statement" => {
                    if let (Some(f), Some(e)) = (func, node.named_child(0)) {
                        self.idx.functions[f]
                            .returns
                            .push((e.start_byte(), e.end_byte()));
                    }
                }
                _ => {}
            }
            children.extend(node.children(&mut cursor));
            stack.extend(children.drain(..).rev().map(|c| (c, func)));
        }
        self.idx.calls.sort_by_key(|c| c.range.0);
        self.idx.assignments.sort_by_key(|a| a.range.0);
    }

    fn assignment(&mut self, node: Node, func: Option<usize>) {
        let (Some(l), Some(r)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        let operator = node
            .child_by_field_name("operator")
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
        let decl = node.child_by_field_name("declarator")?;
        let Some(fdecl) = find_function_declarator(decl) else {
            return self.macro_headed_function(node, decl);
        };
        let name_node = fdecl.child_by_field_name("declarator")?;
        // A macro-confused parse can make `if (x) {...}` look like a definition of `if`.
        if matches!(
            self.file.node_text(name_node),
            "if" | "while" | "for" | "switch" | "return" | "sizeof" | "do" | "else"
        ) {
            return None;
        }
        let body = node.child_by_field_name("body")?;
        let mut params = Vec::new();
        if let Some(plist) = fdecl.child_by_field_name("parameters") {
            let mut c = plist.walk();
            for p in plist.named_children(&mut c) {
                if p.kind() != "parameter_declaration"
                    && p.kind() != "optional_parameter_declaration"
                {
                    continue;
                }
                let ty = p
                    .child_by_field_name("type")
                    .map(|t| self.text(t))
                    .unwrap_or_default();
                let (name, ptr) = match p.child_by_field_name("declarator") {
                    Some(d) => {
                        let (n, _) = declarator_name(d);
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
        let ty = node.child_by_field_name("type")?;
        if decl.kind() != "parenthesized_declarator" || ty.kind() != "type_identifier" {
            return None;
        }
        let arg = decl.named_child(0).filter(|n| n.kind() == "identifier")?;
        let body = node.child_by_field_name("body")?;
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
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let callee = self.text(f);
        let name_node = last_identifier_node(f).unwrap_or(f);
        let mut args = Vec::new();
        if let Some(a) = node.child_by_field_name("arguments") {
            let mut c = a.walk();
            for arg in a.named_children(&mut c) {
                if arg.kind() != "comment" {
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
        let Some(ty) = node.child_by_field_name("type") else {
            return;
        };
        let mut storage = Storage::default();
        let mut first_declarator = None;
        let mut c = node.walk();
        for child in node.children(&mut c) {
            if node.field_name_for_child(child.id() as u32).is_some() && child.id() == ty.id() {
                continue;
            }
            match child.kind() {
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
        for d in node.children_by_field_name("declarator", &mut c) {
            let (decl, init) = if d.kind() == "init_declarator" {
                (
                    d.child_by_field_name("declarator"),
                    d.child_by_field_name("value"),
                )
            } else {
                (Some(d), None)
            };
            let Some(decl) = decl else { continue };
            if find_function_declarator(decl)
                .is_some_and(|f| f.id() == decl.id() || !has_pointer_to_fn(decl))
            {
                continue; // a prototype, not a variable
            }
            let (Some(name), shape) = declarator_name(decl) else {
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
        if node.kind() != "initializer_list" || depth >= MAX_INIT_DEPTH {
            return Init::Expr {
                range,
                text: self.text(node),
            };
        }
        let mut items = Vec::new();
        let mut c = node.walk();
        for child in node.named_children(&mut c) {
            if child.kind() == "comment" {
                continue;
            }
            // Tables the rules read (methods, slots, members, type objects) are
            // far shorter; data arrays of millions of numbers are not indexed.
            if items.len() >= MAX_INIT_ITEMS {
                break;
            }
            let item_range = (child.start_byte(), child.end_byte());
            if child.kind() == "initializer_pair" {
                let designator = child
                    .child_by_field_name("designator")
                    .map(|d| self.text(d).trim_start_matches('.').trim().to_owned());
                let Some(v) = child.child_by_field_name("value") else {
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
        let Some(body) = node.child_by_field_name("body") else {
            return;
        };
        let mut names = Vec::new();
        if let Some(n) = node.child_by_field_name("name") {
            names.push(self.text(n));
        }
        if let Some(p) = node.parent().filter(|p| p.kind() == "type_definition") {
            let mut c = p.walk();
            for d in p.children_by_field_name("declarator", &mut c) {
                if let (Some(n), _) = declarator_name(d) {
                    names.push(self.text(n));
                }
            }
        }
        let mut fields = Vec::new();
        let mut c = body.walk();
        for f in body.named_children(&mut c) {
            if f.kind() != "field_declaration" {
                continue;
            }
            let ty = f
                .child_by_field_name("type")
                .map(|t| self.text(t))
                .unwrap_or_default();
            let mut c2 = f.walk();
            for d in f.children_by_field_name("declarator", &mut c2) {
                if let (Some(n), _) = declarator_name(d) {
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
fn declarator_name(mut d: Node) -> (Option<Node>, Shape) {
    let mut shape = Shape::default();
    loop {
        match d.kind() {
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
        let next = d.child_by_field_name("declarator").or_else(|| {
            let mut c = d.walk();
            let found = d
                .named_children(&mut c)
                .find(|n| n.kind().ends_with("declarator") || n.kind() == "identifier");
            found
        });
        match next {
            Some(n) => d = n,
            None => return (None, shape),
        }
    }
}

fn find_function_declarator(mut d: Node) -> Option<Node> {
    loop {
        if d.kind() == "function_declarator" {
            return Some(d);
        }
        // C++ `T &f()`: tree-sitter-cpp's reference declarator has no `declarator` field.
        d = match d.child_by_field_name("declarator") {
            Some(n) => n,
            None if d.kind() == "reference_declarator" => d.named_child(0)?,
            None => return None,
        };
    }
}

/// `int (*fp)(void)` declares a variable (a function pointer), not a prototype.
fn has_pointer_to_fn(d: Node) -> bool {
    let mut n = Some(d);
    while let Some(x) = n {
        if x.kind() == "parenthesized_declarator" {
            return true;
        }
        if x.kind() == "function_declarator" {
            n = x.child_by_field_name("declarator");
            continue;
        }
        n = x.child_by_field_name("declarator");
    }
    false
}

fn last_identifier_node(n: Node) -> Option<Node> {
    match n.kind() {
        "identifier" | "field_identifier" => Some(n),
        "field_expression" => n.child_by_field_name("field"),
        "qualified_identifier" => n.child_by_field_name("name").and_then(last_identifier_node),
        "template_function" => n.child_by_field_name("name").and_then(last_identifier_node),
        "parenthesized_expression" => n.named_child(0).and_then(last_identifier_node),
        _ => None,
    }
}
