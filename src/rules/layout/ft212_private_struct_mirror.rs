//! FT212: a hand-written copy of a CPython object struct.

use crate::capi::{self, ObjectStruct};
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{compiled_in_ft, is_cpython_module};

pub static PRIVATE_STRUCT_MIRROR: Rule = Rule {
    code: "FT212",
    name: "private-struct-mirror",
    severity: Severity::Error,
    summary: "A struct copies the private layout of a dict, dict keys, list, set or str object.",
    doc: r#"## What it does
Finds struct definitions that copy the internals of a built-in object so that
code can read them through a cast: a dict (`ma_used` with `ma_keys`,
`ma_values` or `ma_version_tag`), a dict's key table (`dk_refcnt`, or
`dk_size`/`dk_log2_size` with `dk_nentries`/`dk_usable`), a set (`fill`, `used`,
`mask` and `table`), a compact str (`utf8` with `utf8_length`), and a list
(`ob_item` with `allocated`, in a struct named like a list, in a file that also
handles real lists).

## Why is this bad?
These layouts are private and change between versions and between the default
and free-threaded builds (whose object header is larger, so every field after it
moves). Even where the layout matches, reading the fields bypasses the object's
per-object lock: another thread can resize the list or the key table while the
copy is read. FT204 reports field reads through the real types (`PyListObject`,
`PyDictObject`); this rule reports the copies that hide them.

## Example
```c
typedef struct { PyObject_HEAD Py_ssize_t ma_used; uint64_t ma_version_tag;
                 void *ma_keys; PyObject **ma_values; } MyDictObject;
n = ((MyDictObject *)d)->ma_used;
```

## Use instead
The public API (`PyDict_GET_SIZE`, `PyList_GetItemRef`, `PySet_GET_SIZE`,
`PyUnicode_AsUTF8AndSize`), which locks where it must; or a critical section on
the object around calls of the unlocked macros.

## References
- CPython howto *C API Extension Support for Free Threading*, "General API Guidelines".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if is_cpython_module(ctx) {
        return;
    }
    let handles_lists =
        ctx.file.text.contains("PyList_Check") || ctx.file.text.contains("PyList_Type");
    for s in &ctx.index.structs {
        let has = |f: &str| s.fields.iter().any(|(name, _)| name == f);
        let Some(sig) = capi::struct_signatures().find(|sig| sig.matches(has)) else {
            continue;
        };
        let name = s.names.first().map(String::as_str).unwrap_or("(anonymous)");
        // CPython's own definitions (a copied header) keep their names.
        if sig.cpython_names.contains(&name)
            && ctx
                .file
                .path
                .components()
                .any(|c| c.as_os_str() == "Include")
        {
            continue;
        }
        let what = format!("`{}`", sig.copies.c_name());
        let list = sig.copies == ObjectStruct::List;
        if list
            && (!handles_lists
                || !s
                    .names
                    .iter()
                    .any(|n| n.to_ascii_lowercase().contains("list")))
        {
            continue;
        }
        if !compiled_in_ft(ctx, s.range.0) {
            continue;
        }
        let header = ctx.file.text[s.range.0..s.range.1]
            .lines()
            .next()
            .unwrap_or("")
            .len();
        out.push(
            ctx.diagnostic(&PRIVATE_STRUCT_MIRROR, (s.range.0, s.range.0 + header), format!("struct `{name}` copies the private layout of {what}, which differs on the free-threaded build and is read there without the object's lock"))
                .with_help("use the public API (`PyDict_GET_SIZE`, `PyList_GetItemRef`, `PyUnicode_AsUTF8AndSize`...) instead of a copy of the struct")
                .with_confidence(if list { Confidence::Likely } else { Confidence::Certain }),
        );
    }
}
