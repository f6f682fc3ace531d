//! Shared-state rules across files and with project settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ftaudit::check;
use ftaudit::config::{Overrides, Settings};
use ftaudit::diagnostic::Severity;

fn run(dir: &Path) -> Vec<(String, String, Severity, String)> {
    let settings = Settings::resolve(dir, &Overrides::default()).expect("settings");
    let roots: Vec<(PathBuf, Arc<Settings>)> = vec![(dir.to_path_buf(), Arc::new(settings))];
    let result = check::run(&roots, &Default::default());
    result
        .diagnostics
        .iter()
        .map(|d| {
            let file = d
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            (d.rule.code.to_owned(), file, d.severity, d.message.clone())
        })
        .collect()
}

const OBJECT: &str = r#"
#include <Python.h>
typedef struct { PyObject_HEAD PyObject *value; } BoxObject;
static PyObject *cache;
static long hits;
static PyObject *Box_set(BoxObject *self, PyObject *v) {
    hits++;
    Py_XSETREF(self->value, Py_NewRef(v));
    Py_XSETREF(cache, Py_NewRef(v));
    Py_RETURN_NONE;
}
static PyMethodDef Box_methods[] = {{"set", (PyCFunction)Box_set, METH_O, NULL}, {NULL}};
"#;

#[test]
fn objects_not_shared_downgrades_only_the_per_object_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("box.c"), OBJECT).expect("write");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselect = [\"FT4\"]\n",
    )
    .expect("write");
    let shared = run(dir.path());
    let sev = |v: &[(String, String, Severity, String)], code: &str| {
        v.iter().find(|d| d.0 == code).map(|d| d.2)
    };
    assert_eq!(sev(&shared, "FT406"), Some(Severity::Error), "{shared:?}");
    let of = |v: &[(String, String, Severity, String)], needle: &str| {
        v.iter()
            .find(|d| d.0 == "FT401" && d.3.contains(needle))
            .map(|d| d.2)
    };
    assert_eq!(
        of(&shared, "`cache`"),
        Some(Severity::Error),
        "pointer state is the worst: {shared:?}"
    );
    assert_eq!(
        of(&shared, "`hits`"),
        Some(Severity::Info),
        "a counter is the mildest: {shared:?}"
    );

    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselect = [\"FT4\"]\nobjects-shared-between-threads = false\n",
    )
    .expect("write");
    let private = run(dir.path());
    assert_eq!(sev(&private, "FT406"), Some(Severity::Info), "{private:?}");
    assert_eq!(
        of(&private, "`cache`"),
        Some(Severity::Error),
        "the setting must not touch global state: {private:?}"
    );
}

#[test]
fn calls_are_followed_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("clinic")).expect("mkdir");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselect = [\"FT4\"]\n",
    )
    .expect("write");
    // Argument Clinic style: the wrapper in clinic/mod.c.h takes a critical section and
    // calls the `static` _impl of mod.c; `locked_set` is referenced from mod.c's table.
    std::fs::write(
        dir.path().join("clinic/mod.c.h"),
        r#"
static PyObject *locked_set_impl(BoxObject *self, PyObject *v);
static PyObject *bare_set_impl(BoxObject *self, PyObject *v);
static PyObject *locked_set(BoxObject *self, PyObject *v) {
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(self);
    r = locked_set_impl(self, v);
    Py_END_CRITICAL_SECTION();
    return r;
}
static PyObject *bare_set(BoxObject *self, PyObject *v) { return bare_set_impl(self, v); }
static PyObject *open_log_impl(PyObject *module, PyObject *v);
static PyObject *open_log(PyObject *module, PyObject *v) {
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(module);
    r = open_log_impl(module, v);
    Py_END_CRITICAL_SECTION();
    return r;
}
static PyObject *locked_set_global(BoxObject *self, PyObject *v) {
    PyObject *r;
    Py_BEGIN_CRITICAL_SECTION(self);
    r = instance_locked_impl(self, v);
    Py_END_CRITICAL_SECTION();
    return r;
}
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("helpers.c"),
        r#"
#include <Python.h>
PyObject *shared_table;
int fill_table(void) { shared_table = PyDict_New(); return shared_table ? 0 : -1; }
int touch_table(void) { shared_table = NULL; return 0; }
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("mod.c"),
        r#"
#include <Python.h>
typedef struct { PyObject_HEAD PyObject *value; } BoxObject;
int fill_table(void);
int touch_table(void);
#include "clinic/mod.c.h"
static PyObject *locked_set_impl(BoxObject *self, PyObject *v) {
    Py_XSETREF(self->value, Py_NewRef(v));
    Py_RETURN_NONE;
}
static PyObject *bare_set_impl(BoxObject *self, PyObject *v) {
    Py_XSETREF(self->value, Py_NewRef(v));
    touch_table();
    Py_RETURN_NONE;
}
static PyMethodDef Box_methods[] = {
    {"locked_set", (PyCFunction)locked_set, METH_O, NULL},
    {"bare_set", (PyCFunction)bare_set, METH_O, NULL},
    {NULL},
};
static int mod_exec(PyObject *m) { return fill_table(); }
static PyObject *ident;
static PyObject *open_log_impl(PyObject *module, PyObject *v) {
    Py_XSETREF(ident, Py_NewRef(v));
    Py_RETURN_NONE;
}
static PyObject *instance_locked_impl(BoxObject *self, PyObject *v) {
    Py_XSETREF(ident, Py_NewRef(v));
    Py_RETURN_NONE;
}
static PyMethodDef mod_methods[] = {
    {"open_log", open_log, METH_O, NULL},
    {"locked_set_global", (PyCFunction)locked_set_global, METH_O, NULL},
    {NULL},
};
static PyModuleDef_Slot slots[] = {{Py_mod_exec, mod_exec}, {0, NULL}};
"#,
    )
    .expect("write");
    let found = run(dir.path());
    let in_fn =
        |code: &str, needle: &str| found.iter().any(|d| d.0 == code && d.3.contains(needle));
    assert!(in_fn("FT406", "`bare_set_impl`"), "{found:?}");
    assert!(
        !in_fn("FT406", "`locked_set_impl`"),
        "guarded by the caller's critical section: {found:?}"
    );
    assert!(
        !in_fn("FT401", "`fill_table`"),
        "called only from Py_mod_exec in another file: {found:?}"
    );
    assert!(
        in_fn("FT401", "`touch_table`"),
        "reached from a method in another file: {found:?}"
    );
    assert!(
        !in_fn("FT401", "`open_log_impl`"),
        "every caller holds the module's critical section: {found:?}"
    );
    assert!(
        in_fn("FT401", "`instance_locked_impl`"),
        "an instance's critical section does not protect a global: {found:?}"
    );
}

const TRACER: &str = r#"
#include <Python.h>
typedef struct { PyObject_HEAD char *buf; Py_ssize_t n; } Sampler;
static void grow(Sampler *t) { t->buf = PyMem_Realloc(t->buf, t->n * 2); }
static PyObject *Sampler_push(Sampler *self, PyObject *v) { grow(self); Py_RETURN_NONE; }
static PyObject *Sampler_first(Sampler *self, PyObject *u) { return PyLong_FromLong(self->buf[0]); }
static PyMethodDef methods[] = {
    {"push", (PyCFunction)Sampler_push, METH_O, NULL},
    {"first", (PyCFunction)Sampler_first, METH_NOARGS, NULL},
    {NULL},
};
static PyTypeObject SamplerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sampling.Sampler",
    .tp_basicsize = sizeof(Sampler),
    .tp_methods = methods,
};
"#;

#[test]
fn thread_confined_types_turn_off_the_per_object_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tracer.c"), TRACER).expect("write");
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselect = [\"FT4\"]\n",
    )
    .expect("write");
    let shared = run(dir.path());
    let codes: Vec<&str> = shared.iter().map(|d| d.0.as_str()).collect();
    assert!(codes.contains(&"FT406"), "{shared:?}");
    assert!(codes.contains(&"FT409"), "{shared:?}");
    // By Python name, variable or struct: all three mean the same type.
    for name in ["Sampler", "SamplerType", "sampling.Sampler"] {
        std::fs::write(
            dir.path().join("pyproject.toml"),
            format!("[tool.ftaudit]\nselect = [\"FT4\"]\nthread-confined-types = [\"{name}\"]\n"),
        )
        .expect("write");
        let confined = run(dir.path());
        assert!(
            !confined
                .iter()
                .any(|d| ["FT406", "FT409", "FT410", "FT411"].contains(&d.0.as_str())),
            "{name}: {confined:?}"
        );
    }
    // `objects-shared-between-threads = false` still lowers them to info.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.ftaudit]\nselect = [\"FT4\"]\nobjects-shared-between-threads = false\n",
    )
    .expect("write");
    let private = run(dir.path());
    assert!(
        private
            .iter()
            .filter(|d| d.0 == "FT406" || d.0 == "FT409")
            .all(|d| d.2 == Severity::Info)
            && !private.is_empty(),
        "{private:?}"
    );
}

#[test]
fn helper_findings_carry_the_conflicting_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tracer.c"), TRACER).expect("write");
    let settings = Settings::resolve(dir.path(), &Overrides::default()).expect("settings");
    let roots: Vec<(PathBuf, Arc<Settings>)> = vec![(dir.path().to_path_buf(), Arc::new(settings))];
    let result = check::run(&roots, &Default::default());
    let push = result
        .diagnostics
        .iter()
        .find(|d| d.rule.code == "FT406")
        .expect("FT406 on push");
    assert!(push.message.contains("`Sampler_push`") && push.message.contains("through `grow`"));
    let lines: Vec<usize> = push
        .related
        .iter()
        .filter_map(|r| r.span.map(|s| s.start_line))
        .collect();
    // Where `grow` reallocates, and the reader it conflicts with.
    assert_eq!(lines, vec![4, 6], "{:?}", push.related);
    let first = result
        .diagnostics
        .iter()
        .find(|d| d.rule.code == "FT409")
        .expect("FT409 on first");
    assert_eq!(first.severity, Severity::Error, "a reallocated buffer");
    assert!(first
        .related
        .iter()
        .any(|r| r.message.contains("`Sampler_push`")));
}

/// A global changed through a helper (or defined in another file) is reported as
/// *likely*: on real code many such paths are startup-only or benign counters. A
/// direct write in the entry point stays certain.
#[test]
fn globals_changed_through_helpers_are_likely_not_certain() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("m.c"),
        r#"#include <Python.h>

typedef struct { long used; } Pool;
static long hits;
static Pool pool;

static void pool_take(Pool *p) { p->used += 1; }

static PyObject *direct(PyObject *m, PyObject *a) { hits = PyLong_AsLong(a); Py_RETURN_NONE; }
static PyObject *through(PyObject *m, PyObject *a) { pool_take(&pool); Py_RETURN_NONE; }

static PyMethodDef methods[] = {
    {"direct", direct, METH_O, NULL},
    {"through", through, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
"#,
    )
    .expect("write");
    let settings = Settings::resolve(dir.path(), &Overrides::default()).expect("settings");
    let roots: Vec<(PathBuf, Arc<Settings>)> = vec![(dir.path().to_path_buf(), Arc::new(settings))];
    let result = check::run(&roots, &Default::default());
    let confidence = |needle: &str| {
        result
            .diagnostics
            .iter()
            .find(|d| d.rule.code == "FT401" && d.message.contains(needle))
            .map(|d| d.confidence)
            .unwrap_or_else(|| panic!("no FT401 for {needle}: {:?}", result.diagnostics))
    };
    use ftaudit::diagnostic::Confidence;
    assert_eq!(confidence("`direct`"), Confidence::Certain);
    assert_eq!(confidence("through `pool_take`"), Confidence::Likely);
}
