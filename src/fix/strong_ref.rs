//! Borrowed → strong: rewrites a borrowed getter stored in a local variable into
//! its strong-reference replacement and releases the new reference on every path
//! out of the variable's block.
//!
//! Handled shapes (anything else gets no fix):
//! - `PyObject *v = Getter(args);` as a statement of a block;
//! - `v = Getter(args);` as a statement of the block that declares `v` (with no
//!   initializer, which the fix turns into `= NULL`, or `= NULL`).
//!
//! The reference is released (`Py_XDECREF(v)`) before every `return`, `goto`,
//! `break` or `continue` that leaves the block after the declaration, and where
//! the block's end is reached. A `goto` to a label inside the block after the
//! declaration is not a way out: the release is placed on the statements after
//! the label (the usual `goto error` cleanup) instead. `return Py_NewRef(v)`
//! becomes `return v` (the reference is handed over instead of released), and
//! `return f(v);` computes `f(v)` into a temporary before the release.
//!
//! No fix when: the function has preprocessor directives; `v` is assigned again,
//! its address is taken, or `return v;` returns it borrowed; a label after the
//! declaration can be reached by a `goto` from before it; the block is a
//! `switch` body; `v` is redeclared inside the block. The fix is unsafe when `v`
//! is copied into another variable or a field (the copy stays a borrowed
//! reference, which the fix does not cure), and when the replacement is newer than the project's minimum
//! version and the file cannot include `pythoncapi_compat.h`.

use std::path::Path;

use tree_sitter::Node;

use crate::capi::fixes::{self, StrongRewrite, StrongShape};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::source::SourceFile;

use super::edits;
use super::scope::{self, descendants, within};

/// The borrowing call as the index saw it.
pub struct BorrowedCall<'a> {
    pub name: &'a str,
    pub range: (usize, usize),
    pub name_range: (usize, usize),
    pub args: &'a [(usize, usize)],
}

/// How the file can get the replacement when the project supports versions
/// older than the one that added it.
pub enum Compat {
    /// The target version has the API.
    NotNeeded,
    /// The file already includes `pythoncapi_compat.h`.
    Included,
    /// The project has the header: include it with this spelling after `Python.h`.
    Insert(String),
    /// No header found.
    Missing,
}

/// How the file gets APIs added in `since_minor` when the project's minimum is
/// `target_minor`.
pub fn compat_for(file: &SourceFile, target_minor: u32, since_minor: u32) -> Compat {
    if target_minor >= since_minor {
        return Compat::NotNeeded;
    }
    let header = fixes::COMPAT_HEADER;
    let included = file.lexed.directives.iter().any(|d| {
        d.arg.trim_start().starts_with("include") && d.arg.contains(header)
            || d.arg.contains(header) && file.text[d.start..d.end].contains("include")
    });
    if included {
        return Compat::Included;
    }
    match find_compat_header(&file.path) {
        Some(spelling) => Compat::Insert(spelling),
        None => Compat::Missing,
    }
}

/// Looks for `pythoncapi_compat.h` next to the file, in an `include`/`src`
/// folder next to it, and the same in up to three parent folders; returns the
/// include spelling relative to the file's folder.
fn find_compat_header(path: &Path) -> Option<String> {
    let header = fixes::COMPAT_HEADER;
    let dir = path.parent()?;
    let mut up = String::new();
    let mut d = Some(dir);
    for _ in 0..4 {
        let here = d?;
        for sub in ["", "include/", "src/", "compat/"] {
            if here.join(sub).join(header).is_file() {
                return Some(format!("{up}{sub}{header}"));
            }
        }
        up.push_str("../");
        d = here.parent().filter(|p| !p.as_os_str().is_empty());
    }
    None
}

/// The line `#include "pythoncapi_compat.h"` after the file's `#include <Python.h>`.
pub fn compat_include_edit(file: &SourceFile, spelling: &str) -> Option<Edit> {
    let py = file.lexed.directives.iter().find(|d| {
        let t = &file.text[d.start..d.end];
        t.contains("include") && t.contains(fixes::PYTHON_HEADER)
    })?;
    Some(edits::insert_lines_after(
        file,
        py.start,
        &[format!("#include \"{spelling}\"")],
    ))
}

/// Where the borrowed result lands.
struct Site<'t> {
    /// The variable.
    var: String,
    /// The statement holding the call.
    stmt: Node<'t>,
    /// The block that declares the variable.
    block: Node<'t>,
    /// The declaration of the variable (the statement itself for `T *v = f();`).
    decl: Node<'t>,
    /// `T *v;` without initializer: the fix adds `= NULL` after this offset.
    needs_null_init: Option<usize>,
}

/// The fix for one borrowing call, or `None` when the shape is not one the
/// rewrite can prove.
pub fn strong_ref_fix(file: &SourceFile, call: &BorrowedCall, compat: &Compat) -> Option<Fix> {
    let rw = fixes::strong_rewrite(call.name)?;
    if call.args.len() != rw.arity {
        return None;
    }
    let call_node = scope::node_of_kind(file, call.range.0, call.range.1, "call_expression")?;
    let function = scope::enclosing_function(call_node)?;
    if scope::has_directive(file, function) || function.has_error() {
        return None;
    }
    let site = find_site(file, call_node)?;
    let v = site.var.as_str();
    let after = site.decl.end_byte();
    // Everything in the block after the declaration that names `v`.
    let mut aliased = false;
    let mut new_ref_returns = Vec::new();
    let mut temp_returns = Vec::new();
    for n in descendants(site.block) {
        if n.start_byte() < after && !within(n, site.stmt) {
            continue;
        }
        if within(n, site.stmt) {
            continue;
        }
        if matches!(n.kind(), "lambda_expression" | "function_definition") {
            return None;
        }
        if n.kind() == "declaration" && declares(file, n, v) {
            return None;
        }
        if scope::is_return_macro(file, n) && mentions(file, n, v) {
            return None;
        }
        if n.kind() == "return_statement" {
            if let Some(e) = n.named_child(0) {
                if mentions(file, e, v) {
                    // `return Py_NewRef(v);` hands the reference over; anything
                    // else would read `v` after its release.
                    if is_new_ref_of(file, scope::unparen(e), v) {
                        new_ref_returns.push(n);
                        continue;
                    }
                    // `return v;` returned a borrowed reference on purpose (or
                    // by mistake): not a shape to rewrite.
                    if scope::is_ident(file, scope::unparen(e), v) {
                        return None;
                    }
                    // `return f(v);`: computed into a temporary before the release.
                    temp_returns.push(n);
                }
            }
        }
        if !scope::is_ident(file, n, v) {
            continue;
        }
        let parent = n.parent()?;
        // `Py_SETREF(v, x)` / `Py_CLEAR(v)` assign `v` inside a macro.
        if parent.kind() == "argument_list"
            && parent.named_child(0).is_some_and(|a| a.id() == n.id())
        {
            let callee = parent
                .parent()
                .and_then(|c| c.child_by_field_name("function"))
                .map(|f| file.node_text(f))
                .unwrap_or("");
            if crate::capi::replaces_reference(callee) {
                return None;
            }
        }
        match parent.kind() {
            "assignment_expression" | "update_expression" => {
                let left = parent.child_by_field_name("left").or(parent.named_child(0));
                if left.is_some_and(|l| l.id() == n.id()) || parent.kind() == "update_expression" {
                    return None;
                }
                aliased = true;
            }
            "pointer_expression" if file.node_text(parent).trim_start().starts_with('&') => {
                return None
            }
            "init_declarator" => aliased = true,
            "initializer_list" | "initializer_pair" => aliased = true,
            _ => {}
        }
    }
    // Every label after the declaration must be reached only from after it (the
    // variable holds NULL or a reference there, never garbage).
    let labels = scope::Labels::of(file, function);
    for (name, label) in labels.statements() {
        if label.start_byte() >= after
            && within(label, site.block)
            && labels.gotos_to(name).any(|g| g.start_byte() < after)
        {
            return None;
        }
    }
    if site
        .block
        .parent()
        .is_some_and(|p| p.kind() == "switch_statement")
    {
        return None;
    }

    // A file-defined macro hiding a `return` would skip the release; an unknown
    // upper-case statement macro might.
    let hidden = scope::hidden_jumps(file, &[site.block]);
    if hidden.known {
        return None;
    }
    let release = format!("{}({v});", fixes::RELEASE_NULLABLE);
    let mut edits_out = Vec::new();
    edits_out.push(acquire_edit(file, &site, rw, call)?);
    if let Some(at) = site.needs_null_init {
        edits_out.push(Edit {
            span: file.span(at, at),
            content: " = NULL".into(),
        });
    }
    // Releases before every way out of the block after the declaration.
    for j in descendants(site.block) {
        if !scope::is_exit(file, j) || j.start_byte() < after || within(j, site.stmt) {
            continue;
        }
        // Under `if (v == NULL)` there is nothing to release.
        if known_null_at(file, j, v, site.block) {
            continue;
        }
        if new_ref_returns.iter().any(|r| r.id() == j.id()) {
            continue;
        }
        if temp_returns.iter().any(|r: &Node| r.id() == j.id()) {
            let e = j.named_child(0)?;
            let ty = super::critical_section::return_type(file, function)?;
            edits_out.push(Edit {
                span: file.span(j.start_byte(), j.end_byte()),
                content: format!(
                    "{{ {} = {}; {release} return ftaudit_ret; }}",
                    declare(&ty, "ftaudit_ret"),
                    file.text.get(e.start_byte()..e.end_byte())?
                ),
            });
            continue;
        }
        // Before the lookup `v` is still NULL (labels in between are refused).
        if j.end_byte() <= site.stmt.start_byte() {
            continue;
        }
        let leaves = if j.kind() == "goto_statement" {
            // A label before the declaration runs it again: that is a way out too.
            let label = labels.named(scope::goto_label(file, j)?)?;
            !(within(label, site.block) && label.start_byte() >= after)
        } else {
            scope::leaves(file, &labels, j, site.block)?
        };
        if leaves {
            edits_out.push(scope::before_statement(file, j, &release)?);
        }
    }
    for r in &new_ref_returns {
        let e = r.named_child(0)?;
        edits_out.push(Edit {
            span: file.span(e.start_byte(), e.end_byte()),
            content: v.to_owned(),
        });
    }
    // The end of the block, when control can reach it.
    let stmts = scope::statements(site.block);
    let last = stmts.last()?;
    if !scope::ends_in_exit(file, *last) {
        let close = site.block.end_byte() - 1;
        let indent = edits::indentation(file, last.start_byte()).to_owned();
        if file
            .text
            .get(edits::line_start(file, close)..close)?
            .trim()
            .is_empty()
        {
            edits_out.push(edits::insert_lines_before(
                file,
                close,
                &[format!("{indent}{release}")],
            ));
        } else {
            edits_out.push(Edit {
                span: file.span(close, close),
                content: format!(" {release} "),
            });
        }
    }
    let mut applicability = if aliased || hidden.possible || rw.unchecked {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let mut note = String::new();
    match compat {
        Compat::NotNeeded | Compat::Included => {}
        Compat::Insert(spelling) => {
            edits_out.push(compat_include_edit(file, spelling)?);
            note = format!(" (from `{spelling}`, included after Python.h)");
        }
        Compat::Missing => {
            applicability = Applicability::Unsafe;
            note = format!(
                " (newer than your minimum Python: add `{}` from pythoncapi-compat to the project, or raise the minimum)",
                fixes::COMPAT_HEADER
            );
        }
    }
    let mut message = format!(
        "Use `{}` and release `{v}` on every way out of its block{note}",
        rw.replacement
    );
    if rw.unchecked {
        message.push_str(&format!(
            ": unlike `{}`, it can fail (NULL with an exception, e.g. an index another thread made stale): check `{v}` for NULL",
            call.name
        ));
    }
    if hidden.possible {
        message.push_str(": a statement macro in the block could hide a `return`; check it");
    }
    if aliased {
        message.push_str(": `{v}` is also copied elsewhere, and that copy is still a borrowed reference: check it");
        message = message.replace("{v}", v);
    }
    Some(Fix {
        applicability,
        message,
        edits: edits_out,
    })
}

/// Does the declaration `decl` declare `name`?
fn declares(file: &SourceFile, decl: Node, name: &str) -> bool {
    let mut c = decl.walk();
    let found = decl
        .children_by_field_name("declarator", &mut c)
        .any(|d| declarator_name(file, d).is_some_and(|n| n == name));
    found
}

/// The identifier a declarator declares (`*v`, `*v = x`, `v[3]`).
fn declarator_name<'f>(file: &'f SourceFile, mut d: Node) -> Option<&'f str> {
    loop {
        match d.kind() {
            "identifier" => return Some(file.node_text(d)),
            "init_declarator"
            | "pointer_declarator"
            | "array_declarator"
            | "parenthesized_declarator" => {
                d = d.child_by_field_name("declarator").or(d.named_child(0))?;
            }
            _ => return None,
        }
    }
}

/// Is `decl` a pointer declaration of exactly one variable?
fn single_pointer_declarator(decl: Node) -> Option<Node> {
    let mut c = decl.walk();
    let ds: Vec<Node> = decl.children_by_field_name("declarator", &mut c).collect();
    if ds.len() != 1 {
        return None;
    }
    Some(ds[0])
}

fn find_site<'t>(file: &'t SourceFile, call: Node<'t>) -> Option<Site<'t>> {
    let parent = call.parent()?;
    match parent.kind() {
        "init_declarator" => {
            let decl = parent.parent()?;
            if decl.kind() != "declaration" || single_pointer_declarator(decl)?.id() != parent.id()
            {
                return None;
            }
            let inner = parent.child_by_field_name("declarator")?;
            if inner.kind() != "pointer_declarator" {
                return None;
            }
            let var = declarator_name(file, inner)?.to_owned();
            let block = decl.parent()?;
            if block.kind() != "compound_statement" || has_storage_class(file, decl) {
                return None;
            }
            Some(Site {
                var,
                stmt: decl,
                block,
                decl,
                needs_null_init: None,
            })
        }
        "assignment_expression" => {
            let left = parent.child_by_field_name("left")?;
            let op = parent.child_by_field_name("operator")?;
            let stmt = parent.parent()?;
            if left.kind() != "identifier"
                || file.node_text(op) != "="
                || stmt.kind() != "expression_statement"
            {
                return None;
            }
            let var = file.node_text(left).to_owned();
            let block = stmt.parent()?;
            if block.kind() != "compound_statement" {
                return None;
            }
            // The declaration: an earlier statement of the same block.
            let decl = scope::statements(block).into_iter().find(|s| {
                s.kind() == "declaration"
                    && s.end_byte() <= stmt.start_byte()
                    && declares(file, *s, &var)
            })?;
            if has_storage_class(file, decl) {
                return None;
            }
            // `PyObject *a, *v;` — the declarator of `v` among others.
            let d = {
                let mut c = decl.walk();
                let found = decl
                    .children_by_field_name("declarator", &mut c)
                    .find(|d| declarator_name(file, *d) == Some(var.as_str()));
                found?
            };
            let needs_null_init = match d.kind() {
                "pointer_declarator" => Some(d.end_byte()),
                "init_declarator" => {
                    let value = d.child_by_field_name("value")?;
                    let t = file.node_text(value).trim();
                    if !matches!(t, "NULL" | "0" | "nullptr") {
                        return None;
                    }
                    None
                }
                _ => return None,
            };
            // A label between the declaration and the lookup could be jumped to
            // from after the lookup, running it again over a live reference.
            if descendants(block).into_iter().any(|n| {
                n.kind() == "labeled_statement"
                    && n.start_byte() >= decl.end_byte()
                    && n.start_byte() < stmt.start_byte()
            }) {
                return None;
            }
            // No other assignment to `v` anywhere before this one in the block
            // (it would be overwritten without release).
            for n in descendants(block) {
                if n.start_byte() >= decl.end_byte()
                    && n.end_byte() <= stmt.start_byte()
                    && scope::is_ident(file, n, &var)
                    && n.parent().is_some_and(|p| {
                        p.kind() == "assignment_expression"
                            && p.child_by_field_name("left")
                                .is_some_and(|l| l.id() == n.id())
                    })
                {
                    return None;
                }
            }
            // Not inside a loop between the declaration's block and the statement: the
            // block is the statement's own, so there is none.
            Some(Site {
                var,
                stmt,
                block,
                decl,
                needs_null_init,
            })
        }
        _ => None,
    }
}

fn has_storage_class(file: &SourceFile, decl: Node) -> bool {
    let mut c = decl.walk();
    let found = decl.children(&mut c).any(|k| {
        k.kind() == "storage_class_specifier" && matches!(file.node_text(k), "static" | "extern")
    });
    found
}

/// Does the expression `node` name `var`?
fn mentions(file: &SourceFile, node: Node, var: &str) -> bool {
    descendants(node)
        .into_iter()
        .any(|n| scope::is_ident(file, n, var))
}

/// `Py_NewRef(v)` / `Py_XNewRef(v)`.
fn is_new_ref_of(file: &SourceFile, e: Node, var: &str) -> bool {
    if e.kind() != "call_expression" {
        return false;
    }
    let Some(f) = e.child_by_field_name("function") else {
        return false;
    };
    let Some(args) = e.child_by_field_name("arguments") else {
        return false;
    };
    crate::capi::is_new_ref(file.node_text(f))
        && args.named_child_count() == 1
        && args
            .named_child(0)
            .is_some_and(|a| scope::is_ident(file, scope::unparen(a), var))
}

/// The edit that acquires a strong reference where the borrowed one was taken.
fn acquire_edit(
    file: &SourceFile,
    site: &Site,
    rw: &StrongRewrite,
    call: &BorrowedCall,
) -> Option<Edit> {
    let v = &site.var;
    let args: Vec<&str> = call
        .args
        .iter()
        .map(|a| file.text.get(a.0..a.1).map(str::trim))
        .collect::<Option<_>>()?;
    let out_call = |extra: &str| format!("{}({}, &{v}){extra}", rw.replacement, args.join(", "));
    let statement = match rw.shape {
        StrongShape::Returns => {
            return Some(Edit {
                span: file.span(call.name_range.0, call.name_range.1),
                content: rw.replacement.to_owned(),
            })
        }
        StrongShape::OutParam {
            clears_errors: false,
        } => format!("(void){};", out_call("")),
        StrongShape::OutParam {
            clears_errors: true,
        } => format!("if ({} < 0) {{ {}(); }}", out_call(""), fixes::CLEAR_ERROR),
        StrongShape::WeakrefNoneWhenDead => format!(
            "if ({} == 0) {{ {v} = {}; }}",
            out_call(""),
            fixes::NEW_NONE
        ),
    };
    let stmt = site.stmt;
    if stmt.kind() == "declaration" {
        // `T *v = f(a);` → `T *v;` and the call on the next line.
        let init = single_pointer_declarator(stmt)?;
        let declarator = init.child_by_field_name("declarator")?;
        let head = file.text.get(stmt.start_byte()..declarator.end_byte())?;
        let indent = edits::indentation(file, stmt.start_byte());
        let nl = edits::newline(file);
        Some(Edit {
            span: file.span(stmt.start_byte(), stmt.end_byte()),
            content: format!("{head};{nl}{indent}{statement}"),
        })
    } else {
        Some(Edit {
            span: file.span(stmt.start_byte(), stmt.end_byte()),
            content: statement,
        })
    }
}

/// `T *name` / `int name`.
pub fn declare(ty: &str, name: &str) -> String {
    if ty.ends_with('*') {
        format!("{ty}{name}")
    } else {
        format!("{ty} {name}")
    }
}

/// Is `node` in the then-branch of an `if` (inside `block`) whose condition
/// says `var` is NULL (`!v`, `v == NULL`, `NULL == v`)?
fn known_null_at(file: &SourceFile, node: Node, var: &str, block: Node) -> bool {
    let mut child = node;
    for a in scope::ancestors(node) {
        if !within(a, block) {
            return false;
        }
        if a.kind() == "if_statement" {
            let then = a.child_by_field_name("consequence");
            let in_then = then.is_some_and(|t| within(child, t));
            let cond = a
                .child_by_field_name("condition")
                .map(|c| file.node_text(c).split_whitespace().collect::<String>())
                .unwrap_or_default();
            let cond = cond.trim_start_matches('(').trim_end_matches(')');
            let says_null = cond == format!("!{var}")
                || cond == format!("{var}==NULL")
                || cond == format!("NULL=={var}")
                || cond == format!("{var}==0");
            if in_then && says_null {
                return true;
            }
        }
        // An assignment to the variable between here and the `if` would change
        // it, but the fix refuses any second assignment.
        child = a;
    }
    false
}
