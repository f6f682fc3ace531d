//! FT403: a static buffer that every thread shares, written at runtime.

use super::{mentions, Scope, StaticWrite, StaticWriteKind, StaticWrites};
use crate::context::ProjectContext;
use crate::diagnostic::{Applicability, DeferredFix, Diagnostic, Fix, FixRequest, Severity};
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

## Fix
A function-local `static` array that never leaves its function loses `static` and
gets `= {0}`, so each call has its own zeroed buffer on the stack. That is safe when
the buffer is written (`snprintf`, `memcpy`, `strcpy`, ...) before any other use,
outside a loop, and holds at most 4096 bytes; otherwise it is unsafe (a call could
rely on what an earlier one left, or the stack could grow too much). A buffer whose
address is returned becomes thread-local through a portable macro
(`FTAUDIT_THREAD_LOCAL`: `thread_local` in C++, `__declspec(thread)` on MSVC,
`_Thread_local` in C11) defined after the file's includes: unsafe, since the pointer
is then valid only on the thread that got it. File-level buffers, declarations of
several names and functions with preprocessor conditionals get no fix.

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
"#,
    fix: FixAvailability::Sometimes,
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
    // Built when the run needs edits (see [`scratch_fix`]).
    let fix = (d.function == Some(f)).then(|| {
        DeferredFix::new(
            s.ctx.file.language == crate::source::Language::Cpp,
            FixRequest::ScratchBuffer {
                name_at: d.name_range.0,
                name: name.clone(),
                escapes,
            },
        )
    });
    let diag = s.ctx
            .diagnostic(&STATIC_SCRATCH_BUFFER, w.range, format!("`{fname}` writes the static buffer `{name}`{what}; every thread shares it"))
            .with_help(if escapes {
                let tls = if s.ctx.file.language == crate::source::Language::Cpp { "thread_local" } else { "_Thread_local" };
                format!("let the caller pass the buffer, or make it thread-local: `static {tls} {ty} {name}[...]`")
            } else {
                format!("drop `static` from `{name}` so each call gets its own buffer on the stack, or make it `thread_local`")
            })
            .with_confidence(s.confidence(Some(f)));
    out.push(match fix {
        Some(fx) => diag.with_deferred_fix(fx),
        None => diag,
    });
}

/// A buffer that stays in its function becomes a local of each call; one whose
/// address is returned becomes thread-local (see [`crate::fix::statics`]).
pub(crate) fn scratch_fix(
    file: &crate::source::SourceFile,
    name_at: usize,
    name: &str,
    escapes: bool,
) -> Option<Fix> {
    use crate::fix::statics;
    // The rule counts any mention in a `return`; the fix looks closer.
    let escapes = escapes && statics::address_escapes(file, name_at, name)?;
    if escapes {
        let edits = statics::static_to_thread_local(file, name_at)?;
        return Some(Fix {
            applicability: Applicability::Unsafe,
            message: format!("Make `{name}` thread-local (`{}`): each thread gets its own buffer, and a returned pointer stays valid only on the thread that got it", statics::THREAD_LOCAL_MACRO),
            edits,
        });
    }
    let (edits, safe) = statics::static_to_local(file, name_at, name)?;
    Some(Fix {
        applicability: if safe {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        message: if safe {
            format!("Make `{name}` a local buffer of each call")
        } else {
            format!("Make `{name}` a local buffer of each call (check no call relies on what an earlier call left in it, and that it fits on the stack)")
        },
        edits,
    })
}
