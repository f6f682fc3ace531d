//! Where a single-phase module's `SetGIL` call goes: right after the module
//! object is created *and* checked for `NULL` — never before the check, where
//! it would be called on `NULL`.

use tree_sitter::Node;

use crate::source::SourceFile;

use super::scope;

/// Where to insert a statement that uses the module created by the call at
/// `create`: the variable, and the offset of the last line to insert after.
/// `guard_null` says no `NULL` check was found, so the inserted call must test
/// the variable itself.
pub struct AfterCreate {
    pub var: String,
    pub insert_after: usize,
    pub guard_null: bool,
    pub indent_from: usize,
}

/// `m = PyModule_Create(...)` / `PyObject *m = PyModule_Create(...)` as a
/// statement of a block, then the first later `if` of that block whose condition
/// is a `NULL` test of `m` (alone or in a `||` chain) and whose branch leaves.
pub fn after_module_created(file: &SourceFile, create: (usize, usize)) -> Option<AfterCreate> {
    let call = scope::node_of_kind(file, create.0, create.1, "call_expression")?;
    let stmt = std::iter::once(call)
        .chain(scope::ancestors(call))
        .find(|a| a.parent().is_some_and(|p| p.kind() == "compound_statement"))?;
    let var = created_var(file, stmt, call)?;
    let block = stmt.parent()?;
    let later: Vec<Node> = scope::statements(block)
        .into_iter()
        .filter(|s| s.start_byte() >= stmt.end_byte())
        .collect();
    for s in &later {
        if s.kind() == "if_statement" && tests_null(file, *s, &var) {
            let then = s.child_by_field_name("consequence")?;
            if scope::ends_in_exit(file, then) && s.child_by_field_name("alternative").is_none() {
                return Some(AfterCreate {
                    var,
                    insert_after: s.end_byte().saturating_sub(1),
                    guard_null: false,
                    indent_from: stmt.start_byte(),
                });
            }
        }
        // The variable used before any check: the call would come too late
        // after it, so put it with a test of its own right after the creation.
        if mentions(file, *s, &var) {
            break;
        }
    }
    Some(AfterCreate {
        var,
        insert_after: stmt.end_byte().saturating_sub(1),
        guard_null: true,
        indent_from: stmt.start_byte(),
    })
}

fn created_var(file: &SourceFile, stmt: Node, call: Node) -> Option<String> {
    let holder = scope::ancestors(call)
        .take_while(|a| a.id() != stmt.id())
        .find(|a| matches!(a.kind(), "init_declarator" | "assignment_expression"))?;
    let target = match holder.kind() {
        "init_declarator" => {
            let mut d = holder.child_by_field_name("declarator")?;
            while d.kind() == "pointer_declarator" {
                d = d.child_by_field_name("declarator")?;
            }
            d
        }
        _ => holder.child_by_field_name("left")?,
    };
    (target.kind() == "identifier").then(|| file.node_text(target).to_owned())
}

fn tests_null(file: &SourceFile, if_stmt: Node, var: &str) -> bool {
    let Some(c) = if_stmt.child_by_field_name("condition") else {
        return false;
    };
    let text: String = file.node_text(c).split_whitespace().collect();
    let text = text.trim_start_matches('(').trim_end_matches(')');
    text.split("||").any(|part| {
        let p = part.trim_start_matches('(').trim_end_matches(')');
        p == format!("!{var}")
            || p == format!("{var}==NULL")
            || p == format!("NULL=={var}")
            || p == format!("{var}==0")
    })
}

fn mentions(file: &SourceFile, node: Node, var: &str) -> bool {
    scope::descendants(node)
        .into_iter()
        .any(|n| scope::is_ident(file, n, var))
}
