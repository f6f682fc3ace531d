//! Function-static buffers shared by every thread: made local to the call, or
//! thread-local where their address outlives the call.

use tree_sitter::Node;

use crate::diagnostic::Edit;
use crate::source::SourceFile;

use super::{edits, scope};

/// Calls that write their first argument before anything reads it.
const WRITERS: [&str; 11] = [
    "snprintf",
    "sprintf",
    "strcpy",
    "strncpy",
    "memcpy",
    "memset",
    "strftime",
    "vsnprintf",
    "PyOS_snprintf",
    "PyOS_vsnprintf",
    "memmove",
];

/// Buffers bigger than this stay off the stack (the fix would move them there).
const MAX_STACK_BYTES: usize = 4096;

/// The `static` declaration of a function-local variable whose name sits at
/// `name_at`, with exactly one declarator.
fn static_declaration<'t>(file: &'t SourceFile, name_at: usize) -> Option<(Node<'t>, Node<'t>)> {
    let n = file
        .tree
        .root_node()
        .descendant_for_byte_range(name_at, name_at)?;
    let decl = std::iter::once(n)
        .chain(scope::ancestors(n))
        .find(|a| a.kind() == "declaration")?;
    if decl.parent()?.kind() != "compound_statement" {
        return None;
    }
    let mut c = decl.walk();
    let declarators = decl.children_by_field_name("declarator", &mut c).count();
    if declarators != 1 {
        return None;
    }
    let mut c = decl.walk();
    let st = decl
        .children(&mut c)
        .find(|k| k.kind() == "storage_class_specifier" && file.node_text(*k) == "static")?;
    Some((decl, st))
}

/// `static char buf[64];` → `char buf[64] = {0};`: each call gets its own
/// zeroed buffer, as the first call got before. Returns the edits and whether the
/// fix is safe: the buffer is written (by `snprintf`, `memcpy`, ...) before
/// anything else uses it, so nothing can depend on what an earlier call left in
/// it, and it is small enough for the stack.
pub fn static_to_local(file: &SourceFile, name_at: usize, name: &str) -> Option<(Vec<Edit>, bool)> {
    let (decl, st) = static_declaration(file, name_at)?;
    let function = scope::enclosing_function(decl)?;
    if scope::has_directive(file, function) {
        return None;
    }
    let d = {
        let mut c = decl.walk();
        let found = decl.children_by_field_name("declarator", &mut c).next();
        found?
    };
    if d.kind() != "array_declarator" {
        return None;
    }
    let size: Option<usize> = d
        .child_by_field_name("size")
        .and_then(|s| file.node_text(s).trim().parse().ok());
    let elem = decl
        .child_by_field_name("type")
        .map(|t| file.node_text(t).trim())
        .unwrap_or("");
    let elem_bytes = match elem {
        "char" | "unsigned char" | "signed char" => 1,
        _ => 8,
    };
    let small = size.is_some_and(|n| n * elem_bytes <= MAX_STACK_BYTES);
    // The first use after the declaration: a writer's destination?
    let first_use = scope::descendants(function)
        .into_iter()
        .find(|n| n.start_byte() >= decl.end_byte() && scope::is_ident(file, *n, name));
    let written_first = first_use.is_some_and(|u| {
        let args = u.parent().filter(|p| p.kind() == "argument_list");
        let call = args
            .and_then(|a| a.parent())
            .filter(|c| c.kind() == "call_expression");
        let callee = call
            .and_then(|c| c.child_by_field_name("function"))
            .map(|f| file.node_text(f))
            .unwrap_or("");
        args.and_then(|a| a.named_child(0))
            .is_some_and(|a0| a0.id() == u.id())
            && WRITERS.contains(&callee)
            && !scope::ancestors(u)
                .take_while(|a| a.id() != function.id())
                .any(|a| {
                    matches!(
                        a.kind(),
                        "for_statement" | "while_statement" | "do_statement"
                    )
                })
    });
    let mut out = vec![Edit {
        span: file.span(st.start_byte(), next_token(file, st.end_byte())),
        content: String::new(),
    }];
    if d.parent().is_some_and(|p| p.kind() != "init_declarator")
        && decl.child_by_field_name("value").is_none()
    {
        out.push(Edit {
            span: file.span(d.end_byte(), d.end_byte()),
            content: " = {0}".into(),
        });
    }
    Some((out, written_first && small))
}

/// Does the buffer's address outlive the call: returned (`return buf;`,
/// `return buf + 1;`) or stored (`p = buf;`, `char *p = buf;`)? Passing it to a
/// call (`PyUnicode_FromString(buf)`) is not counted: the callee copies.
pub fn address_escapes(file: &SourceFile, name_at: usize, name: &str) -> Option<bool> {
    let (decl, _) = static_declaration(file, name_at)?;
    let function = scope::enclosing_function(decl)?;
    Some(scope::descendants(function).into_iter().any(|n| {
        if n.start_byte() < decl.end_byte() || !scope::is_ident(file, n, name) {
            return false;
        }
        let mut child = n;
        for a in scope::ancestors(n) {
            match a.kind() {
                "parenthesized_expression"
                | "cast_expression"
                | "binary_expression"
                | "pointer_expression"
                | "subscript_expression"
                | "conditional_expression" => {
                    child = a;
                }
                "return_statement" | "init_declarator" => return true,
                "assignment_expression" => {
                    return a
                        .child_by_field_name("right")
                        .is_some_and(|r| r.id() == child.id());
                }
                _ => return false,
            }
        }
        false
    }))
}

/// The portable thread-local spelling the fix defines once per file.
pub const THREAD_LOCAL_MACRO: &str = "FTAUDIT_THREAD_LOCAL";

/// `static char buf[64];` → `static FTAUDIT_THREAD_LOCAL char buf[64];`, with the
/// macro defined after the file's includes (C++ `thread_local`, MSVC
/// `__declspec(thread)`, C11 `_Thread_local`).
pub fn static_to_thread_local(file: &SourceFile, name_at: usize) -> Option<Vec<Edit>> {
    let (decl, st) = static_declaration(file, name_at)?;
    let function = scope::enclosing_function(decl)?;
    if scope::has_directive(file, function) {
        return None;
    }
    let mut out = vec![Edit {
        span: file.span(st.end_byte(), st.end_byte()),
        content: format!(" {THREAD_LOCAL_MACRO}"),
    }];
    let defined = file
        .lexed
        .directives
        .iter()
        .any(|d| d.arg.contains(THREAD_LOCAL_MACRO));
    if !defined {
        let last_include = file
            .lexed
            .directives
            .iter()
            .filter(|d| {
                file.text[d.start..d.end]
                    .trim_start_matches('#')
                    .trim_start()
                    .starts_with("include")
            })
            .filter(|d| file.conditions.at(d.start).is_unconditional())
            .map(|d| d.start)
            .filter(|s| *s < function.start_byte())
            .max()?;
        let lines = [
            format!("#ifndef {THREAD_LOCAL_MACRO}"),
            "#  if defined(__cplusplus)".to_owned(),
            format!("#    define {THREAD_LOCAL_MACRO} thread_local"),
            "#  elif defined(_MSC_VER)".to_owned(),
            format!("#    define {THREAD_LOCAL_MACRO} __declspec(thread)"),
            "#  else".to_owned(),
            format!("#    define {THREAD_LOCAL_MACRO} _Thread_local"),
            "#  endif".to_owned(),
            "#endif".to_owned(),
        ];
        out.push(edits::insert_lines_after(file, last_include, &lines));
    }
    Some(out)
}

/// The offset after the blanks that follow `at`.
fn next_token(file: &SourceFile, at: usize) -> usize {
    file.text.get(at..).map_or(at, |rest| {
        at + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
    })
}

/// Integer types a C11 `_Atomic` counter can have.
const COUNTER_TYPES: [&str; 12] = [
    "int",
    "long",
    "unsigned",
    "unsigned int",
    "unsigned long",
    "long long",
    "unsigned long long",
    "size_t",
    "Py_ssize_t",
    "int64_t",
    "uint64_t",
    "uint32_t",
];

/// `static long calls;` (file-level or in a function, C only) → `static _Atomic long
/// calls;`: every `calls++` / `calls += n` becomes one atomic read-modify-write and
/// every read an atomic load. No fix when the file takes `&calls` (the pointer type
/// would change), for C++ (`std::atomic` changes what the variable can be passed
/// to), or for types that are not plain integers.
pub fn counter_to_atomic(file: &SourceFile, name_at: usize, name: &str) -> Option<Vec<Edit>> {
    if file.language != crate::source::Language::C {
        return None;
    }
    let n = file
        .tree
        .root_node()
        .descendant_for_byte_range(name_at, name_at)?;
    let decl = std::iter::once(n)
        .chain(scope::ancestors(n))
        .find(|a| a.kind() == "declaration")?;
    if !matches!(
        decl.parent()?.kind(),
        "compound_statement" | "translation_unit"
    ) {
        return None;
    }
    let mut c = decl.walk();
    if decl.children_by_field_name("declarator", &mut c).count() != 1 {
        return None;
    }
    let mut c = decl.walk();
    let is_static = decl
        .children(&mut c)
        .any(|k| k.kind() == "storage_class_specifier" && file.node_text(k) == "static");
    let ty = decl.child_by_field_name("type")?;
    let ty_text = file
        .node_text(ty)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = decl.walk();
    let qualified = decl.children(&mut c).any(|k| k.kind() == "type_qualifier");
    if !is_static || qualified || !COUNTER_TYPES.contains(&ty_text.as_str()) {
        return None;
    }
    // `&calls` anywhere in the file.
    let address_taken = scope::descendants(file.tree.root_node())
        .into_iter()
        .any(|p| {
            p.kind() == "pointer_expression"
                && file.node_text(p).trim_start().starts_with('&')
                && p.child_by_field_name("argument")
                    .is_some_and(|a| scope::is_ident(file, scope::unparen(a), name))
        });
    if address_taken {
        return None;
    }
    Some(vec![Edit {
        span: file.span(ty.start_byte(), ty.start_byte()),
        content: "_Atomic ".into(),
    }])
}
