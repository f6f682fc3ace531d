//! FT403: a static buffer that every thread shares, written at runtime.

use super::{mentions, Scope, StaticWrite, StaticWriteKind, StaticWrites};
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static STATIC_SCRATCH_BUFFER: Rule = Rule {
    code: "FT403",
    name: "static-scratch-buffer",
    severity: Severity::Warning,
    summary:
        "A `static` buffer is used as per-call scratch space by code that can run on many threads.",
    doc: r#"## What it does
Finds static character buffers (`static char buf[256]`) and static structs filled by
a call (`static struct stat sb`) that functions Python can call write into, including
buffers whose address is returned to the caller.

## Why is this bad?
Every thread gets the same buffer. One thread's `snprintf` overwrites the text
another thread is still reading, and a returned pointer changes under its user.

## Example
```c
static const char *describe(int code) {
    static char buf[64];
    snprintf(buf, sizeof buf, "error %d", code);
    return buf;
}
```

## Use instead
Drop `static` when the buffer does not leave the function; otherwise let the caller
pass the buffer, or make it `thread_local` (`_Thread_local` in C11).
```c
static const char *describe(int code, char *buf, size_t n) {
    snprintf(buf, n, "error %d", code);
    return buf;
}
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
"#,
    fix: FixAvailability::None,
};

pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    StaticWrites::report(project, &STATIC_SCRATCH_BUFFER, out, report);
}

fn report(s: &Scope, sw: &StaticWrite, out: &mut Vec<Diagnostic>) {
    if sw.kind != StaticWriteKind::ScratchBuffer {
        return;
    }
    let idx = s.ctx.index;
    let (w, d) = (&s.facts.writes[sw.write], &idx.decls[sw.decl]);
    let Some(f) = w.function else { return };
    let fname = s.fn_name(f);
    let name = &d.name;
    let ty = d.base_type();
    let escapes = d.function == Some(f)
        && idx.functions[f]
            .returns
            .iter()
            .any(|r| mentions(s.text(*r), name));
    let what = if escapes {
        " and returns its address"
    } else {
        ""
    };
    out.push(
        s.ctx
            .diagnostic(&STATIC_SCRATCH_BUFFER, w.range, format!("`{fname}` writes the static buffer `{name}`{what}; every thread shares it"))
            .with_help(if escapes {
                let tls = if s.ctx.file.language == crate::source::Language::Cpp { "thread_local" } else { "_Thread_local" };
                format!("let the caller pass the buffer, or make it thread-local: `static {tls} {ty} {name}[...]`")
            } else {
                format!("drop `static` from `{name}` so each call gets its own buffer on the stack, or make it `thread_local`")
            })
            .with_confidence(s.confidence(Some(f))),
    );
}
