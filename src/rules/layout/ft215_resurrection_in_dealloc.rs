//! FT215: a deallocator resurrects its object by writing the reference count.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{bare, compiled_in_ft, is_dealloc, text};

pub static RESURRECTION_IN_DEALLOC: Rule = Rule {
    code: "FT215",
    name: "resurrection-in-dealloc",
    severity: Severity::Warning,
    summary: "A deallocator brings its object back to life by setting the reference count (`Py_SET_REFCNT(self, 1)`).",
    doc: r#"## What it does
Finds `Py_SET_REFCNT(x, n)` with `n` other than `0`, and `Py_INCREF(self)` on the
object being destroyed, inside a deallocator (a function in a `tp_dealloc` slot,
or named `..._dealloc`), when something is called while the object is alive
again. Usually the object is revived so that it can be taken
out of a shared cache or registry, then its count is set back to zero.
(`x->ob_refcnt` writes are reported by FT205; `Py_SET_REFCNT` elsewhere by FT207.)

## Why is this bad?
While the count is above zero, the object is alive for everyone: another thread
that finds it in the cache takes a reference to it, and the deallocator then
resets the count to zero and frees the object anyway. The free-threaded build
splits the count between the owning thread and a shared atomic counter, so the
hand-written count also overwrites other threads' updates.

## Example
```c
static void Node_dealloc(Node *self) {
    Py_SET_REFCNT(self, 1);
    PyDict_DelItem(cache, self->key);   /* may run Python code */
    Py_SET_REFCNT(self, 0);
    ...
}
```

## Use instead
Remove the object from the cache under the lock that guards the cache, and make
lookups skip objects that are being destroyed (take references with
`PyUnstable_TryIncRef`, or keep weak references in the cache). If the object
must run Python code while dying, do it in `tp_finalize` and call
`PyObject_CallFinalizerFromDealloc`, which handles resurrection correctly.

## References
- C API reference: `PyObject_CallFinalizerFromDealloc`, `PyUnstable_TryIncRef`,
  "Object Life Cycle".
- PEP 442 (safe object finalization).
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    let mut reported: Vec<usize> = Vec::new();
    for call in &ctx.index.calls {
        let Some(fi) = call.function else { continue };
        let revives = match call.name.as_str() {
            // FT207 reports `Py_SET_REFCNT` in functions not named as deallocators.
            "Py_SET_REFCNT" => {
                ctx.index.functions[fi]
                    .name
                    .to_ascii_lowercase()
                    .contains("dealloc")
                    && call
                        .args
                        .get(1)
                        .is_some_and(|n| !matches!(bare(text(ctx, *n)).as_str(), "0" | "0L"))
            }
            "Py_INCREF" | "Py_XINCREF" => {
                let self_param = ctx.index.functions[fi]
                    .params
                    .first()
                    .map(|p| p.name.as_str());
                call.args
                    .first()
                    .is_some_and(|a| Some(bare(text(ctx, *a)).as_str()) == self_param)
            }
            _ => false,
        };
        if !revives
            || reported.contains(&fi)
            || !is_dealloc(ctx, fi)
            || !compiled_in_ft(ctx, call.range.0)
        {
            continue;
        }
        if !runs_code_while_revived(ctx, fi, call.range.1) {
            continue;
        }
        reported.push(fi);
        let subject = call
            .args
            .first()
            .map(|a| text(ctx, *a).trim())
            .unwrap_or("");
        out.push(
            ctx.diagnostic(&RESURRECTION_IN_DEALLOC, call.range, format!("the deallocator `{}` revives `{subject}` by writing its reference count; another thread can find it and take a reference before it is freed", ctx.index.functions[fi].name))
                .with_help("remove the object from shared caches under their lock (lookups should use `PyUnstable_TryIncRef`), or move the work to `tp_finalize` with `PyObject_CallFinalizerFromDealloc`"),
        );
    }
}

/// Is anything called between the revival at `from` and the count's reset to
/// zero (or the end of the function)? A revival followed at once by the reset
/// exposes nothing.
fn runs_code_while_revived(ctx: &FileContext, fi: usize, from: usize) -> bool {
    let reset = ctx
        .index
        .calls_in(fi)
        .filter(|c| c.range.0 >= from && c.name == "Py_SET_REFCNT")
        .map(|c| c.range.0)
        .min()
        .unwrap_or(usize::MAX);
    ctx.index
        .calls_in(fi)
        .any(|c| c.range.0 >= from && c.range.0 < reset && c.name != "Py_SET_REFCNT")
}
