//! FT213: reading the lazily filled caches of a str or bytes object.

use crate::capi::{self, LazyCache, PrivateLayout};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{
    compiled_in_ft, define_occurrences, field_expression_at, is_cpython_module, is_written,
    typed_as, uncast,
};

pub static STR_INTERNALS_READ: Rule = Rule {
    code: "FT213",
    name: "str-internals-read",
    severity: Severity::Warning,
    summary: "The UTF-8 cache or the hash of a str (or bytes) object is read or written directly.",
    doc: r#"## What it does
Finds `->utf8`, `->utf8_length` and `->hash` on a `PyCompactUnicodeObject`,
`PyASCIIObject` or `PyUnicodeObject` (by its cast or its declared type),
`->ob_shash` on a `PyBytesObject`, and CPython's private accessors
`_PyUnicode_UTF8`, `_PyUnicode_UTF8_LENGTH` and `_PyUnicode_HASH`.

## Why is this bad?
These fields are caches that CPython fills the first time someone asks: the
UTF-8 copy by `PyUnicode_AsUTF8AndSize`, the hash by `PyObject_Hash`. With the
GIL the fill was atomic with respect to other C code; on a free-threaded build
another thread can be filling the cache while this one reads it, so the reader
can see a pointer without its length, or a half-written field. CPython itself
reads them with atomic operations there. Writing them by hand (to pre-seed a
hash) races the same way.

## Example
```c
const char *s = ((PyCompactUnicodeObject *)name)->utf8;
if (s == NULL) s = PyUnicode_AsUTF8(name);
Py_hash_t h = ((PyASCIIObject *)name)->hash;
```

## Use instead
```c
const char *s = PyUnicode_AsUTF8AndSize(name, &len);
Py_hash_t h = PyObject_Hash(name);
```
Both fill the cache once, safely, and return it. The fix rewrites reads of
`->utf8` and `->hash` to these calls; it is unsafe because they can fail (and
set an exception) where the field read could not, and because code that tested
the field for `NULL`/`-1` ("not computed yet") now never sees that value.

## References
- C API reference: `PyUnicode_AsUTF8AndSize`, `PyObject_Hash`.
- CPython `Include/cpython/unicodeobject.h`: the `PyASCIIObject` and
  `PyCompactUnicodeObject` layouts.
"#,
    fix: FixAvailability::Sometimes,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if is_cpython_module(ctx) {
        return;
    }
    for field in capi::cache_fields() {
        for off in ctx.file.code_occurrences(field.name) {
            let Some(fe) = field_expression_at(ctx, off) else {
                continue;
            };
            let Some(base) = fe.child_by_field_name("argument") else {
                continue;
            };
            let f = ctx.index.function_at(off);
            let base_text = ctx.file.node_text(base);
            let Some(ty) = field
                .holders
                .iter()
                .map(|h| h.c_name())
                .find(|t| typed_as(ctx, f, base_text, t))
            else {
                continue;
            };
            if !compiled_in_ft(ctx, off) {
                continue;
            }
            let written = is_written(fe);
            let object = ctx
                .file
                .node_text(uncast(&ctx.file.parse_text, base))
                .trim();
            let (verb, help) = match field.cache {
                LazyCache::Utf8 | LazyCache::Utf8Length => ("the UTF-8 cache", "use `PyUnicode_AsUTF8AndSize(s, &len)`, which fills the cache once and returns it"),
                LazyCache::Hash => ("the cached hash", "use `PyObject_Hash(o)`, which computes the hash once and caches it safely"),
            };
            let mut d = ctx
                .diagnostic(
                    &STR_INTERNALS_READ,
                    (fe.start_byte(), fe.end_byte()),
                    format!(
                        "`{}` {} {verb} of a `{ty}` directly; another thread can be filling it at the same time",
                        ctx.file.node_text(fe).split_whitespace().collect::<String>(),
                        if written { "writes" } else { "reads" }
                    ),
                )
                .with_help(help);
            let call = match field.cache {
                LazyCache::Utf8 => Some(format!(
                    "PyUnicode_AsUTF8AndSize((PyObject *){object}, NULL)"
                )),
                LazyCache::Hash => Some(format!("PyObject_Hash((PyObject *){object})")),
                LazyCache::Utf8Length => None,
            };
            if let (Some(call), false) = (call, written) {
                d = d.with_fix(Fix {
                    applicability: Applicability::Unsafe,
                    message: format!("Call `{}` instead", call.split('(').next().unwrap_or("")),
                    edits: vec![Edit {
                        span: ctx.file.span(fe.start_byte(), fe.end_byte()),
                        content: call,
                    }],
                });
            }
            out.push(d);
        }
    }
    for name in capi::private_macros(PrivateLayout::StrCache).map(|m| m.name) {
        let code = ctx
            .file
            .code_occurrences(name)
            .into_iter()
            .map(|o| (o, None));
        let defines = define_occurrences(ctx, name)
            .into_iter()
            .map(|(o, d)| (o, Some(d)));
        for (off, _) in code.chain(defines) {
            if !compiled_in_ft(ctx, off) {
                continue;
            }
            out.push(
                ctx.diagnostic(&STR_INTERNALS_READ, (off, off + name.len()), format!("`{name}` reads a lazily filled cache of a str without synchronisation"))
                    .with_help("use `PyUnicode_AsUTF8AndSize` for the UTF-8 form and `PyObject_Hash` for the hash"),
            );
        }
    }
}
