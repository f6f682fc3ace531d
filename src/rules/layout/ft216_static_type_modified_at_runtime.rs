//! FT216: a static type object changed by code that can run on many threads.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::capi::{self, Container};
use crate::context::ProjectContext;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FixAvailability, Rule};
use crate::source::entry::Role;

use super::{bare, compiled_in_ft};

pub static STATIC_TYPE_MODIFIED_AT_RUNTIME: Rule = Rule {
    code: "FT216",
    name: "static-type-modified-at-runtime",
    severity: Severity::Error,
    summary: "A static `PyTypeObject` is changed (`Foo_Type.tp_doc = ...`, its `tp_dict` edited) by a function that can run on many threads.",
    doc: r#"## What it does
Finds assignments to the fields of a static `PyTypeObject` (`Node_Type.tp_doc =
...`, `Node_Type.tp_new = ...`) and edits of its dict (`PyDict_SetItem(
Node_Type.tp_dict, ...)`) in functions that Python code can reach on any thread:
methods, slots, callbacks and what they call. Module initialisation (`PyInit_*`,
`Py_mod_exec` and the helpers only it calls) runs once and is not reported.
Assignments to `tp_dict` itself are reported by FT204.

## Why is this bad?
A type is shared by every thread, and the interpreter reads its slots without a
lock: attribute lookup caches them (keyed by the type's version tag, which a
direct field write does not invalidate), and other threads call through them
while the write happens. After `PyType_Ready`, the type must be treated as
immutable; lazily finishing a type on first use ("if not ready, fill in the
slots") is a race between the threads that get there first.

## Example
```c
static PyObject *set_doc(PyObject *mod, PyObject *doc) {
    Node_Type.tp_doc = PyUnicode_AsUTF8(doc);
    Py_RETURN_NONE;
}
```

## Use instead
Fill every slot before `PyType_Ready`, in module initialisation. For values only
known later, keep them in module state, or set a class attribute through the
type's public API (`PyObject_SetAttr` on a heap type), which invalidates the type
caches. A type changed per interpreter should be a heap type created with
`PyType_FromModuleAndSpec`.

## References
- CPython howto *C API Extension Support for Free Threading*.
- C API reference: `PyType_Ready`, `PyType_Modified`.
"#,
    fix: FixAvailability::None,
};

/// One candidate write: file, offset range, enclosing function, what is written.
struct Candidate {
    file: usize,
    range: (usize, usize),
    function: usize,
    what: String,
}

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    let types: HashSet<String> = project
        .files
        .iter()
        .flat_map(|pf| pf.index.decls.iter())
        .filter(|d| {
            d.has_static_storage()
                && !d.is_pointer
                && !d.is_array
                && d.base_type() == "PyTypeObject"
        })
        .map(|d| d.name.clone())
        .collect();
    if types.is_empty() {
        return;
    }
    let candidates: Vec<Candidate> = project
        .files
        .par_iter()
        .enumerate()
        .flat_map_iter(|(fi, pf)| candidates(pf, fi, &types))
        .collect();
    if candidates.is_empty() {
        return;
    }
    let analysis = crate::rules::state::StateAnalysis::of(project);
    let entries = analysis.entries();
    for c in candidates {
        let pf = &project.files[c.file];
        let ctx = pf.context();
        if entries.role(c.file, Some(c.function)) != Role::Concurrent
            || !compiled_in_ft(&ctx, c.range.0)
        {
            continue;
        }
        let unreached = entries
            .unreached
            .get(c.file)
            .is_some_and(|u| u.contains(&c.function));
        let fname = &pf.index.functions[c.function].name;
        let why = if unreached {
            "which nothing in the project calls, so it is assumed to run on any thread"
        } else {
            "which can run on many threads at once"
        };
        out.push(
            ctx.diagnostic(&STATIC_TYPE_MODIFIED_AT_RUNTIME, c.range, format!("{} changes a static type after it is ready, in `{fname}`, {why}", c.what))
                .with_help("set every slot before `PyType_Ready`, in module initialisation; keep values that change later in module state")
                .with_confidence(if unreached { Confidence::Likely } else { Confidence::Certain }),
        );
    }
}

fn candidates(
    pf: &crate::context::ProjectFile,
    fi: usize,
    types: &HashSet<String>,
) -> Vec<Candidate> {
    let text = |r: (usize, usize)| pf.file.parse_text.get(r.0..r.1).unwrap_or("");
    // `Foo_Type.tp_x` (or `(&Foo_Type)->tp_x`) → field.
    let type_field = |e: &str| -> Option<String> {
        // A field needs a `.` (or `->`, whose `>` nothing removes): most targets
        // have neither and are not normalised.
        if !e.bytes().any(|b| b == b'.' || b == b'>') {
            return None;
        }
        let mut e = bare(e);
        for (from, to) in [("(&", ""), (")->", ".")] {
            if e.contains(from) {
                e = e.replace(from, to);
            }
        }
        let (base, field) = e.split_once('.')?;
        (types.contains(base) && field.starts_with("tp_") && !field.contains('.'))
            .then(|| format!("{base}.{field}"))
    };
    let init = init_path(pf);
    let mut out = Vec::new();
    for a in &pf.index.assignments {
        let Some(function) = a.function.filter(|f| !init.contains(f)) else {
            continue;
        };
        let Some(lhs) = type_field(&a.lhs_text) else {
            continue;
        };
        if lhs.ends_with(".tp_dict") {
            continue; // FT204
        }
        out.push(Candidate {
            file: fi,
            range: a.range,
            function,
            what: format!("`{lhs} = ...`"),
        });
    }
    for c in pf
        .index
        .calls
        .iter()
        .filter(|c| capi::mutates_container(&c.name, Container::Dict))
    {
        let (Some(function), Some(arg)) =
            (c.function.filter(|f| !init.contains(f)), c.args.first())
        else {
            continue;
        };
        let Some(dict) = type_field(text(*arg)).filter(|f| f.ends_with(".tp_dict")) else {
            continue;
        };
        out.push(Candidate {
            file: fi,
            range: c.range,
            function,
            what: format!("`{}` on `{dict}`", c.name),
        });
    }
    out
}

/// Functions of this file that module initialisation reaches: the entry map
/// knows `PyInit_*` by name, but init functions are often named through macros
/// (`MOD_INIT(name)`, `INITMODULE` defined in the file that includes this one),
/// which the index resolves or the `PyMODINIT_FUNC` specifier gives away.
fn init_path(pf: &crate::context::ProjectFile) -> HashSet<usize> {
    let index = &pf.index;
    // The original text: the parser's copy may have blanked the specifier macro.
    // It may stand on the line before what the parser took as the definition.
    let head = |f: &crate::source::index::Function| {
        let t = pf.file.text.as_str();
        let before = t.get(..f.range.0).unwrap_or("");
        let this_line = before.rfind('\n').unwrap_or(0);
        let from = before[..this_line].rfind('\n').map_or(0, |i| i + 1);
        t.get(from..f.body.0).unwrap_or("")
    };
    let roots = index
        .functions
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name.starts_with("PyInit_") || head(f).contains("PyMODINIT_FUNC"))
        .map(|(i, _)| i)
        .chain(index.module_inits.iter().map(|m| m.function));
    roots.flat_map(|r| index.reachable_from(r)).collect()
}
