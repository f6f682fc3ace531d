//! FT501: a buffer (not a Python object) allocated in the object domain.

use crate::capi;
use crate::diagnostic::{Applicability, Confidence, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::index::Range;
use crate::source::privacy::{is_identifier, normalize};

use super::{allocations, text, Allocation, Domain};

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

## Fix
`--fix` renames the allocation and every object-domain `Realloc`/`Free` of the
same pointer together. It is safe when the pointer is a local variable that
never leaves its function (not returned, copied, or passed to a call other than
the C library's memory and string functions and the C API, which copies from
the buffers it is given); for a field, or a local that
escapes, another function may free it, so the fix is unsafe. The upper-case
macros and targets whose type the file does not show get no fix.

## References
- CPython howto *C API Extension Support for Free Threading*, "Memory Allocation APIs".
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let allocs = allocations(ctx);
    let allocs = &allocs.0;
    for a in allocs.iter().filter(|a| a.domain == Domain::Object) {
        if !an.compiled_in_ft(a.call(ctx).range.0) {
            continue;
        }
        let ty = target_type(ctx, a);
        let object = ty.as_deref().and_then(|t| is_object_type(ctx, t));
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
        let mut d = ctx.diagnostic(&OBJECT_DOMAIN_BUFFER, a.call(ctx).name_range, format!("`{}` allocates {what}, which is not a Python object", a.call(ctx).name))
                .with_help("use `PyMem_Malloc`/`PyMem_Realloc` (and `PyMem_Free` for every free of this pointer)")
                .with_confidence(confidence);
        if object == Some(false) {
            if let Some(fix) = mem_domain_fix(ctx, a, allocs) {
                d = d.with_fix(fix);
            }
        }
        out.push(d);
    }
}

/// C library calls that read or write a buffer and never free it.
const C_MEMORY_CALLS: [&str; 14] = [
    "memcpy", "memmove", "memset", "memcmp", "strlen", "strcpy", "strncpy", "strcmp", "strncmp",
    "snprintf", "sprintf", "strcat", "memchr", "sizeof",
];

/// Moves the buffer to the memory domain: the allocation and every object-domain
/// `Realloc`/`Free` of the same pointer (the same local in its function, or the
/// same field anywhere in the file) are renamed together.
///
/// Safe when the pointer is a local that never leaves its function (not returned,
/// not copied, not passed to a function that could free it): then every free is
/// in view. A field, or a local that escapes, may be freed elsewhere: unsafe.
fn mem_domain_fix(ctx: &FileContext, a: &Allocation, allocs: &[Allocation]) -> Option<Fix> {
    use crate::capi::fixes::mem_domain_equivalent;
    let call = a.call(ctx);
    mem_domain_equivalent(&call.name)?;
    let target = normalize(&a.target_text);
    let is_local = is_identifier(&target);
    // `p = PyObject_Realloc(q, n)` with another pointer `q`: `q` came from the
    // object domain somewhere else, and must move with it; no fix.
    if capi::allocator(&call.name).is_some_and(|al| al.op == capi::AllocOp::Realloc) {
        let first = call.args.first().map(|r| normalize(text(ctx, *r)))?;
        let first = first.rsplit(')').next().unwrap_or(&first).trim().to_owned();
        let same = if is_local {
            first == target
        } else {
            super::storage_key(&first, a.function) == a.key
        };
        if !same {
            return None;
        }
    }
    let mut edits = Vec::new();
    let mut escapes = !is_local;
    let same_pointer = |r: Range| {
        let t = normalize(text(ctx, r));
        let t = t.rsplit(')').next().unwrap_or(&t).trim().to_owned();
        if is_local {
            t == target
        } else {
            super::storage_key(&t, a.function) == a.key
        }
    };
    for c in &ctx.index.calls {
        if is_local && c.function != Some(a.function) {
            continue;
        }
        let is_alloc_of_target = allocs
            .iter()
            .any(|o| o.key == a.key && std::ptr::eq(o.call(ctx), c));
        let frees_target = super::Domain::of_call(&c.name, true) == Some(super::Domain::Object)
            && c.args.first().is_some_and(|r| same_pointer(*r));
        let reallocs_target =
            capi::allocator(&c.name).is_some() && c.args.first().is_some_and(|r| same_pointer(*r));
        if is_alloc_of_target || frees_target || reallocs_target {
            let Some(new) = mem_domain_equivalent(&c.name) else {
                if super::Domain::of_call(&c.name, true) == Some(super::Domain::Object)
                    || super::Domain::of_call(&c.name, false) == Some(super::Domain::Object)
                {
                    // An object-domain macro we do not rename: leave it all.
                    return None;
                }
                continue;
            };
            edits.push(Edit {
                span: ctx.file.span(c.name_range.0, c.name_range.1),
                content: new.to_owned(),
            });
            continue;
        }
        // The pointer handed to another function, which might free it.
        if is_local
            && c
                .args
                .iter()
                .any(|r| normalize(text(ctx, *r)) == target)
            && !C_MEMORY_CALLS.contains(&c.name.as_str())
            // The C API copies from raw buffers it is given; only the allocators
            // (handled above) free them.
            && !(c.name.starts_with("Py") && capi::allocator(&c.name).is_none())
        {
            escapes = true;
        }
    }
    if is_local {
        let f = &ctx.index.functions[a.function];
        let returned = f.returns.iter().any(|r| {
            normalize(text(ctx, *r))
                .trim_start_matches("return")
                .trim()
                .trim_end_matches(';')
                .trim()
                == target
        });
        let copied = ctx
            .index
            .assignments
            .iter()
            .any(|x| x.function == Some(a.function) && normalize(text(ctx, x.rhs)) == target);
        escapes |= returned || copied;
    }
    edits.sort_by_key(|e| e.span.start);
    edits.dedup_by_key(|e| e.span.start);
    Some(Fix {
        applicability: if escapes {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        },
        message: if escapes {
            format!("Allocate `{}` with `PyMem_*` and free it with `PyMem_Free` (it may be freed elsewhere too: check every free)", a.target_text.trim())
        } else {
            format!(
                "Allocate `{}` with `PyMem_*` and free it with `PyMem_Free`",
                a.target_text.trim()
            )
        },
        edits,
    })
}

/// The declared type of an allocation's target, when the file shows it.
fn target_type(ctx: &FileContext, a: &Allocation) -> Option<String> {
    let t = normalize(&a.target_text);
    if is_identifier(&t) {
        let d = ctx.index.declaration_of(&t, Some(a.function))?;
        if d.type_text == "auto" {
            // `auto *p = static_cast<T *>(PyObject_Malloc(n))`: the cast names the type.
            let init = d.init.as_ref().map(|i| text(ctx, i.range())).unwrap_or("");
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
    ctx.index
        .structs
        .iter()
        .flat_map(|s| s.fields.iter())
        .find(|(n, _)| n == field)
        .map(|(_, ty)| format!("{ty} *"))
}

/// Is `ty` an object type: `PyObject`, or a struct of this file with an object header?
fn is_object_type(ctx: &FileContext, ty: &str) -> Option<bool> {
    let base = ty
        .trim_end_matches(['*', ' '])
        .trim_start_matches("struct ")
        .trim_start_matches("const ")
        .trim();
    // C's own types; CPython's typedefs (`Py_ssize_t`, ...) are the catalogue's.
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
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "wchar_t",
    ];
    if base.starts_with("PyObject") && !base.contains("**") && !ty.contains("**")
        || base.starts_with("Py") && base.ends_with("Object")
    {
        return Some(true);
    }
    if ty.contains("**") {
        return Some(false);
    }
    if PLAIN.contains(&base) || capi::is_plain_data_type(base) {
        return Some(false);
    }
    let s = ctx
        .index
        .structs
        .iter()
        .find(|s| s.names.iter().any(|n| n == base))?;
    let body = ctx.file.parse_text.get(s.range.0..s.range.1).unwrap_or("");
    Some(capi::object_header_markers().any(|m| body.contains(m)))
}
