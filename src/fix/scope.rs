//! Reading a function's syntax tree for fixes: which statements leave a block,
//! where a `goto` lands, and how to put a statement before another one without
//! changing which statement an unbraced `if` or loop controls.

use tree_sitter::Node;

use crate::diagnostic::Edit;
use crate::source::SourceFile;

use super::edits;

/// The smallest node spanning exactly `[start, end)` of `kind`, if any.
pub fn node_of_kind<'t>(
    file: &'t SourceFile,
    start: usize,
    end: usize,
    kind: &str,
) -> Option<Node<'t>> {
    let mut n = file
        .tree
        .root_node()
        .descendant_for_byte_range(start, end)?;
    loop {
        if n.kind() == kind && n.start_byte() == start && n.end_byte() == end {
            return Some(n);
        }
        if n.start_byte() < start || n.end_byte() > end {
            return None;
        }
        n = n.parent()?;
    }
}

/// The function definition around `node`.
pub fn enclosing_function(node: Node) -> Option<Node> {
    ancestors(node).find(|n| n.kind() == "function_definition")
}

/// `node`'s ancestors, nearest first (not `node` itself).
pub fn ancestors(node: Node) -> impl Iterator<Item = Node> {
    std::iter::successors(node.parent(), |n| n.parent())
}

/// Is `inner` `outer` or inside it?
pub fn within(inner: Node, outer: Node) -> bool {
    inner.start_byte() >= outer.start_byte()
        && inner.end_byte() <= outer.end_byte()
        && (inner.id() == outer.id() || ancestors(inner).any(|a| a.id() == outer.id()))
}

/// Every descendant of `node` (pre-order), `node` included.
///
/// One cursor for the whole walk: a cursor and a list of children per node made
/// fixes on long functions cost a tenth of the work after the parse.
pub fn descendants(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    let mut depth = 0usize;
    'walk: loop {
        out.push(cursor.node());
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            // Back at `node`: every descendant is out (its siblings are not ours).
            if depth == 0 {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            depth -= 1;
        }
    }
    out
}

/// Statements that leave the code around them: `return`, `goto`, `break`, `continue`.
pub fn is_jump(kind: &str) -> bool {
    matches!(
        kind,
        "return_statement" | "goto_statement" | "break_statement" | "continue_statement"
    )
}

/// `Py_RETURN_NONE;` and the other statement macros that return.
pub fn is_return_macro(file: &SourceFile, node: Node) -> bool {
    if node.kind() != "expression_statement" {
        return false;
    }
    let Some(e) = node.named_child(0) else {
        return false;
    };
    let name = match e.kind() {
        "identifier" => file.node_text(e),
        "call_expression" => e
            .child_by_field_name("function")
            .map(|f| file.node_text(f))
            .unwrap_or(""),
        _ => return false,
    };
    crate::capi::fixes::RETURN_MACROS.contains(&name)
}

/// A jump statement or a returning statement macro.
pub fn is_exit(file: &SourceFile, node: Node) -> bool {
    is_jump(node.kind()) || is_return_macro(file, node)
}

/// Does control never run past the end of `stmt`: an exit, a block ending in
/// one, or an `if` whose branches both do?
pub fn ends_in_exit(file: &SourceFile, stmt: Node) -> bool {
    match stmt.kind() {
        "compound_statement" => statements(stmt)
            .last()
            .is_some_and(|l| ends_in_exit(file, *l)),
        "if_statement" => {
            let then = stmt.child_by_field_name("consequence");
            let other = stmt.child_by_field_name("alternative").and_then(|a| {
                if a.kind() == "else_clause" {
                    a.named_child(0)
                } else {
                    Some(a)
                }
            });
            then.is_some_and(|t| ends_in_exit(file, t))
                && other.is_some_and(|o| ends_in_exit(file, o))
        }
        "labeled_statement" => stmt.named_child(1).is_some_and(|s| ends_in_exit(file, s)),
        _ => is_exit(file, stmt),
    }
}

/// What statement-like macro calls inside `node` may hide.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HiddenJumps {
    /// A macro defined in this file with `return`, `goto`, `break` or `continue`
    /// in its body is used: the exits cannot be enumerated.
    pub known: bool,
    /// An upper-case macro-like call defined elsewhere (a header) is used as a
    /// statement: it might hide one.
    pub possible: bool,
}

/// Looks for statement macros that may hide a jump (`RETURN_IF_ERROR(x);`) in
/// `nodes`. CPython's own (`Py_*`, `PyErr_*` ...) never do, except the returning
/// macros [`is_return_macro`] already handles. (The file's jumping macros are
/// found once for all the nodes.)
pub fn hidden_jumps(file: &SourceFile, nodes: &[Node]) -> HiddenJumps {
    use crate::source::lex::DirectiveKind;
    let jumping: Vec<&str> = file
        .lexed
        .directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
        .filter(|d| {
            d.arg
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| matches!(w, "return" | "goto" | "break" | "continue"))
        })
        .filter_map(|d| {
            let a = d.arg.trim_start();
            let a = a.strip_prefix("define").unwrap_or(a).trim_start();
            a.split(|c: char| !(c.is_alphanumeric() || c == '_')).next()
        })
        .collect();
    let mut out = HiddenJumps::default();
    for n in nodes.iter().flat_map(|node| descendants(*node)) {
        if n.kind() != "expression_statement" || is_return_macro(file, n) {
            continue;
        }
        let Some(e) = n.named_child(0) else { continue };
        let name = match e.kind() {
            "identifier" => file.node_text(e),
            "call_expression" => e
                .child_by_field_name("function")
                .map(|f| file.node_text(f))
                .unwrap_or(""),
            _ => continue,
        };
        if jumping.contains(&name) {
            out.known = true;
        }
        let macro_like = name.len() > 1
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && name.chars().any(|c| c.is_ascii_uppercase());
        if macro_like && !name.starts_with("Py") && !name.starts_with("_Py") {
            out.possible = true;
        }
    }
    out
}

fn is_loop(kind: &str) -> bool {
    matches!(
        kind,
        "for_statement" | "while_statement" | "do_statement" | "for_range_loop"
    )
}

/// The labels and `goto`s of one function, found in one walk of it. A fix asks
/// about every jump and label of a region; a walk of the whole function for each
/// question was quadratic in the function's size.
pub struct Labels<'t> {
    /// Each `label: statement`, with its label, in source order.
    labels: Vec<(&'t str, Node<'t>)>,
    /// Each `goto`, with the label it names, in source order.
    gotos: Vec<(&'t str, Node<'t>)>,
}

impl<'t> Labels<'t> {
    pub fn of(file: &'t SourceFile, function: Node<'t>) -> Labels<'t> {
        let mut labels = Vec::new();
        let mut gotos = Vec::new();
        for n in descendants(function) {
            match n.kind() {
                "labeled_statement" => {
                    if let Some(l) = n.child_by_field_name("label") {
                        labels.push((file.node_text(l), n));
                    }
                }
                "goto_statement" => {
                    if let Some(l) = goto_label(file, n) {
                        gotos.push((l, n));
                    }
                }
                _ => {}
            }
        }
        Labels { labels, gotos }
    }

    /// The `label: statement` named `label` (the first, as a compiler would
    /// refuse a second).
    pub fn named(&self, label: &str) -> Option<Node<'t>> {
        self.labels
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, n)| *n)
    }

    /// The `label: statement`s, in source order.
    pub fn statements(&self) -> impl Iterator<Item = (&'t str, Node<'t>)> + '_ {
        self.labels.iter().copied()
    }

    /// The `goto`s naming `label`.
    pub fn gotos_to<'a>(&'a self, label: &'a str) -> impl Iterator<Item = Node<'t>> + 'a {
        self.gotos
            .iter()
            .filter(move |(l, _)| *l == label)
            .map(|(_, n)| *n)
    }
}

/// The label a `goto` names.
pub fn goto_label<'f>(file: &'f SourceFile, goto: Node) -> Option<&'f str> {
    goto.child_by_field_name("label").map(|l| file.node_text(l))
}

/// Does the jump statement `jump` (inside `region`) take control out of
/// `region`? `None` when it cannot be told (a `goto` to a label that is not in
/// the function).
pub fn leaves(file: &SourceFile, labels: &Labels, jump: Node, region: Node) -> Option<bool> {
    if is_return_macro(file, jump) {
        return Some(true);
    }
    match jump.kind() {
        "return_statement" => Some(true),
        "goto_statement" => {
            let label = labels.named(goto_label(file, jump)?)?;
            Some(!within(label, region))
        }
        "break_statement" | "continue_statement" => {
            let target = ancestors(jump).find(|a| {
                is_loop(a.kind())
                    || (jump.kind() == "break_statement" && a.kind() == "switch_statement")
            })?;
            Some(!within(target, region))
        }
        _ => Some(false),
    }
}

/// The named statements directly in a compound statement.
pub fn statements(block: Node) -> Vec<Node> {
    let mut c = block.walk();
    block
        .named_children(&mut c)
        .filter(|n| n.kind() != "comment")
        .collect()
}

/// Edits that run `prefix` (one or more statements, on one line) just before the
/// statement `stmt`: a line of its own when `stmt` starts its line inside a
/// block; otherwise `{ prefix stmt }` in place, so an unbraced `if` or `else`
/// still controls both.
pub fn before_statement(file: &SourceFile, stmt: Node, prefix: &str) -> Option<Edit> {
    let start = stmt.start_byte();
    let in_block = stmt
        .parent()
        .is_some_and(|p| p.kind() == "compound_statement");
    let line_start = edits::line_start(file, start);
    let starts_line = file
        .text
        .get(line_start..start)
        .is_some_and(|t| t.trim().is_empty());
    if in_block && starts_line {
        let indent = edits::indentation(file, start).to_owned();
        return Some(edits::insert_lines_before(
            file,
            start,
            &[format!("{indent}{prefix}")],
        ));
    }
    if in_block {
        return Some(Edit {
            span: file.span(start, start),
            content: format!("{prefix} "),
        });
    }
    Some(Edit {
        span: file.span(start, stmt.end_byte()),
        content: format!("{{ {prefix} {} }}", file.text.get(start..stmt.end_byte())?),
    })
}

/// Does the text of `function` hold a preprocessor directive? Fixes that move
/// or add statements give up on such functions: the tree shows one build's code.
pub fn has_directive(file: &SourceFile, function: Node) -> bool {
    let (s, e) = (function.start_byte(), function.end_byte());
    file.lexed
        .directives
        .iter()
        .any(|d| d.start < e && d.end > s)
}

/// Is `node` an identifier spelled `name`?
pub fn is_ident(file: &SourceFile, node: Node, name: &str) -> bool {
    node.kind() == "identifier" && file.node_text(node) == name
}

/// Strips parentheses around an expression node.
pub fn unparen(mut node: Node) -> Node {
    while node.kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::source::{Language, SourceFile};

    use super::*;

    fn parse(text: &str) -> SourceFile {
        SourceFile::from_text(PathBuf::from("t.c"), Language::C, text.to_owned(), false)
    }

    /// The old walk: a list of children per node, which the one-cursor walk must
    /// match node for node.
    fn by_children(node: Node) -> Vec<Node> {
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            out.push(n);
            let mut c = n.walk();
            let kids: Vec<Node> = n.children(&mut c).collect();
            stack.extend(kids.into_iter().rev());
        }
        out
    }

    #[test]
    fn descendants_are_the_subtree_in_pre_order() {
        let f = parse("int a;\nstatic int f(int x) { if (x) { x++; } return x; }\nint b;\n");
        let root = f.tree.root_node();
        assert_eq!(descendants(root), by_children(root));
        let function = root.named_child(1).expect("function");
        let nodes = descendants(function);
        assert_eq!(nodes, by_children(function));
        assert_eq!(nodes[0], function);
        // Nothing of the declarations around it.
        assert!(nodes.iter().all(|n| within(*n, function)));
        let leaf = nodes.last().copied().expect("nodes");
        assert_eq!(descendants(leaf), vec![leaf]);
    }

    #[test]
    fn labels_pair_gotos_with_their_label() {
        let f = parse(
            "int f(int x) {\n  if (x) goto done;\n  if (x > 1) goto fail;\n  x++;\n\
             fail:\n  x--;\ndone:\n  return x;\n}\n",
        );
        let function = f.tree.root_node().named_child(0).expect("function");
        let labels = Labels::of(&f, function);
        let names: Vec<&str> = labels.statements().map(|(l, _)| l).collect();
        assert_eq!(names, ["fail", "done"]);
        let done = labels.named("done").expect("done");
        assert!(f.node_text(done).starts_with("done:"));
        assert!(labels.named("missing").is_none());
        assert_eq!(labels.gotos_to("done").count(), 1);
        assert_eq!(labels.gotos_to("fail").count(), 1);
        assert_eq!(labels.gotos_to("missing").count(), 0);
        let g = labels.gotos_to("fail").next().expect("goto");
        assert_eq!(f.node_text(g), "goto fail;");
    }
}
