//! The region model: critical sections and detached-thread-state regions, paired
//! BEGIN/END markers and the mismatches found on the way.

use tree_sitter::Node;

use super::text::{is_identifier, matching_paren, normalize, split_args};
use super::Analysis;
use crate::capi::{self, CsRole, CsTarget, TsForm};
use crate::source::index::Range;

/// A critical section or a detached-thread-state region: the statements between a
/// BEGIN macro and its END in the same statement list.
#[derive(Debug, Clone)]
pub struct Region {
    pub kind: RegionKind,
    /// The BEGIN statement.
    pub begin: Range,
    /// The matching END statement, when there is one in the same list.
    pub end: Option<Range>,
    /// The normalised objects a critical section locks (one or two).
    pub objects: Vec<String>,
    /// The raw argument texts.
    pub object_texts: Vec<String>,
    /// The function it is in.
    pub function: usize,
}

impl Region {
    /// Bytes from the end of BEGIN to the start of END (or the end of its block).
    pub fn body(&self) -> Range {
        (self.begin.1, self.end.map(|e| e.0).unwrap_or(self.begin.1))
    }

    pub fn contains(&self, offset: usize) -> bool {
        let (s, e) = self.body();
        s <= offset && offset < e
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// `Py_BEGIN_CRITICAL_SECTION(x)` ... `Py_END_CRITICAL_SECTION()`.
    CriticalSection,
    /// `Py_BEGIN_CRITICAL_SECTION2(a, b)` ... `Py_END_CRITICAL_SECTION2()`.
    CriticalSection2,
    /// `Py_BEGIN_CRITICAL_SECTION_SEQUENCE_FAST(seq)` (CPython-internal, copied by
    /// NumPy): locks `seq` when it is a list.
    SequenceFast,
    /// `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`.
    AllowThreads,
}

/// A region marker statement.
#[derive(Debug, Clone)]
pub struct Marker {
    pub macro_name: &'static str,
    pub range: Range,
    pub args: Vec<String>,
}

/// A pairing problem found while building regions.
#[derive(Debug, Clone)]
pub enum Mismatch {
    /// A BEGIN with no END in the same block.
    Unclosed(Marker),
    /// An END with no BEGIN in the same block.
    Unopened(Marker),
    /// BEGIN and END of different kinds (`..SECTION` closed by `..SECTION2`).
    WrongEnd { begin: Marker, end: Marker },
    /// BEGIN and END compiled under different `#if` conditions.
    DifferentConditions { begin: Marker, end: Marker },
    /// `Py_END_CRITICAL_SECTION(x)`: the END macros take no argument.
    EndWithArgument(Marker),
}

/// The region markers: every critical-section BEGIN/END macro, and
/// `Py_BEGIN_ALLOW_THREADS`/`Py_END_ALLOW_THREADS`.
fn markers() -> impl Iterator<Item = &'static str> {
    capi::critical_section_markers().map(|(n, _)| n).chain(
        capi::thread_state_calls()
            .filter(|(_, t)| t.form == TsForm::RegionMacro)
            .map(|(n, _)| n),
    )
}

impl Analysis<'_> {
    /// The innermost critical section whose body contains `offset`.
    pub fn critical_sections_at(&self, offset: usize) -> impl Iterator<Item = &Region> {
        self.regions
            .iter()
            .filter(move |r| r.kind != RegionKind::AllowThreads && r.contains(offset))
    }

    /// Is `expr` (normalised) locked by an enclosing critical section at `offset`?
    pub fn locked_at(&self, expr: &str, offset: usize) -> bool {
        // A locked object's own fields (`self->items` under a section on `self`) are
        // taken to be guarded by the same lock, as CPython's own code does.
        let root = expr.split("->").next().unwrap_or(expr);
        if self
            .critical_sections_at(offset)
            .any(|r| r.objects.iter().any(|o| o == expr || o == root))
        {
            return true;
        }
        let Some(fi) = self.index.function_at(offset) else {
            return false;
        };
        if self
            .caller_locked
            .get(&fi)
            .is_some_and(|params| params.iter().any(|p| p == expr || p == root))
        {
            return true;
        }
        // `textio *self = (textio *)op;` with `op` locked: follow one local alias.
        if !is_identifier(root) {
            return false;
        }
        let alias = self
            .index
            .decls_in(fi)
            .find(|d| d.name == root && !d.storage.is_static && d.name_range.0 < offset);
        let Some(init) = alias.and_then(|d| d.init.as_ref()) else {
            return false;
        };
        let target = normalize(self.text(init.range()));
        if !is_identifier(&target) || target == root {
            return false;
        }
        let rebound = self
            .index
            .assignments_in(fi)
            .any(|a| a.range.1 <= offset && normalize(&a.lhs_text) == root);
        !rebound && self.locked_at(&format!("{target}{}", &expr[root.len()..]), offset)
    }

    /// Pairs the markers of every statement list that holds one. Only the lists
    /// on the way from a function's body down to a marker's occurrence can hold
    /// it, so those are found by descending from the body to each occurrence (a
    /// walk of every node of every function with a marker cost about as much as
    /// the index's walk of the whole file). They are paired in the order a
    /// depth-first walk from the body, last child first, meets them: enclosing
    /// lists first, then later ones before earlier ones.
    pub(super) fn build_regions(&mut self) {
        let file = self.file;
        let mut occurrences: Vec<(usize, usize)> = Vec::new();
        for m in markers() {
            for off in file.code_occurrences(m) {
                if let Some(fi) = self.index.function_at(off) {
                    occurrences.push((fi, off));
                }
            }
        }
        occurrences.sort_unstable();
        let root = file.tree.root_node();
        let mut blocks: Vec<(std::cmp::Reverse<usize>, usize, usize, Node)> = Vec::new();
        for per_fn in occurrences.chunk_by(|a, b| a.0 == b.0) {
            let fi = per_fn[0].0;
            let body = self.index.functions[fi].body;
            let Some(node) = root.descendant_for_byte_range(body.0, body.1) else {
                continue;
            };
            blocks.clear();
            for &(_, off) in per_fn {
                let mut cursor = node.walk();
                for depth in 0.. {
                    let n = cursor.node();
                    if !(n.start_byte() <= off && off < n.end_byte()) {
                        break;
                    }
                    if is_block(n) {
                        blocks.push((std::cmp::Reverse(n.end_byte()), n.start_byte(), depth, n));
                    }
                    if cursor.goto_first_child_for_byte(off).is_none() {
                        break;
                    }
                }
            }
            blocks.sort_unstable_by_key(|b| (b.0, b.1, b.2));
            blocks.dedup_by_key(|b| (b.0, b.1, b.2));
            let offsets: Vec<usize> = per_fn.iter().map(|&(_, off)| off).collect();
            for &(.., block) in &blocks {
                self.pair_markers(fi, block, &offsets);
            }
        }
    }

    /// Pairs the markers among the statements of `block`. A statement is a marker
    /// when its text starts with one, so at one of the function's marker
    /// `offsets`: only the statements holding one are looked at.
    fn pair_markers(&mut self, fi: usize, block: Node, offsets: &[usize]) {
        let mut open: Vec<(Marker, RegionKind)> = Vec::new();
        let mut stmts: Vec<Node> = Vec::new();
        let mut cursor = block.walk();
        let from = offsets.partition_point(|&o| o < block.start_byte());
        for &off in offsets[from..]
            .iter()
            .take_while(|&&o| o < block.end_byte())
        {
            if stmts.last().is_some_and(|s| off < s.end_byte()) {
                continue;
            }
            cursor.reset(block);
            if cursor.goto_first_child_for_byte(off).is_none() {
                continue;
            }
            let child = cursor.node();
            if child.is_named() && child.start_byte() <= off && off < child.end_byte() {
                stmts.push(child);
            }
        }
        for mut s in stmts {
            // `done: Py_END_CRITICAL_SECTION();`
            while s.kind() == "labeled_statement" {
                let Some(inner) = s.named_child(s.named_child_count().saturating_sub(1)) else {
                    break;
                };
                s = inner;
            }
            let Some(m) = marker(self.file.node_text(s), (s.start_byte(), s.end_byte())) else {
                continue;
            };
            let cs = capi::critical_section_macro(m.macro_name);
            if let Some(k) = region_kind(m.macro_name).filter(|_| is_begin(m.macro_name)) {
                open.push((m, k));
                continue;
            }
            if cs.is_some() && !m.args.is_empty() {
                self.mismatches.push(Mismatch::EndWithArgument(m.clone()));
            }
            let want = region_kind(m.macro_name).unwrap_or(RegionKind::AllowThreads);
            let is_cs = |k: RegionKind| k != RegionKind::AllowThreads;
            let Some(i) = open
                .iter()
                .rposition(|(_, k)| *k == want || (is_cs(*k) && is_cs(want)))
            else {
                self.mismatches.push(Mismatch::Unopened(m));
                continue;
            };
            let (begin, k) = open.remove(i);
            if k != want {
                self.mismatches.push(Mismatch::WrongEnd {
                    begin: begin.clone(),
                    end: m.clone(),
                });
            } else if self.file.condition_at(begin.range.0) != self.file.condition_at(m.range.0) {
                self.mismatches.push(Mismatch::DifferentConditions {
                    begin: begin.clone(),
                    end: m.clone(),
                });
            }
            self.regions.push(Region {
                kind: k,
                begin: begin.range,
                end: Some(m.range),
                objects: begin.args.iter().map(|a| normalize(a)).collect(),
                object_texts: begin.args.clone(),
                function: fi,
            });
        }
        for (m, _) in open {
            self.mismatches.push(Mismatch::Unclosed(m));
        }
    }
}

/// A statement list whose markers pair with each other.
fn is_block(n: Node) -> bool {
    matches!(
        n.kind(),
        "compound_statement" | "case_statement" | "translation_unit"
    )
}

/// The region a marker opens or closes.
fn region_kind(name: &str) -> Option<RegionKind> {
    if let Some(cs) = capi::critical_section_macro(name) {
        return Some(match (cs.target, cs.arity) {
            (CsTarget::SequenceFast, _) => RegionKind::SequenceFast,
            (_, 2) => RegionKind::CriticalSection2,
            _ => RegionKind::CriticalSection,
        });
    }
    capi::thread_state_call(name)
        .filter(|t| t.form == TsForm::RegionMacro)
        .map(|_| RegionKind::AllowThreads)
}

/// A BEGIN marker (critical section, or `Py_BEGIN_ALLOW_THREADS`).
fn is_begin(name: &str) -> bool {
    capi::critical_section_macro(name).is_some_and(|cs| cs.role == CsRole::Begin)
        || capi::thread_state_call(name).is_some_and(|t| t.role == capi::TsRole::Detach)
}

fn marker(stmt: &str, range: Range) -> Option<Marker> {
    let t = stmt.trim_start();
    let name = markers().find(|m| {
        t.starts_with(*m)
            && !t[m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })?;
    let rest = t[name.len()..].trim_start();
    let mut args = Vec::new();
    if let Some(inner) = rest.strip_prefix('(') {
        let close = matching_paren(inner)?;
        let inner = &inner[..close];
        args = split_args(inner)
            .into_iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| a.trim().to_owned())
            .collect();
    }
    Some(Marker {
        macro_name: name,
        range,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_arguments() {
        let m = marker("Py_BEGIN_CRITICAL_SECTION2(a, f(b, c));", (0, 1)).expect("a marker");
        assert_eq!(m.macro_name, "Py_BEGIN_CRITICAL_SECTION2");
        assert_eq!(m.args, vec!["a".to_owned(), "f(b, c)".to_owned()]);
        assert!(marker("Py_BEGIN_CRITICAL_SECTION_OTHER(m);", (0, 1)).is_none());
        assert!(marker("Py_END_ALLOW_THREADS", (0, 1)).is_some_and(|m| m.args.is_empty()));
    }
}
