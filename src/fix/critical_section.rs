//! Wrapping statements in a critical section with one way out.
//!
//! `Py_BEGIN_CRITICAL_SECTION(obj)` opens a block that `Py_END_CRITICAL_SECTION()`
//! must close on every path: a `return`, `goto`, `break` or `continue` that leaves
//! the wrapped statements would skip the unlock. The wrap therefore turns each
//! such jump into "remember where to go, leave with `break`", and performs the
//! jump after the section ends:
//!
//! ```c
//! {
//!     int ftaudit_exit = 0;
//!     PyObject *ftaudit_ret = 0;
//!     Py_BEGIN_CRITICAL_SECTION(d);
//!     while (PyDict_Next(d, &pos, &k, &v)) {
//!         if (bad) { ftaudit_ret = NULL; ftaudit_exit = 1; break; }
//!     }
//!     Py_END_CRITICAL_SECTION();
//!     if (ftaudit_exit == 1) return ftaudit_ret;
//! }
//! ```
//!
//! A wrapped loop is its own `break` target; other statement runs are put in a
//! `do { ... } while (0)` when they hold such jumps. A jump that sits in a
//! nested loop or `switch` (where `break` would stop short) gets no fix, nor do
//! regions entered by a `goto` from outside.

use tree_sitter::Node;

use crate::capi::fixes;
use crate::diagnostic::Edit;
use crate::source::SourceFile;

use super::edits;
use super::scope::{self, ancestors, descendants};

/// The result of a wrap: its edits, and whether jumps were rewritten.
pub struct Wrapped {
    pub edits: Vec<Edit>,
    pub rewrote_jumps: bool,
    /// A statement macro from a header might hide a jump out of the section.
    pub macro_may_jump: bool,
}

/// Wraps the statements `first..=last` (children of one block) of `function`
/// in a critical section on `objects` (one or two expressions).
pub fn wrap(
    file: &SourceFile,
    function: Node,
    first: Node,
    last: Node,
    objects: &[&str],
) -> Option<Wrapped> {
    let whole_body = function
        .child_by_field_name("body")
        .is_some_and(|b| first.parent().is_some_and(|p| p.id() == b.id()))
        && first.parent().is_some_and(|b| {
            let st = scope::statements(b);
            st.first().is_some_and(|f| f.id() == first.id())
                && st.last().is_some_and(|l| l.id() == last.id())
        });
    let block = first.parent()?;
    if block.kind() != "compound_statement"
        || last.parent()?.id() != block.id()
        || objects.is_empty()
        || objects.len() > 2
        || scope::has_directive(file, function)
        || function.has_error()
    {
        return None;
    }
    let (start, end) = (first.start_byte(), last.end_byte());
    let in_region = |n: Node| n.start_byte() >= start && n.end_byte() <= end;
    let is_loop_region = first.id() == last.id()
        && matches!(
            first.kind(),
            "while_statement" | "for_statement" | "do_statement"
        );
    // Labels inside may only be reached from inside.
    let labels = scope::Labels::of(file, function);
    for (name, label) in labels.statements() {
        if in_region(label) && labels.gotos_to(name).any(|g| !in_region(g)) {
            return None;
        }
    }
    let region_nodes: Vec<Node> = scope::statements(block)
        .into_iter()
        .filter(|s| in_region(*s))
        .collect();
    let hidden = scope::hidden_jumps(file, &region_nodes);
    if hidden.known {
        return None;
    }
    let mut jumps = Vec::new();
    for s in &region_nodes {
        for j in descendants(*s) {
            if !scope::is_exit(file, j) {
                continue;
            }
            if matches!(j.kind(), "break_statement" | "continue_statement")
                && !leaves_region(j, start, end)
            {
                continue;
            }
            if j.kind() == "goto_statement" {
                let label = labels.named(scope::goto_label(file, j)?)?;
                if in_region(label) {
                    continue;
                }
            }
            // `break` must reach the region's end: no loop or switch in between.
            let blocker = ancestors(j).take_while(|a| in_region(*a)).any(|a| {
                matches!(
                    a.kind(),
                    "while_statement"
                        | "for_statement"
                        | "do_statement"
                        | "switch_statement"
                        | "for_range_loop"
                ) && !(is_loop_region && a.id() == first.id())
            });
            if blocker {
                return None;
            }
            jumps.push(j);
        }
    }
    let nl = edits::newline(file);
    let indent = edits::indentation(file, start).to_owned();
    let inner_indent = format!("{indent}    ");
    let (begin, finish) = if objects.len() == 2 {
        (
            format!(
                "{}({}, {});",
                fixes::BEGIN_CRITICAL_SECTION2,
                objects[0],
                objects[1]
            ),
            format!("{}();", fixes::END_CRITICAL_SECTION2),
        )
    } else {
        (
            format!("{}({});", fixes::BEGIN_CRITICAL_SECTION, objects[0]),
            format!("{}();", fixes::END_CRITICAL_SECTION),
        )
    };
    let region_text = file
        .text
        .get(edits::line_start(file, start)..edits::next_line_start(file, end))?;
    // The region must own its lines (no other statement shares them).
    if !edits::owns_lines(file, start, end) {
        return None;
    }
    let region_text = region_text.trim_end_matches(['\r', '\n']);
    if jumps.is_empty() {
        let mut out = vec![format!("{indent}{begin}")];
        out.extend(
            region_text
                .split('\n')
                .map(|l| l.trim_end_matches('\r').to_owned()),
        );
        out.push(format!("{indent}{finish}"));
        return Some(Wrapped {
            edits: vec![replace_lines(file, start, end, &out, nl)],
            rewrote_jumps: false,
            macro_may_jump: hidden.possible,
        });
    }
    // Jumps become `exit = k; break;`; the jump itself happens after the section.
    let ret_type = return_type(file, function);
    let mut after: Vec<String> = Vec::new();
    let mut replaced: Vec<(usize, usize, String)> = Vec::new();
    let mut uses_ret = false;
    let mut codes: Vec<String> = Vec::new();
    for j in jumps.iter() {
        let (assign, then) = match j.kind() {
            _ if scope::is_return_macro(file, *j) => {
                (String::new(), file.node_text(*j).trim().to_owned())
            }
            "return_statement" => match j.named_child(0) {
                Some(e) => {
                    ret_type.as_ref()?;
                    uses_ret = true;
                    (
                        format!("ftaudit_ret = {}; ", file.node_text(e)),
                        "return ftaudit_ret;".to_owned(),
                    )
                }
                None => (String::new(), "return;".to_owned()),
            },
            _ => (String::new(), file.node_text(*j).trim().to_owned()),
        };
        let code = match codes.iter().position(|c| *c == then) {
            Some(i) => i + 1,
            None => {
                codes.push(then.clone());
                after.push(format!(
                    "{indent}if (ftaudit_exit == {}) {then}",
                    codes.len()
                ));
                codes.len()
            }
        };
        replaced.push((
            j.start_byte(),
            j.end_byte(),
            format!("{{ {assign}ftaudit_exit = {code}; break; }}"),
        ));
    }
    // The whole body of a function that always leaves through a jump: the last
    // action needs no test (and the compiler sees the function end in a return).
    if whole_body && scope::ends_in_exit(file, last) && !after.is_empty() {
        let l = after.len() - 1;
        after[l] = format!("{indent}{}", codes[l]);
    }
    // The region's text with the jumps replaced (from the end, offsets stay valid).
    let base = edits::line_start(file, start);
    let mut body = region_text.to_owned();
    for (s, e, t) in replaced.iter().rev() {
        let (s, e) = (s.checked_sub(base)?, e.checked_sub(base)?);
        if e > body.len() || !body.is_char_boundary(s) || !body.is_char_boundary(e) {
            return None;
        }
        body.replace_range(s..e, t);
    }
    let body_lines: Vec<String> = body
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect();
    let mut out = vec![
        format!("{indent}{{"),
        format!("{inner_indent}int ftaudit_exit = 0;"),
    ];
    if uses_ret {
        out.push(format!(
            "{inner_indent}{} = 0;",
            super::strong_ref::declare(&ret_type?, "ftaudit_ret")
        ));
    }
    out.push(format!("{inner_indent}{begin}"));
    if is_loop_region {
        out.extend(body_lines.iter().map(|l| format!("    {l}")));
    } else {
        out.push(format!("{inner_indent}do {{"));
        out.extend(body_lines.iter().map(|l| format!("        {l}")));
        out.push(format!("{inner_indent}}} while (0);"));
    }
    out.push(format!("{inner_indent}{finish}"));
    out.extend(after.iter().map(|l| format!("    {l}")));
    out.push(format!("{indent}}}"));
    Some(Wrapped {
        edits: vec![replace_lines(file, start, end, &out, nl)],
        rewrote_jumps: true,
        macro_may_jump: hidden.possible,
    })
}

fn replace_lines(file: &SourceFile, start: usize, end: usize, lines: &[String], nl: &str) -> Edit {
    let s = edits::line_start(file, start);
    let e = edits::next_line_start(file, end);
    let mut content: String = lines.iter().map(|l| format!("{l}{nl}")).collect();
    if e == file.text.len() && !file.text.ends_with('\n') {
        content.truncate(content.len() - nl.len());
    }
    Edit {
        span: file.span(s, e),
        content,
    }
}

/// Does a `break`/`continue` at `j` go to a loop or switch outside `[start, end)`?
fn leaves_region(j: Node, start: usize, end: usize) -> bool {
    let target = ancestors(j).find(|a| {
        matches!(
            a.kind(),
            "while_statement" | "for_statement" | "do_statement" | "for_range_loop"
        ) || (j.kind() == "break_statement" && a.kind() == "switch_statement")
    });
    match target {
        Some(t) => t.start_byte() < start || t.end_byte() > end,
        None => true,
    }
}

/// The declared return type of `function` (`PyObject *`, `int`), when it is one a
/// temporary can hold and initialise with `0`.
pub fn return_type(file: &SourceFile, function: Node) -> Option<String> {
    let mut d = function.child_by_field_name("declarator")?;
    let mut stars = 0;
    while d.kind() == "pointer_declarator" {
        stars += 1;
        d = d.child_by_field_name("declarator")?;
    }
    if d.kind() != "function_declarator" {
        return None;
    }
    let ty = function.child_by_field_name("type")?;
    let mut words: Vec<&str> = Vec::new();
    let mut c = function.walk();
    for k in function.children(&mut c) {
        if k.kind() == "type_qualifier" && k.end_byte() <= ty.start_byte() {
            words.push(file.node_text(k));
        }
    }
    words.push(file.node_text(ty).trim());
    let base = words.join(" ");
    if stars > 0 {
        return Some(format!("{base} {}", "*".repeat(stars)));
    }
    const SCALARS: [&str; 12] = [
        "int",
        "long",
        "unsigned",
        "unsigned int",
        "long long",
        "Py_ssize_t",
        "Py_hash_t",
        "size_t",
        "char",
        "double",
        "float",
        "unsigned long",
    ];
    SCALARS.contains(&base.as_str()).then_some(base)
}

/// Wraps the whole body of the function around `offset` in a critical section on
/// `object`, with one way out (for methods that change per-object state).
pub fn lock_body(file: &SourceFile, offset: usize, object: &str) -> Option<Wrapped> {
    let n = file
        .tree
        .root_node()
        .descendant_for_byte_range(offset, offset)?;
    let function = std::iter::once(n)
        .chain(ancestors(n))
        .find(|a| a.kind() == "function_definition")?;
    let body = function.child_by_field_name("body")?;
    let st = scope::statements(body);
    let (first, last) = (*st.first()?, *st.last()?);
    // A body already holding a critical section or a lock is left to the rules
    // that check those (FT301–FT303, FT322).
    let text = file.node_text(body);
    if text.contains(fixes::BEGIN_CRITICAL_SECTION) {
        return None;
    }
    wrap(file, function, first, last, &[object])
}

/// What [`lock_body`] refuses without reading the tree, for a function with
/// `range`, `body` and `has_error` as the index has them: one that did not parse
/// cleanly, holds a preprocessor directive, or already enters a critical section.
/// `false` means `lock_body` gives `None` (when the function is the innermost
/// definition around the offset); `true` means it may build a fix.
pub fn lock_body_may_apply(
    file: &SourceFile,
    range: (usize, usize),
    body: (usize, usize),
    has_error: bool,
) -> bool {
    let (s, e) = range;
    let directive = file
        .lexed
        .directives
        .iter()
        .any(|d| d.start < e && d.end > s);
    let body_text = file.parse_text.get(body.0..body.1).unwrap_or("");
    !has_error && !directive && !body_text.contains(fixes::BEGIN_CRITICAL_SECTION)
}

/// [`lock_body`] as an unsafe fix, with `pythoncapi_compat.h` for projects that
/// support versions without the macros.
pub fn lock_body_fix(
    file: &SourceFile,
    target_minor: u32,
    offset: usize,
    object: &str,
) -> Option<crate::diagnostic::Fix> {
    use super::strong_ref::{compat_for, compat_include_edit, Compat};
    let wrapped = lock_body(file, offset, object)?;
    let mut edits = wrapped.edits;
    let mut message = format!(
        "Run the whole body in a critical section on `{object}` (changes locking: readers need it too)"
    );
    match compat_for(file, target_minor, fixes::CRITICAL_SECTION_SINCE_MINOR) {
        Compat::NotNeeded | Compat::Included => {}
        Compat::Insert(spelling) => {
            edits.push(compat_include_edit(file, &spelling)?);
            message.push_str(&format!(" (the macros come from `{spelling}`)"));
        }
        Compat::Missing => message
            .push_str(" (the macros are newer than your minimum Python: add pythoncapi_compat.h)"),
    }
    Some(crate::diagnostic::Fix {
        applicability: crate::diagnostic::Applicability::Unsafe,
        message,
        edits,
    })
}

/// A [`wrap`] as a fix: unsafe when jumps were rewritten or a statement macro may
/// hide one (whatever `applicability` says otherwise), with `pythoncapi_compat.h`
/// for projects whose minimum Python predates the macros (unsafe when the project
/// does not have the header).
pub fn section_fix(
    file: &SourceFile,
    target_minor: u32,
    wrapped: Wrapped,
    mut message: String,
    mut applicability: crate::diagnostic::Applicability,
) -> Option<crate::diagnostic::Fix> {
    use super::strong_ref::{compat_for, compat_include_edit, Compat};
    use crate::diagnostic::Applicability;
    let mut edits = wrapped.edits;
    if wrapped.rewrote_jumps || wrapped.macro_may_jump {
        applicability = Applicability::Unsafe;
    }
    if wrapped.macro_may_jump {
        message.push_str(
            " (a statement macro in the loop could hide a `return` out of the section: check it)",
        );
    }
    match compat_for(file, target_minor, fixes::CRITICAL_SECTION_SINCE_MINOR) {
        Compat::NotNeeded | Compat::Included => {}
        Compat::Insert(spelling) => {
            edits.push(compat_include_edit(file, &spelling)?);
            message.push_str(&format!(
                " (the macros come from `{spelling}`, included after Python.h)"
            ));
        }
        Compat::Missing => {
            applicability = Applicability::Unsafe;
            message.push_str(" (the macros are newer than your minimum Python: add pythoncapi_compat.h to the project, or raise the minimum)");
        }
    }
    Some(crate::diagnostic::Fix {
        applicability,
        message,
        edits,
    })
}
