//! FT4xx — shared state: globals, lazy-init caches, static buffers, non-reentrant
//! libc calls, module state, per-object state, foreign library contexts, bytearray
//! and capsule pointers.
//!
//! With the GIL, only one thread ran extension code at a time, so a `static` cache
//! or a `self->` field needed no lock. Without it, every function that Python can
//! call (see [`crate::source::entry`]) may run on many threads at once. These rules
//! find the state such functions write without a lock, thread-local storage, atomics
//! or a critical section.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::config::Settings;
use crate::diagnostic::{Confidence, Diagnostic, Severity};
use crate::rules::{FileContext, FixAvailability, ProjectFile, Rule};
use crate::source::entry::{classify, EntryMap, Facts, GuardKind, Role, WriteKind};
use crate::source::index::{Declaration, Range};
use crate::source::preproc::BuildConfig;

pub static GLOBAL_WRITTEN_AT_RUNTIME: Rule = Rule {
    code: "FT401",
    name: "global-written-at-runtime",
    severity: Severity::Error,
    summary: "A mutable static variable is written by code that can run on many threads at once.",
    doc: r#"## What it does
Finds non-`const` variables with static storage — file-scope and function-local
`static`s, C++ namespace-scope variables and class-static members — that are written
(assigned, incremented, filled by `memcpy`/`snprintf`, replaced with `Py_SETREF`) in a
function Python can call: a method, a type slot, a getter/setter, a callback, or
anything those call. Writes are not findings when the function runs only during
module initialisation (`PyInit_*`, `Py_mod_exec`, `Py_mod_create` and what only they
call), when the variable is thread-local or atomic, when the write sits between a
lock and its unlock (`PyMutex`, pthread, Windows, C++ scoped locks), or when it is
compiled only without free threading (`#ifndef Py_GIL_DISABLED`).

Severity follows what can go wrong: `PyObject *` and other pointers are errors
(use-after-free, double free), other data warnings, counters that are only
incremented are informational (lost updates).

## Why is this bad?
The GIL used to serialise every call into the extension, so a global behaved like
a private variable. Without it two threads can write the same global at once: a
cached `PyObject *` is replaced while another thread still uses it, or a reference
is leaked or released twice.

## Example
```c
static PyObject *last_result;

static PyObject *compute(PyObject *module, PyObject *arg) {
    Py_XSETREF(last_result, Py_NewRef(arg));
    Py_RETURN_NONE;
}
```

## Use instead
Move the write into module initialisation (or into module state), make the variable
`thread_local` or atomic, or guard every access with one lock:
```c
static PyMutex last_result_lock = {0};

    PyMutex_Lock(&last_result_lock);
    Py_XSETREF(last_result, Py_NewRef(arg));
    PyMutex_Unlock(&last_result_lock);
```
ftaudit cannot see callers in other projects: a function nothing in the project
calls or refers to is assumed to run on any thread (reported as *likely*).

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
- Python free-threading guide, "Dealing with global state".
"#,
    fix: FixAvailability::None,
};

pub static LAZY_INIT_AT_RUNTIME: Rule = Rule {
    code: "FT402",
    name: "lazy-init-at-runtime",
    severity: Severity::Warning,
    summary: "A static cache is filled on first use by code that can run on many threads.",
    doc: r#"## What it does
Finds one-time initialisation in functions Python can call: a write to a static
variable inside an `if` that tests the same variable, such as
`if (cache == NULL) cache = ...;` or `if (!initialized) { ...; initialized = 1; }`,
including lazily imported modules and attributes kept in statics. A C++
function-local `static T x = init();` is not reported: the language makes that
initialiser thread-safe.

## Why is this bad?
Two threads can both see the empty cache and both fill it. The loser's object leaks
or, worse, is released while the winner's pointer is in use; an `initialized` flag
can become visible before the data it guards.

## Example
```c
static PyObject *decimal_type;

static PyObject *to_decimal(PyObject *mod, PyObject *arg) {
    if (decimal_type == NULL) {
        decimal_type = _PyImport_GetModuleAttrString("decimal", "Decimal");
    }
    return PyObject_CallOneArg(decimal_type, arg);
}
```

## Use instead
Fill the cache in `Py_mod_exec` (preferably in module state). If it must stay lazy,
check and fill it under a `static PyMutex`; in C++ use a function-local static or
`std::call_once`.
```c
static PyMutex decimal_lock = {0};

    PyMutex_Lock(&decimal_lock);
    if (decimal_type == NULL) {
        decimal_type = _PyImport_GetModuleAttrString("decimal", "Decimal");
    }
    PyMutex_Unlock(&decimal_lock);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
- Python free-threading guide, "Making global caches thread-safe" (single-initialisation).
"#,
    fix: FixAvailability::None,
};

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

pub static MODULE_STATE_MUTATED: Rule = Rule {
    code: "FT405",
    name: "module-state-mutated-at-runtime",
    severity: Severity::Warning,
    summary: "A module-state field is changed at runtime without a lock.",
    doc: r#"## What it does
Finds writes to fields of module state (a pointer obtained from `PyModule_GetState`,
`PyType_GetModuleState`, or a helper returning one) in functions Python can call,
outside a lock or critical section. `Py_mod_exec`, `m_traverse`, `m_clear` and
`m_free` are not findings.

## Why is this bad?
One module object, and so one state struct, is shared by every thread. Its fields
are globals in all but name.

## Example
```c
static PyObject *set_default(PyObject *module, PyObject *value) {
    mod_state *st = get_state(module);
    Py_XSETREF(st->default_value, Py_NewRef(value));
    Py_RETURN_NONE;
}
```

## Use instead
Fill state in `Py_mod_exec` and treat it as read-only afterwards, or guard the field
with a `PyMutex` kept in the state:
```c
    PyMutex_Lock(&st->mutex);
    Py_XSETREF(st->default_value, Py_NewRef(value));
    PyMutex_Unlock(&st->mutex);
```

## References
- CPython howto *C API Extension Support for Free Threading*, "Protecting Internal Extension State".
"#,
    fix: FixAvailability::None,
};

pub static UNLOCKED_SELF_FIELD: Rule = Rule {
    code: "FT406",
    name: "unlocked-object-field",
    severity: Severity::Warning,
    summary:
        "A method or slot changes (or hands out) a field of `self` outside a critical section.",
    doc: r#"## What it does
Finds methods, getters/setters and slots of extension types that write a field of
`self` — especially `Py_SETREF`/`Py_XSETREF`/`Py_CLEAR` of an object field and
read-modify-write of C fields — outside `Py_BEGIN_CRITICAL_SECTION(self)` or a lock.
It also reports the other half: a reader returning `Py_NewRef(self->field)` outside
a critical section while another method replaces that field.
`tp_new`, `tp_init`, `tp_dealloc`, `tp_traverse`, `tp_clear` (and helpers only they
call) are not findings: no other thread can see the object there.

Projects whose objects are documented as not shareable between threads (NumPy's
policy for arrays) can set `objects-shared-between-threads = false` in
`[tool.ftaudit]`: this rule then reports at *info* severity. The setting never
affects the global-state rules.

## Why is this bad?
One instance can be used from two threads. If one replaces `self->value` while the
other returns it, the second can hand out an object that was just released.

## Example
```c
static PyObject *Box_set(BoxObject *self, PyObject *value) {
    Py_XSETREF(self->value, Py_NewRef(value));
    Py_RETURN_NONE;
}
```

## Use instead
```c
static PyObject *Box_set(BoxObject *self, PyObject *value) {
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->value, Py_NewRef(value));
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}
```
Readers take the same critical section around `Py_NewRef(self->value)`.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- simplejson and msgpack took per-object critical sections when porting.
"#,
    fix: FixAvailability::None,
};

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

pub static UNPINNED_BUFFER: Rule = Rule {
    code: "FT408",
    name: "unpinned-bytearray-or-capsule",
    severity: Severity::Warning,
    summary: "A `bytearray`'s internal buffer or a capsule's pointer is used on a possibly shared object.",
    doc: r#"## What it does
Finds `PyByteArray_AS_STRING`/`PyByteArray_AsString` on a bytearray this function
did not create, and `PyCapsule_SetPointer`/`SetContext`/`SetName`/`SetDestructor` on
a capsule it did not create, outside a critical section or lock.

## Why is this bad?
Another thread can resize a shared bytearray, which frees the buffer the raw pointer
points into. Capsule fields are not synchronised at all.

## Example
```c
char *p = PyByteArray_AS_STRING(arg);
memcpy(out, p, n);
```

## Use instead
Pin the buffer with the buffer protocol (`PyObject_GetBuffer` ... `PyBuffer_Release`),
which makes a resize fail while the view exists, or hold a critical section on the
object for the whole use.

## References
- CPython howto *C API Extension Support for Free Threading*, "Critical Sections".
- CPython thread-safety annotations for `PyByteArray_AsString`.
"#,
    fix: FixAvailability::None,
};

pub static RULES: &[&Rule] = &[
    &GLOBAL_WRITTEN_AT_RUNTIME,
    &LAZY_INIT_AT_RUNTIME,
    &STATIC_SCRATCH_BUFFER,
    &NON_REENTRANT_CALL,
    &MODULE_STATE_MUTATED,
    &UNLOCKED_SELF_FIELD,
    &FOREIGN_CONTEXT_UNLOCKED,
    &UNPINNED_BUFFER,
];

/// Types whose statics are not state: type objects and tables filled at load time,
/// locks, once-flags, thread-local keys, CPython's own thread-safe argument caches.
const NOT_STATE_TYPES: [&str; 32] = [
    "PyTypeObject",
    "PyModuleDef",
    "PyMethodDef",
    "PyGetSetDef",
    "PyMemberDef",
    "PyType_Spec",
    "PyType_Slot",
    "PyModuleDef_Slot",
    "PySlot",
    "PyStructSequence_Desc",
    "PyStructSequence_Field",
    "PyNumberMethods",
    "PySequenceMethods",
    "PyMappingMethods",
    "PyBufferProcs",
    "PyAsyncMethods",
    "PyMutex",
    "Py_tss_t",
    "pthread_mutex_t",
    "pthread_once_t",
    "std::mutex",
    "std::once_flag",
    "std::recursive_mutex",
    "PyThread_type_lock",
    "CRITICAL_SECTION",
    "SRWLOCK",
    "INIT_ONCE",
    "_PyOnceFlag",
    "_PyArg_Parser",
    "_Py_Identifier",
    "PyModuleDef_Base",
    "PyThread_type_sema",
];

const CHAR_TYPES: [&str; 13] = [
    "char",
    "wchar_t",
    "unsigned char",
    "signed char",
    "uint8_t",
    "Py_UCS1",
    "Py_UCS4",
    "Py_UNICODE",
    "TCHAR",
    "WCHAR",
    "char16_t",
    "char32_t",
    "Py_UCS2",
];

/// Non-reentrant calls: name, replacement (empty when there is none).
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

/// Types of foreign library contexts that are not reentrant.
fn is_foreign_context(ty: &str) -> bool {
    let t = ty
        .trim()
        .trim_start_matches("struct ")
        .trim_end_matches('*')
        .trim();
    matches!(
        t,
        "z_stream" | "z_streamp" | "bz_stream" | "lzma_stream" | "XML_Parser" | "sqlite3" | "SSL"
    ) || t.ends_with("_CTX")
        || t.ends_with("_ctx")
        || t.ends_with("CCtx")
        || t.ends_with("DCtx")
        || t.ends_with("_CStream")
        || t.ends_with("_DStream")
        || t.starts_with("EVP_")
        || t.starts_with("BrotliEncoderState")
        || t.starts_with("BrotliDecoderState")
}

/// The state rules across the project (they need the cross-file call graph).
pub fn check_project(files: &[ProjectFile], _settings: &Settings, out: &mut Vec<Diagnostic>) {
    let wanted = |pf: &ProjectFile| {
        RULES
            .iter()
            .any(|r| pf.settings.rule_enabled(r, &pf.file.path))
    };
    if !files.iter().any(wanted) {
        return;
    }
    let names: HashSet<&str> = files
        .iter()
        .flat_map(|pf| pf.index.functions.iter().map(|f| f.name.as_str()))
        .collect();
    let facts: Vec<Facts> = files
        .par_iter()
        .map(|pf| Facts::build(&pf.file, &pf.index, &names))
        .collect();
    let entries = classify(files, &facts);
    let object_types = python_object_types(files);
    let per_file: Vec<Vec<Diagnostic>> = files
        .par_iter()
        .enumerate()
        .map(|(fi, pf)| {
            let mut v = Vec::new();
            if !wanted(pf) {
                return v;
            }
            let ctx = FileContext::new(&pf.file, &pf.index, &pf.settings);
            let s = Scope::new(&ctx, &facts[fi], &entries, fi, &object_types);
            statics(&s, &mut v);
            non_reentrant(&s, &mut v);
            module_state(&s, &mut v);
            object_fields(&s, &mut v);
            foreign_contexts(&s, &mut v);
            unpinned(&s, &mut v);
            v
        })
        .collect();
    out.extend(per_file.into_iter().flatten());
}

/// What every check of one file needs.
struct Scope<'a> {
    ctx: &'a FileContext<'a>,
    facts: &'a Facts,
    entries: &'a EntryMap,
    fi: usize,
    configs: Vec<BuildConfig>,
    /// Per function: names of parameters and automatic locals (they shadow globals).
    shadow: HashMap<usize, HashSet<&'a str>>,
    self_cache: std::cell::RefCell<HashMap<usize, Vec<String>>>,
    /// Struct names of Python objects across the project (`PyObject_HEAD` first).
    object_types: &'a HashSet<String>,
}

impl<'a> Scope<'a> {
    fn new(
        ctx: &'a FileContext<'a>,
        facts: &'a Facts,
        entries: &'a EntryMap,
        fi: usize,
        object_types: &'a HashSet<String>,
    ) -> Scope<'a> {
        let mut shadow: HashMap<usize, HashSet<&str>> = HashMap::new();
        for (i, f) in ctx.index.functions.iter().enumerate() {
            shadow
                .entry(i)
                .or_default()
                .extend(f.params.iter().map(|p| p.name.as_str()));
        }
        for d in &ctx.index.decls {
            if let (Some(f), false) = (d.function, d.storage.is_static) {
                shadow.entry(f).or_default().insert(d.name.as_str());
            }
        }
        Scope {
            ctx,
            facts,
            entries,
            fi,
            configs: ctx.ft_configs(),
            shadow,
            self_cache: Default::default(),
            object_types,
        }
    }

    /// Compiled in some free-threaded build.
    fn in_ft(&self, off: usize) -> bool {
        let c = self.ctx.file.condition_at(off);
        self.configs.iter().any(|cfg| c.eval(cfg).maybe())
    }

    fn concurrent(&self, f: Option<usize>) -> bool {
        f.is_some() && self.entries.role(self.fi, f) == Role::Concurrent
    }

    fn confidence(&self, f: Option<usize>) -> Confidence {
        match f {
            Some(f) if self.entries.unreached[self.fi].contains(&f) => Confidence::Likely,
            _ => Confidence::Certain,
        }
    }

    fn lifecycle(&self, f: usize) -> bool {
        self.entries.lifecycle[self.fi].contains(&f)
    }

    /// Held under a lock (or, when `objects` is set, any critical section), here or
    /// at every call site of the enclosing function.
    fn locked(&self, off: usize, objects: bool, self_names: &[String]) -> bool {
        if let Some(f) = crate::source::entry::fn_at(self.ctx.index, off) {
            let by_callers = if objects {
                &self.entries.guarded
            } else {
                &self.entries.guarded_by_mutex
            };
            if by_callers[self.fi].contains(&f) {
                return true;
            }
        }
        // For globals, a critical section counts only on the module object or on some
        // other shared object, not on the instance the method was called for.
        let first = crate::source::entry::fn_at(self.ctx.index, off)
            .and_then(|f| self.ctx.index.functions[f].params.first())
            .map(|p| p.name.as_str())
            .filter(|n| !n.is_empty());
        let on_instance = |arg: &str| {
            !crate::source::entry::is_module_arg(arg)
                && (self_names.iter().any(|n| mentions(arg, n))
                    || first.is_some_and(|n| mentions(arg, n)))
        };
        self.facts.guards_at(off).any(|g| match g.kind {
            GuardKind::Mutex => true,
            GuardKind::CriticalSection => objects || !on_instance(&g.arg),
            GuardKind::Detached => false,
        })
    }

    fn fn_name(&self, f: usize) -> &str {
        &self.ctx.index.functions[f].name
    }

    fn text(&self, r: Range) -> &str {
        self.ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
    }

    /// `self`, the first parameter, and locals cast from it (cached).
    fn self_names(&self, f: usize) -> Vec<String> {
        if let Some(v) = self.self_cache.borrow().get(&f) {
            return v.clone();
        }
        let v = self.compute_self_names(f);
        self.self_cache.borrow_mut().insert(f, v.clone());
        v
    }

    fn is_object_struct(&self, ty: &str) -> bool {
        let t = ty
            .trim_end_matches('*')
            .trim()
            .trim_start_matches("struct ")
            .trim();
        self.object_types.contains(t)
            || (t.ends_with("Object") && t != "PyObject" && t != "PyTypeObject")
    }

    fn compute_self_names(&self, f: usize) -> Vec<String> {
        let func = &self.ctx.index.functions[f];
        let Some(first) = func.params.first() else {
            return vec![];
        };
        if first.name.is_empty() || !first.ty.contains('*') {
            return vec![];
        }
        let base_ty = first
            .ty
            .trim_end_matches('*')
            .trim()
            .trim_start_matches("struct ")
            .trim();
        let mut names = Vec::new();
        if self.is_object_struct(base_ty) {
            names.push(first.name.clone());
        }
        if base_ty == "PyObject" || self.is_object_struct(base_ty) {
            for d in self
                .ctx
                .index
                .decls
                .iter()
                .filter(|d| d.function == Some(f) && d.is_pointer)
            {
                let Some(init) = d.init.as_ref().and_then(|i| i.expr()) else {
                    continue;
                };
                // `FooObject *self = (FooObject *)op;` but not `state *st = get_state(module);`
                // A freshly allocated object (`PyObject_New(T, type)`, `type->tp_alloc(type, 0)`) is not shared yet.
                let fresh = ["_New", "tp_alloc", "Alloc", "_new"]
                    .iter()
                    .any(|k| init.contains(k));
                if mentions(init, &first.name)
                    && self.is_object_struct(d.base_type())
                    && !fresh
                    && !init.to_ascii_lowercase().contains("state")
                {
                    names.push(d.name.clone());
                }
            }
        }
        // A C++ member function of a Python object class.
        if let Some((class, _)) = func.name.rsplit_once("::") {
            if self.is_object_struct(class) {
                names.push("this".into());
            }
        }
        names
    }
}

/// Does `text` contain `word` as a whole identifier?
fn mentions(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let b = text.as_bytes();
        let id = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let before = i > 0 && id(b[i - 1]);
        let after = b.get(i + word.len()).is_some_and(|c| id(*c));
        !before && !after
    })
}

fn is_object_type(ty: &str) -> bool {
    let t = ty
        .trim()
        .trim_start_matches("const ")
        .trim_start_matches("struct ");
    t.starts_with("PyObject") || (t.starts_with("Py") && t.ends_with("Object"))
}

fn is_state_candidate(d: &Declaration) -> bool {
    d.has_static_storage()
        && !d.storage.is_const
        && !d.storage.thread_local
        && !d.storage.atomic
        && !d.specifiers.contains("constexpr")
        && !d.specifiers.contains("Py_TSS")
        && !NOT_STATE_TYPES.contains(&d.base_type())
        && !d.base_type().starts_with("std::atomic")
        && !d.base_type().starts_with("std::mutex")
}

/// FT401, FT402, FT403: writes to static storage from concurrent code.
fn statics(s: &Scope, out: &mut Vec<Diagnostic>) {
    let idx = s.ctx.index;
    // File-scope statics by name (C++ `Foo::count` also as `count`), static locals by (function, name).
    let mut globals: HashMap<&str, &Declaration> = HashMap::new();
    let mut locals: HashMap<(usize, &str), &Declaration> = HashMap::new();
    for d in idx.decls.iter().filter(|d| is_state_candidate(d)) {
        let short = d.name.rsplit("::").next().unwrap_or(&d.name);
        match d.function {
            None => {
                globals.entry(short).or_insert(d);
            }
            Some(f) => {
                locals.insert((f, short), d);
            }
        }
    }
    // Variables declared thread-local, atomic or const anywhere at file scope win over a
    // plain declaration of the same name (`extern` + definition).
    for d in idx.decls.iter().filter(|d| {
        d.function.is_none() && (d.storage.thread_local || d.storage.atomic || d.storage.is_const)
    }) {
        globals.remove(d.name.as_str());
    }
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    let mut unsafe_writes: Vec<(&crate::source::entry::Write, &Declaration)> = Vec::new();
    for w in &s.facts.writes {
        let Some(f) = w.function else { continue };
        if w.arrow && w.field.is_some() {
            continue; // `p->f`: the pointee, not the pointer variable
        }
        let decl = match locals.get(&(f, w.base.as_str())) {
            Some(d) => *d,
            None => {
                if s.shadow
                    .get(&f)
                    .is_some_and(|sh| sh.contains(w.base.as_str()))
                {
                    continue;
                }
                let Some(d) = globals.get(w.base.as_str()) else {
                    continue;
                };
                *d
            }
        };
        if !s.concurrent(Some(f))
            || !s.in_ft(w.range.0)
            || s.locked(w.range.0, false, &s.self_names(f))
        {
            continue;
        }
        unsafe_writes.push((w, decl));
    }
    // Counters: every unsafe write increments.
    let mut non_counter: HashSet<&str> = HashSet::new();
    for (w, d) in &unsafe_writes {
        if !matches!(w.kind, WriteKind::Update | WriteKind::Compound) {
            non_counter.insert(d.name.as_str());
        }
    }
    for (w, d) in unsafe_writes {
        let Some(f) = w.function else { continue };
        if !reported.insert((f, d.name.clone())) {
            continue;
        }
        let fname = s.fn_name(f);
        let name = &d.name;
        let ty = d.base_type();
        // `if (x == NULL) x = ...;`, `if (!inited) { ...; inited = 1; }`: a whole-variable
        // assignment under a test of that variable for emptiness.
        let lazy = w.kind == WriteKind::Assign
            && !w.subscript
            && w.field.is_none()
            && s.facts.branches.iter().any(|b| {
                b.body.0 <= w.range.0
                    && w.range.1 <= b.body.1
                    && b.idents.iter().any(|i| i == &w.base)
                    && tests_empty(s.text(b.condition), &w.base)
            });
        let scratch = !d.is_pointer
            && ((d.is_array && CHAR_TYPES.contains(&ty))
                || (!d.is_array
                    && w.kind == WriteKind::Call
                    && w.call.as_deref() != Some("memset")
                    && !is_object_type(ty)
                    && !matches!(
                        w.call.as_deref(),
                        Some("Py_SETREF" | "Py_XSETREF" | "Py_CLEAR")
                    )));
        let pointerish = d.is_pointer || is_object_type(ty);
        let confidence = s.confidence(Some(f));
        let where_ = if d.function.is_some() {
            "static local"
        } else {
            "static variable"
        };
        let diag = if lazy {
            if !s.ctx.enabled(&LAZY_INIT_AT_RUNTIME) {
                continue;
            }
            s.ctx
                .diagnostic(&LAZY_INIT_AT_RUNTIME, w.range, format!("`{fname}` fills the {where_} `{name}` on first use; two threads can both see it empty"))
                .with_help(format!(
                    "fill `{name}` in module init (`Py_mod_exec`) instead; or check and fill it under a lock: `static PyMutex {name}_lock = {{0}};` with `PyMutex_Lock(&{name}_lock); if (...) {{ ... }} PyMutex_Unlock(&{name}_lock);` (C++: a function-local static or std::call_once)"
                ))
                .with_severity(if pointerish { Severity::Error } else { Severity::Warning })
        } else if scratch {
            if !s.ctx.enabled(&STATIC_SCRATCH_BUFFER) {
                continue;
            }
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
            s.ctx
                .diagnostic(&STATIC_SCRATCH_BUFFER, w.range, format!("`{fname}` writes the static buffer `{name}`{what}; every thread shares it"))
                .with_help(if escapes {
                    let tls = if s.ctx.file.language == crate::source::Language::Cpp { "thread_local" } else { "_Thread_local" };
                    format!("let the caller pass the buffer, or make it thread-local: `static {tls} {ty} {name}[...]`")
                } else {
                    format!("drop `static` from `{name}` so each call gets its own buffer on the stack, or make it `thread_local`")
                })
        } else {
            if !s.ctx.enabled(&GLOBAL_WRITTEN_AT_RUNTIME) {
                continue;
            }
            let counter = !non_counter.contains(d.name.as_str()) && !pointerish;
            let severity = if pointerish {
                Severity::Error
            } else if counter {
                Severity::Info
            } else {
                Severity::Warning
            };
            let help = if counter {
                format!("make `{name}` atomic (`_Atomic` / `std::atomic`, or `_Py_atomic_add_*`), or `thread_local` if each thread may keep its own count")
            } else {
                format!(
                    "move the write into module init (or module state); or make `{name}` `thread_local`; or guard every access with one lock: `static PyMutex {name}_lock = {{0}};` then `PyMutex_Lock(&{name}_lock); ... PyMutex_Unlock(&{name}_lock);`"
                )
            };
            s.ctx
                .diagnostic(&GLOBAL_WRITTEN_AT_RUNTIME, w.range, format!("`{fname}` writes the {where_} `{name}` without synchronisation; it can run on many threads at once"))
                .with_help(help)
                .with_severity(severity)
        };
        out.push(diag.with_confidence(confidence));
    }
}

/// FT404: non-reentrant C library calls.
fn non_reentrant(s: &Scope, out: &mut Vec<Diagnostic>) {
    if !s.ctx.enabled(&NON_REENTRANT_CALL) {
        return;
    }
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

const STATE_GETTERS: [&str; 4] = [
    "PyModule_GetState",
    "_PyModule_GetState",
    "PyType_GetModuleState",
    "PyType_GetModuleByDef",
];

/// FT405: module state fields changed at runtime.
fn module_state(s: &Scope, out: &mut Vec<Diagnostic>) {
    if !s.ctx.enabled(&MODULE_STATE_MUTATED) {
        return;
    }
    let idx = s.ctx.index;
    // Getters: the C API ones and helpers of this file returning their result.
    let mut getters: HashSet<String> = STATE_GETTERS.iter().map(|g| (*g).to_owned()).collect();
    for _ in 0..2 {
        for f in &idx.functions {
            if f.returns
                .iter()
                .any(|r| getters.iter().any(|g| mentions(s.text(*r), g)))
            {
                getters.insert(f.name.clone());
            }
        }
    }
    getters.remove("PyType_GetModuleByDef");
    let from_getter = |text: &str| getters.iter().any(|g| mentions(text, g));
    // State variables per function: initialised or assigned from a getter.
    let mut state_vars: HashMap<(usize, &str), &Declaration> = HashMap::new();
    for d in &idx.decls {
        let (Some(f), Some(init)) = (d.function, d.init.as_ref().and_then(|i| i.expr())) else {
            continue;
        };
        if d.is_pointer && from_getter(init) {
            state_vars.insert((f, d.name.as_str()), d);
        }
    }
    for w in &s.facts.writes {
        let Some(f) = w.function else { continue };
        if w.kind == WriteKind::Assign && w.field.is_none() && from_getter(s.text(w.range)) {
            if let Some(d) = idx
                .decls
                .iter()
                .find(|d| d.function == Some(f) && d.name == w.base)
            {
                state_vars.insert((f, d.name.as_str()), d);
            }
        }
    }
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    for w in &s.facts.writes {
        let (Some(f), Some(field), true) = (w.function, w.field.as_deref(), w.arrow) else {
            continue;
        };
        let Some(d) = state_vars.get(&(f, w.base.as_str())) else {
            continue;
        };
        if !s.concurrent(Some(f)) || !s.in_ft(w.range.0) || s.locked(w.range.0, true, &[]) {
            continue;
        }
        if !reported.insert((f, field.to_owned())) {
            continue;
        }
        let fty = field_type(s, d.base_type(), field);
        if fty
            .as_deref()
            .is_some_and(|t| t.contains("atomic") || t == "PyMutex")
        {
            continue;
        }
        let obj = fty.as_deref().is_some_and(is_object_type)
            || matches!(
                w.call.as_deref(),
                Some("Py_SETREF" | "Py_XSETREF" | "Py_CLEAR")
            );
        out.push(
            s.ctx
                .diagnostic(
                    &MODULE_STATE_MUTATED,
                    w.range,
                    format!("`{}` changes module state `{}->{field}` at runtime; every thread shares the module", s.fn_name(f), w.base),
                )
                .with_help(format!(
                    "set `{field}` in `Py_mod_exec` and only read it afterwards; or add `PyMutex mutex;` to the state struct and hold `PyMutex_Lock(&{0}->mutex)` ... `PyMutex_Unlock(&{0}->mutex)` around every access",
                    w.base
                ))
                .with_severity(if obj { Severity::Error } else { Severity::Warning })
                .with_confidence(s.confidence(Some(f))),
        );
    }
}

/// The declared type of `field` in struct `ty` (searched in this file).
fn field_type(s: &Scope, ty: &str, field: &str) -> Option<String> {
    let st = s
        .ctx
        .index
        .structs
        .iter()
        .find(|st| st.names.iter().any(|n| n == ty))?;
    st.fields
        .iter()
        .find(|(n, _)| n == field)
        .map(|(_, t)| t.clone())
}

/// Every field of every struct in the file with that name (when the struct is unknown).
fn any_field_type<'a>(s: &'a Scope, field: &str) -> Option<&'a str> {
    s.ctx
        .index
        .structs
        .iter()
        .flat_map(|st| st.fields.iter())
        .find(|(n, _)| n == field)
        .map(|(_, t)| t.as_str())
}

/// The type a `self` name points to, for field lookups.
fn self_type(s: &Scope, f: usize, name: &str) -> Option<String> {
    let func = &s.ctx.index.functions[f];
    if let Some(p) = func.params.iter().find(|p| p.name == name) {
        return Some(
            p.ty.trim_end_matches('*')
                .trim()
                .trim_start_matches("struct ")
                .to_owned(),
        );
    }
    s.ctx
        .index
        .decls
        .iter()
        .find(|d| d.function == Some(f) && d.name == name)
        .map(|d| d.base_type().to_owned())
}

/// Is this function a candidate for per-object checks: concurrent, not a lifecycle slot.
fn object_method(s: &Scope, f: usize) -> bool {
    s.concurrent(Some(f)) && !s.lifecycle(f)
}

/// FT406: `self->` fields written (or handed out while written) outside a critical section.
fn object_fields(s: &Scope, out: &mut Vec<Diagnostic>) {
    if !s.ctx.enabled(&UNLOCKED_SELF_FIELD) {
        return;
    }
    let idx = s.ctx.index;
    let shared = s.ctx.settings.objects_shared_between_threads;
    let mut writers: HashMap<String, String> = HashMap::new();
    let mut reported: HashSet<(usize, String)> = HashSet::new();
    let mut self_cache: HashMap<usize, Vec<String>> = HashMap::new();
    for w in &s.facts.writes {
        let (Some(f), Some(field), true) = (w.function, w.field.as_deref(), w.arrow) else {
            continue;
        };
        if !object_method(s, f) {
            continue;
        }
        let names = self_cache.entry(f).or_insert_with(|| s.self_names(f));
        if !names.contains(&w.base) {
            continue;
        }
        let fty = self_type(s, f, &w.base)
            .and_then(|t| field_type(s, &t, field))
            .or_else(|| any_field_type(s, field).map(str::to_owned));
        if fty
            .as_deref()
            .is_some_and(|t| t.contains("atomic") || t == "PyMutex" || is_foreign_context(t))
        {
            continue;
        }
        writers
            .entry(field.to_owned())
            .or_insert_with(|| s.fn_name(f).to_owned());
        if !s.in_ft(w.range.0)
            || s.locked(w.range.0, true, &[])
            || !reported.insert((f, field.to_owned()))
        {
            continue;
        }
        let obj = fty.as_deref().is_some_and(is_object_type)
            || matches!(
                w.call.as_deref(),
                Some("Py_SETREF" | "Py_XSETREF" | "Py_CLEAR")
            );
        let rmw = matches!(w.kind, WriteKind::Update | WriteKind::Compound);
        let what = if obj {
            "replaces the object field"
        } else if rmw {
            "updates (read-modify-write)"
        } else {
            "writes"
        };
        let mut severity = if obj {
            Severity::Error
        } else {
            Severity::Warning
        };
        if !shared {
            severity = Severity::Info;
        }
        out.push(
            s.ctx
                .diagnostic(&UNLOCKED_SELF_FIELD, w.range, format!("`{}` {what} `{}->{field}` outside a critical section; another thread can use the same object", s.fn_name(f), w.base))
                .with_help(format!("wrap the body in `Py_BEGIN_CRITICAL_SECTION({0});` ... `Py_END_CRITICAL_SECTION();` (and readers of `{field}` too), or hold a `PyMutex` stored in the object", w.base))
                .with_severity(severity)
                .with_confidence(s.confidence(Some(f))),
        );
    }
    // Readers handing out a field that some method replaces.
    for c in &idx.calls {
        if !matches!(
            c.name.as_str(),
            "Py_NewRef" | "Py_XNewRef" | "Py_INCREF" | "Py_XINCREF"
        ) {
            continue;
        }
        let Some(f) = c.function else { continue };
        if !object_method(s, f) {
            continue;
        }
        let Some(arg) = c.args.first().map(|a| s.text(*a).trim()) else {
            continue;
        };
        let Some((base, field)) = arg.split_once("->") else {
            continue;
        };
        let (base, field) = (base.trim().trim_start_matches('(').trim(), field.trim());
        let names = self_cache.entry(f).or_insert_with(|| s.self_names(f));
        if !names.iter().any(|n| n == base) {
            continue;
        }
        let Some(writer) = writers.get(field) else {
            continue;
        };
        if writer == s.fn_name(f)
            || !s.in_ft(c.range.0)
            || s.locked(c.range.0, true, &[])
            || !reported.insert((f, field.to_owned()))
        {
            continue;
        }
        out.push(
            s.ctx
                .diagnostic(&UNLOCKED_SELF_FIELD, c.range, format!("`{}` takes a new reference to `{base}->{field}` outside a critical section while `{writer}` replaces it", s.fn_name(f)))
                .with_help(format!("read the field inside `Py_BEGIN_CRITICAL_SECTION({base});` ... `Py_END_CRITICAL_SECTION();`, the same lock the writer holds"))
                .with_severity(if shared { Severity::Warning } else { Severity::Info })
                .with_confidence(Confidence::Likely),
        );
    }
}

/// FT407: foreign library contexts used without a lock.
fn foreign_contexts(s: &Scope, out: &mut Vec<Diagnostic>) {
    if !s.ctx.enabled(&FOREIGN_CONTEXT_UNLOCKED) {
        return;
    }
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

/// FT408: bytearray internals and capsule setters on objects this function did not create.
fn unpinned(s: &Scope, out: &mut Vec<Diagnostic>) {
    if !s.ctx.enabled(&UNPINNED_BUFFER) {
        return;
    }
    let idx = s.ctx.index;
    for c in &idx.calls {
        let (creators, what, help): (&[&str], &str, &str) = match c.name.as_str() {
            "PyByteArray_AS_STRING" | "PyByteArray_AsString" => (
                &["PyByteArray_FromStringAndSize", "PyByteArray_FromObject"],
                "a bytearray's internal buffer",
                "pin it with `PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE)` ... `PyBuffer_Release(&view)` (a resize then fails), or hold `Py_BEGIN_CRITICAL_SECTION(obj)` for the whole use",
            ),
            "PyCapsule_SetPointer" | "PyCapsule_SetContext" | "PyCapsule_SetName" | "PyCapsule_SetDestructor" => (
                &["PyCapsule_New"],
                "a capsule's fields",
                "set capsule fields only before the capsule is published, or guard every get and set with one `PyMutex`",
            ),
            _ => continue,
        };
        let Some(f) = c.function else { continue };
        if !s.concurrent(Some(f)) || !s.in_ft(c.range.0) || s.locked(c.range.0, true, &[]) {
            continue;
        }
        let Some(arg) = c.args.first().map(|a| s.text(*a).trim()) else {
            continue;
        };
        let arg = arg.rsplit(')').next().unwrap_or(arg).trim();
        // Fresh: created in this function.
        let fresh = idx.decls.iter().any(|d| {
            d.function == Some(f)
                && d.name == arg
                && d.init
                    .as_ref()
                    .and_then(|i| i.expr())
                    .is_some_and(|t| creators.iter().any(|k| t.contains(k)))
        }) || s.facts.writes.iter().any(|w| {
            w.function == Some(f)
                && w.base == arg
                && w.field.is_none()
                && creators.iter().any(|k| s.text(w.range).contains(k))
        }) || returned_by_call(s, f, arg);
        if fresh {
            continue;
        }
        out.push(
            s.ctx
                .diagnostic(&UNPINNED_BUFFER, c.range, format!("`{}` uses {what} of `{arg}`, which other threads may share, without pinning or locking", c.name))
                .with_help(help)
                .with_confidence(Confidence::Likely),
        );
    }
}

/// Names of structs that are Python objects: their body starts with `PyObject_HEAD`,
/// `PyObject_VAR_HEAD` or an `ob_base` member.
fn python_object_types(files: &[ProjectFile]) -> HashSet<String> {
    let mut out = HashSet::new();
    for pf in files {
        for st in &pf.index.structs {
            let text = pf.file.parse_text.get(st.range.0..st.range.1).unwrap_or("");
            let Some(open) = text.find('{') else { continue };
            let head = text[open + 1..].trim_start();
            if head.starts_with("PyObject_HEAD")
                || head.starts_with("PyObject_VAR_HEAD")
                || st.fields.first().is_some_and(|(n, _)| n == "ob_base")
            {
                out.extend(st.names.iter().cloned());
            }
        }
    }
    out
}

/// Does `cond` test `var` for being unset: `!var`, `var == NULL`, `var == 0`, `NULL == var`?
/// (`if (x) x = 0;` resets, it does not initialise.)
fn tests_empty(cond: &str, var: &str) -> bool {
    let c: String = cond
        .chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '(' && *ch != ')')
        .collect();
    let negated = c.contains(&format!("!{var}"));
    let compared = ["==NULL", "==0", "==nullptr", "==-1", "==false", "==Py_None"]
        .iter()
        .any(|k| c.contains(&format!("{var}{k}")))
        || ["NULL==", "0==", "nullptr=="]
            .iter()
            .any(|k| c.contains(&format!("{k}{var}")));
    negated || compared
}

/// `arg` holds what a call in `f` returned (`str = PyObject_CallObject(...)`): a new
/// reference this function owns, usually not shared yet.
fn returned_by_call(s: &Scope, f: usize, arg: &str) -> bool {
    let idx = s.ctx.index;
    let from_call = |text: &str| text.contains('(') && !text.trim_start().starts_with('(');
    idx.decls.iter().any(|d| {
        d.function == Some(f)
            && d.name == arg
            && d.init
                .as_ref()
                .and_then(|i| i.expr())
                .is_some_and(from_call)
    }) || s.facts.writes.iter().any(|w| {
        w.function == Some(f)
            && w.base == arg
            && w.field.is_none()
            && w.kind == WriteKind::Assign
            && s.text(w.range).split_once('=').is_some_and(|(_, rhs)| {
                from_call(rhs)
                    && idx.calls.iter().any(|c| {
                        c.function == Some(f) && w.range.0 <= c.range.0 && c.range.1 <= w.range.1
                    })
            })
    })
}
