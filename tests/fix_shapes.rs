//! The text before and after each `--fix` rewrite of issue 14 (borrowed →
//! strong, `PyDict_Next` in a critical section, memory domains), including the
//! multi-exit and `goto` cleanup shapes and the shapes that get no fix.
//!
//! Each case is one C file in a fresh folder; the snapshot holds what the fix
//! wrote (`INSTA_UPDATE=always cargo test --test fix_shapes`, then review the
//! diff). Every case also checks that a second `--fix` changes nothing.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn ftaudit(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftaudit"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ftaudit")
}

const HEAD: &str = "#include <Python.h>\n\nstatic PyObject *registry;\n\n";

/// Writes `body` (after a common head) to `m.c`, runs `--fix` with `flags`,
/// and returns the fixed text, or `(no change)`. Asserts a second run is a no-op.
fn fixed(body: &str, flags: &[&str], extra_files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in extra_files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let before = format!("{HEAD}{body}");
    let p = dir.path().join("m.c");
    std::fs::write(&p, &before).unwrap();
    let mut args = vec![
        "check",
        "m.c",
        "--fix",
        "--isolated",
        "--select",
        "FT1,FT2,FT5",
    ];
    args.extend_from_slice(flags);
    let o = ftaudit(&args, dir.path());
    assert_ne!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let after = std::fs::read_to_string(&p).unwrap();
    let o = ftaudit(&args, dir.path());
    assert_ne!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        after,
        "a second --fix must change nothing"
    );
    if after == before {
        "(no change)\n".to_owned()
    } else {
        after.strip_prefix(HEAD).map(str::to_owned).unwrap_or(after)
    }
}

fn snap(name: &str, text: String) {
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, text);
    });
}

const UNSAFE: &[&str] = &["--unsafe-fixes"];

// ---- borrowed → strong -------------------------------------------------------

#[test]
fn strong_ref_multi_exit() {
    snap(
        "strong_ref_multi_exit",
        fixed(
            r#"static PyObject *
doubled(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name))
        return NULL;
    PyObject *v = PyDict_GetItemString(registry, name);
    if (!v)
        return PyLong_FromLong(-1);
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return NULL;
    if (x == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(2 * x);
}
"#,
            &[],
            &[],
        ),
    );
}

#[test]
fn strong_ref_goto_cleanup() {
    snap(
        "strong_ref_goto_cleanup",
        fixed(
            r#"static PyObject *
describe(PyObject *self, PyObject *key)
{
    PyObject *result = NULL;
    PyObject *text = NULL;
    PyObject *value = NULL;
    if (!PyUnicode_Check(key))
        goto error;
    value = PyDict_GetItemWithError(registry, key);
    if (value == NULL)
        goto error;
    text = PyObject_Repr(value);
    if (text == NULL)
        goto error;
    result = PyUnicode_FromFormat("%S=%U", key, text);
error:
    Py_XDECREF(text);
    return result;
}
"#,
            &[],
            &[],
        ),
    );
}

#[test]
fn strong_ref_loop_body_and_returned_new_ref() {
    snap(
        "strong_ref_loop_body_and_returned_new_ref",
        fixed(
            r#"static PyObject *
first_int(PyObject *self, PyObject *list)
{
    Py_ssize_t n = PyList_Size(list);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GetItem(list, i);
        if (item == NULL)
            return NULL;
        if (!PyLong_Check(item))
            continue;
        if (PyLong_AsLong(item) > 100)
            break;
        return Py_NewRef(item);
    }
    Py_RETURN_NONE;
}

static PyObject *
first_repr(PyObject *self, PyObject *list)
{
    PyObject *item = PyList_GetItem(list, 0);
    if (item == NULL) {
        return NULL;
    }
    return PyObject_Repr(item);
}
"#,
            &[],
            &[],
        ),
    );
}

#[test]
fn strong_ref_weakref_setdefault_addmodule() {
    snap(
        "strong_ref_weakref_setdefault_addmodule",
        fixed(
            r#"static PyObject *
deref(PyObject *self, PyObject *ref)
{
    PyObject *obj = PyWeakref_GetObject(ref);
    if (obj == NULL) {
        return NULL;
    }
    return Py_NewRef(obj);
}

static PyObject *
get_default(PyObject *self, PyObject *name)
{
    PyObject *v = PyDict_SetDefault(registry, name, Py_None);
    if (v == NULL) {
        return NULL;
    }
    return Py_NewRef(v);
}

static int
main_has(PyObject *name)
{
    PyObject *main = PyImport_AddModule("__main__");
    if (main == NULL) {
        return -1;
    }
    return PyObject_HasAttr(main, name);
}
"#,
            &[],
            &[],
        ),
    );
}

/// A copy of the reference into a field is still borrowed after the fix: unsafe
/// (applied only with --unsafe-fixes, so the copy gets reviewed).
#[test]
fn strong_ref_copied_is_unsafe() {
    let body = r#"typedef struct { PyObject_HEAD PyObject *last; } Obj;

static PyObject *
remember(Obj *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(registry, key);
    if (v == NULL)
        return NULL;
    self->last = v;
    Py_RETURN_NONE;
}
"#;
    assert_eq!(fixed(body, &[], &[]), "(no change)\n");
    snap("strong_ref_copied_is_unsafe", fixed(body, UNSAFE, &[]));
}

/// Below 3.13 the replacement comes from pythoncapi_compat.h: included when the
/// project has it, otherwise the fix is unsafe.
#[test]
fn strong_ref_below_313_uses_pythoncapi_compat() {
    let body = r#"static PyObject *
lookup(PyObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(registry, key);
    if (v == NULL)
        return NULL;
    return PyObject_Repr(v);
}
"#;
    let old = &["--target-version", "3.10"];
    assert_eq!(fixed(body, old, &[]), "(no change)\n");
    snap(
        "strong_ref_below_313_with_compat_header",
        fixed(
            body,
            old,
            &[("pythoncapi_compat.h", "/* stand-in for the header */\n")],
        ),
    );
}

/// Shapes the rewrite cannot prove get no fix, even with --unsafe-fixes.
#[test]
fn strong_ref_no_fix_shapes() {
    let cases = [
        // assigned again
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItem(registry, k);
    if (v == NULL)
        v = Py_None;
    return PyObject_Repr(v);
}
"#,
        // returned borrowed
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItem(registry, k);
    return v;
}
"#,
        // its address is taken
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItem(registry, k);
    PyObject **p = &v;
    return PyObject_Repr(*p);
}
"#,
        // a label after it reached from before it
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    if (k == NULL)
        goto done;
    PyObject *v = PyDict_GetItem(registry, k);
    if (v != NULL)
        PyObject_Print(v, stdout, 0);
done:
    Py_RETURN_NONE;
}
"#,
        // preprocessor conditionals inside the function
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItem(registry, k);
#ifdef VERBOSE
    PyObject_Print(v, stdout, 0);
#endif
    return PyObject_Repr(v);
}
"#,
        // not stored in a local
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    return PyObject_Repr(PyDict_GetItem(registry, k));
}
"#,
        // assigned inside a macro
        r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItem(registry, k);
    Py_XINCREF(v);
    PyObject *r = PyObject_Repr(v);
    Py_CLEAR(v);
    return r;
}
"#,
    ];
    for (i, body) in cases.iter().enumerate() {
        assert_eq!(
            fixed(body, &["--unsafe-fixes", "--select", "FT101,FT102"], &[]),
            "(no change)\n",
            "case {i}"
        );
    }
}

// ---- PyDict_Next in a critical section ----------------------------------------

#[test]
fn dict_next_without_exits_is_wrapped_safely() {
    snap(
        "dict_next_without_exits",
        fixed(
            r#"static Py_ssize_t
count(PyObject *d)
{
    Py_ssize_t pos = 0, n = 0;
    PyObject *key, *value;
    while (PyDict_Next(d, &pos, &key, &value)) {
        if (value == Py_None)
            continue;
        n++;
    }
    return n;
}
"#,
            &[],
            &[],
        ),
    );
}

#[test]
fn dict_next_with_return_and_goto_out_is_unsafe() {
    let body = r#"static PyObject *
total(PyObject *self, PyObject *d)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    long sum = 0;
    while (PyDict_Next(d, &pos, &key, &value)) {
        if (!PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "values must be ints");
            return NULL;
        }
        if (value == Py_None)
            goto fail;
        sum += PyLong_AsLong(value);
    }
    return PyLong_FromLong(sum);
fail:
    return NULL;
}
"#;
    assert_eq!(fixed(body, &[], &[]), "(no change)\n");
    snap(
        "dict_next_with_return_and_goto_out",
        fixed(body, UNSAFE, &[]),
    );
}

#[test]
fn dict_next_no_fix_shapes() {
    let cases = [
        // a return inside a nested switch: `break` would only leave the switch
        r#"static int f(PyObject *d)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        switch (PyLong_AsLong(v)) {
        case 1:
            return 1;
        default:
            break;
        }
    }
    return 0;
}
"#,
        // the container is a call, evaluated again by the macro
        r#"static int f(PyObject *o)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(PyObject_GenericGetDict(o, NULL), &pos, &k, &v)) {
    }
    return 0;
}
"#,
    ];
    for (i, body) in cases.iter().enumerate() {
        assert_eq!(
            fixed(body, &["--unsafe-fixes", "--select", "FT201"], &[]),
            "(no change)\n",
            "case {i}"
        );
    }
}

/// FT203: the size read and the loop are locked together (unsafe: a call that runs
/// Python code can suspend the section); a size still needed after the loop, or a
/// bound read in an outer block, gets no fix.
#[test]
fn stale_size_loop_locked_with_its_size_read() {
    let body = r#"static PyObject *
total(PyObject *self, PyObject *unused)
{
    long sum = 0;
    Py_ssize_t n = PyList_GET_SIZE(registry);
    for (Py_ssize_t i = 0; i < n; i++) {
        sum += PyLong_AsLong(PyList_GET_ITEM(registry, i));
    }
    return PyLong_FromLong(sum);
}

static PyObject *
assigned(PyObject *self, PyObject *unused)
{
    long sum = 0;
    Py_ssize_t n, i;
    n = PyList_GET_SIZE(registry);
    sum = 1;
    for (i = 0; i < n; i++) {
        sum += PyLong_AsLong(PyList_GET_ITEM(registry, i));
    }
    return PyLong_FromSsize_t(n + sum);
}
"#;
    let flags = &["--select", "FT203"];
    assert_eq!(fixed(body, flags, &[]), "(no change)\n", "unsafe only");
    snap(
        "stale_size_loop_locked_with_its_size_read",
        fixed(body, &["--select", "FT203", "--unsafe-fixes"], &[]),
    );
    let no_fix = [
        // the size is used after the loop: it cannot move into the section's block
        r#"static PyObject *
count(PyObject *self, PyObject *unused)
{
    long sum = 0;
    Py_ssize_t n = PyList_GET_SIZE(registry);
    for (Py_ssize_t i = 0; i < n; i++) {
        sum += PyLong_AsLong(PyList_GET_ITEM(registry, i));
    }
    return PyLong_FromSsize_t(n + sum);
}
"#,
        // the size is read in an outer block
        r#"static PyObject *
outer(PyObject *self, PyObject *flag)
{
    long sum = 0;
    Py_ssize_t n = PyList_GET_SIZE(registry);
    if (flag == Py_True) {
        for (Py_ssize_t i = 0; i < n; i++) {
            sum += PyLong_AsLong(PyList_GET_ITEM(registry, i));
        }
    }
    return PyLong_FromLong(sum);
}
"#,
    ];
    for (i, body) in no_fix.iter().enumerate() {
        assert_eq!(
            fixed(body, &["--select", "FT203", "--unsafe-fixes"], &[]),
            "(no change)\n",
            "case {i}"
        );
    }
}

// ---- memory domains ------------------------------------------------------------

#[test]
fn object_allocator_buffer_moves_with_its_frees() {
    snap(
        "memory_domain_local_buffer",
        fixed(
            r#"static PyObject *
hexlify(PyObject *self, PyObject *data)
{
    Py_ssize_t len = PyBytes_Size(data);
    char *buf = PyObject_Malloc(2 * len + 1);
    if (buf == NULL)
        return PyErr_NoMemory();
    buf = PyObject_Realloc(buf, 2 * len + 2);
    memset(buf, '0', 2 * len);
    buf[2 * len] = '\0';
    PyObject *out = PyUnicode_FromString(buf);
    PyObject_Free(buf);
    return out;
}
"#,
            &[],
            &[],
        ),
    );
}

/// A buffer stored in a field may be freed anywhere: unsafe, and every free of
/// that field in the file moves with it.
#[test]
fn object_allocator_field_buffer_is_unsafe() {
    let body = r#"typedef struct { PyObject_HEAD char *data; } Buf;

static int
buf_init(Buf *self, PyObject *args, PyObject *kw)
{
    self->data = PyObject_Malloc(64);
    return self->data ? 0 : -1;
}

static void
buf_dealloc(Buf *self)
{
    PyObject_Free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}
"#;
    assert_eq!(fixed(body, &[], &[]), "(no change)\n");
    snap("memory_domain_field_buffer", fixed(body, UNSAFE, &[]));
}

/// Several borrowed lookups in one function: each fix lands in its own pass, and
/// the releases pile up before the one return (no dead code after it).
#[test]
fn strong_ref_several_in_one_function() {
    snap(
        "strong_ref_several_in_one_function",
        fixed(
            r#"static PyObject *
triple(PyObject *self, PyObject *k)
{
    PyObject *a = PyDict_GetItemWithError(registry, k);
    PyObject *b = PyDict_GetItemString(registry, "b");
    PyObject *c = PyDict_GetItem(registry, k);
    return Py_BuildValue("OOO", a, b, c);
}
"#,
            &[],
            &[],
        ),
    );
}

/// `p = PyObject_Realloc(q, n)` for another pointer `q`: `q` was allocated in
/// the object domain elsewhere; renaming only this call would mix domains.
#[test]
fn realloc_of_another_pointer_gets_no_fix() {
    let body = r#"typedef struct { PyObject_HEAD char *data; } Buf;

static int
grow(Buf *self, Py_ssize_t n)
{
    char *p = PyObject_Realloc(self->data, n);
    if (p == NULL)
        return -1;
    self->data = p;
    return 0;
}
"#;
    assert_eq!(
        fixed(body, &["--unsafe-fixes", "--select", "FT501"], &[]),
        "(no change)\n"
    );
}

// ---- declarations ----------------------------------------------------------------

/// FT001 on single-phase init: `SetGIL` goes after the module's `NULL` check
/// (also one inside a `||` chain); with no check before the module is used, the
/// call tests the module itself — never a call on `NULL`.
#[test]
fn set_gil_goes_after_the_null_check() {
    let flags = &["--unsafe-fixes", "--select", "FT001"];
    let init = |body: &str| {
        format!(
            "static struct PyModuleDef def = {{PyModuleDef_HEAD_INIT, \"m\", NULL, -1, NULL}};\n\nPyMODINIT_FUNC\nPyInit_m(void)\n{{\n{body}}}\n"
        )
    };
    let cases = [
        init("    PyObject *m = PyModule_Create(&def);\n    if (m == NULL)\n        return NULL;\n    return m;\n"),
        init("    PyObject *m;\n    m = PyModule_Create(&def);\n    if (m == NULL || PyModule_AddIntConstant(m, \"x\", 1) < 0) {\n        Py_XDECREF(m);\n        return NULL;\n    }\n    return m;\n"),
        init("    PyObject *m = PyModule_Create(&def);\n    PyModule_AddIntConstant(m, \"x\", 1);\n    return m;\n"),
    ];
    let out: Vec<String> = cases.iter().map(|c| fixed(c, flags, &[])).collect();
    snap("set_gil_after_the_null_check", out.join("\n// ----\n\n"));
}

/// `v = PyDict_GetItem(...)` where `v` is one of several pointers declared
/// together at the top (old C style): `= NULL` goes on its declarator.
#[test]
fn strong_ref_declared_among_others() {
    snap(
        "strong_ref_declared_among_others",
        fixed(
            r#"static int
add(PyObject *result, PyObject *key, PyObject *obj)
{
    PyObject *list, *copy = NULL;
    list = PyDict_GetItem(result, key);
    if (!list) {
        list = PyList_New(0);
        return list ? 0 : -1;
    }
    return PyList_Append(list, obj);
}

static int
add2(PyObject *key, PyObject *obj)
{
    PyObject *tmp, *list;
    if (obj == NULL)
        return -1;
    list = PyDict_GetItemWithError(registry, key);
    if (!list)
        return -1;
    return PyList_Append(list, obj);
}
"#,
            &[],
            &[],
        ),
    );
}

/// A `goto` back to a label before the lookup runs it again: the reference is
/// released before that jump.
#[test]
fn strong_ref_goto_back_before_the_lookup_releases() {
    snap(
        "strong_ref_goto_back",
        fixed(
            r#"static PyObject *
spin(PyObject *self, PyObject *k)
{
    int tries = 0;
again:
    tries++;
    PyObject *v = PyDict_GetItemWithError(registry, k);
    if (v == NULL && !PyErr_Occurred() && tries < 3)
        goto again;
    return PyObject_Repr(v);
}
"#,
            &[],
            &[],
        ),
    );
}

// ---- function-static buffers ---------------------------------------------------

/// FT403: a scratch buffer written first becomes a local (safe); one read
/// first stays for review (unsafe); one whose address is returned becomes
/// thread-local (unsafe).
#[test]
fn static_scratch_buffers() {
    let body = r#"static PyObject *
label(PyObject *self, PyObject *n)
{
    static char scratch[32];
    long v = PyLong_AsLong(n);
    snprintf(scratch, sizeof scratch, "item-%ld", v);
    return PyUnicode_FromString(scratch);
}

static const char *
describe(int code)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "error %d", code);
    return buf;
}

static PyObject *
err(PyObject *self, PyObject *n)
{
    return PyUnicode_FromString(describe((int)PyLong_AsLong(n)));
}

static PyMethodDef methods[] = {
    {"label", label, METH_O, NULL},
    {"err", err, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
"#;
    let flags = &["--select", "FT403"];
    snap("static_scratch_buffers_safe", fixed(body, flags, &[]));
    snap(
        "static_scratch_buffers_unsafe",
        fixed(body, &["--select", "FT403", "--unsafe-fixes"], &[]),
    );
}

/// Two dicts walked in one loop are locked together.
#[test]
fn dict_next_two_dicts_use_section2() {
    snap(
        "dict_next_two_dicts",
        fixed(
            r#"static int
same_keys(PyObject *a, PyObject *b)
{
    Py_ssize_t i = 0, j = 0;
    PyObject *k1, *v1, *k2, *v2;
    int same = 1;
    while (PyDict_Next(a, &i, &k1, &v1) && PyDict_Next(b, &j, &k2, &v2)) {
        if (k1 != k2)
            same = 0;
    }
    return same;
}
"#,
            &[],
            &[],
        ),
    );
}

// ---- per-object state ------------------------------------------------------------

/// FT406: with --unsafe-fixes the method body runs in a critical section on
/// `self` with one way out; without it nothing changes.
#[test]
fn object_field_method_body_locked() {
    let body = r#"typedef struct { PyObject_HEAD PyObject *value; long hits; } Counter;

static PyObject *
counter_set(Counter *self, PyObject *v)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_TypeError, "no value");
        return NULL;
    }
    Py_XSETREF(self->value, Py_NewRef(v));
    self->hits += 1;
    if (self->hits > 100)
        Py_RETURN_NONE;
    return PyLong_FromLong(self->hits);
}

static PyMethodDef counter_methods[] = {
    {"set", (PyCFunction)counter_set, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
"#;
    assert_eq!(fixed(body, &["--select", "FT406"], &[]), "(no change)\n");
    snap(
        "object_field_method_body_locked",
        fixed(body, &["--select", "FT406", "--unsafe-fixes"], &[]),
    );
}

/// Every "after" text above compiles for 3.13t and 3.13 with
/// -Werror=implicit-function-declaration -Werror=incompatible-pointer-types:
/// the rewrites use only APIs and macros the headers have, with the right types.
#[test]
#[ignore = "needs the provisioned CPython 3.13t and 3.13; scripts/test.sh provides them"]
fn every_fixed_shape_compiles_for_both_builds() {
    let Some(ft) = common::free_threaded() else {
        return;
    };
    let Some(gil) = common::gil_build() else {
        return;
    };
    let snaps = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let dir = tempfile::tempdir().unwrap();
    let mut sources = Vec::new();
    for name in SHAPE_SNAPSHOTS {
        let text = std::fs::read_to_string(snaps.join(format!("{name}.snap"))).unwrap();
        let body = text.splitn(3, "---\n").nth(2).unwrap_or("");
        for (i, part) in body.split("\n// ----\n").enumerate() {
            if part.trim() == "(no change)" {
                continue;
            }
            let mut src = if part.contains("#include <Python.h>") {
                part.to_owned()
            } else {
                format!("{HEAD}{part}")
            };
            src = src.replacen(
                "#include <Python.h>\n",
                "#include <Python.h>\n#include <string.h>\n",
                1,
            );
            if name.starts_with("strong_ref_below_313") {
                std::fs::write(
                    dir.path().join("pythoncapi_compat.h"),
                    "/* the APIs exist in 3.13 */\n",
                )
                .unwrap();
            }
            let p = dir.path().join(format!("{name}_{i}.c"));
            std::fs::write(&p, src).unwrap();
            sources.push(p);
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compile-extension.py");
    for (python, tag) in [(&ft, "ft"), (&gil, "gil")] {
        let o = Command::new("python3")
            .arg(&script)
            .arg("--python")
            .arg(python)
            .arg("--out")
            .arg(dir.path().join(tag))
            .args([
                "--cflag=-Werror=implicit-function-declaration",
                "--cflag=-Werror=incompatible-pointer-types",
            ])
            .args(&sources)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && !log.contains("failed"),
            "{tag}: {log}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The snapshots of this file that hold C (compiled by the test above).
const SHAPE_SNAPSHOTS: [&str; 21] = [
    "stale_size_loop_locked_with_its_size_read",
    "set_item_macro_on_shared_list",
    "list_get_item_macro_unsafe",
    "counters_become_atomic",
    "strong_ref_multi_exit",
    "strong_ref_goto_cleanup",
    "strong_ref_loop_body_and_returned_new_ref",
    "strong_ref_weakref_setdefault_addmodule",
    "strong_ref_copied_is_unsafe",
    "strong_ref_below_313_with_compat_header",
    "strong_ref_several_in_one_function",
    "strong_ref_declared_among_others",
    "strong_ref_goto_back",
    "dict_next_without_exits",
    "dict_next_with_return_and_goto_out",
    "dict_next_two_dicts",
    "memory_domain_local_buffer",
    "memory_domain_field_buffer",
    "set_gil_after_the_null_check",
    "static_scratch_buffers_unsafe",
    "object_field_method_body_locked",
];

/// FT401: a counter only ever incremented becomes a C11 atomic (unsafe); one
/// whose address is taken gets no fix.
#[test]
fn counters_become_atomic() {
    let body = r#"static long calls = 0;
static Py_ssize_t bytes_seen;
static int peeked;

static PyObject *
count(PyObject *self, PyObject *arg)
{
    calls++;
    bytes_seen += PyObject_Length(arg);
    peeked += 1;
    int *p = &peeked;
    (void)p;
    return PyLong_FromLong(calls);
}

static PyMethodDef methods[] = {
    {"count", count, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
"#;
    assert_eq!(fixed(body, &["--select", "FT401"], &[]), "(no change)\n");
    snap(
        "counters_become_atomic",
        fixed(body, &["--select", "FT401", "--unsafe-fixes"], &[]),
    );
}

/// A statement macro defined in the file with a `return` in it hides an exit:
/// no fix. One from a header might: the fix is unsafe.
#[test]
fn statement_macros_that_may_hide_a_return() {
    let defined = r#"#define CHECK(x) do { if (!(x)) return NULL; } while (0)
static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItemWithError(registry, k);
    CHECK(v);
    return PyObject_Repr(v);
}
"#;
    assert_eq!(fixed(defined, &["--unsafe-fixes"], &[]), "(no change)\n");
    let foreign = r#"static PyObject *f(PyObject *self, PyObject *k)
{
    PyObject *v = PyDict_GetItemWithError(registry, k);
    ENSURE_NOT_NULL(v);
    return PyObject_Repr(v);
}
"#;
    assert_eq!(fixed(foreign, &[], &[]), "(no change)\n");
    assert_ne!(fixed(foreign, &["--unsafe-fixes"], &[]), "(no change)\n");
}

/// The unchecked macro never failed; its replacement can: unsafe only.
#[test]
fn list_get_item_macro_is_unsafe() {
    let body = r#"static PyObject *f(PyObject *self, PyObject *l)
{
    PyObject *v = PyList_GET_ITEM(l, 0);
    return PyObject_Repr(v);
}
"#;
    assert_eq!(fixed(body, &[], &[]), "(no change)\n");
    snap("list_get_item_macro_unsafe", fixed(body, UNSAFE, &[]));
}

/// FT202: `PyList_SET_ITEM` on a list others can see becomes `PyList_SetItem`
/// (unsafe: it also releases the old item); tuples get no fix.
#[test]
fn set_item_macro_on_shared_list() {
    let body = r#"typedef struct { PyObject_HEAD PyObject *items; } Box;

static PyObject *
put(Box *self, PyObject *v)
{
    PyList_SET_ITEM(self->items, 0, Py_NewRef(v));
    Py_RETURN_NONE;
}

static PyObject *
put_t(PyObject *self, PyObject *t)
{
    PyTuple_SET_ITEM(t, 0, Py_NewRef(self));
    Py_RETURN_NONE;
}
"#;
    let flags = &["--select", "FT202"];
    assert_eq!(fixed(body, flags, &[]), "(no change)\n");
    snap(
        "set_item_macro_on_shared_list",
        fixed(body, &["--select", "FT202", "--unsafe-fixes"], &[]),
    );
}
