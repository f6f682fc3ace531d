//! What the walks of the tree know of a grammar, built once per grammar: the node
//! kinds they compare, by id, and the ids of the fields they read.
//!
//! `node.kind()` looks the name up and a string comparison follows; and
//! `child_by_field_name` looks the field's name up among the grammar's field names
//! (`strncmp`) on every call. The index's walk and the entry-point facts ask both of
//! most nodes of a file, which made them a large part of a run after the parse.

use std::num::NonZeroU16 as FieldId;
use std::sync::OnceLock;

use tree_sitter::Node;

use crate::source::Language;

/// Declares [`Kind`] with the node kind name of each variant: the kinds the walks
/// compare nodes to. Every other kind is [`Kind::Other`] (or
/// [`Kind::OtherDeclarator`]). Every kind but `Other` is a named kind in both
/// grammars (a test checks it), so a node of one is named.
macro_rules! kinds {
    ($($variant:ident = $name:literal,)*) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub(crate) enum Kind {
            $($variant,)*
            /// Any other kind whose name ends in `declarator`
            /// (`abstract_pointer_declarator`, `attributed_declarator`, ...).
            OtherDeclarator,
            Other,
        }

        impl Kind {
            fn of_name(name: &str) -> Kind {
                match name {
                    $($name => Kind::$variant,)*
                    _ if name.ends_with("declarator") => Kind::OtherDeclarator,
                    _ => Kind::Other,
                }
            }
        }
    };
}

kinds! {
    ArrayDeclarator = "array_declarator",
    AssignmentExpression = "assignment_expression",
    CallExpression = "call_expression",
    CastExpression = "cast_expression",
    ClassSpecifier = "class_specifier",
    Comment = "comment",
    CompoundStatement = "compound_statement",
    ConditionalExpression = "conditional_expression",
    Declaration = "declaration",
    DeclarationList = "declaration_list",
    DestructorName = "destructor_name",
    DoStatement = "do_statement",
    FieldDeclaration = "field_declaration",
    FieldExpression = "field_expression",
    FieldIdentifier = "field_identifier",
    ForStatement = "for_statement",
    FunctionDeclarator = "function_declarator",
    FunctionDefinition = "function_definition",
    Identifier = "identifier",
    IfStatement = "if_statement",
    InitDeclarator = "init_declarator",
    InitializerList = "initializer_list",
    InitializerPair = "initializer_pair",
    LinkageSpecification = "linkage_specification",
    MsDeclspecModifier = "ms_declspec_modifier",
    NamespaceDefinition = "namespace_definition",
    OperatorName = "operator_name",
    OptionalParameterDeclaration = "optional_parameter_declaration",
    ParameterDeclaration = "parameter_declaration",
    ParenthesizedDeclarator = "parenthesized_declarator",
    ParenthesizedExpression = "parenthesized_expression",
    PointerDeclarator = "pointer_declarator",
    PointerExpression = "pointer_expression",
    QualifiedIdentifier = "qualified_identifier",
    ReferenceDeclarator = "reference_declarator",
    ReturnStatement = "return_statement",
    StorageClassSpecifier = "storage_class_specifier",
    StructSpecifier = "struct_specifier",
    SubscriptExpression = "subscript_expression",
    TemplateFunction = "template_function",
    This = "this",
    TypeDefinition = "type_definition",
    TypeIdentifier = "type_identifier",
    TypeQualifier = "type_qualifier",
    UpdateExpression = "update_expression",
    WhileStatement = "while_statement",
}

/// Declares [`Fields`]: the id of each field the walks read (0, which no child
/// has, when the grammar lacks it).
macro_rules! fields {
    ($($field:ident = $name:literal,)*) => {
        pub(crate) struct Fields {
            $(pub(crate) $field: u16,)*
        }

        impl Fields {
            fn of(grammar: &tree_sitter::Language) -> Fields {
                Fields {
                    $($field: grammar.field_id_for_name($name).map_or(0, u16::from),)*
                }
            }
        }
    };
}

fields! {
    argument = "argument",
    arguments = "arguments",
    body = "body",
    condition = "condition",
    consequence = "consequence",
    designator = "designator",
    field = "field",
    function = "function",
    left = "left",
    name = "name",
    operator = "operator",
    parameters = "parameters",
    right = "right",
    type_ = "type",
    value = "value",
}

/// One per grammar ([`Grammar::of`]).
pub(crate) struct Grammar {
    /// By kind id. Several ids can share a name (a token and a rule, aliases), so
    /// the table is filled by name from every id.
    kinds: Vec<Kind>,
    /// Both grammars have the field; `children_by_field_id` wants it non-zero.
    pub(crate) declarator: FieldId,
    pub(crate) f: Fields,
}

impl Kind {
    /// The kind's name ends in `declarator` (`init_declarator`, `pointer_declarator`, ...).
    pub(crate) fn is_declarator(self) -> bool {
        matches!(
            self,
            Kind::ArrayDeclarator
                | Kind::FunctionDeclarator
                | Kind::InitDeclarator
                | Kind::ParenthesizedDeclarator
                | Kind::PointerDeclarator
                | Kind::ReferenceDeclarator
                | Kind::OtherDeclarator
        )
    }
}

impl Grammar {
    pub(crate) fn of(lang: Language) -> &'static Grammar {
        static C: OnceLock<Grammar> = OnceLock::new();
        static CPP: OnceLock<Grammar> = OnceLock::new();
        let build = |grammar: tree_sitter::Language| Grammar {
            kinds: (0..grammar.node_kind_count())
                .map(|id| {
                    u16::try_from(id)
                        .ok()
                        .and_then(|id| grammar.node_kind_for_id(id))
                        .map_or(Kind::Other, Kind::of_name)
                })
                .collect(),
            // A grammar without it could not be walked.
            declarator: grammar
                .field_id_for_name("declarator")
                .expect("the C and C++ grammars have a `declarator` field"),
            f: Fields::of(&grammar),
        };
        match lang {
            Language::C => C.get_or_init(|| build(tree_sitter_c::LANGUAGE.into())),
            Language::Cpp => CPP.get_or_init(|| build(tree_sitter_cpp::LANGUAGE.into())),
        }
    }

    /// The node's kind, as its name would be compared. Ids past the table
    /// (`ERROR` is `u16::MAX`) are kinds the walks do not compare.
    pub(crate) fn kind(&self, node: Node) -> Kind {
        self.kinds
            .get(usize::from(node.kind_id()))
            .copied()
            .unwrap_or(Kind::Other)
    }

    /// `node.child_by_field_name("declarator")`.
    pub(crate) fn declarator<'t>(&self, node: Node<'t>) -> Option<Node<'t>> {
        node.child_by_field_id(self.declarator.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use std::path::PathBuf;

    /// The table answers what tree-sitter answers, for every node of a C and a
    /// C++ file (aliases, tokens named like rules, `ERROR` and `MISSING` nodes).
    #[test]
    fn table_matches_tree_sitter_for_every_node() {
        let c = "#include <Python.h>\nstatic int x[3] = {1, 2, 3};\nstruct S { int a; };\ntypedef struct { int b; } T;\nstatic PyObject *f(PyObject *self, PyObject *args) {\n    int (*fp)(void) = 0; const char *s = \"a\\n\";\n    if (!x[0]) { x[0] = 1; } else x[1] += 2; while (s) s++; do {} while (0); for (;;) break;\n    self->ob_refcnt = args ? 1 : 2; Py_SETREF(((T *)self)->b, 0);\n    return PyList_GetItem(args, 0) ? self : NULL; @@ }\nstatic PyModuleDef_Slot slots[] = {{Py_mod_exec, f}, {0, NULL}};\nint g(int a { return a; }\n";
        let cpp = "namespace n { template <typename T> class C { public: T v; ~C() {} C &operator=(const C &) = default; }; }\nextern \"C\" { int k(int x = 1); }\nauto g = [](int a) { return a + 1; };\nint h() { std::vector<int> v{1,2}; std::lock_guard<std::mutex> l(m); for (auto &e : v) e++; this->x = std::move<int>(v); return v.size(); }\n";
        for (lang, text) in [(Language::C, c), (Language::Cpp, cpp)] {
            let g = Grammar::of(lang);
            let file = SourceFile::from_text(PathBuf::from("t"), lang, text.to_owned(), false);
            let mut stack = vec![file.tree.root_node()];
            let mut kinds = std::collections::HashSet::new();
            while let Some(n) = stack.pop() {
                assert_eq!(g.kind(n), Kind::of_name(n.kind()), "{}", n.kind());
                assert_eq!(g.kind(n).is_declarator(), n.kind().ends_with("declarator"));
                kinds.insert(g.kind(n));
                let mut cursor = n.walk();
                stack.extend(n.children(&mut cursor));
            }
            assert!(kinds.len() > 25, "{kinds:?}");
        }
    }

    /// A node of any kind but `Other` is named: the facts' walk, which looks
    /// at named nodes only, need not ask.
    #[test]
    fn compared_kinds_are_named() {
        let grammars: [tree_sitter::Language; 2] = [
            tree_sitter_c::LANGUAGE.into(),
            tree_sitter_cpp::LANGUAGE.into(),
        ];
        for grammar in grammars {
            for id in 0..u16::try_from(grammar.node_kind_count()).unwrap() {
                let name = grammar.node_kind_for_id(id).unwrap_or("");
                // (Hidden kinds, such as the supertype `_declarator`, are not
                // nodes of a tree.)
                if Kind::of_name(name) != Kind::Other && grammar.node_kind_is_visible(id) {
                    assert!(grammar.node_kind_is_named(id), "{name}");
                }
            }
        }
    }
}
