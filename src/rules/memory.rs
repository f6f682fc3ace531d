//! FT5xx — memory-allocation domains.
//!
//! The free-threaded build requires that Python objects, and only Python objects,
//! are allocated in the object domain (`PyObject_Malloc` and friends): its
//! allocator and garbage collector rely on it. Buffers belong to `PyMem_*` (or
//! `malloc`); every block must be freed by its own domain.

use std::collections::HashMap;

use crate::context::FileAnalysis as Analysis;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::Call;
use crate::source::privacy::{is_identifier, normalize};

pub static OBJECT_DOMAIN_BUFFER: Rule = Rule {
    code: "FT501",
    name: "object-allocator-for-buffer",
    severity: Severity::Error,
    summary: "`PyObject_Malloc`/`Calloc`/`Realloc` allocates memory that is not a Python object.",
    doc: r#"## What it does
Finds `PyObject_Malloc`, `PyObject_Calloc`, `PyObject_Realloc` (and the upper-case
macros) whose result is stored in a variable or field whose type is not a Python
object: `char *`, `int *`, `void *`, or a struct without an object header. Findings
on types defined elsewhere are `likely`.

## Why is this bad?
The free-threaded build allocates objects in a heap its garbage collector scans;
only Python objects may live there. A buffer in that heap is mistaken for an
object, and crashes follow.

## Example
```c
char *buf = PyObject_Malloc(size);
...
PyObject_Free(buf);
```

## Use instead
```c
char *buf = PyMem_Malloc(size);
...
PyMem_Free(buf);
```
Change the allocation and every free of that pointer together (FT502).

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
"#,
    fix: FixAvailability::None,
};

pub static CROSS_DOMAIN_FREE: Rule = Rule {
    code: "FT502",
    name: "cross-domain-free",
    severity: Severity::Error,
    summary: "Memory is freed by a different allocator domain than the one that allocated it.",
    doc: r#"## What it does
Finds a pointer allocated with one domain (`malloc`, `PyMem_Raw*`, `PyMem_*`,
`PyObject_*`) and freed with another (`free`, `PyMem_RawFree`, `PyMem_Free`,
`PyObject_Free`). Locals are matched within a function; struct fields
(`self->buf`) across the file.

## Why is this bad?
Each domain has its own allocator; in the free-threaded build the object and raw
domains use separate heaps. Freeing a block into the wrong one corrupts memory.

## Example
```c
self->buf = PyMem_Malloc(n);
...
PyObject_Free(self->buf);
```

## Use instead
```c
PyMem_Free(self->buf);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
- C API reference: "Memory Management" (allocator domains).
"#,
    fix: FixAvailability::None,
};

pub static OBJECT_OUTSIDE_DOMAIN: Rule = Rule {
    code: "FT503",
    name: "object-outside-object-domain",
    severity: Severity::Error,
    summary: "A Python object is initialised in memory from `malloc` or `PyMem_*`.",
    doc: r#"## What it does
Finds `PyObject_Init`, `PyObject_InitVar` (and the upper-case macros) on memory
allocated with `malloc`, `calloc` or a `PyMem_*` function.

## Why is this bad?
Every Python object must come from the object domain in the free-threaded build:
the garbage collector finds objects by walking that heap, and objects elsewhere
are never seen (or are freed into the wrong heap).

## Example
```c
PyObject *op = PyMem_Malloc(type->tp_basicsize);
PyObject_Init(op, type);
```

## Use instead
```c
PyObject *op = PyObject_New(PyObject, type);   /* or type->tp_alloc(type, 0) */
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &OBJECT_DOMAIN_BUFFER,
    &CROSS_DOMAIN_FREE,
    &OBJECT_OUTSIDE_DOMAIN,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    C,
    Raw,
    Mem,
    Object,
}

impl Domain {
    fn name(self) -> &'static str {
        match self {
            Domain::C => "the C library (`malloc`)",
            Domain::Raw => "the raw domain (`PyMem_Raw*`)",
            Domain::Mem => "the memory domain (`PyMem_*`)",
            Domain::Object => "the object domain (`PyObject_*`)",
        }
    }

    fn free_for(self) -> &'static str {
        match self {
            Domain::C => "free",
            Domain::Raw => "PyMem_RawFree",
            Domain::Mem => "PyMem_Free",
            Domain::Object => "PyObject_Free",
        }
    }
}

fn alloc_domain(name: &str) -> Option<Domain> {
    Some(match name {
        "malloc" | "calloc" | "realloc" | "strdup" | "strndup" => Domain::C,
        "PyMem_RawMalloc" | "PyMem_RawCalloc" | "PyMem_RawRealloc" => Domain::Raw,
        "PyMem_Malloc" | "PyMem_Calloc" | "PyMem_Realloc" | "PyMem_New" | "PyMem_Resize"
        | "PyMem_MALLOC" | "PyMem_REALLOC" | "PyMem_NEW" | "PyMem_RESIZE" => Domain::Mem,
        "PyObject_Malloc" | "PyObject_Calloc" | "PyObject_Realloc" | "PyObject_MALLOC"
        | "PyObject_REALLOC" => Domain::Object,
        _ => return None,
    })
}

fn free_domain(name: &str) -> Option<Domain> {
    Some(match name {
        "free" => Domain::C,
        "PyMem_RawFree" => Domain::Raw,
        "PyMem_Free" | "PyMem_FREE" | "PyMem_Del" | "PyMem_DEL" => Domain::Mem,
        "PyObject_Free" | "PyObject_FREE" | "PyObject_Del" | "PyObject_DEL" => Domain::Object,
        _ => return None,
    })
}

pub fn check_file(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !RULES.iter().any(|r| ctx.enabled(r)) {
        return;
    }
    let an = Analysis::new(ctx);
    let allocs = collect_allocations(&an);
    buffers_in_object_domain(&an, &allocs, out);
    cross_domain_frees(&an, &allocs, out);
    objects_outside_domain(&an, &allocs, out);
}

/// One allocation stored in a variable or field.
struct Allocation<'i> {
    call: &'i Call,
    domain: Domain,
    /// Where it was stored: a local (`buf`) keyed by function, or a field (`->buf`) file-wide.
    key: String,
    function: usize,
    target_text: String,
}

fn text<'a>(an: &Analysis<'a, '_>, r: (usize, usize)) -> &'a str {
    an.ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// `buf` → `fn#buf`; `self->buf` → `->buf` (any object's field of that name).
fn storage_key(target: &str, function: usize) -> String {
    let t = normalize(target);
    if let Some(i) = t.rfind("->") {
        return t[i..].to_owned();
    }
    if let Some(i) = t.rfind('.') {
        return format!("->{}", &t[i + 1..]);
    }
    format!("{function}#{t}")
}

fn collect_allocations<'a>(an: &Analysis<'a, '_>) -> Vec<Allocation<'a>> {
    let idx: &'a crate::source::index::FileIndex = an.ctx.index;
    let mut out = Vec::new();
    for call in &idx.calls {
        let (Some(domain), Some(fi)) = (alloc_domain(&call.name), call.function) else {
            continue;
        };
        let call_text = normalize(text(an, call.range));
        // `x = PyMem_Malloc(n)` or `T *x = (T *)PyMem_Malloc(n)`.
        let target = idx
            .assignments
            .iter()
            .find(|a| {
                a.rhs.0 <= call.range.0
                    && call.range.1 <= a.rhs.1
                    && normalize(text(an, a.rhs)) == call_text
            })
            .map(|a| a.lhs_text.clone())
            .or_else(|| {
                idx.decls
                    .iter()
                    .filter(|d| d.function == Some(fi))
                    .find(|d| {
                        d.init
                            .as_ref()
                            .is_some_and(|i| normalize(text(an, i.range())) == call_text)
                    })
                    .map(|d| d.name.clone())
            });
        let Some(target) = target else { continue };
        out.push(Allocation {
            call,
            domain,
            key: storage_key(&target, fi),
            function: fi,
            target_text: target,
        });
    }
    out
}

/// The declared type of an allocation's target, when the file shows it.
fn target_type(an: &Analysis, a: &Allocation) -> Option<String> {
    let t = normalize(&a.target_text);
    if is_identifier(&t) {
        let d = an.ctx.index.declaration_of(&t, Some(a.function))?;
        if d.type_text == "auto" {
            // `auto *p = static_cast<T *>(PyObject_Malloc(n))`: the cast names the type.
            let init = d.init.as_ref().map(|i| text(an, i.range())).unwrap_or("");
            let cast = init
                .split_once('<')
                .map(|(_, r)| r)
                .or_else(|| init.strip_prefix('('))?;
            let ty = cast.split(['>', ')']).next()?.trim();
            return Some(ty.to_owned());
        }
        return Some(format!(
            "{}{}",
            d.type_text,
            if d.is_pointer { " *" } else { "" }
        ));
    }
    let field = a.key.strip_prefix("->")?;
    an.ctx
        .index
        .structs
        .iter()
        .flat_map(|s| s.fields.iter())
        .find(|(n, _)| n == field)
        .map(|(_, ty)| format!("{ty} *"))
}

/// Is `ty` an object type: `PyObject`, or a struct of this file with an object header?
fn is_object_type(an: &Analysis, ty: &str) -> Option<bool> {
    let base = ty
        .trim_end_matches(['*', ' '])
        .trim_start_matches("struct ")
        .trim_start_matches("const ")
        .trim();
    const PLAIN: &[&str] = &[
        "char",
        "unsigned char",
        "signed char",
        "int",
        "unsigned",
        "unsigned int",
        "long",
        "unsigned long",
        "short",
        "unsigned short",
        "double",
        "float",
        "void",
        "size_t",
        "Py_ssize_t",
        "Py_UCS1",
        "Py_UCS2",
        "Py_UCS4",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "wchar_t",
        "Py_buffer",
        "Py_hash_t",
        "digit",
        "PyObject *",
    ];
    if base.starts_with("PyObject") && !base.contains("**") && !ty.contains("**")
        || base.starts_with("Py") && base.ends_with("Object")
    {
        return Some(true);
    }
    if ty.contains("**") {
        return Some(false);
    }
    if PLAIN.contains(&base) {
        return Some(false);
    }
    let s = an
        .ctx
        .index
        .structs
        .iter()
        .find(|s| s.names.iter().any(|n| n == base))?;
    let body = an
        .ctx
        .file
        .parse_text
        .get(s.range.0..s.range.1)
        .unwrap_or("");
    Some(
        body.contains("PyObject_HEAD")
            || body.contains("PyObject_VAR_HEAD")
            || body.contains("ob_base"),
    )
}

fn buffers_in_object_domain(an: &Analysis, allocs: &[Allocation], out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&OBJECT_DOMAIN_BUFFER) {
        return;
    }
    for a in allocs.iter().filter(|a| a.domain == Domain::Object) {
        if !an.compiled_in_ft(a.call.range.0) {
            continue;
        }
        let ty = target_type(an, a);
        let object = ty.as_deref().and_then(|t| is_object_type(an, t));
        if object == Some(true) {
            continue;
        }
        let confidence = if object == Some(false) {
            Confidence::Certain
        } else {
            Confidence::Likely
        };
        let what = ty
            .map(|t| format!("`{}` (a `{}`)", a.target_text.trim(), t.trim()))
            .unwrap_or_else(|| format!("`{}`", a.target_text.trim()));
        out.push(
            ctx.diagnostic(&OBJECT_DOMAIN_BUFFER, a.call.name_range, format!("`{}` allocates {what}, which is not a Python object", a.call.name))
                .with_help("use `PyMem_Malloc`/`PyMem_Realloc` (and `PyMem_Free` for every free of this pointer)")
                .with_confidence(confidence),
        );
    }
}

fn cross_domain_frees(an: &Analysis, allocs: &[Allocation], out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&CROSS_DOMAIN_FREE) {
        return;
    }
    let mut by_key: HashMap<&str, Vec<&Allocation>> = HashMap::new();
    for a in allocs {
        by_key.entry(a.key.as_str()).or_default().push(a);
    }
    for call in &ctx.index.calls {
        let (Some(fd), Some(fi), Some(arg)) =
            (free_domain(&call.name), call.function, call.args.first())
        else {
            continue;
        };
        let key = storage_key(text(an, *arg), fi);
        let Some(sources) = by_key.get(key.as_str()) else {
            continue;
        };
        let domains: Vec<Domain> = sources.iter().map(|a| a.domain).collect();
        // Only when every allocation of this pointer disagrees with the free.
        if domains.contains(&fd) || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        let Some(first) = sources.first() else {
            continue;
        };
        let line = ctx.file.lines.line_of(first.call.range.0) + 1;
        out.push(
            ctx.diagnostic(
                &CROSS_DOMAIN_FREE,
                call.name_range,
                format!(
                    "`{}` frees `{}`, allocated by `{}` (line {line}) from {}",
                    call.name,
                    text(an, *arg).trim(),
                    first.call.name,
                    first.domain.name()
                ),
            )
            .with_help(format!("free it with `{}`", first.domain.free_for()))
            .with_confidence(if key.starts_with("->") {
                Confidence::Likely
            } else {
                Confidence::Certain
            }),
        );
    }
}

fn objects_outside_domain(an: &Analysis, allocs: &[Allocation], out: &mut Vec<Diagnostic>) {
    let ctx = an.ctx;
    if !ctx.enabled(&OBJECT_OUTSIDE_DOMAIN) {
        return;
    }
    for call in &ctx.index.calls {
        if !matches!(
            call.name.as_str(),
            "PyObject_Init" | "PyObject_INIT" | "PyObject_InitVar" | "PyObject_INIT_VAR"
        ) {
            continue;
        }
        let (Some(fi), Some(arg)) = (call.function, call.args.first()) else {
            continue;
        };
        let key = storage_key(text(an, *arg), fi);
        let Some(a) = allocs
            .iter()
            .filter(|a| a.key == key && a.call.range.0 < call.range.0)
            .max_by_key(|a| a.call.range.0)
        else {
            continue;
        };
        if a.domain == Domain::Object || !an.compiled_in_ft(call.range.0) {
            continue;
        }
        out.push(
            ctx.diagnostic(
                &OBJECT_OUTSIDE_DOMAIN,
                call.name_range,
                format!("`{}` makes an object of memory from `{}` (line {}), outside the object domain", call.name, a.call.name, ctx.file.lines.line_of(a.call.range.0) + 1),
            )
            .with_help("allocate objects with `PyObject_New`/`PyObject_NewVar`, `PyObject_Malloc`, or the type's `tp_alloc`"),
        );
    }
}
