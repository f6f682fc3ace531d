//! FT217: a `tp_is_gc` slot that answers "not a GC object" for a GC type.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, Rule};

use super::{bare, compiled_in_ft, text, SlotFunctions};

pub static TP_IS_GC_FALSE: Rule = Rule {
    code: "FT217",
    name: "tp-is-gc-false",
    severity: Severity::Error,
    summary: "A `tp_is_gc` function returns false for objects of a type with `Py_TPFLAGS_HAVE_GC`.",
    doc: r#"## What it does
Finds functions in a `tp_is_gc` slot (designated, positional or `Py_tp_is_gc`)
that return a literal `0` or `false`, in a file that defines a type with
`Py_TPFLAGS_HAVE_GC`.

## Why is this bad?
`tp_is_gc` lets a GC type say that some of its instances are not collected
(CPython uses it for static type objects). On the default build an instance it
rejects is simply skipped. The free-threaded collector does not keep lists of
tracked objects: it walks every block of the GC heap, where every object
allocated with `PyObject_GC_New` lives, and treats objects by their header bits,
while `PyObject_IS_GC`, `gc.get_referents` and the traversal of other objects
go by `tp_is_gc`. An object that lives in the GC heap but says it is not a GC
object is counted one way and visited another, which trips the collector's
assertions and can free objects that are still referenced.

## Example
```c
static int Node_is_gc(PyObject *self) { return 0; }   /* "never collect nodes" */
```

## Use instead
Drop the slot. To keep an object out of collection, do not give the type
`Py_TPFLAGS_HAVE_GC` (and allocate it with `PyObject_New`), or call
`PyObject_GC_UnTrack` on the instance. If only some instances are special, they
still need a `tp_traverse` that reports their references.

## References
- C API reference: `PyTypeObject.tp_is_gc`, "Supporting Cyclic Garbage Collection".
- CPython `InternalDocs/garbage_collector.md`, "Free-threaded build".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(ctx: &FileContext, out: &mut Vec<Diagnostic>) {
    if !ctx.file.text.contains("Py_TPFLAGS_HAVE_GC") {
        return;
    }
    let slots = SlotFunctions::get(ctx);
    let mut fns: Vec<usize> = slots.filling("tp_is_gc").into_iter().collect();
    fns.sort_unstable();
    for fi in fns {
        let f = &ctx.index.functions[fi];
        let Some(ret) = f
            .returns
            .iter()
            .find(|r| matches!(bare(text(ctx, **r)).as_str(), "0" | "false" | "FALSE"))
        else {
            continue;
        };
        if !compiled_in_ft(ctx, ret.0) {
            continue;
        }
        let always = f.returns.len() == 1;
        out.push(
            ctx.diagnostic(&TP_IS_GC_FALSE, f.name_range, format!(
                "`{}` fills `tp_is_gc` and {} 0; the free-threaded collector still finds these objects in the GC heap and disagrees with it",
                f.name,
                if always { "always returns" } else { "can return" }
            ))
            .with_help("remove the slot; keep objects out of collection with `PyObject_GC_UnTrack` or a type without `Py_TPFLAGS_HAVE_GC`"),
        );
    }
}
