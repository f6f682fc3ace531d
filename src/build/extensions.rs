//! The build's own view of its sources: for each extension module a build file
//! declares, the source files it compiles and the include folders it passes, as
//! written (paths relative to the build file's folder, globs kept as patterns).
//!
//! What is understood, per format:
//! - `setup.py`: `Extension(...)` and its relatives (`Pybind11Extension`,
//!   `CppExtension`, ...), with `sources`, `include_dirs` and `depends` built from
//!   literals, module-level variables (every assignment, `+=`, `.append`, `.extend`),
//!   `+`, `os.path.join`, `glob.glob`, `pathlib.Path(...).glob`, `sorted`/`list`,
//!   list comprehensions over literal lists and conditional expressions (both
//!   branches). Anything else makes the list *incomplete*.
//! - `pyproject.toml`: `[tool.setuptools] ext-modules` tables.
//! - meson: `extension_module(name, sources..., sources: ..., include_directories: ...)`
//!   with variables assigned anywhere in the project's meson files.
//! - CMake: `add_library(... MODULE ...)`, `Python_add_library`, `pybind11_add_module`,
//!   `nanobind_add_module`, plus `target_sources`, `set`/`list(APPEND)`/`file(GLOB)`
//!   variables, `${CMAKE_CURRENT_SOURCE_DIR}`-style prefixes and the sources of
//!   libraries the module links (`target_link_libraries`).
//!
//! Nothing is executed; resolution against the files on disk is `crate::scope`'s job.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::calls::{self, Call};
use super::setup_py::{parse_python, string_value};

/// One extension module as a build file declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionDecl {
    /// The module (setuptools: dotted name) or target name.
    pub name: String,
    /// Where it is declared in the build file.
    pub range: (usize, usize),
    /// Source paths or glob patterns, relative to `base` folders (see [`SourceRef`]).
    pub sources: Vec<SourceRef>,
    /// Include folders (relative like sources).
    pub include_dirs: Vec<SourceRef>,
    /// Part of the source list could not be read (a computed value).
    pub incomplete: bool,
    /// The module's init function is generated (cffi `set_source`, a Cython list).
    pub generated: bool,
}

/// A path as written, and the folder (relative to the build file's folder, usually
/// empty) it is relative to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceRef {
    pub path: String,
    /// Extra base folder (meson: the folder of the file that assigned a variable).
    pub base: Option<String>,
}

impl SourceRef {
    fn plain(path: impl Into<String>) -> SourceRef {
        SourceRef {
            path: path.into(),
            base: None,
        }
    }
}

impl ExtensionDecl {
    /// A module declared at `f` (a Python call) with the paths its build file lists.
    fn listed(
        name: String,
        f: Node,
        sources: Vec<String>,
        include_dirs: Vec<String>,
        complete: bool,
        generated: bool,
    ) -> ExtensionDecl {
        ExtensionDecl {
            name,
            range: (f.start_byte(), f.end_byte()),
            sources: sources.into_iter().map(SourceRef::plain).collect(),
            include_dirs: include_dirs.into_iter().map(SourceRef::plain).collect(),
            incomplete: !complete,
            generated,
        }
    }
}

// ---------------------------------------------------------------------------
// setup.py

/// A value of the tiny Python subset `setup.py` source lists are written in.
#[derive(Debug, Clone)]
enum V {
    S(String),
    /// A list and whether every element is known.
    L(Vec<String>, bool),
    Unknown,
}

impl V {
    fn into_list(self) -> (Vec<String>, bool) {
        match self {
            V::S(s) => (vec![s], true),
            V::L(l, c) => (l, c),
            V::Unknown => (vec![], false),
        }
    }
}

const EXTENSION_CLASSES: [&str; 8] = [
    "Extension",
    "Pybind11Extension",
    "CppExtension",
    "CUDAExtension",
    "Library",
    "RustExtension",
    "NumpyExtension",
    "CythonExtension",
];

struct Py<'t> {
    text: &'t str,
    /// Name → every right-hand side assigned to it (`=` and `+=`), `.append`/`.extend` arguments.
    assigns: HashMap<&'t str, Vec<(Node<'t>, bool)>>,
    /// Loop variables bound while evaluating a comprehension.
    bound: Vec<(String, String)>,
    /// `NAME = {"key": value}`, `NAME = dict(key=value)`, `NAME["key"] = value`,
    /// `NAME["key"].append(value)`: (name, key) → values (the flag: one element).
    dict_items: HashMap<(&'t str, String), Vec<(Node<'t>, bool)>>,
}

fn py_text<'a>(text: &'a str, n: Node) -> &'a str {
    text.get(n.byte_range()).unwrap_or("")
}

fn join_paths(parts: &[String]) -> String {
    let mut out = String::new();
    for p in parts {
        if p.starts_with('/') {
            out = p.clone();
        } else if p.is_empty() {
            continue;
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(p);
        } else {
            out.push('/');
            out.push_str(p);
        }
    }
    out
}

impl<'t> Py<'t> {
    fn new(text: &'t str, root: Node<'t>) -> Self {
        let mut assigns: HashMap<&'t str, Vec<(Node<'t>, bool)>> = HashMap::new();
        for n in super::setup_py::descendants(root) {
            match n.kind() {
                "assignment" | "augmented_assignment" => {
                    let (Some(l), Some(r)) = (
                        n.child_by_field_name("left"),
                        n.child_by_field_name("right"),
                    ) else {
                        continue;
                    };
                    if l.kind() == "identifier" {
                        assigns
                            .entry(py_text(text, l))
                            .or_default()
                            .push((r, n.kind() == "assignment"));
                    }
                }
                "call" => {
                    let Some(f) = n.child_by_field_name("function") else {
                        continue;
                    };
                    if f.kind() != "attribute" {
                        continue;
                    }
                    let (Some(obj), Some(attr)) = (
                        f.child_by_field_name("object"),
                        f.child_by_field_name("attribute"),
                    ) else {
                        continue;
                    };
                    let a = py_text(text, attr);
                    if obj.kind() == "identifier" && matches!(a, "append" | "extend" | "insert") {
                        if let Some(args) = n.child_by_field_name("arguments") {
                            let mut c = args.walk();
                            let arg = args.named_children(&mut c).last();
                            if let Some(arg) = arg {
                                // `.append(x)` adds one element: evaluate it as a list of one.
                                assigns
                                    .entry(py_text(text, obj))
                                    .or_default()
                                    .push((arg, false));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut dict_items: HashMap<(&'t str, String), Vec<(Node<'t>, bool)>> = HashMap::new();
        for n in super::setup_py::descendants(root) {
            match n.kind() {
                "assignment" | "augmented_assignment" => {
                    let (Some(l), Some(r)) = (
                        n.child_by_field_name("left"),
                        n.child_by_field_name("right"),
                    ) else {
                        continue;
                    };
                    if l.kind() == "identifier" {
                        let name = py_text(text, l);
                        if r.kind() == "dictionary" {
                            let mut c = r.walk();
                            for pair in r.named_children(&mut c).filter(|p| p.kind() == "pair") {
                                let (Some(k), Some(v)) = (
                                    pair.child_by_field_name("key"),
                                    pair.child_by_field_name("value"),
                                ) else {
                                    continue;
                                };
                                if let Some(k) = string_value(text, k) {
                                    dict_items
                                        .entry((name, k.to_owned()))
                                        .or_default()
                                        .push((v, false));
                                }
                            }
                        } else if r.kind() == "call"
                            && r.child_by_field_name("function").map(|f| py_text(text, f))
                                == Some("dict")
                        {
                            if let Some(args) = r.child_by_field_name("arguments") {
                                let mut c = args.walk();
                                for kw in args
                                    .named_children(&mut c)
                                    .filter(|x| x.kind() == "keyword_argument")
                                {
                                    if let (Some(k), Some(v)) = (
                                        kw.child_by_field_name("name"),
                                        kw.child_by_field_name("value"),
                                    ) {
                                        dict_items
                                            .entry((name, py_text(text, k).to_owned()))
                                            .or_default()
                                            .push((v, false));
                                    }
                                }
                            }
                        }
                    } else if l.kind() == "subscript" {
                        if let Some((name, key)) = subscript_key(text, l) {
                            dict_items.entry((name, key)).or_default().push((r, false));
                        }
                    }
                }
                "call" => {
                    let Some(f) = n.child_by_field_name("function") else {
                        continue;
                    };
                    if f.kind() != "attribute" {
                        continue;
                    }
                    let (Some(obj), Some(attr)) = (
                        f.child_by_field_name("object"),
                        f.child_by_field_name("attribute"),
                    ) else {
                        continue;
                    };
                    if obj.kind() != "subscript"
                        || !matches!(py_text(text, attr), "append" | "extend")
                    {
                        continue;
                    }
                    let Some((name, key)) = subscript_key(text, obj) else {
                        continue;
                    };
                    if let Some(args) = n.child_by_field_name("arguments") {
                        let mut c = args.walk();
                        if let Some(arg) = args.named_children(&mut c).last() {
                            dict_items.entry((name, key)).or_default().push((arg, true));
                        }
                    }
                }
                _ => {}
            }
        }
        Py {
            text,
            assigns,
            bound: Vec::new(),
            dict_items,
        }
    }

    fn eval(&mut self, n: Node<'t>, depth: usize) -> V {
        if depth > 12 {
            return V::Unknown;
        }
        let text = self.text;
        match n.kind() {
            "string" => {
                if super::setup_py::descendants(n)
                    .iter()
                    .any(|c| c.kind() == "interpolation")
                {
                    return V::Unknown;
                }
                string_value(text, n).map_or(V::Unknown, |s| V::S(s.to_owned()))
            }
            "concatenated_string" => {
                let mut out = String::new();
                let mut c = n.walk();
                for s in n.named_children(&mut c) {
                    match self.eval(s, depth + 1) {
                        V::S(x) => out.push_str(&x),
                        _ => return V::Unknown,
                    }
                }
                V::S(out)
            }
            "parenthesized_expression" => match n.named_child(0) {
                Some(c) => self.eval(c, depth + 1),
                None => V::Unknown,
            },
            "list" | "tuple" | "set" => {
                let mut out = Vec::new();
                let mut complete = true;
                let mut c = n.walk();
                let children: Vec<Node> = n.named_children(&mut c).collect();
                for e in children {
                    if e.kind() == "comment" {
                        continue;
                    }
                    let e = if e.kind() == "list_splat" {
                        match e.named_child(0) {
                            Some(x) => x,
                            None => continue,
                        }
                    } else {
                        e
                    };
                    let (l, ok) = self.eval(e, depth + 1).into_list();
                    out.extend(l);
                    complete &= ok;
                }
                V::L(out, complete)
            }
            "binary_operator" => {
                let (Some(a), Some(b), Some(op)) = (
                    n.child_by_field_name("left"),
                    n.child_by_field_name("right"),
                    n.child_by_field_name("operator"),
                ) else {
                    return V::Unknown;
                };
                let op = py_text(text, op);
                let (va, vb) = (self.eval(a, depth + 1), self.eval(b, depth + 1));
                match (op, va, vb) {
                    ("+", V::S(x), V::S(y)) => V::S(x + &y),
                    ("/", V::S(x), V::S(y)) => V::S(join_paths(&[x, y])),
                    ("+", x, y) => {
                        let (mut l, c1) = x.into_list();
                        let (r, c2) = y.into_list();
                        l.extend(r);
                        V::L(l, c1 && c2)
                    }
                    _ => V::Unknown,
                }
            }
            "conditional_expression" => {
                let mut c = n.walk();
                let parts: Vec<Node> = n.named_children(&mut c).collect();
                if parts.len() != 3 {
                    return V::Unknown;
                }
                let (a, ca) = self.eval(parts[0], depth + 1).into_list();
                let (b, cb) = self.eval(parts[2], depth + 1).into_list();
                let mut l = a;
                l.extend(b);
                V::L(l, ca && cb)
            }
            "identifier" => {
                let name = py_text(text, n);
                if let Some((_, v)) = self.bound.iter().rev().find(|(k, _)| k == name) {
                    return V::S(v.clone());
                }
                if name == "__file__" {
                    return V::S(String::new());
                }
                let Some(rhs) = self.assigns.get(name).cloned() else {
                    return V::Unknown;
                };
                // Every assignment counts (branches, `+=`): the union is a superset.
                let mut out = Vec::new();
                let mut complete = true;
                let mut single: Option<String> = None;
                let mut strings_only = true;
                for (r, _) in rhs {
                    if r.start_byte() <= n.start_byte() && r.end_byte() >= n.end_byte() {
                        continue;
                    }
                    match self.eval(r, depth + 1) {
                        V::S(s) => {
                            if single.as_ref().is_some_and(|x| *x != s) {
                                strings_only = false;
                            }
                            single = Some(s.clone());
                            out.push(s);
                        }
                        V::L(l, c) => {
                            strings_only = false;
                            out.extend(l);
                            complete &= c;
                        }
                        V::Unknown => {
                            strings_only = false;
                            complete = false;
                        }
                    }
                }
                if strings_only {
                    if let Some(s) = single {
                        return V::S(s);
                    }
                }
                V::L(out, complete)
            }
            "attribute" => {
                // `Path(__file__).parent`, `HERE.parent`: a folder derived from the
                // build file's own location is the build file's folder.
                if py_text(text, n).contains("__file__") {
                    return V::S(String::new());
                }
                let Some(obj) = n.child_by_field_name("object") else {
                    return V::Unknown;
                };
                let attr = n
                    .child_by_field_name("attribute")
                    .map(|a| py_text(text, a))
                    .unwrap_or("");
                match (attr, self.eval(obj, depth + 1)) {
                    ("parent", V::S(s)) if s.is_empty() => V::S(s),
                    _ => V::Unknown,
                }
            }
            "call" => self.call(n, depth),
            "list_comprehension" | "generator_expression" | "set_comprehension" => {
                self.comprehension(n, depth)
            }
            _ => V::Unknown,
        }
    }

    /// The value of `key` in the dictionaries a call unpacks (`Extension(**opts)`).
    fn splat_value(&mut self, n: Node<'t>, key: &str) -> Option<V> {
        let args = n.child_by_field_name("arguments")?;
        let mut c = args.walk();
        let splats: Vec<&'t str> = args
            .named_children(&mut c)
            .filter(|x| x.kind() == "dictionary_splat")
            .filter_map(|x| x.named_child(0))
            .filter(|x| x.kind() == "identifier")
            .map(|x| py_text(self.text, x))
            .collect();
        let mut out = Vec::new();
        let mut complete = true;
        let mut single = None;
        let mut found = false;
        for name in splats {
            for (v, _) in self
                .dict_items
                .get(&(name, key.to_owned()))
                .cloned()
                .unwrap_or_default()
            {
                found = true;
                match self.eval(v, 0) {
                    V::S(s) => {
                        single.get_or_insert(s.clone());
                        out.push(s);
                    }
                    V::L(l, c) => {
                        out.extend(l);
                        complete &= c;
                    }
                    V::Unknown => complete = false,
                }
            }
        }
        if !found {
            return None;
        }
        if key == "name" {
            return Some(single.map_or(V::Unknown, V::S));
        }
        Some(V::L(out, complete))
    }

    fn args(&self, n: Node<'t>) -> (Vec<Node<'t>>, Vec<(&'t str, Node<'t>)>) {
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        if let Some(a) = n.child_by_field_name("arguments") {
            let mut c = a.walk();
            for x in a.named_children(&mut c) {
                if x.kind() == "keyword_argument" {
                    if let (Some(k), Some(v)) = (
                        x.child_by_field_name("name"),
                        x.child_by_field_name("value"),
                    ) {
                        kw.push((py_text(self.text, k), v));
                    }
                } else if !matches!(x.kind(), "comment" | "dictionary_splat" | "list_splat") {
                    pos.push(x);
                }
            }
        }
        (pos, kw)
    }

    fn call(&mut self, n: Node<'t>, depth: usize) -> V {
        let text = self.text;
        let Some(f) = n.child_by_field_name("function") else {
            return V::Unknown;
        };
        let fname = py_text(text, f);
        let last = fname.rsplit('.').next().unwrap_or(fname);
        let (pos, kw) = self.args(n);
        let strings = |me: &mut Self, nodes: &[Node<'t>]| -> Option<Vec<String>> {
            nodes
                .iter()
                .map(|x| match me.eval(*x, depth + 1) {
                    V::S(s) => Some(s),
                    _ => None,
                })
                .collect()
        };
        let about_file = fname.contains("__file__")
            || pos.iter().any(|p| py_text(text, *p).contains("__file__"));
        if about_file
            && matches!(
                last,
                "dirname" | "abspath" | "realpath" | "Path" | "resolve"
            )
        {
            return V::S(String::new());
        }
        match last {
            "join" if fname.contains("path") || fname == "join" || fname.ends_with("pjoin") => {
                match strings(self, &pos) {
                    Some(parts) => V::S(join_paths(&parts)),
                    None => V::Unknown,
                }
            }
            "pjoin" | "opj" => match strings(self, &pos) {
                Some(parts) => V::S(join_paths(&parts)),
                None => V::Unknown,
            },
            "glob" | "iglob" if f.kind() == "identifier" || fname.starts_with("glob") => {
                match pos.first().map(|p| self.eval(*p, depth + 1)) {
                    Some(V::S(p)) => V::L(vec![p], true),
                    _ => V::Unknown,
                }
            }
            "glob" | "rglob" if f.kind() == "attribute" => {
                let obj = f.child_by_field_name("object");
                let base = obj.map(|o| self.eval(o, depth + 1));
                let pat = pos.first().map(|p| self.eval(*p, depth + 1));
                match (base, pat) {
                    (Some(V::S(b)), Some(V::S(p))) => {
                        let p = if last == "rglob" {
                            format!("**/{p}")
                        } else {
                            p
                        };
                        V::L(vec![join_paths(&[b, p])], true)
                    }
                    _ => V::Unknown,
                }
            }
            "listdir" | "scandir" => match pos.first().map(|p| self.eval(*p, depth + 1)) {
                Some(V::S(d)) => V::L(vec![join_paths(&[d, "*".into()])], true),
                None => V::L(vec!["*".into()], true),
                _ => V::Unknown,
            },
            "Path" | "PurePath" | "PosixPath" | "str" | "fspath" | "normpath" | "abspath"
            | "realpath" | "sorted" | "list" | "tuple" | "set" | "relpath" | "as_posix"
            | "resolve" => {
                if pos.is_empty() && f.kind() == "attribute" {
                    // `p.as_posix()`, `p.resolve()`: the object itself.
                    return match f.child_by_field_name("object") {
                        Some(o) => self.eval(o, depth + 1),
                        None => V::Unknown,
                    };
                }
                if matches!(last, "Path" | "PurePath" | "PosixPath") && pos.len() > 1 {
                    return match strings(self, &pos) {
                        Some(parts) => V::S(join_paths(&parts)),
                        None => V::Unknown,
                    };
                }
                match pos.first() {
                    Some(p) => self.eval(*p, depth + 1),
                    None => V::Unknown,
                }
            }
            "dirname" => V::Unknown,
            _ => {
                let _ = kw;
                V::Unknown
            }
        }
    }

    fn comprehension(&mut self, n: Node<'t>, depth: usize) -> V {
        let Some(body) = n.child_by_field_name("body") else {
            return V::Unknown;
        };
        let mut c = n.walk();
        let fors: Vec<Node> = n
            .named_children(&mut c)
            .filter(|x| x.kind() == "for_in_clause")
            .collect();
        let [clause] = fors.as_slice() else {
            return V::Unknown;
        };
        let (Some(left), Some(right)) = (
            clause.child_by_field_name("left"),
            clause.child_by_field_name("right"),
        ) else {
            return V::Unknown;
        };
        if left.kind() != "identifier" {
            return V::Unknown;
        }
        let var = py_text(self.text, left).to_owned();
        let (items, complete) = self.eval(right, depth + 1).into_list();
        let mut out = Vec::new();
        let mut ok = complete;
        for item in items.into_iter().take(10_000) {
            self.bound.push((var.clone(), item));
            let (l, c) = self.eval(body, depth + 1).into_list();
            self.bound.pop();
            out.extend(l);
            ok &= c;
        }
        V::L(out, ok)
    }
}

/// `NAME["key"]` with a string key.
fn subscript_key<'t>(text: &'t str, n: Node<'t>) -> Option<(&'t str, String)> {
    let value = n.child_by_field_name("value")?;
    let sub = n.child_by_field_name("subscript")?;
    if value.kind() != "identifier" {
        return None;
    }
    Some((py_text(text, value), string_value(text, sub)?.to_owned()))
}

/// The extension modules `setup.py` declares.
pub fn setup_py(text: &str) -> Vec<ExtensionDecl> {
    match parse_python(text) {
        Some((tree, _)) => setup_py_tree(text, tree.root_node()),
        None => Vec::new(),
    }
}

/// [`setup_py`] on a tree already parsed (`BuildFile::parse` parses once for the
/// facts and the source lists). One walk: `Extension(...)` calls, cffi's
/// `set_source`, then `cythonize` globs, in that order.
pub fn setup_py_tree(text: &str, root: Node) -> Vec<ExtensionDecl> {
    let mut py = Py::new(text, root);
    let (mut extensions, mut cffi, mut cython) = (Vec::new(), Vec::new(), Vec::new());
    for n in super::setup_py::descendants(root) {
        if n.kind() != "call" {
            continue;
        }
        let Some(f) = n.child_by_field_name("function") else {
            continue;
        };
        let fname = py_text(text, f);
        let last = fname.rsplit('.').next().unwrap_or(fname);
        if EXTENSION_CLASSES.contains(&last) && last != "RustExtension" {
            extensions.extend(extension_call(&mut py, text, n, f));
        } else if f.kind() == "attribute" && last == "set_source" {
            cffi.extend(cffi_set_source(&mut py, n, f));
        } else if last == "cythonize" {
            cython.extend(cythonize_call(&mut py, n, f));
        }
    }
    extensions.extend(cffi);
    extensions.extend(cython);
    extensions
}

/// `Extension(name, sources, ...)` (and the other extension classes).
fn extension_call<'t>(
    py: &mut Py<'t>,
    text: &'t str,
    n: Node<'t>,
    f: Node<'t>,
) -> Option<ExtensionDecl> {
    let (pos, kw) = py.args(n);
    let kwarg = |k: &str| kw.iter().find(|(name, _)| *name == k).map(|(_, v)| *v);
    let name_node = kwarg("name").or_else(|| pos.first().copied());
    let name = match name_node.map(|x| py.eval(x, 0)) {
        Some(V::S(s)) => s,
        Some(_) => name_node
            .map(|x| py_text(text, x).to_owned())
            .unwrap_or_default(),
        None => match py.splat_value(n, "name") {
            Some(V::S(s)) => s,
            _ => String::new(),
        },
    };
    let sources_node = kwarg("sources").or_else(|| pos.get(1).copied());
    let (mut sources, mut complete) = match sources_node {
        Some(s) => py.eval(s, 0).into_list(),
        None => py
            .splat_value(n, "sources")
            .map_or((Vec::new(), false), V::into_list),
    };
    if let Some(d) = kwarg("depends") {
        let (l, _) = py.eval(d, 0).into_list();
        sources.extend(l);
    }
    let (include_dirs, _) = kwarg("include_dirs")
        .map(|d| py.eval(d, 0).into_list())
        .unwrap_or_default();
    sources.retain(|s| !s.is_empty());
    if sources.is_empty() {
        complete = false;
    }
    Some(ExtensionDecl::listed(
        name,
        f,
        sources,
        include_dirs,
        complete,
        false,
    ))
}

/// cffi: `ffi.set_source("pkg._lib", "...C...", sources=[...], include_dirs=[...])`.
fn cffi_set_source<'t>(py: &mut Py<'t>, n: Node<'t>, f: Node<'t>) -> Option<ExtensionDecl> {
    let (pos, kw) = py.args(n);
    let kwarg = |k: &str| kw.iter().find(|(name, _)| *name == k).map(|(_, v)| *v);
    let name = match pos.first().map(|x| py.eval(*x, 0)) {
        Some(V::S(s)) => s,
        _ => return None,
    };
    let (sources, complete) = kwarg("sources")
        .map(|x| py.eval(x, 0).into_list())
        .unwrap_or((Vec::new(), true));
    let (include_dirs, _) = kwarg("include_dirs")
        .map(|d| py.eval(d, 0).into_list())
        .unwrap_or_default();
    Some(ExtensionDecl::listed(
        name,
        f,
        sources,
        include_dirs,
        complete,
        true,
    ))
}

/// `cythonize("pkg/*.pyx")` without an Extension: each matching .pyx is a module.
fn cythonize_call<'t>(py: &mut Py<'t>, n: Node<'t>, f: Node<'t>) -> Option<ExtensionDecl> {
    let (pos, kw) = py.args(n);
    let arg = kw
        .iter()
        .find(|(k, _)| *k == "module_list")
        .map(|(_, v)| *v)
        .or_else(|| pos.first().copied())?;
    let (l, complete) = py.eval(arg, 0).into_list();
    let pyx: Vec<String> = l
        .into_iter()
        .filter(|s| s.ends_with(".pyx") || s.ends_with(".py"))
        .collect();
    if pyx.is_empty() {
        return None;
    }
    Some(ExtensionDecl::listed(
        pyx.join(", "),
        f,
        pyx,
        Vec::new(),
        complete,
        true,
    ))
}

// ---------------------------------------------------------------------------
// pyproject.toml

/// `[tool.setuptools] ext-modules = [{ name = ..., sources = [...] }]`.
pub fn pyproject(text: &str) -> Vec<ExtensionDecl> {
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(mods) = value
        .get("tool")
        .and_then(|t| t.get("setuptools"))
        .and_then(|t| t.get("ext-modules"))
        .and_then(|m| m.as_array())
    else {
        return Vec::new();
    };
    let strings = |v: Option<&toml::Value>| -> Vec<SourceRef> {
        v.and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str())
                    .map(SourceRef::plain)
                    .collect()
            })
            .unwrap_or_default()
    };
    let at = super::key_line(text, "ext-modules", '=', 0).unwrap_or((0, 0));
    mods.iter()
        .filter_map(|m| m.as_table())
        .map(|m| {
            let mut sources = strings(m.get("sources"));
            sources.extend(strings(m.get("depends")));
            ExtensionDecl {
                name: m
                    .get("name")
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .to_owned(),
                range: at,
                incomplete: sources.is_empty(),
                generated: false,
                sources,
                include_dirs: strings(m.get("include-dirs")),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// meson

/// A meson variable assignment: the name, the strings of its value (with the
/// tokens that name other variables), and whether it appends (`+=`).
#[derive(Debug, Clone, Default)]
pub struct MesonAssign {
    pub strings: Vec<String>,
    pub names: Vec<String>,
    /// The value calls something whose output is not a list of source files
    /// (`dependency()`, `custom_target()`...): its strings are not sources.
    pub opaque: bool,
}

/// Variable assignments of one meson file: name → values.
pub fn meson_assignments(text: &str) -> HashMap<String, Vec<MesonAssign>> {
    let mut out: HashMap<String, Vec<MesonAssign>> = HashMap::new();
    let mut off = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let start = off;
        off += line.len();
        i += 1;
        let code = strip_meson_comment(line);
        let trimmed = code.trim_start();
        let name_len = trimmed
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if name_len == 0 || trimmed.as_bytes()[0].is_ascii_digit() {
            continue;
        }
        let rest = trimmed[name_len..].trim_start();
        let value_start = if let Some(r) = rest.strip_prefix("+=") {
            r
        } else if let Some(r) = rest.strip_prefix('=').filter(|r| !r.starts_with('=')) {
            r
        } else {
            continue;
        };
        let name = &trimmed[..name_len];
        // The value runs until its brackets balance at a line end.
        let mut value = value_start.to_owned();
        let mut depth = bracket_depth(&value);
        // Depth is counted per line added (meson strings do not span lines),
        // not over the whole value again: a long value stays linear.
        while depth > 0 && i < lines.len() {
            let more = strip_meson_comment(lines[i]);
            off += lines[i].len();
            i += 1;
            depth += bracket_depth(&more);
            value.push_str(&more);
        }
        let _ = start;
        out.entry(name.to_owned())
            .or_default()
            .push(meson_value(&value));
    }
    out
}

fn strip_meson_comment(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    for c in line.chars() {
        if c == '\'' {
            in_str = !in_str;
        }
        if c == '#' && !in_str {
            break;
        }
        out.push(c);
    }
    out
}

fn bracket_depth(s: &str) -> i32 {
    let mut d = 0;
    let mut in_str = false;
    for c in s.chars() {
        match c {
            '\'' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => d += 1,
            ')' | ']' | '}' if !in_str => d -= 1,
            _ => {}
        }
    }
    d
}

/// Calls whose value is a list of files (or strings) that can be sources.
const MESON_FILE_CALLS: [&str; 4] = ["files", "join_paths", "include_directories", "fs.copyfile"];

fn meson_value(value: &str) -> MesonAssign {
    let (calls_in, _) = calls::calls(&format!("__v__({value})"), false);
    let mut a = MesonAssign::default();
    let Some(top) = calls_in.first() else {
        a.opaque = true;
        return a;
    };
    let inner: HashSet<&str> = calls_in[1..].iter().map(|c| c.name.as_str()).collect();
    if inner
        .iter()
        .any(|n| !MESON_FILE_CALLS.contains(n) && !n.is_empty())
    {
        a.opaque = true;
    }
    for arg in &top.args {
        if arg.kw.is_some() {
            continue;
        }
        if arg.quoted {
            a.strings.push(arg.text.clone());
        } else if !inner.contains(arg.text.as_str())
            && !matches!(arg.text.as_str(), "true" | "false" | "and" | "or" | "not")
        {
            a.names.push(arg.text.clone());
        }
    }
    a
}

/// Resolves a meson variable to its assignments and the folder of the file that made them.
pub type MesonLookup<'a> = dyn Fn(&str) -> Option<Vec<(MesonAssign, Option<String>)>> + 'a;

/// The extension modules one `meson.build` declares. `lookup` resolves a variable
/// to its values and the folder (relative to this file's folder) of the file that
/// assigned them.
pub fn meson(calls_in: &[calls::Call], lookup: &MesonLookup) -> Vec<ExtensionDecl> {
    let mut out = Vec::new();
    for call in calls_in.iter().filter(|c| c.name == "extension_module") {
        let nested: HashSet<&str> = calls_in
            .iter()
            .filter(|c| c.name_range.0 > call.name_range.0 && c.name_range.1 < call_end(call))
            .map(|c| c.name.as_str())
            .collect();
        let mut sources = Vec::new();
        let mut include_dirs = Vec::new();
        let mut complete = true;
        let mut name = None;
        for arg in &call.args {
            let kw = arg.kw.as_deref();
            let target = match kw {
                None | Some("sources") => &mut sources,
                Some("include_directories") => &mut include_dirs,
                _ => continue,
            };
            if kw.is_none() && name.is_none() {
                name = Some(arg.text.clone());
                continue;
            }
            if arg.quoted {
                target.push(SourceRef::plain(arg.text.clone()));
            } else if nested.contains(arg.text.as_str()) {
                if !MESON_FILE_CALLS.contains(&arg.text.as_str())
                    && kw != Some("include_directories")
                {
                    complete = false;
                }
            } else {
                let mut seen = HashSet::new();
                complete &= meson_expand(&arg.text, lookup, target, &mut seen, None, 0);
            }
        }
        out.push(ExtensionDecl {
            name: name.unwrap_or_default(),
            range: call.name_range,
            incomplete: !complete || sources.is_empty(),
            generated: false,
            sources,
            include_dirs,
        });
    }
    out
}

fn call_end(call: &Call) -> usize {
    call.args.last().map_or(call.name_range.1, |a| a.range.1)
}

fn meson_expand(
    name: &str,
    lookup: &MesonLookup,
    out: &mut Vec<SourceRef>,
    seen: &mut HashSet<String>,
    base: Option<String>,
    depth: usize,
) -> bool {
    if depth > 8 || !seen.insert(name.to_owned()) {
        return true;
    }
    let Some(values) = lookup(name) else {
        return false;
    };
    let mut complete = true;
    for (v, dir) in values {
        let dir = dir.or_else(|| base.clone());
        if v.opaque {
            // Generated or external: not a hand-written source of this project.
            continue;
        }
        for s in &v.strings {
            out.push(SourceRef {
                path: s.clone(),
                base: dir.clone(),
            });
        }
        for n in &v.names {
            complete &= meson_expand(n, lookup, out, seen, dir.clone(), depth + 1);
        }
    }
    complete
}

// ---------------------------------------------------------------------------
// CMake

/// What one CMake file says about targets and variables.
#[derive(Debug, Clone, Default)]
pub struct CMakeFacts {
    /// Module targets: name → declaration range.
    pub modules: Vec<(String, (usize, usize))>,
    /// Every target's source arguments (module or library), including `target_sources`.
    pub target_sources: HashMap<String, Vec<String>>,
    /// `target_link_libraries(target ... libs)`.
    pub links: HashMap<String, Vec<String>>,
    /// Include folders: per target, and for the folder (`include_directories`).
    pub target_includes: HashMap<String, Vec<String>>,
    pub dir_includes: Vec<String>,
    /// `set(VAR ...)`, `list(APPEND VAR ...)`, `file(GLOB VAR ...)`.
    pub vars: HashMap<String, Vec<String>>,
}

const CMAKE_KEYWORDS: [&str; 24] = [
    "MODULE",
    "SHARED",
    "STATIC",
    "OBJECT",
    "INTERFACE",
    "WITH_SOABI",
    "USE_SABI",
    "EXCLUDE_FROM_ALL",
    "NO_EXTRAS",
    "THIN_LTO",
    "OPT_SIZE",
    "STABLE_ABI",
    "FREE_THREADED",
    "NB_STATIC",
    "NB_SHARED",
    "LTO",
    "NOMINSIZE",
    "NOSTRIP",
    "PROTECT_STACK",
    "NB_DOMAIN",
    "PRIVATE",
    "PUBLIC",
    "SYSTEM",
    "BEFORE",
];

/// Reads the CMake calls that matter for sources.
pub fn cmake(text: &str, calls_in: &[calls::Call]) -> CMakeFacts {
    let mut f = CMakeFacts::default();
    let mentions_python = text.contains("Python") || text.contains("PYTHON");
    for call in calls_in {
        let lname = call.name.to_ascii_lowercase();
        let args: Vec<&str> = call.args.iter().map(|a| a.text.as_str()).collect();
        let Some(first) = args.first().map(|s| s.to_string()) else {
            continue;
        };
        let rest = || -> Vec<String> {
            args[1..]
                .iter()
                .filter(|a| {
                    !CMAKE_KEYWORDS.contains(a) && !a.starts_with("3.") && **a != "INTERFACE"
                })
                .map(|s| s.to_string())
                .collect()
        };
        match lname.as_str() {
            "python_add_library"
            | "python3_add_library"
            | "pybind11_add_module"
            | "nanobind_add_module" => {
                f.modules.push((first.clone(), call.name_range));
                f.target_sources.entry(first).or_default().extend(rest());
            }
            "add_library" => {
                if args.contains(&"MODULE") && mentions_python {
                    f.modules.push((first.clone(), call.name_range));
                }
                if args.contains(&"ALIAS") || args.contains(&"IMPORTED") {
                    continue;
                }
                f.target_sources.entry(first).or_default().extend(rest());
            }
            "target_sources" => {
                f.target_sources.entry(first).or_default().extend(rest());
            }
            "target_link_libraries" => {
                f.links.entry(first).or_default().extend(rest());
            }
            "target_include_directories" => {
                f.target_includes.entry(first).or_default().extend(rest());
            }
            "include_directories" => f.dir_includes.extend(args.iter().map(|s| s.to_string())),
            "set" => {
                let vals: Vec<String> = args[1..]
                    .iter()
                    .take_while(|a| !matches!(**a, "CACHE" | "PARENT_SCOPE"))
                    .map(|s| s.to_string())
                    .collect();
                f.vars.entry(first).or_default().extend(vals);
            }
            "list" if matches!(first.as_str(), "APPEND" | "PREPEND" | "INSERT") => {
                if let Some(var) = args.get(1) {
                    let skip = if first == "INSERT" { 3 } else { 2 };
                    let vals = args.iter().skip(skip).map(|s| s.to_string());
                    f.vars.entry(var.to_string()).or_default().extend(vals);
                }
            }
            "file" if matches!(first.as_str(), "GLOB" | "GLOB_RECURSE") => {
                if let Some(var) = args.get(1) {
                    let recurse = first == "GLOB_RECURSE";
                    let mut k = 2;
                    let mut pats = Vec::new();
                    while k < args.len() {
                        match args[k] {
                            "CONFIGURE_DEPENDS" | "FOLLOW_SYMLINKS" | "LIST_DIRECTORIES" => {}
                            "RELATIVE" => k += 1,
                            "true" | "false" | "TRUE" | "FALSE" | "ON" | "OFF" => {}
                            p => {
                                let p = if recurse {
                                    match p.rsplit_once('/') {
                                        Some((d, f)) => format!("{d}/**/{f}"),
                                        None => format!("**/{p}"),
                                    }
                                } else {
                                    p.to_owned()
                                };
                                pats.push(p)
                            }
                        }
                        k += 1;
                    }
                    f.vars.entry(var.to_string()).or_default().extend(pats);
                }
            }
            _ => {}
        }
    }
    f
}

/// Expands `${VAR}` references in a CMake argument against `vars`. Folder variables
/// of the current source tree expand to the empty prefix. `None` when an unknown
/// variable is left.
pub fn cmake_expand(
    arg: &str,
    vars: &HashMap<String, Vec<String>>,
    depth: usize,
) -> Option<Vec<String>> {
    if depth > 8 {
        return None;
    }
    let Some(start) = arg.find("${") else {
        if arg.starts_with("$<") {
            return Some(Vec::new());
        }
        return Some(
            arg.split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        );
    };
    let end = start + arg[start..].find('}')?;
    let var = &arg[start + 2..end];
    let before = &arg[..start];
    let after = &arg[end + 1..];
    let values: Vec<String> = match var {
        "CMAKE_CURRENT_SOURCE_DIR"
        | "CMAKE_CURRENT_LIST_DIR"
        | "PROJECT_SOURCE_DIR"
        | "CMAKE_SOURCE_DIR"
        | "SKBUILD_SOURCE_DIR" => vec!["".into()],
        v if v.ends_with("_SOURCE_DIR") => vec!["".into()],
        _ => {
            let mut out = Vec::new();
            for raw in vars.get(var)? {
                out.extend(cmake_expand(raw, vars, depth + 1)?);
            }
            out
        }
    };
    let mut result = Vec::new();
    for v in values {
        let joined = format!("{before}{v}{after}");
        let joined = joined.trim_start_matches('/').to_owned();
        let joined = if before.is_empty() && v.is_empty() {
            after.trim_start_matches('/').to_owned()
        } else {
            joined
        };
        result.extend(cmake_expand(&joined, vars, depth + 1)?);
    }
    Some(result)
}

/// Local Python files a `setup.py` hands part of its build to: modules it imports
/// from its own folder (`from _setuplibev import ...`) and cffi build scripts
/// (`cffi_modules=["src/_build.py:ffi"]`), as paths relative to its folder.
pub fn setup_helpers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        let module = l
            .strip_prefix("from ")
            .and_then(|r| r.split_whitespace().next())
            .filter(|_| l.contains(" import "))
            .or_else(|| {
                l.strip_prefix("import ")
                    .and_then(|r| r.split([' ', ',']).next())
            });
        if let Some(m) = module {
            if !m.is_empty()
                && !m.starts_with('.')
                && m.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            {
                out.push(format!("{}.py", m.replace('.', "/")));
            }
        }
    }
    let mut rest = text;
    while let Some(i) = rest.find(".py:") {
        let before = &rest[..i];
        let start = before
            .rfind(|c: char| c == '"' || c == '\'' || c.is_whitespace() || c == '[' || c == ',')
            .map_or(0, |s| s + 1);
        let path = &before[start..];
        if !path.is_empty() {
            out.push(format!("{path}.py"));
        }
        rest = &rest[i + 4..];
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meson_text(text: &str, lookup: &MesonLookup) -> Vec<ExtensionDecl> {
        meson(&calls::calls(text, false).0, lookup)
    }

    fn cmake_text(text: &str) -> CMakeFacts {
        cmake(text, &calls::calls(text, true).0)
    }

    fn srcs(e: &ExtensionDecl) -> Vec<&str> {
        e.sources.iter().map(|s| s.path.as_str()).collect()
    }

    #[test]
    fn setup_py_lists_variables_globs_and_joins() {
        let src = r#"
import glob, os
from setuptools import setup, Extension
HERE = os.path.dirname(os.path.abspath(__file__))
common = ["src/common.c"]
common += glob.glob("src/codecs/*.c")
extra = [os.path.join("src", n + ".c") for n in ["a", "b"]]
if WIN:
    extra.append("src/win.c")
setup(ext_modules=[
    Extension("pkg._core", sources=common + extra + [os.path.join(HERE, "src", "core.c")],
              include_dirs=["include"]),
    Extension("pkg._other", ["other.c"] + sorted(glob.glob("x/*.c"))),
    Extension("pkg._computed", sources=get_sources()),
])
"#;
        let e = setup_py(src);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, "pkg._core");
        assert_eq!(
            srcs(&e[0]),
            [
                "src/common.c",
                "src/codecs/*.c",
                "src/a.c",
                "src/b.c",
                "src/win.c",
                "src/core.c"
            ]
        );
        assert!(!e[0].incomplete);
        assert_eq!(e[0].include_dirs[0].path, "include");
        assert_eq!(srcs(&e[1]), ["other.c", "x/*.c"]);
        assert!(e[2].incomplete);
    }

    #[test]
    fn setup_py_unpacked_options() {
        let src = "opts = {'sources': ['a.c'], 'include_dirs': ['inc']}\nopts['sources'].append('b.c')\nopts['name'] = 'pkg._x'\nsetup(ext_modules=[Extension(**opts), Extension('y', **dict(sources=['y.c']))])\n";
        let e = setup_py(src);
        assert_eq!(e[0].name, "pkg._x");
        assert_eq!(srcs(&e[0]), ["a.c", "b.c"]);
        assert!(!e[0].incomplete);
        assert_eq!(e[1].name, "y");
    }

    #[test]
    fn setup_py_pathlib_and_cythonize() {
        let src = "from pathlib import Path\nROOT = Path(__file__).parent\nsetup(ext_modules=[Extension('m', [str(p) for p in (ROOT / 'src').glob('*.c')])])\ncythonize('pkg/*.pyx')\n";
        let e = setup_py(src);
        assert_eq!(srcs(&e[0]), ["src/*.c"]);
        assert_eq!(srcs(&e[1]), ["pkg/*.pyx"]);
    }

    #[test]
    fn meson_variables() {
        let vars = meson_assignments(
            "srcs = files('a.c',\n  'b.c')\nsrcs += ['c.c']\ndep = dependency('zlib')\n",
        );
        let lookup = |n: &str| {
            vars.get(n)
                .map(|v| v.iter().map(|a| (a.clone(), None)).collect())
        };
        let e = meson_text(
            "py.extension_module('_m', srcs, 'd.c', dependencies: dep, include_directories: include_directories('inc'), install: true)\n",
            &lookup,
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name, "_m");
        assert_eq!(srcs(&e[0]), ["a.c", "b.c", "c.c", "d.c"]);
        assert_eq!(e[0].include_dirs[0].path, "inc");
        assert!(!e[0].incomplete);
    }

    #[test]
    fn cmake_targets_and_variables() {
        let f = cmake_text("set(SRC src/a.cpp)\nlist(APPEND SRC ${CMAKE_CURRENT_SOURCE_DIR}/src/b.cpp)\nfile(GLOB_RECURSE CORE CONFIGURE_DEPENDS core/*.cpp)\nadd_library(core STATIC ${CORE})\npybind11_add_module(_ext MODULE ${SRC})\ntarget_link_libraries(_ext PRIVATE core)\n");
        assert_eq!(f.modules.len(), 1);
        let s: Vec<String> = f.target_sources["_ext"]
            .iter()
            .flat_map(|a| cmake_expand(a, &f.vars, 0).unwrap())
            .collect();
        assert_eq!(s, ["src/a.cpp", "src/b.cpp"]);
        let c: Vec<String> = f.target_sources["core"]
            .iter()
            .flat_map(|a| cmake_expand(a, &f.vars, 0).unwrap())
            .collect();
        assert_eq!(c, ["core/**/*.cpp"]);
        assert_eq!(f.links["_ext"], ["core"]);
    }
}
