//! FT204: fields of `PyListObject`/`PyDictObject` (and a type's `tp_dict`) used directly.

use crate::capi::{self, FieldHazard, StructField};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};
use crate::source::privacy::{ancestor_of_kind, is_identifier, normalize};

use super::is_assignment_target;

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

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let an = ctx.privacy();
    let root = ctx.file.tree.root_node();
    // The fields of the built-in containers (under the object's lock) and a type's
    // `tp_dict` (under the type's lock), in the catalogue's order.
    let fields = capi::struct_fields()
        .filter(|f| matches!(f.hazard, FieldHazard::ObjectLock | FieldHazard::TypeLock));
    for &StructField {
        name: field,
        owner,
        hazard,
    } in fields
    {
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
            let obj_type = owner.c_name();
            if hazard == FieldHazard::TypeLock {
                if !is_assignment_target(fe) {
                    continue;
                }
            } else if !typed_as(ctx, fi, base_text, obj_type) {
                continue;
            }
            let p = an.container((base.start_byte(), base.end_byte()), off);
            if p.is_private() {
                continue;
            }
            let msg = if hazard == FieldHazard::TypeLock {
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

/// Is the expression `base` a `ty` (by its cast or by its variable's declared type)?
fn typed_as(ctx: &FileContext, fi: usize, base: &str, ty: &str) -> bool {
    if base.contains(ty) {
        return true;
    }
    let b = normalize(base);
    is_identifier(&b)
        && (ctx
            .index
            .declaration_of(&b, Some(fi))
            .is_some_and(|d| d.type_text.contains(ty))
            || ctx.index.functions[fi]
                .params
                .iter()
                .any(|p| p.name == b && p.ty.contains(ty)))
}
