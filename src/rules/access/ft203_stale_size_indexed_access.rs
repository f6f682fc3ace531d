//! FT203: a loop bound read from a shared list's size once, before the loop.

use tree_sitter::Node;

use crate::capi;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::{ancestor_of_kind, identifiers, normalize};

use super::text;

pub static STALE_SIZE: Rule = Rule {
    code: "FT203",
    name: "stale-size-indexed-access",
    severity: Severity::Error,
    summary: "A list size read once bounds a loop of unchecked item reads on a shared list.",
    doc: r#"## What it does
Finds a loop bounded by a variable that holds `PyList_GET_SIZE(c)`, `PyList_Size(c)`
or `PySequence_Fast_GET_SIZE(c)`, read before the loop, when the loop reads items of
`c` with `PyList_GET_ITEM` or `PySequence_Fast_GET_ITEM` and `c` is not private.

## Why is this bad?
Another thread can shrink the list while the loop runs; the unchecked macros then
read past the end of the item array.

## Example
```c
Py_ssize_t n = PyList_GET_SIZE(list);
for (Py_ssize_t i = 0; i < n; i++) use(PyList_GET_ITEM(list, i));
```

## Use instead
Re-read the size each iteration and use `PyList_GetItemRef` (it returns `NULL` with
`IndexError` once the list has shrunk), hold a critical section on the list for the
whole loop, or iterate over a snapshot from `PySequence_Tuple`.

## Fix
With `--unsafe-fixes`, the statement that reads the size and the loop are wrapped
together in `Py_BEGIN_CRITICAL_SECTION(c);` ... `Py_END_CRITICAL_SECTION();`, so the
size cannot change between the read and the last item read. It is unsafe: a call in
the loop that runs Python code can suspend the section (and then the list can still
shrink), and statements between the size read and the loop run under the lock too.
No fix when `c` is not a plain name or field chain (the macro evaluates it again),
when the size is read in another block than the loop, when a variable declared
there is used after the loop (the section is a block of its own), when something
jumps out of the loop, or when the function has preprocessor conditionals.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let root = ctx.file.tree.root_node();
    let mut loops_reported = Vec::new();
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| unchecked_item_read(&c.name))
    {
        let (Some(arg), Some(fi)) = (call.args.first(), call.function) else {
            continue;
        };
        let Some(lp) = ancestor_of_kind(
            root,
            call.range.0,
            &["for_statement", "while_statement", "do_statement"],
        ) else {
            continue;
        };
        if loops_reported.contains(&lp.start_byte()) || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let Some(cond) = lp.child_by_field_name("condition") else {
            continue;
        };
        let container = normalize(text(ctx, *arg));
        let Some(bound) = identifiers(ctx.file.node_text(cond))
            .find(|v| size_variable(ctx, fi, v, &container, lp.start_byte()))
        else {
            continue;
        };
        let p = an.container(*arg, call.range.0);
        if p.is_private() {
            continue;
        }
        loops_reported.push(lp.start_byte());
        let c = text(ctx, *arg).trim();
        let mut d = ctx
            .diagnostic(
                &STALE_SIZE,
                (cond.start_byte(), cond.end_byte()),
                format!("the loop bound `{bound}` was read from the size of {} before the loop; `{}` does not check it again", p.describe(c), call.name),
            )
            .with_help("re-read the size in each iteration and use `PyList_GetItemRef`, or hold a critical section on the list for the whole loop")
            .with_confidence(p.confidence());
        let set_at = size_set_at(ctx, fi, bound, &container, lp.start_byte());
        if let Some(fix) = set_at.and_then(|at| lock_size_and_loop_fix(ctx, lp, at, bound, c)) {
            d = d.with_fix(fix);
        }
        out.push(d);
    }
}

/// Where `var` was last set from the size of `container` before `before`, if it was.
fn size_set_at(
    ctx: &FileContext,
    fi: usize,
    var: &str,
    container: &str,
    before: usize,
) -> Option<usize> {
    let idx = ctx.index;
    let is_size = |r: (usize, usize)| {
        let t = normalize(text(ctx, r));
        t.split_once('(').is_some_and(|(name, rest)| {
            capi::is_size_getter(name)
                && rest
                    .strip_suffix(')')
                    .is_some_and(|x| normalize(x) == container)
        })
    };
    let from_decl = idx
        .decls
        .iter()
        .filter(|d| d.function == Some(fi) && d.name == var && d.range.0 < before)
        .filter(|d| d.init.as_ref().is_some_and(|i| is_size(i.range())))
        .map(|d| d.range.0);
    let from_assign = idx
        .assignments
        .iter()
        .filter(|a| a.function == Some(fi) && a.range.1 <= before && normalize(&a.lhs_text) == var)
        .filter(|a| is_size(a.rhs))
        .map(|a| a.range.0);
    from_decl.chain(from_assign).max()
}

/// Was `var` set from the size of `container` before `before`?
fn size_variable(ctx: &FileContext, fi: usize, var: &str, container: &str, before: usize) -> bool {
    size_set_at(ctx, fi, var, container, before).is_some()
}

/// Locks `container` from the statement that reads its size into `bound` (at
/// `set_at`) to the end of the loop `lp`: the size then holds for every item read.
fn lock_size_and_loop_fix(
    ctx: &FileContext,
    lp: Node,
    set_at: usize,
    bound: &str,
    container: &str,
) -> Option<Fix> {
    use crate::fix::{critical_section, scope};
    let file = ctx.file;
    // Evaluated once more by the macro: only plain names and field chains.
    let plain = !container.is_empty()
        && container
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '>' | '.'));
    if !plain {
        return None;
    }
    let block = lp.parent()?;
    let statements = scope::statements(block);
    let at = statements.iter().position(|s| s.id() == lp.id())?;
    let first_at = statements[..at]
        .iter()
        .rposition(|s| s.start_byte() <= set_at && set_at < s.end_byte())?;
    let first = statements[first_at];
    let function = scope::enclosing_function(lp)?;
    if first.kind() == "declaration" {
        // The section is a block of its own: what the declaration declares must not
        // be needed after the loop.
        if first
            .children_by_field_name("declarator", &mut first.walk())
            .count()
            != 1
        {
            return None;
        }
        let after = file.text.get(lp.end_byte()..function.end_byte())?;
        if identifiers(after).any(|v| v == bound) {
            return None;
        }
    }
    let wrapped = critical_section::wrap(file, function, first, lp, &[container])?;
    let message = if at - first_at > 1 {
        format!("Lock `{container}` from the size read to the end of the loop (the statements in between run under the lock too)")
    } else {
        format!("Lock `{container}` from the size read to the end of the loop")
    };
    // Always unsafe: a call in the loop that runs Python code suspends the section.
    critical_section::section_fix(
        file,
        ctx.settings.target_minor,
        wrapped,
        message,
        Applicability::Unsafe,
    )
}

/// An item read that neither locks nor checks the index, on a container whose size
/// can change (`PyList_GET_ITEM`, `PySequence_Fast_GET_ITEM`; tuples never shrink).
fn unchecked_item_read(name: &str) -> bool {
    capi::reads_borrowed_item(name)
        && capi::indexes_unchecked(name)
        && capi::operated_container(name).is_some_and(capi::Container::is_mutable)
}
