//! Parsing again only the parts of a file that a late reader needs.
//!
//! Trees are released after each file's own phase; a fix built after the project
//! phase (a deferred fix) needs the tree back. Most of those fixes read one
//! function, and parsing a whole 500 KB file again to rewrite one function cost a
//! fifth of a JSON run. So the release keeps the file's top-level items (their
//! ranges, kinds and whether they parsed cleanly), and a re-parse can be limited
//! to the items that hold given offsets: tree-sitter's included ranges keep the
//! file's offsets, so nodes and edits are where a full parse would put them.
//!
//! A top-level item of C does not depend on the items around it for its shape,
//! but the parser's error recovery can, so the partial tree is checked: every
//! item asked for must come back as one root child with the same range, kind and
//! error state as in the full parse. When one does not, the caller parses the
//! whole file instead; a partial tree is never used on trust.

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Point, Range, Tree};

/// A top-level node of a file's full parse (kept in the file's cache entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopItem {
    start: usize,
    end: usize,
    /// (row, column) of its start and end, as tree-sitter counts them.
    start_point: (usize, usize),
    end_point: (usize, usize),
    kind: u16,
    named: bool,
    error: bool,
}

impl TopItem {
    /// Its byte range in the file.
    pub fn range(&self) -> (usize, usize) {
        (self.start, self.end)
    }

    fn of(node: Node) -> TopItem {
        let (s, e) = (node.start_position(), node.end_position());
        TopItem {
            start: node.start_byte(),
            end: node.end_byte(),
            start_point: (s.row, s.column),
            end_point: (e.row, e.column),
            kind: node.kind_id(),
            named: node.is_named(),
            error: node.has_error(),
        }
    }

    fn included(&self) -> Range {
        let point = |(row, column)| Point { row, column };
        Range {
            start_byte: self.start,
            end_byte: self.end,
            start_point: point(self.start_point),
            end_point: point(self.end_point),
        }
    }
}

/// The top-level items of a full parse, in file order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TopItems(Vec<TopItem>);

impl TopItems {
    /// The root's children of `tree`, a full parse.
    pub fn of(tree: &Tree) -> TopItems {
        let root = tree.root_node();
        let mut cursor = root.walk();
        TopItems(root.children(&mut cursor).map(TopItem::of).collect())
    }

    /// The items, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &TopItem> {
        self.0.iter()
    }

    /// The items holding any of `offsets` (an item holds its start and its end),
    /// in file order, each once; `None` when an offset is outside every item (a
    /// reader of the space between items would see nothing parsed there).
    pub fn holding(&self, offsets: &[usize]) -> Option<Vec<&TopItem>> {
        let mut picked: Vec<usize> = Vec::with_capacity(offsets.len());
        for &o in offsets {
            // The last item starting at or before `o`.
            let i = self.0.partition_point(|t| t.start <= o);
            let i = i.checked_sub(1)?;
            if o > self.0[i].end {
                return None;
            }
            picked.push(i);
            // The tokens that close it (C++'s `struct S { ... }` then `;` are two
            // items): parsed without them, the item would miss one.
            let mut j = i + 1;
            while self.0.get(j).is_some_and(|t| !t.named) {
                picked.push(j);
                j += 1;
            }
        }
        picked.sort_unstable();
        picked.dedup();
        Some(picked.into_iter().map(|i| &self.0[i]).collect())
    }

    /// Whether all of the file's items are among `items` (a partial parse would
    /// be the whole parse).
    pub fn all(&self, items: &[&TopItem]) -> bool {
        items.len() == self.0.len()
    }
}

/// The included ranges of a parse of `items` only.
pub fn ranges(items: &[&TopItem]) -> Vec<Range> {
    items.iter().map(|t| t.included()).collect()
}

/// Whether `tree`, parsed from `items`' ranges only, has exactly those items as
/// its root's children, each with the range, kind and error state the full
/// parse gave it (a parse that added a child, such as a missing `;`, differs).
pub fn matches(tree: &Tree, items: &[&TopItem]) -> bool {
    let root = tree.root_node();
    let mut cursor = root.walk();
    let mut children = root.children(&mut cursor).map(TopItem::of);
    items
        .iter()
        .all(|want| children.next().as_ref() == Some(*want))
        && children.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Language, SourceFile};
    use std::path::PathBuf;

    const TEXT: &str = "#include <Python.h>\n\nstatic int counter;\n\nstatic PyObject *\nget(PyObject *self, PyObject *args)\n{\n    counter++;\n    if (args == NULL) {\n        return NULL;\n    }\n    return PyLong_FromLong(counter);\n}\n\n/* a comment */\nstruct S { int a; };\n\nstatic int\nset(int v)\n{\n    counter = v;\n    return 0;\n}\n";

    fn file(text: &str) -> SourceFile {
        SourceFile::from_text(PathBuf::from("t.c"), Language::C, text.to_owned(), false)
    }

    /// The S-expressions of the root children of `tree` within `items`.
    fn shapes(tree_root: Node, items: &[&TopItem]) -> Vec<String> {
        let mut cursor = tree_root.walk();
        tree_root
            .children(&mut cursor)
            .filter(|c| {
                items
                    .iter()
                    .any(|t| t.range() == (c.start_byte(), c.end_byte()))
            })
            .map(|c| c.to_sexp())
            .collect()
    }

    #[test]
    fn holding_picks_the_items_around_offsets() {
        let f = file(TEXT);
        let items = TopItems::of(f.tree.tree().unwrap());
        let at = TEXT.find("counter++").unwrap();
        let set = TEXT.find("counter = v").unwrap();
        let picked = items.holding(&[at, set, at + 1]).unwrap();
        assert_eq!(picked.len(), 2);
        assert!(TEXT[picked[0].start..picked[0].end].starts_with("static PyObject *\nget"));
        assert!(TEXT[picked[1].start..].starts_with("static int\nset"));
        // Between items: nothing holds it.
        assert!(items
            .holding(&[TEXT.find("\n\nstatic PyObject").unwrap() + 1])
            .is_none());
        assert!(!items.all(&picked));
    }

    /// A parse of some items gives each the subtree the full parse gave it.
    #[test]
    fn partial_parse_matches_the_full_parse() {
        let mut f = file(TEXT);
        let items = TopItems::of(f.tree.tree().unwrap());
        let full_root = f.tree.root_node();
        let at = TEXT.find("counter = v").unwrap();
        let picked = items.holding(&[at]).unwrap();
        let full = shapes(full_root, &picked);
        f.release_tree(&[], &[]);
        assert!(f.reparse_items(&[at]));
        let partial = f.tree.tree().unwrap();
        assert!(matches(partial, &picked));
        assert_eq!(shapes(partial.root_node(), &picked), full);
        // The rest of the file was not parsed.
        assert_eq!(partial.root_node().named_child_count(), 1);
    }

    /// An item whose partial parse differs is refused, and the file is parsed
    /// whole instead.
    #[test]
    fn a_differing_item_is_refused() {
        let mut f = file(TEXT);
        let items = TopItems::of(f.tree.tree().unwrap());
        let at = TEXT.find("counter = v").unwrap();
        let picked = items.holding(&[at]).unwrap();
        // The full tree has more than the items asked for.
        assert!(!matches(f.tree.tree().unwrap(), &picked));
        f.release_tree(&[], &[]);
        assert!(f.reparse_items(&[at]));
        let tree = f.tree.tree().unwrap();
        assert!(matches(tree, &picked));
        let mut wrong = picked[0].clone();
        wrong.error = true;
        assert!(!matches(tree, &[&wrong]));
        let mut wrong = picked[0].clone();
        wrong.end -= 1;
        assert!(!matches(tree, &[&wrong]));
        let mut wrong = picked[0].clone();
        wrong.kind += 1;
        assert!(!matches(tree, &[&wrong]));
    }
}
