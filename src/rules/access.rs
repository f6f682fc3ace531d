//! FT2xx — unlocked access.
//!
//! Macros and struct fields that read or write a built-in container without its
//! per-object lock, and reference-count tricks that assumed the GIL. Container
//! rules ask [`crate::source::privacy`] first and stay quiet on private containers.

use tree_sitter::Node;

use crate::context::FileAnalysis as Analysis;
use crate::diagnostic::{Applicability, Confidence, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::{
    ancestor_of_kind, identifiers, is_identifier, normalize, Privacy, Private, Shared,
};

pub static DICT_NEXT_UNLOCKED: Rule = Rule {
    code: "FT201",
    name: "dict-next-without-critical-section",
    severity: Severity::Error,
    summary:
        "`PyDict_Next` iterates a dict other threads can change, outside a critical section on it.",
    doc: r#"## What it does
Finds `PyDict_Next(d, ...)` when `d` is not private to the call and the call is not
inside `Py_BEGIN_CRITICAL_SECTION(d)` (or `Py_BEGIN_CRITICAL_SECTION2` naming `d`).
The keyword-arguments dict of the call and dicts created in the function that have
not been shared yet are not reported.

## Why is this bad?
`PyDict_Next` does not lock the dict. If another thread inserts or deletes while the
loop runs, the position becomes meaningless, and the borrowed keys and values can
be freed while the loop uses them.

## Example
```c
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
```

## Use instead
```c
Py_BEGIN_CRITICAL_SECTION(self->dict);
while (PyDict_Next(self->dict, &pos, &key, &value)) { ... }
Py_END_CRITICAL_SECTION();
```
Do not `return` or `goto` out of the section, and take strong references to keys and
values that are used after a call that may run Python code (FT304). Iterating over
a snapshot (`PyDict_Items(d)`) is the alternative.

## References
- CPython howto *C API Extension Support for Free Threading*, "`PyDict_Next`".
- C API reference: `PyDict_Next`.
"#,
    fix: FixAvailability::None,
};

pub static SET_ITEM_ON_SHARED: Rule = Rule {
    code: "FT202",
    name: "set-item-macro-on-shared-container",
    severity: Severity::Error,
    summary: "`PyList_SET_ITEM`/`PyTuple_SET_ITEM` on a container that is not freshly created.",
    doc: r#"## What it does
Finds `PyList_SET_ITEM` and `PyTuple_SET_ITEM` whose target was not created in this
function, or was already stored somewhere or passed to other code before the call.

## Why is this bad?
These macros write the item slot without locking and without releasing the old
item. They are meant for filling a container nobody else can see yet. On a shared
list another thread can read or resize it during the write; a shared tuple must
never change at all.

## Example
```c
PyList_SET_ITEM(self->items, i, Py_NewRef(v));
```

## Use instead
```c
if (PyList_SetItem(self->items, i, Py_NewRef(v)) < 0) return NULL;
```
`PyList_SetItem` locks the list and releases the old item.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

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

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

pub static BUILTIN_INTERNALS: Rule = Rule {
    code: "FT204",
    name: "builtin-internals-access",
    severity: Severity::Error,
    summary: "Direct access to the internals of a list, dict or type (`ob_item`, `ma_used`, `tp_dict` writes).",
    doc: r#"## What it does
Finds field accesses on built-in mutable objects: `ob_item` and `allocated` of a
`PyListObject`, `ma_used`, `ma_keys`, `ma_values` and `ma_version_tag` of a
`PyDictObject`, and assignments to a type's `tp_dict`. Tuples are not reported, and
neither are lists created in the function that have not been shared yet.

## Why is this bad?
The public API locks these objects; direct field access does not. Another thread
can resize the list (replacing `ob_item`) or the dict's key table while the field
is read.

## Example
```c
PyObject **items = ((PyListObject *)list)->ob_item;
```

## Use instead
Use `PyList_GetItemRef`, `PyList_GET_SIZE`, `PyDict_GET_SIZE` and friends, or hold a
critical section on the object. For a type's dict, `PyType_GetDict` (3.12).

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

pub static OB_REFCNT: Rule = Rule {
    code: "FT205",
    name: "ob-refcnt-access",
    severity: Severity::Error,
    summary: "`->ob_refcnt` does not exist in the free-threaded `PyObject`.",
    doc: r#"## What it does
Finds `x->ob_refcnt` and `x.ob_refcnt` in code compiled for a free-threaded build.

## Why is this bad?
The free-threaded object header splits the reference count into a thread-local and
a shared part; there is no `ob_refcnt` member, so the code does not compile.

## Example
```c
if (obj->ob_refcnt > 1) { ... }
```

## Use instead
```c
if (Py_REFCNT(obj) > 1) { ... }
```
Reads are fixed safely with `Py_REFCNT(x)`. Writes (`x->ob_refcnt = n`) become
`Py_SET_REFCNT(x, n)` as an unsafe fix (it ignores immortal objects); increments
are left to you.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
- C API reference: `Py_REFCNT`, `Py_SET_REFCNT`.
"#,
    fix: FixAvailability::Sometimes,
};

pub static REFCNT_UNIQUENESS: Rule = Rule {
    code: "FT206",
    name: "refcount-uniqueness-test",
    severity: Severity::Warning,
    summary: "`Py_REFCNT(x) == 1` is used to decide that nobody else holds an object.",
    doc: r#"## What it does
Finds comparisons of `Py_REFCNT(x)` with `1` (`== 1`, `!= 1`, `<= 1`, `> 1`, `< 2`,
`>= 2`) outside `assert(...)`.

## Why is this bad?
In the free-threaded build the count is split between the owning thread and a
shared counter; a count of one read by one thread does not prove another thread
holds no reference, so an in-place mutation guarded by it can race.

## Example
```c
if (Py_REFCNT(s) == 1) { /* resize in place */ }
```

## Use instead
```c
if (PyUnstable_Object_IsUniquelyReferenced(s)) { ... }
```
Added in 3.14; pythoncapi-compat provides it (with a correct 3.13t emulation). Its
answer can differ from the old test, so review the branch.

## References
- C API reference: `PyUnstable_Object_IsUniquelyReferenced`.
"#,
    fix: FixAvailability::None,
};

pub static SET_REFCNT_SHARED: Rule = Rule {
    code: "FT207",
    name: "set-refcnt-on-shared-object",
    severity: Severity::Warning,
    summary: "`Py_SET_REFCNT` on an object other threads may hold.",
    doc: r#"## What it does
Finds `Py_SET_REFCNT(x, n)` when `x` was not created in this function (or has
already been published), outside deallocation and finalisation functions, where
an object is briefly resurrected on purpose. Objects whose origin is not visible
are reported as `likely`.

## Why is this bad?
In the free-threaded build the count is split between the owning thread and a
shared counter that other threads update atomically. Overwriting it while another
thread holds or takes a reference loses their updates: the object is freed too
early or never. Hand-made immortalisation has the same problem.

## Example
```c
Py_SET_REFCNT(cached, 1 << 30);   /* "make it immortal" */
```

## Use instead
Keep a strong reference instead of editing the count. For immortalisation use
`PyUnstable_SetImmortal` (3.15; pythoncapi-compat provides it on 3.13+), and only on
objects not yet visible to other threads.

## References
- C API reference: `Py_SET_REFCNT`, `PyUnstable_SetImmortal`.
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &DICT_NEXT_UNLOCKED,
    &SET_ITEM_ON_SHARED,
    &STALE_SIZE,
    &BUILTIN_INTERNALS,
    &OB_REFCNT,
    &REFCNT_UNIQUENESS,
    &SET_REFCNT_SHARED,
];

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !RULES.iter().any(|r| ctx.enabled(r)) {
        return;
    }
    let an = Analysis::new(ctx);
    dict_next(&an, out);
    set_item(&an, out);
    stale_size(&an, out);
    internals(&an, out);
    ob_refcnt(&an, out);
    uniqueness(&an, out);
    set_refcnt(&an, out);
}

fn set_refcnt(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&SET_REFCNT_SHARED) {
        return;
    }
    for call in ctx.index.calls.iter().filter(|c| c.name == "Py_SET_REFCNT") {
        let (Some(arg), Some(fi)) = (call.args.first(), call.function) else {
            continue;
        };
        let fname = ctx.index.functions[fi].name.to_ascii_lowercase();
        // Deallocators and finalisers resurrect the object they own on purpose.
        if ["dealloc", "finalize", "finalise", "_del", "resurrect"]
            .iter()
            .any(|w| fname.contains(w))
        {
            continue;
        }
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_fresh() || matches!(p, Privacy::Private(Private::ModuleInit | Private::Unique)) {
            continue;
        }
        // An object this function just made (`PyUnicode_FromString`, `PyObject_Malloc`, `Foo_New`).
        if let Privacy::Shared(Shared::CallResult(c)) = &p {
            if c.contains("From")
                || c.ends_with("New")
                || c.ends_with("Malloc")
                || c.starts_with("PyObject_Call")
            {
                continue;
            }
        }
        let x = text(an, *arg).trim();
        let what = match &p {
            Privacy::Private(_) => format!("`{x}`"),
            _ => p.describe(x),
        };
        out.push(
            ctx.diagnostic(&SET_REFCNT_SHARED, call.name_range, format!("`Py_SET_REFCNT` overwrites the reference count of {what}, which other threads may update concurrently"))
                .with_help("keep a strong reference instead; to immortalise, use `PyUnstable_SetImmortal` on an object not yet published")
                .with_confidence(match &p {
                    Privacy::Private(_) => Confidence::Likely,
                    _ => p.confidence(),
                }),
        );
    }
}

fn text<'a>(an: &Analysis<'a, '_>, r: (usize, usize)) -> &'a str {
    an.ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

fn dict_next(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&DICT_NEXT_UNLOCKED) {
        return;
    }
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| c.name == "PyDict_Next" && c.function.is_some())
    {
        let Some(arg) = call.args.first() else {
            continue;
        };
        if !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_private() {
            continue;
        }
        let d = text(an, *arg).trim();
        out.push(
            ctx.diagnostic(&DICT_NEXT_UNLOCKED, call.name_range, format!("`PyDict_Next` over {} without a critical section on it", p.describe(d)))
                .with_help(format!("wrap the whole loop in `Py_BEGIN_CRITICAL_SECTION({d});` ... `Py_END_CRITICAL_SECTION();`, or iterate over `PyDict_Items({d})`"))
                .with_confidence(p.confidence()),
        );
    }
}

fn set_item(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&SET_ITEM_ON_SHARED) {
        return;
    }
    for call in ctx
        .index
        .calls
        .iter()
        .filter(|c| matches!(c.name.as_str(), "PyList_SET_ITEM" | "PyTuple_SET_ITEM"))
    {
        let Some(arg) = call.args.first() else {
            continue;
        };
        if call.function.is_none() || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let p = an.container(*arg, call.range.0);
        if p.is_fresh()
            || matches!(
                p,
                Privacy::Private(Private::Locked | Private::Unique | Private::ModuleInit)
            )
        {
            continue;
        }
        let c = text(an, *arg).trim();
        let what = match &p {
            Privacy::Private(_) => format!("`{c}`, which this function did not create"),
            _ => p.describe(c),
        };
        let help = if call.name == "PyList_SET_ITEM" {
            "use `PyList_SetItem` (it locks the list and releases the old item)"
        } else {
            "build a new tuple instead: a tuple others can see must not change"
        };
        out.push(
            ctx.diagnostic(
                &SET_ITEM_ON_SHARED,
                call.name_range,
                format!("`{}` writes into {}", call.name, what),
            )
            .with_help(help)
            .with_confidence(if matches!(p, Privacy::Private(_)) {
                Confidence::Certain
            } else {
                p.confidence()
            }),
        );
    }
}

fn stale_size(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&STALE_SIZE) {
        return;
    }
    let root = ctx.file.tree.root_node();
    let mut loops_reported = Vec::new();
    for call in ctx.index.calls.iter().filter(|c| {
        matches!(
            c.name.as_str(),
            "PyList_GET_ITEM" | "PySequence_Fast_GET_ITEM"
        )
    }) {
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
        let container = normalize(text(an, *arg));
        let Some(bound) = identifiers(ctx.file.node_text(cond))
            .find(|v| size_variable(an, fi, v, &container, lp.start_byte()))
        else {
            continue;
        };
        let p = an.container(*arg, call.range.0);
        if p.is_private() {
            continue;
        }
        loops_reported.push(lp.start_byte());
        let c = text(an, *arg).trim();
        out.push(
            ctx.diagnostic(
                &STALE_SIZE,
                (cond.start_byte(), cond.end_byte()),
                format!("the loop bound `{bound}` was read from the size of {} before the loop; `{}` does not check it again", p.describe(c), call.name),
            )
            .with_help("re-read the size in each iteration and use `PyList_GetItemRef`, or hold a critical section on the list for the whole loop")
            .with_confidence(p.confidence()),
        );
    }
}

/// Was `var` set from the size of `container` before `before`?
fn size_variable(an: &Analysis, fi: usize, var: &str, container: &str, before: usize) -> bool {
    let idx = an.ctx.index;
    let is_size = |r: (usize, usize)| {
        let t = normalize(text(an, r));
        [
            "PyList_GET_SIZE(",
            "PyList_Size(",
            "PySequence_Fast_GET_SIZE(",
            "Py_SIZE(",
        ]
        .iter()
        .any(|p| {
            t.strip_prefix(p)
                .and_then(|x| x.strip_suffix(')'))
                .is_some_and(|x| normalize(x) == container)
        })
    };
    let from_decl = idx
        .decls
        .iter()
        .filter(|d| d.function == Some(fi) && d.name == var && d.range.0 < before)
        .any(|d| d.init.as_ref().is_some_and(|i| is_size(i.range())));
    let from_assign = idx
        .assignments
        .iter()
        .filter(|a| a.function == Some(fi) && a.range.1 <= before && normalize(&a.lhs_text) == var)
        .any(|a| is_size(a.rhs));
    from_decl || from_assign
}

const LIST_FIELDS: &[&str] = &["ob_item", "allocated"];
const DICT_FIELDS: &[&str] = &["ma_used", "ma_keys", "ma_values", "ma_version_tag"];

fn internals(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&BUILTIN_INTERNALS) {
        return;
    }
    let root = ctx.file.tree.root_node();
    for field in LIST_FIELDS.iter().chain(DICT_FIELDS).chain(&["tp_dict"]) {
        for off in ctx.file.code_occurrences(field) {
            let Some(fe) = ancestor_of_kind(root, off, &["field_expression"]) else {
                continue;
            };
            let Some(fi) = ctx.index.function_at(off) else {
                continue;
            };
            let Some(base) = fe.child_by_field_name("argument") else {
                continue;
            };
            if fe
                .child_by_field_name("field")
                .is_none_or(|f| f.start_byte() != off)
                || !an.compiled_in_ft(off)
            {
                continue;
            }
            let base_text = ctx.file.node_text(base);
            let obj_type = if LIST_FIELDS.contains(field) {
                "PyListObject"
            } else if DICT_FIELDS.contains(field) {
                "PyDictObject"
            } else {
                ""
            };
            if *field == "tp_dict" {
                if !is_assignment_target(fe) {
                    continue;
                }
            } else if !typed_as(an, fi, base_text, obj_type) {
                continue;
            }
            let p = an.container((base.start_byte(), base.end_byte()), off);
            if p.is_private() {
                continue;
            }
            let msg = if *field == "tp_dict" {
                format!(
                    "writing `{}` replaces a type's dict behind the type's lock",
                    ctx.file.node_text(fe)
                )
            } else {
                format!(
                    "`{field}` of a `{obj_type}` read or written without the object's lock ({})",
                    p.describe(base_text.trim())
                )
            };
            out.push(
                ctx.diagnostic(&BUILTIN_INTERNALS, (fe.start_byte(), fe.end_byte()), msg)
                    .with_help("use the public API (it locks the object) or hold a critical section on it; for a type's dict use `PyType_GetDict`")
                    .with_confidence(p.confidence()),
            );
        }
    }
}

fn is_assignment_target(n: Node) -> bool {
    n.parent().is_some_and(|p| {
        p.kind() == "assignment_expression"
            && p.child_by_field_name("left")
                .is_some_and(|l| l.id() == n.id())
    })
}

/// Is the expression `base` a `ty` (by its cast or by its variable's declared type)?
fn typed_as(an: &Analysis, fi: usize, base: &str, ty: &str) -> bool {
    if base.contains(ty) {
        return true;
    }
    let b = normalize(base);
    is_identifier(&b)
        && (an
            .ctx
            .index
            .declaration_of(&b, Some(fi))
            .is_some_and(|d| d.type_text.contains(ty))
            || an.ctx.index.functions[fi]
                .params
                .iter()
                .any(|p| p.name == b && p.ty.contains(ty)))
}

fn ob_refcnt(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&OB_REFCNT) {
        return;
    }
    let root = ctx.file.tree.root_node();
    for off in ctx.file.code_occurrences("ob_refcnt") {
        let Some(fe) = ancestor_of_kind(root, off, &["field_expression", "field_declaration"])
        else {
            continue;
        };
        if fe.kind() != "field_expression" || !an.compiled_in_ft(off) {
            continue;
        }
        let Some(base) = fe.child_by_field_name("argument") else {
            continue;
        };
        let arrow = ctx
            .file
            .parse_text
            .get(base.end_byte()..off)
            .is_some_and(|s| s.trim() == "->");
        let base_text = ctx.file.node_text(base);
        let parent = fe.parent();
        let parent_kind = parent.map(|p| p.kind()).unwrap_or("");
        let fix = if !arrow {
            None
        } else if is_assignment_target(fe) {
            parent
                .filter(|p| {
                    ctx.file.node_text(*p).contains('=')
                        && p.child_by_field_name("operator")
                            .is_some_and(|o| ctx.file.node_text(o) == "=")
                })
                .and_then(|p| {
                    let rhs = p.child_by_field_name("right")?;
                    Some(Fix {
                        applicability: Applicability::Unsafe,
                        message: "Use `Py_SET_REFCNT` (it leaves immortal objects alone)".into(),
                        edits: vec![Edit {
                            span: ctx.file.span(p.start_byte(), p.end_byte()),
                            content: format!(
                                "Py_SET_REFCNT({}, {})",
                                base_text.trim(),
                                ctx.file.node_text(rhs).trim()
                            ),
                        }],
                    })
                })
        } else if matches!(parent_kind, "update_expression" | "pointer_expression") {
            None
        } else {
            Some(Fix {
                applicability: Applicability::Safe,
                message: "Use `Py_REFCNT`".into(),
                edits: vec![Edit {
                    span: ctx.file.span(fe.start_byte(), fe.end_byte()),
                    content: format!("Py_REFCNT({})", base_text.trim()),
                }],
            })
        };
        let mut d = ctx
            .diagnostic(&OB_REFCNT, (fe.start_byte(), fe.end_byte()), format!("`{}` does not compile on the free-threaded build: `PyObject` has no `ob_refcnt` there", ctx.file.node_text(fe)))
            .with_help("use `Py_REFCNT(x)` to read and `Py_SET_REFCNT(x, n)` to write");
        if let Some(f) = fix {
            d = d.with_fix(f);
        }
        out.push(d);
    }
}

fn uniqueness(an: &Analysis, out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&REFCNT_UNIQUENESS) {
        return;
    }
    let root = ctx.file.tree.root_node();
    for call in ctx.index.calls.iter().filter(|c| c.name == "Py_REFCNT") {
        let Some(node) = root.descendant_for_byte_range(call.range.0, call.range.1) else {
            continue;
        };
        let mut n = node;
        while n.kind() != "call_expression" {
            let Some(p) = n.parent() else { break };
            n = p;
        }
        let Some(bin) = n.parent().filter(|p| p.kind() == "binary_expression") else {
            continue;
        };
        let (Some(op), Some(l), Some(r)) = (
            bin.child_by_field_name("operator"),
            bin.child_by_field_name("left"),
            bin.child_by_field_name("right"),
        ) else {
            continue;
        };
        let op = ctx.file.node_text(op);
        let other = if l.id() == n.id() {
            ctx.file.node_text(r)
        } else {
            ctx.file.node_text(l)
        };
        let uniq = matches!(
            (op, other.trim()),
            ("==" | "!=" | "<=" | ">", "1") | ("<" | ">=", "2")
        );
        if !uniq || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let in_assert = ctx.index.calls.iter().any(|c| {
            c.range.0 <= call.range.0
                && call.range.1 <= c.range.1
                && (c.name == "assert" || c.name.ends_with("ASSERT") || c.name.contains("assert"))
        });
        if in_assert || call.function.is_none() {
            continue;
        }
        let subject = call.args.first().map(|r| text(an, *r).trim()).unwrap_or("");
        out.push(
            ctx.diagnostic(&REFCNT_UNIQUENESS, (bin.start_byte(), bin.end_byte()), format!("`{}` does not prove `{subject}` is unshared on the free-threaded build", ctx.file.node_text(bin)))
                .with_help("use `PyUnstable_Object_IsUniquelyReferenced` (3.14; pythoncapi-compat provides it)"),
        );
    }
}
