//! FT21x — object layout and lifecycle.
//!
//! Code that assumed the default build's object header, private CPython structs
//! or the order in which objects are torn down: positional static headers,
//! mirrors of the GC header and of dict/list internals, direct reads of the
//! lazily filled str caches, weakref clearing and resurrection in `tp_dealloc`,
//! static types edited after they are ready, `tp_is_gc` answering "no", and the
//! thread state's private fields. Each rule is one file; this module holds what
//! several of them read: the slot tables, the functions that fill a type slot,
//! and small text helpers.

use std::collections::HashSet;
use std::sync::Arc;

use crate::context::FileContext;
use crate::source::index::last_identifier;
use crate::source::preproc::Truth;

pub mod ft210_static_object_header_positional;
pub mod ft211_gc_header_access;
pub mod ft212_private_struct_mirror;
pub mod ft213_str_internals_read;
pub mod ft214_conditional_weakref_clear;
pub mod ft215_resurrection_in_dealloc;
pub mod ft216_static_type_modified_at_runtime;
pub mod ft217_tp_is_gc_false;
pub mod ft218_thread_state_internals;

pub use ft210_static_object_header_positional::STATIC_OBJECT_HEADER_POSITIONAL;
pub use ft211_gc_header_access::GC_HEADER_ACCESS;
pub use ft212_private_struct_mirror::PRIVATE_STRUCT_MIRROR;
pub use ft213_str_internals_read::STR_INTERNALS_READ;
pub use ft214_conditional_weakref_clear::CONDITIONAL_WEAKREF_CLEAR;
pub use ft215_resurrection_in_dealloc::RESURRECTION_IN_DEALLOC;
pub use ft216_static_type_modified_at_runtime::STATIC_TYPE_MODIFIED_AT_RUNTIME;
pub use ft217_tp_is_gc_false::TP_IS_GC_FALSE;
pub use ft218_thread_state_internals::THREAD_STATE_INTERNALS;

/// The `PyTypeObject` slots this family reads (their positions in an undesignated
/// initializer come from the catalogue).
const SLOTS_READ: [&str; 2] = ["tp_dealloc", "tp_is_gc"];

/// Is `offset` compiled in some free-threaded build this project targets?
///
/// The same question `privacy::Analysis::compiled_in_ft` answers, without
/// building the privacy analysis, which no rule of this family needs.
pub(crate) fn compiled_in_ft(ctx: &FileContext, offset: usize) -> bool {
    // The vendored pythoncapi-compat header implements the new API (such as
    // `PyObject_GC_IsTracked`) with the old internals, under version guards.
    if ctx
        .file
        .path
        .file_name()
        .is_some_and(|n| n == "pythoncapi_compat.h")
    {
        return false;
    }
    let cond = ctx.file.condition_at(offset);
    crate::rules::memo_ft_configs(ctx)
        .0
        .iter()
        .any(|c| cond.eval(c) != Truth::False)
}

/// The text of a byte range of the parsed file.
pub(crate) fn text<'a>(ctx: &FileContext<'a>, r: (usize, usize)) -> &'a str {
    ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// The functions of this file named in a type slot (`.tp_dealloc = f`, the
/// slot's position in an undesignated `PyTypeObject`, `{Py_tp_dealloc, f}`),
/// by index into the file's functions. Computed once per file.
#[derive(Default)]
pub(crate) struct SlotFunctions {
    /// (slot name without `Py_`, function index).
    pub by_slot: Vec<(&'static str, usize)>,
}

impl SlotFunctions {
    pub fn get(ctx: &FileContext) -> Arc<SlotFunctions> {
        ctx.memo.get(|| SlotFunctions::build(ctx))
    }

    fn build(ctx: &FileContext) -> SlotFunctions {
        let idx = ctx.index;
        let mut by_slot = Vec::new();
        let mut push = |slot: &'static str, value: &str| {
            let name = last_identifier(value);
            if let Some(f) = idx.function_named(&name) {
                if !by_slot.contains(&(slot, f)) {
                    by_slot.push((slot, f));
                }
            }
        };
        for d in &idx.decls {
            let Some(init) = &d.init else { continue };
            if d.type_text.contains("PyTypeObject") {
                for slot in SLOTS_READ {
                    let Some(pos) = crate::capi::type_slot_position(slot) else {
                        continue;
                    };
                    if let Some(v) = init.field(slot, pos).and_then(|v| v.expr()) {
                        push(slot, v);
                    }
                }
            } else if d.type_text.contains("PyType_Slot") {
                for item in init.items() {
                    let pair = item.value.items();
                    let (Some(k), Some(v)) = (
                        pair.first().and_then(|i| i.value.expr()),
                        pair.get(1).and_then(|i| i.value.expr()),
                    ) else {
                        continue;
                    };
                    let k = k.trim().trim_start_matches("Py_");
                    if let Some(slot) = SLOTS_READ.iter().find(|s| **s == k) {
                        push(slot, v);
                    }
                }
            }
        }
        SlotFunctions { by_slot }
    }

    /// Functions of this file filling `slot` (`tp_dealloc`).
    pub fn filling(&self, slot: &str) -> HashSet<usize> {
        self.by_slot
            .iter()
            .filter(|(s, _)| *s == slot)
            .map(|(_, f)| *f)
            .collect()
    }
}

/// Deallocators of this file: functions named in a `tp_dealloc` slot, and
/// functions whose name says so (`Foo_dealloc`, `foo_tp_dealloc`) for types
/// whose slots are filled in another file.
pub(crate) fn is_dealloc(ctx: &FileContext, function: usize) -> bool {
    let Some(f) = ctx.index.functions.get(function) else {
        return false;
    };
    f.name.to_ascii_lowercase().contains("dealloc")
        || SlotFunctions::get(ctx)
            .filling("tp_dealloc")
            .contains(&function)
}

/// `x` without casts, parentheses and blanks: `((PyObject *)self)` → `self`.
pub(crate) fn bare(expr: &str) -> String {
    crate::source::privacy::normalize(expr)
}

/// The offset of the bracket closing the one at `open` (`{`, `(` or `[`), by
/// counting in the parsed text (comments and directives are already blanked).
pub(crate) fn closing(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (o, c) = match b.get(open)? {
        b'{' => (b'{', b'}'),
        b'(' => (b'(', b')'),
        b'[' => (b'[', b']'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (i, ch) in b.iter().enumerate().skip(open) {
        if *ch == o {
            depth += 1;
        } else if *ch == c {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits a bracket's contents at top-level commas.
pub(crate) fn top_level_items(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner[start..].trim().is_empty() {
        out.push(&inner[start..]);
    }
    out
}

/// Offsets of `word`, as a whole identifier, in the bodies of the file's
/// `#define` lines (which the parser never sees), with the directive's range.
pub(crate) fn define_occurrences(ctx: &FileContext, word: &str) -> Vec<(usize, (usize, usize))> {
    use crate::source::lex::DirectiveKind;
    let t = ctx.file.text.as_str();
    let is_id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    for d in ctx
        .file
        .lexed
        .directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
    {
        let Some(body) = t.get(d.start..d.end) else {
            continue;
        };
        for (i, _) in body.match_indices(word) {
            let at = d.start + i;
            let b = t.as_bytes();
            let before = at.checked_sub(1).map(|j| b[j]);
            let after = b.get(at + word.len()).copied();
            if before.is_some_and(is_id) || after.is_some_and(is_id) || ctx.file.in_comment(at) {
                continue;
            }
            out.push((at, (d.start, d.end)));
        }
    }
    out
}

/// CPython's own modules, built with the interpreter, may use its internals:
/// they always match the headers they are compiled with. They say so with
/// `Py_BUILD_CORE_MODULE`/`Py_BUILD_CORE_BUILTIN`, or include internal
/// `pycore_*.h` headers without defining `Py_BUILD_CORE` themselves (CPython's
/// build passes it; those headers refuse to compile without it). Third-party
/// code that defines `Py_BUILD_CORE` to reach the internals is still checked.
pub(crate) fn is_cpython_module(ctx: &FileContext) -> bool {
    // Four rules ask, and the answer searches the whole text: once per file.
    struct CpythonModule(bool);
    ctx.memo.get(|| CpythonModule(search_cpython_module(ctx))).0
}

fn search_cpython_module(ctx: &FileContext) -> bool {
    use crate::source::lex::DirectiveKind;
    let t = ctx.file.text.as_str();
    if t.contains("Py_BUILD_CORE_MODULE") || t.contains("Py_BUILD_CORE_BUILTIN") {
        return true;
    }
    let directives = &ctx.file.lexed.directives;
    let includes_core = directives
        .iter()
        .any(|d| d.kind == DirectiveKind::Other && d.arg.contains("pycore_"));
    let defines_core = directives.iter().any(|d| {
        d.kind == DirectiveKind::Define && d.arg.trim_start().starts_with("Py_BUILD_CORE")
    });
    includes_core && !defines_core
}

/// A field access `base->field` / `base.field` whose field starts at `off`:
/// the `field_expression` node.
pub(crate) fn field_expression_at<'t>(
    ctx: &FileContext<'t>,
    off: usize,
) -> Option<tree_sitter::Node<'t>> {
    let root = ctx.file.tree.root_node();
    let fe = crate::source::privacy::ancestor_of_kind(root, off, &["field_expression"])?;
    fe.child_by_field_name("field")
        .is_some_and(|f| f.start_byte() == off)
        .then_some(fe)
}

/// The expression under any parentheses and casts: `((PyASCIIObject *)s)` → `s`,
/// `reinterpret_cast<T *>(s)` → `s`.
pub(crate) fn uncast<'t>(src: &str, mut n: tree_sitter::Node<'t>) -> tree_sitter::Node<'t> {
    loop {
        let next = match n.kind() {
            "parenthesized_expression" => n.named_child(0),
            "cast_expression" => n.child_by_field_name("value"),
            "call_expression" => {
                let is_cast = n
                    .child_by_field_name("function")
                    .filter(|f| f.kind() == "template_function")
                    .and_then(|f| f.child_by_field_name("name"))
                    .and_then(|nm| src.get(nm.byte_range()))
                    .is_some_and(|nm| nm.ends_with("_cast"));
                let args = n.child_by_field_name("arguments");
                match args {
                    Some(a) if is_cast && a.named_child_count() == 1 => a.named_child(0),
                    _ => None,
                }
            }
            _ => None,
        };
        match next {
            Some(c) => n = c,
            None => return n,
        }
    }
}

/// Is the field expression `fe` written (`fe = ...`, `fe += ...`, `fe++`, `&fe`)?
pub(crate) fn is_written(fe: tree_sitter::Node) -> bool {
    let Some(p) = fe.parent() else { return false };
    match p.kind() {
        "assignment_expression" => p
            .child_by_field_name("left")
            .is_some_and(|l| l.id() == fe.id()),
        "update_expression" => true,
        "pointer_expression" => true,
        _ => false,
    }
}

/// Does the expression `base` have type `ty` (by a cast in it, or by the declared
/// type of the variable or parameter it names) in function `f`?
pub(crate) fn typed_as(ctx: &FileContext, f: Option<usize>, base: &str, ty: &str) -> bool {
    if crate::source::privacy::mentions(base, ty) {
        return true;
    }
    let b = bare(base);
    if !crate::source::privacy::is_identifier(&b) {
        return false;
    }
    ctx.index
        .declaration_of(&b, f)
        .is_some_and(|d| crate::source::privacy::mentions(&d.type_text, ty))
        || f.and_then(|f| ctx.index.functions.get(f))
            .is_some_and(|func| {
                func.params
                    .iter()
                    .any(|p| p.name == b && crate::source::privacy::mentions(&p.ty, ty))
            })
}
