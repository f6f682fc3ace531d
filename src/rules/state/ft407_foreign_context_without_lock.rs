//! FT407: a foreign library context used without a lock.

use std::collections::{HashMap, HashSet};

use super::{field_type, is_foreign_context, object_method, self_type, Scope};
use crate::context::ProjectContext;
use crate::diagnostic::Confidence;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static FOREIGN_CONTEXT_UNLOCKED: Rule = Rule {
    code: "FT407",
    name: "foreign-context-without-lock",
    severity: Severity::Warning,
    summary: "A foreign library context held in an object is used by a method without a lock.",
    doc: r#"## What it does
Finds methods that use a foreign library context stored in the object — `z_stream`,
`bz_stream`, `lzma_stream`, `*_CTX`/`*_ctx`, `ZSTD_CCtx`, handles — outside a lock or
critical section, and without reading a busy/in-use flag.

## Why is this bad?
Such contexts are not reentrant: two threads compressing through one `z_stream`
corrupt its state and can crash the library.

## Example
```c
static PyObject *Compressor_compress(CompObject *self, PyObject *data) {
    self->zst.next_in = buf;
    deflate(&self->zst, Z_NO_FLUSH);
```

## Use instead
Add a `PyMutex` to the object and hold it (detaching with
`Py_BEGIN_ALLOW_THREADS` is then safe for the long native call), or wrap the body
in `Py_BEGIN_CRITICAL_SECTION(self)`; an atomic busy flag that raises
`RuntimeError` on concurrent use is a cheap alternative.

## References
- Python free-threading guide, "Dealing with thread-unsafe native libraries".
"#,
    fix: FixAvailability::None,
};

/// FT407: foreign library contexts used without a lock.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    super::check_files(project, &FOREIGN_CONTEXT_UNLOCKED, out, check_file);
}

fn check_file(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    let ctx_fields: HashSet<&str> = idx
        .structs
        .iter()
        .flat_map(|st| st.fields.iter())
        .filter(|(_, t)| is_foreign_context(t))
        .map(|(n, _)| n.as_str())
        .collect();
    // When the object's struct is known, its own field type decides.
    let is_ctx_field = |f: usize, base: &str, field: &str| match self_type(s, f, base)
        .and_then(|t| field_type(s, &t, field))
    {
        Some(t) => is_foreign_context(&t),
        None => ctx_fields.contains(field),
    };
    if ctx_fields.is_empty() {
        return;
    }
    let busy = |name: &str| {
        let l = name.to_ascii_lowercase();
        [
            "busy",
            "in_use",
            "inuse",
            "processing",
            "running",
            "lock",
            "mutex",
        ]
        .iter()
        .any(|k| l.contains(k))
    };
    let mut flagged_fns: HashSet<usize> = HashSet::new();
    for u in &s.facts.fields {
        if let Some(f) = u.function {
            if busy(&u.field) {
                flagged_fns.insert(f);
            }
        }
    }
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    let mut self_cache: HashMap<usize, Vec<String>> = HashMap::new();
    for u in &s.facts.fields {
        let Some(f) = u.function else { continue };
        if !u.arrow
            || !ctx_fields.contains(u.field.as_str())
            || !object_method(s, f)
            || flagged_fns.contains(&f)
        {
            continue;
        }
        let names = self_cache.entry(f).or_insert_with(|| s.self_names(f));
        if !names.contains(&u.base)
            || !is_ctx_field(f, &u.base, &u.field)
            || !s.in_ft(u.range.0)
            || s.locked(u.range.0, true, &[])
        {
            continue;
        }
        if !reported.insert((f, u.field.clone())) {
            continue;
        }
        out.push(
            s.ctx
                .diagnostic(&FOREIGN_CONTEXT_UNLOCKED, u.range, format!("`{}` uses the library context `{}->{}` without a lock; two threads can drive it at once", s.fn_name(f), u.base, u.field))
                .with_help(format!("add `PyMutex mutex;` to the object and hold it around every use of `{}`, or wrap the method in `Py_BEGIN_CRITICAL_SECTION({});` ... `Py_END_CRITICAL_SECTION();`", u.field, u.base))
                .with_confidence(Confidence::Likely),
        );
    }
}
