//! The index's walk of a large file in parallel parts: a project that is one big
//! file uses the cores too.
//!
//! The walk's order is kept: the file's top-level nodes are cut into runs of
//! roughly equal size, each run is walked on its own (its own index and visitor)
//! and the results are appended in order, function indices offset by the
//! functions of the runs before. Nothing the walk or a visitor carries from one
//! top-level node to the next matters: functions, calls and the facts' open
//! branches end with their top-level node, and what a visitor asks of the index
//! so far (the function around a node) is in the node's own run.
//!
//! A C++ file wrapped in a namespace or `extern "C"` has one top-level node: the
//! walk goes into a wrapper that holds most of the file (showing the wrapper
//! itself, without its children, in its place) and cuts its children instead.

use rayon::prelude::*;
use tree_sitter::Node;

use super::grammar::{Grammar, Kind};
use super::walk::{Ancestors, PartVisitor, Walker};
use super::FileIndex;
use crate::source::SourceFile;

/// Files shorter than this are walked in one part: a part's fixed costs (a
/// cursor, a visitor, the merge) are worth it only for files that take long.
pub(super) const PARALLEL_BYTES: usize = 256 * 1024;

/// One piece of the walk, in walk order: a node with its ancestors (the root
/// first, with their kinds), walked whole or shown alone (a wrapper whose
/// children are pieces of their own).
struct Piece<'t> {
    node: Node<'t>,
    ancestors: Vec<(Node<'t>, Kind)>,
    whole: bool,
}

/// Wrappers the walk goes into, at most (generated code can nest namespaces
/// thousands deep; the walk of one whole is as right, only less cut).
const MAX_WRAPPERS: usize = 8;

/// The walk's pieces: the root alone, then its children whole, but for a
/// wrapper among them, whose pieces (itself alone, then its children) take its
/// place.
fn pieces<'t>(g: &Grammar, root: Node<'t>, len: usize) -> Vec<Piece<'t>> {
    let mut out = Vec::new();
    // The pieces after each wrapper gone into, outermost first.
    let mut after: Vec<Vec<Piece<'t>>> = Vec::new();
    let mut ancestors = Vec::new();
    let mut node = root;
    loop {
        out.push(Piece {
            node,
            ancestors: ancestors.clone(),
            whole: false,
        });
        ancestors.push((node, g.kind(node)));
        let mut cursor = node.walk();
        let mut wrapper = None;
        let mut rest = Vec::new();
        for child in node.children(&mut cursor) {
            let piece = Piece {
                node: child,
                ancestors: ancestors.clone(),
                whole: true,
            };
            if wrapper.is_some() {
                rest.push(piece);
            } else if after.len() < MAX_WRAPPERS && is_wrapper(g, child, len) {
                wrapper = Some(child);
            } else {
                out.push(piece);
            }
        }
        after.push(rest);
        match wrapper {
            Some(w) => node = w,
            None => break,
        }
    }
    out.extend(after.into_iter().rev().flatten());
    out
}

/// A namespace, `extern "C"` or declaration list that holds most of the file.
fn is_wrapper(g: &Grammar, node: Node, len: usize) -> bool {
    matches!(
        g.kind(node),
        Kind::LinkageSpecification | Kind::NamespaceDefinition | Kind::DeclarationList
    ) && node.end_byte() - node.start_byte() > len / 2
}

/// The pieces cut into at most `parts` runs of whole pieces of roughly equal
/// size (a piece shown alone goes with the run that follows it).
fn runs<'p, 't>(pieces: &'p [Piece<'t>], parts: usize) -> Vec<&'p [Piece<'t>]> {
    let size = |p: &Piece| {
        if p.whole {
            p.node.end_byte() - p.node.start_byte()
        } else {
            0
        }
    };
    let total: usize = pieces.iter().map(size).sum();
    let target = total.div_ceil(parts.max(1)).max(1);
    let mut runs = Vec::new();
    let (mut start, mut filled) = (0, 0);
    for (i, p) in pieces.iter().enumerate() {
        filled += size(p);
        if filled >= target && p.whole {
            runs.push(&pieces[start..=i]);
            (start, filled) = (i + 1, 0);
        }
    }
    if start < pieces.len() {
        runs.push(&pieces[start..]);
    }
    runs
}

/// [`FileIndex::build_visiting`] in at most `parts` parts walked in parallel;
/// `visit` gets what each part's visitor saw, in order.
pub(super) fn build<'t, V: PartVisitor<'t>>(
    file: &'t SourceFile,
    visit: &mut V,
    parts: usize,
) -> FileIndex {
    let g = Grammar::of(file.language);
    let root = file.tree.root_node();
    let pieces = pieces(g, root, file.parse_text.len());
    let runs = runs(&pieces, parts);
    let visitors: Vec<V> = runs.iter().map(|_| visit.part()).collect();
    let done: Vec<(FileIndex, V)> = runs
        .into_par_iter()
        .zip(visitors)
        .map(|(run, mut part)| {
            let mut idx = FileIndex::default();
            let mut walker = Walker::new(file, &mut idx);
            for p in run {
                let mut ancestors = Ancestors::default();
                for &(n, k) in &p.ancestors {
                    ancestors.push(n, k);
                }
                if p.whole {
                    walker.walk(p.node, &mut ancestors, &mut part);
                } else {
                    // A wrapper: no function around it, none inside it.
                    let depth = p.ancestors.len();
                    walker.step(p.node, depth, &mut Vec::new(), &ancestors, &mut part);
                }
            }
            walker.finish();
            (idx, part)
        })
        .collect();
    let mut idx = FileIndex::default();
    for (part_idx, part) in done {
        let functions = idx.functions.len();
        visit.append(part, functions);
        idx.append(part_idx);
    }
    idx.complete(file);
    idx
}

impl FileIndex {
    /// Appends the walk's results of the part that follows (before
    /// [`FileIndex::complete`]): its function indices are offset by the
    /// functions before it.
    fn append(&mut self, next: FileIndex) {
        let offset = self.functions.len();
        let shift = |f: Option<usize>| f.map(|f| f + offset);
        self.functions.extend(next.functions);
        self.calls.extend(next.calls.into_iter().map(|mut c| {
            c.function = shift(c.function);
            c
        }));
        self.assignments
            .extend(next.assignments.into_iter().map(|mut a| {
                a.function = shift(a.function);
                a
            }));
        self.decls.extend(next.decls.into_iter().map(|mut d| {
            d.function = shift(d.function);
            d
        }));
        self.structs.extend(next.structs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::entry::LocalFactsBuilder;
    use crate::source::Language;
    use std::fmt::Write as _;
    use std::path::PathBuf;

    /// C with what the index and the entry facts collect: functions (one in a
    /// macro-headed definition), calls with arguments, assignments, locals,
    /// statics with tables, structs, branches, locks and detached regions.
    fn c_text(functions: usize) -> String {
        let mut t = String::from("#include <Python.h>\ntypedef struct { PyObject_HEAD int n; PyMutex m; } Obj;\nstatic PyObject *cache;\n");
        for i in 0..functions {
            let _ = write!(
                t,
                "\nstatic PyObject *\nf{i}(Obj *self, PyObject *const *args, Py_ssize_t n)\n{{\n    int k = {i}, *p = &k;\n    if (self->n > k && args[0] != NULL) {{ self->n += 1; cache = args[0]; }}\n    while (n-- > 0) {{ p[0]++; }}\n    PyMutex_Lock(&self->m);\n    memcpy(p, &k, sizeof(k));\n    PyMutex_Unlock(&self->m);\n    Py_BEGIN_ALLOW_THREADS\n    k = n ? f{j}(self, args, n - 1) != NULL : 0;\n    Py_END_ALLOW_THREADS\n    return PyLong_FromLong(k);\n}}\n\nstatic PyMethodDef m{i}[] = {{\n    {{\"f{i}\", (PyCFunction)f{i}, METH_FASTCALL, NULL}},\n    {{NULL, NULL, 0, NULL}}\n}};\nstatic PyType_Slot s{i}[] = {{{{Py_tp_methods, m{i}}}, {{Py_tp_new, f{i}}}, {{0, 0}}}};\n",
                j = i.saturating_sub(1)
            );
        }
        t.push_str("\nstatic PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};\nstatic struct PyModuleDef def = {PyModuleDef_HEAD_INIT, .m_name = \"m\", .m_slots = slots};\nPyMODINIT_FUNC PyInit_m(void) { return PyModuleDef_Init(&def); }\n");
        t
    }

    /// C++ wrapped in `extern "C"` inside a namespace: the parts are the
    /// namespace's declarations.
    fn cpp_text(functions: usize) -> String {
        let mut t = String::from("#include <mutex>\nstatic int before = 1;\nnamespace outer {\nstd::mutex mu;\nextern \"C\" {\n");
        for i in 0..functions {
            let _ = write!(
                t,
                "struct S{i} {{ int v; void set(int x) {{ std::lock_guard<std::mutex> g(mu); v = x; }} }};\nstatic int g{i}(S{i} *s, int x) {{\n    if (x) {{ s->set(x); }} else {{ s->v += 2; }}\n    return s->v ? g{j}(nullptr, 0) : 0;\n}}\n",
                j = i.saturating_sub(1)
            );
        }
        t.push_str("}\n}\nint after(int y) { return y + before; }\n");
        t
    }

    /// The index and facts of `file` as a walk in `parts` parts finds them.
    fn walked(file: &SourceFile, parts: usize) -> String {
        let mut facts = LocalFactsBuilder::new(file);
        let index = if parts == 1 {
            FileIndex::build_visiting(file, &mut facts)
        } else {
            build(file, &mut facts, parts)
        };
        let facts = facts.finish(&index);
        format!("{index:#?}\n{facts:#?}")
    }

    /// Namespaces nested deeper than the walk goes into: the innermost are
    /// walked whole.
    #[test]
    fn deep_wrappers() {
        let text = format!(
            "{}{}{}",
            "namespace a {\n".repeat(50),
            cpp_text(20),
            "}\n".repeat(50)
        );
        let file = SourceFile::from_text(PathBuf::from("t"), Language::Cpp, text, false);
        let g = Grammar::of(Language::Cpp);
        let pieces = pieces(g, file.tree.root_node(), file.parse_text.len());
        // The root, then as many wrappers (a namespace, its list, ...).
        assert_eq!(
            pieces.iter().map(|p| p.ancestors.len()).max(),
            Some(1 + MAX_WRAPPERS)
        );
        assert_eq!(walked(&file, 3), walked(&file, 1));
    }

    #[test]
    fn parts_find_what_one_walk_finds() {
        for (lang, text) in [(Language::C, c_text(60)), (Language::Cpp, cpp_text(60))] {
            let file = SourceFile::from_text(PathBuf::from("t"), lang, text, false);
            let g = Grammar::of(lang);
            let pieces = pieces(g, file.tree.root_node(), file.parse_text.len());
            assert!(pieces.len() > 60, "{}", pieces.len());
            if lang == Language::Cpp {
                // The walk went into the namespace and the `extern "C"` block.
                let deepest = pieces.iter().map(|p| p.ancestors.len()).max();
                assert_eq!(
                    deepest,
                    Some(5),
                    "translation unit, namespace, its list, extern, its list"
                );
            }
            let one = walked(&file, 1);
            let expected: &[&str] = match lang {
                Language::C => &["\"f59\"", "\"Py_tp_new\"", "Detached", "Mutex"],
                Language::Cpp => &["\"g59\"", "\"S59\"", "lock_guard", "\"after\""],
            };
            for e in expected {
                assert!(one.contains(e), "{lang:?}: {e}");
            }
            for parts in [2, 3, 8, 1000] {
                assert!(runs(&pieces, parts).len() > 1);
                assert_eq!(walked(&file, parts), one, "{lang:?} in {parts} parts");
            }
        }
    }
}
