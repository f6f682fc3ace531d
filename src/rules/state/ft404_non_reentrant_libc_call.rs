//! FT404: a non-reentrant C library call from concurrent code.

use super::Scope;
use crate::context::ProjectContext;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{FixAvailability, Rule};

pub static NON_REENTRANT_CALL: Rule = Rule {
    code: "FT404",
    name: "non-reentrant-libc-call",
    severity: Severity::Warning,
    summary: "A C library function that keeps hidden global state is called by code that can run on many threads.",
    doc: r#"## What it does
Finds calls to C library functions that return pointers into static storage or keep
process-wide state — `strtok`, `localtime`, `gmtime`, `ctime`, `asctime`, `strerror`,
`getenv`/`setenv`/`putenv`, `setlocale`, `localeconv`, `rand`/`srand`, the
`getpw*`/`getgr*`/`getut*` families, `gethostbyname`, `inet_ntoa`, `tmpnam`, `readdir`
on a static `DIR *` and others — in functions Python can call, outside a lock. The
message names the reentrant replacement where there is one.

## Why is this bad?
These functions were safe enough while the GIL serialised callers. Now two threads
calling `localtime` share one `struct tm`, and `strtok` interleaves two scans.

## Example
```c
struct tm *tm = localtime(&t);
```

## Use instead
```c
struct tm tmbuf;
struct tm *tm = localtime_r(&t, &tmbuf);
```
Where there is no reentrant form (`setlocale`, `getpwent` iteration), hold one
`static PyMutex` around the whole call sequence.

## References
- CPython issue 127081 (thread-unsafe libc calls in the standard library).
- POSIX: the `_r` functions.
"#,
    fix: FixAvailability::None,
};

/// FT404: non-reentrant C library calls.
pub(crate) fn check(project: &ProjectContext, out: &mut Vec<Diagnostic>) {
    super::check_files(project, &NON_REENTRANT_CALL, out, check_file);
}

fn check_file(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    for c in &idx.calls {
        let std_name = c
            .callee
            .strip_prefix("std::")
            .or_else(|| c.callee.strip_prefix("::"));
        if c.callee != c.name && std_name != Some(c.name.as_str()) {
            continue; // `obj->readdir(...)`, `ns::rand()`
        }
        let Some((_, repl)) = NON_REENTRANT.iter().find(|(n, _)| *n == c.name) else {
            continue;
        };
        // Process-wide state: only a lock shared by every caller protects it.
        let self_names = c.function.map(|f| s.self_names(f)).unwrap_or_default();
        if !s.concurrent(c.function)
            || !s.in_ft(c.range.0)
            || s.locked(c.range.0, false, &self_names)
        {
            continue;
        }
        if c.name == "readdir" {
            // Only a DIR * that several calls share.
            let arg = c.args.first().map(|a| s.text(*a).trim()).unwrap_or("");
            let shared = idx
                .decls
                .iter()
                .any(|d| d.name == arg && d.has_static_storage() && !d.storage.thread_local);
            if !shared {
                continue;
            }
        }
        let help = if repl.is_empty() {
            format!("there is no reentrant form: hold one `static PyMutex` around every use of `{}` (and the code that reads its result)", c.name)
        } else {
            format!("use `{repl}` instead, or hold one `static PyMutex` around the call and the use of its result")
        };
        out.push(
            s.ctx
                .diagnostic(
                    &NON_REENTRANT_CALL,
                    c.range,
                    format!(
                        "`{}` keeps hidden global state and is not safe to call from many threads",
                        c.name
                    ),
                )
                .with_help(help)
                .with_confidence(s.confidence(c.function)),
        );
    }
}

/// Non-reentrant calls: name, replacement (empty when there is none).
// libc: C library functions with hidden global state (not the C API).
const NON_REENTRANT: [(&str, &str); 48] = [
    ("strtok", "strtok_r"),
    ("localtime", "localtime_r"),
    ("gmtime", "gmtime_r"),
    ("ctime", "ctime_r"),
    ("asctime", "asctime_r"),
    ("strerror", "strerror_r"),
    ("strsignal", ""),
    ("getenv", ""),
    ("setenv", ""),
    ("putenv", ""),
    ("unsetenv", ""),
    ("setlocale", "uselocale with a per-thread locale"),
    ("localeconv", ""),
    ("nl_langinfo", "nl_langinfo_l"),
    ("rand", "rand_r or a per-thread generator"),
    ("srand", ""),
    ("drand48", "erand48 with caller state"),
    ("lrand48", "nrand48 with caller state"),
    ("getpwnam", "getpwnam_r"),
    ("getpwuid", "getpwuid_r"),
    ("getpwent", "getpwent_r"),
    ("setpwent", ""),
    ("endpwent", ""),
    ("getgrnam", "getgrnam_r"),
    ("getgrgid", "getgrgid_r"),
    ("getgrent", "getgrent_r"),
    ("setgrent", ""),
    ("endgrent", ""),
    ("getutent", "getutent_r"),
    ("setutent", ""),
    ("endutent", ""),
    ("getutxent", ""),
    ("setutxent", ""),
    ("endutxent", ""),
    ("gethostbyname", "getaddrinfo"),
    ("gethostbyaddr", "getnameinfo"),
    ("getservbyname", "getservbyname_r"),
    ("getservbyport", "getservbyport_r"),
    ("getprotobyname", "getprotobyname_r"),
    ("inet_ntoa", "inet_ntop"),
    ("getlogin", "getlogin_r"),
    ("ttyname", "ttyname_r"),
    ("ptsname", "ptsname_r"),
    ("tmpnam", "mkstemp"),
    ("crypt", "crypt_r"),
    ("ecvt", "snprintf"),
    ("fcvt", "snprintf"),
    ("readdir", "a DIR * per call (or a lock)"),
];
